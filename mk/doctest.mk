# mk/doctest.mk — the docs' examples (test/doctest.py, docs/doctest.md), included by the
# Makefile. `make test` runs the fast ones (test/doctest.py is in TEST_SCRIPTS);
#   make doctest        the same examples on their own
#   make doctest-slow   every example, the ones marked `slow` too (minutes)
.PHONY: doctest doctest-slow
doctest: $(BUILD)/dlmsim
	BUILD=$(BUILD) python3 test/doctest.py
doctest-slow: $(BUILD)/dlmsim
	BUILD=$(BUILD) python3 test/doctest.py --slow
