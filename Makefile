# dlmsim — build, test, demo, bench.
#   make            build/libdlmsim.a and build/dlmsim (CUDA backend when nvcc is found)
#   make CUDA=0     CPU-only build
#   make test       build and run every test (closing line: N passed, N failed, N skipped)
#   make asan       the tests under AddressSanitizer and UBSan (CPU-only build)
#   make check      make test, make python-test, then make asan: what CI runs
#   make demo       the main job on its default input
#   make bench      benchmarks (see bench/README.md)
#   make install PREFIX=/usr/local [DESTDIR=]  binary, libraries, headers, dlmsim.pc, man page
#   make doctest    the commands README.md and docs/*.md show (docs/doctest.md); doctest-slow: all
#   make python-test the Python package (mk/python.mk, docs/python.md) and its tests
# Missing Debian packages are installed with apt-get on first build.

.DEFAULT_GOAL := all
BUILD ?= build
SAN ?= 0
NVCC ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
CUDA ?= $(if $(NVCC),1,0)
CUDA_HOME ?= $(patsubst %/bin/nvcc,%,$(NVCC))
# sm_90 = H100/H200; compute_90 PTX for newer parts. Override with CUDA_ARCH=...
CUDA_ARCH ?= -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90

CC ?= gcc
CFLAGS ?= -O2
CFLAGS += -std=c11 -Wall -Wextra -Werror -Wundef -ffp-contract=off -MMD -MP -fopenmp \
          -D_DEFAULT_SOURCE -Iinclude -DDLM_HAVE_CUDA=$(CUDA)
LDLIBS = -lgsl -lgslcblas -lm -fopenmp
ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -g
LDFLAGS += -fsanitize=address,undefined
endif
NVCCFLAGS = -std=c++17 -O3 --fmad=false $(CUDA_ARCH) -Iinclude -DDLM_HAVE_CUDA=1 \
            -Xcompiler -Wall,-Wextra,-Werror
TEST_CFLAGS =
# cuRAND: only test/test_philox.c uses it (the cuRAND-vs-Random123 known-answer test).
CURAND ?= $(if $(filter 1,$(CUDA)),$(if $(wildcard $(CUDA_HOME)/lib64/libcurand.so),1,0),0)
ifeq ($(CUDA),1)
LDLIBS += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcudart -lnvrtc -lstdc++
TEST_CFLAGS += -isystem $(CUDA_HOME)/include
endif
TEST_CFLAGS += -DDLM_HAVE_CURAND=$(CURAND)

# Open MPI (docs/scale-out.md): host/cli/mpi.c is compiled with mpicc's flags and dlmsim
# linked with libmpi; MPI_Init runs only under mpirun. MPI=0: without it. The ASan pass
# builds without MPI (Open MPI's own allocations make LeakSanitizer noisy).
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
MPI ?= $(if $(filter 1,$(SAN)),0,1)
MPICC ?= mpicc
MPI_CFLAGS = $(shell $(MPICC) --showme:compile 2>/dev/null)
MPI_LIBS = $(shell $(MPICC) --showme:link 2>/dev/null)

