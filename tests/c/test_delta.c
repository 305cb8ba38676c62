/* The delta applier's C ABI through include/qsota.h (host only: the module library does not
 * ship qsota_delta_* yet, scripts/cross.sh): a package pushed in pieces, its header, the
 * target's SHA-256 (checked with the verifier), and the faults a C caller meets. */
#include "qsota.h"

#include "check.h"

#include <stdio.h>
#include <string.h>

/* The delta applier's base and target, behind qsota_delta_io_t's `user`. */
typedef struct {
    uint8_t base[300];
    uint8_t out[400];
    size_t n;
} delta_io;

static int32_t delta_read(void *user, uint32_t offset, uint8_t *buf, size_t len) {
    delta_io *io = user;
    if (offset + len > sizeof io->base) return -1;
    memcpy(buf, io->base + offset, len);
    return 0;
}

static int32_t delta_write(void *user, const uint8_t *data, size_t len) {
    delta_io *io = user;
    if (io->n + len > sizeof io->out) return -1;
    memcpy(io->out + io->n, data, len);
    io->n += len;
    return 0;
}

/* A package made for ESP (reserved bytes zero; base hash not checked: check_base 0) around
 * a detools patch without compression: the base's 300 bytes, then 3 extra bytes. */
static void test_delta(void) {
    static delta_io io;
    uint8_t pkg[64 + 4 + 2 + 300 + 5] = {0x10, 0xde, 0xcd, 0xfc};
    uint8_t window[16], sha[32], want[32], got_base[32], digest[20];
    uint32_t size = 0, base_size = 1;
    int32_t ext = -1;
    qsota_delta_t d;
    qsota_verifier_t v;
    size_t at = 64, i;
    qsota_delta_io_t cio = {&io, delta_read, delta_write};

    for (i = 0; i < sizeof io.base; i++) io.base[i] = (uint8_t)(i * 7);
    for (i = 4; i < 36; i++) pkg[i] = (uint8_t)i;
    /* sequential, none; target 303 (0xaf 0x04); data format 0; diff 300 (0xac 0x04). */
    memcpy(pkg + at, "\x00\xaf\x04\x00\xac\x04", 6);
    at += 6 + 300; /* diff bytes 0: the base as it is */
    memcpy(pkg + at, "\x03\x09\x09\x09\x00", 5);

    EXPECT_EQ(qsota_delta_push(&d, &cio, pkg, 1), QSOTA_E_STATE); /* not initialised */
    /* compression none: no window, told by the patch's first byte */
    EXPECT_EQ(qsota_delta_window_len(pkg, 64), QSOTA_E_LENGTH);
    EXPECT_EQ(qsota_delta_window_len(pkg, 65), 0);
    EXPECT_EQ(qsota_delta_window_len(NULL, 1), QSOTA_E_NULL);
    EXPECT_EQ(qsota_delta_init(&d, window, sizeof window, 300, 1000, 0), QSOTA_OK);
    EXPECT_EQ(qsota_delta_header(&d, got_base, &ext, &base_size, digest), QSOTA_E_STATE);
    EXPECT_EQ(qsota_delta_push(&d, NULL, pkg, 1), QSOTA_E_NULL);
    /* In pieces of 7 bytes: the result must not depend on the split. */
    for (i = 0; i < sizeof pkg; i += 7) {
        size_t n = sizeof pkg - i < 7 ? sizeof pkg - i : 7;
        EXPECT_EQ(qsota_delta_push(&d, &cio, pkg + i, n), QSOTA_OK);
    }
    EXPECT_EQ(qsota_delta_header(&d, got_base, &ext, &base_size, digest), QSOTA_OK);
    EXPECT_EQ(ext, 0);
    EXPECT_EQ(base_size, 0);
    EXPECT_EQ(memcmp(got_base, pkg + 4, 32), 0);
    EXPECT_EQ(qsota_delta_finish(&d, &size, sha), QSOTA_OK);
    EXPECT_EQ(size, 303);
    EXPECT_EQ(io.n, 303);
    EXPECT_EQ(memcmp(io.out, io.base, 300) == 0 && memcmp(io.out + 300, "\x09\x09\x09", 3) == 0, 1);
    qsota_verifier_init(&v);
    qsota_verifier_update(&v, io.out, io.n);
    qsota_verifier_sha256(&v, want);
    EXPECT_EQ(memcmp(sha, want, 32), 0);
    EXPECT_EQ(qsota_delta_fault(&d), 0);
    /* One byte more is refused, and stays refused. */
    EXPECT_EQ(qsota_delta_push(&d, &cio, pkg, 1), QSOTA_E_DELTA);
    EXPECT_EQ(qsota_delta_fault(&d), QSOTA_DELTA_TRAILING);
    EXPECT_EQ(strcmp(qsota_delta_fault_name(qsota_delta_fault(&d)), "trailing"), 0);
    EXPECT_EQ(qsota_delta_finish(&d, &size, sha), QSOTA_E_DELTA);
    /* heatshrink 8/7 needs a 256-byte window: 16 bytes are too few. */
    memcpy(pkg + 64, "\x04\x01\x45", 3);
    EXPECT_EQ(qsota_delta_init(&d, window, sizeof window, 300, 1000, 0), QSOTA_OK);
    EXPECT_EQ(qsota_delta_push(&d, &cio, pkg, 67), QSOTA_E_DELTA);
    EXPECT_EQ(qsota_delta_fault(&d), QSOTA_DELTA_MALFORMED); /* lookahead 8 >= window 8 */
    pkg[66] = 0x44;
    EXPECT_EQ(qsota_delta_window_len(pkg, 66), QSOTA_E_LENGTH);
    EXPECT_EQ(qsota_delta_window_len(pkg, 67), 256);
    EXPECT_EQ(qsota_delta_init(&d, window, sizeof window, 300, 1000, 0), QSOTA_OK);
    EXPECT_EQ(qsota_delta_push(&d, &cio, pkg, 67), QSOTA_E_DELTA);
    EXPECT_EQ(qsota_delta_fault(&d), QSOTA_DELTA_WINDOW);
    EXPECT_EQ(strcmp(qsota_delta_fault_name(99), ""), 0);
}

int main(void) {
    test_delta();
    printf("delta (storage %u bytes):\n", (unsigned)sizeof(qsota_delta_t));
    return check_report("test_delta");
}
