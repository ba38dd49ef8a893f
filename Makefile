# dlmsim — build, test, demo, bench.
#   make            build/libdlmsim.a and build/dlmsim (CUDA backend when nvcc is found)
#   make CUDA=0     CPU-only build
#   make test       build and run every test (closing line: N passed, N failed, N skipped)
#   make asan       the tests under AddressSanitizer and UBSan (CPU-only build)
#   make check      make test, then make asan: what CI runs
#   make demo       the main job on its default input
#   make bench      benchmarks (see bench/README.md)
# Missing Debian packages are installed with apt-get on first build.

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
ifeq ($(CUDA),1)
LDLIBS += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcurand -lcudart -lstdc++
# tests (not host/) may include <curand.h> for the cuRAND-vs-Random123 known-answer test
TEST_CFLAGS += -isystem $(CUDA_HOME)/include
endif

# host/ follows the data flow, one folder per stage (docs/architecture.md); a folder
# calls only the folders before it in LIB_DIRS. host/cli/ is the command line (the only
# code that prints and exits); the other folders make up the library.
LIB_DIRS = base circuit program engine verify oracle
LIB_SRC = $(foreach d,$(LIB_DIRS),$(wildcard host/$(d)/*.c))
LIB_OBJ = $(LIB_SRC:host/%.c=$(BUILD)/host/%.o)
CLI_SRC = $(wildcard host/cli/*.c)
CLI_OBJ = $(CLI_SRC:host/%.c=$(BUILD)/host/%.o)
CU_SRC = $(if $(filter 1,$(CUDA)),$(wildcard kernels/*.cu))
CU_OBJ = $(CU_SRC:kernels/%.cu=$(BUILD)/kernels/%.o)
TEST_SRC = $(wildcard test/test_*.c)
TEST_BIN = $(TEST_SRC:test/%.c=$(BUILD)/test/%)
DEPS_STAMP = build/.deps-installed

$(info dlmsim: CUDA=$(CUDA)$(if $(filter 1,$(CUDA)), (nvcc: $(NVCC)), (CPU only)) SAN=$(SAN) BUILD=$(BUILD))

.PHONY: all test asan check demo bench clean fuzz
all: $(BUILD)/libdlmsim.a $(BUILD)/dlmsim

# Debian packages: header -> package. Installed only when the header is missing.
PKG_HEADERS = /usr/include/cmocka.h:libcmocka-dev /usr/include/Random123/philox.h:librandom123-dev \
              /usr/include/gsl/gsl_cdf.h:libgsl-dev /usr/bin/berkeley-abc:berkeley-abc \
              /usr/bin/gnuplot:gnuplot-nox
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

# The bit-sliced engine's word loops need an alias check to be vectorised, which gcc's
# -O2 cost model ("very cheap") never pays (host/engine/engine_bits.c, run_ops).
$(BUILD)/host/engine/engine_bits.o: CFLAGS += -fvect-cost-model=dynamic

$(BUILD)/kernels/%.o: kernels/%.cu include/*.h | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -c $< -o $@

$(BUILD)/libdlmsim.a: $(LIB_OBJ) $(CU_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/dlmsim: $(CLI_OBJ) $(BUILD)/libdlmsim.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/test/%: test/%.c $(BUILD)/libdlmsim.a test/dlm_test.h | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -Itest -DDLM_BIN='"$(BUILD)/dlmsim"' $(LDFLAGS) $< $(BUILD)/libdlmsim.a \
	    -lcmocka $(LDLIBS) -o $@

# test/layers.sh: no folder of host/ calls a later one, no call cycles (nm on the objects)
test: $(BUILD)/dlmsim $(TEST_BIN)
	@BUILD=$(BUILD) bash test/run.sh $(TEST_BIN) test/layers.sh

asan:
	$(MAKE) BUILD=build/asan SAN=1 CUDA=0 test

check: test
	$(MAKE) asan

demo: $(BUILD)/dlmsim
	$(BUILD)/dlmsim verify gen:parity-revise:64 --mode revise --chains 1000000

# make bench = quick profile (a few minutes); make bench FULL=1 = the full sweep (docs/results.md)
FULL ?= 0
bench: $(BUILD)/dlmsim
	FULL=$(FULL) BUILD=$(BUILD) CC=$(CC) bash bench/run.sh

clean:
	rm -rf build

# ---- fuzzing (docs/fuzzing.md) -------------------------------------------------------
# make fuzz: libFuzzer harnesses test/fuzz/fuzz_*.c built with clang into build/fuzz/
# (library objects with -fsanitize=fuzzer-no-link,address,undefined), each run for
# FUZZ_SECONDS on a working corpus build/fuzz/corpus/NAME seeded from test/fuzz/corpus/NAME
# (new inputs go to build/, never into the committed corpus); crashes are saved as
# build/fuzz/crash-*. FUZZ_FLAGS adds libFuzzer flags (e.g. -runs=1000000). clang, its
# fuzzer runtime and libomp are installed when missing.
FUZZ_SECONDS ?= 60
FUZZ_FLAGS ?=
FUZZ_CC ?= clang
FUZZ_NAMES = aiger blif gen suite checkpoint law
FUZZ_BIN = $(FUZZ_NAMES:%=build/fuzz/fuzz_%)
FUZZ_LIB_OBJ = $(LIB_SRC:host/%.c=build/fuzz/host/%.o)
FUZZ_SAN = address,undefined
FUZZ_CFLAGS = -std=c11 -O2 -g -Wall -Wextra -Werror -Wundef -ffp-contract=off -fopenmp \
              -fno-omit-frame-pointer -fno-sanitize-recover=undefined -D_DEFAULT_SOURCE \
              -Iinclude -DDLM_HAVE_CUDA=0
FUZZ_STAMP = build/.fuzz-deps-installed
$(FUZZ_STAMP):
	@mkdir -p $(dir $@)
	@rt=$$([ -x /usr/bin/clang ] && /usr/bin/clang -print-resource-dir 2>/dev/null); \
	if [ -z "$$rt" ] || ! ls $$rt/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1 || [ ! -e $$rt/include/omp.h ]; then \
	  echo "dlmsim: installing Debian packages: clang libclang-rt-dev libomp-dev"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-dev libomp-dev >/dev/null) || \
	  { echo "dlmsim: could not install clang libclang-rt-dev libomp-dev (run as root, or install them by hand)"; exit 2; }; fi
	@touch $@

build/fuzz/host/%.o: host/%.c | $(FUZZ_STAMP) $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -MMD -MP -c $< -o $@

build/fuzz/libdlmsim.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/fuzz/fuzz_%: test/fuzz/fuzz_%.c test/fuzz/fuzz_common.h build/fuzz/libdlmsim.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) $< build/fuzz/libdlmsim.a \
	    -lgsl -lgslcblas -lm -o $@

fuzz: $(FUZZ_BIN)
	@for h in $(FUZZ_NAMES); do \
	  mkdir -p build/fuzz/corpus/$$h; \
	  echo "dlmsim: fuzzing $$h for $(FUZZ_SECONDS) s"; \
	  build/fuzz/fuzz_$$h -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(FUZZ_FLAGS) \
	      -artifact_prefix=build/fuzz/ build/fuzz/corpus/$$h test/fuzz/corpus/$$h || exit 1; \
	done
-include $(wildcard build/fuzz/host/*/*.d)

-include $(wildcard $(BUILD)/host/*/*.d $(BUILD)/test/*.d)
