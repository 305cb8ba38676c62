// _qsota.LinkSender: the core's sans-IO sender of the native link protocol (src/link/sender.rs,
// docs/protocol.md) for qsota.send. poll, receive, provide and the action's attributes are
// the shared ones of sender.c; here: the constructor, stats, frame_size and block.
#include <stddef.h>
#include <stdint.h>

#include "py/objstr.h"
#include "qsota.h"
#include "modqsota.h"

typedef struct {
    qsota_sender_t sender;
    qsota_link_tx_t core;
} link_obj_t;

QSOTA_SENDER_OPS(link_ops, qsota_link_tx_t, qsota_link_tx_poll, qsota_link_tx_receive,
    qsota_link_tx_provide);

// A component id or version: str or bytes of at most 32 bytes.
static const byte *link_name_arg(mp_obj_t obj, qstr what, size_t *len) {
    if (obj == MP_OBJ_NULL) {
        *len = 0;
        return (const byte *)"";
    }
    if (!mp_obj_is_str_or_bytes(obj)) {
        qsota_raise_type(what, "str or bytes", obj);
    }
    const byte *data = (const byte *)mp_obj_str_get_data(obj, len);
    if (*len > 32) {
        qsota_raise(&mp_type_ValueError, "%q: must be at most 32 bytes", what);
    }
    return data;
}

static mp_obj_t link_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *all_args) {
    enum { ARG_size, ARG_sha256, ARG_component, ARG_version, ARG_rto_ms, ARG_open_timeout_ms,
           ARG_retries, ARG_baud };
    static const mp_arg_t allowed[] = {
        { MP_QSTR_size, MP_ARG_REQUIRED | MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
        { MP_QSTR_sha256, MP_ARG_REQUIRED | MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
        { MP_QSTR_component, MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
        { MP_QSTR_version, MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
        { MP_QSTR_rto_ms, MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
        { MP_QSTR_open_timeout_ms, MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
        { MP_QSTR_retries, MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
        { MP_QSTR_baud, MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed)];
    qsota_parse_args(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed), allowed, args);

    // Checked in the order of qsota.pure's, so both raise the same error first.
    uint32_t size = qsota_int_arg(args[ARG_size].u_obj, MP_QSTR_size, 0, 0xffffffff,
        "must be 0 to 4294967295");
    mp_obj_t sha_in = args[ARG_sha256].u_obj;
    mp_buffer_info_t sha;
    if (mp_obj_is_str(sha_in) || !mp_get_buffer(sha_in, &sha, MP_BUFFER_READ)) {
        qsota_raise_type(MP_QSTR_sha256, "bytes", sha_in);
    }
    if (sha.len != 32) {
        qsota_raise(&mp_type_ValueError, "sha256: must be 32 bytes");
    }
    size_t comp_len, ver_len;
    const byte *comp = link_name_arg(args[ARG_component].u_obj, MP_QSTR_component, &comp_len);
    const byte *ver = link_name_arg(args[ARG_version].u_obj, MP_QSTR_version, &ver_len);
    qsota_link_options_t opts;
    qsota_check(qsota_link_options_default(&opts), MP_QSTR_LinkSender);
    if (args[ARG_rto_ms].u_obj != MP_OBJ_NULL) {
        opts.rto_ms = qsota_int_arg(args[ARG_rto_ms].u_obj, MP_QSTR_rto_ms, 0, 0x7fffffff,
            "must be 0 to 2147483647");
    }
    if (args[ARG_open_timeout_ms].u_obj != MP_OBJ_NULL) {
        opts.open_timeout_ms = qsota_int_arg(args[ARG_open_timeout_ms].u_obj,
            MP_QSTR_open_timeout_ms, 1, 0x7fffffff, "must be 1 to 2147483647");
    }
    if (args[ARG_retries].u_obj != MP_OBJ_NULL) {
        opts.retries = qsota_int_arg(args[ARG_retries].u_obj, MP_QSTR_retries, 0, 255,
            "must be 0 to 255");
    }
    if (args[ARG_baud].u_obj != MP_OBJ_NULL) {
        opts.baud = qsota_int_arg(args[ARG_baud].u_obj, MP_QSTR_baud, 0, 0xffffffff,
            "must be 0 to 4294967295");
    }

    link_obj_t *self = mp_obj_malloc(link_obj_t, type);
    qsota_sender_init(&self->sender, &link_ops, &self->core);
    qsota_check(qsota_link_tx_init(&self->core, size, sha.buf, comp, comp_len, ver, ver_len,
        &opts), MP_QSTR_LinkSender);
    return MP_OBJ_FROM_PTR(self);
}

static qsota_link_stats_t link_stats_of(link_obj_t *self) {
    qsota_link_stats_t st;
    qsota_check(qsota_link_tx_stats(&self->core, &st), MP_QSTR_stats);
    return st;
}

// stats() -> dict: bytes, frames, retries, line_bytes, resumed_from, resent_bytes, reopens,
// window, payload, receiver_error, rto_ms.
static mp_obj_t link_stats(mp_obj_t self_in) {
    qsota_link_stats_t st = link_stats_of(MP_OBJ_TO_PTR(self_in));
    const struct {
        uint16_t key;
        uint64_t value;
    } items[] = {
        { MP_QSTR_bytes, st.bytes },
        { MP_QSTR_frames, st.frames },
        { MP_QSTR_retries, st.retries },
        { MP_QSTR_line_bytes, st.line_bytes },
        { MP_QSTR_resumed_from, st.resumed_from },
        { MP_QSTR_resent_bytes, st.resent_bytes },
        { MP_QSTR_reopens, st.reopens },
        { MP_QSTR_window, st.window },
        { MP_QSTR_payload, st.payload },
        { MP_QSTR_receiver_error, (uint64_t)st.error },
        { MP_QSTR_rto_ms, st.rto_ms },
    };
    mp_obj_t d = mp_obj_new_dict(MP_ARRAY_SIZE(items));
    for (size_t i = 0; i < MP_ARRAY_SIZE(items); i++) {
        mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(items[i].key), qsota_int_from_u64(items[i].value));
    }
    return d;
}
static MP_DEFINE_CONST_FUN_OBJ_1(link_stats_obj, link_stats);

static const mp_rom_map_elem_t link_locals_table[] = {
    QSOTA_SENDER_METHODS,
    { MP_ROM_QSTR(MP_QSTR_stats), MP_ROM_PTR(&link_stats_obj) },
};
static MP_DEFINE_CONST_DICT(link_locals, link_locals_table);

// Read-only attributes: frame_size, block, and the last action's (sender.c).
static void link_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    if (qsota_sender_attr(self_in, attr, dest)) {
        return;
    }
    if (attr == MP_QSTR_frame_size) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(QSOTA_LINK_FRAME_SIZE);
    } else if (attr == MP_QSTR_block) {
        link_obj_t *self = MP_OBJ_TO_PTR(self_in);
        dest[0] = mp_obj_new_int_from_uint((mp_uint_t)(link_stats_of(self).bytes / 1024));
    } else {
        qsota_attr_methods(self_in, attr, dest, &link_locals);
    }
}

QSOTA_DEFINE_TYPE(qsota_type_LinkSender, MP_QSTR_LinkSender, link_make_new, link_attr,
    link_locals);
