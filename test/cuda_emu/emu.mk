# emu.mk — the CUDA engines compiled by g++ against the CPU emulation of the CUDA runtime
# (test/cuda_emu; docs/gpu.md, "The CPU emulation"), and the tests that run them. Included
# by the Makefile; adds the emulated test binaries to TEST_BIN, so `make test` (and hence
# `make check`) runs every CUDA test case on every machine, GPU or not.
#
#   $(EMU)/kernels/X.cc   kernels/X.cu with rewrite.sed's two mechanical rewrites (launch
#                         syntax, __shared__), #line-mapped to the .cu
#   $(EMU)/libdlmsim.a    the library with those kernels and the emulated runtime (emu.o)
#                         and NVRTC (nvrtc.o: compiles a JIT program with $(CXX) into a
#                         shared object, which cudaLibraryLoadData opens with dlopen;
#                         every emulated binary is linked with -rdynamic, so that it
#                         finds the emulation in the executable)
#   $(EMU)/dlmsim         the command line on the fake device (bench/gpu.sh's test)
#   $(EMU)/test/test_X    test/test_X.c linked against it, with -DDLM_CUDA_EMU=1
#   $(EMU)/jit-cache      the emulated NVRTC's compiled programs (DLM_EMU_JIT_CACHE,
#                         set for `make test`), so that each is compiled once
#
# Not under SAN=1: the emulation switches stacks by hand, which AddressSanitizer does
# not follow. Needs only g++ (no CUDA toolkit); test_philox's cuRAND check is compiled
# in when $(CUDA_HOME)/include/curand.h exists. EMU=0 leaves all of it out.

EMU ?= 1
ifeq ($(SAN),0)
ifeq ($(EMU),1)
EMU_DIR = $(BUILD)/emu
CXX ?= g++
EMU_CXXFLAGS = -std=c++17 -O2 -Wall -Wextra -Werror -ffp-contract=off -MMD -MP \
               -Itest/cuda_emu -Iinclude -DDLM_HAVE_CUDA=1 -D__CUDA_ARCH__=900
