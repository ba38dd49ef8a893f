/* andnot.c [SECONDS] — the L1-resident AND-NOT micro-benchmark of issue 19's second target.
 *
 * c[i] = a[i] & ~b[i] over three uint64 arrays of 4 KiB each (12 KiB in all: L1-resident),
 * repeated until SECONDS (default 0.5) of CPU time have passed; the time is
 * CLOCK_PROCESS_CPUTIME_ID around the loop. One 64-bit word is 64 gate-evaluations, so
 * the figure compares with dlmsim's gates x samples per CPU-second. Two loads and a store
 * per word, like one AND gate of the bit-sliced engine (two operand slots read, one
 * written). Built by bench/targets19.py with -O2 -march=native (and
 * -mprefer-vector-width=512 where the CPU has avx512f, else 256: AVX2) and also with 256 for
 * comparison; prints
 *   words_per_s W gate_evals_per_s G reps R seconds S
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define WORDS 512 /* 4 KiB per array */

#define PAD 8 /* 64 bytes between the arrays: a[i], b[i], c[i] not 4 KiB apart */
static uint64_t mem[3 * WORDS + 2 * PAD] __attribute__((aligned(64)));
#define a (mem)
#define b (mem + WORDS + PAD)
#define c (mem + 2 * WORDS + 2 * PAD)

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* One pass; the asm barrier keeps every pass (the arrays may have changed, c is used). */
static void pass(void)
{
    for (int i = 0; i < WORDS; i++)
        c[i] = a[i] & ~b[i];
    __asm__ volatile("" : : "r"(mem) : "memory");
}

int main(int argc, char **argv)
{
    double want = argc > 1 ? atof(argv[1]) : 0.5;
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < WORDS; i++) { /* xorshift64 contents */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17, a[i] = x;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17, b[i] = x;
    }
    for (int r = 0; r < 10000; r++) /* warm the caches and the clock */
        pass();
    long reps = 0;
    double t0 = cpu_now(), t = 0;
    while (t < want) {
        for (int r = 0; r < 10000; r++)
            pass();
        reps += 10000;
        t = cpu_now() - t0;
    }
    uint64_t check = 0;
    for (int i = 0; i < WORDS; i++)
        check ^= c[i];
    double words = (double)reps * WORDS / t;
    printf("words_per_s %.4g gate_evals_per_s %.4g reps %ld seconds %.3f check %016llx\n", words, 64 * words,
           reps, t, (unsigned long long)check);
    return 0;
}
