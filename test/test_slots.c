/* test_slots.c — the streamed slot plan (dlm_compile_plan, include/dlm_slots.h) against
 * the plan built the old way (dlm_compile, then dlm_slot_plan_build of the whole
 * program): for generators of many sizes, every EPFL circuit (AIGER and BLIF), the
 * example circuits and biased coins, in every mode, the program's every field but its
 * operations and the plan's every operation, slot count and output slot are equal
 * byte for byte, and the streamed program holds no operations. Also the streams on
 * their own: a masked read, a counter outside the pinned range and a read of counter
 * positions said to be unread are refused, and
 * dlm_program_rounds_distinct agrees with the streamed signatures. Build and run:
 * make CUDA=0 build/test/test_slots && ./build/test/test_slots */
#include "dlm_test.h"
#include "dlm_engine.h"
#include "dlm_program.h"
#include "dlm_slots.h"

#include <glob.h>

// ---------------------------------------------------------------- helpers

/* One circuit, every mode: the streamed plan equals the old one. */
static void streamed_equals_built(const loaded *L)
{
    for (int m = 0; m < DLM_NMODES; m++) {
        const char *mode = dlm_mode_name((dlm_mode)m);
        dlm_err e;
        dlm_program p, q;
        dlm_slot_plan sp, sq;
        if (dlm_compile(&L->c, &L->lv, (dlm_mode)m, &p, &e)) fail_msg("%s %s: %s", L->c.source, mode, e.msg);
        if (dlm_slot_plan_build(&p, &sp, &e)) fail_msg("%s %s: plan: %s", L->c.source, mode, e.msg);
        if (dlm_compile_plan(&L->c, &L->lv, (dlm_mode)m, &q, &sq, &e))
            fail_msg("%s %s: streamed: %s", L->c.source, mode, e.msg);
        assert_null(q.ops);
        if (q.mode != p.mode || q.L != p.L || q.rounds != p.rounds || q.nops != p.nops || q.nout != p.nout ||
            q.ncoins != p.ncoins || q.slots != p.slots || q.counter_bits != p.counter_bits ||
            q.counter_base[0] != p.counter_base[0] || q.counter_base[1] != p.counter_base[1] ||
            q.max_fanin != p.max_fanin)
            fail_msg("%s %s: streamed program: L %u rounds %u ops %llu C %u fan-in %u, built: L %u rounds %u ops "
                     "%llu C %u fan-in %u", L->c.source, mode, q.L, q.rounds, (unsigned long long)q.nops,
                     q.counter_bits, q.max_fanin, p.L, p.rounds, (unsigned long long)p.nops, p.counter_bits,
                     p.max_fanin);
        assert_memory_equal(q.round_start, p.round_start, ((size_t)p.rounds + 1) * sizeof *p.round_start);
        if (p.nout) {
            assert_memory_equal(q.out_pos, p.out_pos, (size_t)p.nout * sizeof *p.out_pos);
            assert_memory_equal(q.out_neg, p.out_neg, p.nout);
            assert_memory_equal(sq.out_slot, sp.out_slot, (size_t)p.nout * sizeof *sp.out_slot);
        }
        if (sq.nops != sp.nops || sq.nslots != sp.nslots)
            fail_msg("%s %s: streamed plan %llu ops %u slots, built %llu ops %u slots", L->c.source, mode,
                     (unsigned long long)sq.nops, sq.nslots, (unsigned long long)sp.nops, sp.nslots);
        for (uint64_t i = 0; i < sp.nops; i++)
            if (memcmp(&sq.ops[i], &sp.ops[i], sizeof sp.ops[i]) != 0)
                fail_msg("%s %s: engine operation %llu of %llu differs", L->c.source, mode, (unsigned long long)i,
                         (unsigned long long)sp.nops);
        dlm_slot_plan_free(&sp);
        dlm_slot_plan_free(&sq);
        dlm_program_free(&p);
        dlm_program_free(&q);
    }
}

static void streamed_equals_built_spec(const char *spec)
{
    loaded L;
    load_ok(spec, &L);
    streamed_equals_built(&L);
    unload(&L);
}

static dlm_op gate_op(uint32_t pos, unsigned nin, uint32_t in0, uint64_t tt)
{
    dlm_op op;
    memset(&op, 0, sizeof op);
    op.pos = pos;
    op.kind = DLM_OP_GATE;
    op.nin = (uint8_t)nin;
    op.in[0] = in0;
    op.arg = tt;
    return op;
}

// ---------------------------------------------------------------- tests

