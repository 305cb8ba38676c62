/* The C ABI test: links libqsota.a through include/qsota.h and exercises every exported
 * verifier function, including the misuse a C caller can commit (null pointers,
 * uninitialised storage, calls after the verifier is final). */
#include "qsota.h"

#include "check.h"

#include <stdio.h>
#include <string.h>

static const uint8_t CHECK[] = "123456789";

static void hex(const uint8_t *bytes, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", bytes[i]);
}

static void test_digests(void) {
    qsota_verifier_t v;
    uint32_t crc = 0;
    uint64_t size = 0;
    uint8_t md5[16], sha[32];
    char text[65];
    int32_t is_final = -1;

    EXPECT_EQ(qsota_verifier_init(&v), QSOTA_OK);
    /* Fed in two pieces: the result must not depend on the split. */
    EXPECT_EQ(qsota_verifier_update(&v, CHECK, 4), QSOTA_OK);
    EXPECT_EQ(qsota_verifier_update(&v, CHECK + 4, 5), QSOTA_OK);
    EXPECT_EQ(qsota_verifier_update(&v, NULL, 0), QSOTA_OK);
    EXPECT_EQ(qsota_verifier_crc32(&v, QSOTA_CRC_MPEG2, &crc), QSOTA_OK);
    EXPECT_EQ(crc, 0x0376E6E7u);
    EXPECT_EQ(qsota_verifier_crc32(&v, QSOTA_CRC_ISO_HDLC, &crc), QSOTA_OK);
    EXPECT_EQ(crc, 0xCBF43926u);
    EXPECT_EQ(qsota_verifier_crc32(&v, QSOTA_CRC_AUTO, &crc), QSOTA_E_ARG);
    EXPECT_EQ(qsota_verifier_size(&v, &size), QSOTA_OK);
    EXPECT_EQ(size, 9);
    EXPECT_EQ(qsota_verifier_is_final(&v, &is_final), QSOTA_OK);
    EXPECT_EQ(is_final, 1); /* a CRC, like a digest, describes the whole image */

    EXPECT_EQ(qsota_verifier_md5(&v, md5), QSOTA_OK);
    hex(md5, 16, text);
    EXPECT_EQ(strcmp(text, "25f9e794323b453885f5181f1b624d0b"), 0);
    EXPECT_EQ(qsota_verifier_sha256(&v, sha), QSOTA_OK);
    hex(sha, 32, text);
    EXPECT_EQ(strcmp(text, "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225"), 0);

    /* A digest makes the verifier final. */
    EXPECT_EQ(qsota_verifier_is_final(&v, &is_final), QSOTA_OK);
    EXPECT_EQ(is_final, 1);
    EXPECT_EQ(qsota_verifier_update(&v, CHECK, 1), QSOTA_E_STATE);
}

static void test_check(void) {
    qsota_verifier_t v;
    uint32_t mismatch = 0xff;
    int32_t variant = -1;
    static const char md5[] = "25F9E794323B453885F5181F1B624D0B";
    static const char sha[] = "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225";

    qsota_verifier_init(&v);
    EXPECT_EQ(qsota_verifier_expect_md5(&v, (const uint8_t *)md5, 32), QSOTA_OK);
    EXPECT_EQ(qsota_verifier_expect_sha256(&v, (const uint8_t *)sha, 64), QSOTA_OK);
    /* 0xCBF43926 printed in decimal, as the AT flow does. */
    EXPECT_EQ(qsota_verifier_expect_crc_text(&v, (const uint8_t *)"3421780262", 10), QSOTA_OK);
    EXPECT_EQ(qsota_verifier_expect_size(&v, 9), QSOTA_OK);
    qsota_verifier_update(&v, CHECK, 9);
    EXPECT_EQ(qsota_verifier_check(&v, &mismatch), QSOTA_OK);
    EXPECT_EQ(mismatch, 0);
    EXPECT_EQ(qsota_verifier_crc_matched(&v, &variant), QSOTA_OK);
    EXPECT_EQ(variant, QSOTA_CRC_ISO_HDLC);
    EXPECT_EQ(qsota_verifier_update(&v, CHECK, 1), QSOTA_E_STATE);

    /* Pinned to MPEG-2, the zlib CRC no longer matches; every field is reported. */
    qsota_verifier_init(&v);
    EXPECT_EQ(qsota_verifier_set_crc_variant(&v, QSOTA_CRC_MPEG2), QSOTA_OK);
    qsota_verifier_expect_crc(&v, 0xCBF43926u);
    qsota_verifier_expect_md5(&v, (const uint8_t *)"00000000000000000000000000000000", 32);
    qsota_verifier_expect_sha256(&v, (const uint8_t *)sha, 64);
    qsota_verifier_expect_size(&v, 10);
    qsota_verifier_update(&v, CHECK, 9);
    EXPECT_EQ(qsota_verifier_check(&v, &mismatch), QSOTA_OK);
    EXPECT_EQ(mismatch, QSOTA_FIELD_MD5 | QSOTA_FIELD_CRC | QSOTA_FIELD_SIZE);
    EXPECT_EQ(qsota_verifier_crc_matched(&v, &variant), QSOTA_OK);
    EXPECT_EQ(variant, QSOTA_CRC_AUTO);

    /* Pinned, the other variant is never computed, and the pin cannot move mid-stream. */
    uint32_t crc = 0;
    EXPECT_EQ(qsota_verifier_crc32(&v, QSOTA_CRC_ISO_HDLC, &crc), QSOTA_E_STATE);
    qsota_verifier_init(&v);
    qsota_verifier_update(&v, CHECK, 1);
    EXPECT_EQ(qsota_verifier_set_crc_variant(&v, QSOTA_CRC_MPEG2), QSOTA_E_STATE);
}

