/* plan_ops.c — the operations of a program's slot plan by kind, for bench/sass.sh.
 *
 * Prints one line per kind, `KIND COUNT`, for the slot plan the bit-sliced engines run
 * (dlm_slot_plan_build on the compiled program): coin_fair, coin_biased, gate0 .. gate2
 * with the 4-bit table of a 2-input gate (`gate2:t=6` is XOR), gate3 .. gate6, inc, and
 * then `outputs N` and `slots N`. bench/sass.sh multiplies these by the SASS cost of
 * each kind.
 *
 * Build: cc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude bench/plan_ops.c build/libdlmsim.a \
 *        -lgsl -lgslcblas -lm -fopenmp -o build/bench/plan_ops   (and -lcudart with CUDA)
 * Usage: plan_ops CIRCUIT MODE [jit | cubin FILE [emit]]
 *   jit    print the JIT kernel's whole program instead (dlm_jit_program, dlm_jit.h)
 *   cubin  compile it as the engine does (dlm_cuda_jit_compile: NVRTC, sm_90; with
 *          emit the DLM_JIT_EMIT variant) and write the cubin to FILE (CUDA builds)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlmsim.h"
#include "dlm_circuit.h"
#include "dlm_jit.h"
#include "dlm_level.h"
#include "dlm_program.h"
#include "dlm_slots.h"

/* The engine's cubin of plan sp (NVRTC, sm_90) written to path. */
static dlm_status write_cubin(const char *path, int emit, const dlm_program *p, const dlm_slot_plan *sp,
                              dlm_err *err)
{
#if DLM_HAVE_CUDA
    char *src = NULL, *bin = NULL;
    size_t len = 0, n = 0;
    FILE *f = open_memstream(&src, &len);
    if (!f) return dlm_fail(err, DLM_ENOMEM, "out of memory");
    dlm_status st = dlm_jit_program(f, p, sp, err);
    if (fclose(f) && st == DLM_OK) st = dlm_fail(err, DLM_EIO, "writing the source failed");
    if (st == DLM_OK) st = dlm_cuda_jit_compile(src, emit, 90, &bin, &n, err);
    free(src);
    if (st == DLM_OK) {
        FILE *o = fopen(path, "wb");
        if (!o || fwrite(bin, 1, n, o) != n || fclose(o)) st = dlm_fail(err, DLM_EIO, "%s: cannot write", path);
    }
    free(bin);
    return st;
#else
    (void)path, (void)emit, (void)p, (void)sp;
    return dlm_fail(err, DLM_EINPUT, "built without CUDA: no NVRTC");
#endif
}

int main(int argc, char **argv)
{
    dlm_mode mode;
    const int jit = argc == 4 && !strcmp(argv[3], "jit");
    const int cubin = (argc == 5 || argc == 6) && !strcmp(argv[3], "cubin");
    const int emit = argc == 6 && !strcmp(argv[5], "emit");
    if ((argc != 3 && !jit && !cubin) || (argc == 6 && !emit) || dlm_mode_parse(argv[2], &mode)) {
        fprintf(stderr, "usage: plan_ops CIRCUIT MODE [jit | cubin FILE [emit]] (MODE: cot, remask, revise, ar)\n");
        return 2;
    }
    dlm_err err = {0};
    dlm_circuit c;
    dlm_levels lv;
    dlm_program p;
    dlm_slot_plan sp;
    memset(&c, 0, sizeof c);
    memset(&lv, 0, sizeof lv);
    memset(&p, 0, sizeof p);
    memset(&sp, 0, sizeof sp);
    dlm_status st = dlm_circuit_load(&c, argv[1], 0, &err);
    if (st == DLM_OK) st = dlm_levelize(&c, &lv, &err);
    if (st == DLM_OK) st = dlm_compile(&c, &lv, mode, &p, &err);
    if (st == DLM_OK) st = dlm_slot_plan_build(&p, &sp, &err);
    if (st == DLM_OK && jit) {
        st = dlm_jit_program(stdout, &p, &sp, &err);
        if (st != DLM_OK) fprintf(stderr, "plan_ops: %s\n", err.msg);
    } else if (st == DLM_OK && cubin) {
        st = write_cubin(argv[4], emit, &p, &sp, &err);
        if (st != DLM_OK) fprintf(stderr, "plan_ops: %s\n", err.msg);
    } else if (st == DLM_OK) {
        /* 0 fair, 1 biased, 2 + nin (gates, 2-input ones by table below), 9 inc */
        unsigned long long kind[10] = {0}, tt2[16] = {0};
        for (uint64_t i = 0; i < sp.nops; i++) {
            const dlm_op *op = &sp.ops[i];
            if (op->kind == DLM_OP_COIN) kind[op->thr == DLM_COIN_FAIR ? 0 : 1]++;
            else if (op->kind == DLM_OP_INC) kind[9]++;
            else if (op->kind == DLM_OP_GATE && op->nin == 2) tt2[op->arg & 15u]++;
            else if (op->kind == DLM_OP_GATE) kind[2 + (op->nin < 6 ? op->nin : 6)]++;
        }
        printf("coin_fair %llu\ncoin_biased %llu\n", kind[0], kind[1]);
        for (unsigned n = 0; n <= 6; n++)
            if (n != 2) printf("gate%u %llu\n", n, kind[2 + n]);
        for (unsigned t = 0; t < 16; t++)
            if (tt2[t]) printf("gate2:t=%u %llu\n", t, tt2[t]);
        uint32_t peak = 0;
        st = dlm_jit_live_peak(&sp, p.nout, &peak, &err);
        printf("inc %llu\noutputs %u\nslots %u\nlive %u\n", kind[9], p.nout, sp.nslots, peak);
    } else {
        fprintf(stderr, "plan_ops: %s\n", err.msg);
    }
    dlm_slot_plan_free(&sp);
    dlm_program_free(&p);
    dlm_levels_free(&lv);
    dlm_circuit_free(&c);
    return st == DLM_OK ? 0 : 2;
}
