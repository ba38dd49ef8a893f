# mk/python.mk — the Python package (python/, docs/python.md), included by the Makefile.
#   make python-test   a virtual environment in build/venv (numpy, pytest, setuptools,
#                      wheel, matplotlib for docs/python.md's example), `pip install .`
#                      into it, then the pytest suite with $(BUILD)/dlmsim as the reference
#   make python-docs   reruns docs/python.md's worked example: rewrites docs/img/python-kl.png
#   make python-flags  what setup.py compiles and links dlmsim._core with (the project's
#                      CFLAGS and LDLIBS), one NAME=value line each
# setup.py builds the library by the Makefile's one PIC build, $(BUILD)/pic/libdlmsim.a
# (mk/install.mk), and links the extension against it.
.PHONY: python-test python-docs python-flags

python-flags:
	@echo "CFLAGS=$(CFLAGS)"
	@echo "LDLIBS=$(LDLIBS)"
	@echo "CUDA=$(CUDA)"

PYTHON ?= python3
VENV = build/venv
PY_PKGS = numpy pytest setuptools wheel matplotlib
PIP = $(VENV)/bin/pip install -q --disable-pip-version-check
$(VENV)/.ready:
	@mkdir -p build
	$(PYTHON) -m venv $(VENV)
	$(PIP) $(PY_PKGS)
	@touch $@

# pytest's exit 5 (no test collected) fails too
python-test: $(BUILD)/dlmsim $(VENV)/.ready
	$(PIP) --no-build-isolation --no-deps .
	@cd python/tests && DLMSIM_BIN=$(abspath $(BUILD)/dlmsim) ../../$(VENV)/bin/python -m pytest -q -p no:cacheprovider .; \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "python-test: pytest collected no test"; exit 1; fi; exit $$rc

python-docs: $(VENV)/.ready
	$(PIP) --no-build-isolation --no-deps .
	$(VENV)/bin/python python/tests/doc_example.py docs/python.md