static void test_bad_input(void) {
    qsota_verifier_t v;
    int32_t variant = -1;
    uint32_t mismatch;

    qsota_verifier_init(&v);
    EXPECT_EQ(qsota_verifier_expect_md5(&v, (const uint8_t *)"abc", 3), QSOTA_E_LENGTH);
    EXPECT_EQ(qsota_verifier_expect_md5(&v, (const uint8_t *)"zz000000000000000000000000000000", 32),
              QSOTA_E_SYNTAX);
    EXPECT_EQ(qsota_verifier_expect_sha256(&v, (const uint8_t *)"00", 2), QSOTA_E_LENGTH);
    EXPECT_EQ(qsota_verifier_expect_crc_text(&v, (const uint8_t *)"0x", 2), QSOTA_E_SYNTAX);
    EXPECT_EQ(qsota_verifier_expect_crc_text(&v, (const uint8_t *)"-1", 2), QSOTA_E_SYNTAX);
    EXPECT_EQ(qsota_verifier_expect_crc_text(&v, (const uint8_t *)"0x100000000", 11), QSOTA_E_RANGE);
    EXPECT_EQ(qsota_verifier_expect_crc_text(&v, (const uint8_t *)"", 0), QSOTA_E_SYNTAX);
    EXPECT_EQ(qsota_verifier_set_crc_variant(&v, 3), QSOTA_E_ARG);
    EXPECT_EQ(qsota_verifier_update(&v, NULL, 1), QSOTA_E_NULL);
    EXPECT_EQ(qsota_verifier_check(&v, NULL), QSOTA_E_NULL);
    /* A failed check call (null output) must not have made the verifier final. */
    EXPECT_EQ(qsota_verifier_update(&v, CHECK, 1), QSOTA_OK);
    EXPECT_EQ(qsota_verifier_md5(&v, NULL), QSOTA_E_NULL);
    EXPECT_EQ(qsota_verifier_update(&v, CHECK, 1), QSOTA_OK);

    EXPECT_EQ(qsota_crc_variant_from_name((const uint8_t *)"iso-hdlc", 8, &variant), QSOTA_OK);
    EXPECT_EQ(variant, QSOTA_CRC_ISO_HDLC);
    EXPECT_EQ(qsota_crc_variant_from_name((const uint8_t *)"auto", 4, &variant), QSOTA_OK);
    EXPECT_EQ(variant, QSOTA_CRC_AUTO);
    EXPECT_EQ(qsota_crc_variant_from_name((const uint8_t *)"mpeg2", 5, &variant), QSOTA_OK);
    EXPECT_EQ(variant, QSOTA_CRC_MPEG2);
    EXPECT_EQ(qsota_crc_variant_from_name((const uint8_t *)"zlib", 4, &variant), QSOTA_E_ARG);
    EXPECT_EQ(qsota_crc_variant_from_name((const uint8_t *)"mpeg2", 5, NULL), QSOTA_E_NULL);

    /* Null or never-initialised storage is refused, not trusted. */
    EXPECT_EQ(qsota_verifier_init(NULL), QSOTA_E_NULL);
    EXPECT_EQ(qsota_verifier_update(NULL, CHECK, 1), QSOTA_E_NULL);
    memset(&v, 0xA5, sizeof v);
    EXPECT_EQ(qsota_verifier_update(&v, CHECK, 1), QSOTA_E_STATE);
    EXPECT_EQ(qsota_verifier_check(&v, &mismatch), QSOTA_E_STATE);
}

int main(void) {
    test_digests();
    test_check();
    test_bad_input();
    printf("C ABI (verifier storage %u bytes):\n", (unsigned)sizeof(qsota_verifier_t));
    return check_report("test_capi");
}
