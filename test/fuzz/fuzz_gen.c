/* fuzz_gen.c — libFuzzer harness for generator specs: "gen:" + the input, through
 * dlm_circuit_load (which dispatches to dlm_gen_build).
 *
 * The generators accept sizes up to millions of gates, which would make each run
 * slow without finding more, so the harness first refuses (returns without calling
 * the library) specs whose numbers exceed small caps: every run of digits is read
 * (saturating), and a value v with cap < v <= 2^26 is refused, where cap depends on
 * the generator (table below; gen:random's SEED is not capped, and W*D <= 8192).
 * Values above 2^26 are passed on: the generators must refuse them (they are over
 * every documented limit), and the fuzzer checks that they do so quickly.
 *
 * An accepted circuit goes through fuzz_check_circuit (levelize, compile + check every
 * mode when small, round trip through the three writers); a refusal must be
 * DLM_EINPUT with a message that names the spec.
 *
 * Build and run: make fuzz (docs/fuzzing.md); by hand:
 *   build/fuzz/fuzz_gen -max_total_time=60 build/fuzz/corpus/gen test/fuzz/corpus/gen
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_GEN_HUGE (UINT64_C(1) << 26) /* above this the generator must refuse */
#define FUZZ_RANDOM_GATES 8192u           /* W*D cap for gen:random */

/* Cap of an argument of generator `name` (nlen bytes); field = its comma index. */
static uint64_t gen_cap(const char *name, size_t nlen, unsigned field)
{
    static const struct {
        const char *name;
        uint64_t cap;
    } caps[] = {
        {"parity-tree", 4096}, {"parity-chain", 4096}, {"parity-revise", 4096},
        {"adder-ripple", 512}, {"adder-prefix", 512},  {"mult", 24},
        {"maj", 1023},         {"random", 256},
    };
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
        if (strlen(caps[i].name) == nlen && !memcmp(caps[i].name, name, nlen))
            return !strcmp(caps[i].name, "random") && field >= 2 ? UINT64_MAX : caps[i].cap;
    return 64;
}

/* 1 if the spec (after "gen:") asks for a circuit too large for fuzzing. */
static int too_big(const char *s)
{
    const char *colon = strchr(s, ':');
    size_t nlen = colon ? (size_t)(colon - s) : strlen(s);
    const char *a = colon ? colon + 1 : s + nlen;
    unsigned field = 0;
    uint64_t v[2] = {0, 0};
    while (*a) {
        if (*a == ',') {
            field++;
            a++;
            continue;
        }
        if (*a < '0' || *a > '9') {
            a++;
            continue;
        }
        uint64_t x = 0;
        for (; *a >= '0' && *a <= '9'; a++) x = x > UINT64_MAX / 16 ? UINT64_MAX : x * 10 + (uint64_t)(*a - '0');
        if (x > gen_cap(s, nlen, field) && x <= FUZZ_GEN_HUGE) return 1;
        if (field < 2) v[field] = x;
    }
    /* gen:random: both W and D within the caps but their product too large */
    if (nlen == 6 && !memcmp(s, "random", 6) && v[0] <= FUZZ_GEN_HUGE && v[1] <= FUZZ_GEN_HUGE &&
        v[0] * v[1] > FUZZ_RANDOM_GATES)
        return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char spec[4 + 128 + 1] = "gen:";
    if (size > 128 || memchr(data, 0, size)) return 0; /* specs are short C strings */
    memcpy(spec + 4, data, size);
    spec[4 + size] = 0;
    if (too_big(spec + 4)) return 0;
    dlm_circuit c;
    dlm_err e;
    e.msg[0] = 0;
    dlm_status s = dlm_circuit_load(&c, spec, 0, &e);
    if (s) {
        if (s != DLM_EINPUT) fuzz_die("dlm_gen_build returned status %d: %s", (int)s, e.msg);
        if (strncmp(e.msg, spec, strlen(spec)) != 0)
            fuzz_die("dlm_gen_build: message does not start with the spec: %s", e.msg);
        return 0;
    }
    fuzz_check_circuit(&c);
    dlm_circuit_free(&c);
    return 0;
}
