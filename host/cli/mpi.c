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
 * reduced exactly to rank 0 with MPI_Reduce(MPI_UINT64_T, MPI_SUM). `run` and
 * `verify` both share their chains this way (dlm_cli_mpi_share, dlm_cli_mpi_reduce). */
#include "dlm_cli.h"

#ifndef DLM_HAVE_MPI /* builds that do not pass it (the CUDA emulation, test/cuda_emu) */
#define DLM_HAVE_MPI 0
#endif

#include <stdio.h>
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

dlm_status dlm_cli_mpi_share(uint64_t first, uint64_t count, uint64_t chunk, dlm_cli_chunk_fn fn, void *ctx,
                             uint64_t *mine, dlm_err *err)
{
    *mine = 0;
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
    const uint64_t one = 1;
    for (;;) {
        uint64_t idx = 0;
        MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win);
        MPI_Fetch_and_op(&one, &idx, MPI_UINT64_T, 0, 0, MPI_SUM, win);
        MPI_Win_unlock(0, win);
        if (idx >= nchunks || s) break;
        uint64_t n = count - idx * chunk < chunk ? count - idx * chunk : chunk;
        s = fn(ctx, first + idx * chunk, n, err);
        if (!s) *mine += n;
    }
    MPI_Win_free(&win);
    /* Every rank learns whether any failed (the same input fails the same way on all). */
    int bad = s != DLM_OK, anybad = 0;
    MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (anybad && !s) s = dlm_fail(err, DLM_EIO, "another rank failed");
    return s;
}

static void reduce_u64(uint64_t *v, uint64_t n)
{
    int root = dlm_cli_mpi_rank() == 0;
    for (uint64_t off = 0; off < n; off += UINT64_C(1) << 24) {
        int m = (int)(n - off < (UINT64_C(1) << 24) ? n - off : (UINT64_C(1) << 24));
        MPI_Reduce(root ? MPI_IN_PLACE : v + off, v + off, m, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    }
}

void dlm_cli_mpi_reduce(dlm_counts *k, dlm_tally_verify *v)
{
    /* Exact sums to rank 0: chains, odd parity, ones, histogram (and the verifier's). */
    uint64_t head[2] = {k->chains, k->odd_parity};
    reduce_u64(head, 2);
    reduce_u64(k->ones, k->nout);
    if (k->hist) reduce_u64(k->hist, UINT64_C(1) << k->nout);
    uint64_t bt = k->bytes_tokens, btmax = 0;
    MPI_Reduce(&bt, &btmax, 1, MPI_UINT64_T, MPI_MAX, 0, MPI_COMM_WORLD);
    int root = dlm_cli_mpi_rank() == 0, R = dlm_cli_mpi_size();
    if (root) {
        k->chains = head[0];
        k->odd_parity = head[1];
        k->bytes_tokens = btmax;
    }
    if (!v) return;
    reduce_u64(v->n11, v->npairs);
    /* the first violation: the lowest chain over the ranks */
    uint64_t mine[4] = {v->prefix_bad ? v->bad_chain : UINT64_MAX, v->bad_out, v->bad_engine, v->bad_direct};
    uint64_t *all = root ? malloc((size_t)R * sizeof mine) : NULL;
    if (root && !all) {
        fprintf(stderr, "dlmsim: out of memory gathering the ranks' bit-exact checks\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    MPI_Gather(mine, 4, MPI_UINT64_T, all, 4, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    uint64_t pc[2] = {v->prefix_checked, v->prefix_bad};
    reduce_u64(pc, 2);
    if (root) {
        v->prefix_checked = pc[0];
        v->prefix_bad = pc[1];
        uint64_t best = UINT64_MAX;
        for (int r = 0; r < R; r++)
            if (all[4 * r] < best) {
                best = all[4 * r];
                v->bad_chain = all[4 * r];
                v->bad_out = (uint32_t)all[4 * r + 1];
                v->bad_engine = (uint32_t)all[4 * r + 2];
                v->bad_direct = (uint32_t)all[4 * r + 3];
            }
        free(all);
    }
}

void dlm_cli_mpi_collect(void *items, size_t size, size_t n, const unsigned char *mine)
{
    int rank = dlm_cli_mpi_rank();
    int *owner = calloc(n ? n : 1, sizeof *owner);
    if (!owner) {
        fprintf(stderr, "dlmsim: out of memory collecting the ranks' results\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    for (size_t i = 0; i < n; i++) owner[i] = mine[i] ? rank : -1;
    /* rank 0 learns which rank holds item i; sends of one rank arrive in order */
    MPI_Allreduce(MPI_IN_PLACE, owner, (int)n, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    for (size_t i = 0; i < n; i++) {
        char *it = (char *)items + i * size;
        if (owner[i] <= 0) continue;
        if (rank == 0) MPI_Recv(it, (int)size, MPI_BYTE, owner[i], 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        else if (rank == owner[i]) MPI_Send(it, (int)size, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
    }
    free(owner);
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
dlm_status dlm_cli_mpi_share(uint64_t first, uint64_t count, uint64_t chunk, dlm_cli_chunk_fn fn, void *ctx,
                             uint64_t *mine, dlm_err *err)
{
    (void)chunk;
    dlm_status s = fn(ctx, first, count, err);
    *mine = s ? 0 : count;
    return s;
}
void dlm_cli_mpi_reduce(dlm_counts *k, dlm_tally_verify *v)
{
    (void)k;
    (void)v;
}
void dlm_cli_mpi_collect(void *items, size_t size, size_t n, const unsigned char *mine)
{
    (void)items;
    (void)size;
    (void)n;
    (void)mine;
}

#endif

uint64_t dlm_cli_mpi_chunk(uint64_t count)
{
    uint64_t chunk = count / (8 * (uint64_t)dlm_cli_mpi_size());
    return chunk < 4096 ? 4096 : (chunk + 63) & ~UINT64_C(63);
}
