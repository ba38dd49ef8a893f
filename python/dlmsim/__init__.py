"""dlmsim: exact, batched sampling of diffusion-language-model decoding programs.

A Python API over the dlmsim C library (the one the `dlmsim` command line uses), numpy
in and out. The same seed gives the same samples and counts as the command line, on
every backend. docs/python.md is the guide; in short:

    import dlmsim
    c = dlmsim.Circuit.generate("parity-revise:64")
    p = c.compile("revise")
    x = p.sample(1000, seed=0)          # uint8, 1000 x 8 (packed as the CLI packs them)
    k = p.counts(10**6)                 # {"ones", "odd", "histogram", ...}
    r = dlmsim.verify(c, mode="revise", chains=10**6)   # r["verdict"] == "PASS"
    law = dlmsim.Law("bsc:10:0.1")
    t = dlmsim.kl(law, ["uniform-first", "optimal"], range(1, 11))

Errors raise ValueError (bad input, a failed check), OSError (files) or MemoryError
(over the memory budget), with the command line's one-line message.
"""
import json
import math
import operator
import os
import warnings

import numpy as np

from . import _core

__version__ = _core.version
__all__ = ["Circuit", "Program", "Law", "verify", "kl", "cuda_devices", "memory_budget",
           "BACKENDS", "MODES", "SCHEDULES"]

MODES = ("cot", "remask", "revise", "ar")
BACKENDS = ("auto", "cpu", "cpu-ref", "cuda", "cuda-ref")
SCHEDULES = ("uniform-first", "uniform-last", "cosine", "loglinear", "binomial",
             "binomial-cosine", "random-sizes", "optimal")
_U64 = 1 << 64


def _max_bytes():
    """The environment variable DLMSIM_MAX_MEMORY (e.g. "512M") as bytes, read on every
    call; 0 (the library's default) when it is unset or not a size. The library reads
    no environment: this is passed to it."""
    b = _core.parse_size(os.environ.get("DLMSIM_MAX_MEMORY", ""))
    return b if b is not None else 0


def memory_budget():
    """The memory budget of one data structure in bytes (half the machine's memory, or
    the environment variable DLMSIM_MAX_MEMORY, e.g. "512M"): arrays this package
    returns are checked against it before they are allocated."""
    return _core.memory_budget(_max_bytes())


def cuda_devices():
    """The number of usable CUDA devices (0 without a device, driver or CUDA build)."""
    return _core.cuda_devices()[0]


# ---------------------------------------------------------------- argument checks

def _count(x, name, lo=1):
    try:
        v = operator.index(x)
    except TypeError:
        raise ValueError("bad %s %r (an integer)" % (name, x)) from None
    if v < lo or v >= _U64:
        raise ValueError("bad %s %d (an integer in %d..2^64-1)" % (name, v, lo))
    return v


def _threads(threads):
    if threads is None:
        return 0
    t = _count(threads, "threads")
    if t > 4096:
        raise ValueError("bad threads %d (at most 4096)" % t)
    return t


def _str(x, name):
    if not isinstance(x, str):
        raise ValueError("bad %s %r (a string)" % (name, x))
    if "\0" in x:
        raise ValueError("bad %s %r (contains a NUL byte)" % (name, x))
    return x


def _alloc(shape, dtype, what):
    """np.zeros after checking the bytes against the memory budget."""
    n = 1
    for s in shape:
        n *= int(s)
    nbytes = n * np.dtype(dtype).itemsize
    budget = memory_budget()
    if nbytes > budget:
        raise MemoryError("%s: %d bytes, over the memory budget of %d bytes (DLMSIM_MAX_MEMORY)"
                          % (what, nbytes, budget))
    return np.zeros(shape, dtype=dtype)


def _notice(msg):
    if msg:
        warnings.warn(msg, RuntimeWarning, stacklevel=3)


# ---------------------------------------------------------------- circuits

