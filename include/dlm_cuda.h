/* dlm_cuda.h — error handling shared by the CUDA sources (the .cu files in kernels/ only; C++).
 * Include after dlmsim.h. */
#ifndef DLM_CUDA_H
#define DLM_CUDA_H

#include <cuda_runtime.h>

#ifndef DLM_CUDA_DEBUG
#define DLM_CUDA_DEBUG 0
#endif

// ---------------------------------------------------------------- error handling

/* Runs one CUDA runtime call; on failure records "FILE:LINE: cudaErrorX (string): stmt"
 * in err and returns DLM_ECUDA from the enclosing function. Every function that uses
 * it owns no resource: resources live in a dlm_cuda_ctx freed by the caller. */
#define DLM_CUDA_TRY(stmt)                                                                 \
    do {                                                                                   \
        cudaError_t dlm_e_ = (stmt);                                                       \
        if (dlm_e_ != cudaSuccess)                                                         \
            return dlm_fail(err, DLM_ECUDA, "%s:%d: %s (%s): %s", __FILE__, __LINE__,      \
                            cudaGetErrorName(dlm_e_), cudaGetErrorString(dlm_e_), #stmt);  \
    } while (0)

/* After every kernel launch: the launch error (bad configuration), and with
 * DLM_CUDA_DEBUG the execution error of that very kernel. */
#if DLM_CUDA_DEBUG
#define DLM_CUDA_LAUNCHED()                                                                \
    do {                                                                                   \
        DLM_CUDA_TRY(cudaGetLastError());                                                  \
        DLM_CUDA_TRY(cudaDeviceSynchronize());                                             \
    } while (0)
#else
#define DLM_CUDA_LAUNCHED() DLM_CUDA_TRY(cudaGetLastError())
#endif

#endif
