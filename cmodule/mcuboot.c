// _qsota.McubootSender: the core's sans-IO client of MCUboot's serial recovery (src/mcuboot/) for
// qsota.send. poll, receive, provide and the action's attributes are the shared ones of
// sender.c; here: the constructor, stats, frame_size and block.
#include <stddef.h>
#include <stdint.h>

#include "py/objstr.h"
#include "qsota.h"
#include "args.h"
#include "modqsota.h"
#include "sender.h"
#include "rules.h"

typedef struct {
    qsota_sender_t sender;
    qsota_mcuboot_t core;
} mcuboot_obj_t;

QSOTA_SENDER_OPS(mcuboot_ops, qsota_mcuboot_t, qsota_mcuboot_poll, qsota_mcuboot_receive, qsota_mcuboot_provide);

static mp_obj_t mcuboot_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *all_args) {
    qsota_mcuboot_options_t opts;
    qsota_check(qsota_mcuboot_options_default(&opts), MP_QSTR_McubootSender);
    qsota_value_t v[MP_ARRAY_SIZE(qsota_mcuboot_params)];
    qsota_parse_rules(n_args, n_kw, all_args, &qsota_mcuboot_rules, &opts, v);

    mcuboot_obj_t *self = mp_obj_malloc(mcuboot_obj_t, type);
    qsota_sender_init(&self->sender, &mcuboot_ops, &self->core);
    qsota_check(qsota_mcuboot_init(&self->core, v[QSOTA_MCUBOOT_size].u, v[QSOTA_MCUBOOT_sha256].data,
        v[QSOTA_MCUBOOT_hash].data, &opts), MP_QSTR_McubootSender);
    return MP_OBJ_FROM_PTR(self);
}

static qsota_mcuboot_stats_t mcuboot_stats_of(mcuboot_obj_t *self) {
    qsota_mcuboot_stats_t st;
    qsota_check(qsota_mcuboot_stats(&self->core, &st), MP_QSTR_stats);
    return st;
}

// stats() -> dict: bytes, frames, retries, line_bytes, chunks, resumed_from, resent_bytes,
// buf_size, chunk, rc, step, hash (hex digits of the hash MCUboot listed, or None).
static mp_obj_t mcuboot_stats(mp_obj_t self_in) {
    qsota_mcuboot_stats_t st = mcuboot_stats_of(MP_OBJ_TO_PTR(self_in));
    const qsota_stat_t items[] = {
        { MP_QSTR_bytes, st.bytes },
        { MP_QSTR_frames, st.frames },
        { MP_QSTR_retries, st.retries },
        { MP_QSTR_line_bytes, st.line_bytes },
        { MP_QSTR_chunks, st.chunks },
        { MP_QSTR_resumed_from, st.resumed_from },
        { MP_QSTR_resent_bytes, st.resent_bytes },
        { MP_QSTR_buf_size, st.buf_size },
        { MP_QSTR_chunk, st.chunk },
        { MP_QSTR_step, st.step },
    };
    mp_obj_t d = qsota_stats_dict(items, MP_ARRAY_SIZE(items), 2);
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_rc), mp_obj_new_int(st.rc));
    mp_obj_t hash = mp_const_none;
    if (st.listed) {
        static const char digits[] = "0123456789abcdef";
        char hex[64];
        for (size_t i = 0; i < 32; i++) {
            hex[2 * i] = digits[st.hash[i] >> 4];
            hex[2 * i + 1] = digits[st.hash[i] & 15];
        }
        hash = mp_obj_new_str(hex, sizeof(hex));
    }
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_hash), hash);
    return d;
}
static MP_DEFINE_CONST_FUN_OBJ_1(mcuboot_stats_obj, mcuboot_stats);

static const mp_rom_map_elem_t mcuboot_locals_table[] = {
    QSOTA_SENDER_METHODS,
    { MP_ROM_QSTR(MP_QSTR_stats), MP_ROM_PTR(&mcuboot_stats_obj) },
};
static MP_DEFINE_CONST_DICT(mcuboot_locals, mcuboot_locals_table);

// Read-only attributes: frame_size, block (upload requests MCUboot took), and the last
// action's (sender.c).
static void mcuboot_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    if (qsota_sender_attr(self_in, attr, dest)) {
        return;
    }
    mcuboot_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (attr == MP_QSTR_frame_size) {
        size_t size;
        qsota_check(qsota_mcuboot_frame_size(&self->core, &size), MP_QSTR_frame_size);
        dest[0] = qsota_int_from_u64(size);
    } else if (attr == MP_QSTR_block) {
        dest[0] = qsota_int_from_u64(mcuboot_stats_of(self).chunks);
    } else {
        qsota_attr_methods(self_in, attr, dest, &mcuboot_locals);
    }
}

QSOTA_DEFINE_TYPE(qsota_type_McubootSender, MP_QSTR_McubootSender, mcuboot_make_new, mcuboot_attr, mcuboot_locals);
