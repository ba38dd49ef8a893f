/* nvrtc.h — the CUDA emulation's stand-in for NVRTC's header (tests only; docs/gpu.md,
 * "The CPU emulation"). Found before the toolkit's by -Itest/cuda_emu, as cuda_runtime.h.
 *
 * The calls the JIT engine makes (kernels/engine_cuda_jit.cu), with NVRTC's signatures
 * and result codes; emulated in nvrtc.cc: nvrtcCompileProgram compiles the program with
 * the host C++ compiler into a shared object, which cudaLibraryLoadData (emu.cc) loads:
 *
 *   source    the program and include/dlm_jit_cuda.h go through rewrite.sed (as the
 *             kernels in kernels/ do), then g++ -std=c++17 -O1 -fPIC -shared with the
 *             emulation's warnings (-Wall -Wextra -Werror) and defines, -include
 *             cuda_runtime.h, the include path test/cuda_emu and include/ of the source
 *             tree the emulation was built from (DLM_EMU_SRC_DIR). The headers given to
 *             nvrtcCreateProgram are ignored: the tree's own are used.
 *   options   -D/-U (also --define-macro=, --undefine-macro=, and as two arguments)
 *             are passed on; every other option that starts with '-' (--gpu-architecture,
 *             -default-device, -std, --fmad, ...) is accepted and ignored; anything else
 *             is NVRTC_ERROR_INVALID_OPTION.
 *   result    the "CUBIN" is the bytes of the shared object (an ELF file); the log is
 *             the compiler's output; a failed compile is NVRTC_ERROR_COMPILATION.
 *   cache     with DLM_EMU_JIT_CACHE set to a directory (created if missing), the
 *             shared object is kept there under an FNV-1a 64 hash of the preprocessed
 *             program, the options and the compiler, and a later compile with the same
 *             hash reads it back (written to a temporary file, then renamed: tests run
 *             in parallel). Unset or empty: no cache.
 *
 * Temporary files go to $TMPDIR (default /tmp) and are removed.
 */
#ifndef DLM_CUDA_EMU_NVRTC_H
#define DLM_CUDA_EMU_NVRTC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    NVRTC_SUCCESS = 0,
    NVRTC_ERROR_OUT_OF_MEMORY = 1,
    NVRTC_ERROR_PROGRAM_CREATION_FAILURE = 2,
    NVRTC_ERROR_INVALID_INPUT = 3,
    NVRTC_ERROR_INVALID_PROGRAM = 4,
    NVRTC_ERROR_INVALID_OPTION = 5,
    NVRTC_ERROR_COMPILATION = 6,
    NVRTC_ERROR_BUILTIN_OPERATION_FAILURE = 7,
    NVRTC_ERROR_INTERNAL_ERROR = 11
} nvrtcResult;

typedef struct _nvrtcProgram *nvrtcProgram;

const char *nvrtcGetErrorString(nvrtcResult result);
nvrtcResult nvrtcVersion(int *major, int *minor); /* 13.0 */
nvrtcResult nvrtcCreateProgram(nvrtcProgram *prog, const char *src, const char *name,
                               int numHeaders, const char *const *headers,
                               const char *const *includeNames);
nvrtcResult nvrtcDestroyProgram(nvrtcProgram *prog);
nvrtcResult nvrtcCompileProgram(nvrtcProgram prog, int numOptions, const char *const *options);
nvrtcResult nvrtcGetCUBINSize(nvrtcProgram prog, size_t *cubinSizeRet);
nvrtcResult nvrtcGetCUBIN(nvrtcProgram prog, char *cubin);
nvrtcResult nvrtcGetProgramLogSize(nvrtcProgram prog, size_t *logSizeRet);
nvrtcResult nvrtcGetProgramLog(nvrtcProgram prog, char *log);

#ifdef __cplusplus
}
#endif
#endif
