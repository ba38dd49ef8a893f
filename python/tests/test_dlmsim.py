"""Tests of the Python API (python/dlmsim): the same samples, counts and reports as the
command line for the same seed on every backend, and bad input raising, never crashing.
The CLI is DLMSIM_BIN (the Makefile sets it), else build/dlmsim of this checkout."""
import json
import math
import os
import re
import signal
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import dlmsim

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("DLMSIM_BIN", os.path.join(ROOT, "build", "dlmsim"))
HAVE_CUDA = dlmsim.cuda_devices() > 0


def cli(*args, check=True):
    r = subprocess.run([BIN] + [str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, stdin=subprocess.DEVNULL)
    if check and r.returncode not in (0, 1):
        raise AssertionError("dlmsim %s: exit %d: %s" % (" ".join(map(str, args)), r.returncode, r.stderr))
    return r


def backend_param(names):
    """cuda backends are skipped (never passed) without a device."""
    out = []
    for b in names:
        marks = [pytest.mark.skipif(not HAVE_CUDA, reason="no CUDA device")] if b.startswith("cuda") else []
        out.append(pytest.param(b, marks=marks))
    return out


BACKENDS = backend_param(["cpu", "cpu-ref", "cuda", "cuda-ref"])
CASES = [("gen:parity-revise:16", "revise"), ("gen:adder-prefix:6", "remask"), ("gen:random:12,6,3", "cot"),
         ("gen:mult:3", "ar"), (os.path.join(ROOT, "circuits", "full_adder.aag"), "revise"),
         (os.path.join(ROOT, "circuits", "maj3.blif"), "remask")]
CASES = [c for c in CASES if c[0].startswith("gen:") or os.path.exists(c[0])]


def bits_of_lines(text, nout):
    rows = [ln for ln in text.splitlines() if ln]
    a = np.array([[ch == "1" for ch in ln] for ln in rows], dtype=bool)
    return a.reshape(len(rows), nout)


# ---------------------------------------------------------------- circuits and programs

@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("spec,mode", CASES)
def test_samples_equal_cli(tmp_path, spec, mode, backend):
    chains, seed = 777, 12345
    f = tmp_path / "s.txt"
    cli("run", spec, "--mode", mode, "--chains", chains, "--seed", seed, "--backend", backend, "--samples", f,
        "--quiet")
    c = dlmsim.Circuit.load(spec)
    p = c.compile(mode)
    ref = bits_of_lines(f.read_text(), c.outputs)
    x = p.sample(chains, seed=seed, backend=backend, packed=False)
    assert x.dtype == np.bool_ and x.shape == (chains, c.outputs)
    assert np.array_equal(x, ref)
    packed = p.sample(chains, seed=seed, backend=backend)
    assert packed.dtype == np.uint8 and packed.shape == (chains, (c.outputs + 7) // 8)
    assert np.array_equal(np.unpackbits(packed, axis=1, count=c.outputs, bitorder="little").astype(bool), ref)
    # any chain range is the same chains: first_chain and the chunk iterator
    assert np.array_equal(p.sample(100, seed=seed, first_chain=333, backend=backend), packed[333:433])
    parts = list(p.iter_samples(chains, chunk=200, seed=seed, backend=backend))
    assert [len(q) for q in parts] == [200, 200, 200, 177]
    assert np.array_equal(np.concatenate(parts), packed)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("spec,mode", CASES)
def test_counts_equal_cli(tmp_path, spec, mode, backend):
    chains, seed = 100003, 7
    h = tmp_path / "h.txt"
    r = cli("run", spec, "--mode", mode, "--chains", chains, "--seed", seed, "--backend", backend, "--hist", h,
            "--json", "--quiet")
    js = json.loads(r.stdout)
    c = dlmsim.Circuit.load(spec)
    k = c.compile(mode).counts(chains, seed=seed, backend=backend)
    assert k["chains"] == chains and k["backend"] == backend
    assert k["odd"].dtype == np.uint64 and int(k["odd"]) == js["odd_parity"]
    hist = np.zeros(1 << c.outputs, dtype=np.uint64)
    for line in h.read_text().splitlines():
        b, n = line.split("\t")
        hist[sum(1 << i for i, ch in enumerate(b) if ch == "1")] = int(n)
    assert k["histogram"].dtype == np.uint64 and np.array_equal(k["histogram"], hist)
    assert k["ones"].dtype == np.uint64 and k["ones"].shape == (c.outputs,)
    idx = np.arange(1 << c.outputs)
    for i in range(c.outputs):  # ones agree with the CLI's histogram
        assert int(k["ones"][i]) == int(hist[(idx >> i) & 1 == 1].sum())


def test_counts_without_histogram_and_chunked():
    p = dlmsim.Circuit.generate("parity-revise:40").compile("revise")
    k = p.counts(300000, seed=3, backend="cpu")
    assert k["histogram"] is None  # more than 24 outputs
    assert int(k["odd"]) == 0
    a = p.counts(100000, seed=3, backend="cpu")
    b = p.counts(200000, seed=3, first_chain=100000, backend="cpu")
    assert np.array_equal(a["ones"] + b["ones"], k["ones"])


def test_program_attributes_and_info():
    spec = "gen:adder-prefix:8"
    c = dlmsim.Circuit.generate("adder-prefix:8")
    info = c.info()
    assert info == json.loads(cli("info", spec, "--json").stdout)
    for mode in dlmsim.MODES:
        p = c.compile(mode)
        m = info["modes"][mode]
        assert (p.rounds, p.L, p.slots, p.ops, p.counter_bits, p.max_fanin) == (
            m["rounds"], m["L"], m["slots"], m["ops"], m["counter_bits"], m["max_fanin"])
        p.check()
    assert (c.coins, c.outputs, c.depth, c.width, c.size) == (
        info["coins"], info["outputs"], info["depth"], info["width"], info["size"])


@pytest.mark.parametrize("fmt", ["aag", "aig", "blif"])
def test_export_equals_cli(tmp_path, fmt):
    spec = "gen:adder-ripple:4"
    cli("export", spec, "--format", fmt, "-o", tmp_path / ("cli." + fmt))
    dlmsim.Circuit.load(spec).export(tmp_path / ("py." + fmt), fmt)
    assert (tmp_path / ("py." + fmt)).read_bytes() == (tmp_path / ("cli." + fmt)).read_bytes()
    back = dlmsim.Circuit.load(tmp_path / ("py." + fmt))
    assert back.outputs == 5 and back.coins == 8


def strip_seconds(report):
    report = dict(report)
    report.pop("seconds")
    return report


@pytest.mark.parametrize("spec,mode,extra", [
    ("gen:parity-revise:12", "revise", {}),
    ("gen:adder-prefix:4", "remask", {"target": "exact"}),
    ("gen:random:40,4,2", "cot", {}),  # 40 coins: a reference target
    ("gen:parity-tree:10", "cot", {"inject_bias": (0, 0.05)}),
])
def test_verify_equals_cli(spec, mode, extra):
    args = ["verify", spec, "--mode", mode, "--chains", 50000, "--seed", 9, "--backend", "cpu", "--json", "--quiet"]
    if "target" in extra:
        args += ["--target", extra["target"]]
    if "inject_bias" in extra:
        args += ["--inject-bias", "%d:%g" % extra["inject_bias"]]
    ref = json.loads(cli(*args).stdout)
    r = dlmsim.verify(spec, mode=mode, chains=50000, seed=9, backend="cpu", **extra)
    assert strip_seconds(r) == strip_seconds(ref)
    assert r["verdict"] == ("FAIL" if "inject_bias" in extra else "PASS")


# ---------------------------------------------------------------- the oracle pillar

def law_hist_from_file(text, law):
    hist = np.zeros(law.cells, dtype=np.uint64)
    for line in text.splitlines():
        seq, n = line.split("\t")
        idx = sum(int(ch) * law.V ** i for i, ch in enumerate(seq))
        hist[idx] = int(n)
    return hist


@pytest.mark.parametrize("backend", backend_param(["cpu", "cuda"]))
@pytest.mark.parametrize("spec,policy,opts", [
    ("parity:6", "llada", {"steps": 3}),
    ("bsc:8:0.1", "fast-dllm", {}),
    ("random:4:3:5", "maskgit-plus", {"steps": 2}),
    ("parity:5", "remdm-cap", {"steps": 8}),
])
def test_law_sample_equals_cli(tmp_path, spec, policy, opts, backend):
    h = tmp_path / "h.txt"
    args = ["sample", spec, "--policy", policy, "--chains", 20000, "--seed", 4, "--backend", backend, "--hist", h,
            "--json"]
    for k, v in opts.items():
        args += ["--" + k.replace("_", "-"), v]
    js = json.loads(cli(*args).stdout)
    law = dlmsim.Law(spec)
    r = law.sample(policy, chains=20000, seed=4, backend=backend, **opts)
    assert np.array_equal(r["histogram"], law_hist_from_file(h.read_text(), law))
    assert r["policy"] == js["policy"] and r["rounds_max"] == js["rounds_max"]
    assert r["rounds_mean"] == js["rounds_mean"] and r["offsupport"] == js["offsupport"]
    per = js["per_round"]
    assert list(r["round_chains"]) == [q["chains"] for q in per]
    assert list(r["revealed"]) == [q["revealed"] for q in per]
    assert list(r["remasked"]) == [q["remasked"] for q in per]
    assert list(r["revised"]) == [q["revised"] for q in per]
    x = r["samples"]
    assert x.dtype == np.uint16 and x.shape == (20000, law.L)
    idx = (x.astype(np.int64) * (law.V ** np.arange(law.L))).sum(axis=1)
    assert np.array_equal(np.bincount(idx, minlength=law.cells).astype(np.uint64), r["histogram"])
    part = law.sample(policy, chains=500, seed=4, first_chain=1000, backend=backend, **opts)
    assert np.array_equal(part["samples"], x[1000:1500])


def test_exact_law_equals_cli():
    js = json.loads(cli("sample", "parity:5", "--policy", "llada", "--steps", 2, "--exact", "--json", "--chains",
                        10, "--backend", "cpu").stdout)["exact"]
    law = dlmsim.Law("parity:5")
    q, d = law.exact_law("llada", steps=2, info=True)
    assert q.dtype == np.float64 and q.shape == (32,) and abs(q.sum() - 1) < 1e-12
    for k in ("kl_forward", "tv", "rounds_mean", "offsupport", "states_max", "branches"):
        assert d[k] == js[k]
    assert js["kl_reverse"] is None and math.isinf(d["kl_reverse"])
    p = law.table()
    assert np.array_equal(p[p > 0], np.full(16, 1 / 16))


def same_number(a, b):
    """b from the CLI's JSON, where null stands for any non-finite number."""
    return not math.isfinite(a) if b is None else a == b


@pytest.mark.parametrize("spec,args", [
    ("bsc:7:0.1", []),  # every schedule, T = 1..7, the q-bar columns (L <= 12)
    ("parity:5", ["--schedules", "uniform-last,optimal,binomial", "--steps", "1-3,5"]),
    ("sparse:4:2:40:1", ["--chains", 300, "--seed", 2, "--steps", "1,4,40", "--schedules", "cosine,random-sizes"]),
])
def test_kl_equals_cli(spec, args):
    js = json.loads(cli("kl", spec, "--json", *args).stdout)
    kw = {}
    for i in range(0, len(args), 2):
        kw[args[i][2:]] = args[i + 1]
    if "schedules" in kw:
        kw["schedules"] = kw["schedules"].split(",")
    t = dlmsim.kl(spec, **kw)
    assert t["exact"] == (js["method"] == "exact")
    assert len(t["kl"]) == len(js["rows"])
    for i, row in enumerate(js["rows"]):
        assert t["schedule"][i] == row["schedule"] and t["T"][i] == row["T"]
        if row["sizes"] is None:
            assert t["sizes"][i] is None
        else:
            assert list(t["sizes"][i]) == row["sizes"]
        for k in ("smax", "kl", "se", "lo", "hi", "li_cai", "smax_bound", "tc_T", "dtc_T", "kl_qbar", "rkl_qbar",
                  "tv_qbar"):
            assert same_number(t[k][i], row[k]), (k, i, t[k][i], row[k])
    for k in ("H", "sumI", "TC", "DTC"):
        assert same_number(t[k], js[k])
    if t["exact"]:
        assert list(t["g"]) == js["g"]


def test_kl_steps_forms_agree():
    a = dlmsim.kl("bsc:6:0.2", ["cosine"], [3, 1, 2, 2])
    b = dlmsim.kl("bsc:6:0.2", ["cosine"], "1-3")
    assert np.array_equal(a["kl"], b["kl"]) and list(a["T"]) == [1, 2, 3]


# ---------------------------------------------------------------- bad input

BAD = [
    (lambda: dlmsim.Circuit.generate("bogus:3"), ValueError, "unknown generator"),
    (lambda: dlmsim.Circuit.generate("parity-revise:x"), ValueError, "parity-revise"),
    (lambda: dlmsim.Circuit.load("/nonexistent/c.aag"), OSError, "No such file"),
    (lambda: dlmsim.Circuit.load("/dev/zero"), ValueError, "unknown circuit format"),
    (lambda: dlmsim.Circuit.load(7), TypeError, ""),
    (lambda: dlmsim.Circuit.generate("parity-revise:8").compile("fast"), ValueError, "unknown mode"),
    (lambda: dlmsim.Circuit.generate("parity-revise:8").compile().sample(0), ValueError, "chains"),
    (lambda: dlmsim.Circuit.generate("parity-revise:8").compile().sample(-5), ValueError, "chains"),
    (lambda: dlmsim.Circuit.generate("parity-revise:8").compile().sample(2 ** 64), ValueError, "chains"),
    (lambda: dlmsim.Circuit.generate("parity-revise:8").compile().sample(10 ** 15), MemoryError, "memory budget"),
    (lambda: dlmsim.Circuit.generate("parity-revise:8").compile().sample(10, seed=-1), ValueError, "seed"),
    (lambda: dlmsim.Circuit.generate("parity-revise:8").compile().sample(10, first_chain=2 ** 64 - 5), ValueError,
     "2^64"),
    (lambda: dlmsim.Circuit.generate("parity-revise:8").compile().sample(10, backend="gpu"), ValueError,
     "unknown backend"),
    (lambda: dlmsim.Circuit.generate("parity-revise:8").compile().sample(10, threads=10 ** 6), ValueError, "threads"),
    (lambda: dlmsim.Circuit.generate("parity-revise:30").compile().counts(10, histogram=True), ValueError,
     "histogram"),
    (lambda: dlmsim.Circuit.generate("parity-revise:8").export("/nonexistent/x.aag"), OSError, "nonexistent"),
    (lambda: dlmsim.Circuit.generate("parity-revise:8").export("/tmp/x.txt"), ValueError, "unknown format"),
    (lambda: dlmsim.verify("gen:parity-revise:8", mode="nope"), ValueError, "unknown mode"),
    (lambda: dlmsim.verify("gen:parity-revise:8", alpha=2), ValueError, "alpha"),
    (lambda: dlmsim.verify("gen:parity-revise:8", target="x"), ValueError, "unknown target"),
    (lambda: dlmsim.verify("gen:parity-revise:8", inject_bias=(99, 0.1), chains=100), ValueError, "99"),
    (lambda: dlmsim.Law("bogus:3"), ValueError, "unknown law"),
    (lambda: dlmsim.Law("parity:0"), ValueError, "parity"),
    (lambda: dlmsim.Law("table:/nonexistent"), ValueError, "nonexistent"),
    (lambda: dlmsim.Law("parity:4").sample("no-such-policy", chains=10), ValueError, "no-such-policy"),
    (lambda: dlmsim.Law("parity:4").sample("llada", chains=10, steps=0.5), ValueError, "steps"),
    (lambda: dlmsim.Law("parity:4").sample("llada", chains=10, no_such_option=1), ValueError, "no-such-option"),
    (lambda: dlmsim.Law("parity:4").sample("llada", chains=10, backend="cpu-ref"), ValueError, "backend"),
    (lambda: dlmsim.Law("parity:4").sample("llada", chains=10 ** 15), MemoryError, "memory budget"),
    (lambda: dlmsim.Law("english:200").exact_law("llada"), ValueError, "V^L"),
    (lambda: dlmsim.kl("bsc:6:0.1", ["nope"]), ValueError, "unknown schedule"),
    (lambda: dlmsim.kl("bsc:6:0.1", steps=[7]), ValueError, "steps"),
    (lambda: dlmsim.kl("bsc:6:0.1", steps="x"), ValueError, "steps"),
]


@pytest.mark.parametrize("call,exc,words", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_input_raises(call, exc, words):
    with pytest.raises(exc) as e:
        call()
    assert words in str(e.value)
    if exc is not TypeError:
        assert "\n" not in str(e.value)  # one line, as the CLI's


def test_devices_refused_and_reads_bounded(monkeypatch, tmp_path):
    """A device (a link to /dev/zero) is refused, never read; a file larger than the
    memory budget is refused before it is read (the CLI's messages, host/base/file.c)."""
    monkeypatch.setenv("DLMSIM_MAX_MEMORY", "64M")
    link = tmp_path / "zero.aag"
    link.symlink_to("/dev/zero")
    for call in (lambda: dlmsim.Circuit.load(link), lambda: dlmsim.Law("table:%s" % link)):
        with pytest.raises(ValueError, match="a character device, not a file"):
            call()
    big = tmp_path / "big.aag"
    with open(big, "wb") as f:
        f.truncate(200 << 20)  # sparse: no disk used
    for call in (lambda: dlmsim.Circuit.load(big), lambda: dlmsim.Law("table:%s" % big)):
        with pytest.raises(ValueError, match="over the memory budget of 67108864 bytes"):
            call()
    assert cli("info", big, check=False).stderr.endswith("over the memory budget of 67108864 bytes (--max-memory)\n")


def test_program_check_failure_is_an_error():
    # the checker is run on a valid program here; a failure raises ValueError (test_check.c
    # covers the checker's own verdicts); what matters is that check() returns None
    assert dlmsim.Circuit.generate("maj:5").compile("remask").check() is None


def test_bad_input_never_crashes_the_interpreter(tmp_path):
    """Every bad call above in a fresh interpreter: it must end normally."""
    script = tmp_path / "bad.py"
    script.write_text(textwrap.dedent("""
        import sys
        sys.path.insert(0, %r)
        import test_dlmsim as t
        n = 0
        for call, exc, words in t.BAD:
            try:
                call()
            except exc:
                n += 1
        print("raised", n)
    """ % os.path.dirname(os.path.abspath(__file__))))
    r = subprocess.run([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "raised %d" % len(BAD)


# ---------------------------------------------------------------- Ctrl-C

@pytest.mark.parametrize("what", ["counts", "sample", "law"])
def test_ctrl_c_interrupts_sampling(what):
    """SIGINT during a long run: KeyboardInterrupt in the interpreter, a clean exit."""
    calls = {
        "counts": "dlmsim.Circuit.generate('parity-revise:64').compile('revise').counts(10**15, backend='cpu')",
        "sample": "dlmsim.Circuit.generate('random:64,64,1').compile('cot').iter_samples(10**12, chunk=10**6)",
        "law": "dlmsim.Law('bsc:200:0.1').sample('llada', chains=10**12, samples=False, backend='cpu')",
    }
    code = textwrap.dedent("""
        import sys, dlmsim
        print("started", flush=True)
        try:
            r = %s
            for _ in r if not isinstance(r, dict) else ():
                pass
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(3)
        sys.exit(0)
    """ % calls[what])
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "started"
    # let it get into the C library, then interrupt (the sampling would run for hours)
    try:
        proc.wait(timeout=1.5)
    except subprocess.TimeoutExpired:
        pass
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)  # a hang guard, not a time assertion
    assert proc.returncode == 3, err
    assert "interrupted" in out


# ---------------------------------------------------------------- docs/python.md

def test_docs_example_runs_and_matches(tmp_path):
    """The worked example of docs/python.md, run as written: its printed table is the one
    in the document, and it writes the PNG (docs/img/python-kl.png in the repository is
    made by `make python-docs`, which runs the same code)."""
    import matplotlib  # noqa: F401 (make python-test installs it: the example must run, never skip)
    import doc_example
    code, shown = doc_example.extract(os.path.join(ROOT, "docs", "python.md"))
    (tmp_path / "docs" / "img").mkdir(parents=True)
    (tmp_path / "example.py").write_text(code)
    r = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.stdout == shown
    png = (tmp_path / "docs" / "img" / "python-kl.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_docs_synopses_run(tmp_path, monkeypatch):
    """Every other Python block of docs/python.md runs as written, in order, with the
    placeholders `chains` and `circuit` given values, from a folder with circuits/; the
    `>>>` examples of its Errors section raise what they show."""
    import doc_example
    doc = os.path.join(ROOT, "docs", "python.md")
    (tmp_path / "circuits").symlink_to(os.path.join(ROOT, "circuits"))
    monkeypatch.chdir(tmp_path)
    ns = {"dlmsim": dlmsim, "chains": 1000, "circuit": "gen:parity-revise:8"}
    blocks = doc_example.synopses(doc)
    assert len(blocks) >= 6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # backend="auto" without a GPU
        for line, code in blocks:
            exec(compile(code, "docs/python.md:%d" % line, "exec"), ns)
    assert ns["x"].shape == (1000, (ns["c"].outputs + 7) // 8) and ns["k"]["chains"] == 1000 and (tmp_path / "p64.aig").exists()
    assert ns["t"]["exact"] and ns["d"]["kl_forward"] >= 0
    errs = doc_example.errors(doc)
    assert errs
    import builtins
    for expr, name, msg in errs:
        with pytest.raises(getattr(builtins, name)) as e:
            eval(expr, ns)
        # "..." in the page stands for any text
        assert re.fullmatch(".*".join(map(re.escape, msg.split("..."))), str(e.value)), (msg, str(e.value))


# ---------------------------------------------------------------- the cuda kernel

def test_cuda_kernel_checked():
    """cuda_kernel is one of auto, interpreter, jit, and names a kernel of the cuda
    backend only (as the CLI's --cuda-kernel)."""
    p = dlmsim.Circuit.load("gen:parity-revise:16").compile("revise")
    with pytest.raises(ValueError, match="unknown cuda_kernel"):
        p.counts(100, backend="cpu", cuda_kernel="fast")
    with pytest.raises(ValueError, match="is for backend cuda"):
        p.sample(100, backend="cpu", cuda_kernel="jit")
    with pytest.raises(ValueError, match="unknown cuda_kernel"):
        dlmsim.verify("gen:parity-revise:16", chains=100, backend="cpu", cuda_kernel="x")
    k = p.counts(100, backend="cpu")
    assert k["cuda_kernel"] is None and k["backend"] == "cpu"


@pytest.mark.skipif(not HAVE_CUDA, reason="no CUDA device")
@pytest.mark.parametrize("kernel", ["interpreter", "jit"])
@pytest.mark.parametrize("spec,mode", CASES)
def test_cuda_kernels_equal_cpu(spec, mode, kernel):
    p = dlmsim.Circuit.load(spec).compile(mode)
    cpu = p.sample(5003, seed=9, first_chain=77, backend="cpu")
    assert np.array_equal(p.sample(5003, seed=9, first_chain=77, backend="cuda", cuda_kernel=kernel), cpu)
    k = p.counts(5003, seed=9, first_chain=77, backend="cuda", cuda_kernel=kernel)
    assert k["cuda_kernel"] == kernel
    assert np.array_equal(k["ones"], p.counts(5003, seed=9, first_chain=77, backend="cpu")["ones"])
