/* How a C bootloader uses the native receiver (docs/protocol.md), through include/qsota.h only.
 *
 * The "bootloader" here owns a RAM NOR flash (erase to 0xFF, program only erased bytes, in
 * aligned 8-byte units, like an STM32L4) and feeds the receiver what its UART received. The
 * module side is the native sender, also through the C ABI, over an in-memory line that can
 * lose bytes. Checks, for the three receivers (qsota_native_rx_t, one frame buffer,
 * qsota_native_rx2_t, two: it programs a frame a chunk per call while the next one arrives,
 * and qsota_native_rxd_t, two and the delta applier, here given whole images):
 * clean transfers, lossy lines, an MCU reset mid-transfer (resumes, re-sending at most one
 * window), a second send of a committed image, a wrong image (never committed), and misuse
 * of the API. Prints its pass/fail count. */
#include "qsota.h"

#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the bootloader's flash ---- */

#define SLOT_SIZE (96u * 1024u)
#define META_SIZE 2048u
#define SECTOR 4096u
#define UNIT 8u
#define WINDOW 4u

typedef struct {
    uint8_t slot[SLOT_SIZE];
    uint8_t meta[META_SIZE];
} ram_flash_t;

static uint8_t *place(ram_flash_t *f, int32_t area, uint32_t addr, size_t len) {
    uint8_t *base = area == QSOTA_AREA_SLOT ? f->slot : f->meta;
    size_t size = area == QSOTA_AREA_SLOT ? SLOT_SIZE : META_SIZE;
    if ((area != QSOTA_AREA_SLOT && area != QSOTA_AREA_META) || addr > size || len > size - addr)
        return NULL;
    return base + addr;
}

static int32_t flash_sector(void *user, uint32_t addr, uint32_t *start, uint32_t *len) {
    (void)user;
    *start = addr / SECTOR * SECTOR;
    *len = SECTOR;
    return 0;
}

static int32_t flash_erase(void *user, int32_t area, uint32_t start) {
    ram_flash_t *f = user;
    size_t len = area == QSOTA_AREA_SLOT ? SECTOR : META_SIZE;
    uint8_t *p = place(f, area, start, len);
    if (!p || start % len) return -1;
    memset(p, 0xFF, len);
    return 0;
}

static int32_t flash_write(void *user, int32_t area, uint32_t addr, const uint8_t *data,
                           size_t len) {
    uint8_t *p = place(user, area, addr, len);
    if (!p || addr % UNIT || len % UNIT) return -1;
    for (size_t i = 0; i < len; i++)
        if (p[i] != 0xFF) return -1; /* NOR: programming a programmed byte is an error */
    memcpy(p, data, len);
    return 0;
}

static int32_t flash_read(void *user, int32_t area, uint32_t addr, uint8_t *buf, size_t len) {
    uint8_t *p = place(user, area, addr, len);
    if (!p) return -1;
    memcpy(buf, p, len);
    return 0;
}

static ram_flash_t ram;
static const qsota_flash_t FLASH = {
    .user = &ram,
    .slot_size = SLOT_SIZE,
    .meta_size = META_SIZE,
    .program_unit = UNIT,
    .sector = flash_sector,
    .erase = flash_erase,
    .write = flash_write,
    .read = flash_read,
};

/* ---- the bootloader's receiver: one of the two kinds ---- */

typedef struct {
    qsota_native_rx_t *one; /* RAM for one frame buffer, or */
    qsota_native_rx2_t *two; /* for two, or */
    qsota_native_rxd_t *delta; /* for two and the delta applier */
} receiver_t;

static uint8_t hs_window[256]; /* the delta receiver's heatshrink window */

/* Both announce WINDOW frames: the two-buffer one adds its second buffer to what the UART
 * holds. It programs 256 bytes per call. */
static int32_t receiver_init(receiver_t r) {
    if (r.delta)
        return qsota_native_rxd_init(r.delta, WINDOW - 1, 50, 256, hs_window, sizeof hs_window);
    return r.two ? qsota_native_rx2_init(r.two, WINDOW - 1, 50, 256)
                 : qsota_native_rx_init(r.one, WINDOW, 50);
}

