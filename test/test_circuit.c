/* test_circuit.c — the circuit IR: construction, limits, truth tables. */
#include "dlm_test.h"
#include "dlm_circuit.h"

static void builds_and_checks_inputs(void **state)
{
    (void)state;
    dlm_circuit c;
    dlm_err e;
    assert_int_equal(dlm_circuit_init(&c, "t", &e), DLM_OK);
    uint32_t a, b, g;
    assert_int_equal(dlm_circuit_add_coin(&c, "a", &a, &e), DLM_OK);
    assert_int_equal(dlm_circuit_add_coin(&c, NULL, &b, &e), DLM_OK);
    uint32_t lits[2] = {DLM_LIT(a, 0), DLM_LIT(b, 1)};
    assert_int_equal(dlm_circuit_add_gate(&c, DLM_G_AND, 2, lits, 0, 0, &g, &e), DLM_OK);
    /* a & !b: rows (a,b) = 00,10,01,11 -> only index 1 (a=1,b=0) is 1 */
    assert_int_equal(dlm_gate_truth_table(&c.g[g]), 0x2);
    uint32_t bad[1] = {DLM_LIT(99, 0)};
    assert_int_equal(dlm_circuit_add_gate(&c, DLM_G_OR, 1, bad, 0, 0, NULL, &e), DLM_EINPUT);
    assert_int_equal(dlm_circuit_add_gate(&c, DLM_G_OR, 7, lits, 0, 0, NULL, &e), DLM_EINPUT);
    assert_int_equal(dlm_circuit_add_gate(&c, DLM_G_LUT, 1, lits, 0, 0x10, NULL, &e), DLM_EINPUT);
    assert_int_equal(dlm_circuit_add_output(&c, DLM_LIT(g, 1), "y", &e), DLM_OK);
    assert_string_equal(c.coin_names[0], "a");
    assert_null(c.coin_names[1]);
    assert_string_equal(c.out_names[0], "y");
    dlm_circuit_free(&c);
}

static void truth_tables_fold_negations(void **state)
{
    (void)state;
    dlm_gate g = {0};
    g.type = DLM_G_XOR; g.nin = 3; g.in[0] = 2; g.in[1] = 4; g.in[2] = 7; g.out_neg = 1;
    uint64_t tt = dlm_gate_truth_table(&g);
    for (unsigned i = 0; i < 8; i++) {
        unsigned want = (unsigned)__builtin_parity(i ^ 4u) ^ 1u;
        assert_int_equal((tt >> i) & 1u, want);
    }
    g.type = DLM_G_OR; g.nin = 2; g.in[0] = 3; g.in[1] = 4; g.out_neg = 0;
    assert_int_equal(dlm_gate_truth_table(&g), 0xD); /* !x0 | x1 */
    g.type = DLM_G_LUT; g.nin = 2; g.in[0] = 2; g.in[1] = 5; g.tt = 0x8; /* AND */
    assert_int_equal(dlm_gate_truth_table(&g), 0x2); /* x0 & !x1 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builds_and_checks_inputs),
        cmocka_unit_test(truth_tables_fold_negations),
    };
    return cmocka_run_group_tests_name("circuit", tests, NULL, NULL);
}
