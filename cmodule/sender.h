// What the _qsota senders share (sender.c): the driver-facing part of docs/architecture.md
// "Sender objects" over the C ABI's poll/receive/provide, and the stats dict.
#ifndef QSOTA_SENDER_H
#define QSOTA_SENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qsota.h"
#include "qsota_compat.h"

// A sender's C ABI calls, over its context (`qsota_sender_t.core`).
typedef struct {
    int32_t (*poll)(void *core, uint32_t now_ms, uint8_t *frame, size_t cap,
        qsota_action_t *action);
    int32_t (*receive)(void *core, uint32_t now_ms, const uint8_t *data, size_t len);
    int32_t (*provide)(void *core, size_t n);
} qsota_sender_ops_t;

// Defines `name`, the qsota_sender_ops_t of the C ABI functions given, which take a
// `ctx_t *`: through small wrappers, as calling them through a pointer to a function taking
// `void *` would be undefined behaviour.
#define QSOTA_SENDER_OPS(name, ctx_t, poll_fn, receive_fn, provide_fn) \
    static int32_t name##_poll(void *core, uint32_t now_ms, uint8_t *frame, size_t cap, \
        qsota_action_t *action) { \
        return poll_fn((ctx_t *)core, now_ms, frame, cap, action); \
    } \
    static int32_t name##_receive(void *core, uint32_t now_ms, const uint8_t *data, \
        size_t len) { \
        return receive_fn((ctx_t *)core, now_ms, data, len); \
    } \
    static int32_t name##_provide(void *core, size_t n) { \
        return provide_fn((ctx_t *)core, n); \
    } \
    static const qsota_sender_ops_t name = { name##_poll, name##_receive, name##_provide }

// The head of every sender object; the protocol's object puts its C ABI context after it.
typedef struct {
    mp_obj_base_t base;
    const qsota_sender_ops_t *ops;
    void *core; // the protocol's context, in the same object
    qsota_action_t action; // the last poll's
} qsota_sender_t;

// Sets up the head of a new sender object whose context is `core`.
void qsota_sender_init(qsota_sender_t *self, const qsota_sender_ops_t *ops, void *core);

// poll, receive and provide, for a sender type's locals table.
extern const mp_obj_fun_builtin_fixed_t qsota_sender_poll_obj;
extern const mp_obj_fun_builtin_var_t qsota_sender_receive_obj;
extern const mp_obj_fun_builtin_fixed_t qsota_sender_provide_obj;
#define QSOTA_SENDER_METHODS \
    { MP_ROM_QSTR(MP_QSTR_poll), MP_ROM_PTR(&qsota_sender_poll_obj) }, \
    { MP_ROM_QSTR(MP_QSTR_receive), MP_ROM_PTR(&qsota_sender_receive_obj) }, \
    { MP_ROM_QSTR(MP_QSTR_provide), MP_ROM_PTR(&qsota_sender_provide_obj) }

// One int of a sender's stats(): its key and value.
typedef struct {
    uint16_t key; // a qstr
    uint64_t value;
} qsota_stat_t;

// A new dict of the `n` ints of `items`, with room for `extra` more entries.
mp_obj_t qsota_stats_dict(const qsota_stat_t *items, size_t n, size_t extra);

// For a sender type's attr function: true if it handled `attr`, a store or delete (refused:
// MicroPython raises AttributeError) or one of the last action's length, offset, at, until,
// error (the failure's name, None unless the action was FAILED).
bool qsota_sender_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest);

#endif // QSOTA_SENDER_H
