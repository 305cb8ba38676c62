// _qsota.Verifier: streaming MD5, SHA-256 and CRC-32 (MPEG-2 and ISO-HDLC) of a firmware
// image, checked against the values the platform gave. The state lives inside the object
// (qsota_verifier_t), so update() neither copies nor allocates.
#include "py/mpprint.h"
#include "py/objexcept.h"
#include "py/objint.h"
#include "py/objstr.h"
#include "qsota.h"
#include "args.h"
#include "modqsota.h"
#include "rules.h"

// qsota.VerifyError: Verifier.check() found a mismatch. A ValueError, so that scripts that
// catch ValueError around their own checks keep working.
MP_DEFINE_EXCEPTION(VerifyError, ValueError)

typedef struct {
    mp_obj_base_t base;
    // The expected values as the caller gave them, for the VerifyError message
    // (MP_OBJ_NULL: not given).
    mp_obj_t md5;
    mp_obj_t sha256;
    mp_obj_t crc;
    mp_obj_t size;
    int32_t crc_variant; // QSOTA_CRC_*
    bool resumable; // export() and restore() allowed (qsota.pure hashes in Python then)
    qsota_verifier_t core;
} verifier_obj_t;

// The text of a str or bytes argument of row `r` (HEX, CRC).
static const byte *text_arg(const qsota_rule_t *r, mp_obj_t obj, size_t *len) {
    if (!mp_obj_is_str_or_bytes(obj)) {
        qsota_refuse_type(r, obj);
    }
    return (const byte *)mp_obj_str_get_data(obj, len);
}

typedef int32_t (*expect_hex_fn)(qsota_verifier_t *, const uint8_t *, size_t);

// Expects a digest given as hex digits (str or bytes): a HEX row, whose lo is their count.
static void expect_hex(verifier_obj_t *self, expect_hex_fn expect, mp_obj_t obj,
    const qsota_rule_t *r) {
    size_t len;
    const byte *text = text_arg(r, obj, &len);
    int32_t status = expect(&self->core, text, len);
    if (status == QSOTA_E_LENGTH) {
        qsota_raise(&mp_type_ValueError, "%q: %s, got %u", r->qst, r->msg, (unsigned)len);
    }
    if (status == QSOTA_E_SYNTAX) {
        qsota_raise(&mp_type_ValueError, "%q: %s, " QSOTA_NON_HEX, r->qst, r->msg);
    }
    qsota_check(status, r->qst);
}

// Expects a CRC given as an int or as decimal/hex text (digits only: either reading).
static void expect_crc(verifier_obj_t *self, mp_obj_t obj) {
    const qsota_rule_t *r = &qsota_verifier_checks[QSOTA_VERIFIER_crc];
    int32_t status;
    if (mp_obj_is_int(obj)) {
        status = qsota_verifier_expect_crc(&self->core, qsota_int_arg(obj, r->qst, r->lo, r->hi,
            r->msg));
    } else {
        size_t len;
        const byte *text = text_arg(r, obj, &len);
        status = qsota_verifier_expect_crc_text(&self->core, text, len);
    }
    if (status == QSOTA_E_SYNTAX) {
        qsota_raise(&mp_type_ValueError, "%q: " QSOTA_NOT_A_NUMBER, r->qst);
    }
    if (status == QSOTA_E_RANGE) {
        qsota_raise(&mp_type_ValueError, "%q: %s", r->qst, r->msg);
    }
    qsota_check(status, r->qst);
}

// The QSOTA_CRC_* code of a variant name, by a NAME row whose lo..hi are the codes allowed.
static int32_t variant_arg(const qsota_rule_t *r, mp_obj_t obj) {
    if (!mp_obj_is_str(obj)) {
        qsota_refuse_type(r, obj);
    }
    size_t len;
    const char *name = mp_obj_str_get_data(obj, &len);
    int32_t variant;
    int32_t status = qsota_crc_variant_from_name((const uint8_t *)name, len, &variant);
    if (status == QSOTA_E_ARG
        || (status == QSOTA_OK && (variant < (int32_t)r->lo || variant > (int32_t)r->hi))) {
        qsota_raise(&mp_type_ValueError, "%q: %s", r->qst, r->msg);
    }
    qsota_check(status, r->qst);
    return variant;
}

