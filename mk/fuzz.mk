# mk/fuzz.mk — included by the Makefile; uses its LIB_SRC and DEPS_STAMP.
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

