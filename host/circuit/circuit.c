/* circuit.c — the circuit IR: construction, truth tables, gate names. The loader that
 * picks a reader or generator by path is load.c, above both. */
#include "dlm_circuit.h"

#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

dlm_status dlm_circuit_init(dlm_circuit *c, const char *source, dlm_err *err)
{
    memset(c, 0, sizeof *c);
    c->cap = 64;
    c->g = dlm_calloc(c->cap, sizeof *c->g);
    c->source = dup_or_null(source ? source : "");
    if (!c->g || !c->source) {
        dlm_circuit_free(c);
        return dlm_fail(err, DLM_ENOMEM, "out of memory creating a circuit");
    }
    c->nnodes = 1; /* node 0: constant false */
    c->g[0].type = DLM_G_CONST0;
    return DLM_OK;
}

void dlm_circuit_free(dlm_circuit *c)
{
    if (!c) return;
    if (c->coin_names)
        for (uint32_t k = 0; k < c->ncoins; k++) free(c->coin_names[k]);
    if (c->out_names)
        for (uint32_t k = 0; k < c->nout; k++) free(c->out_names[k]);
    free(c->coin_names);
    free(c->out_names);
    free(c->g);
    free(c->coins);
    free(c->coin_thr);
    free(c->out);
    free(c->source);
    memset(c, 0, sizeof *c);
}

/* Grows *arr (of *cap elements of size sz) so that index `need` fits. */
static int grow(void **arr, uint32_t *cap, uint32_t need, size_t sz)
{
    if (need < *cap) return 1;
    uint64_t ncap = *cap ? (uint64_t)*cap * 2 : 16;
    while (ncap <= need) ncap *= 2;
    void *p = realloc(*arr, ncap * sz);
    if (!p) return 0;
    memset((char *)p + (size_t)*cap * sz, 0, (size_t)(ncap - *cap) * sz);
    *arr = p;
    *cap = (uint32_t)ncap;
    return 1;
}

/* Appends a name to a parallel name array of length n (created on first non-NULL). */
static int push_name(char ***names, uint32_t n, uint32_t cap, const char *name)
{
    if (!name && !*names) return 1;
    if (!*names) {
        *names = dlm_calloc(cap, sizeof **names);
        if (!*names) return 0;
    } else {
        char **p = realloc(*names, (size_t)cap * sizeof **names);
        if (!p) return 0;
        *names = p;
    }
    (*names)[n] = dup_or_null(name);
    return !name || (*names)[n];
}

static dlm_status new_node(dlm_circuit *c, uint32_t *node, dlm_err *err)
{
    if (c->nnodes >= DLM_MAX_NODES)
        return dlm_fail(err, DLM_EINPUT, "%s: circuit too large: more than %u nodes",
                        c->source, DLM_MAX_NODES - 1);
    /* The budget only when the array grows: dlm_memory_budget asks the kernel for the
     * machine's memory (sysinfo), which per node cost hyp's 214,335 nodes 0.1 s of set-up. */
    uint64_t budget = c->nnodes >= c->cap ? dlm_memory_budget(c->max_bytes) : UINT64_MAX;
    if (c->nnodes >= c->cap && 2.0 * c->cap * sizeof *c->g > (double)budget)
        return dlm_fail(err, DLM_EINPUT, "%s: circuit too large: %u nodes exceed the memory budget of "
                        "%llu bytes (half the machine's memory, or --max-memory)", c->source, c->nnodes,
                        (unsigned long long)budget);
    if (!grow((void **)&c->g, &c->cap, c->nnodes, sizeof *c->g))
        return dlm_fail(err, DLM_ENOMEM, "out of memory growing a circuit");
    *node = c->nnodes++;
    memset(&c->g[*node], 0, sizeof c->g[*node]);
    return DLM_OK;
}