# host/ follows the data flow, one folder per stage (docs/architecture.md); a folder
# calls only the folders before it in LIB_DIRS. host/cli/ is the command line (the only
# code that prints and exits); the other folders make up the library.
LIB_DIRS = base circuit program engine verify oracle
LIB_SRC = $(foreach d,$(LIB_DIRS),$(wildcard host/$(d)/*.c))
# + the headers of the JIT kernel's NVRTC programs, as C strings (mk/embed.sh)
LIB_OBJ = $(LIB_SRC:host/%.c=$(BUILD)/host/%.o) $(BUILD)/host/engine/jit_headers.o
CLI_SRC = $(wildcard host/cli/*.c)
CLI_OBJ = $(CLI_SRC:host/%.c=$(BUILD)/host/%.o)
CU_SRC = $(if $(filter 1,$(CUDA)),$(wildcard kernels/*.cu))
CU_OBJ = $(CU_SRC:kernels/%.cu=$(BUILD)/kernels/%.o)
# (test_nvrtc_emu: the emulated NVRTC only, test/cuda_emu/emu.mk)
TEST_SRC = $(filter-out test/test_nvrtc_emu.c,$(wildcard test/test_*.c))
TEST_BIN = $(TEST_SRC:test/%.c=$(BUILD)/test/%)
# scripts that end with "N passed, N failed, N skipped" (test/run.sh adds them up)
# (the install test and the docs' examples once, in the plain build, not under SAN=1)
TEST_SCRIPTS = test/tree_check.sh test/outputs.sh test/cli_options.sh test/progress.py $(if $(filter 0,$(SAN)),test/install_test.sh test/doctest.py test/require_gpu.sh test/device_refusals.sh test/gpu_sh.sh test/sass_sh.sh)
DEPS_STAMP = build/.deps-installed
include test/cuda_emu/emu.mk

$(info dlmsim: CUDA=$(CUDA)$(if $(filter 1,$(CUDA)), (nvcc: $(NVCC)), (CPU only)) SAN=$(SAN) BUILD=$(BUILD))
# One line per dependency: found (✓) or not (✗, and what follows from it). The Debian
# packages among them are installed on the first build (PKG_HEADERS below).
dep = $(info dlmsim: $(if $(2),✓,✗) $(1)$(if $(2),, ($(3))))
ifndef DLM_DEPS_SHOWN
export DLM_DEPS_SHOWN = 1
$(call dep,CUDA (nvcc),$(filter 1,$(CUDA)),CPU-only build)
$(call dep,cuRAND,$(filter 1,$(CURAND)),test_philox skips the cuRAND comparison)
$(call dep,GSL,$(wildcard /usr/include/gsl/gsl_cdf.h),installed on first build)
$(call dep,Random123,$(wildcard /usr/include/Random123/philox.h),installed on first build)
$(call dep,cmocka,$(wildcard /usr/include/cmocka.h),installed on first build)
$(call dep,ABC (berkeley-abc),$(wildcard /usr/bin/berkeley-abc),installed on first build)
$(call dep,gnuplot,$(wildcard /usr/bin/gnuplot),installed on first build)
$(call dep,Open MPI (mpicc),$(if $(filter 1,$(MPI)),$(wildcard /usr/bin/mpicc),),$(if $(filter 1,$(MPI)),installed on first build,MPI=0: one process; test_mpi skips))
endif

.PHONY: all test asan check demo bench clean fuzz
all: $(BUILD)/libdlmsim.a $(BUILD)/dlmsim

# Debian packages: header -> package. Installed only when the header is missing.
PKG_HEADERS = /usr/include/cmocka.h:libcmocka-dev /usr/include/Random123/philox.h:librandom123-dev \
              /usr/include/gsl/gsl_cdf.h:libgsl-dev /usr/bin/berkeley-abc:berkeley-abc \
              /usr/bin/gnuplot:gnuplot-nox \
              $(if $(filter 1,$(MPI)),/usr/lib/$(MULTIARCH)/openmpi/include/mpi.h:libopenmpi-dev /usr/bin/orterun:openmpi-bin)
$(DEPS_STAMP):
	@mkdir -p $(dir $@)
	@missing=""; for hp in $(PKG_HEADERS); do [ -e "$${hp%%:*}" ] || missing="$$missing $${hp##*:}"; done; \
	if [ -n "$$missing" ]; then echo "dlmsim: installing Debian packages:$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) || \
	  { echo "dlmsim: could not install$$missing (run as root, or install them by hand)"; exit 2; }; fi
	@touch $@

$(BUILD)/host/%.o: host/%.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# The command line's own header (host/cli/dlm_cli.h) is not part of the public API.
$(CLI_OBJ): CFLAGS += -Ihost/cli

# The MPI path of `dlmsim run` (host/cli/mpi.c): mpicc's flags, only for this file.
$(BUILD)/host/cli/mpi.o: CFLAGS += -DDLM_HAVE_MPI=$(MPI) $(if $(filter 1,$(MPI)),$(MPI_CFLAGS))

# The bit-sliced engine's word loops need an alias check to be vectorised, which gcc's
# -O2 cost model ("very cheap") never pays (host/engine/engine_bits.c, run_ops).
$(BUILD)/host/engine/engine_bits.o: CFLAGS += -fvect-cost-model=dynamic

# nvcc writes each kernel's header dependencies beside its object (-MD -MP -MF).
$(BUILD)/kernels/%.o: kernels/%.cu | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -MD -MP -MF $(@:.o=.d) -c $< -o $@

# The JIT kernel's headers (kernels/engine_cuda_jit.cu), by the names their #include
# lines give: include/, kernels/jit_nvrtc*.h (what NVRTC lacks) and Random123's Philox.
R123_DIR ?= $(firstword $(wildcard /usr/include/Random123 /usr/local/include/Random123))
JIT_STD = algorithm stdexcept iterator limits iostream
JIT_HEADERS = dlm_jit_nvrtc.h=kernels/jit_nvrtc.h stddef.h=kernels/jit_nvrtc.h \
    stdint.h=kernels/jit_nvrtc.h $(foreach h,$(JIT_STD),$(h)=kernels/jit_nvrtc_std.h) \
    $(foreach h,dlm_jit_cuda.h dlm_step.h dlm_hd.h dlmsim.h dlm_words.h,$(h)=include/$(h)) \
    Random123/philox.h=$(R123_DIR)/philox.h array.h=$(R123_DIR)/array.h \
    features/compilerfeatures.h=$(R123_DIR)/features/compilerfeatures.h \
    nvccfeatures.h=$(R123_DIR)/features/nvccfeatures.h features/sse.h=$(R123_DIR)/features/sse.h
$(BUILD)/gen/jit_headers.c: mk/embed.sh kernels/jit_nvrtc.h kernels/jit_nvrtc_std.h \
    $(wildcard include/*.h) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	bash mk/embed.sh $@ $(JIT_HEADERS)
$(BUILD)/host/engine/jit_headers.o: $(BUILD)/gen/jit_headers.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libdlmsim.a: $(LIB_OBJ) $(CU_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/dlmsim: $(CLI_OBJ) $(BUILD)/libdlmsim.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) $(if $(filter 1,$(MPI)),$(MPI_LIBS)) -o $@

$(BUILD)/test/%: test/%.c $(BUILD)/libdlmsim.a test/dlm_test.h | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -Itest -DDLM_BIN='"$(BUILD)/dlmsim"' -DDLM_HAVE_MPI=$(MPI) $(LDFLAGS) $< $(TEST_OBJ) \
	    $(BUILD)/libdlmsim.a -lcmocka $(LDLIBS) $(TEST_LIBS) -o $@

# test_philox's device hook (test/cuda_coin_words.cu): a test-only kernel, not in the library.
ifeq ($(CUDA),1)
$(BUILD)/test/cuda_coin_words.o: test/cuda_coin_words.cu test/cuda_coin_words.h | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -MD -MP -MF $(@:.o=.d) -c $< -o $@
$(BUILD)/test/test_philox: TEST_OBJ = $(BUILD)/test/cuda_coin_words.o
$(BUILD)/test/test_philox: $(BUILD)/test/cuda_coin_words.o
endif

ifeq ($(CURAND),1)
$(BUILD)/test/test_philox: TEST_LIBS = -lcurand
endif

# test/layers.sh: no folder of host/ calls a later one, no call cycles (nm on the objects)
test: $(BUILD)/dlmsim $(TEST_BIN)
	@BUILD=$(BUILD) CC=$(CC) CUDA=$(CUDA) bash test/run.sh $(TEST_BIN) test/layers.sh $(TEST_SCRIPTS)

asan:
	$(MAKE) BUILD=build/asan SAN=1 CUDA=0 test

check: test
	$(MAKE) python-test
	$(MAKE) asan

demo: $(BUILD)/dlmsim
	$(BUILD)/dlmsim verify gen:parity-revise:64 --mode revise --chains 1000000

# make bench = quick profile (a few minutes); make bench FULL=1 = the full sweep (docs/results.md)
FULL ?= 0
bench: $(BUILD)/dlmsim
	FULL=$(FULL) BUILD=$(BUILD) CC=$(CC) bash bench/run.sh

clean:
	rm -rf build

# make fuzz: the libFuzzer harnesses (docs/fuzzing.md)
include mk/fuzz.mk

include mk/install.mk
include mk/doctest.mk
include mk/python.mk
-include $(wildcard $(BUILD)/host/*/*.d $(BUILD)/test/*.d $(BUILD)/kernels/*.d)
