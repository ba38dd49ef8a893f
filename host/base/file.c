/* file.c — atomic file replacement (dlm_util.h): the checkpoint writer and the suite
 * rewrite (regress --update) both go through it. */
#include "dlm_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int dlm_file_replace(const char *path, const char *tmp_suffix, const void *data, size_t n,
                     dlm_replace_fail *why)
{
    memset(why, 0, sizeof *why);
    size_t pl = strlen(path), sl = strlen(tmp_suffix);
    if (pl + sl >= sizeof why->tmp) {
        errno = ENAMETOOLONG;
        return fail(why, DLM_REPLACE_CREATE, -1);
    }
    memcpy(why->tmp, path, pl);
    memcpy(why->tmp + pl, tmp_suffix, sl + 1);
    struct stat sb;
    mode_t mode = 0644;
    if (stat(path, &sb) == 0) mode = sb.st_mode & 07777;
    int unique = sl >= 6 && !strcmp(tmp_suffix + sl - 6, "XXXXXX");
    int fd = unique ? mkstemp(why->tmp) : open(why->tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return fail(why, DLM_REPLACE_CREATE, -1);
    if (fchmod(fd, mode) || write_all(fd, data, n) || fsync(fd)) return fail(why, DLM_REPLACE_WRITE, fd);
    if (close(fd)) return fail(why, DLM_REPLACE_CLOSE, -1);
    if (rename(why->tmp, path)) return fail(why, DLM_REPLACE_RENAME, -1);
    sync_dir(path);
    return 0;
}