static void generators_streamed_equal_built(void **state)
{
    (void)state;
    static const char *const gens[] = {
        "gen:parity-tree:9",   "gen:parity-tree:64",   "gen:parity-chain:7",  "gen:parity-chain:40",
        "gen:parity-revise:2", "gen:parity-revise:12", "gen:parity-revise:64", "gen:adder-ripple:6",
        "gen:adder-ripple:32", "gen:adder-prefix:8",   "gen:adder-prefix:32", "gen:mult:4",
        "gen:mult:8",          "gen:maj:7",            "gen:maj:31",          "gen:random:6,5,1",
        "gen:random:1,1,7",    "gen:random:16,40,3",   "gen:random:32,16,1",  "gen:random:64,200,5",
        "gen:random:8,300,9",
    };
    for (size_t g = 0; g < sizeof gens / sizeof *gens; g++) streamed_equals_built_spec(gens[g]);
}

static void files_streamed_equal_built(void **state)
{
    (void)state;
    static const char *const pats[] = {DLM_EPFL "/*/*.aig", DLM_EPFL "/blif/*.blif", "circuits/*.aag",
                                       "circuits/*.aig", "circuits/*.blif"};
    size_t n = 0;
    for (size_t k = 0; k < sizeof pats / sizeof *pats; k++) {
        glob_t gl;
        if (glob(pats[k], 0, NULL, &gl) != 0) continue;
        for (size_t i = 0; i < gl.gl_pathc; i++, n++) streamed_equals_built_spec(gl.gl_pathv[i]);
        globfree(&gl);
    }
    assert_true(n >= 17 + 4); /* the EPFL circuits at least */
}

/* Biased coins keep their thresholds in the streamed plan. */
static void biased_streamed_equal_built(void **state)
{
    (void)state;
    loaded L;
    load_ok("gen:random:6,5,1", &L);
    L.c.coin_thr = malloc((L.c.coin_cap ? L.c.coin_cap : 1) * sizeof *L.c.coin_thr);
    assert_non_null(L.c.coin_thr);
    for (uint32_t i = 0; i < L.c.coin_cap; i++) L.c.coin_thr[i] = DLM_COIN_FAIR;
    L.c.coin_thr[1] = UINT64_C(0x60000000);
    streamed_equals_built(&L);
    unload(&L);
}

/* The stream's own refusals, reported by finish; free gives up without finishing. */
static void stream_refusals(void **state)
{
    (void)state;
    dlm_err e;
    dlm_slot_stream st;
    dlm_slot_plan sp;
    /* a read of a position nothing wrote */
    assert_int_equal(dlm_slot_stream_init(&st, 4, 1, 0, &e), DLM_OK);
    dlm_op op = gate_op(1, 1, 0, 1);
    dlm_slot_stream_feed(&st, &op);
    assert_int_equal(dlm_slot_stream_finish(&st, 0, NULL, &sp, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "masked position 0"));
    assert_null(sp.ops);
    /* an increment outside the declared counter positions */
    assert_int_equal(dlm_slot_stream_init(&st, 4, 2, 3, &e), DLM_OK);
    memset(&op, 0, sizeof op);
    op.kind = DLM_OP_INC;
    op.pos = 1;
    op.arg = 2;
    dlm_slot_stream_feed(&st, &op);
    uint32_t out = 2;
    assert_int_equal(dlm_slot_stream_finish(&st, 1, &out, &sp, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "pinned range"));
    /* an output masked at the end */
    assert_int_equal(dlm_slot_stream_init(&st, 4, 1, 0, &e), DLM_OK);
    op = gate_op(0, 0, 0, 1);
    dlm_slot_stream_feed(&st, &op);
    out = 3;
    assert_int_equal(dlm_slot_stream_finish(&st, 1, &out, &sp, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "output 0 is masked"));
    /* told that no counter position is read, and one is: by a gate, by an output */
    for (int k = 0; k < 2; k++) {
        assert_int_equal(dlm_slot_stream_init(&st, 4, 2, 3, &e), DLM_OK);
        st.unread_pins = 1;
        op = gate_op(2, 0, 0, 1); /* a counter bit: dropped at once */
        dlm_slot_stream_feed(&st, &op);
        assert_int_equal(st.nv, 0);
        op = gate_op(0, 1, 2, 1); /* position 0 = NOT counter bit 2 */
        if (k == 0) dlm_slot_stream_feed(&st, &op);
        out = 2;
        assert_int_equal(dlm_slot_stream_finish(&st, 1, &out, &sp, &e), DLM_EINPUT);
        assert_non_null(strstr(e.msg, k == 0 ? "counter position 2 is read" : "an output is a counter position"));
    }
    /* given up */
    assert_int_equal(dlm_slot_stream_init(&st, 4, 1, 0, &e), DLM_OK);
    dlm_slot_stream_feed(&st, &op);
    dlm_slot_stream_free(&st);
}

