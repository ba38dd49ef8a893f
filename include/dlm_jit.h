/* dlm_jit.h — straight-line code generated from a slot plan (host/engine/jit.c), the
 * first part of issue 18's JIT engine (docs/gpu.md, "Straight-line code").
 *
 * dlm_jit_source writes a C++ function, valid for g++ and nvcc alike,
 *
 *     DLM_JIT_FN void NAME(uint64_t seed, uint64_t chain0, dlm_jit_sink &o)
 *
 * that computes the words of the 128 chains chain0 .. chain0 + 127 (chain0 a multiple
 * of 128: one Philox block per fair coin) of every operation of the plan in program
 * order, each operation a call of dlm_step_op_words on a literal dlm_op (the one word
 * step of include/dlm_step.h, constant-folded: no interpreter, no second step). Value
 * slot s is a pair of local variables (aS, bS: words 0 and 1), so the compiler keeps
 * live values in registers. Output k is handed over as soon as its slot is final, as
 * `dlm_jit_out(o, k, w0, w1)` with the negation applied (a constant output is 0 before
 * negation), in an order the caller must not rely on. The includer defines
 * DLM_JIT_FN, dlm_jit_sink and dlm_jit_out before the generated text (include
 * dlm_step.h first): a CUDA kernel reduces the words (test: test/test_jit.c compiles
 * the same text with g++ and compares with the cpu engine).
 */
#ifndef DLM_JIT_H
#define DLM_JIT_H

#include <stdio.h>

#include "dlm_program.h"
#include "dlm_slots.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The headers a JIT program includes, by include name, for NVRTC (which gets them in
 * memory): written into the library by mk/embed.sh from include/, kernels/jit_nvrtc*.h
 * and Random123. */
typedef struct {
    const char *name, *text;
} dlm_jit_header;
extern const dlm_jit_header dlm_jit_headers[];
extern const unsigned dlm_jit_nheaders;

/* Writes NAME's source for plan sp of program p (for the outputs' negations) to f.
 * DLM_EIO when writing fails; DLM_EINPUT for an operation the word step does not know
 * or a name that is not a C identifier. */
dlm_status dlm_jit_source(FILE *f, const char *name, const dlm_program *p,
                          const dlm_slot_plan *sp, dlm_err *err);

/* The most slot values live at once in the generated code (its order: coins where
 * first needed): each holds 4 32-bit registers on the GPU (about 3.5 a value measured,
 * bench/jit_compile.sh), so much more than 64 spill (dlm_cuda_jit_pays). */
dlm_status dlm_jit_live_peak(const dlm_slot_plan *sp, uint32_t nout, uint32_t *peak, dlm_err *err);

/* The whole program the JIT kernel compiles (kernels/engine_cuda_jit.cu): under NVRTC
 * (__CUDACC_RTC__) kernels/jit_nvrtc.h, then DLM_JIT_NOUT (p's outputs: up to 64 the
 * kernel counts them in registers), include/dlm_jit_cuda.h, the plan's function
 * DLM_JIT_FN_NAME (dlm_jit_source) and its kernel DLM_JIT_KERNEL_NAME. */
#define DLM_JIT_FN_NAME "dlm_jit_f"
#define DLM_JIT_KERNEL_NAME "dlm_jit_f_kernel"
dlm_status dlm_jit_program(FILE *f, const dlm_program *p, const dlm_slot_plan *sp, dlm_err *err);

/* CUDA builds only (kernels/engine_cuda_jit.cu): compiles the JIT kernel's program src
 * (DLM_JIT_EMIT=emit) with NVRTC for sm_<arch> into a malloc'd cubin of *size bytes.
 * Needs no device. DLM_ECUDA with NVRTC's first log line when it fails. */
dlm_status dlm_cuda_jit_compile(const char *src, int emit, int arch, char **cubin, size_t *size,
                                dlm_err *err);

#ifdef __cplusplus
}
#endif
#endif