/* The bootloader's UART loop: feeds what arrived (`len` bytes at `data`), sends every answer
 * to `answer`; returns how many bytes the receiver took (all of them). */
static size_t receiver_feed(receiver_t r, const uint8_t *data, size_t len,
                            qsota_native_tx_t *answer, uint32_t now) {
    size_t at = 0;
    int32_t again;
    do {
        uint8_t out[QSOTA_NATIVE_REPLY_MAX];
        size_t used = 0, out_len = 0;
        if (r.delta) {
            EXPECT_EQ(qsota_native_rxd_receive(r.delta, &FLASH, data + at, len - at, out,
                                               sizeof out, &used, &out_len, &again),
                      QSOTA_OK);
        } else if (r.two) {
            EXPECT_EQ(qsota_native_rx2_receive(r.two, &FLASH, data + at, len - at, out,
                                             sizeof out, &used, &out_len, &again),
                      QSOTA_OK);
        } else {
            EXPECT_EQ(qsota_native_rx_receive(r.one, &FLASH, data + at, len - at, out, sizeof out,
                                            &used, &out_len),
                      QSOTA_OK);
            again = out_len > 0;
        }
        at += used;
        EXPECT_EQ(qsota_native_tx_receive(answer, now, out, out_len), QSOTA_OK);
    } while (again);
    return at;
}

static int receiver_committed(receiver_t r) {
    int32_t committed = -1;
    EXPECT_EQ(r.delta ? qsota_native_rxd_state(r.delta, &committed, NULL)
              : r.two ? qsota_native_rx2_state(r.two, &committed, NULL)
                      : qsota_native_rx_state(r.one, &committed, NULL),
              QSOTA_OK);
    return committed;
}

/* ---- the module side and the line ---- */

typedef struct {
    size_t drop_every;   /* lose one byte on the way to the MCU every N bytes (0: never) */
    uint64_t reset_at;   /* reset the MCU once the sender has this many bytes acknowledged */
} line_t;

/* The sender's defaults (checked), with the retransmission and open timeouts given. */
static qsota_native_options_t native_options(uint32_t rto_ms, uint32_t open_timeout_ms) {
    qsota_native_options_t o;
    EXPECT_EQ(qsota_native_options_default(&o), QSOTA_OK);
    EXPECT_EQ(o.open_timeout_ms, 60000u);
    EXPECT_EQ(o.retries, 10u);
    o.rto_ms = rto_ms;
    o.open_timeout_ms = open_timeout_ms;
    return o;
}

static void sha256_of(const uint8_t *data, size_t len, uint8_t sha[32]) {
    qsota_verifier_t v;
    qsota_verifier_init(&v);
    qsota_verifier_update(&v, data, len);
    qsota_verifier_sha256(&v, sha);
}

/* Sends `image` (claiming `sha`) to the receiver `rx` over `line`; returns the final action
 * and fills `stats`. One loop turn is one millisecond; the line carries 100 bytes per turn. */
