/* cuda_runtime.h — the CUDA emulation's stand-in for the CUDA runtime header (tests
 * only; docs/gpu.md, "The CPU emulation").
 *
 * Found before the toolkit's header by -Itest/cuda_emu, so that g++ compiles the
 * kernels in kernels/ (the .cu files) into host code: the runtime calls the engines use (device
 * count and versions, attributes, malloc/free/memcpy/memset/memGetInfo, occupancy,
 * function attributes, errors) are declared here and emulated in emu.cc as documented
 * for the CUDA runtime; the device built-ins (threadIdx and friends, __syncthreads, warp
 * shuffles and reductions, atomics, __popcll, __ffsll) run the threads of a block as
 * fibers with real barriers (emu.cc). A launch `k<<<g, b, s>>>(args)` and a
 * `__shared__` declaration are the two constructs g++ cannot parse: rewrite.sed turns
 * them into dlm_emu::launch(k, g, b, s)(args) and block-shared storage, mechanically.
 *
 * The declarations of the runtime API are C (test/test_philox.c includes <curand.h>,
 * which includes this header from C); the device side is C++17.
 */
#ifndef DLM_CUDA_EMU_RUNTIME_H
#define DLM_CUDA_EMU_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#define DLM_CUDA_EMU 1
#define CUDART_VERSION 13000 /* the runtime emulated: CUDA 13.0 */

// ---------------------------------------------------------------- types (C)

/* The values of the CUDA runtime's enumerators, so that messages and tests read alike. */
typedef enum cudaError {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInitializationError = 3,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorInvalidDevicePointer = 17,
    cudaErrorInvalidMemcpyDirection = 21,
    cudaErrorInsufficientDriver = 35,
    cudaErrorNoDevice = 100,
    cudaErrorInvalidDevice = 101,
    cudaErrorInvalidDeviceFunction = 98,
    cudaErrorInvalidKernelImage = 200,
    cudaErrorInvalidResourceHandle = 400,
    cudaErrorSymbolNotFound = 500,
    cudaErrorLaunchOutOfResources = 701,
    cudaErrorUnknown = 999
} cudaError_t;

typedef enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
    cudaMemcpyDefault = 4
} cudaMemcpyKind;

typedef enum cudaDeviceAttr {
    cudaDevAttrMaxThreadsPerBlock = 1,
    cudaDevAttrMaxSharedMemoryPerBlock = 8,
    cudaDevAttrWarpSize = 10,
    cudaDevAttrMultiProcessorCount = 16,
    cudaDevAttrComputeCapabilityMajor = 75,
    cudaDevAttrComputeCapabilityMinor = 76,
    cudaDevAttrMaxSharedMemoryPerMultiprocessor = 81,
    cudaDevAttrMaxSharedMemoryPerBlockOptin = 97
} cudaDeviceAttr;

typedef enum cudaFuncAttribute {
    cudaFuncAttributeMaxDynamicSharedMemorySize = 8,
    cudaFuncAttributePreferredSharedMemoryCarveout = 9
} cudaFuncAttribute;

typedef struct cudaFuncAttributes {
    size_t sharedSizeBytes;
    size_t constSizeBytes;
    size_t localSizeBytes;
    int maxThreadsPerBlock;
    int numRegs;
    int ptxVersion;
    int binaryVersion;
    int cacheModeCA;
    int maxDynamicSharedSizeBytes;
    int preferredShmemCarveout;
} cudaFuncAttributes;

/* Loaded code (cudaLibraryLoadData and friends, CUDA 12+): the emulation takes the bytes
 * its NVRTC (test/cuda_emu/nvrtc.h) returns as a cubin. No option is emulated; the
 * enumerations carry only their first values. */
typedef struct CUlib_st *cudaLibrary_t;
typedef struct CUkern_st *cudaKernel_t;
typedef enum cudaJitOption { cudaJitMaxRegisters = 0 } cudaJitOption;
typedef enum cudaLibraryOption {
    cudaLibraryHostUniversalFunctionAndDataTable = 0,
    cudaLibraryBinaryIsPreserved = 1
} cudaLibraryOption;