EMU_CU = $(wildcard kernels/*.cu)
EMU_KOBJ = $(EMU_CU:kernels/%.cu=$(EMU_DIR)/kernels/%.o)
# the host objects: with CUDA=1 those of the normal build (also DLM_HAVE_CUDA=1)
EMU_HOST_OBJ = $(if $(filter 1,$(CUDA)),$(LIB_OBJ),$(LIB_SRC:host/%.c=$(EMU_DIR)/host/%.o) $(BUILD)/host/engine/jit_headers.o)
EMU_CLI_OBJ = $(if $(filter 1,$(CUDA)),$(CLI_OBJ),$(CLI_SRC:host/%.c=$(EMU_DIR)/host/%.o))
EMU_CURAND = $(if $(wildcard $(CUDA_HOME)/include/curand.h),1,0)
EMU_TESTS = test_cuda test_sampler test_philox test_nvrtc_emu
EMU_TEST_BIN = $(EMU_TESTS:%=$(EMU_DIR)/test/%)
EMU_CURAND_LIBS = -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcurand
EMU_LDFLAGS = -rdynamic
EMU_LDLIBS = -lgsl -lgslcblas -lm -fopenmp -lstdc++ -ldl $(if $(filter 1,$(EMU_CURAND)),$(EMU_CURAND_LIBS))
TEST_BIN += $(EMU_TEST_BIN)

$(EMU_DIR)/kernels/%.cc: kernels/%.cu test/cuda_emu/rewrite.sed
	@mkdir -p $(dir $@)
	{ echo '#line 1 "$<"'; sed -E -f test/cuda_emu/rewrite.sed $<; } > $@

$(EMU_DIR)/kernels/%.o: $(EMU_DIR)/kernels/%.cc test/cuda_emu/cuda_runtime.h | $(DEPS_STAMP)
	$(CXX) $(EMU_CXXFLAGS) -c $< -o $@

$(EMU_DIR)/emu.o: test/cuda_emu/emu.cc test/cuda_emu/cuda_runtime.h test/cuda_emu/dlm_emu.h
	@mkdir -p $(dir $@)
	$(CXX) $(EMU_CXXFLAGS) -c $< -o $@

# the JIT programs are compiled by the same compiler, against this tree's headers
$(EMU_DIR)/nvrtc.o: test/cuda_emu/nvrtc.cc test/cuda_emu/nvrtc.h
	@mkdir -p $(dir $@)
	$(CXX) $(EMU_CXXFLAGS) -DDLM_EMU_SRC_DIR='"$(CURDIR)"' -DDLM_EMU_CXX='"$(CXX)"' -c $< -o $@

$(EMU_DIR)/host/%.o: host/%.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -DDLM_HAVE_CUDA=%,$(CFLAGS)) -DDLM_HAVE_CUDA=1 -c $< -o $@
$(EMU_DIR)/host/engine/engine_bits.o: CFLAGS += -fvect-cost-model=dynamic
$(CLI_SRC:host/%.c=$(EMU_DIR)/host/%.o): CFLAGS += -Ihost/cli

$(EMU_DIR)/libdlmsim.a: $(EMU_HOST_OBJ) $(EMU_KOBJ) $(EMU_DIR)/emu.o $(EMU_DIR)/nvrtc.o
	@rm -f $@
	ar rcs $@ $^

# with CUDA=1 the CLI objects are the normal build's, host/cli/mpi.o with MPI in it
$(EMU_DIR)/dlmsim: $(EMU_CLI_OBJ) $(EMU_DIR)/libdlmsim.a
	$(CC) $(LDFLAGS) $(EMU_LDFLAGS) $^ $(EMU_LDLIBS) $(if $(filter 1,$(CUDA)),$(if $(filter 1,$(MPI)),$(MPI_LIBS))) -o $@

# test_philox's device hook (test/cuda_coin_words.cu), rewritten and compiled as the kernels
$(EMU_DIR)/test/cuda_coin_words.cc: test/cuda_coin_words.cu test/cuda_emu/rewrite.sed
	@mkdir -p $(dir $@)
	{ echo '#line 1 "$<"'; sed -E -f test/cuda_emu/rewrite.sed $<; } > $@
$(EMU_DIR)/test/cuda_coin_words.o: $(EMU_DIR)/test/cuda_coin_words.cc test/cuda_emu/cuda_runtime.h | $(DEPS_STAMP)
	$(CXX) $(EMU_CXXFLAGS) -Itest -c $< -o $@
$(EMU_DIR)/test/test_philox: EMU_TEST_OBJ = $(EMU_DIR)/test/cuda_coin_words.o
$(EMU_DIR)/test/test_philox: $(EMU_DIR)/test/cuda_coin_words.o

$(EMU_DIR)/test/%: test/%.c $(EMU_DIR)/libdlmsim.a $(EMU_DIR)/dlmsim test/dlm_test.h test/cuda_emu/dlm_emu.h | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -DDLM_HAVE_CUDA=%,$(CFLAGS)) -DDLM_HAVE_CUDA=1 -DDLM_CUDA_EMU=1 \
	    -DDLM_HAVE_CURAND=$(EMU_CURAND) -Itest -Itest/cuda_emu \
	    $(if $(filter 1,$(EMU_CURAND)),-isystem $(CUDA_HOME)/include) \
	    -DDLM_BIN='"$(EMU_DIR)/dlmsim"' -DDLM_HAVE_MPI=$(if $(filter 1,$(CUDA)),$(MPI),0) $(LDFLAGS) $(EMU_LDFLAGS) $< $(EMU_TEST_OBJ) $(EMU_DIR)/libdlmsim.a -lcmocka $(EMU_LDLIBS) -o $@

# the tests' JIT programs compiled once, not once per run (test/cuda_emu/nvrtc.h)
test: export DLM_EMU_JIT_CACHE ?= $(abspath $(EMU_DIR)/jit-cache)

.SECONDARY: $(EMU_CU:kernels/%.cu=$(EMU_DIR)/kernels/%.cc) $(EMU_DIR)/test/cuda_coin_words.cc
.PHONY: emu mutants
emu: $(EMU_DIR)/dlmsim $(EMU_TEST_BIN)
# the deliberate kernel bugs and the test that catches each (slow: not part of make test)
mutants: emu
	bash test/cuda_emu/mutants.sh $(MUTANTS) | tee $(EMU_DIR)/mutants.md

-include $(wildcard $(EMU_DIR)/kernels/*.d $(EMU_DIR)/host/*/*.d $(EMU_DIR)/test/*.d $(EMU_DIR)/*.d)
endif
endif
