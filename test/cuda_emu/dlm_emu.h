/* dlm_emu.h — what the CUDA emulation (test/cuda_emu/emu.cc) offers tests beyond the
 * CUDA runtime: the fake device's configuration and a log of the launches (C ABI).
 * Only binaries linked with the emulation (DLM_CUDA_EMU defined) may call these.
 *
 * The fake device is configured from the environment, read at the first runtime call
 * and again by dlm_emu_reset:
 *   DLM_EMU_DEVICE   ok (default) | none (cudaErrorNoDevice) | no-driver (no driver
 *                    installed: cudaErrorInsufficientDriver, driver version 0) |
 *                    old-driver (cudaErrorInsufficientDriver, driver 12.4 < runtime
 *                    13.0) | error (cudaErrorInitializationError from every call)
 *   DLM_EMU_MEM_MB   device memory in MiB (default 2048), allocated in 2 MiB pages
 *   DLM_EMU_SMS      multiprocessors (default 3)
 *   DLM_EMU_DEVICES  how many alike devices (default 1; 0 = cudaErrorNoDevice);
 *                    cudaSetDevice/cudaGetDevice keep the current one
 */
#ifndef DLM_EMU_H
#define DLM_EMU_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Re-reads the configuration; -1 (and nothing changes) while device memory is allocated. */
int dlm_emu_reset(void);

typedef struct {
    char name[48];          /* the kernel's name */
    unsigned grid[3], block[3];
    size_t shmem;           /* dynamic shared bytes */
} dlm_emu_launch_rec;

/* Launches since the last clear (at most the last 4096 are kept, count is exact). */
size_t dlm_emu_launch_count(void);
/* Record i (0 = oldest kept); 0, or -1 if i is not kept. */
int dlm_emu_launch_get(size_t i, dlm_emu_launch_rec *r);
void dlm_emu_launch_clear(void);

#ifdef __cplusplus
}
#endif
#endif
