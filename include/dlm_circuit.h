/* dlm_circuit.h — the circuit IR: a randomized Boolean circuit whose inputs are coins.
 *
 * A circuit is an array of nodes in topological order: every gate's inputs refer to
 * nodes with a smaller index. Node 0 is always the constant false. An input reference
 * is an AIGER-style literal, lit = 2*node + neg, so literal 0 is false, 1 is true, and
 * an inverter costs nothing (it is a flag on the edge, not a gate).
 *
 * Node kinds:
 *   DLM_G_CONST0  node 0 only;
 *   DLM_G_COIN    a circuit input; it is a fair coin unless coin_thr says otherwise;
 *   DLM_G_AND/OR/XOR  1..DLM_MAX_FANIN inputs, each possibly negated, and an optional
 *                 negated output (so NOT, BUF, NAND, NOR, XNOR are all expressible);
 *   DLM_G_LUT     1..DLM_MAX_FANIN inputs and a truth table: bit i of tt is the output
 *                 when input j has value bit j of i (inputs may be negated too).
 * Outputs are literals (a negated output, a constant output are fine).
 *
 * This file is not: a netlist with names for every wire (only input and output names
 * are kept), nor a sequential circuit (readers refuse latches).
 */
#ifndef DLM_CIRCUIT_H
#define DLM_CIRCUIT_H

#include "dlmsim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DLM_MAX_FANIN 6
#define DLM_MAX_NODES (1u << 26)   /* coins + gates + 1 */
#define DLM_MAX_OUTPUTS (1u << 24)

typedef enum {
    DLM_G_CONST0 = 0,
    DLM_G_COIN,
    DLM_G_AND,
    DLM_G_OR,
    DLM_G_XOR,
    DLM_G_LUT,
    DLM_G_NTYPES
} dlm_gate_type;

typedef struct {
    uint8_t type;      /* dlm_gate_type */
    uint8_t nin;       /* number of inputs, 0 for CONST0 and COIN */
    uint8_t out_neg;   /* 1: the output is negated */
    uint8_t pad;
    uint32_t in[DLM_MAX_FANIN]; /* input literals, nodes < this node */
    uint64_t tt;       /* LUT truth table; 0 for other kinds */
} dlm_gate;

typedef struct {
    uint32_t nnodes;     /* including node 0 */
    uint32_t cap;
    dlm_gate *g;
    uint32_t ncoins;
    uint32_t coin_cap;   /* allocated entries of coins, coin_names, coin_thr */
    uint32_t *coins;     /* node index of coin k, k = coin identity (input order) */
    uint64_t *coin_thr;  /* NULL: all fair; else coin_cap entries, P(coin k = 1) = coin_thr[k] / 2^32 */
    uint32_t nout;
    uint32_t out_cap;
    uint32_t *out;       /* output literals, in output order */
    char **coin_names;   /* NULL or ncoins entries (entries may be NULL) */
    char **out_names;    /* NULL or nout entries (entries may be NULL) */
    char *source;        /* file path or generator spec, for reports */
    uint64_t max_bytes;  /* the memory budget of this circuit and of what is built from it
                            (its levels, its programs): dlm_memory_budget(max_bytes); 0 =
                            the default (set by the loaders; dlm_circuit_init: 0) */
} dlm_circuit;

#define DLM_LIT(node, neg) (2u * (uint32_t)(node) + ((neg) ? 1u : 0u))
#define DLM_LIT_NODE(lit) ((lit) >> 1)
#define DLM_LIT_NEG(lit) ((lit) & 1u)

/* Initialises an empty circuit holding node 0 (constant false). The circuit owns all
 * memory it points to; release it with dlm_circuit_free. */
dlm_status dlm_circuit_init(dlm_circuit *c, const char *source, dlm_err *err);
void dlm_circuit_free(dlm_circuit *c);

/* Adds a coin (the next circuit input); name may be NULL. *node receives its index. */
dlm_status dlm_circuit_add_coin(dlm_circuit *c, const char *name, uint32_t *node, dlm_err *err);

/* Adds a gate of the given type. lits[0..nin-1] must name existing nodes; tt is used
 * for DLM_G_LUT only (bits above 2^nin must be 0). Checks fan-in and node limits. */
dlm_status dlm_circuit_add_gate(dlm_circuit *c, dlm_gate_type type, unsigned nin,
                                const uint32_t *lits, int out_neg, uint64_t tt,
                                uint32_t *node, dlm_err *err);

/* Adds an output literal; name may be NULL. */
dlm_status dlm_circuit_add_output(dlm_circuit *c, uint32_t lit, const char *name, dlm_err *err);

/* The truth table of gate g over its own inputs (bit j of the index = value of the
 * node of input j, before the edge's negation), with input and output negations
 * folded in. Valid for AND/OR/XOR/LUT. */
uint64_t dlm_gate_truth_table(const dlm_gate *g);

/* Name of a gate type ("and", "or", ...). */
const char *dlm_gate_type_name(dlm_gate_type t);

/* Loads a circuit from a file (.aag, .aig, .blif; chosen by the extension) or a
 * generator spec "gen:NAME:ARGS" within the memory budget dlm_memory_budget(max_bytes)
 * (0: the default), which c keeps in c->max_bytes. Errors: "FILE:LINE: what" with
 * DLM_EINPUT; a circuit without outputs is refused (DLM_EINPUT). */
dlm_status dlm_circuit_load(dlm_circuit *c, const char *path_or_spec, uint64_t max_bytes, dlm_err *err);
/* The same with a progress hook (dlm_progress_fn, NULL for none), told the layers a
 * generator has built (gen:random builds 2^24 gates and more; the others and the
 * readers take well under a second). The same circuit. */
dlm_status dlm_circuit_load_progress(dlm_circuit *c, const char *path_or_spec, uint64_t max_bytes,
                                     dlm_progress_fn progress, void *ctx, dlm_err *err);

#ifdef __cplusplus
}
#endif
#endif
