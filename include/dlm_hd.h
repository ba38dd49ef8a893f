/* dlm_hd.h — the only file that knows about nvcc.
 *
 * DLM_HD marks a function that is compiled for both the host (gcc, clang, nvcc's
 * host pass) and the device (nvcc): under nvcc it is `static __host__ __device__
 * __forceinline__`, elsewhere plain `static inline`. Headers that use it must stay
 * valid C11 and C++17 (no compound literals, VLAs, designated initializers).
 * DLM_HAVE_CUDA is always defined, 0 or 1: 1 when the build includes the CUDA backend.
 */
#ifndef DLM_HD_H
#define DLM_HD_H

#ifdef __CUDACC__
#define DLM_HD static __host__ __device__ __forceinline__
#define DLM_RESTRICT __restrict__
#else
#define DLM_HD static inline
#define DLM_RESTRICT restrict
#endif

/* DLM_HD_FORCE: DLM_HD, always inlined on the host too. For small hot helpers that
 * gcc would otherwise leave as calls inside big callers (the Philox block of a coin
 * in the bit-sliced word loop), where the call costs the overlap of independent
 * blocks. */
#if defined(__CUDACC__)
#define DLM_HD_FORCE DLM_HD
#elif defined(__GNUC__)
#define DLM_HD_FORCE static inline __attribute__((always_inline))
#else
#define DLM_HD_FORCE static inline
#endif

#ifndef DLM_HAVE_CUDA
#define DLM_HAVE_CUDA 0
#endif

#endif
