/*
 * writelog.so: an LD_PRELOAD shim for the hardening suite's crash-image case (docs/hardening.md).
 *
 * For every file whose path starts with $ATLAS_WRITELOG_DIR it appends to $ATLAS_WRITELOG:
 *   'O' file id, name      when the file is opened (the same path keeps its id)
 *   'W' file id, offset, bytes   after each write(2)/pwrite(2)/writev(2)/pwritev(2) that returned
 *   'S' file id            after fsync(2)/fdatasync(2) returned 0 (every earlier write is durable)
 *   'D' file id            right after a write on an O_SYNC/O_DSYNC descriptor (that write is
 *                          durable when it returns)
 *   'T' file id, length    after ftruncate(2) returned 0
 *   'M'                    after msync(2) returned 0 (not tied to a file; logged only)
 * Record: 1 byte type, 4 bytes file id, 8 bytes offset, 8 bytes length (little endian), then
 * `length` bytes of data for 'W' and 'O'. Records are appended with one write each, under a lock.
 * Built by Tools/hardening/hardening.py with `cc -shared -fPIC -O2 -o writelog.so writelog.c -ldl`.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAXFD 65536
#define MAXFILES 256

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int logfd = -2;
static char prefix[PATH_MAX];
static size_t prefix_len;
static short fd_file[MAXFD]; /* file id + 1, 0 = not tracked */
static char fd_sync[MAXFD];
static char *files[MAXFILES];
static int nfiles;

