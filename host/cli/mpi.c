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

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int dlm_cli_mpi_on(void)
{
    return active();
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

/* The rank among those on the same node (MPI_COMM_TYPE_SHARED), 0 without MPI. */
static int local_rank(void)
{
    if (!active()) return 0;
    MPI_Comm node;
    int r = 0;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) != MPI_SUCCESS)
        return dlm_cli_mpi_rank();
    MPI_Comm_rank(node, &r);
    MPI_Comm_free(&node);
    return r;
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

int dlm_cli_mpi_any(int bad)
{
    int mine = bad != 0, any = 0;
    if (!active()) return mine;
    MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return any;
}

void dlm_cli_mpi_bcast(void *buf, size_t n)
{
    if (active()) MPI_Bcast(buf, (int)n, MPI_BYTE, 0, MPI_COMM_WORLD);
}

void dlm_cli_mpi_sum(uint64_t *v, uint64_t n, int max)
{
    if (!max) {
        reduce_u64(v, n);
        return;
    }
    int root = dlm_cli_mpi_rank() == 0;
    for (uint64_t i = 0; i < n; i++)
        MPI_Reduce(root ? MPI_IN_PLACE : v + i, v + i, 1, MPI_UINT64_T, MPI_MAX, 0, MPI_COMM_WORLD);
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

// ---------------------------------------------------------------------------
// A run over the ranks with per-rank checkpoints (dlm_cli_mpi_run)

/* Rank r's checkpoint file: PREFIX.rank<r>. */
static void rank_path(const char *prefix, int r, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s.rank%d", prefix, r);
}

/* 1 if every range of b lies inside a's ranges. */
static int ranges_within(const dlm_ranges *a, const dlm_ranges *b)
{
    for (size_t i = 0; i < b->n; i++) {
        int in = 0;
        for (size_t j = 0; j < a->n && !in; j++) in = a->r[j].first <= b->r[i].first && b->r[i].end <= a->r[j].end;
        if (!in) return 0;
    }
    return 1;
}

/* Rank 0: the checkpoints PREFIX.rank* of an earlier job, their counts taken into
 * this rank's (cc->take) and their ranges merged into m. A file whose chains all lie in
 * the files before it is a stale one, already folded into rank 0's (see
 * dlm_cli_mpi_run), and is skipped. */
static dlm_status read_checkpoints(const dlm_cli_mpi_job *j, const dlm_cli_mpi_counts *cc, dlm_ranges *m,
                                   dlm_err *e)
{
    char pat[4200];
    snprintf(pat, sizeof pat, "%s.rank*", j->resume);
    glob_t g;
    memset(&g, 0, sizeof g);
    int gr = glob(pat, 0, NULL, &g);
    if (gr != 0) {
        globfree(&g);
        return dlm_fail(e, DLM_EINPUT, "--resume %s: no checkpoints %s.rankN (under mpirun --resume takes the "
                        "prefix that --checkpoint was given)", j->resume, j->resume);
    }
    /* PREFIX.rank<digits> only (not a .tmp left by a killed write), in rank order, so
     * rank 0's file, which holds the folded ones, comes first */
    size_t n = 0, plen = strlen(j->resume) + 5;
    long *rk = calloc(g.gl_pathc ? g.gl_pathc : 1, sizeof *rk);
    if (!rk) {
        globfree(&g);
        return dlm_fail(e, DLM_ENOMEM, "out of memory for the checkpoint list");
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *suf = g.gl_pathv[i] + plen;
        if (!*suf || strspn(suf, "0123456789") != strlen(suf) || strlen(suf) > 9) continue;
        rk[n++] = atol(suf);
    }
    for (size_t x = 1; x < n; x++) /* insertion sort: a few thousand files at most */
        for (size_t y = x; y > 0 && rk[y - 1] > rk[y]; y--) {
            long tmp = rk[y];
            rk[y] = rk[y - 1];
            rk[y - 1] = tmp;
        }
    dlm_status s = n ? DLM_OK : dlm_fail(e, DLM_EINPUT, "--resume %s: no checkpoints %s.rankN", j->resume, j->resume);
    for (size_t i = 0; i < n && !s; i++) {
        char path[4200];
        rank_path(j->resume, (int)rk[i], path, sizeof path);
        void *file = NULL;
        const dlm_ranges *rs = NULL;
        if ((s = cc->read(cc->ctx, path, &file, &rs, e))) break;
        if (!m->n || !ranges_within(m, rs)) {
            s = dlm_ranges_merge(m, "the checkpoints before it", rs, path, e);
            if (!s) cc->take(cc->ctx, file);
        }
        cc->drop(file);
    }
    free(rk);
    globfree(&g);
    return s;
}

/* run's and verify's checkpoints: count files (dlm_tally.h) of the job's counts k and
 * verifier's counts j->v. */
typedef struct {
    const dlm_cli_mpi_job *j;
    dlm_counts *k;
} tally_counts;

static dlm_status tally_read(void *ctx, const char *path, void **file, const dlm_ranges **ranges, dlm_err *e)
{
    tally_counts *tc = ctx;
    dlm_tally *t = malloc(sizeof *t);
    if (!t) return dlm_fail(e, DLM_ENOMEM, "out of memory for a checkpoint");
    dlm_status s = dlm_tally_read(path, t, tc->j->max_bytes, e);
    const char *what = s ? NULL : dlm_cli_checkpoint_differs(tc->j, t);
    if (what) {
        dlm_tally_free(t);
        s = dlm_fail(e, DLM_EINPUT, "%s: a checkpoint of another %s than this run", path, what);
    }
    if (s) {
        free(t);
        return s;
    }
    *file = t;
    *ranges = &t->ranges;
    return DLM_OK;
}

static void tally_take(void *ctx, const void *file)
{
    tally_counts *tc = ctx;
    const dlm_tally *t = file;
    dlm_counts_add(tc->k, &t->counts);
    if (tc->j->v) dlm_tally_verify_add(tc->j->v, &t->v);
}

static void tally_drop(void *file)
{
    dlm_tally_free(file);
    free(file);
}

static dlm_status tally_write(void *ctx, const char *path, const dlm_ranges *mine, dlm_err *e)
{
    tally_counts *tc = ctx;
    const dlm_cli_mpi_job *j = tc->j;
    dlm_tally t;
    memset(&t, 0, sizeof t);
    t.circuit_hash = j->id->circuit_hash;
    snprintf(t.mode, sizeof t.mode, "%s", j->mode_name);
    t.seed = j->id->seed;
    t.batch = j->batch;
    t.ranges = *mine;
    t.counts = *tc->k;
    if (j->v) {
        t.verify = 1;
        t.v = *j->v;
    }
    return dlm_tally_write(path, &t, e);
}

static void tally_reduce(void *ctx)
{
    tally_counts *tc = ctx;
    dlm_cli_mpi_reduce(tc->k, tc->j->v);
}

/* Writes this rank's checkpoint: its ranges and counts. */
static dlm_status write_rank(const dlm_cli_mpi_job *j, const dlm_cli_mpi_counts *cc, const dlm_ranges *mine,
                             dlm_err *e)
{
    char path[4200];
    rank_path(j->checkpoint, dlm_cli_mpi_rank(), path, sizeof path);
    return cc->write(cc->ctx, path, mine, e);
}

typedef struct {
    const dlm_cli_mpi_job *j;
    const dlm_range *items;
    dlm_ranges mine;      /* the chains this rank has counted (rank 0: with the resumed) */
    uint64_t ran;         /* the chains this rank ran in this job */
    dlm_counts *k;
    const dlm_cli_mpi_counts *cc;
    int stopped;
    double last;          /* when this rank last wrote its checkpoint */
} job_state;

static dlm_status job_chunk(void *ctx, uint64_t first, uint64_t count, dlm_err *e)
{
    job_state *js = ctx;
    const dlm_cli_mpi_job *j = js->j;
    dlm_status s = DLM_OK;
    for (uint64_t i = first; i < first + count && !s && !js->stopped; i++) {
        if (j->stop && *j->stop) {
            js->stopped = 1;
            break;
        }
        uint64_t next = js->items[i].first;
        int stopped = 0;
        if (j->sample) {
            s = j->sample(j->sample_ctx, js->items[i].first, js->items[i].end, &next, e);
            stopped = !s && next < js->items[i].end;
        } else {
            dlm_batch_id cid = *j->id;
            dlm_batch_opts bo = j->bo;
            bo.progress = NULL; /* one rank's view is not the job's progress */
            bo.checkpoint = NULL;
            bo.stop = j->stop;
            bo.first_chunk = js->items[i].end - js->items[i].first;
            cid.chains = js->items[i].end;
            s = dlm_batch_run(j->p, &cid, &bo, &next, js->k, &stopped, e);
        }
        if (!s && next > js->items[i].first) s = dlm_ranges_add(&js->mine, js->items[i].first, next, e);
        if (!s) js->ran += next - js->items[i].first;
        if (stopped) js->stopped = 1;
        if (!s && j->checkpoint && (js->stopped || dlm_now() - js->last >= j->every)) {
            s = write_rank(j, js->cc, &js->mine, e);
            js->last = dlm_now();
        }
    }
    return s;
}

dlm_status dlm_cli_mpi_run(const dlm_cli_mpi_job *j, dlm_counts *k, uint64_t *ran, int *stopped, dlm_err *e)
{
    *ran = 0;
    *stopped = 0;
    int root = dlm_cli_mpi_rank() == 0;
    job_state js;
    memset(&js, 0, sizeof js);
    js.j = j;
    js.k = k;
    js.last = dlm_now();
    tally_counts tc = {j, k};
    const dlm_cli_mpi_counts tally_cc = {tally_read, tally_take, tally_drop, tally_write, tally_reduce, &tc};
    const dlm_cli_mpi_counts *cc = j->counts ? j->counts : &tally_cc;
    js.cc = cc;
    dlm_ranges done = {0};
    dlm_range *items = NULL;
    dlm_status s = DLM_OK;
    /* 1. what an earlier job counted: rank 0 reads it, every rank learns its ranges */
    if (j->resume) {
        /* rank 0 takes over the earlier counts as it reads them (cc->take) */
        dlm_ranges m = {0};
        if (root) s = read_checkpoints(j, cc, &m, e);
        int bad = s != DLM_OK;
        MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD);
        if (bad) {
            dlm_ranges_free(&m);
            return s ? s : dlm_fail(e, DLM_EINPUT, "rank 0 could not read the checkpoints");
        }
        uint64_t nr = root ? m.n : 0;
        MPI_Bcast(&nr, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
        uint64_t *flat = malloc((size_t)(2 * nr + 1) * sizeof *flat);
        int oom = flat == NULL, anyoom = 0;
        MPI_Allreduce(&oom, &anyoom, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        if (anyoom) {
            free(flat);
            dlm_ranges_free(&m);
            return dlm_fail(e, DLM_ENOMEM, "out of memory for the resumed chain ranges");
        }
        for (uint64_t q = 0; root && q < nr; q++) {
            flat[2 * q] = m.r[q].first;
            flat[2 * q + 1] = m.r[q].end;
        }
        MPI_Bcast(flat, (int)(2 * nr), MPI_UINT64_T, 0, MPI_COMM_WORLD);
        for (uint64_t q = 0; q < nr && !s; q++) s = dlm_ranges_add(&done, flat[2 * q], flat[2 * q + 1], e);
        free(flat);
        if (root && !s) {
            /* rank 0 has taken over the earlier counts and writes them as its own before
             * any rank replaces its file: the other files are then contained in rank 0's */
            for (size_t q = 0; q < m.n && !s; q++) s = dlm_ranges_add(&js.mine, m.r[q].first, m.r[q].end, e);
            if (!s && j->checkpoint) s = write_rank(j, cc, &js.mine, e);
        }
        dlm_ranges_free(&m);
        int b2 = s != DLM_OK, any2 = 0;
        MPI_Allreduce(&b2, &any2, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        if (any2) {
            dlm_ranges_free(&done);
            dlm_ranges_free(&js.mine);
            return s ? s : dlm_fail(e, DLM_EIO, "another rank failed");
        }
    }
    /* 2. the chains left, in chunks */
    uint64_t chunk = dlm_cli_mpi_chunk(j->count), nitems = 0, at = j->first, end = j->first + j->count;
    for (int pass = 0; pass < 2; pass++) {
        uint64_t n = 0;
        at = j->first;
        for (size_t q = 0; q <= done.n; q++) {
            uint64_t gap_end = q < done.n ? done.r[q].first : end;
            for (uint64_t a = at; a < gap_end; a += chunk, n++)
                if (pass) items[n] = (dlm_range){a, gap_end - a < chunk ? gap_end : a + chunk};
            if (q < done.n) at = done.r[q].end;
        }
        if (!pass) {
            nitems = n;
            items = malloc((size_t)(n ? n : 1) * sizeof *items);
            if (!items) s = dlm_fail(e, DLM_ENOMEM, "out of memory for %llu chunks", (unsigned long long)n);
            int bad = s != DLM_OK, any = 0;
            MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
            if (any) {
                dlm_ranges_free(&done);
                dlm_ranges_free(&js.mine);
                free(items);
                return s ? s : dlm_fail(e, DLM_ENOMEM, "another rank ran out of memory");
            }
        }
    }
    dlm_ranges_free(&done);
    js.items = items;
    /* 3. the chunks, handed out; this rank's checkpoint as it goes */
    uint64_t took = 0;
    s = dlm_cli_mpi_share(0, nitems, 1, job_chunk, &js, &took, e);
    *ran = js.ran;
    int st = js.stopped, anyst = 0;
    MPI_Allreduce(&st, &anyst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    /* 4. every rank's final checkpoint (what it counted, complete or not) */
    if (!s && j->checkpoint) {
        s = write_rank(j, cc, &js.mine, e);
        int bad = s != DLM_OK, any = 0;
        MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        if (any && !s) s = dlm_fail(e, DLM_EIO, "another rank could not write its checkpoint");
    }
    free(items);
    dlm_ranges_free(&js.mine);
    if (s) return s;
    if (anyst) {
        *stopped = 1;
        return DLM_OK;
    }
    cc->reduce(cc->ctx);
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
int dlm_cli_mpi_on(void) { return 0; }
int dlm_cli_mpi_rank(void) { return 0; }
int dlm_cli_mpi_size(void) { return 1; }
static int local_rank(void) { return 0; }
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
int dlm_cli_mpi_any(int bad)
{
    return bad != 0;
}
void dlm_cli_mpi_bcast(void *buf, size_t n)
{
    (void)buf;
    (void)n;
}
void dlm_cli_mpi_sum(uint64_t *v, uint64_t n, int max)
{
    (void)v;
    (void)n;
    (void)max;
}
dlm_status dlm_cli_mpi_run(const dlm_cli_mpi_job *j, dlm_counts *k, uint64_t *ran, int *stopped, dlm_err *e)
{
    (void)j;
    (void)k;
    *ran = 0;
    *stopped = 0;
    return dlm_fail(e, DLM_EINPUT, "this dlmsim was built without MPI");
}
void dlm_cli_mpi_collect(void *items, size_t size, size_t n, const unsigned char *mine)
{
    (void)items;
    (void)size;
    (void)n;
    (void)mine;
}

#endif

const char *dlm_cli_checkpoint_differs(const dlm_cli_mpi_job *j, const dlm_tally *t)
{
    if (t->circuit_hash != j->id->circuit_hash) return "circuit";
    if (strcmp(t->mode, j->mode_name)) return "mode";
    if (t->seed != j->id->seed) return "seed";
    if (t->batch != j->batch) return "batch (--chains, --shard)";
    if (t->counts.nout != j->id->nout || (t->counts.hist != NULL) != (j->id->hist != 0)) return "outputs";
    if (t->verify != (j->v != NULL)) return t->verify ? "kind (verify)" : "kind (run)";
    if (t->verify && t->v.npairs != j->v->npairs) return "number of pairs";
    for (size_t q = 0; q < t->ranges.n; q++)
        if (t->ranges.r[q].first < j->first || t->ranges.r[q].end > j->first + j->count) return "chain range";
    return NULL;
}

uint64_t dlm_cli_mpi_chunk(uint64_t count)
{
    uint64_t chunk = count / (8 * (uint64_t)dlm_cli_mpi_size());
    return chunk < 4096 ? 4096 : (chunk + 63) & ~UINT64_C(63);
}

/* Outside the #if: the same in both builds (local_rank is 0 without MPI). */
int dlm_cli_mpi_gpu(dlm_backend be, dlm_err *err)
{
    if (!dlm_cli_mpi_on() || (be != DLM_BACKEND_CUDA && be != DLM_BACKEND_CUDA_REF)) return -1;
    char why[256] = "";
    int lr = local_rank(), d = dlm_cuda_select_device(lr, why, sizeof why);
    if (d < 0) {
        dlm_fail(err, DLM_ECUDA, "rank %d (node-local rank %d): no CUDA device chosen: %s", dlm_cli_mpi_rank(), lr, why);
        return -2;
    }
    return d;
}

void dlm_cli_mpi_ran(const char *what, uint64_t n, int device)
{
    char on[48] = "";
    if (device >= 0) snprintf(on, sizeof on, " on CUDA device %d", device);
    fprintf(stderr, "dlmsim: rank %d of %d ran %llu %s%s\n", dlm_cli_mpi_rank(), dlm_cli_mpi_size(),
            (unsigned long long)n, what, on);
}
