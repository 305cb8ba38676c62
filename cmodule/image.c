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

void qsota_image_print_problem(const mp_print_t *print, qsota_verifier_t *core) {
    qsota_image_t image;
    qsota_check(qsota_verifier_image(core, &image), MP_QSTR_keys);
    char text[128];
    qsota_check(qsota_image_problem(image.error, (uint8_t *)text, sizeof(text)), MP_QSTR_keys);
    if (text[0] == 0) {
        mp_printf(print, "signature: refused (%d)", (int)image.error);
        return;
    }
    mp_printf(print, text, (unsigned)image.a, (unsigned)image.b);
}

mp_obj_t qsota_image_info(qsota_verifier_t *core) {
    qsota_image_t image;
    if (qsota_verifier_image(core, &image) != QSOTA_OK || image.key < 0) {
        return mp_const_none; // no keys=, not checked yet, or refused
    }
    mp_obj_t info = mp_obj_new_dict(7);
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
    mp_obj_dict_store(info, MP_OBJ_NEW_QSTR(MP_QSTR_body_sha256),
        mp_obj_new_bytes(image.body_sha256, sizeof(image.body_sha256)));
    return info;
}

// tlv_hash(head, tail, tail_at): the SHA-256 TLV of an MCUboot image from the two ends of its
// file, as bytes, or None (qsota_image_tlv_hash; qsota.pure.image.tlv_hash).
static mp_obj_t qsota_tlv_hash(mp_obj_t head_in, mp_obj_t tail_in, mp_obj_t tail_at_in) {
    mp_buffer_info_t head, tail;
    if (mp_obj_is_str(head_in) || !mp_get_buffer(head_in, &head, MP_BUFFER_READ)) {
        qsota_refuse_type(&qsota_tlv_hash_checks[QSOTA_TLV_HASH_head], head_in);
    }
    if (mp_obj_is_str(tail_in) || !mp_get_buffer(tail_in, &tail, MP_BUFFER_READ)) {
        qsota_refuse_type(&qsota_tlv_hash_checks[QSOTA_TLV_HASH_tail], tail_in);
    }
    const qsota_rule_t *r = &qsota_tlv_hash_checks[QSOTA_TLV_HASH_tail_at];
    uint32_t tail_at = qsota_int_arg(tail_at_in, r->qst, r->lo, r->hi, r->msg);
    uint8_t hash[32];
    int32_t found;
    qsota_check(qsota_image_tlv_hash(head.buf, head.len, tail.buf, tail.len, tail_at, hash,
        &found), MP_QSTR_tlv_hash);
    return found ? mp_obj_new_bytes(hash, sizeof(hash)) : mp_const_none;
}
MP_DEFINE_CONST_FUN_OBJ_3(qsota_tlv_hash_obj, qsota_tlv_hash);
