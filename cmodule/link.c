// _qsota.LinkSender: the core's sans-IO sender of the native link protocol (src/link/sender.rs,
// docs/protocol.md) for qsota.send. poll, receive, provide and the action's attributes are
// the shared ones of sender.c; here: the constructor, stats, frame_size and block.
#include <stddef.h>
#include <stdint.h>

#include "qsota.h"
#include "modqsota.h"
#include "rules.h"

typedef struct {
    qsota_sender_t sender;
    qsota_link_tx_t core;
} link_obj_t;

QSOTA_SENDER_OPS(link_ops, qsota_link_tx_t, qsota_link_tx_poll, qsota_link_tx_receive,
    qsota_link_tx_provide);

static mp_obj_t link_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *all_args) {
    qsota_link_options_t opts;
    qsota_check(qsota_link_options_default(&opts), MP_QSTR_LinkSender);
    qsota_value_t v[MP_ARRAY_SIZE(qsota_link_params)];
    qsota_parse_rules(n_args, n_kw, all_args, &qsota_link_rules, &opts, v);

    link_obj_t *self = mp_obj_malloc(link_obj_t, type);
    qsota_sender_init(&self->sender, &link_ops, &self->core);
    const qsota_value_t *comp = &v[QSOTA_LINK_component], *ver = &v[QSOTA_LINK_version];
    qsota_check(qsota_link_tx_init(&self->core, v[QSOTA_LINK_size].u, v[QSOTA_LINK_sha256].data,
        comp->data, comp->len, ver->data, ver->len, &opts), MP_QSTR_LinkSender);
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