static void init(void) {
    if (logfd != -2) return;
    logfd = -1;
    const char *p = getenv("ATLAS_WRITELOG"), *d = getenv("ATLAS_WRITELOG_DIR");
    if (!p || !d || strlen(d) >= sizeof(prefix)) return;
    strcpy(prefix, d);
    prefix_len = strlen(prefix);
    logfd = (int)syscall(SYS_openat, AT_FDCWD, p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

static void put_record(char type, int file, uint64_t off, uint64_t len, const struct iovec *iov, int iovcnt) {
    size_t total = 21 + (size_t)len;
    unsigned char *buf = malloc(total);
    if (!buf) return;
    buf[0] = (unsigned char)type;
    uint32_t f = (uint32_t)file;
    memcpy(buf + 1, &f, 4);
    memcpy(buf + 5, &off, 8);
    memcpy(buf + 13, &len, 8);
    size_t at = 21;
    for (int i = 0; i < iovcnt && at < total; i++) {
        size_t n = iov[i].iov_len;
        if (n > total - at) n = total - at;
        memcpy(buf + at, iov[i].iov_base, n);
        at += n;
    }
    size_t done = 0;
    while (done < total) {
        long w = syscall(SYS_write, logfd, buf + done, total - done);
        if (w <= 0) break;
        done += (size_t)w;
    }
    free(buf);
}

static void track(int fd, const char *path, int flags) {
    if (fd < 0 || fd >= MAXFD) return;
    fd_file[fd] = 0;
    init();
    if (logfd < 0 || !path) return;
    char full[PATH_MAX];
    if (path[0] != '/') {
        if (!getcwd(full, sizeof(full)) || strlen(full) + strlen(path) + 2 > sizeof(full)) return;
        strcat(full, "/");
        strcat(full, path);
    } else {
        if (strlen(path) >= sizeof(full)) return;
        strcpy(full, path);
    }
    if (strncmp(full, prefix, prefix_len) != 0) return;
    pthread_mutex_lock(&lock);
    int id = -1;
    for (int i = 0; i < nfiles; i++)
        if (strcmp(files[i], full) == 0) id = i;
    if (id < 0 && nfiles < MAXFILES) {
        id = nfiles++;
        files[id] = strdup(full);
        struct iovec v = {full, strlen(full)};
        put_record('O', id, 0, strlen(full), &v, 1);
    }
    if (id >= 0) {
        fd_file[fd] = (short)(id + 1);
        fd_sync[fd] = (flags & (O_SYNC | O_DSYNC)) != 0;
    }
    pthread_mutex_unlock(&lock);
}

static void logged_write(int fd, uint64_t off, const struct iovec *iov, int iovcnt, ssize_t n) {
    if (n <= 0 || fd < 0 || fd >= MAXFD || !fd_file[fd]) return;
    pthread_mutex_lock(&lock);
    put_record('W', fd_file[fd] - 1, off, (uint64_t)n, iov, iovcnt);
    if (fd_sync[fd]) put_record('D', fd_file[fd] - 1, 0, 0, NULL, 0);
    pthread_mutex_unlock(&lock);
}

static void logged_event(int fd, char type, uint64_t value) {
    if (fd < 0 || fd >= MAXFD || !fd_file[fd]) return;
    pthread_mutex_lock(&lock);
    put_record(type, fd_file[fd] - 1, value, 0, NULL, 0);
    pthread_mutex_unlock(&lock);
}

#define REAL(name) static __typeof__(name) *real_##name; if (!real_##name) real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

static mode_t mode_arg(int flags, va_list ap) {
    return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...) {
    REAL(open);
    va_list ap; va_start(ap, flags); mode_t m = mode_arg(flags, ap); va_end(ap);
    int fd = real_open(path, flags, m);
    track(fd, path, flags);
    return fd;
}

int open64(const char *path, int flags, ...) {
    REAL(open64);
    va_list ap; va_start(ap, flags); mode_t m = mode_arg(flags, ap); va_end(ap);
    int fd = real_open64(path, flags, m);
    track(fd, path, flags);
    return fd;
}

int openat(int dirfd, const char *path, int flags, ...) {
    REAL(openat);
    va_list ap; va_start(ap, flags); mode_t m = mode_arg(flags, ap); va_end(ap);
    int fd = real_openat(dirfd, path, flags, m);
    if (dirfd == AT_FDCWD || path[0] == '/') track(fd, path, flags);
    return fd;
}

int openat64(int dirfd, const char *path, int flags, ...) {
    REAL(openat64);
    va_list ap; va_start(ap, flags); mode_t m = mode_arg(flags, ap); va_end(ap);
    int fd = real_openat64(dirfd, path, flags, m);
    if (dirfd == AT_FDCWD || path[0] == '/') track(fd, path, flags);
    return fd;
}

int close(int fd) {
    REAL(close);
    if (fd >= 0 && fd < MAXFD) fd_file[fd] = 0;
    return real_close(fd);
}

ssize_t write(int fd, const void *buf, size_t n) {
    REAL(write);
    ssize_t r = real_write(fd, buf, n);
    if (r > 0 && fd >= 0 && fd < MAXFD && fd_file[fd]) {
        off_t end = lseek(fd, 0, SEEK_CUR);
        struct iovec v = {(void *)buf, (size_t)r};
        if (end >= r) logged_write(fd, (uint64_t)(end - r), &v, 1, r);
    }
    return r;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
    REAL(pwrite);
    ssize_t r = real_pwrite(fd, buf, n, off);
    struct iovec v = {(void *)buf, r > 0 ? (size_t)r : 0};
    logged_write(fd, (uint64_t)off, &v, 1, r);
    return r;
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off) {
    REAL(pwrite64);
    ssize_t r = real_pwrite64(fd, buf, n, off);
    struct iovec v = {(void *)buf, r > 0 ? (size_t)r : 0};
    logged_write(fd, (uint64_t)off, &v, 1, r);
    return r;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt) {
    REAL(writev);
    ssize_t r = real_writev(fd, iov, cnt);
    if (r > 0 && fd >= 0 && fd < MAXFD && fd_file[fd]) {
        off_t end = lseek(fd, 0, SEEK_CUR);
        if (end >= r) logged_write(fd, (uint64_t)(end - r), iov, cnt, r);
    }
    return r;
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off) {
    REAL(pwritev);
    ssize_t r = real_pwritev(fd, iov, cnt, off);
    logged_write(fd, (uint64_t)off, iov, cnt, r);
    return r;
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off) {
    REAL(pwritev64);
    ssize_t r = real_pwritev64(fd, iov, cnt, off);
    logged_write(fd, (uint64_t)off, iov, cnt, r);
    return r;
}

int fsync(int fd) {
    REAL(fsync);
    int r = real_fsync(fd);
    if (r == 0) logged_event(fd, 'S', 0);
    return r;
}

int fdatasync(int fd) {
    REAL(fdatasync);
    int r = real_fdatasync(fd);
    if (r == 0) logged_event(fd, 'S', 0);
    return r;
}

int ftruncate(int fd, off_t len) {
    REAL(ftruncate);
    int r = real_ftruncate(fd, len);
    if (r == 0) logged_event(fd, 'T', (uint64_t)len);
    return r;
}

int ftruncate64(int fd, off64_t len) {
    REAL(ftruncate64);
    int r = real_ftruncate64(fd, len);
    if (r == 0) logged_event(fd, 'T', (uint64_t)len);
    return r;
}

int msync(void *addr, size_t len, int flags) {
    REAL(msync);
    int r = real_msync(addr, len, flags);
    init();
    if (r == 0 && logfd >= 0) {
        pthread_mutex_lock(&lock);
        put_record('M', 0, 0, 0, NULL, 0);
        pthread_mutex_unlock(&lock);
    }
    return r;
}
