// _qsota.YmodemSender: the core's sans-IO YMODEM sender (src/ymodem.rs) for qsota.send.
// poll() returns a small int action code and leaves the action's numbers in attributes
// (length, offset, at, until, error), so the driver's loop allocates nothing per block.
#include <string.h>

#include "py/objint.h"
#include "py/objstr.h"
#include "qsota.h"
#include "modqsota.h"

typedef struct {
    mp_obj_base_t base;
    qsota_action_t action; // the last poll's
    qsota_ymodem_t core;
} ymodem_obj_t;

// An int argument in lo..hi; TypeError for a non-int (bool included), else ValueError `msg`.
// A small int is checked without allocating (provide() runs once per block).
static uint32_t range_arg(mp_obj_t obj, qstr what, uint32_t lo, uint32_t hi, const char *msg) {
    bool ok;
    if (mp_obj_is_small_int(obj)) {
        mp_int_t v = MP_OBJ_SMALL_INT_VALUE(obj);
        ok = v >= 0 && (mp_uint_t)v >= lo && (uint64_t)v <= hi;
    } else if (mp_obj_is_int(obj)) {
        ok = mp_obj_int_sign(obj) >= 0
            && !mp_obj_is_true(mp_binary_op(MP_BINARY_OP_LESS, obj, mp_obj_new_int_from_uint(lo)))
            && !mp_obj_is_true(mp_binary_op(MP_BINARY_OP_MORE, obj, mp_obj_new_int_from_uint(hi)));
    } else {
        qsota_raise_type(what, "int", obj);
    }
    if (!ok) {
        qsota_raise(&mp_type_ValueError, "%q: %s", what, msg);
    }
    return (uint32_t)mp_obj_int_get_truncated(obj);
}

// An int object for `v`, a small int (no allocation) whenever it fits:
// mp_obj_new_int_from_uint checks that, mp_obj_new_int_from_ull does not.
static mp_obj_t int_from_u64(uint64_t v) {
    if (v <= 0xffffffffu) {
        return mp_obj_new_int_from_uint((mp_uint_t)v);
    }
    return mp_obj_new_int_from_ull(v);
}

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
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed), allowed, args);

    // Checked in the order of qsota.pure's, so both raise the same error first.
    mp_obj_t name_in = args[ARG_name].u_obj;
    if (!mp_obj_is_str_or_bytes(name_in)) {
        qsota_raise_type(MP_QSTR_name, "str or bytes", name_in);
    }
    size_t name_len;
    const byte *name = (const byte *)mp_obj_str_get_data(name_in, &name_len);
    uint32_t size = range_arg(args[ARG_size].u_obj, MP_QSTR_size, 0, 0xffffffff,
        "must be 0 to 4294967295");

    qsota_ymodem_options_t opts;
    qsota_check(qsota_ymodem_options_default(&opts), MP_QSTR_YmodemSender);
    if (args[ARG_block_size].u_obj != MP_OBJ_NULL) {
        opts.block_size = range_arg(args[ARG_block_size].u_obj, MP_QSTR_block_size, 128, 1024,
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
                range_arg(obj, waits[i].qstr, 1, 0x7fffffff, "must be 1 to 2147483647");
        }
    }
    if (args[ARG_retries].u_obj != MP_OBJ_NULL) {
        opts.retries = range_arg(args[ARG_retries].u_obj, MP_QSTR_retries, 0, 255,
            "must be 0 to 255");
    }
    if (args[ARG_baud].u_obj != MP_OBJ_NULL) {
        opts.baud = range_arg(args[ARG_baud].u_obj, MP_QSTR_baud, 0, 0xffffffff,
            "must be 0 to 4294967295");
    }

    ymodem_obj_t *self = mp_obj_malloc(ymodem_obj_t, type);
    memset(&self->action, 0, sizeof(self->action));
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

static uint32_t now_arg(mp_obj_t obj) {
    if (!mp_obj_is_int(obj)) {
        qsota_raise_type(MP_QSTR_now_ms, "int", obj);
    }
    return (uint32_t)mp_obj_int_get_truncated(obj);
}

// poll(now_ms, frame) -> action code (SEND 1, READ 2, WAIT 3, DONE 4, FAILED 5).
static mp_obj_t ymodem_poll(mp_obj_t self_in, mp_obj_t now_in, mp_obj_t frame_in) {
    ymodem_obj_t *self = MP_OBJ_TO_PTR(self_in);
    uint32_t now = now_arg(now_in);
    mp_buffer_info_t frame;
    if (mp_obj_is_str_or_bytes(frame_in) || !mp_get_buffer(frame_in, &frame, MP_BUFFER_WRITE)) {
        qsota_raise_type(MP_QSTR_frame, "a writable buffer", frame_in);
    }
    qsota_check(qsota_ymodem_poll(&self->core, now, frame.buf, frame.len, &self->action),
        MP_QSTR_poll);
    return MP_OBJ_NEW_SMALL_INT(self->action.kind);
}
static MP_DEFINE_CONST_FUN_OBJ_3(ymodem_poll_obj, ymodem_poll);

