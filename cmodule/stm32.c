// _qsota.Stm32Sender: the core's sans-IO sender for ST's ROM bootloader (src/stm32, AN3155)
// for qsota.send. poll, receive, provide and the action's attributes are the shared ones of
// sender.c; here: the constructor, stats, frame_size and block.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "py/objstr.h"
#include "qsota.h"
#include "args.h"
#include "modqsota.h"
#include "sender.h"
#include "rules.h"

typedef struct {
    qsota_sender_t sender;
    qsota_stm32_t core;
} stm32_obj_t;

QSOTA_SENDER_OPS(stm32_ops, qsota_stm32_t, qsota_stm32_poll, qsota_stm32_receive,
    qsota_stm32_provide);

static mp_obj_t stm32_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *all_args) {
    qsota_stm32_options_t opts;
    qsota_check(qsota_stm32_options_default(&opts), MP_QSTR_Stm32Sender);
    qsota_value_t v[MP_ARRAY_SIZE(qsota_stm32_params)];
    qsota_parse_rules(n_args, n_kw, all_args, &qsota_stm32_rules, &opts, v);

    stm32_obj_t *self = mp_obj_malloc(stm32_obj_t, type);
    qsota_sender_init(&self->sender, &stm32_ops, &self->core);
    qsota_check(qsota_stm32_init(&self->core, v[QSOTA_STM32_size].u, &opts),
        MP_QSTR_Stm32Sender);
    return MP_OBJ_FROM_PTR(self);
}

static qsota_stm32_stats_t stm32_stats_of(stm32_obj_t *self) {
    qsota_stm32_stats_t st;
    qsota_check(qsota_stm32_stats(&self->core, &st), MP_QSTR_stats);
    return st;
}

// stats() -> dict: bytes, verified, frames, retries, line_bytes, pid, version, erase_cmd,
// pages, erase_ms, write_ms, verify_ms, went (bool), reason (str, '' if none).
static mp_obj_t stm32_stats(mp_obj_t self_in) {
    qsota_stm32_stats_t st = stm32_stats_of(MP_OBJ_TO_PTR(self_in));
    const qsota_stat_t items[] = {
        { MP_QSTR_bytes, st.bytes }, { MP_QSTR_verified, st.verified },
        { MP_QSTR_frames, st.frames }, { MP_QSTR_retries, st.retries },
        { MP_QSTR_line_bytes, st.line_bytes }, { MP_QSTR_pid, st.pid },
        { MP_QSTR_version, st.version }, { MP_QSTR_erase_cmd, st.erase_cmd },
        { MP_QSTR_pages, st.pages }, { MP_QSTR_erase_ms, st.erase_ms },
        { MP_QSTR_write_ms, st.write_ms }, { MP_QSTR_verify_ms, st.verify_ms },
    };
    mp_obj_t d = qsota_stats_dict(items, MP_ARRAY_SIZE(items), 2);
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_went), mp_obj_new_bool(st.went));
    char reason[128];
    qsota_check(qsota_stm32_reason(st.reason, (uint8_t *)reason, sizeof(reason)), MP_QSTR_stats);
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_reason), mp_obj_new_str(reason, strlen(reason)));
    return d;
}
static MP_DEFINE_CONST_FUN_OBJ_1(stm32_stats_obj, stm32_stats);

static const mp_rom_map_elem_t stm32_locals_table[] = {
    QSOTA_SENDER_METHODS,
    { MP_ROM_QSTR(MP_QSTR_stats), MP_ROM_PTR(&stm32_stats_obj) },
};
static MP_DEFINE_CONST_DICT(stm32_locals, stm32_locals_table);

// Read-only attributes: frame_size, block, and the last action's (sender.c).
static void stm32_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    if (qsota_sender_attr(self_in, attr, dest)) {
        return;
    }
    if (attr == MP_QSTR_frame_size) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(QSOTA_STM32_FRAME_SIZE);
    } else if (attr == MP_QSTR_block) {
        dest[0] = qsota_int_from_u64(stm32_stats_of(MP_OBJ_TO_PTR(self_in)).block);
    } else {
        qsota_attr_methods(self_in, attr, dest, &stm32_locals);
    }
}

QSOTA_DEFINE_TYPE(qsota_type_Stm32Sender, MP_QSTR_Stm32Sender, stm32_make_new, stm32_attr,
    stm32_locals);