/* Rounds that start from the same state: the streamed signatures say so as the
 * checker does (a remask program without its counter), and as soon as the second
 * such round opens (dlm_rounds_sig.same: the compiler stops that pass there). */
static void rounds_sig_agrees(void **state)
{
    (void)state;
    dlm_program p;
    memset(&p, 0, sizeof p);
    p.mode = DLM_MODE_REMASK;
    p.L = 2;
    p.rounds = 3;
    /* write 0; write 0 again (no new position); write 1; remask 1 */
    dlm_op ops[4] = {gate_op(0, 0, 0, 1), gate_op(0, 0, 0, 0), gate_op(1, 0, 0, 1), {0}};
    ops[3].kind = DLM_OP_REMASK;
    ops[3].pos = 1;
    uint64_t starts[2][4] = {{0, 1, 2, 4}, {0, 1, 3, 4}}; /* rounds 2 and 3 equal / all distinct */
    p.ops = ops;
    p.nops = 4;
    for (int k = 0; k < 2; k++) {
        p.round_start = starts[k];
        dlm_err e1, e2;
        dlm_status want = dlm_program_rounds_distinct(&p, &e1);
        dlm_rounds_sig rs;
        assert_int_equal(dlm_rounds_sig_init(&rs, &p, &e2), DLM_OK);
        for (uint32_t r = 0; r < p.rounds; r++) {
            dlm_rounds_sig_open(&rs);
            for (uint64_t i = p.round_start[r]; i < p.round_start[r + 1]; i++) dlm_rounds_sig_feed(&rs, &ops[i]);
        }
        assert_int_equal(rs.same, k == 0); /* seen as the rounds open */
        assert_int_equal(dlm_rounds_sig_finish(&rs, &e2), want);
        assert_int_equal(want, k == 0 ? DLM_ECHECK : DLM_OK);
        if (want) assert_string_equal(e1.msg, e2.msg);
    }
}

/* A streamed program runs on the bit-sliced engine with its plan (the byte engine's
 * counts on the full program), and everything that would read its operations refuses
 * it instead: the byte engine, the bit-sliced engine without a plan, the checker. */
static void streamed_program_runs_or_is_refused(void **state)
{
    (void)state;
    loaded L;
    load_ok("gen:adder-prefix:8", &L);
    dlm_err e;
    dlm_program p, q;
    dlm_slot_plan sq, none;
    assert_int_equal(dlm_compile(&L.c, &L.lv, DLM_MODE_REMASK, &p, &e), DLM_OK);
    assert_int_equal(dlm_compile_plan(&L.c, &L.lv, DLM_MODE_REMASK, &q, &sq, &e), DLM_OK);
    dlm_run_opts o;
    memset(&o, 0, sizeof o);
    o.chains = 1000;
    o.seed = 3;
    o.want_hist = 1;
    dlm_counts want, got;
    assert_int_equal(dlm_counts_init(&want, p.nout, 1, &e), DLM_OK);
    assert_int_equal(dlm_counts_init(&got, p.nout, 1, &e), DLM_OK);
    assert_int_equal(dlm_engine_run(DLM_BACKEND_CPU_REF, &p, &o, &want, &e), DLM_OK);
    o.plan = &sq;
    assert_int_equal(dlm_engine_run(DLM_BACKEND_CPU, &q, &o, &got, &e), DLM_OK);
    assert_memory_equal(want.ones, got.ones, (size_t)p.nout * sizeof *want.ones);
    assert_memory_equal(want.hist, got.hist, ((size_t)1 << p.nout) * sizeof *want.hist);
    assert_int_equal(dlm_engine_run(DLM_BACKEND_CPU_REF, &q, &o, &got, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "not kept"));
    o.plan = NULL;
    assert_int_equal(dlm_engine_run(DLM_BACKEND_CPU, &q, &o, &got, &e), DLM_EINPUT);
    assert_int_equal(dlm_slot_plan_build(&q, &none, &e), DLM_EINPUT);
    assert_int_equal(dlm_program_check(&q, &L.lv, &e), DLM_EINPUT);
    assert_int_equal(dlm_program_rounds_distinct(&q, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "dlm_compile"));
    dlm_counts_free(&want);
    dlm_counts_free(&got);
    dlm_slot_plan_free(&sq);
    dlm_program_free(&p);
    dlm_program_free(&q);
    unload(&L);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generators_streamed_equal_built),
        cmocka_unit_test(files_streamed_equal_built),
        cmocka_unit_test(biased_streamed_equal_built),
        cmocka_unit_test(stream_refusals),
        cmocka_unit_test(rounds_sig_agrees),
        cmocka_unit_test(streamed_program_runs_or_is_refused),
    };
    return cmocka_run_group_tests_name("slots", tests, NULL, NULL);
}
