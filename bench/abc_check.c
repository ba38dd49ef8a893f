/* abc_check.c — prints the coins of chains as berkeley-abc input patterns.
 *
 * For chains c = 0..n-1 under seed s, prints one line of ncoins '0'/'1' characters:
 * column k is coin k of chain c (dlm_coin with a fair threshold, the coin contract of
 * include/dlm_step.h), i.e. the value of AIGER input k. Fed to
 *     berkeley-abc -q "read F.aig; sim -m -v -A pats.txt"
 * ABC evaluates the circuit on exactly the coins dlmsim draws, so its output lines
 * must equal `dlmsim run F.aig --seed s --chains n --samples FILE` line for line.
 * This is a bench tool, not part of the library: it only includes the shared step header.
 *
 * Build: cc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude bench/abc_check.c -o build/bench/abc_check
 * Usage: abc_check SEED CHAINS NCOINS > pats.txt
 */
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>

#include "dlm_step.h"

// ---- argument parsing: unsigned decimal only, exit 2 on bad input
static int parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    if (!s || !*s || *s == '-' || *s == '+') return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return -1;
    *out = (uint64_t)v;
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t seed, n, ncoins;
    if (argc != 4 || parse_u64(argv[1], &seed) || parse_u64(argv[2], &n) ||
        parse_u64(argv[3], &ncoins) || ncoins > (UINT64_C(1) << 24)) {
        fprintf(stderr, "usage: abc_check SEED CHAINS NCOINS (unsigned integers, NCOINS <= 2^24)\n");
        return 2;
    }
    char *line = malloc((size_t)ncoins + 2);
    if (!line) { fprintf(stderr, "abc_check: out of memory\n"); return 2; }
    // ---- one pattern per chain; column k = coin k = AIGER input k
    for (uint64_t c = 0; c < n; c++) {
        for (uint64_t k = 0; k < ncoins; k++)
            line[k] = dlm_coin(seed, c, k, DLM_COIN_FAIR) ? '1' : '0';
        line[ncoins] = '\n';
        if (fwrite(line, 1, (size_t)ncoins + 1, stdout) != (size_t)ncoins + 1) {
            fprintf(stderr, "abc_check: write error\n");
            free(line);
            return 2;
        }
    }
    free(line);
    return 0;
}
