/* jit_nvrtc.h — what NVRTC lacks to compile include/dlm_jit_cuda.h and Random123's
 * Philox: the first header of every JIT program (kernels/engine_cuda_jit.cu), and the
 * text NVRTC gets for <stddef.h> and <stdint.h>, which it does not have. Device code
 * of the JIT kernel only; the host never includes this file.
 *   CUDART_VERSION     Random123's nvccfeatures.h refuses to work without it
 *   R123_STATIC_INLINE, R123_FORCE_INLINE   set by gccfeatures.h under nvcc (which
 *                      defines __GNUC__); NVRTC does not, so they are set here
 */
#ifndef DLM_JIT_NVRTC_H
#define DLM_JIT_NVRTC_H

#ifndef CUDART_VERSION
#define CUDART_VERSION DLM_JIT_CUDART_VERSION
#endif
#define R123_STATIC_INLINE static __inline__
#define R123_FORCE_INLINE(decl) decl

typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
typedef signed char int8_t;
typedef short int16_t;
typedef int int32_t;
typedef long long int64_t;
typedef unsigned long size_t;
typedef long ptrdiff_t;
typedef unsigned long uintptr_t;
#ifndef NULL
#define NULL 0
#endif
#define UINT8_C(x) x
#define UINT16_C(x) x
#define UINT32_C(x) x##U
#define UINT64_C(x) x##ULL
#define INT64_C(x) x##LL
#define UINT32_MAX 4294967295U
#define UINT64_MAX 18446744073709551615ULL
#define INT64_MAX 9223372036854775807LL
#define SIZE_MAX UINT64_MAX

#endif
