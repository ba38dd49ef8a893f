/* file.c — bounded input (dlm_read_file: every reader goes through it) and outputs
 * (dlm_out_check; dlm_out_open/_close, written beside the target and renamed over it
 * when complete; the atomic dlm_file_replace): an output replaces only a regular file,
 * a symlink's target, or creates a new file, and only once it is whole. */
#include "dlm_util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What st is, in words, for a refusal ("a character device", ...). */
static const char *kind_of(const struct stat *st)
{
    if (S_ISDIR(st->st_mode)) return "a directory";
    if (S_ISCHR(st->st_mode)) return "a character device";
    if (S_ISBLK(st->st_mode)) return "a block device";
    if (S_ISFIFO(st->st_mode)) return "a FIFO";
    if (S_ISSOCK(st->st_mode)) return "a socket";
    return "not a regular file";
}

dlm_status dlm_read_file_max(const char *path, uint64_t max, char **buf, size_t *len, dlm_err *err)
{
    /* a FIFO is opened as usual (waiting for its writer); anything else non-blocking,
     * so that opening a device cannot hang before fstat refuses it */
    struct stat pre;
    int fifo = stat(path, &pre) == 0 && S_ISFIFO(pre.st_mode);
    int fd = open(path, O_RDONLY | (fifo ? 0 : O_NONBLOCK));
    if (fd < 0) return dlm_fail(err, DLM_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st)) {
        int e = errno;
        close(fd);
        return dlm_fail(err, DLM_EIO, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
        close(fd);
        return dlm_fail(err, DLM_EINPUT, "%s: %s, not a file; refusing to read it", path, kind_of(&st));
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    if (max > SIZE_MAX / 2) max = SIZE_MAX / 2;
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
        close(fd);
        return dlm_fail(err, DLM_EINPUT, "%s: %llu bytes, over the memory budget of %llu bytes (--max-memory)",
                        path, (unsigned long long)st.st_size, (unsigned long long)max);
    }
    size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : (size_t)1 << 16, n = 0;
    if (cap > max + 1) cap = (size_t)max + 1;
    char *b = malloc(cap + 1);
    if (!b) {
        close(fd);
        return dlm_fail(err, DLM_ENOMEM, "%s: out of memory reading the file", path);
    }
    for (;;) {
        if (n == cap) {
            if (n > max) break;
            size_t nc = cap > max / 2 ? (size_t)max + 1 : 2 * cap;
            char *nb = realloc(b, nc + 1);
            if (!nb) {
                free(b);
                close(fd);
                return dlm_fail(err, DLM_ENOMEM, "%s: out of memory reading the file", path);
            }
            b = nb;
            cap = nc;
        }
        ssize_t k = read(fd, b + n, cap - n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            int e = errno;
            free(b);
            close(fd);
            return dlm_fail(err, DLM_EIO, "%s: %s", path, strerror(e));
        }
        if (k == 0) break;
        n += (size_t)k;
    }
    close(fd);
    if (n > max) {
        free(b);
        return dlm_fail(err, DLM_EINPUT, "%s: more than %llu bytes, over the memory budget (--max-memory)",
                        path, (unsigned long long)max);
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return DLM_OK;
}

dlm_status dlm_read_file(const char *path, char **buf, size_t *len, dlm_err *err)
{
    return dlm_read_file_max(path, dlm_memory_budget(0), buf, len, err);
}

/* The directory part of p into d ("." when p has no slash, "/" for "/x"). */
static void dir_of(const char *p, char *d, size_t n)
{
    const char *slash = strrchr(p, '/');
    if (!slash) snprintf(d, n, ".");
    else if (slash == p) snprintf(d, n, "/");
    else snprintf(d, n, "%.*s", (int)(slash - p), p);
}

dlm_status dlm_out_check(const char *path, char *resolved, size_t n, dlm_err *err)
{
    char cur[PATH_MAX], link[PATH_MAX], dir[PATH_MAX];
    if (!path || !*path) return dlm_fail(err, DLM_EINPUT, "empty output path");
    if (strlen(path) >= sizeof cur) return dlm_fail(err, DLM_EINPUT, "%.64s...: output path too long", path);
    snprintf(cur, sizeof cur, "%s", path);
    for (int hop = 0;; hop++) {
        struct stat st;
        if (hop > 40) return dlm_fail(err, DLM_EINPUT, "%s: too many symbolic links", path);
        if (lstat(cur, &st) == 0 && S_ISLNK(st.st_mode)) {
            ssize_t k = readlink(cur, link, sizeof link - 1);
            if (k < 0) return dlm_fail(err, DLM_EINPUT, "%s: %s", path, strerror(errno));
            link[k] = 0;
            if (link[0] == '/') {
                snprintf(cur, sizeof cur, "%s", link);
            } else {
                dir_of(cur, dir, sizeof dir);
                size_t dl = strlen(dir);
                if (dl + 1 + (size_t)k >= sizeof cur)
                    return dlm_fail(err, DLM_EINPUT, "%s: output path too long", path);
                memcpy(cur, dir, dl);
                cur[dl] = '/';
                memcpy(cur + dl + 1, link, (size_t)k + 1);
            }
            continue;
        }
        int exists = lstat(cur, &st) == 0;
        if (!exists && errno != ENOENT) return dlm_fail(err, DLM_EINPUT, "%s: %s", path, strerror(errno));
        if (exists && !S_ISREG(st.st_mode)) {
            if (!strcmp(cur, path))
                return dlm_fail(err, DLM_EINPUT, "%s: %s, not a regular file; refusing to write over it", path,
                                kind_of(&st));
            return dlm_fail(err, DLM_EINPUT, "%s: links to %s, %s, not a regular file; refusing to write over it",
                            path, cur, kind_of(&st));
        }
        break;
    }
    /* the directory, resolved, must exist and be writable */
    dir_of(cur, dir, sizeof dir);
    const char *base = strrchr(cur, '/') ? strrchr(cur, '/') + 1 : cur;
    char rdir[PATH_MAX];
    if (!*base) return dlm_fail(err, DLM_EINPUT, "%s: a directory, not a regular file; refusing to write over it", path);
    if (!realpath(dir, rdir)) return dlm_fail(err, DLM_EINPUT, "%s: directory %s: %s", path, dir, strerror(errno));
    struct stat ds;
    if (stat(rdir, &ds) || !S_ISDIR(ds.st_mode))
        return dlm_fail(err, DLM_EINPUT, "%s: %s is not a directory", path, dir);
    if (access(rdir, W_OK)) return dlm_fail(err, DLM_EINPUT, "%s: directory %s: %s", path, dir, strerror(errno));
    if (!access(cur, F_OK) && access(cur, W_OK))
        return dlm_fail(err, DLM_EINPUT, "%s: %s", path, strerror(errno));
    size_t rl = strlen(rdir), bl = strlen(base), sep = strcmp(rdir, "/") != 0;
    if (rl + sep + bl >= n || rl + sep + bl + 12 >= sizeof dir)
        return dlm_fail(err, DLM_EINPUT, "%s: output path too long", path);
    memcpy(resolved, rdir, rl);
    if (sep) resolved[rl] = '/';
    memcpy(resolved + rl + sep, base, bl + 1);
    /* the output is written beside its target and renamed over it: the directory must
     * take a new file (access() says yes for root on /proc, for instance) */
    snprintf(dir, sizeof dir, "%s.tmp.XXXXXX", resolved);
    int fd = mkstemp(dir);
    if (fd < 0) return dlm_fail(err, DLM_EINPUT, "%s: cannot create a file beside it: %s", path, strerror(errno));
    close(fd);
    unlink(dir);
    return DLM_OK;
}

/* Writes all of buf to fd; 0 on success. */
static int write_all(int fd, const char *buf, size_t n)
{
    while (n) {
        ssize_t k = write(fd, buf, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        buf += k;
        n -= (size_t)k;
    }
    return 0;
}

/* fsync of the directory that holds path, so a rename in it is durable. */
static void sync_dir(const char *path)
{
    char *dir = strdup(path);
    if (!dir) return;
    char *slash = strrchr(dir, '/');
    const char *d = slash ? (slash == dir ? "/" : (*slash = 0, dir)) : ".";
    int dfd = open(d, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    free(dir);
}

static int fail(dlm_replace_fail *why, dlm_replace_step step, int fd)
{
    why->step = step;
    why->errnum = errno;
    if (fd >= 0) close(fd);
    if (step != DLM_REPLACE_CREATE) unlink(why->tmp);
    return -1;
}

/* Creates the temporary file target + suffix (made unique by mkstemp when the suffix
 * ends in "XXXXXX") into tmp (n bytes), and the mode the output gets: target's
 * permission bits, 0644 when it does not exist yet. A descriptor, or -1 with errno. */
static int make_tmp(const char *target, const char *suffix, char *tmp, size_t n, mode_t *mode)
{
    size_t pl = strlen(target), sl = strlen(suffix);
    if (pl + sl >= n) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(tmp, target, pl);
    memcpy(tmp + pl, suffix, sl + 1);
    struct stat sb;
    *mode = stat(target, &sb) == 0 ? sb.st_mode & 07777 : 0644;
    int unique = sl >= 6 && !strcmp(suffix + sl - 6, "XXXXXX");
    return unique ? mkstemp(tmp) : open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
}

dlm_status dlm_out_open(dlm_out *o, const char *path, int binary, dlm_err *err)
{
    memset(o, 0, sizeof *o);
    if (!strcmp(path, "-")) {
        o->f = stdout;
        return DLM_OK;
    }
    if (dlm_out_check(path, o->path, sizeof o->path, err)) return DLM_EIO;
    mode_t mode;
    int fd = make_tmp(o->path, ".tmp.XXXXXX", o->tmp, sizeof o->tmp, &mode);
    if (fd < 0) {
        o->tmp[0] = 0;
        return dlm_fail(err, DLM_EIO, "%s: cannot create a temporary file beside it: %s", path, strerror(errno));
    }
    o->mode = mode;
    if (!(o->f = fdopen(fd, binary ? "wb" : "w"))) {
        int en = errno;
        close(fd);
        unlink(o->tmp);
        o->tmp[0] = 0;
        return dlm_fail(err, DLM_EIO, "%s: %s", path, strerror(en));
    }
    return DLM_OK;
}

int dlm_out_close(dlm_out *o)
{
    if (!o->f) return 0;
    FILE *f = o->f;
    o->f = NULL;
    if (f == stdout) return fflush(f) ? -1 : 0;
    errno = 0;
    int bad = fflush(f) != 0 || ferror(f) || fchmod(fileno(f), (mode_t)o->mode) || fsync(fileno(f));
    int en = errno ? errno : EIO; /* ferror alone leaves errno as it was */
    if (fclose(f) && !bad) {
        bad = 1;
        en = errno;
    }
    if (!bad && rename(o->tmp, o->path)) {
        bad = 1;
        en = errno;
    }
    if (bad) {
        unlink(o->tmp);
        errno = en;
        return -1;
    }
    sync_dir(o->path);
    return 0;
}

void dlm_out_abort(dlm_out *o)
{
    if (!o->f) return;
    if (o->f == stdout) {
        fflush(stdout);
    } else {
        fclose(o->f);
        unlink(o->tmp);
    }
    o->f = NULL;
}

int dlm_file_replace(const char *path, const char *tmp_suffix, const void *data, size_t n,
                     dlm_replace_fail *why)
{
    memset(why, 0, sizeof *why);
    /* replace the resolved target (a symlink is kept and its target replaced); refuse
     * anything but a regular file or a new one */
    char target[PATH_MAX];
    dlm_err e;
    if (dlm_out_check(path, target, sizeof target, &e)) {
        why->step = DLM_REPLACE_TARGET;
        why->errnum = EINVAL;
        snprintf(why->tmp, sizeof why->tmp, "%s", e.msg);
        return -1;
    }
    path = target;
    mode_t mode;
    int fd = make_tmp(path, tmp_suffix, why->tmp, sizeof why->tmp, &mode);
    if (fd < 0) return fail(why, DLM_REPLACE_CREATE, -1);
    if (fchmod(fd, mode) || write_all(fd, data, n) || fsync(fd)) return fail(why, DLM_REPLACE_WRITE, fd);
    if (close(fd)) return fail(why, DLM_REPLACE_CLOSE, -1);
    if (rename(why->tmp, path)) return fail(why, DLM_REPLACE_RENAME, -1);
    sync_dir(path);
    return 0;
}