static qsota_action_t transfer(receiver_t rx, const uint8_t *image, size_t size,
                               const uint8_t sha[32], line_t line, qsota_native_stats_t *stats) {
    static uint8_t frame[QSOTA_NATIVE_FRAME_SIZE];
    static uint8_t wire[64 * 1024];
    size_t wire_len = 0, sent = 0;
    int reset_done = 0;
    qsota_native_tx_t tx;
    qsota_action_t a = {0};
    qsota_native_options_t opts = native_options(0, 5000);
    EXPECT_EQ(qsota_native_tx_init(&tx, size, sha, (const uint8_t *)"mcu", 3,
                                 (const uint8_t *)"2.0", 3, &opts),
              QSOTA_OK);
    for (uint32_t now = 0; now < 600000; now++) {
        for (;;) {
            EXPECT_EQ(qsota_native_tx_poll(&tx, now, frame, sizeof frame, &a), QSOTA_OK);
            if (a.kind == QSOTA_ACTION_SEND) {
                for (size_t i = 0; i < a.len && wire_len < sizeof wire; i++)
                    if (!line.drop_every || ++sent % line.drop_every)
                        wire[wire_len++] = frame[i];
            } else if (a.kind == QSOTA_ACTION_READ) {
                size_t n = a.offset < size ? size - (size_t)a.offset : 0;
                n = n < a.len ? n : a.len;
                memcpy(frame + a.at, image + a.offset, n);
                EXPECT_EQ(qsota_native_tx_provide(&tx, n), QSOTA_OK);
            } else {
                break;
            }
        }
        if (a.kind == QSOTA_ACTION_DONE || a.kind == QSOTA_ACTION_FAILED) break;
        qsota_native_tx_stats(&tx, stats);
        if (line.reset_at && !reset_done && stats->bytes >= line.reset_at) {
            /* The MCU resets: its RAM and the bytes on the way are gone, flash stays. */
            reset_done = 1;
            wire_len = 0;
            EXPECT_EQ(receiver_init(rx), QSOTA_OK);
        }
        size_t chunk = wire_len < 100 ? wire_len : 100;
        EXPECT_EQ(receiver_feed(rx, wire, chunk, &tx, now), chunk);
        memmove(wire, wire + chunk, wire_len - chunk);
        wire_len -= chunk;
    }
    qsota_native_tx_stats(&tx, stats);
    return a;
}

static uint8_t image[60000], other[60000];

/* The slot holds exactly `data`, committed under its SHA-256. */
static void expect_committed(const uint8_t *data, size_t size) {
    int32_t found = -1;
    uint32_t stored_size = 0;
    uint8_t sha[32], want[32];
    sha256_of(data, size, want);
    EXPECT_EQ(qsota_native_stored_image(&FLASH, &found, &stored_size, sha), QSOTA_OK);
    EXPECT_EQ(found, 1);
    EXPECT_EQ(stored_size, size);
    EXPECT_EQ(memcmp(sha, want, 32), 0);
    EXPECT_EQ(memcmp(ram.slot, data, size), 0);
}

static void expect_nothing_committed(void) {
    int32_t found = -1;
    uint32_t size;
    uint8_t sha[32];
    EXPECT_EQ(qsota_native_stored_image(&FLASH, &found, &size, sha), QSOTA_OK);
    EXPECT_EQ(found, 0);
}

static void test_transfers(receiver_t rx) {
    qsota_native_stats_t st;
    qsota_action_t a;
    uint8_t sha[32], sha_other[32];
    line_t clean = {0, 0};

    sha256_of(image, sizeof image, sha);
    sha256_of(other, sizeof other, sha_other);
    memset(&ram, 0xFF, sizeof ram);

    /* Clean: all of it, at 14 bytes of framing per KB. */
    EXPECT_EQ(receiver_init(rx), QSOTA_OK);
    a = transfer(rx, image, sizeof image, sha, clean, &st);
    EXPECT_EQ(a.kind, QSOTA_ACTION_DONE);
    EXPECT_EQ(st.resent_bytes, 0);
    EXPECT_EQ(st.window, WINDOW);
    EXPECT_EQ(st.payload, 1024);
    EXPECT_EQ(st.line_bytes <= sizeof image + 59 * 14 + 80, 1);
    EXPECT_EQ(receiver_committed(rx), 1);
    expect_committed(image, sizeof image);

    /* The same image again: the receiver has it committed, nothing is sent. */
    EXPECT_EQ(receiver_init(rx), QSOTA_OK);
    a = transfer(rx, image, sizeof image, sha, clean, &st);
    EXPECT_EQ(a.kind, QSOTA_ACTION_DONE);
    EXPECT_EQ(st.resumed_from, sizeof image);
    EXPECT_EQ(st.frames, 0);

    /* A new image over a lossy line, with an MCU reset half way. */
    for (size_t drop = 0; drop <= 5000; drop += 2500) {
        line_t line = {drop, 30000};
        memset(&ram, 0xFF, sizeof ram);
        EXPECT_EQ(receiver_init(rx), QSOTA_OK);
        a = transfer(rx, other, sizeof other, sha_other, line, &st);
        EXPECT_EQ(a.kind, QSOTA_ACTION_DONE);
        if (!drop) EXPECT_EQ(st.resent_bytes <= WINDOW * 1024, 1); /* reset costs <= a window */
        expect_committed(other, sizeof other);
    }

    /* A wrong image (the source differs from the SHA-256 announced): never committed. */
    memset(&ram, 0xFF, sizeof ram);
    EXPECT_EQ(receiver_init(rx), QSOTA_OK);
    a = transfer(rx, other, sizeof other, sha, clean, &st);
    EXPECT_EQ(a.kind, QSOTA_ACTION_FAILED);
    EXPECT_EQ(a.fail, QSOTA_FAIL_REJECTED);
    EXPECT_EQ(strcmp(qsota_fail_name(a.fail), "rejected"), 0);
    EXPECT_EQ(st.error, 4); /* DIGEST */
    EXPECT_EQ(receiver_committed(rx), 0);
    expect_nothing_committed();
}