class Circuit:
    """A randomized Boolean circuit (inputs are fair coins, outputs are the sample).

    Circuit.load(path) reads an AIGER (.aag, .aig) or BLIF (.blif) file, or a generator
    spec "gen:NAME:ARGS"; Circuit.generate("parity-revise:64") builds a generated one
    (docs/generators.md)."""

    def __init__(self, core, name):
        self._c = core
        self.name = name
        st = core.stats()
        self.coins = st["coins"]
        self.outputs = st["outputs"]
        self.gates = st["gates"]
        self.size = st["size"]
        self.depth = st["depth"]
        self.width = st["width"]

    @classmethod
    def load(cls, path):
        """Reads a circuit file (.aag, .aig, .blif) or a spec "gen:NAME:ARGS"."""
        path = os.fspath(path)
        return cls(_core.circuit_load(_str(path, "circuit"), _max_bytes()), path)

    @classmethod
    def generate(cls, spec):
        """Builds a generated circuit: "parity-revise:64", "adder-prefix:32",
        "random:32,16,1", ... ("gen:" in front is optional)."""
        spec = _str(spec, "spec")
        if not spec.startswith("gen:"):
            spec = "gen:" + spec
        return cls(_core.circuit_load(spec, _max_bytes()), spec)

    def info(self):
        """The dict of `dlmsim info --json` (coins, outputs, gates, depth, width,
        layers, live, and per mode the program's rounds, L, slots, ...)."""
        return json.loads(_core.info_json(self._c, self.name))

    def export(self, path, format=None):
        """Writes the circuit as "aag" (ascii AIGER), "aig" (binary AIGER) or "blif";
        the format defaults to the file's extension."""
        path = os.fspath(path)
        if format is None:
            format = os.path.splitext(path)[1].lstrip(".")
        self._c.export(_str(path, "path"), _str(format, "format"))

    def compile(self, mode="cot"):
        """The DLM decoding program for mode "cot", "remask", "revise" or "ar"."""
        return Program(self._c.compile(_str(mode, "mode")), self)

    def __repr__(self):
        return "Circuit(%r: %d coins, %d outputs, depth %d, width %d)" % (
            self.name, self.coins, self.outputs, self.depth, self.width)


