/* dlmsim.h — common types of the dlmsim library: status codes and the error record.
 *
 * Every library function that can fail returns a dlm_status and, on failure, writes
 * one message into a caller-owned dlm_err ("FILE:LINE: what is wrong" for input
 * errors, "what limit was exceeded" otherwise). Only the CLI prints and exits:
 * exit code 0 pass, 1 a check failed, 2 bad input or usage.
 * The library keeps no global mutable state.
 */
#ifndef DLMSIM_H
#define DLMSIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DLMSIM_VERSION "0.1.0"

/* A coin is 1 with probability thr / 2^32 (dlm_step.h); this is the fair coin's thr. */
#define DLM_COIN_FAIR (UINT64_C(1) << 31)

typedef enum {
    DLM_OK = 0,
    DLM_ECHECK = 1,  /* a check failed (verifier, program checker) */
    DLM_EINPUT = 2,  /* bad input, bad usage, a limit exceeded */
    DLM_ENOMEM = 3,  /* an allocation failed after the size was checked */
    DLM_ECUDA = 4,   /* a CUDA call failed */
    DLM_EIO = 5      /* a file could not be read or written */
} dlm_status;

/* One error message; fixed size so that reporting an error never allocates. */
typedef struct {
    char msg[512];
} dlm_err;

/* Formats a message into err (if err is non-NULL) and returns code. err->msg may be one
 * of the arguments (to prefix it: dlm_fail(err, s, "%s: %s", path, err->msg)). */
dlm_status dlm_fail(dlm_err *err, dlm_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Exit code of the CLI for a status: 0, 1 for DLM_ECHECK, 2 for everything else. */
int dlm_exit_code(dlm_status s);

/* malloc/calloc that return NULL for n*size overflow instead of wrapping. */
void *dlm_calloc(size_t n, size_t size);
void *dlm_malloc(size_t n, size_t size);

/* Reads a whole file into a NUL-terminated malloc'd buffer (*buf, *len bytes without
 * the NUL), at most the default memory budget (dlm_memory_budget(0)) of bytes. DLM_EIO
 * "path: strerror" when it cannot be opened or read; DLM_EINPUT for a directory or a
 * character or block device (refused after open, by fstat), for a regular file larger
 * than the budget (refused before reading) and for a pipe or FIFO that delivers more
 * (reading stops just past the budget); DLM_ENOMEM. Every reader goes through it. */
dlm_status dlm_read_file(const char *path, char **buf, size_t *len, dlm_err *err);

/* dlm_read_file with the bound max instead of the memory budget. */
dlm_status dlm_read_file_max(const char *path, uint64_t max, char **buf, size_t *len, dlm_err *err);

/* Bytes of physical memory on this machine (0 if unknown). */
uint64_t dlm_host_memory_bytes(void);

/* The memory budget of one data structure (a circuit, a program, an engine's buffers,
 * a law's tables): half the physical memory (UINT64_MAX when unknown), or max_bytes
 * when it is not 0 and less. Every function that builds such a structure takes the
 * caller's max_bytes (a parameter, or a max_bytes field of the structure it builds
 * from; 0 = this default) and compares sizes with dlm_memory_budget(max_bytes) BEFORE
 * allocating; a structure over budget is refused with DLM_EINPUT. The library reads no
 * environment: the CLI takes --max-memory or DLMSIM_MAX_MEMORY (bytes, with an
 * optional K, M, G or T suffix, powers of 1024) once, in main, and passes it down. */
uint64_t dlm_memory_budget(uint64_t max_bytes);

/* Parses a size "123", "64K", "1.5G" (powers of 1024) into bytes; 0 on success. */
int dlm_parse_size(const char *s, uint64_t *bytes);

#ifdef __cplusplus
}
#endif
#endif
