"""cputime.py — the CPU time of one child process, shared by the benchmarks that time in
CPU seconds (bench/verilator/bench.py, bench/targets19.py): the machine is shared, and
user + system seconds from wait4 move less with its load than wall time."""
import os
import subprocess
import sys


def cpu_of(cmd, cwd=None):
    """CPU seconds (user + system) of one child process, and its stdout; exits naming the
    command when it fails."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.stdout.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("%s: %s failed" % (os.path.basename(sys.argv[0]), " ".join(cmd)))
    return ru.ru_utime + ru.ru_stime, out.decode()