class Program:
    """A circuit compiled for one mode: rounds, L (tokens per chain), slots, ops,
    counter_bits, max_fanin, outputs and coins are attributes."""

    def __init__(self, core, circuit):
        self._p = core
        self.circuit = circuit
        for k, v in core.attrs().items():
            setattr(self, k, v)
        self.sample_bytes = (self.outputs + 7) // 8

    def __repr__(self):
        return "Program(%s: %d rounds, L = %d, %d ops)" % (self.mode, self.rounds, self.L, self.ops)

    def check(self):
        """Runs the program checker (docs/model.md); raises ValueError naming the round
        and position of the first violation."""
        self._p.check()

    def _args(self, chains, seed, first_chain, backend, threads):
        chains = _count(chains, "chains")
        seed = _count(seed, "seed", 0)
        first_chain = _count(first_chain, "first_chain", 0)
        if first_chain + chains > _U64:
            raise ValueError("first_chain + chains is over 2^64")
        return chains, seed, first_chain, _str(backend, "backend"), _threads(threads)

    def sample(self, chains, seed=0, first_chain=0, backend="auto", threads=None, packed=True,
               cuda_kernel="auto"):
        """Samples of chains first_chain .. first_chain+chains-1 under seed.

        packed=True: numpy uint8 of shape (chains, ceil(outputs/8)), bit k of a row
        (byte k // 8, bit k % 8, least significant first) is output k, as the engines
        and the CLI's --samples write them; packed=False: bool (chains, outputs).
        cuda_kernel: the cuda backend's kernel, "auto", "interpreter" or "jit" (as the
        CLI's --cuda-kernel; docs/gpu.md)."""
        chains, seed, first_chain, backend, threads = self._args(chains, seed, first_chain, backend, threads)
        if not packed:
            _alloc((chains, max(self.outputs, 1)), np.bool_, "samples")  # the unpacked size, checked first
        x = _alloc((chains, self.sample_bytes), np.uint8, "samples")
        _, _, notice, _, _ = self._p.run(chains, seed, first_chain, backend, _str(cuda_kernel, "cuda_kernel"),
                                         threads, x, None, None)
        _notice(notice)
        if packed:
            return x
        return np.unpackbits(x, axis=1, count=self.outputs, bitorder="little").view(np.bool_)

    def iter_samples(self, chains, chunk=1 << 20, seed=0, first_chain=0, backend="auto", threads=None,
                     packed=True, cuda_kernel="auto"):
        """The samples of sample() in pieces of at most chunk chains (an iterator of
        arrays, in chain order), for batches larger than memory."""
        chains, seed, first_chain, backend, threads = self._args(chains, seed, first_chain, backend, threads)
        chunk = _count(chunk, "chunk")
        done = 0
        while done < chains:
            n = min(chunk, chains - done)
            yield self.sample(n, seed, first_chain + done, backend, threads or None, packed, cuda_kernel)
            done += n

    def counts(self, chains, seed=0, first_chain=0, backend="auto", threads=None, histogram=None,
               cuda_kernel="auto"):
        """Exact counts of chains first_chain .. first_chain+chains-1 under seed: a dict
        with "ones" (numpy uint64 per output: chains whose output k is 1), "odd"
        (numpy uint64: chains whose outputs XOR to 1), "histogram" (numpy uint64 of
        2^outputs, index bit k = output k; None when not asked for, and by default for
        more than 24 outputs), "chains", "backend" and "cuda_kernel" (the kernel that
        ran, "interpreter" or "jit", with the cuda backend; else None)."""
        chains, seed, first_chain, backend, threads = self._args(chains, seed, first_chain, backend, threads)
        if histogram is None:
            histogram = self.outputs <= _core.hist_max_bits
        ones = np.zeros(self.outputs, dtype=np.uint64)
        hist = None
        if histogram:
            if self.outputs > _core.hist_max_bits:
                raise ValueError("a histogram needs at most %d output bits, the circuit has %d"
                                 % (_core.hist_max_bits, self.outputs))
            hist = _alloc((1 << self.outputs,), np.uint64, "histogram")
        bname, kname, notice, n, odd = self._p.run(chains, seed, first_chain, backend,
                                                   _str(cuda_kernel, "cuda_kernel"), threads, None, ones, hist)
        _notice(notice)
        return {"ones": ones, "odd": np.uint64(odd), "histogram": hist, "chains": n, "backend": bname,
                "cuda_kernel": kname}


# ---------------------------------------------------------------- verification

def verify(circuit, mode="revise", chains=1000000, seed=0, alpha=1e-3, target="auto", backend="auto",
           threads=None, inject_bias=None, cuda_kernel="auto"):
    """Samples a circuit (a Circuit, a file or a "gen:" spec) and checks it against its
    exact target, as `dlmsim verify`: the report of docs/report-format.md as a dict
    ("verdict" is "PASS" or "FAIL"). inject_bias=(K, EPS) makes coin K come up 1 with
    probability 1/2 + EPS (a testing aid: the verdict should be FAIL)."""
    if not isinstance(circuit, Circuit):
        circuit = Circuit.load(circuit)
    chains = _count(chains, "chains")
    seed = _count(seed, "seed", 0)
    alpha = float(alpha)
    if not (0 < alpha < 1):
        raise ValueError("bad alpha %r (a number in (0, 1))" % alpha)
    coin, eps = -1, 0.0
    if inject_bias is not None:
        try:
            coin, eps = inject_bias
        except (TypeError, ValueError):
            raise ValueError("bad inject_bias %r (K, EPS)" % (inject_bias,)) from None
        coin = _count(coin, "inject_bias coin", 0)
        eps = float(eps)
        if coin >= 1 << 32 or not (-0.5 < eps < 0.5):
            raise ValueError("bad inject_bias %r (K, EPS with -1/2 < EPS < 1/2)" % (inject_bias,))
    text = _core.verify(circuit._c, _str(mode, "mode"), chains, seed, alpha, _str(target, "target"),
                        _str(backend, "backend"), _str(cuda_kernel, "cuda_kernel"), _threads(threads), coin, eps,
                        circuit.name)
    return json.loads(text)


