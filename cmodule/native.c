// _qsota.NativeSender: the core's sans-IO sender of the native protocol (src/native/sender.rs,
// docs/protocol.md) for qsota.send. poll, receive, provide and the action's attributes are
// the shared ones of sender.c; here: the constructor, stats, frame_size and block.
#include <stddef.h>
#include <stdint.h>

#include "qsota.h"
#include "args.h"
#include "modqsota.h"
#include "sender.h"
#include "rules.h"

typedef struct {
    qsota_sender_t sender;
    qsota_native_tx_t core;
} native_obj_t;

QSOTA_SENDER_OPS(native_ops, qsota_native_tx_t, qsota_native_tx_poll, qsota_native_tx_receive,
    qsota_native_tx_provide);

static mp_obj_t native_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *all_args) {
    qsota_native_options_t opts;
    qsota_check(qsota_native_options_default(&opts), MP_QSTR_NativeSender);
    qsota_value_t v[MP_ARRAY_SIZE(qsota_native_params)];
    qsota_parse_rules(n_args, n_kw, all_args, &qsota_native_rules, &opts, v);

    native_obj_t *self = mp_obj_malloc(native_obj_t, type);
    qsota_sender_init(&self->sender, &native_ops, &self->core);
    const qsota_value_t *comp = &v[QSOTA_NATIVE_component], *ver = &v[QSOTA_NATIVE_version];
    qsota_check(qsota_native_tx_init(&self->core, v[QSOTA_NATIVE_size].u, v[QSOTA_NATIVE_sha256].data,
        comp->data, comp->len, ver->data, ver->len, &opts), MP_QSTR_NativeSender);
    const qsota_value_t *delta = &v[QSOTA_NATIVE_delta];
    if (delta->len > 0) { // a delta package the receiver applies (OPEN's DELTA flag)
        int32_t fault;
        if (qsota_native_tx_delta(&self->core, delta->data, delta->len, &fault) != QSOTA_OK) {
            qsota_raise(&mp_type_ValueError, "delta: %s", qsota_delta_fault_text(fault));
        }
    }
    return MP_OBJ_FROM_PTR(self);
}

static qsota_native_stats_t native_stats_of(native_obj_t *self) {
    qsota_native_stats_t st;
    qsota_check(qsota_native_tx_stats(&self->core, &st), MP_QSTR_stats);
    return st;
}

// stats() -> dict: bytes, frames, retries, line_bytes, resumed_from, resent_bytes, reopens,
// window, payload, receiver_error, rto_ms.
static mp_obj_t native_stats(mp_obj_t self_in) {
    qsota_native_stats_t st = native_stats_of(MP_OBJ_TO_PTR(self_in));
    const qsota_stat_t items[] = {
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
    return qsota_stats_dict(items, MP_ARRAY_SIZE(items), 0);
}
static MP_DEFINE_CONST_FUN_OBJ_1(native_stats_obj, native_stats);

static const mp_rom_map_elem_t native_locals_table[] = {
    QSOTA_SENDER_METHODS,
    { MP_ROM_QSTR(MP_QSTR_stats), MP_ROM_PTR(&native_stats_obj) },
};
static MP_DEFINE_CONST_DICT(native_locals, native_locals_table);

// Read-only attributes: frame_size, block, and the last action's (sender.c).
static void native_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    if (qsota_sender_attr(self_in, attr, dest)) {
        return;
    }
    if (attr == MP_QSTR_frame_size) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(QSOTA_NATIVE_FRAME_SIZE);
    } else if (attr == MP_QSTR_block) {
        native_obj_t *self = MP_OBJ_TO_PTR(self_in);
        dest[0] = mp_obj_new_int_from_uint((mp_uint_t)(native_stats_of(self).bytes / 1024));
    } else {
        qsota_attr_methods(self_in, attr, dest, &native_locals);
    }
}

QSOTA_DEFINE_TYPE(qsota_type_NativeSender, MP_QSTR_NativeSender, native_make_new, native_attr,
    native_locals);
