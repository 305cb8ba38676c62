// The signed-image part of _qsota.Verifier (keys=): the keys argument, the VerifyError
// text for a refused image, and the `image` attribute. Same texts as qsota.pure.image.
#include <string.h>

#include "py/mpprint.h"
#include "py/objstr.h"
#include "qsota.h"
#include "args.h"
#include "modqsota.h"
#include "rules.h"

void qsota_image_expect(qsota_verifier_t *core, mp_obj_t keys) {
    const qsota_rule_t *r = &qsota_verifier_checks[QSOTA_VERIFIER_keys];
    if (!mp_obj_is_type(keys, &mp_type_list) && !mp_obj_is_type(keys, &mp_type_tuple)) {
        qsota_refuse_type(r, keys);
    }
    size_t n;
    mp_obj_t *items;
    mp_obj_get_array(keys, &n, &items);
    if (n < r->lo || n > r->hi || n > QSOTA_MAX_KEYS) {
        qsota_raise(&mp_type_ValueError, "%q: %s, got %u", r->qst, r->msg, (unsigned)n);
    }
    uint8_t raw[32 * QSOTA_MAX_KEYS];
    for (size_t i = 0; i < n; i++) {
        mp_buffer_info_t buf;
        if (!mp_obj_is_type(items[i], &mp_type_bytes) && !mp_obj_is_type(items[i], &mp_type_bytearray)) {
            qsota_raise_type(r->qst, qsota_expected[QSOTA_RULE_BUF], items[i]);
        }
        mp_get_buffer_raise(items[i], &buf, MP_BUFFER_READ);
        if (buf.len != 32) {
            qsota_raise(&mp_type_ValueError, "%q: " QSOTA_KEY_BYTES ", got %u bytes", r->qst,
                (unsigned)buf.len);
        }
        memcpy(raw + 32 * i, buf.buf, 32);
    }
    qsota_check(qsota_verifier_expect_signature(core, raw, n), MP_QSTR_keys);
}

// The message of each QSOTA_IMAGE_E_* (index = code - 1), with its values a and b.
static const char *const problems[] = {
    "image: bad magic 0x%08x (not an MCUboot image)",
    "image: ih_hdr_size %u is below 32",
    "image: encrypted (ih_flags 0x%08x), cannot be checked",
    "image: truncated header (%u bytes)",
    "image: truncated body (%u of %u bytes)",
    "tlv: truncated TLV area (%u bytes after the body)",
    "tlv: bad magic 0x%04x at offset %u",
    "tlv: protected area of %u bytes, ih_protect_tlv_size says %u",
    "tlv: the TLV at offset %u runs past its area",
    "tlv: type 0x%02x has length %u",
    "image: %u bytes after the TLV area",
    "hash: no SHA-256 TLV (0x10)",
    "hash: the SHA-256 TLV does not match the image",
    "signature: the image is not signed (no key hash TLV 0x01)",
    "key: signed with a key not in keys (key hash %08x...)",
    "signature: no Ed25519 signature TLV (0x24)",
    "signature: the Ed25519 signature does not verify with keys[%u]",
    "tlv: type 0x%02x is not supported (sign with --sha 256, without --pure)",
};

void qsota_image_print_problem(const mp_print_t *print, qsota_verifier_t *core) {
    qsota_image_t image;
    qsota_check(qsota_verifier_image(core, &image), MP_QSTR_keys);
    if (image.error < 1 || image.error > (int32_t)MP_ARRAY_SIZE(problems)) {
        mp_printf(print, "signature: refused (%d)", (int)image.error);
        return;
    }
    mp_printf(print, problems[image.error - 1], (unsigned)image.a, (unsigned)image.b);
}

mp_obj_t qsota_image_info(qsota_verifier_t *core) {
    qsota_image_t image;
    if (qsota_verifier_image(core, &image) != QSOTA_OK || image.key < 0) {
        return mp_const_none; // no keys=, not checked yet, or refused
    }
    mp_obj_t info = mp_obj_new_dict(6);
    mp_obj_dict_store(info, MP_OBJ_NEW_QSTR(MP_QSTR_load_addr), mp_obj_new_int_from_uint(image.load_addr));
    mp_obj_dict_store(info, MP_OBJ_NEW_QSTR(MP_QSTR_hdr_size), mp_obj_new_int_from_uint(image.hdr_size));
    mp_obj_dict_store(info, MP_OBJ_NEW_QSTR(MP_QSTR_img_size), mp_obj_new_int_from_uint(image.img_size));
    mp_obj_dict_store(info, MP_OBJ_NEW_QSTR(MP_QSTR_flags), mp_obj_new_int_from_uint(image.flags));
    mp_obj_dict_store(info, MP_OBJ_NEW_QSTR(MP_QSTR_key), MP_OBJ_NEW_SMALL_INT(image.key));
    vstr_t vstr;
    mp_print_t print;
    vstr_init_print(&vstr, 24, &print);
    mp_printf(&print, "%u.%u.%u+%u", (unsigned)image.version_major, (unsigned)image.version_minor,
        (unsigned)image.version_revision, (unsigned)image.version_build);
    mp_obj_dict_store(info, MP_OBJ_NEW_QSTR(MP_QSTR_version), mp_obj_new_str(vstr.buf, vstr.len));
    vstr_clear(&vstr);
    return info;
}
