"""Builds dlmsim's extension module dlmsim._core (python/dlmsim/_core.c, the CPython C API)
against the project's own C library. `make build/pic/libdlmsim.a` is the Makefile's one
position-independent build (mk/install.mk: a sub-make with BUILD=build/pic PIC=1, so the
project's CFLAGS apply, and the CUDA kernels when nvcc is found, as the Makefile decides);
`make python-flags` (mk/python.mk) says what to compile and link the extension with.
Everything else is in pyproject.toml; docs/python.md has the guide."""
import os
import shlex
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
PIC_LIB = os.path.join(ROOT, "build", "pic", "libdlmsim.a")


def make(*args, capture=False):
    # BUILD and SAN fixed: a `make BUILD=... SAN=1 ...` above pip passes its variables
    # down through MAKEFLAGS, and the extension wants the plain library in build/pic
    cmd = ["make", "--no-print-directory", "-C", ROOT, "BUILD=build", "SAN=0"] + list(args)
    if capture:
        return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    subprocess.run(cmd, check=True)


class BuildWithLibrary(build_ext):
    """Builds the C library first, then the extension with the library's flags."""

    def run(self):
        jobs = os.environ.get("DLMSIM_JOBS", str(min(os.cpu_count() or 1, 8)))
        make("-j" + jobs, "build/pic/libdlmsim.a")
        flags = {}
        for line in make("python-flags", capture=True).splitlines():
            if "=" in line and line.split("=", 1)[0] in ("CFLAGS", "LDLIBS", "CUDA"):
                k, v = line.split("=", 1)
                flags[k] = v
        cflags = [f for f in shlex.split(flags["CFLAGS"]) if f not in ("-MMD", "-MP")]
        cflags = [f if not f.startswith("-I") or os.path.isabs(f[2:]) else "-I" + os.path.join(ROOT, f[2:])
                  for f in cflags]
        for ext in self.extensions:
            ext.extra_compile_args = cflags
            ext.extra_objects = [PIC_LIB]
            ext.extra_link_args = shlex.split(flags["LDLIBS"])
        super().run()


os.makedirs(os.path.join(ROOT, "build", "python"), exist_ok=True)  # egg_base must exist on a fresh clone

setup(
    ext_modules=[Extension("dlmsim._core", sources=["python/dlmsim/_core.c"])],
    cmdclass={"build_ext": BuildWithLibrary},
    options={"build": {"build_base": "build/python"}, "egg_info": {"egg_base": "build/python"}},
)
