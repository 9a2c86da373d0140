/* sha256: libcrypto's EVP digest over a buffer or a file read in large chunks. */
#include "common/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Large enough that the per-call cost of read() and EVP_DigestUpdate vanishes, small enough to
 * stay in L2/L3 between the copy and the hash. */
#define CHUNK (8u << 20)

/* Hashes a regular file through a read-only mapping (no copy into a buffer: the page cache pages
 * are hashed in place), in CHUNK steps with the pages behind dropped from the mapping so a large
 * file does not stay mapped. Returns 1 when done, 0 when the file cannot be mapped (the caller
 * falls back to read()), -1 on a hashing error. */
static int hash_mapped(int fd, uint64_t size, EVP_MD_CTX *ctx) {
    if (size == 0 || size > (uint64_t)SIZE_MAX) return 0;
    unsigned char *p = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) return 0;
    madvise(p, (size_t)size, MADV_SEQUENTIAL);
    int ok = 1;
    for (uint64_t off = 0; ok && off < size; off += CHUNK) {
        size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
        ok = EVP_DigestUpdate(ctx, p + off, n);
        madvise(p + off, n, MADV_DONTNEED);
    }
    munmap(p, (size_t)size);
    return ok ? 1 : -1;
}


static void to_hex(const unsigned char *md, char hex[SHA256_HEX_LEN]) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
}

int sha256_buffer(const void *data, size_t len, char hex[SHA256_HEX_LEN], Err *err) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(data ? data : "", len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return err_set(err, "sha256: libcrypto's EVP_Digest failed");
    to_hex(md, hex);
    return 0;
}

int sha256_file(const char *path, char hex[SHA256_HEX_LEN], uint64_t *size, Err *err) {
    if (is_dir(path)) return err_set(err, "%s: %s", path, strerror(EISDIR));
    int fd = open_regular(path, err); /* a FIFO would block the hash, and never end */
    if (fd < 0) return -1;
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *chunk = NULL;
    uint64_t total = 0;
    int rc = -1;
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
        err_set(err, "%s: libcrypto's SHA-256 could not start", path);
        goto done;
    }
    struct stat st;
    int mapped = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        mapped = hash_mapped(fd, (uint64_t)st.st_size, ctx);
        if (mapped < 0) {
            err_set(err, "%s: libcrypto's SHA-256 failed", path);
            goto done;
        }
        if (mapped) total = (uint64_t)st.st_size;
    }
    while (!mapped) {
        if (!chunk) chunk = xmalloc(CHUNK);
        ssize_t n = read(fd, chunk, CHUNK);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            err_set(err, "%s: %s", path, strerror(errno));
            goto done;
        }
        if (n == 0) break;
        if (!EVP_DigestUpdate(ctx, chunk, (size_t)n)) {
            err_set(err, "%s: libcrypto's SHA-256 failed", path);
            goto done;
        }
        total += (uint64_t)n;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != 32) {
        err_set(err, "%s: libcrypto's SHA-256 failed", path);
        goto done;
    }
    to_hex(md, hex);
    if (size) *size = total;
    rc = 0;
done:
    EVP_MD_CTX_free(ctx);
    free(chunk);
    close(fd);
    return rc;
}