# ---------------------------------------------------------------- the oracle pillar

def _policy_options(options):
    out = []
    for k, v in options.items():
        if isinstance(v, bool) or v is None:
            raise ValueError("bad policy option %s=%r" % (k, v))
        out.append(("--" + k.replace("_", "-"), _str(str(v), k)))
    return out


class Law:
    """An exactly known law over token sequences (docs/oracle.md): "parity:N",
    "random:L:V:SEED", "table:FILE", "circuit:CIRCUIT", "markov:FILE", "bsc:L:FLIP",
    "sparse:V:K:L:SEED[:TELE]", "english:L". Attributes: L, V, kind ("table" or "hmm"),
    desc, alphabet, cells (V^L, or None when over 2^24)."""

    def __init__(self, spec):
        spec = os.fspath(spec)
        self.spec = _str(spec, "law")
        self._l = _core.law_load(spec, _max_bytes())
        for k, v in self._l.attrs().items():
            setattr(self, k, v)

    def __repr__(self):
        return "Law(%r: L = %d, V = %d)" % (self.spec, self.L, self.V)

    def table(self):
        """The law's probabilities p, numpy float64 of V^L entries (index sum_i x_i V^i)."""
        if self.cells is None:
            raise ValueError("the table needs V^L <= %d sequences (this law: V=%d, L=%d)"
                             % (_core.law_table_max, self.V, self.L))
        p = _alloc((self.cells,), np.float64, "table")
        self._l.table(p)
        return p

    def sample(self, policy=None, chains=100000, seed=0, first_chain=0, backend="auto", threads=None,
               samples=True, histogram=None, **options):
        """Runs a decoding policy (a preset name such as "llada", "fast-dllm",
        "parity-revise"; None: the defaults) with the exact predictor over chains, as
        `dlmsim sample`; options are the policy's (steps=4, block_length=32,
        threshold=0.9, ...; docs/oracle.md). Returns a dict: "samples" (numpy uint16,
        chains x L tokens; samples=False leaves it out), "histogram" (uint64 of V^L
        sequence counts; by default when V^L <= 2^20), "positions" (uint64 L x V: how
        often position i ended as token v), per round (arrays over rounds 1..rounds_max)
        "round_chains", "revealed", "remasked", "revised", and "rounds_mean",
        "rounds_max", "offsupport", "policy", "inexact", "backend", "chains"."""
        chains = _count(chains, "chains")
        seed = _count(seed, "seed", 0)
        first_chain = _count(first_chain, "first_chain", 0)
        if first_chain + chains > _U64:
            raise ValueError("first_chain + chains is over 2^64")
        if histogram is None:
            histogram = self.cells is not None and self.cells <= 1 << 20
        hist = None
        if histogram:
            if self.cells is None:
                raise ValueError("a histogram needs V^L <= %d sequences (V=%d, L=%d)"
                                 % (_core.law_table_max, self.V, self.L))
            hist = _alloc((self.cells,), np.uint64, "histogram")
        x = _alloc((chains, self.L), np.uint16, "samples") if samples else None
        pos = _alloc((self.L, self.V), np.uint64, "positions")
        r = self._l.sample(None if policy is None else _str(policy, "policy"), _policy_options(options),
                           chains, seed, first_chain, _str(backend, "backend"), _threads(threads), x, hist, pos)
        _notice(r.pop("notice"))
        for k in ("round_chains", "revealed", "remasked", "revised"):
            r[k] = np.array(r[k], dtype=np.uint64)
        r["inexact"] = r["inexact"] or None
        r["positions"] = pos
        r["histogram"] = hist
        if samples:
            r["samples"] = x
        return r

    def exact_law(self, policy=None, max_states=0, info=False, **options):
        """The policy's exact output law q (numpy float64 of V^L entries, index
        sum_i x_i V^i) by enumerating every choice of every round, as `sample --exact`.
        info=True returns (q, dict) with KL(p||q) "kl_forward", KL(q||p) "kl_reverse",
        "tv", "rounds_mean", "states_max", ... ."""
        if self.cells is None:
            raise ValueError("--exact and --verify need V^L <= %d sequences (this law: V=%d, L=%d)"
                             % (_core.law_table_max, self.V, self.L))
        max_states = _count(max_states, "max_states", 0)
        q = _alloc((self.cells,), np.float64, "exact law")
        d = self._l.exact(None if policy is None else _str(policy, "policy"), _policy_options(options),
                          max_states, q)
        return (q, d) if info else q


