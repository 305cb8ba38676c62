/* The C ABI test: links libqsota.a through include/qsota.h and exercises every exported
 * verifier function (signed MCUboot images and exported states included), including the misuse a C caller can commit (null pointers,
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

/* An image made by `imgtool sign` (Ed25519, a protected security counter, version
 * 3.1.4+1, a 200-byte body) with a throwaway key that was deleted after signing;
 * tests/arm/mp/signed_image.py holds the same one. */
static const uint8_t SIGNED[] = {
    0x3d, 0xb8, 0xf3, 0x96, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x0c, 0x00,
    0xc8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x01, 0x04, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x6e, 0xa6, 0x87, 0x76,
    0x6e, 0xac, 0xfb, 0x9c, 0xf0, 0x5e, 0x91, 0x5f, 0xfc, 0xeb, 0x62, 0x44,
    0xaa, 0x51, 0x77, 0x23, 0x07, 0x32, 0xa7, 0x2f, 0x55, 0xff, 0xd6, 0xdd,
    0x5e, 0x83, 0x38, 0xad, 0x50, 0xba, 0xa5, 0x01, 0x36, 0x80, 0x9c, 0x56,
    0x86, 0x53, 0xb6, 0x80, 0x51, 0x74, 0xb6, 0x76, 0x1d, 0xdb, 0xf6, 0xe5,
    0xcd, 0x8a, 0xcd, 0x9a, 0xd7, 0x44, 0xb0, 0x14, 0xe2, 0x98, 0x82, 0x55,
    0x47, 0xab, 0xe4, 0x8d, 0xfe, 0xfb, 0xb6, 0xef, 0xf8, 0xc6, 0xdc, 0x9d,
    0x76, 0xa4, 0x39, 0xb3, 0x0f, 0x25, 0x78, 0x0a, 0x6c, 0xce, 0x6a, 0xba,
    0xc3, 0x6d, 0x07, 0x61, 0xa0, 0xba, 0x5e, 0x2b, 0x67, 0x4a, 0x17, 0xb4,
    0xc4, 0x2c, 0x3b, 0xf2, 0x90, 0xa4, 0xb7, 0x73, 0x54, 0x82, 0x86, 0xf3,
    0x55, 0xe2, 0x9d, 0xb9, 0x17, 0xa4, 0x2e, 0x6c, 0xa6, 0x73, 0x3b, 0x28,
    0x85, 0x18, 0x1e, 0x2b, 0x2c, 0x5e, 0xee, 0x3c, 0x16, 0x3a, 0x24, 0x0d,
    0xa9, 0x0e, 0x67, 0x1c, 0x6f, 0xa4, 0xe6, 0x21, 0x3b, 0xd9, 0x9a, 0x81,
    0xb3, 0x65, 0x29, 0xdf, 0xdf, 0x1b, 0x80, 0xec, 0xa9, 0x19, 0xb1, 0xfd,
    0xda, 0x51, 0x26, 0x97, 0x5f, 0x3c, 0x36, 0x10, 0x6a, 0x97, 0x32, 0xc6,
    0x01, 0xa7, 0x3d, 0xb0, 0xe6, 0xdb, 0x37, 0x62, 0xc7, 0xe4, 0x22, 0xca,
    0x8d, 0x18, 0x00, 0xbf, 0x2a, 0xbb, 0x23, 0xe3, 0x05, 0x02, 0x07, 0x1a,
    0xb8, 0xa9, 0x40, 0xeb, 0x08, 0x69, 0x0c, 0x00, 0x50, 0x00, 0x04, 0x00,
    0x05, 0x00, 0x00, 0x00, 0x07, 0x69, 0x90, 0x00, 0x10, 0x00, 0x20, 0x00,
    0x02, 0xaa, 0x61, 0xdb, 0x14, 0xe9, 0x02, 0x77, 0x92, 0xd1, 0xe0, 0xe7,
    0xe4, 0xb8, 0xa0, 0x8f, 0x49, 0x34, 0x9d, 0xb6, 0xe8, 0x6b, 0xff, 0xd2,
    0x77, 0xc7, 0xdb, 0x3f, 0x05, 0xa1, 0x5f, 0xf3, 0x01, 0x00, 0x20, 0x00,
    0x7f, 0xc6, 0x93, 0xce, 0x96, 0xc9, 0x2a, 0x32, 0x7f, 0x8b, 0x16, 0x82,
    0xde, 0x4d, 0x0f, 0x06, 0x8f, 0x65, 0x23, 0xe2, 0x09, 0xf2, 0x48, 0xb9,
    0x0a, 0xe4, 0x0b, 0x32, 0xb4, 0x8a, 0x81, 0x37, 0x24, 0x00, 0x40, 0x00,
    0x76, 0x7f, 0xd9, 0xab, 0xca, 0xe8, 0x8f, 0x05, 0xb0, 0xfd, 0x3d, 0x52,
    0x74, 0x21, 0x3e, 0x0d, 0x88, 0x78, 0x62, 0x78, 0x01, 0x5d, 0xa1, 0x40,
    0x8a, 0x93, 0x9e, 0x8b, 0x94, 0x7a, 0x21, 0x13, 0xae, 0xe6, 0x45, 0x90,
    0x1f, 0x71, 0xa7, 0x0d, 0x2e, 0x9a, 0x34, 0xf4, 0x7b, 0xa9, 0x80, 0x1e,
    0x9c, 0x73, 0x8f, 0xe6, 0x92, 0xca, 0x93, 0x38, 0x13, 0xa0, 0x00, 0x72,
    0xd6, 0x3d, 0x59, 0x02,
};
static const uint8_t SIGNED_KEY[32] = {
    0x91, 0xa6, 0xbd, 0x1e, 0xa0, 0x80, 0x6d, 0xef, 0x84, 0x14, 0x50, 0x6e,
    0x4b, 0x2a, 0x5c, 0xf8, 0x14, 0x1e, 0xd3, 0x90, 0xb8, 0xee, 0x49, 0xd8,
    0xc2, 0x84, 0xa7, 0xe6, 0xb7, 0x73, 0xf2, 0x75,
};

