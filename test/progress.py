#!/usr/bin/env python3
"""Progress on stderr (docs/batches.md, "Progress"): each long phase of sample, verify
LAW, kl and info draws a bar on stderr only when stderr is a terminal (here a pseudo
terminal from pty) and not --quiet, clears its line when the phase ends, and never
changes stdout or an output file. DLMSIM_PROGRESS_AFTER=0 draws a phase at once, so
that small commands of well under a second show it; one check keeps the default (1 s).
Ends with "N passed, N failed, N skipped" (test/run.sh)."""
import os
import pty
import re
import select
import subprocess
import sys
import tempfile

BUILD = os.environ.get("BUILD", "build")
DLMSIM = os.path.join(BUILD, "dlmsim")
passed = failed = skipped = 0


def run(args, tty, after="0"):
    """(rc, stdout, stderr) of dlmsim args; stderr a pseudo terminal when tty."""
    env = dict(os.environ)
    env.pop("DLMSIM_PROGRESS_AFTER", None)
    if after is not None:
        env["DLMSIM_PROGRESS_AFTER"] = after
    if not tty:
        p = subprocess.run([DLMSIM] + args, capture_output=True, env=env, timeout=300)
        return p.returncode, p.stdout, p.stderr
    master, slave = pty.openpty()
    p = subprocess.Popen([DLMSIM] + args, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    out, err = [], []
    fds = {p.stdout.fileno(): out, master: err}
    while fds:
        for fd in select.select(list(fds), [], [], 300)[0]:
            try:
                b = os.read(fd, 65536)
            except OSError:  # the pty's EIO once the child has closed it
                b = b""
            if b:
                fds[fd].append(b)
            else:
                del fds[fd]
    p.wait(timeout=300)
    os.close(master)
    return p.returncode, b"".join(out), b"".join(err).replace(b"\r\n", b"\n")


def timeless(out):
    """stdout with its timings (which differ from run to run) masked."""
    out = re.sub(rb"[0-9.]+(e[-+]?[0-9]+)? s, [0-9.]+(e[-+]?[0-9]+)? chains/s", b"T s, R chains/s", out)
    out = re.sub(rb"(?m)^(time|samples/s) .*$", rb"\1 T", out)
    return re.sub(rb'"(seconds[a-z_]*|chains_per_s|samples_per_s)":[-0-9.e+]+', rb'"\1":T', out)


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok   %s" % name)
    else:
        failed += 1
        print("FAIL %s %s" % (name, detail))


def case(name, args, phases, files=()):
    """args drawn with progress on a pseudo terminal (each of phases, e.g. b"sampling ["),
    silent without one and with --quiet; stdout and the files byte-identical."""
    runs = {}
    for mode in ("tty", "pipe", "quiet"):
        for f in files:
            if os.path.exists(f):
                os.unlink(f)
        a = args + (["--quiet"] if mode == "quiet" else [])
        rc, out, err = run(a, mode != "pipe")
        runs[mode] = (rc, out, err, [open(f, "rb").read() if os.path.exists(f) else None for f in files])
    rc, out, err, got = runs["tty"]
    check(name + ": exit 0", rc == 0, "rc %d, stderr %r" % (rc, err[-300:]))
    for ph in phases:
        check(name + ": %s drawn on a terminal" % ph.decode(), ph in err, repr(err[-300:]))
    # every phase's line is cleared at its end: after its last bar, "\r\033[K"
    for ph in phases:
        last = err.rfind(ph)
        check(name + ": %s line cleared" % ph.decode(), last < 0 or b"\r\033[K" in err[last:], repr(err[-200:]))
    for mode in ("pipe", "quiet"):
        r2, o2, e2, g2 = runs[mode]
        check(name + ": no progress (%s)" % mode, b"\r" not in e2 and b"] " not in e2 and r2 == rc, repr(e2[-300:]))
        check(name + ": stdout the same (%s)" % mode, timeless(o2) == timeless(out), repr((o2[:300], out[:300])))
        check(name + ": files the same (%s)" % mode, g2 == got)


def main():
    global skipped
    if not os.access(DLMSIM, os.X_OK):
        print("%s not built" % DLMSIM)
        print("0 passed, 0 failed, 1 skipped")
        return 1
    tmp = tempfile.mkdtemp(prefix="dlm_progress_")
    hist = os.path.join(tmp, "h.txt")
    case("sample", ["sample", "english:64", "--policy", "fast-dllm", "--block-length", "32", "--chains", "300",
                    "--backend", "cpu"], [b"sampling ["])
    case("sample --exact --hist", ["sample", "parity:6", "--policy", "parity-revise", "--chains", "100000",
                                   "--backend", "cpu", "--exact", "--hist", hist], [b"sampling [", b"exact law ["],
         [hist])
    case("verify LAW", ["verify", "parity:6", "--policy", "parity-revise", "--chains", "20000", "--backend", "cpu"],
         [b"exact law ["])
    case("verify LAW --json", ["verify", "parity:6", "--policy", "parity-revise", "--chains", "20000", "--backend",
                               "cpu", "--json"], [b"exact law ["])
    case("verify CIRCUIT (enumerated target)", ["verify", "gen:random:24,2,1", "--chains", "1000", "--backend",
                                               "cpu"], [b"target ["])
    case("run (compile)", ["run", "gen:mult:64", "--mode", "revise", "--chains", "1000", "--backend", "cpu"],
         [b"compile ["])
    case("verify CIRCUIT (compile)", ["verify", "gen:mult:64", "--chains", "1000", "--backend", "cpu"],
         [b"compile ["])
    csv = os.path.join(tmp, "kl.csv")
    case("kl path-KL", ["kl", "bsc:256:0.1", "--schedules", "uniform-first,cosine", "--steps", "1,16",
                        "--chains", "20000", "--csv", csv], [b"kl ["], [csv])
    case("kl exact", ["kl", "parity:7"], [b"kl ["])
    case("info", ["info", "gen:random:256,256,1"], [b"load [", b"levelize [", b"info: "])
    case("info --json", ["info", "gen:random:256,256,1", "--json"], [b"info: "])
    # the default threshold (1 s): a command of a fraction of a second draws nothing
    rc, out, err = run(["sample", "parity:6", "--chains", "1000", "--backend", "cpu"], True, after=None)
    check("under a second: nothing drawn", rc == 0 and b"[" not in err, repr(err))
    rc, out, err = run(["info", "gen:maj:3"], True, after="abc")
    check("DLMSIM_PROGRESS_AFTER=abc: one line, exit 2", rc == 2 and err.count(b"\n") == 1
          and b"DLMSIM_PROGRESS_AFTER" in err and out == b"", repr(err))
    for cmd in ("sample", "kl", "info"):
        rc, out, err = run([cmd, "--help"], False)
        check(cmd + " --help shows --quiet", rc == 0 and b"--quiet" in out)
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