def kl(law, schedules=None, steps=None, estimate=False, chains=10000, seed=0, threads=None, max_work=4e9):
    """E_M KL(p || q_M) against the number of rounds T, the table of `dlmsim kl`
    (docs/kl.md). law: a Law or a spec; schedules: names among SCHEDULES (None: all);
    steps: T values (an iterable of ints, or a string "1-10", "1,2,4", "all"; None: the
    CLI's default). Returns a dict of numpy arrays, one entry per row: "schedule", "T",
    "smax", "kl", "se", "lo", "hi", "li_cai", "smax_bound", "tc_T", "dtc_T", "kl_qbar",
    "rkl_qbar", "tv_qbar" (NaN where not applicable), "sizes" (a list of arrays, None for
    random sizes), and "exact", "H", "sumI", "TC", "DTC", "g"."""
    if not isinstance(law, Law):
        law = Law(law)
    if isinstance(schedules, str):
        schedules = [schedules]
    if schedules is not None:
        schedules = [_str(s, "schedule") for s in schedules]
    if steps is not None and not isinstance(steps, str):
        steps = sorted(set(_count(t, "step") for t in steps))
        if not steps:
            raise ValueError("kl: no steps")
        if steps[-1] >= 1 << 32:
            raise ValueError("bad step %d (T in 1..%d)" % (steps[-1], law.L))
        steps = ",".join(str(t) for t in steps)
    elif steps is not None:
        steps = _str(steps, "steps")
    chains = _count(chains, "chains", 2)
    if chains > 1 << 40:
        raise ValueError("bad chains %d (an integer >= 2, at most 2^40)" % chains)
    max_work = float(max_work)
    if not (max_work > 0) or math.isinf(max_work):
        raise ValueError("bad max_work %r" % max_work)
    t = _core.kl(law._l, schedules, steps, bool(estimate), chains, _count(seed, "seed", 0),
                 _threads(threads), max_work)
    if t["optimal_skipped"]:
        warnings.warn("kl: the optimal schedule needs g (an exact law); skipped", RuntimeWarning, stacklevel=2)
    rows = t.pop("rows")
    out = {"schedule": np.array([r["schedule"] for r in rows]), "T": np.array([r["T"] for r in rows], dtype=np.uint32)}
    for k in ("smax", "kl", "se", "lo", "hi", "li_cai", "smax_bound", "tc_T", "dtc_T", "kl_qbar", "rkl_qbar",
              "tv_qbar"):
        out[k] = np.array([r[k] for r in rows], dtype=np.float64)
    out["sizes"] = [None if r["sizes"] is None else np.array(r["sizes"], dtype=np.uint32) for r in rows]
    out["g"] = None if t["g"] is None else np.array(t["g"])
    for k in ("exact", "H", "sumI", "TC", "DTC"):
        out[k] = t[k]
    return out