static void test_signed_image(void) {
    qsota_verifier_t v;
    qsota_image_t image;
    uint32_t mismatch = 0xff;
    uint8_t keys[64] = {0}, tampered[sizeof SIGNED];

    memcpy(keys + 32, SIGNED_KEY, 32);
    EXPECT_EQ(qsota_verifier_init(&v), QSOTA_OK);
    EXPECT_EQ(qsota_verifier_image(&v, &image), QSOTA_E_STATE); /* no keys given */
    EXPECT_EQ(qsota_verifier_expect_signature(&v, NULL, 1), QSOTA_E_NULL);
    EXPECT_EQ(qsota_verifier_expect_signature(&v, keys, 0), QSOTA_E_RANGE);
    EXPECT_EQ(qsota_verifier_expect_signature(&v, keys, QSOTA_MAX_KEYS + 1), QSOTA_E_RANGE);
    EXPECT_EQ(qsota_verifier_expect_signature(&v, keys, (size_t)-1), QSOTA_E_RANGE);
    EXPECT_EQ(qsota_verifier_expect_signature(&v, keys, 2), QSOTA_OK);
    /* In uneven pieces: the parser keeps its place between calls. */
    EXPECT_EQ(qsota_verifier_update(&v, SIGNED, 33), QSOTA_OK);
    EXPECT_EQ(qsota_verifier_image(&v, &image), QSOTA_OK);
    EXPECT_EQ(image.has_header, 1);
    EXPECT_EQ(image.key, -1); /* not checked yet */
    EXPECT_EQ(qsota_verifier_update(&v, SIGNED + 33, sizeof SIGNED - 33), QSOTA_OK);
    EXPECT_EQ(qsota_verifier_check(&v, &mismatch), QSOTA_OK);
    EXPECT_EQ(mismatch, 0);
    EXPECT_EQ(qsota_verifier_image(&v, &image), QSOTA_OK);
    EXPECT_EQ(image.error, QSOTA_IMAGE_OK);
    EXPECT_EQ(image.key, 1);
    EXPECT_EQ(image.hdr_size, 32);
    EXPECT_EQ(image.img_size, 200);
    EXPECT_EQ(image.version_major * 1000 + image.version_minor * 100 + image.version_revision, 3104);
    EXPECT_EQ(image.version_build, 1);

    /* One bit of the body changed: the hash TLV no longer matches. */
    memcpy(tampered, SIGNED, sizeof SIGNED);
    tampered[100] ^= 1;
    qsota_verifier_init(&v);
    EXPECT_EQ(qsota_verifier_expect_signature(&v, keys, 2), QSOTA_OK);
    EXPECT_EQ(qsota_verifier_update(&v, tampered, sizeof tampered), QSOTA_OK);
    EXPECT_EQ(qsota_verifier_check(&v, &mismatch), QSOTA_OK);
    EXPECT_EQ(mismatch, QSOTA_FIELD_SIGNATURE);
    EXPECT_EQ(qsota_verifier_image(&v, &image), QSOTA_OK);
    EXPECT_EQ(image.error, QSOTA_IMAGE_E_HASH_MISMATCH);
    EXPECT_EQ(image.key, -1);
    /* Keys only before the first byte. */
    EXPECT_EQ(qsota_verifier_expect_signature(&v, keys, 2), QSOTA_E_STATE);
}

/* A state exported midway imports into a fresh verifier, which continues to the same digest;
 * a damaged state is refused and leaves the verifier fresh. */
static void test_state(void) {
    qsota_verifier_t a, b;
    uint8_t state[QSOTA_VERIFIER_STATE_LEN], whole[32], resumed[32];
    qsota_verifier_init(&a);
    qsota_verifier_update(&a, CHECK, 9);
    qsota_verifier_sha256(&a, whole);

    qsota_verifier_init(&a);
    qsota_verifier_update(&a, CHECK, 4);
    EXPECT_EQ(qsota_verifier_export(&a, state), QSOTA_OK);
    EXPECT_EQ(qsota_verifier_export(&a, NULL), QSOTA_E_NULL);
    qsota_verifier_init(&b);
    EXPECT_EQ(qsota_verifier_import(&b, state, sizeof(state) - 1), QSOTA_E_LENGTH);
    state[20] ^= 1;
    EXPECT_EQ(qsota_verifier_import(&b, state, sizeof(state)), QSOTA_E_SYNTAX);
    state[20] ^= 1;
    EXPECT_EQ(qsota_verifier_import(&b, state, sizeof(state)), QSOTA_OK);
    EXPECT_EQ(qsota_verifier_import(&b, state, sizeof(state)), QSOTA_E_STATE);
    qsota_verifier_update(&b, CHECK + 4, 5);
    EXPECT_EQ(qsota_verifier_sha256(&b, resumed), QSOTA_OK);
    EXPECT_EQ(memcmp(whole, resumed, 32), 0);
    EXPECT_EQ(qsota_verifier_export(&b, state), QSOTA_E_STATE); /* final */
}

int main(void) {
    test_digests();
    test_state();
    test_check();
    test_bad_input();
    test_signed_image();
    printf("C ABI (verifier storage %u bytes):\n", (unsigned)sizeof(qsota_verifier_t));
    return check_report("test_capi");
}
