/* mpi.c — `mpirun -n R dlmsim run ...`: the ranks share the chains and rank 0
 * reports what one process would (docs/scale-out.md).
 *
 * Built with mpicc when Open MPI is present (DLM_HAVE_MPI=1); MPI_Init is called only
 * when the process was started by mpirun (OMPI_COMM_WORLD_SIZE or PMIX_RANK in the
 * environment), so a plain `dlmsim run` behaves exactly as without MPI.
 *
 * Work distribution: chains first .. first+count-1 are cut into chunks of `chunk`
 * chains; a rank takes the next chunk index from a counter on rank 0 with
 * MPI_Fetch_and_op (a one-sided atomic add), so a faster rank takes more chunks.
 * Counts are integer sums, so which rank ran which chunk never changes them; they are
 * reduced exactly to rank 0 with MPI_Reduce(MPI_UINT64_T, MPI_SUM). */
#include "dlm_cli.h"

#ifndef DLM_HAVE_MPI /* builds that do not pass it (the CUDA emulation, test/cuda_emu) */
#define DLM_HAVE_MPI 0
#endif

#include <stdlib.h>
#include <string.h>

#if DLM_HAVE_MPI
#include <mpi.h>

int dlm_cli_mpi_init(int *argc, char ***argv)
{
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMIX_RANK")) return 0;
    int provided;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) return -1;
    return 1;
}

static int active(void)
{
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    return init && !fin;
}

void dlm_cli_mpi_finalize(void)
{
    if (active()) MPI_Finalize();
}

int dlm_cli_mpi_rank(void)
{
    int r = 0;
    if (active()) MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int dlm_cli_mpi_size(void)
{
    int n = 1;
    if (active()) MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
}

dlm_status dlm_cli_mpi_batch(const dlm_program *p, const dlm_batch_id *id, const dlm_batch_opts *o,
                             uint64_t first, uint64_t chunk, dlm_counts *k, uint64_t *mine, dlm_err *err)
{
    *mine = 0;
    uint64_t count = id->chains - first;
    if (!chunk) chunk = 1;
    uint64_t nchunks = count / chunk + (count % chunk != 0);
    uint64_t *ctr = NULL;
    MPI_Win win;
    if (MPI_Win_allocate(dlm_cli_mpi_rank() == 0 ? (MPI_Aint)sizeof(uint64_t) : 0, sizeof(uint64_t),
                         MPI_INFO_NULL, MPI_COMM_WORLD, &ctr, &win) != MPI_SUCCESS)
        return dlm_fail(err, DLM_EIO, "MPI_Win_allocate failed");
    if (dlm_cli_mpi_rank() == 0) {
        MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win);
        *ctr = 0;
        MPI_Win_unlock(0, win);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    dlm_status s = DLM_OK;
    dlm_batch_opts bo = *o;
    bo.progress = NULL; /* one rank's view is not the job's progress */
    bo.checkpoint = NULL;
    bo.first_chunk = chunk;
    const uint64_t one = 1;
    for (;;) {
        uint64_t idx = 0;
        MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win);
        MPI_Fetch_and_op(&one, &idx, MPI_UINT64_T, 0, 0, MPI_SUM, win);
        MPI_Win_unlock(0, win);
        if (idx >= nchunks || s) break;
        dlm_batch_id cid = *id;
        uint64_t next = first + idx * chunk;
        cid.chains = next + (count - idx * chunk < chunk ? count - idx * chunk : chunk);
        int stopped = 0;
        uint64_t n0 = next;
        s = dlm_batch_run(p, &cid, &bo, &next, k, &stopped, err);
        *mine += next - n0;
    }
    MPI_Win_free(&win);
    /* Every rank learns whether any failed (the same input fails the same way on all). */
    int bad = s != DLM_OK, anybad = 0;
    MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (anybad) return s ? s : dlm_fail(err, DLM_EIO, "another rank failed");
    /* Exact reduction to rank 0: chains, odd parity, ones, histogram. */
    int root = dlm_cli_mpi_rank() == 0;
    uint64_t head[2] = {k->chains, k->odd_parity}, sum[2];
    MPI_Reduce(head, sum, 2, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Reduce(root ? MPI_IN_PLACE : k->ones, k->ones, (int)k->nout, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    if (k->hist) {
        uint64_t cells = UINT64_C(1) << k->nout;
        for (uint64_t off = 0; off < cells; off += UINT64_C(1) << 24) {
            int n = (int)(cells - off < (UINT64_C(1) << 24) ? cells - off : (UINT64_C(1) << 24));
            MPI_Reduce(root ? MPI_IN_PLACE : k->hist + off, k->hist + off, n, MPI_UINT64_T, MPI_SUM, 0,
                       MPI_COMM_WORLD);
        }
    }
    uint64_t bt = k->bytes_tokens, btmax = 0;
    MPI_Reduce(&bt, &btmax, 1, MPI_UINT64_T, MPI_MAX, 0, MPI_COMM_WORLD);
    if (root) {
        k->chains = sum[0];
        k->odd_parity = sum[1];
        k->bytes_tokens = btmax;
    }
    return DLM_OK;
}

#else

int dlm_cli_mpi_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}
void dlm_cli_mpi_finalize(void) {}
int dlm_cli_mpi_rank(void) { return 0; }
int dlm_cli_mpi_size(void) { return 1; }
dlm_status dlm_cli_mpi_batch(const dlm_program *p, const dlm_batch_id *id, const dlm_batch_opts *o,
                             uint64_t first, uint64_t chunk, dlm_counts *k, uint64_t *mine, dlm_err *err)
{
    (void)chunk;
    int stopped = 0;
    uint64_t next = first;
    dlm_status s = dlm_batch_run(p, id, o, &next, k, &stopped, err);
    *mine = next - first;
    return s;
}

#endif
