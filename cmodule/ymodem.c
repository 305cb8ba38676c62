// _qsota.YmodemSender: the core's sans-IO YMODEM sender (src/ymodem.rs) for qsota.send.
// poll, receive, provide and the action's attributes are the shared ones of sender.c; here:
// the constructor, stats, frame_size and block.
#include <stddef.h>
#include <stdint.h>

#include "py/objstr.h"
#include "qsota.h"
#include "modqsota.h"

typedef struct {
    qsota_sender_t sender;
    qsota_ymodem_t core;
} ymodem_obj_t;

QSOTA_SENDER_OPS(ymodem_ops, qsota_ymodem_t, qsota_ymodem_poll, qsota_ymodem_receive,
    qsota_ymodem_provide);

static mp_obj_t ymodem_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *all_args) {
    enum { ARG_name, ARG_size, ARG_block_size, ARG_timeout_ms, ARG_header_timeout_ms,
           ARG_start_timeout_ms, ARG_end_gap_ms, ARG_retries, ARG_baud };
    static const mp_arg_t allowed[] = {
        { MP_QSTR_name, MP_ARG_REQUIRED | MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
        { MP_QSTR_size, MP_ARG_REQUIRED | MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
        { MP_QSTR_block_size, MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
        { MP_QSTR_timeout_ms, MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
        { MP_QSTR_header_timeout_ms, MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
        { MP_QSTR_start_timeout_ms, MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
        { MP_QSTR_end_gap_ms, MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
        { MP_QSTR_retries, MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
        { MP_QSTR_baud, MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed)];
    qsota_parse_args(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed), allowed, args);

    // Checked in the order of qsota.pure's, so both raise the same error first.
    mp_obj_t name_in = args[ARG_name].u_obj;
    if (!mp_obj_is_str_or_bytes(name_in)) {
        qsota_raise_type(MP_QSTR_name, "str or bytes", name_in);
    }
    size_t name_len;
    const byte *name = (const byte *)mp_obj_str_get_data(name_in, &name_len);
    uint32_t size = qsota_int_arg(args[ARG_size].u_obj, MP_QSTR_size, 0, 0xffffffff,
        "must be 0 to 4294967295");

    qsota_ymodem_options_t opts;
    qsota_check(qsota_ymodem_options_default(&opts), MP_QSTR_YmodemSender);
    if (args[ARG_block_size].u_obj != MP_OBJ_NULL) {
        opts.block_size = qsota_int_arg(args[ARG_block_size].u_obj, MP_QSTR_block_size, 128, 1024,
            "must be 128 or 1024");
        if (opts.block_size != 128 && opts.block_size != 1024) {
            qsota_raise(&mp_type_ValueError, "block_size: must be 128 or 1024");
        }
    }
    static const struct {
        uint16_t arg;
        uint16_t qstr;
        size_t offset;
    } waits[] = {
        { ARG_timeout_ms, MP_QSTR_timeout_ms, offsetof(qsota_ymodem_options_t, timeout_ms) },
        { ARG_header_timeout_ms, MP_QSTR_header_timeout_ms,
          offsetof(qsota_ymodem_options_t, header_timeout_ms) },
        { ARG_start_timeout_ms, MP_QSTR_start_timeout_ms,
          offsetof(qsota_ymodem_options_t, start_timeout_ms) },
        { ARG_end_gap_ms, MP_QSTR_end_gap_ms, offsetof(qsota_ymodem_options_t, end_gap_ms) },
    };
    for (size_t i = 0; i < MP_ARRAY_SIZE(waits); i++) {
        mp_obj_t obj = args[waits[i].arg].u_obj;
        if (obj != MP_OBJ_NULL) {
            *(uint32_t *)((char *)&opts + waits[i].offset) =
                qsota_int_arg(obj, waits[i].qstr, 1, 0x7fffffff, "must be 1 to 2147483647");
        }
    }
    if (args[ARG_retries].u_obj != MP_OBJ_NULL) {
        opts.retries = qsota_int_arg(args[ARG_retries].u_obj, MP_QSTR_retries, 0, 255,
            "must be 0 to 255");
    }
    if (args[ARG_baud].u_obj != MP_OBJ_NULL) {
        opts.baud = qsota_int_arg(args[ARG_baud].u_obj, MP_QSTR_baud, 0, 0xffffffff,
            "must be 0 to 4294967295");
    }

    ymodem_obj_t *self = mp_obj_malloc(ymodem_obj_t, type);
    qsota_sender_init(&self->sender, &ymodem_ops, &self->core);
    int32_t status = qsota_ymodem_init(&self->core, name, name_len, size, &opts);
    if (status == QSOTA_E_LENGTH) {
        qsota_raise(&mp_type_ValueError, "name: must be 1 to 255 bytes");
    }
    if (status == QSOTA_E_SYNTAX) {
        qsota_raise(&mp_type_ValueError, "name: must not contain NUL");
    }
    qsota_check(status, MP_QSTR_YmodemSender);
    return MP_OBJ_FROM_PTR(self);
}

static qsota_ymodem_stats_t stats_of(ymodem_obj_t *self) {
    qsota_ymodem_stats_t st;
    qsota_check(qsota_ymodem_stats(&self->core, &st), MP_QSTR_stats);
    return st;
}

// stats() -> dict: bytes, blocks, frames, retries, line_bytes.
static mp_obj_t ymodem_stats(mp_obj_t self_in) {
    qsota_ymodem_stats_t st = stats_of(MP_OBJ_TO_PTR(self_in));
    mp_obj_t d = mp_obj_new_dict(5);
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_bytes), qsota_int_from_u64(st.bytes));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_blocks), qsota_int_from_u64(st.blocks));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_frames), qsota_int_from_u64(st.frames));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_retries), qsota_int_from_u64(st.retries));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_line_bytes), qsota_int_from_u64(st.line_bytes));
    return d;
}
static MP_DEFINE_CONST_FUN_OBJ_1(ymodem_stats_obj, ymodem_stats);

static const mp_rom_map_elem_t ymodem_locals_table[] = {
    QSOTA_SENDER_METHODS,
    { MP_ROM_QSTR(MP_QSTR_stats), MP_ROM_PTR(&ymodem_stats_obj) },
};
static MP_DEFINE_CONST_DICT(ymodem_locals, ymodem_locals_table);

// Read-only attributes: frame_size, block, and the last action's (sender.c).
static void ymodem_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    if (qsota_sender_attr(self_in, attr, dest)) {
        return;
    }
    ymodem_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (attr == MP_QSTR_frame_size) {
        size_t size;
        qsota_check(qsota_ymodem_frame_size(&self->core, &size), MP_QSTR_frame_size);
        dest[0] = qsota_int_from_u64(size);
    } else if (attr == MP_QSTR_block) {
        dest[0] = qsota_int_from_u64(stats_of(self).block);
    } else {
        qsota_attr_methods(self_in, attr, dest, &ymodem_locals);
    }
}

QSOTA_DEFINE_TYPE(qsota_type_YmodemSender, MP_QSTR_YmodemSender, ymodem_make_new, ymodem_attr,
    ymodem_locals);