typedef enum libraryPropertyType_t { MAJOR_VERSION, MINOR_VERSION, PATCH_LEVEL } libraryPropertyType;
typedef struct CUstream_st *cudaStream_t;
typedef struct CUevent_st *cudaEvent_t;

/* As the toolkit's vector_types.h: C structs, with dim3's constructor in C++. */
typedef struct uint3 {
    unsigned int x, y, z;
} uint3;
typedef struct dim3 {
    unsigned int x, y, z;
#ifdef __cplusplus
    constexpr dim3(unsigned int x_ = 1, unsigned int y_ = 1, unsigned int z_ = 1) : x(x_), y(y_), z(z_) {}
#endif
} dim3;

// ---------------------------------------------------------------- runtime API (C)

#ifdef __cplusplus
extern "C" {
#endif
cudaError_t cudaGetDeviceCount(int *count);
cudaError_t cudaDriverGetVersion(int *version);
cudaError_t cudaRuntimeGetVersion(int *version);
cudaError_t cudaGetDevice(int *device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaDeviceGetAttribute(int *value, cudaDeviceAttr attr, int device);
cudaError_t cudaDeviceSynchronize(void);
cudaError_t cudaGetLastError(void);
cudaError_t cudaPeekAtLastError(void);
const char *cudaGetErrorName(cudaError_t e);
const char *cudaGetErrorString(cudaError_t e);
cudaError_t cudaMalloc(void **ptr, size_t bytes);
cudaError_t cudaFree(void *ptr);
cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemset(void *ptr, int value, size_t bytes);
cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes);
cudaError_t cudaEventCreate(cudaEvent_t *e);
cudaError_t cudaEventDestroy(cudaEvent_t e);
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s);
cudaError_t cudaEventSynchronize(cudaEvent_t e);
cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t end);
cudaError_t cudaLibraryLoadData(cudaLibrary_t *library, const void *code, cudaJitOption *jitOptions,
                                void **jitOptionsValues, unsigned int numJitOptions,
                                cudaLibraryOption *libraryOptions, void **libraryOptionValues,
                                unsigned int numLibraryOptions);
cudaError_t cudaLibraryGetKernel(cudaKernel_t *pKernel, cudaLibrary_t library, const char *name);
cudaError_t cudaLibraryUnload(cudaLibrary_t library);
/* Launches a kernel of a loaded library (func: a cudaKernel_t cast to const void *), its
 * parameters at args[0..]; synchronous, as every emulated launch. Only kernels that
 * cudaLibraryGetKernel returned: a kernel of the executable cannot be launched this
 * way (the emulation does not know its parameters). */
cudaError_t cudaLaunchKernel(const void *func, dim3 gridDim, dim3 blockDim, void **args,
                             size_t sharedMem, cudaStream_t stream);
/* Function attributes and occupancy, by the kernel's address (the templates below take
 * a kernel itself), or by a cudaKernel_t cast to const void *. */
cudaError_t cudaFuncGetAttributes(cudaFuncAttributes *fa, const void *func);
cudaError_t cudaFuncSetAttribute(const void *func, cudaFuncAttribute attr, int value);
cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int *blocks, const void *func,
                                                          int block_threads, size_t dyn_shmem);
cudaError_t dlm_emu_func_get_attributes(cudaFuncAttributes *fa, const void *func);
cudaError_t dlm_emu_func_set_attribute(const void *func, cudaFuncAttribute attr, int value);
cudaError_t dlm_emu_occupancy(int *blocks, const void *func, int block_threads, size_t dyn_shmem);
#ifdef __cplusplus
}
#endif

#ifdef __cplusplus
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

// ---------------------------------------------------------------- runtime API (C++)

template <class T> static inline cudaError_t cudaMalloc(T **ptr, size_t bytes)
{
    return cudaMalloc((void **)ptr, bytes);
}
template <class F> static inline cudaError_t cudaFuncGetAttributes(cudaFuncAttributes *fa, F *func)
{
    return dlm_emu_func_get_attributes(fa, (const void *)func);
}
template <class F>
static inline cudaError_t cudaFuncSetAttribute(F *func, cudaFuncAttribute attr, int value)
{
    return dlm_emu_func_set_attribute((const void *)func, attr, value);
}
template <class F>
static inline cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int *blocks, F *func,
                                                                        int block_threads,
                                                                        size_t dyn_shmem)
{
    return dlm_emu_occupancy(blocks, (const void *)func, block_threads, dyn_shmem);
}