static bool given(mp_obj_t obj) {
    return obj != MP_OBJ_NULL && obj != mp_const_none;
}

static mp_obj_t verifier_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *all_args) {
    // Bound and checked by the rows of qsota.rules' VERIFIER, in their order, as qsota.pure.
    const qsota_rule_t *rows = qsota_verifier_checks;
    mp_arg_val_t args[MP_ARRAY_SIZE(qsota_verifier_params)];
    qsota_parse_args(n_args, n_kw, all_args, MP_ARRAY_SIZE(qsota_verifier_params),
        qsota_verifier_params, args);
    mp_obj_t md5 = args[QSOTA_VERIFIER_md5].u_obj, sha256 = args[QSOTA_VERIFIER_sha256].u_obj;
    mp_obj_t crc = args[QSOTA_VERIFIER_crc].u_obj, size = args[QSOTA_VERIFIER_size].u_obj;
    mp_obj_t variant = args[QSOTA_VERIFIER_crc_variant].u_obj;
    mp_obj_t keys = args[QSOTA_VERIFIER_keys].u_obj;
    mp_obj_t resumable = args[QSOTA_VERIFIER_resumable].u_obj;

    verifier_obj_t *self = mp_obj_malloc(verifier_obj_t, type);
    self->md5 = self->sha256 = self->crc = self->size = MP_OBJ_NULL;
    self->crc_variant = QSOTA_CRC_AUTO;
    qsota_check(qsota_verifier_init(&self->core), MP_QSTR_Verifier);

    if (given(md5)) {
        self->md5 = md5;
        expect_hex(self, qsota_verifier_expect_md5, md5, &rows[QSOTA_VERIFIER_md5]);
    }
    if (given(sha256)) {
        self->sha256 = sha256;
        expect_hex(self, qsota_verifier_expect_sha256, sha256, &rows[QSOTA_VERIFIER_sha256]);
    }
    if (given(crc)) {
        self->crc = crc;
        expect_crc(self, crc);
    }
    if (given(size)) {
        self->size = size;
        const qsota_rule_t *r = &rows[QSOTA_VERIFIER_size];
        uint32_t n = qsota_int_arg(size, r->qst, r->lo, r->hi, r->msg);
        qsota_check(qsota_verifier_expect_size(&self->core, n), r->qst);
    }
    if (given(variant)) {
        self->crc_variant = variant_arg(&rows[QSOTA_VERIFIER_crc_variant], variant);
        qsota_check(qsota_verifier_set_crc_variant(&self->core, self->crc_variant),
            MP_QSTR_crc_variant);
    }
    if (given(keys)) {
        qsota_image_expect(&self->core, keys);
    }
    self->resumable = given(resumable) && mp_obj_is_true(resumable);
    if (self->resumable && given(keys)) {
        const qsota_rule_t *r = &rows[QSOTA_VERIFIER_resumable];
        qsota_raise(&mp_type_ValueError, "%q: %s", r->qst, r->msg);
    }
    return MP_OBJ_FROM_PTR(self);
}

