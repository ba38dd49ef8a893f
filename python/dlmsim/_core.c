/* _core.c — the CPython extension module dlmsim._core: a thin layer over the public C
 * API of libdlmsim (the headers in include/). It converts arguments, runs library calls with the
 * GIL released, fills buffers that the Python side (python/dlmsim/__init__.py) has
 * allocated as numpy arrays, and turns a dlm_status into a Python exception carrying the
 * library's one-line message. It computes nothing itself: every number comes from the
 * library, so the module and the CLI give the same samples, counts and reports.
 *
 * Long runs (Program.run, Law.sample) go in chunks of chains; between chunks the GIL is
 * taken back and PyErr_CheckSignals() lets Ctrl-C raise KeyboardInterrupt. Since a
 * chain's sample is a pure function of (seed, chain), the chunking changes nothing.
 * No global mutable state: everything lives in the objects.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "dlm_circuit.h"
#include "dlm_engine.h"
#include "dlm_info.h"
#include "dlm_io.h"
#include "dlm_kl.h"
#include "dlm_kl_table.h"
#include "dlm_law.h"
#include "dlm_level.h"
#include "dlm_policy.h"
#include "dlm_program.h"
#include "dlm_sampler.h"
#include "dlm_slots.h"
#include "dlm_verify.h"

#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// ---------------------------------------------------------------- errors and helpers

/* Raises the exception for a library status: ValueError for bad input and failed
 * checks, OSError for files, MemoryError, RuntimeError for CUDA. Returns NULL. */