// ---------------------------------------------------------------- device side (C++)

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
/* dlm_hd.h spells C's restrict outside nvcc; g++ has it as __restrict__ */
#define restrict __restrict__

namespace dlm_emu {

/* What a thread of the running block sees; the scheduler points `current` at it. */
struct thread_view {
    uint3 tid, bid;
    dim3 bdim, gdim;
    unsigned linear; /* threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z) */
};
extern const thread_view *current;

/* Block barrier (__syncthreads) at a source site. */
void syncthreads(const char *file, int line);
/* Not CUDA: the calling thread stops here until every other warp of the block ran as far
 * as it can (test/cuda_emu/mutants.sh: a read-modify-write split by it loses updates, as
 * a plain += racing on a device does; fibers are otherwise never preempted). */
void preempt(const char *file, int line);
#define __dlm_emu_preempt() ::dlm_emu::preempt(__FILE__, __LINE__)
/* Warp collectives: every lane named in mask arrives with (op, mask, value, arg); the last
 * to arrive computes every lane's result. Aborts, naming the lanes, on a mask without the
 * caller's own lane, on lanes that exited or wait elsewhere, or a mismatched op or mask. */
enum warp_op { WARP_SHFL_DOWN, WARP_SHFL_UP, WARP_SHFL_XOR, WARP_SHFL_IDX, WARP_REDUCE_ADD,
               WARP_BALLOT, WARP_SYNC };
uint64_t warp_collective(warp_op op, unsigned mask, uint64_t value, int arg, int width,
                         const char *file, int line);

/* Dynamic shared memory of the running block (the launch's third parameter; garbage). */
void *dynamic_shared();
/* Static shared storage: one object per declaration and block (garbage). */
void *static_shared(const void *tag, size_t bytes, size_t align);
template <class T> T &shared_object(const void *tag)
{
    return *static_cast<T *>(static_shared(tag, sizeof(T), alignof(T)));
}

/* A launch: runs the grid to completion, block after block (threads as fibers). */
typedef void (*thread_body)(void *ctx);
void run_grid(const char *name, const void *func, dim3 grid, dim3 block, size_t shmem,
              thread_body body, void *ctx);

template <class... P> struct launcher {
    const char *name;
    void (*func)(P...);
    dim3 grid, block;
    size_t shmem;
    /* The kernel's parameters are converted once, as a real launch copies them into
     * parameter space; every thread then receives its own copies. */
    template <class... A> void operator()(A &&...args) const
    {
        typedef std::tuple<typename std::decay<P>::type...> params_t;
        struct frame {
            void (*f)(P...);
            params_t *params;
        };
        params_t params(std::forward<A>(args)...);
        frame fr = {func, &params};
        run_grid(name, (const void *)func, grid, block, shmem,
                 [](void *c) {
                     frame *x = static_cast<frame *>(c);
                     std::apply(x->f, *x->params);
                 },
                 &fr);
    }
};

template <class... P>
launcher<P...> launch(const char *name, void (*f)(P...), dim3 grid, dim3 block, size_t shmem = 0,
                      cudaStream_t = 0)
{
    launcher<P...> l = {name, f, grid, block, shmem};
    return l;
}

/* Warp shuffles of any 4- or 8-byte type, by its bits. */
template <class T>
inline T shfl(warp_op op, unsigned mask, T v, int arg, int width, const char *file, int line)
{
    static_assert(sizeof(T) <= 8, "shuffle of more than 8 bytes");
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof v);
    bits = warp_collective(op, mask, bits, arg, width, file, line);
    T r;
    std::memcpy(&r, &bits, sizeof r);
    return r;
}
template <class T> inline T shfl(warp_op op, unsigned mask, T v, int arg, const char *file, int line)
{
    return shfl(op, mask, v, arg, 32, file, line);
}

} // namespace dlm_emu