// update(buf): feeds the next piece of the image; any object with the buffer protocol but str.
static mp_obj_t verifier_update(mp_obj_t self_in, mp_obj_t data) {
    verifier_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_buffer_info_t buf;
    if (mp_obj_is_str(data) || !mp_get_buffer(data, &buf, MP_BUFFER_READ)) {
        const qsota_rule_t *r = &qsota_update_checks[QSOTA_UPDATE_update];
        qsota_refuse_type(r, data);
    }
    int32_t status = qsota_verifier_update(&self->core, buf.buf, buf.len);
    if (status == QSOTA_E_STATE) {
        qsota_raise(&mp_type_ValueError, "update: the verifier is final after check() or a digest");
    }
    qsota_check(status, MP_QSTR_update);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(verifier_update_obj, verifier_update);

static void md5_of(verifier_obj_t *self, uint8_t digest[16]) {
    qsota_check(qsota_verifier_md5(&self->core, digest), MP_QSTR_md5);
}

static void sha256_of(verifier_obj_t *self, uint8_t digest[32]) {
    qsota_check(qsota_verifier_sha256(&self->core, digest), MP_QSTR_sha256);
}

// md5() -> bytes; makes the verifier final.
static mp_obj_t verifier_md5(mp_obj_t self_in) {
    uint8_t digest[16];
    md5_of(MP_OBJ_TO_PTR(self_in), digest);
    return mp_obj_new_bytes(digest, sizeof(digest));
}
static MP_DEFINE_CONST_FUN_OBJ_1(verifier_md5_obj, verifier_md5);

// sha256() -> bytes; makes the verifier final.
static mp_obj_t verifier_sha256(mp_obj_t self_in) {
    uint8_t digest[32];
    sha256_of(MP_OBJ_TO_PTR(self_in), digest);
    return mp_obj_new_bytes(digest, sizeof(digest));
}
static MP_DEFINE_CONST_FUN_OBJ_1(verifier_sha256_obj, verifier_sha256);

// Writes `len` bytes as lowercase hex.
static void print_hex(const mp_print_t *print, const uint8_t *bytes, size_t len) {
    for (size_t i = 0; i < len; i++) {
        mp_printf(print, "%02x", bytes[i]);
    }
}

// hexdigest(name) -> str, for 'md5' or 'sha256'; makes the verifier final.
static mp_obj_t verifier_hexdigest(mp_obj_t self_in, mp_obj_t name_in) {
    verifier_obj_t *self = MP_OBJ_TO_PTR(self_in);
    const qsota_rule_t *r = &qsota_hexdigest_checks[QSOTA_HEXDIGEST_name];
    if (!mp_obj_is_str(name_in)) {
        qsota_refuse_type(r, name_in);
    }
    uint8_t digest[32];
    size_t len;
    if (mp_obj_equal(name_in, MP_OBJ_NEW_QSTR(MP_QSTR_md5))) {
        md5_of(self, digest);
        len = 16;
    } else if (mp_obj_equal(name_in, MP_OBJ_NEW_QSTR(MP_QSTR_sha256))) {
        sha256_of(self, digest);
        len = 32;
    } else {
        qsota_raise(&mp_type_ValueError, "%q: %s", r->qst, r->msg);
    }
    vstr_t vstr;
    mp_print_t print;
    vstr_init_print(&vstr, 2 * len, &print);
    print_hex(&print, digest, len);
    mp_obj_t hex = mp_obj_new_str(vstr.buf, vstr.len);
    vstr_clear(&vstr);
    return hex;
}
static MP_DEFINE_CONST_FUN_OBJ_2(verifier_hexdigest_obj, verifier_hexdigest);

static uint32_t crc_of(verifier_obj_t *self, int32_t variant) {
    uint32_t crc;
    int32_t status = qsota_verifier_crc32(&self->core, variant, &crc);
    if (status == QSOTA_E_STATE) {
        // A pinned verifier never computed the other variant.
        qsota_raise(&mp_type_ValueError, "variant: '%s' is not computed with crc_variant='%s'",
            variant == QSOTA_CRC_MPEG2 ? "mpeg2" : "iso-hdlc",
            self->crc_variant == QSOTA_CRC_MPEG2 ? "mpeg2" : "iso-hdlc");
    }
    qsota_check(status, MP_QSTR_crc32);
    return crc;
}

// crc32(variant=None) -> int: the CRC of everything fed so far; by default the pinned
// variant, or MPEG-2 (the one Quectel documents) when both are computed.
static mp_obj_t verifier_crc32(size_t n_args, const mp_obj_t *args) {
    verifier_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    int32_t variant = self->crc_variant == QSOTA_CRC_AUTO ? QSOTA_CRC_MPEG2 : self->crc_variant;
    if (n_args > 1 && args[1] != mp_const_none) {
        variant = variant_arg(&qsota_crc32_checks[QSOTA_CRC32_variant], args[1]);
    }
    return mp_obj_new_int_from_uint(crc_of(self, variant));
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(verifier_crc32_obj, 1, 2, verifier_crc32);

// An expected value as the caller gave it: text as is, an int CRC as 0x%08x.
static void print_given(const mp_print_t *print, mp_obj_t given) {
    if (mp_obj_is_int(given)) {
        mp_printf(print, "0x%08x", (unsigned)mp_obj_int_get_truncated(given));
    } else {
        size_t len;
        const char *text = mp_obj_str_get_data(given, &len);
        mp_printf(print, "%.*s", (int)len, text);
    }
}

// Raises VerifyError naming each field in `mismatch` (QSOTA_FIELD_*), in a fixed order.
static NORETURN void raise_mismatch(verifier_obj_t *self, uint32_t mismatch) {
    vstr_t vstr;
    mp_print_t print;
    vstr_init_print(&vstr, 128, &print);
    const char *sep = "";
    if (mismatch & QSOTA_FIELD_MD5) {
        uint8_t digest[16];
        md5_of(self, digest);
        mp_printf(&print, "md5: expected ");
        print_given(&print, self->md5);
        mp_printf(&print, ", got ");
        print_hex(&print, digest, sizeof(digest));
        sep = "; ";
    }
    if (mismatch & QSOTA_FIELD_SHA256) {
        uint8_t digest[32];
        sha256_of(self, digest);
        mp_printf(&print, "%ssha256: expected ", sep);
        print_given(&print, self->sha256);
        mp_printf(&print, ", got ");
        print_hex(&print, digest, sizeof(digest));
        sep = "; ";
    }
    if (mismatch & QSOTA_FIELD_CRC) {
        mp_printf(&print, "%scrc: expected ", sep);
        print_given(&print, self->crc);
        mp_printf(&print, ", got");
        if (self->crc_variant != QSOTA_CRC_ISO_HDLC) {
            mp_printf(&print, " mpeg2=0x%08x", (unsigned)crc_of(self, QSOTA_CRC_MPEG2));
        }
        if (self->crc_variant != QSOTA_CRC_MPEG2) {
            mp_printf(&print, " iso-hdlc=0x%08x", (unsigned)crc_of(self, QSOTA_CRC_ISO_HDLC));
        }
        sep = "; ";
    }
    if (mismatch & QSOTA_FIELD_SIZE) {
        uint64_t size;
        qsota_check(qsota_verifier_size(&self->core, &size), MP_QSTR_size);
        mp_printf(&print, "%ssize: expected ", sep);
        mp_obj_print_helper(&print, self->size, PRINT_STR);
        mp_printf(&print, ", got ");
        mp_obj_print_helper(&print, qsota_int_from_u64(size), PRINT_STR);
        sep = "; ";
    }
    if (mismatch & QSOTA_FIELD_SIGNATURE) {
        mp_printf(&print, "%s", sep);
        qsota_image_print_problem(&print, &self->core);
    }
    mp_obj_t msg = mp_obj_new_str(vstr.buf, vstr.len);
    vstr_clear(&vstr);
    nlr_raise(mp_obj_new_exception_arg1(&mp_type_VerifyError, msg));
}

// check() -> True when every expectation holds, else raises VerifyError; makes it final.
static mp_obj_t verifier_check(mp_obj_t self_in) {
    verifier_obj_t *self = MP_OBJ_TO_PTR(self_in);
    uint32_t mismatch;
    qsota_check(qsota_verifier_check(&self->core, &mismatch), MP_QSTR_check);
    if (mismatch != 0) {
        raise_mismatch(self, mismatch);
    }
    return mp_const_true;
}
static MP_DEFINE_CONST_FUN_OBJ_1(verifier_check_obj, verifier_check);

// export() -> bytes: the state after the bytes fed so far (docs/api.md, "Verifier state").
static mp_obj_t verifier_export(mp_obj_t self_in) {
    verifier_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (!self->resumable) {
        qsota_raise(&mp_type_ValueError, "export: " QSOTA_NOT_RESUMABLE);
    }
    uint8_t state[QSOTA_VERIFIER_STATE_LEN];
    int32_t status = qsota_verifier_export(&self->core, state);
    if (status == QSOTA_E_STATE) {
        qsota_raise(&mp_type_ValueError, "export: " QSOTA_STATE_FINAL);
    }
    qsota_check(status, MP_QSTR_export);
    return mp_obj_new_bytes(state, sizeof(state));
}
static MP_DEFINE_CONST_FUN_OBJ_1(verifier_export_obj, verifier_export);

// restore(state): continues from what export() wrote, in a new verifier.
static mp_obj_t verifier_restore(mp_obj_t self_in, mp_obj_t state_in) {
    verifier_obj_t *self = MP_OBJ_TO_PTR(self_in);
    const qsota_rule_t *r = &qsota_restore_checks[QSOTA_RESTORE_state];
    mp_buffer_info_t state;
    if (mp_obj_is_str(state_in) || !mp_get_buffer(state_in, &state, MP_BUFFER_READ)) {
        qsota_refuse_type(r, state_in);
    }
    if (!self->resumable) {
        qsota_raise(&mp_type_ValueError, "restore: " QSOTA_NOT_RESUMABLE);
    }
    if (state.len < r->lo || state.len > r->hi) {
        qsota_raise(&mp_type_ValueError, "%q: %s, got %u", r->qst, r->msg, (unsigned)state.len);
    }
    int32_t status = qsota_verifier_import(&self->core, state.buf, state.len);
    if (status == QSOTA_E_STATE) {
        qsota_raise(&mp_type_ValueError, "restore: " QSOTA_NOT_FRESH);
    }
    const char *why = status == QSOTA_E_SYNTAX ? QSOTA_STATE_DAMAGED
        : status == QSOTA_E_RANGE ? QSOTA_STATE_VERSION
        : status == QSOTA_E_ARG ? QSOTA_STATE_VARIANT
        : NULL;
    if (why != NULL) {
        qsota_raise(&mp_type_ValueError, "%q: %s", r->qst, why);
    }
    qsota_check(status, MP_QSTR_restore);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(verifier_restore_obj, verifier_restore);

static const mp_rom_map_elem_t verifier_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_update), MP_ROM_PTR(&verifier_update_obj) },
    { MP_ROM_QSTR(MP_QSTR_md5), MP_ROM_PTR(&verifier_md5_obj) },
    { MP_ROM_QSTR(MP_QSTR_sha256), MP_ROM_PTR(&verifier_sha256_obj) },
    { MP_ROM_QSTR(MP_QSTR_hexdigest), MP_ROM_PTR(&verifier_hexdigest_obj) },
    { MP_ROM_QSTR(MP_QSTR_crc32), MP_ROM_PTR(&verifier_crc32_obj) },
    { MP_ROM_QSTR(MP_QSTR_check), MP_ROM_PTR(&verifier_check_obj) },
    { MP_ROM_QSTR(MP_QSTR_export), MP_ROM_PTR(&verifier_export_obj) },
    { MP_ROM_QSTR(MP_QSTR_restore), MP_ROM_PTR(&verifier_restore_obj) },
};
static MP_DEFINE_CONST_DICT(verifier_locals, verifier_locals_table);

