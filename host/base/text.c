/* text.c — reading counts and writing JSON (dlm_util.h). */
#include "dlm_util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int dlm_parse_count(const char *s, uint64_t *v)
{
    if (!s[0] || s[0] < '0' || s[0] > '9') return -1;
    if (strspn(s, "0123456789.eE+") != strlen(s)) return -1;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (!*end && !errno) {
        *v = x;
        return 0;
    }
    errno = 0;
    double d = strtod(s, &end);
    if (*end || errno || d < 0 || d >= 18446744073709551616.0 || d != (double)(uint64_t)d) return -1;
    *v = (uint64_t)d;
    return 0;
}

size_t dlm_utf8_len(const unsigned char *p, size_t n)
{
    unsigned char b = p[0];
    size_t k;
    uint32_t cp;
    if (b < 0x80) return 1;
    if (b >= 0xc2 && b <= 0xdf) k = 2, cp = b & 0x1f;
    else if (b >= 0xe0 && b <= 0xef) k = 3, cp = b & 0x0f;
    else if (b >= 0xf0 && b <= 0xf4) k = 4, cp = b & 0x07;
    else return 0;
    if (k > n) return 0;
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return k;
}

void dlm_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        unsigned char ch = p[i];
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch), i++;
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch), i++;
        else {
            size_t k = dlm_utf8_len(p + i, n - i);
            if (!k) fputc('?', f), i++;
            else fwrite(p + i, 1, k, f), i += k;
        }
    }
    fputc('"', f);
}

void dlm_json_num(FILE *f, double x)
{
    if (isfinite(x)) fprintf(f, "%.17g", x);
    else fputs("null", f);
}

int dlm_cursor_word(dlm_cursor *c, char *w, size_t n)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n')) c->p++;
    size_t i = 0;
    while (c->p < c->end && *c->p != ' ' && *c->p != '\n') {
        if (i + 1 >= n) return -1;
        w[i++] = *c->p++;
    }
    w[i] = 0;
    return i ? 0 : -1;
}

int dlm_cursor_expect(dlm_cursor *c, const char *key)
{
    char w[64];
    return dlm_cursor_word(c, w, sizeof w) || strcmp(w, key) ? -1 : 0;
}

int dlm_cursor_num(dlm_cursor *c, uint64_t *v, int base)
{
    char w[32], *e;
    if (dlm_cursor_word(c, w, sizeof w) || w[0] < '0' || (w[0] > '9' && base != 16)) return -1;
    errno = 0;
    unsigned long long x = strtoull(w, &e, base);
    if (errno || *e) return -1;
    *v = x;
    return 0;
}

int dlm_cursor_keyed(dlm_cursor *c, const char *key, uint64_t *v)
{
    return dlm_cursor_expect(c, key) || dlm_cursor_num(c, v, 10) ? -1 : 0;
}