/* Atomics: the threads of a block are fibers of one OS thread, switched only at barriers
 * and warp collectives, so a read-modify-write is atomic by construction. */
template <class T> inline T dlm_emu_rmw_add(T *p, T v) { T o = *p; *p = o + v; return o; }
inline unsigned atomicAdd(unsigned *p, unsigned v) { return dlm_emu_rmw_add(p, v); }
inline int atomicAdd(int *p, int v) { return dlm_emu_rmw_add(p, v); }
inline unsigned long long atomicAdd(unsigned long long *p, unsigned long long v) { return dlm_emu_rmw_add(p, v); }
inline float atomicAdd(float *p, float v) { return dlm_emu_rmw_add(p, v); }
inline double atomicAdd(double *p, double v) { return dlm_emu_rmw_add(p, v); }
template <class T> inline T atomicMin(T *p, T v) { T o = *p; if (v < o) *p = v; return o; }
template <class T> inline T atomicMax(T *p, T v) { T o = *p; if (v > o) *p = v; return o; }
template <class T> inline T atomicOr(T *p, T v) { T o = *p; *p = o | v; return o; }
template <class T> inline T atomicAnd(T *p, T v) { T o = *p; *p = o & v; return o; }
template <class T> inline T atomicExch(T *p, T v) { T o = *p; *p = v; return o; }
template <class T> inline T atomicCAS(T *p, T cmp, T v) { T o = *p; if (o == cmp) *p = v; return o; }

inline int __popc(unsigned v) { return __builtin_popcount(v); }
inline int __popcll(unsigned long long v) { return __builtin_popcountll(v); }
inline int __ffs(int v) { return __builtin_ffs(v); }
inline int __ffsll(long long v) { return __builtin_ffsll(v); }
inline int __clz(int v) { return v ? __builtin_clz((unsigned)v) : 32; }
inline int __clzll(long long v) { return v ? __builtin_clzll((unsigned long long)v) : 64; }

// warp and bit built-ins
#define __syncthreads() ::dlm_emu::syncthreads(__FILE__, __LINE__)
#define __syncwarp(mask) \
    ((void)::dlm_emu::warp_collective(::dlm_emu::WARP_SYNC, (mask), 0, 0, 32, __FILE__, __LINE__))
#define __shfl_down_sync(mask, v, delta, ...) \
    ::dlm_emu::shfl(::dlm_emu::WARP_SHFL_DOWN, (mask), (v), (delta), ##__VA_ARGS__, __FILE__, __LINE__)
#define __shfl_up_sync(mask, v, delta, ...) \
    ::dlm_emu::shfl(::dlm_emu::WARP_SHFL_UP, (mask), (v), (delta), ##__VA_ARGS__, __FILE__, __LINE__)
#define __shfl_xor_sync(mask, v, lm, ...) \
    ::dlm_emu::shfl(::dlm_emu::WARP_SHFL_XOR, (mask), (v), (lm), ##__VA_ARGS__, __FILE__, __LINE__)
#define __shfl_sync(mask, v, src, ...) \
    ::dlm_emu::shfl(::dlm_emu::WARP_SHFL_IDX, (mask), (v), (src), ##__VA_ARGS__, __FILE__, __LINE__)
#define __reduce_add_sync(mask, v)                                                           \
    ((unsigned)::dlm_emu::warp_collective(::dlm_emu::WARP_REDUCE_ADD, (mask), (unsigned)(v), 0, \
                                          32, __FILE__, __LINE__))
#define __ballot_sync(mask, pred)                                                            \
    ((unsigned)::dlm_emu::warp_collective(::dlm_emu::WARP_BALLOT, (mask), (pred) ? 1u : 0u, 0, \
                                          32, __FILE__, __LINE__))

#define threadIdx (::dlm_emu::current->tid)
#define blockIdx (::dlm_emu::current->bid)
#define blockDim (::dlm_emu::current->bdim)
#define gridDim (::dlm_emu::current->gdim)

#endif /* __cplusplus */
#endif