// Read-only attributes `size` and `crc_matched`; the methods otherwise.
static void verifier_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    if (dest[0] != MP_OBJ_NULL) {
        return; // store or delete: not supported, MicroPython raises AttributeError
    }
    verifier_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (attr == MP_QSTR_size) {
        uint64_t size;
        qsota_check(qsota_verifier_size(&self->core, &size), MP_QSTR_size);
        dest[0] = qsota_int_from_u64(size);
    } else if (attr == MP_QSTR_crc_matched) {
        int32_t variant;
        qsota_check(qsota_verifier_crc_matched(&self->core, &variant), MP_QSTR_crc_matched);
        dest[0] = variant == QSOTA_CRC_MPEG2 ? MP_OBJ_NEW_QSTR(MP_QSTR_mpeg2)
            : variant == QSOTA_CRC_ISO_HDLC ? mp_obj_new_str("iso-hdlc", 8)
            : mp_const_none;
    } else if (attr == MP_QSTR_image) {
        dest[0] = qsota_image_info(&self->core);
    } else {
        qsota_attr_methods(self_in, attr, dest, &verifier_locals);
    }
}

QSOTA_DEFINE_TYPE(qsota_type_Verifier, MP_QSTR_Verifier, verifier_make_new, verifier_attr,
    verifier_locals);