dlm_status dlm_circuit_add_coin(dlm_circuit *c, const char *name, uint32_t *node, dlm_err *err)
{
    uint32_t n;
    dlm_status s = new_node(c, &n, err);
    if (s) return s;
    c->g[n].type = DLM_G_COIN;
    if (c->ncoins >= c->coin_cap) { /* grow the three parallel arrays together */
        uint32_t cap = c->coin_cap, cap2 = c->coin_cap;
        if (!grow((void **)&c->coins, &cap, c->ncoins, sizeof *c->coins) ||
            (c->coin_names && !grow((void **)&c->coin_names, &cap2, c->ncoins, sizeof *c->coin_names)))
            return dlm_fail(err, DLM_ENOMEM, "out of memory adding a coin");
        if (c->coin_thr) {
            uint32_t cap3 = c->coin_cap;
            if (!grow((void **)&c->coin_thr, &cap3, c->ncoins, sizeof *c->coin_thr))
                return dlm_fail(err, DLM_ENOMEM, "out of memory adding a coin");
        }
        c->coin_cap = cap;
    }
    if (!push_name(&c->coin_names, c->ncoins, c->coin_cap, name))
        return dlm_fail(err, DLM_ENOMEM, "out of memory adding a name");
    if (c->coin_thr) c->coin_thr[c->ncoins] = DLM_COIN_FAIR;
    c->coins[c->ncoins++] = n;
    if (node) *node = n;
    return DLM_OK;
}

dlm_status dlm_circuit_add_gate(dlm_circuit *c, dlm_gate_type type, unsigned nin,
                                const uint32_t *lits, int out_neg, uint64_t tt,
                                uint32_t *node, dlm_err *err)
{
    if (type != DLM_G_AND && type != DLM_G_OR && type != DLM_G_XOR && type != DLM_G_LUT)
        return dlm_fail(err, DLM_EINPUT, "%s: gate type %d cannot be added as a gate",
                        c->source, (int)type);
    if (nin < 1 || nin > DLM_MAX_FANIN)
        return dlm_fail(err, DLM_EINPUT, "%s: gate fan-in %u outside 1..%d", c->source,
                        nin, DLM_MAX_FANIN);
    for (unsigned j = 0; j < nin; j++)
        if (DLM_LIT_NODE(lits[j]) >= c->nnodes)
            return dlm_fail(err, DLM_EINPUT, "%s: gate input literal %u names no earlier node",
                            c->source, lits[j]);
    if (type == DLM_G_LUT && nin < 6 && (tt >> (1u << nin)) != 0)
        return dlm_fail(err, DLM_EINPUT, "%s: LUT truth table has bits beyond 2^%u rows",
                        c->source, nin);
    uint32_t n;
    dlm_status s = new_node(c, &n, err);
    if (s) return s;
    dlm_gate *g = &c->g[n];
    g->type = (uint8_t)type;
    g->nin = (uint8_t)nin;
    g->out_neg = out_neg ? 1 : 0;
    for (unsigned j = 0; j < nin; j++) g->in[j] = lits[j];
    g->tt = type == DLM_G_LUT ? tt : 0;
    if (node) *node = n;
    return DLM_OK;
}

dlm_status dlm_circuit_add_output(dlm_circuit *c, uint32_t lit, const char *name, dlm_err *err)
{
    if (DLM_LIT_NODE(lit) >= c->nnodes)
        return dlm_fail(err, DLM_EINPUT, "%s: output literal %u names no node", c->source, lit);
    if (c->nout >= DLM_MAX_OUTPUTS)
        return dlm_fail(err, DLM_EINPUT, "%s: more than %u outputs", c->source, DLM_MAX_OUTPUTS);
    if (!grow((void **)&c->out, &c->out_cap, c->nout, sizeof *c->out))
        return dlm_fail(err, DLM_ENOMEM, "out of memory adding an output");
    if (!push_name(&c->out_names, c->nout, c->out_cap, name))
        return dlm_fail(err, DLM_ENOMEM, "out of memory adding a name");
    c->out[c->nout++] = lit;
    return DLM_OK;
}

uint64_t dlm_gate_truth_table(const dlm_gate *g)
{
    unsigned rows = 1u << g->nin;
    uint64_t tt = 0;
    for (unsigned i = 0; i < rows; i++) {
        unsigned x = 0; /* input values after edge negation, bit j = input j */
        for (unsigned j = 0; j < g->nin; j++)
            x |= (((i >> j) & 1u) ^ DLM_LIT_NEG(g->in[j])) << j;
        unsigned all = (1u << g->nin) - 1, v;
        switch (g->type) {
        case DLM_G_AND: v = x == all; break;
        case DLM_G_OR: v = x != 0; break;
        case DLM_G_XOR: v = (unsigned)__builtin_parity(x); break;
        default: v = (unsigned)((g->tt >> x) & 1u); break;
        }
        tt |= (uint64_t)(v ^ g->out_neg) << i;
    }
    return tt;
}

const char *dlm_gate_type_name(dlm_gate_type t)
{
    static const char *const names[DLM_G_NTYPES] = {"const", "coin", "and", "or", "xor", "lut"};
    return (unsigned)t < DLM_G_NTYPES ? names[t] : "?";
}