// receive(now_ms, data): bytes from the line.
static mp_obj_t ymodem_receive(mp_obj_t self_in, mp_obj_t now_in, mp_obj_t data_in) {
    ymodem_obj_t *self = MP_OBJ_TO_PTR(self_in);
    uint32_t now = now_arg(now_in);
    mp_buffer_info_t data;
    if (mp_obj_is_str(data_in) || !mp_get_buffer(data_in, &data, MP_BUFFER_READ)) {
        qsota_raise_type(MP_QSTR_data, "a bytes-like object", data_in);
    }
    qsota_check(qsota_ymodem_receive(&self->core, now, data.buf, data.len), MP_QSTR_receive);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(ymodem_receive_obj, ymodem_receive);

// provide(n): image bytes read for the last READ action.
static mp_obj_t ymodem_provide(mp_obj_t self_in, mp_obj_t n_in) {
    ymodem_obj_t *self = MP_OBJ_TO_PTR(self_in);
    uint32_t n = range_arg(n_in, MP_QSTR_n, 0, 0xffffffff, "must be >= 0");
    qsota_check(qsota_ymodem_provide(&self->core, n), MP_QSTR_provide);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(ymodem_provide_obj, ymodem_provide);

static qsota_ymodem_stats_t stats_of(ymodem_obj_t *self) {
    qsota_ymodem_stats_t st;
    qsota_check(qsota_ymodem_stats(&self->core, &st), MP_QSTR_stats);
    return st;
}

// stats() -> dict: bytes, blocks, frames, retries, line_bytes.
static mp_obj_t ymodem_stats(mp_obj_t self_in) {
    qsota_ymodem_stats_t st = stats_of(MP_OBJ_TO_PTR(self_in));
    mp_obj_t d = mp_obj_new_dict(5);
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_bytes), int_from_u64(st.bytes));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_blocks), int_from_u64(st.blocks));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_frames), int_from_u64(st.frames));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_retries), int_from_u64(st.retries));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_line_bytes), int_from_u64(st.line_bytes));
    return d;
}
static MP_DEFINE_CONST_FUN_OBJ_1(ymodem_stats_obj, ymodem_stats);

static const mp_rom_map_elem_t ymodem_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_poll), MP_ROM_PTR(&ymodem_poll_obj) },
    { MP_ROM_QSTR(MP_QSTR_receive), MP_ROM_PTR(&ymodem_receive_obj) },
    { MP_ROM_QSTR(MP_QSTR_provide), MP_ROM_PTR(&ymodem_provide_obj) },
    { MP_ROM_QSTR(MP_QSTR_stats), MP_ROM_PTR(&ymodem_stats_obj) },
};
static MP_DEFINE_CONST_DICT(ymodem_locals, ymodem_locals_table);

// Read-only attributes: frame_size, block, and the last action's length, offset, at, until,
// error (the failure's name, None unless the action was FAILED).
static void ymodem_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    if (dest[0] != MP_OBJ_NULL) {
        return; // store or delete: not supported, MicroPython raises AttributeError
    }
    ymodem_obj_t *self = MP_OBJ_TO_PTR(self_in);
    const qsota_action_t *a = &self->action;
    if (attr == MP_QSTR_length) {
        dest[0] = int_from_u64(a->len);
    } else if (attr == MP_QSTR_offset) {
        dest[0] = int_from_u64(a->offset);
    } else if (attr == MP_QSTR_at) {
        dest[0] = int_from_u64(a->at);
    } else if (attr == MP_QSTR_until) {
        dest[0] = int_from_u64(a->until_ms);
    } else if (attr == MP_QSTR_error) {
        const char *name = qsota_fail_name(a->fail);
        dest[0] = a->kind == QSOTA_ACTION_FAILED ? mp_obj_new_str(name, strlen(name))
            : mp_const_none;
    } else if (attr == MP_QSTR_frame_size) {
        size_t size;
        qsota_check(qsota_ymodem_frame_size(&self->core, &size), MP_QSTR_frame_size);
        dest[0] = int_from_u64(size);
    } else if (attr == MP_QSTR_block) {
        dest[0] = int_from_u64(stats_of(self).block);
    } else {
        qsota_attr_methods(self_in, attr, dest, &ymodem_locals);
    }
}

QSOTA_DEFINE_TYPE(qsota_type_YmodemSender, MP_QSTR_YmodemSender, ymodem_make_new, ymodem_attr,
    ymodem_locals);