static void test_misuse(void) {
    qsota_native_rx_t rx;
    qsota_native_tx_t tx;
    qsota_action_t a;
    uint8_t sha[32] = {0}, out[QSOTA_NATIVE_REPLY_MAX] = {0}, frame[QSOTA_NATIVE_FRAME_SIZE];
    size_t used, out_len;
    int32_t found;
    uint32_t size;
    qsota_flash_t broken = FLASH;

    memset(&rx, 0, sizeof rx);
    EXPECT_EQ(qsota_native_rx_receive(&rx, &FLASH, out, 1, out, sizeof out, &used, &out_len),
              QSOTA_E_STATE);
    EXPECT_EQ(qsota_native_rx_init(NULL, WINDOW, 50), QSOTA_E_NULL);
    EXPECT_EQ(qsota_native_rx_init(&rx, 0, 50), QSOTA_E_RANGE);
    EXPECT_EQ(qsota_native_rx_init(&rx, WINDOW, 50), QSOTA_OK);
    EXPECT_EQ(qsota_native_rx_receive(&rx, NULL, out, 1, out, sizeof out, &used, &out_len),
              QSOTA_E_NULL);
    EXPECT_EQ(qsota_native_rx_receive(&rx, &FLASH, out, 1, out, 8, &used, &out_len),
              QSOTA_E_BUFFER);
    EXPECT_EQ(qsota_native_rx_receive(&rx, &FLASH, NULL, 5, out, sizeof out, &used, &out_len),
              QSOTA_E_NULL);
    EXPECT_EQ(qsota_native_stored_image(NULL, &found, &size, sha), QSOTA_E_NULL);
    {
        qsota_native_rx2_t rx2;
        int32_t again;
        EXPECT_EQ(qsota_native_rx2_init(&rx2, 0, 50, 256), QSOTA_E_RANGE);
        EXPECT_EQ(qsota_native_rx2_init(NULL, 1, 50, 256), QSOTA_E_NULL);
        /* A one-buffer context is not a two-buffer one, nor the other way round. */
        EXPECT_EQ(qsota_native_rx2_receive((qsota_native_rx2_t *)&rx, &FLASH, out, 1, out,
                                         sizeof out, &used, &out_len, &again),
                  QSOTA_E_STATE);
        EXPECT_EQ(qsota_native_rx2_init(&rx2, 1, 50, 256), QSOTA_OK);
        EXPECT_EQ(qsota_native_rx_receive((qsota_native_rx_t *)&rx2, &FLASH, out, 1, out, sizeof out,
                                        &used, &out_len),
                  QSOTA_E_STATE);
        EXPECT_EQ(qsota_native_rx2_receive(&rx2, &FLASH, out, 1, out, sizeof out, &used, &out_len,
                                         NULL),
                  QSOTA_E_NULL);
        EXPECT_EQ(qsota_native_rx2_receive(&rx2, &FLASH, out, 1, out, 8, &used, &out_len, &again),
                  QSOTA_E_BUFFER);
    }

    qsota_native_options_t opts = native_options(0, 1000);
    EXPECT_EQ(qsota_native_options_default(NULL), QSOTA_E_NULL);
    EXPECT_EQ(qsota_native_tx_init(&tx, 1ull << 32, sha, NULL, 0, NULL, 0, &opts), QSOTA_E_RANGE);
    EXPECT_EQ(qsota_native_tx_init(&tx, 10, NULL, NULL, 0, NULL, 0, &opts), QSOTA_E_NULL);
    EXPECT_EQ(qsota_native_tx_init(&tx, 10, sha, (const uint8_t *)"x", 33, NULL, 0, &opts),
              QSOTA_E_LENGTH);
    opts.open_timeout_ms = 0;
    EXPECT_EQ(qsota_native_tx_init(&tx, 10, sha, NULL, 0, NULL, 0, &opts), QSOTA_E_RANGE);
    opts = native_options(0, 1000);
    opts.retries = 256;
    EXPECT_EQ(qsota_native_tx_init(&tx, 10, sha, NULL, 0, NULL, 0, &opts), QSOTA_E_RANGE);
    EXPECT_EQ(qsota_native_tx_poll((qsota_native_tx_t *)&rx, 0, frame, sizeof frame, &a),
              QSOTA_E_STATE);
    EXPECT_EQ(qsota_native_tx_init(&tx, 10, sha, NULL, 0, NULL, 0, NULL), QSOTA_OK);
    EXPECT_EQ(qsota_native_tx_poll(&tx, 0, NULL, 0, &a), QSOTA_E_NULL);
    EXPECT_EQ(qsota_native_tx_poll(&tx, 0, frame, 100, &a), QSOTA_OK);
    EXPECT_EQ(a.kind, QSOTA_ACTION_SEND); /* OPEN fits; the frame is too small for DATA: */
    EXPECT_EQ(qsota_native_tx_poll(&tx, 0, frame, 100, &a), QSOTA_OK);
    EXPECT_EQ(a.kind, QSOTA_ACTION_FAILED);
    EXPECT_EQ(a.fail, QSOTA_FAIL_USAGE);

    /* A flash without callbacks fails cleanly: the receiver answers ERROR, commits nothing. */
    broken.write = NULL;
    broken.erase = NULL;
    memset(&ram, 0xFF, sizeof ram);
    {
        uint8_t img[100] = {1, 2, 3};
        uint8_t img_sha[32];
        qsota_native_stats_t st;
        sha256_of(img, sizeof img, img_sha);
        EXPECT_EQ(qsota_native_rx_init(&rx, WINDOW, 50), QSOTA_OK);
        opts = native_options(100, 1000);
        EXPECT_EQ(qsota_native_tx_init(&tx, sizeof img, img_sha, NULL, 0, NULL, 0, &opts),
                  QSOTA_OK);
        EXPECT_EQ(qsota_native_tx_poll(&tx, 0, frame, sizeof frame, &a), QSOTA_OK);
        EXPECT_EQ(qsota_native_rx_receive(&rx, &broken, frame, a.len, out, sizeof out, &used,
                                        &out_len),
                  QSOTA_OK);
        EXPECT_EQ(qsota_native_tx_receive(&tx, 1, out, out_len), QSOTA_OK);
        EXPECT_EQ(qsota_native_tx_poll(&tx, 1, frame, sizeof frame, &a), QSOTA_OK);
        EXPECT_EQ(a.kind, QSOTA_ACTION_FAILED);
        EXPECT_EQ(a.fail, QSOTA_FAIL_REJECTED);
        qsota_native_tx_stats(&tx, &st);
        EXPECT_EQ(st.error, 3); /* FLASH */
    }
}

int main(void) {
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof image; i++) {
        x = x * 1103515245u + 12345u;
        image[i] = (uint8_t)(x >> 16);
        other[i] = (uint8_t)(x >> 8);
    }
    qsota_native_rx_t one;
    qsota_native_rx2_t two;
    qsota_native_rxd_t delta;
    test_transfers((receiver_t){&one, NULL, NULL});
    test_transfers((receiver_t){NULL, &two, NULL});
    test_transfers((receiver_t){NULL, NULL, &delta});
    test_misuse();
    return check_report("receiver_example");
}
