// What the _qsota senders share (sender.h): the driver-facing methods poll,
// receive and provide over the C ABI, and the last action's attributes. poll() returns a small
// int action code and leaves the action's numbers in attributes (length, offset, at, until,
// error), so the driver's loop allocates nothing per block.
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "py/objint.h"
#include "py/objstr.h"
#include "qsota.h"
#include "args.h"
#include "sender.h"
#include "rules.h"

void qsota_sender_init(qsota_sender_t *self, const qsota_sender_ops_t *ops, void *core) {
    self->ops = ops;
    self->core = core;
    memset(&self->action, 0, sizeof(self->action));
}

// now_ms: an int, taken modulo 2**32 (a TICKS row).
static uint32_t now_arg(const qsota_rule_t *r, mp_obj_t obj) {
    if (!mp_obj_is_int(obj)) {
        qsota_refuse_type(r, obj);
    }
    return (uint32_t)mp_obj_int_get_truncated(obj);
}

// poll(now_ms, frame) -> action code (SEND 1, READ 2, WAIT 3, DONE 4, FAILED 5).
static mp_obj_t sender_poll(mp_obj_t self_in, mp_obj_t now_in, mp_obj_t frame_in) {
    qsota_sender_t *self = MP_OBJ_TO_PTR(self_in);
    uint32_t now = now_arg(&qsota_poll_checks[QSOTA_POLL_now_ms], now_in);
    mp_buffer_info_t frame;
    // Items of one byte: bytearray (typecode 1), array('B'/'b') and views of them. A buffer
    // of wider items is refused as qsota.pure refuses it, which cannot write bytes into it.
    if (mp_obj_is_str_or_bytes(frame_in) || !mp_get_buffer(frame_in, &frame, MP_BUFFER_WRITE)
        || !(frame.typecode == 1 || frame.typecode == 'B' || frame.typecode == 'b')) {
        qsota_refuse_type(&qsota_poll_checks[QSOTA_POLL_frame], frame_in);
    }
    // An empty bytearray has no storage (buf is NULL), which the core refuses as a null
    // pointer; an empty frame that is not null fails the transfer with `usage`, as in qsota.pure.
    static uint8_t empty;
    uint8_t *buf = frame.buf != NULL ? frame.buf : &empty;
    qsota_check(self->ops->poll(self->core, now, buf, frame.len, &self->action), MP_QSTR_poll);
    return MP_OBJ_NEW_SMALL_INT(self->action.kind);
}
MP_DEFINE_CONST_FUN_OBJ_3(qsota_sender_poll_obj, sender_poll);

// receive(now_ms, data, n=len(data)): the first n bytes of data, from the line. `n` lets the
// driver pass its one receive buffer after a short readinto() without slicing it.
static mp_obj_t sender_receive(size_t n_args, const mp_obj_t *args) {
    qsota_sender_t *self = MP_OBJ_TO_PTR(args[0]);
    uint32_t now = now_arg(&qsota_receive_checks[QSOTA_RECEIVE_now_ms], args[1]);
    mp_buffer_info_t data;
    if (mp_obj_is_str(args[2]) || !mp_get_buffer(args[2], &data, MP_BUFFER_READ)) {
        qsota_refuse_type(&qsota_receive_checks[QSOTA_RECEIVE_data], args[2]);
    }
    size_t len = data.len;
    if (n_args > 3 && args[3] != mp_const_none) {
        const qsota_rule_t *r = &qsota_receive_checks[QSOTA_RECEIVE_n];
        len = qsota_int_arg(args[3], r->qst, r->lo, data.len, r->msg); // at most len(data)
    }
    qsota_check(self->ops->receive(self->core, now, data.buf, len), MP_QSTR_receive);
    return mp_const_none;
}
MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(qsota_sender_receive_obj, 3, 4, sender_receive);

// provide(n): image bytes read for the last READ action.
static mp_obj_t sender_provide(mp_obj_t self_in, mp_obj_t n_in) {
    qsota_sender_t *self = MP_OBJ_TO_PTR(self_in);
    const qsota_rule_t *r = &qsota_provide_checks[QSOTA_PROVIDE_n];
    uint32_t n = qsota_int_arg(n_in, r->qst, r->lo, r->hi, r->msg);
    qsota_check(self->ops->provide(self->core, n), MP_QSTR_provide);
    return mp_const_none;
}
MP_DEFINE_CONST_FUN_OBJ_2(qsota_sender_provide_obj, sender_provide);

mp_obj_t qsota_stats_dict(const qsota_stat_t *items, size_t n, size_t extra) {
    mp_obj_t d = mp_obj_new_dict(n + extra);
    for (size_t i = 0; i < n; i++) {
        mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(items[i].key), qsota_int_from_u64(items[i].value));
    }
    return d;
}

bool qsota_sender_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    if (dest[0] != MP_OBJ_NULL) {
        return true; // store or delete: not supported, MicroPython raises AttributeError
    }
    const qsota_sender_t *self = MP_OBJ_TO_PTR(self_in);
    const qsota_action_t *a = &self->action;
    if (attr == MP_QSTR_length) {
        dest[0] = qsota_int_from_u64(a->len);
    } else if (attr == MP_QSTR_offset) {
        dest[0] = qsota_int_from_u64(a->offset);
    } else if (attr == MP_QSTR_at) {
        dest[0] = qsota_int_from_u64(a->at);
    } else if (attr == MP_QSTR_until) {
        dest[0] = qsota_int_from_u64(a->until_ms);
    } else if (attr == MP_QSTR_error) {
        const char *name = qsota_fail_name(a->fail);
        dest[0] = a->kind == QSOTA_ACTION_FAILED ? mp_obj_new_str(name, strlen(name))
            : mp_const_none;
    } else {
        return false;
    }
    return true;
}