static PyObject *raise_status(dlm_status s, const dlm_err *e)
{
    PyObject *type = PyExc_ValueError;
    if (s == DLM_EIO) type = PyExc_OSError;
    else if (s == DLM_ENOMEM) type = PyExc_MemoryError;
    else if (s == DLM_ECUDA) type = PyExc_RuntimeError;
    PyErr_SetString(type, e->msg);
    return NULL;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A writable C-contiguous buffer of at least need bytes, or None (b->buf = NULL). */
static int get_out_buffer(PyObject *o, Py_buffer *b, size_t need, const char *what)
{
    memset(b, 0, sizeof *b);
    if (o == Py_None) return 0;
    if (PyObject_GetBuffer(o, b, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) return -1;
    if ((size_t)b->len < need) {
        PyErr_Format(PyExc_ValueError, "%s: buffer of %zd bytes, %zu needed", what, b->len, need);
        PyBuffer_Release(b);
        b->buf = NULL;
        return -1;
    }
    return 0;
}

static void release(Py_buffer *b)
{
    if (b->obj) PyBuffer_Release(b);
}

/* A backend by name; sampler_only refuses the reference engines (as `dlmsim sample`). */
static int parse_backend(const char *name, int sampler_only, dlm_backend *b)
{
    if (dlm_backend_parse(name, b) ||
        (sampler_only && (*b == DLM_BACKEND_CPU_REF || *b == DLM_BACKEND_CUDA_REF))) {
        if (sampler_only) PyErr_Format(PyExc_ValueError, "unknown backend (auto, cpu, cuda): %s", name);
        else PyErr_Format(PyExc_ValueError, "unknown backend %s (auto, cpu, cpu-ref, cuda, cuda-ref)", name);
        return -1;
    }
    return 0;
}

/* The chunk loop: calls f on chains [first, first + chains) in pieces, the GIL released
 * during each, and checks for signals between them. Chunks grow or shrink so that one
 * takes about 0.1-0.3 s. Returns 0 (with *st the status), -1 with a Python exception
 * set (KeyboardInterrupt and the like). */
typedef dlm_status (*chunk_fn)(void *ctx, uint64_t first, uint64_t done, uint64_t n, dlm_err *err);

static int run_chunks(chunk_fn f, void *ctx, uint64_t first, uint64_t chains, uint64_t chunk,
                      dlm_status *st, dlm_err *err)
{
    uint64_t done = 0;
    *st = DLM_OK;
    while (done < chains) {
        uint64_t n = chains - done < chunk ? chains - done : chunk;
        double t0 = 0, dt = 0;
        dlm_status s;
        Py_BEGIN_ALLOW_THREADS
        t0 = now_s();
        s = f(ctx, first + done, done, n, err);
        dt = now_s() - t0;
        Py_END_ALLOW_THREADS
        if (s) {
            *st = s;
            return 0;
        }
        done += n;
        if (PyErr_CheckSignals() < 0) return -1;
        if (dt < 0.05 && chunk < (UINT64_C(1) << 40)) chunk *= 4;
        else if (dt < 0.1 && chunk < (UINT64_C(1) << 40)) chunk *= 2;
        else if (dt > 0.4 && chunk > 16) { /* toward 0.2 s at once: a slow law's first chunk */
            double c = (double)chunk * 0.2 / dt;
            chunk = c < 16 ? 16 : (uint64_t)c;
        }
    }
    return 0;
}

// ---------------------------------------------------------------- Circuit

typedef struct {
    PyObject_HEAD
    dlm_circuit c;
    dlm_levels lv;
    int loaded;
} CircuitObject;

static void Circuit_dealloc(CircuitObject *self)
{
    if (self->loaded) {
        dlm_levels_free(&self->lv);
        dlm_circuit_free(&self->c);
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject CircuitType;
static PyTypeObject ProgramType;
static PyTypeObject LawType;

/* circuit_load(path_or_spec, max_bytes) -> Circuit */
static PyObject *mod_circuit_load(PyObject *mod, PyObject *args)
{
    (void)mod;
    const char *spec;
    unsigned long long max_bytes;
    if (!PyArg_ParseTuple(args, "sK", &spec, &max_bytes)) return NULL;
    CircuitObject *o = PyObject_New(CircuitObject, &CircuitType);
    if (!o) return NULL;
    o->loaded = 0;
    dlm_err e;
    dlm_status s;
    Py_BEGIN_ALLOW_THREADS
    s = dlm_circuit_load(&o->c, spec, max_bytes, &e);
    if (!s) {
        s = dlm_levelize(&o->c, &o->lv, &e);
        if (s) dlm_circuit_free(&o->c);
    }
    Py_END_ALLOW_THREADS
    if (s) {
        Py_DECREF(o);
        return raise_status(s, &e);
    }
    o->loaded = 1;
    return (PyObject *)o;
}

/* Circuit.stats() -> dict of the levelizer's numbers */
static PyObject *Circuit_stats(CircuitObject *self, PyObject *unused)
{
    (void)unused;
    const dlm_levels *lv = &self->lv;
    PyObject *gbt = PyDict_New();
    if (!gbt) return NULL;
    for (int t = DLM_G_AND; t < DLM_G_NTYPES; t++) {
        PyObject *v = PyLong_FromUnsignedLong(lv->gates_by_type[t]);
        if (!v || PyDict_SetItemString(gbt, dlm_gate_type_name((dlm_gate_type)t), v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(gbt);
            return NULL;
        }
        Py_DECREF(v);
    }
    return Py_BuildValue("{s:s,s:I,s:I,s:I,s:N,s:K,s:I,s:I,s:I,s:I}", "source",
                         self->c.source ? self->c.source : "", "coins", self->c.ncoins, "outputs",
                         self->c.nout, "gates", lv->gates, "gates_by_type", gbt, "size",
                         (unsigned long long)lv->size, "depth", lv->depth, "width", lv->width,
                         "max_fanin", lv->max_fanin, "dead", lv->dead);
}

/* Circuit.export(path, format) with format aag, aig or blif */
static PyObject *Circuit_export(CircuitObject *self, PyObject *args)
{
    const char *path, *fmt;
    if (!PyArg_ParseTuple(args, "ss", &path, &fmt)) return NULL;
    if (strcmp(fmt, "aag") && strcmp(fmt, "aig") && strcmp(fmt, "blif"))
        return PyErr_Format(PyExc_ValueError, "export: unknown format %s (aag, aig, blif)", fmt);
    dlm_err e;
    dlm_status s;
    Py_BEGIN_ALLOW_THREADS
    if (!strcmp(fmt, "blif")) s = dlm_blif_write(&self->c, path, &e);
    else s = dlm_aiger_write(&self->c, path, !strcmp(fmt, "aig"), &e);
    Py_END_ALLOW_THREADS
    if (s) return raise_status(s, &e);
    Py_RETURN_NONE;
}

// ---------------------------------------------------------------- Program

typedef struct {
    PyObject_HEAD
    dlm_program p;
    dlm_slot_plan plan;
    int have_plan, compiled;
    dlm_jit_cache *jit;     /* the cuda backend's JIT kernels of this program, made once */
    dlm_bits_plan *bits;    /* the cpu backend's plan of this program, made once */
    CircuitObject *circuit; /* owned reference: check() needs its levels */
} ProgramObject;

static void Program_dealloc(ProgramObject *self)
{
    dlm_jit_cache_free(self->jit);
    dlm_bits_plan_free(self->bits);
    if (self->have_plan) dlm_slot_plan_free(&self->plan);
    if (self->compiled) dlm_program_free(&self->p);
    Py_XDECREF(self->circuit);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Circuit.compile(mode) -> Program */
static PyObject *Circuit_compile(CircuitObject *self, PyObject *args)
{
    const char *mode;
    if (!PyArg_ParseTuple(args, "s", &mode)) return NULL;
    dlm_mode m;
    if (dlm_mode_parse(mode, &m)) return PyErr_Format(PyExc_ValueError, "unknown mode %s (cot, remask, revise, ar)", mode);
    ProgramObject *o = PyObject_New(ProgramObject, &ProgramType);
    if (!o) return NULL;
    o->have_plan = o->compiled = 0;
    o->jit = NULL;
    o->bits = NULL;
    o->circuit = NULL;
    dlm_err e;
    dlm_status s;
    Py_BEGIN_ALLOW_THREADS
    s = dlm_compile(&self->c, &self->lv, m, &o->p, &e);
    Py_END_ALLOW_THREADS
    if (s) {
        Py_DECREF(o);
        return raise_status(s, &e);
    }
    o->compiled = 1;
    Py_INCREF(self);
    o->circuit = self;
    return (PyObject *)o;
}

static PyObject *Program_attrs(ProgramObject *self, PyObject *unused)
{
    (void)unused;
    const dlm_program *p = &self->p;
    return Py_BuildValue("{s:s,s:I,s:I,s:I,s:K,s:I,s:I,s:I,s:I}", "mode", dlm_mode_name(p->mode), "rounds",
                         p->rounds, "L", p->L, "slots", p->slots, "ops", (unsigned long long)p->nops,
                         "counter_bits", p->counter_bits, "max_fanin", p->max_fanin, "outputs", p->nout,
                         "coins", p->ncoins);
}

static PyObject *Program_check(ProgramObject *self, PyObject *unused)
{
    (void)unused;
    dlm_err e;
    dlm_status s;
    Py_BEGIN_ALLOW_THREADS
    s = dlm_program_check(&self->p, &self->circuit->lv, &e);
    Py_END_ALLOW_THREADS
    if (s) return raise_status(s, &e);
    Py_RETURN_NONE;
}

typedef struct {
    dlm_backend be;
    const dlm_program *p;
    const dlm_slot_plan *plan;
    dlm_counts *k;
    uint8_t *samples;
    size_t sb;
    int threads, want_hist;
    uint64_t seed;
    dlm_cuda_kernel kernel;
    dlm_jit_cache *jit;
    const dlm_bits_plan *bits;
} engine_ctx;

static dlm_status engine_chunk(void *ctx, uint64_t first, uint64_t done, uint64_t n, dlm_err *err)
{
    engine_ctx *c = ctx;
    dlm_run_opts o;
    memset(&o, 0, sizeof o);
    o.first_chain = first;
    o.chains = n;
    o.seed = c->seed;
    o.want_hist = c->want_hist;
    o.samples = c->samples ? c->samples + done * c->sb : NULL;
    o.threads = c->threads;
    o.plan = c->plan;
    o.cuda_kernel = c->kernel;
    o.jit = c->jit;
    o.bits = c->bits;
    return dlm_engine_run(c->be, c->p, &o, c->k, err);
}

/* Where JIT cubins are kept across processes: DLMSIM_JIT_CACHE, as the CLI. */
static const char *jit_dir(void)
{
    const char *d = getenv("DLMSIM_JIT_CACHE");
    return d && *d ? d : NULL;
}

/* A cuda kernel by name. */
static int parse_kernel(const char *name, dlm_cuda_kernel *k)
{
    if (!dlm_cuda_kernel_parse(name, k)) return 0;
    PyErr_Format(PyExc_ValueError, "unknown cuda_kernel %s (auto, interpreter, jit)", name);
    return -1;
}

/* Program.run(chains, seed, first_chain, backend, cuda_kernel, threads, samples, ones, hist)
 *   samples: None or a writable buffer of chains * ceil(outputs/8) bytes (packed)
 *   ones: None or nout uint64; hist: None or 2^nout uint64 (outputs <= 24)
 * -> (backend name, cuda kernel name or None, notice, chains counted, odd parity) */
static PyObject *Program_run(ProgramObject *self, PyObject *args)
{
    unsigned long long chains, seed, first;
    const char *bname, *kname;
    int threads;
    PyObject *so, *oo, *ho;
    if (!PyArg_ParseTuple(args, "KKKssiOOO", &chains, &seed, &first, &bname, &kname, &threads, &so, &oo, &ho))
        return NULL;
    dlm_backend want, be;
    dlm_cuda_kernel kern;
    if (parse_backend(bname, 0, &want) || parse_kernel(kname, &kern)) return NULL;
    const dlm_program *p = &self->p;
    size_t sb = dlm_sample_bytes(p);
    int want_hist = ho != Py_None;
    if (want_hist && p->nout > DLM_HIST_MAX_BITS)
        return PyErr_Format(PyExc_ValueError, "a histogram needs at most %d output bits, the circuit has %u",
                            DLM_HIST_MAX_BITS, p->nout);
    if (so != Py_None && chains > (unsigned long long)(SIZE_MAX / (sb ? sb : 1)))
        return PyErr_Format(PyExc_MemoryError, "%llu chains of samples do not fit in memory", chains);
    dlm_err e;
    char notice[256] = "";
    dlm_status s = dlm_backend_resolve(want, &be, notice, sizeof notice, &e);
    if (s) return raise_status(s, &e);
    if (kern != DLM_CUDA_KERNEL_AUTO && be != DLM_BACKEND_CUDA)
        return PyErr_Format(PyExc_ValueError, "cuda_kernel %s is for backend cuda (this run uses %s)",
                            kname, dlm_backend_name(be));
    Py_buffer bs, bo, bh;
    if (get_out_buffer(so, &bs, (size_t)chains * sb, "samples")) return NULL;
    if (get_out_buffer(oo, &bo, (size_t)p->nout * 8, "ones")) {
        release(&bs);
        return NULL;
    }
    if (get_out_buffer(ho, &bh, want_hist ? ((size_t)8 << p->nout) : 0, "hist")) {
        release(&bs);
        release(&bo);
        return NULL;
    }
    PyObject *ret = NULL;
    dlm_counts k;
    memset(&k, 0, sizeof k);
    if (dlm_backend_uses_plan(be) && !self->have_plan) {
        Py_BEGIN_ALLOW_THREADS
        s = dlm_slot_plan_build(p, &self->plan, &e);
        Py_END_ALLOW_THREADS
        if (s) goto done;
        self->have_plan = 1;
    }
    if (be == DLM_BACKEND_CPU && !self->bits) {
        Py_BEGIN_ALLOW_THREADS
        s = dlm_bits_plan_build(p, &self->plan, &self->bits, &e);
        Py_END_ALLOW_THREADS
        if (s) goto done;
    }
    /* the cuda kernel, chosen once for all chains; its JIT kernels kept with the program */
    if (be == DLM_BACKEND_CUDA) kern = dlm_cuda_kernel_resolve(kern, &self->plan, p->nout, chains);
    if (be == DLM_BACKEND_CUDA && kern == DLM_CUDA_KERNEL_JIT && !self->jit &&
        ((s = dlm_jit_cache_new(&self->jit, &e)) || (s = dlm_jit_cache_keep_in(self->jit, jit_dir(), &e))))
        goto done;
    if ((s = dlm_counts_init(&k, p->nout, want_hist, &e))) goto done;
    engine_ctx c = {be, p, dlm_backend_uses_plan(be) ? &self->plan : NULL, &k, bs.buf, sb, threads,
                    want_hist, seed, kern, self->jit, self->bits};
    if (run_chunks(engine_chunk, &c, first, chains, 1 << 16, &s, &e) < 0) goto done;
    if (s) goto done;
    if (bo.buf) memcpy(bo.buf, k.ones, (size_t)p->nout * 8);
    if (bh.buf) memcpy(bh.buf, k.hist, (size_t)8 << p->nout);
    ret = Py_BuildValue("szsKK", dlm_backend_name(be), be == DLM_BACKEND_CUDA ? dlm_cuda_kernel_name(kern) : NULL,
                        notice, (unsigned long long)k.chains, (unsigned long long)k.odd_parity);
done:
    dlm_counts_free(&k);
    release(&bs);
    release(&bo);
    release(&bh);
    if (s && !PyErr_Occurred()) raise_status(s, &e);
    return ret;
}

/* info_json(circuit, name) -> `dlmsim info --json`'s text (dlm_info_write_json) */
static PyObject *mod_info_json(PyObject *mod, PyObject *args)
{
    (void)mod;
    CircuitObject *c;
    const char *name;
    if (!PyArg_ParseTuple(args, "O!s", &CircuitType, &c, &name)) return NULL;
    char *text = NULL;
    size_t len = 0;
    int bad = 0;
    Py_BEGIN_ALLOW_THREADS
    dlm_info in;
    dlm_info_of(&c->c, &c->lv, &in);
    FILE *f = open_memstream(&text, &len);
    if (!f) bad = 1;
    else {
        dlm_info_write_json(f, name, &c->c, &c->lv, &in);
        bad = fclose(f) != 0;
    }
    Py_END_ALLOW_THREADS
    if (bad) {
        free(text);
        return PyErr_NoMemory();
    }
    PyObject *ret = PyUnicode_DecodeUTF8(text, (Py_ssize_t)len, "replace");
    free(text);
    return ret;
}

// ---------------------------------------------------------------- verify

/* verify(circuit, mode, chains, seed, alpha, target, backend, cuda_kernel, threads,
 * inject_coin, inject_eps, name) -> the report as JSON text (dlm_verify_write_json) */
static PyObject *mod_verify(PyObject *mod, PyObject *args)
{
    (void)mod;
    CircuitObject *c;
    const char *mode, *target, *bname, *kname, *name;
    unsigned long long chains, seed;
    double alpha, eps;
    int threads;
    long long coin;
    if (!PyArg_ParseTuple(args, "O!sKKdsssiLds", &CircuitType, &c, &mode, &chains, &seed, &alpha, &target,
                          &bname, &kname, &threads, &coin, &eps, &name))
        return NULL;
    dlm_verify_opts o;
    dlm_verify_opts_default(&o);
    if (dlm_mode_parse(mode, &o.mode)) return PyErr_Format(PyExc_ValueError, "unknown mode %s (cot, remask, revise, ar)", mode);
    if (dlm_target_want_parse(target, &o.target))
        return PyErr_Format(PyExc_ValueError, "unknown target %s (auto, exact, reference)", target);
    if (parse_backend(bname, 0, &o.backend) || parse_kernel(kname, &o.cuda_kernel)) return NULL;
    o.jit_dir = jit_dir();
    o.chains = chains;
    o.seed = seed;
    o.alpha = alpha;
    o.threads = threads;
    if (coin >= 0) {
        o.inject = 1;
        o.inject_coin = (uint32_t)coin;
        o.inject_eps = eps;
    }
    dlm_verify_report r;
    dlm_err e;
    dlm_status s;
    char *text = NULL;
    size_t len = 0;
    Py_BEGIN_ALLOW_THREADS
    s = dlm_verify_run(&c->c, &c->lv, &o, &r, &e);
    if (!s) {
        FILE *f = open_memstream(&text, &len);
        if (!f) s = dlm_fail(&e, DLM_ENOMEM, "out of memory for the report");
        else {
            dlm_verify_write_json(f, name, &r);
            if (fclose(f)) s = dlm_fail(&e, DLM_ENOMEM, "out of memory for the report");
        }
    }
    dlm_verify_report_free(&r);
    Py_END_ALLOW_THREADS
    if (s) {
        free(text);
        return raise_status(s, &e);
    }
    PyObject *ret = PyUnicode_DecodeUTF8(text, (Py_ssize_t)len, "replace");
    free(text);
    return ret;
}

// ---------------------------------------------------------------- Law

typedef struct {
    PyObject_HEAD
    dlm_law law;
    int loaded, marginals;
} LawObject;

static void Law_dealloc(LawObject *self)
{
    if (self->loaded) dlm_law_free(&self->law);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *mod_law_load(PyObject *mod, PyObject *args)
{
    (void)mod;
    const char *spec;
    unsigned long long max_bytes;
    if (!PyArg_ParseTuple(args, "sK", &spec, &max_bytes)) return NULL;
    LawObject *o = PyObject_New(LawObject, &LawType);
    if (!o) return NULL;
    o->loaded = o->marginals = 0;
    dlm_err e;
    dlm_status s;
    Py_BEGIN_ALLOW_THREADS
    s = dlm_law_load(spec, &o->law, max_bytes, &e);
    Py_END_ALLOW_THREADS
    if (s) {
        Py_DECREF(o);
        return raise_status(s, &e);
    }
    o->loaded = 1;
    return (PyObject *)o;
}

static PyObject *Law_attrs(LawObject *self, PyObject *unused)
{
    (void)unused;
    const dlm_law *l = &self->law;
    unsigned long long cells = dlm_law_cells(l->v.L, l->v.V);
    return Py_BuildValue("{s:I,s:I,s:s,s:s,s:s,s:O}", "L", l->v.L, "V", l->v.V, "kind",
                         l->v.kind == DLM_LAW_TABLE ? "table" : "hmm", "desc", l->desc, "alphabet",
                         l->alphabet, "cells", cells == UINT64_MAX ? Py_None : PyLong_FromUnsignedLongLong(cells));
}

/* Law.table(buffer of V^L doubles) */
static PyObject *Law_table(LawObject *self, PyObject *args)
{
    PyObject *bo;
    if (!PyArg_ParseTuple(args, "O", &bo)) return NULL;
    uint64_t cells = dlm_law_cells(self->law.v.L, self->law.v.V);
    if (cells == UINT64_MAX)
        return PyErr_Format(PyExc_ValueError, "the table needs V^L <= %llu sequences (this law: V=%u, L=%u)",
                            (unsigned long long)DLM_LAW_TABLE_MAX, self->law.v.V, self->law.v.L);
    Py_buffer b;
    if (get_out_buffer(bo, &b, (size_t)cells * 8, "table")) return NULL;
    double *p = NULL;
    dlm_err e;
    dlm_status s;
    Py_BEGIN_ALLOW_THREADS
    s = dlm_law_table(&self->law, &p, &e);
    if (!s) memcpy(b.buf, p, (size_t)cells * 8);
    free(p);
    Py_END_ALLOW_THREADS
    release(&b);
    if (s) return raise_status(s, &e);
    Py_RETURN_NONE;
}

/* A policy from a preset name (or None) and a list of (option, value) strings, checked
 * against L; the law's marginals are built first, as `dlmsim sample` does. */
static int make_policy(LawObject *self, PyObject *preset, PyObject *opts, dlm_policy *pol)
{
    dlm_err e;
    dlm_status s;
    dlm_policy_default(pol);
    if (preset != Py_None) {
        const char *name = PyUnicode_AsUTF8(preset);
        if (!name) return -1;
        if ((s = dlm_policy_preset(pol, name, &e))) return raise_status(s, &e), -1;
    }
    Py_ssize_t n = PyList_Size(opts);
    if (n < 0) return -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *name, *val;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(opts, i), "ss", &name, &val)) return -1;
        if (!dlm_policy_option(pol, name, val, &s, &e)) {
            PyErr_Format(PyExc_ValueError, "unknown policy option %s", name);
            return -1;
        }
        if (s) return raise_status(s, &e), -1;
    }
    if ((s = dlm_policy_check(pol, self->law.v.L, &e))) return raise_status(s, &e), -1;
    if (!self->marginals) {
        Py_BEGIN_ALLOW_THREADS
        s = dlm_law_build_marginals(&self->law, UINT64_C(256) << 20, &e);
        Py_END_ALLOW_THREADS
        if (s) return raise_status(s, &e), -1;
        self->marginals = 1;
    }
    return 0;
}

static PyObject *u64_list(const uint64_t *a, uint64_t n)
{
    PyObject *l = PyList_New((Py_ssize_t)n);
    if (!l) return NULL;
    for (uint64_t i = 0; i < n; i++) {
        PyObject *v = PyLong_FromUnsignedLongLong(a[i]);
        if (!v) {
            Py_DECREF(l);
            return NULL;
        }
        PyList_SET_ITEM(l, (Py_ssize_t)i, v);
    }
    return l;
}

typedef struct {
    dlm_backend be;
    const dlm_law *law;
    const dlm_policy *pol;
    dlm_sample_counts *k;
    uint16_t *samples;
    int threads;
    uint64_t seed;
} sampler_ctx;

static dlm_status sampler_chunk(void *ctx, uint64_t first, uint64_t done, uint64_t n, dlm_err *err)
{
    sampler_ctx *c = ctx;
    dlm_sample_opts o;
    memset(&o, 0, sizeof o);
    o.first_chain = first;
    o.chains = n;
    o.seed = c->seed;
    o.threads = c->threads;
    o.samples = c->samples ? c->samples + done * c->law->v.L : NULL;
    return dlm_sampler_run(c->be, c->law, c->pol, &o, c->k, err);
}

/* Law.sample(preset, opts, chains, seed, first_chain, backend, threads, samples, hist, pos)
 *   samples: None or chains * L uint16; hist: None or V^L uint64; pos: L*V uint64
 * -> dict: backend, notice, policy, inexact, chains, rounds_mean, rounds_max, offsupport,
 *    and per round (lists) chains, revealed, remasked, revised */
static PyObject *Law_sample(LawObject *self, PyObject *args)
{
    PyObject *preset, *opts, *so, *ho, *po;
    unsigned long long chains, seed, first;
    const char *bname;
    int threads;
    if (!PyArg_ParseTuple(args, "OO!KKKsiOOO", &preset, &PyList_Type, &opts, &chains, &seed, &first, &bname,
                          &threads, &so, &ho, &po))
        return NULL;
    dlm_policy pol;
    if (make_policy(self, preset, opts, &pol)) return NULL;
    dlm_backend want, be;
    if (parse_backend(bname, 1, &want)) return NULL;
    const dlm_law *law = &self->law;
    uint32_t L = law->v.L, V = law->v.V;
    uint64_t cells = dlm_law_cells(L, V);
    int want_hist = ho != Py_None;
    if (so != Py_None && chains > (unsigned long long)(SIZE_MAX / 2 / L))
        return PyErr_Format(PyExc_MemoryError, "%llu chains of samples do not fit in memory", chains);
    dlm_err e;
    char notice[256] = "";
    dlm_status s = dlm_backend_resolve(want, &be, notice, sizeof notice, &e);
    if (s) return raise_status(s, &e);
    dlm_sample_counts k;
    if ((s = dlm_sample_counts_init(&k, law, &pol, want_hist, &e))) return raise_status(s, &e);
    Py_buffer bs, bh, bp;
    memset(&bh, 0, sizeof bh);
    memset(&bp, 0, sizeof bp);
    PyObject *ret = NULL;
    if (get_out_buffer(so, &bs, (size_t)chains * L * 2, "samples") ||
        get_out_buffer(ho, &bh, want_hist ? (size_t)cells * 8 : 0, "hist") ||
        get_out_buffer(po, &bp, (size_t)L * V * 8, "pos"))
        goto done;
    sampler_ctx c = {be, law, &pol, &k, bs.buf, threads, seed};
    if (run_chunks(sampler_chunk, &c, first, chains, 256, &s, &e) < 0) goto done;
    if (s) goto done;
    if (k.unfinished) {
        s = dlm_fail(&e, DLM_ECHECK, "%llu chains did not finish in %u rounds (an internal error)",
                     (unsigned long long)k.unfinished, k.max_rounds);
        goto done;
    }
    if (bh.buf) memcpy(bh.buf, k.hist, (size_t)cells * 8);
    if (bp.buf) memcpy(bp.buf, k.pos, (size_t)L * V * 8);
    char desc[512], why[160];
    dlm_policy_describe(&pol, desc, sizeof desc);
    int inexact = dlm_policy_inexact(&pol, why, sizeof why);
    uint64_t R = k.rounds_max;
    ret = Py_BuildValue("{s:s,s:s,s:s,s:s,s:K,s:d,s:K,s:K,s:N,s:N,s:N,s:N}", "backend", dlm_backend_name(be),
                        "notice", notice, "policy", desc, "inexact", inexact ? why : "", "chains",
                        (unsigned long long)k.chains, "rounds_mean", (double)k.rounds_sum / (double)k.chains,
                        "rounds_max", (unsigned long long)k.rounds_max, "offsupport",
                        (unsigned long long)k.offsupport, "round_chains", u64_list(k.active, R), "revealed",
                        u64_list(k.revealed, R), "remasked", u64_list(k.remasked, R), "revised",
                        u64_list(k.revised, R));
done:
    dlm_sample_counts_free(&k);
    release(&bs);
    release(&bh);
    release(&bp);
    if (s && !PyErr_Occurred()) raise_status(s, &e);
    return ret;
}

/* Law.exact(preset, opts, max_states, q buffer of V^L doubles) -> dict of the
 * enumeration's numbers and the divergences to the law (as `sample --exact`) */
static PyObject *Law_exact(LawObject *self, PyObject *args)
{
    PyObject *preset, *opts, *qo;
    unsigned long long max_states;
    if (!PyArg_ParseTuple(args, "OO!KO", &preset, &PyList_Type, &opts, &max_states, &qo)) return NULL;
    dlm_policy pol;
    if (make_policy(self, preset, opts, &pol)) return NULL;
    uint64_t cells = dlm_law_cells(self->law.v.L, self->law.v.V);
    if (cells == UINT64_MAX)
        return PyErr_Format(PyExc_ValueError,
                            "--exact and --verify need V^L <= %llu sequences (this law: V=%u, L=%u)",
                            (unsigned long long)DLM_LAW_TABLE_MAX, self->law.v.V, self->law.v.L);
    Py_buffer b;
    if (get_out_buffer(qo, &b, (size_t)cells * 8, "q")) return NULL;
    dlm_exact_info info;
    dlm_err e;
    dlm_status s;
    double *p = NULL, kf = 0, kr = 0, tv = 0;
    Py_BEGIN_ALLOW_THREADS
    s = dlm_sampler_exact(&self->law, &pol, max_states, b.buf, &info, &e);
    if (!s) s = dlm_law_table(&self->law, &p, &e);
    if (!s) {
        kf = dlm_kl_shown(dlm_kl_div(p, b.buf, cells));
        kr = dlm_kl_shown(dlm_kl_div(b.buf, p, cells));
        tv = dlm_kl_tv(p, b.buf, cells);
    }
    free(p);
    Py_END_ALLOW_THREADS
    release(&b);
    if (s) return raise_status(s, &e);
    return Py_BuildValue("{s:d,s:d,s:d,s:d,s:d,s:K,s:K,s:I,s:d}", "kl_forward", kf, "kl_reverse", kr, "tv", tv,
                         "rounds_mean", info.rounds_mean, "offsupport", info.offsupport, "states_max",
                         (unsigned long long)info.states_max, "branches", (unsigned long long)info.branches,
                         "rounds_max", info.rounds_max, "total", info.total);
}

/* kl(law, schedules or None, steps spec or None, estimate, chains, seed, threads,
 * max_work) -> dict: exact, have_dep, optimal_skipped, H, sumI, TC, DTC, g, rows */
static PyObject *mod_kl(PyObject *mod, PyObject *args)
{
    (void)mod;
    LawObject *lo;
    PyObject *scheds, *steps_o;
    int estimate, threads;
    unsigned long long chains, seed;
    double max_work;
    if (!PyArg_ParseTuple(args, "O!OOpKKid", &LawType, &lo, &scheds, &steps_o, &estimate, &chains, &seed,
                          &threads, &max_work))
        return NULL;
    dlm_kl_table_opts o;
    memset(&o, 0, sizeof o);
    if (scheds == Py_None) {
        for (int k = 0; k < DLM_KLS_COUNT; k++) o.use[k] = 1;
    } else {
        Py_ssize_t n = PyList_Size(scheds);
        if (n < 0) return NULL;
        for (Py_ssize_t i = 0; i < n; i++) {
            const char *name = PyUnicode_AsUTF8(PyList_GET_ITEM(scheds, i));
            if (!name) return NULL;
            int k = dlm_kl_sched_parse(name);
            if (k < 0) return PyErr_Format(PyExc_ValueError, "kl: unknown schedule: %s", name);
            o.use[k] = 1;
        }
    }
    const char *spec = NULL;
    if (steps_o != Py_None && !(spec = PyUnicode_AsUTF8(steps_o))) return NULL;
    dlm_err e;
    uint32_t *steps = NULL, ns = 0;
    dlm_status s = dlm_kl_steps_parse(spec, lo->law.v.L, &steps, &ns, &e);
    if (s) return raise_status(s, &e);
    o.steps = steps;
    o.nsteps = ns;
    o.estimate = estimate;
    o.chains = chains;
    o.seed = seed;
    o.threads = threads;
    o.max_work = max_work;
    dlm_kl_table t;
    Py_BEGIN_ALLOW_THREADS
    s = dlm_kl_table_run(&lo->law, &o, &t, &e);
    Py_END_ALLOW_THREADS
    free(steps);
    if (s) return raise_status(s, &e);
    PyObject *rows = PyList_New((Py_ssize_t)t.nrows), *g = Py_None, *ret = NULL;
    if (!rows) goto out;
    for (size_t i = 0; i < t.nrows; i++) {
        const dlm_kl_row *w = &t.rows[i];
        PyObject *sizes = Py_None;
        if (w->sizes) {
            sizes = PyList_New(w->T);
            if (!sizes) goto out;
            for (uint32_t j = 0; j < w->T; j++) PyList_SET_ITEM(sizes, j, PyLong_FromUnsignedLong(w->sizes[j]));
        } else {
            Py_INCREF(sizes);
        }
        PyObject *row = Py_BuildValue("{s:s,s:I,s:N,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d}", "schedule",
                                      dlm_kl_sched_name(w->sched), "T", w->T, "sizes", sizes, "smax", w->smax,
                                      "kl", w->kl, "se", w->se, "lo", w->lo, "hi", w->hi, "li_cai", w->li_cai,
                                      "smax_bound", w->smax_bound, "tc_T", w->tc_T, "dtc_T", w->dtc_T,
                                      "kl_qbar", w->kl_qbar, "rkl_qbar", w->rkl_qbar, "tv_qbar", w->tv_qbar);
        if (!row) goto out;
        PyList_SET_ITEM(rows, (Py_ssize_t)i, row);
    }
    if (t.g) {
        g = PyList_New((Py_ssize_t)lo->law.v.L + 1);
        if (!g) goto out;
        for (uint32_t k = 0; k <= lo->law.v.L; k++) PyList_SET_ITEM(g, k, PyFloat_FromDouble(t.g[k]));
    } else {
        Py_INCREF(g);
    }
    double nan = NAN;
    ret = Py_BuildValue("{s:O,s:O,s:O,s:d,s:d,s:d,s:d,s:N,s:N}", "exact", t.exact ? Py_True : Py_False,
                        "have_dep", t.have_dep ? Py_True : Py_False, "optimal_skipped",
                        t.optimal_skipped ? Py_True : Py_False, "H", t.have_dep ? t.dep.H : nan, "sumI",
                        t.have_dep ? t.dep.sumI : nan, "TC", t.have_dep ? t.dep.TC : nan, "DTC",
                        t.have_dep ? t.dep.DTC : nan, "g", g, "rows", rows);
    rows = g = NULL;
out:
    Py_XDECREF(rows);
    if (g != Py_None) Py_XDECREF(g);
    dlm_kl_table_free(&t);
    return ret;
}

// ---------------------------------------------------------------- module

/* memory_budget(max_bytes) -> dlm_memory_budget(max_bytes) */
static PyObject *mod_memory_budget(PyObject *mod, PyObject *args)
{
    (void)mod;
    unsigned long long max_bytes;
    if (!PyArg_ParseTuple(args, "K", &max_bytes)) return NULL;
    return PyLong_FromUnsignedLongLong(dlm_memory_budget(max_bytes));
}

/* parse_size(text) -> bytes, or None when text is not a size (dlm_parse_size) */
static PyObject *mod_parse_size(PyObject *mod, PyObject *args)
{
    (void)mod;
    const char *text;
    uint64_t bytes;
    if (!PyArg_ParseTuple(args, "s", &text)) return NULL;
    if (dlm_parse_size(text, &bytes)) Py_RETURN_NONE;
    return PyLong_FromUnsignedLongLong(bytes);
}

static PyObject *mod_cuda_devices(PyObject *mod, PyObject *unused)
{
    (void)mod;
    (void)unused;
    char why[256] = "";
    int n = dlm_cuda_device_count(why, sizeof why);
    return Py_BuildValue("is", n, why);
}

static PyMethodDef Circuit_methods[] = {
    {"stats", (PyCFunction)Circuit_stats, METH_NOARGS, "levelizer numbers"},
    {"export", (PyCFunction)Circuit_export, METH_VARARGS, "export(path, format)"},
    {"compile", (PyCFunction)Circuit_compile, METH_VARARGS, "compile(mode) -> Program"},
    {NULL, NULL, 0, NULL}};

static PyMethodDef Program_methods[] = {
    {"attrs", (PyCFunction)Program_attrs, METH_NOARGS, "program sizes"},
    {"check", (PyCFunction)Program_check, METH_NOARGS, "the program checker"},
    {"run", (PyCFunction)Program_run, METH_VARARGS, "run chains"},
    {NULL, NULL, 0, NULL}};

static PyMethodDef Law_methods[] = {
    {"attrs", (PyCFunction)Law_attrs, METH_NOARGS, "law sizes"},
    {"table", (PyCFunction)Law_table, METH_VARARGS, "the full table"},
    {"sample", (PyCFunction)Law_sample, METH_VARARGS, "run the oracle sampler"},
    {"exact", (PyCFunction)Law_exact, METH_VARARGS, "the policy's exact output law"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject CircuitType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "dlmsim._core.Circuit",
    .tp_basicsize = sizeof(CircuitObject),
    .tp_dealloc = (destructor)Circuit_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_methods = Circuit_methods,
};

static PyTypeObject ProgramType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "dlmsim._core.Program",
    .tp_basicsize = sizeof(ProgramObject),
    .tp_dealloc = (destructor)Program_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_methods = Program_methods,
};

static PyTypeObject LawType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "dlmsim._core.Law",
    .tp_basicsize = sizeof(LawObject),
    .tp_dealloc = (destructor)Law_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_methods = Law_methods,
};

static PyMethodDef mod_methods[] = {
    {"circuit_load", mod_circuit_load, METH_VARARGS, "load a circuit file or gen: spec"},
    {"law_load", mod_law_load, METH_VARARGS, "load a law spec"},
    {"info_json", mod_info_json, METH_VARARGS, "info --json of a circuit"},
    {"verify", mod_verify, METH_VARARGS, "verify a circuit; the report as JSON"},
    {"kl", mod_kl, METH_VARARGS, "kl's table"},
    {"memory_budget", mod_memory_budget, METH_VARARGS, "dlm_memory_budget(max_bytes)"},
    {"parse_size", mod_parse_size, METH_VARARGS, "dlm_parse_size(text), or None"},
    {"cuda_devices", mod_cuda_devices, METH_NOARGS, "(count, why)"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef core_module = {PyModuleDef_HEAD_INIT, "dlmsim._core",
                                         "the C library of dlmsim (use the dlmsim package)", -1, mod_methods,
                                         NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__core(void)
{
    /* GSL's default handler aborts; the library checks its results itself, so a GSL
     * error must come back as a value, never end the interpreter (as the CLI's main). */
    gsl_set_error_handler_off();
    if (PyType_Ready(&CircuitType) < 0 || PyType_Ready(&ProgramType) < 0 || PyType_Ready(&LawType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&core_module);
    if (!m) return NULL;
    if (PyModule_AddStringConstant(m, "version", DLMSIM_VERSION) < 0 ||
        PyModule_AddIntConstant(m, "hist_max_bits", DLM_HIST_MAX_BITS) < 0 ||
        PyModule_AddIntConstant(m, "law_table_max", (long)DLM_LAW_TABLE_MAX) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
