# dlmsim — build, test, demo, bench.
#   make            build/libdlmsim.a and build/dlmsim (CUDA backend when nvcc is found)
#   make CUDA=0     CPU-only build
#   make test       build and run every test (closing line: N passed, N failed, N skipped)
#   make asan       the tests under AddressSanitizer and UBSan (CPU-only build)
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

# host/cli*.c make up the command line (the only code that prints and exits);
# everything else in host/ is the library.
CLI_SRC = $(wildcard host/cli*.c)
CLI_OBJ = $(CLI_SRC:host/%.c=$(BUILD)/host/%.o)
LIB_SRC = $(filter-out $(CLI_SRC),$(wildcard host/*.c))
LIB_OBJ = $(LIB_SRC:host/%.c=$(BUILD)/host/%.o)
CU_SRC = $(if $(filter 1,$(CUDA)),$(wildcard kernels/*.cu))
CU_OBJ = $(CU_SRC:kernels/%.cu=$(BUILD)/kernels/%.o)
TEST_SRC = $(wildcard test/test_*.c)
TEST_BIN = $(TEST_SRC:test/%.c=$(BUILD)/test/%)
DEPS_STAMP = build/.deps-installed

$(info dlmsim: CUDA=$(CUDA)$(if $(filter 1,$(CUDA)), (nvcc: $(NVCC)), (CPU only)) SAN=$(SAN) BUILD=$(BUILD))

.PHONY: all test asan demo bench clean
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

test: $(BUILD)/dlmsim $(TEST_BIN)
	@bash test/run.sh $(TEST_BIN)

asan:
	$(MAKE) BUILD=build/asan SAN=1 CUDA=0 test

demo: $(BUILD)/dlmsim
	$(BUILD)/dlmsim verify gen:parity-revise:64 --mode revise --chains 1000000

bench: $(BUILD)/dlmsim
	bash bench/run.sh

clean:
	rm -rf build

-include $(wildcard $(BUILD)/host/*.d $(BUILD)/test/*.d)
