// _qsota.YmodemSender: the core's sans-IO YMODEM sender (src/ymodem.rs) for qsota.send.
// poll, receive, provide and the action's attributes are the shared ones of sender.c; here:
// the constructor, stats, frame_size and block.
#include <stddef.h>
#include <stdint.h>

#include "qsota.h"
#include "args.h"
#include "modqsota.h"
#include "sender.h"
#include "rules.h"

typedef struct {
    qsota_sender_t sender;
    qsota_ymodem_t core;
} ymodem_obj_t;

QSOTA_SENDER_OPS(ymodem_ops, qsota_ymodem_t, qsota_ymodem_poll, qsota_ymodem_receive,
    qsota_ymodem_provide);

static mp_obj_t ymodem_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *all_args) {
    qsota_ymodem_options_t opts;
    qsota_check(qsota_ymodem_options_default(&opts), MP_QSTR_YmodemSender);
    qsota_value_t v[MP_ARRAY_SIZE(qsota_ymodem_params)];
    qsota_parse_rules(n_args, n_kw, all_args, &qsota_ymodem_rules, &opts, v);

    ymodem_obj_t *self = mp_obj_malloc(ymodem_obj_t, type);
    qsota_sender_init(&self->sender, &ymodem_ops, &self->core);
    const qsota_value_t *name = &v[QSOTA_YMODEM_name];
    qsota_check(qsota_ymodem_init(&self->core, name->data, name->len, v[QSOTA_YMODEM_size].u,
        &opts), MP_QSTR_YmodemSender);
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
    const qsota_stat_t items[] = {
        { MP_QSTR_bytes, st.bytes },
        { MP_QSTR_blocks, st.blocks },
        { MP_QSTR_frames, st.frames },
        { MP_QSTR_retries, st.retries },
        { MP_QSTR_line_bytes, st.line_bytes },
    };
    return qsota_stats_dict(items, MP_ARRAY_SIZE(items), 0);
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
