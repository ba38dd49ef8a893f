#!/usr/bin/env python3
"""model.py CIRCUIT.aag OUTDIR — a bit-sliced Verilator model of an ASCII AIGER circuit.

Every signal of the circuit becomes a 64-bit vector, so one eval() of the model is 64
patterns. Writes OUTDIR/model.v (module `model`: one 64-bit input per AIGER input, one
64-bit output per output, a wire per AND) and OUTDIR/harness.cpp, which drives the model
with xorshift64 stimulus and reduces what dlmsim's `run` reduces from every sample: the
ones of each output (popcounts) and the samples of odd parity (the XOR of the outputs).
`harness N` runs ceil(N/64) evals and prints the patterns, the CPU seconds of the loop
(CLOCK_PROCESS_CPUTIME_ID) and the odd count. bench/verilator/run.sh builds and times it.
"""
import os
import sys


def read_aag(path):
    with open(path) as f:
        head = f.readline().split()
        if not head or head[0] != "aag" or head[3] != "0":
            sys.exit("model.py: %s: want an ASCII AIGER file without latches" % path)
        _, nin, _, nout, nand = (int(x) for x in head[1:6])
        ins = [int(f.readline()) for _ in range(nin)]
        outs = [int(f.readline()) for _ in range(nout)]
        ands = [tuple(int(x) for x in f.readline().split()) for _ in range(nand)]
    return ins, outs, ands


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: model.py CIRCUIT.aag OUTDIR")
    ins, outs, ands = read_aag(sys.argv[1])
    name = {0: "64'd0"}
    for k, lit in enumerate(ins):
        name[lit // 2] = "i%d" % k

    def ref(lit):
        v = name[lit // 2]
        if lit == 1:
            return "~64'd0"
        return ("~" + v) if lit & 1 else v

    os.makedirs(sys.argv[2], exist_ok=True)
    with open(os.path.join(sys.argv[2], "model.v"), "w") as v:
        ports = ["input [63:0] i%d" % k for k in range(len(ins))] + \
                ["output [63:0] o%d" % k for k in range(len(outs))]
        v.write("/* verilator lint_off UNUSEDSIGNAL */\nmodule model(%s);\n" % ", ".join(ports))
        for lhs, a, b in ands:
            name[lhs // 2] = "n%d" % (lhs // 2)
            v.write("  wire [63:0] n%d = %s & %s;\n" % (lhs // 2, ref(a), ref(b)))
        for k, lit in enumerate(outs):
            v.write("  assign o%d = %s;\n" % (k, ref(lit)))
        v.write("endmodule\n")
    with open(os.path.join(sys.argv[2], "harness.cpp"), "w") as h:
        h.write('#include "Vmodel.h"\n#include "verilated.h"\n#include <cstdio>\n#include <cstdlib>\n'
                '#include <ctime>\n#include <cstdint>\n\n'
                "static double cpu_now() { timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);"
                " return t.tv_sec + 1e-9 * t.tv_nsec; }\n\n"
                "int main(int argc, char **argv) {\n"
                "    if (argc != 2) { fprintf(stderr, \"usage: harness PATTERNS\\n\"); return 2; }\n"
                "    const uint64_t evals = (strtoull(argv[1], nullptr, 10) + 63) / 64;\n"
                "    VerilatedContext ctx;\n    Vmodel m{&ctx};\n"
                "    static uint64_t ones[%d];\n    uint64_t s = 0x9e3779b97f4a7c15ull, odd = 0;\n"
                "    const double t0 = cpu_now();\n"
                "    for (uint64_t e = 0; e < evals; e++) {\n" % max(1, len(outs)))
        for k in range(len(ins)):
            h.write("        s ^= s << 13; s ^= s >> 7; s ^= s << 17; m.i%d = s;\n" % k)
        h.write("        m.eval();\n        uint64_t par = 0;\n")
        for k in range(len(outs)):
            h.write("        { const uint64_t w = m.o%d; ones[%d] += __builtin_popcountll(w); par ^= w; }\n"
                    % (k, k))
        h.write("        odd += __builtin_popcountll(par);\n    }\n"
                "    const double secs = cpu_now() - t0;\n"
                "    uint64_t sum = 0;\n    for (uint64_t x : ones) sum += x;\n"
                "    printf(\"patterns %llu cpu_seconds %.6f odd %llu ones %llu\\n\", "
                "(unsigned long long)(64 * evals), secs, (unsigned long long)odd, (unsigned long long)sum);\n"
                "    m.final();\n    return 0;\n}\n")


if __name__ == "__main__":
    main()
