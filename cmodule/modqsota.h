// Shared by the _qsota module's C files: its types, its exceptions, and the one mapping of
// the core's status codes to Python exceptions.
#ifndef QSOTA_MODQSOTA_H
#define QSOTA_MODQSOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qsota.h"
#include "qsota_compat.h"

// Classes, one per cmodule/<name>.c.
extern const mp_obj_type_t qsota_type_Verifier;
extern const mp_obj_type_t qsota_type_NativeSender;
extern const mp_obj_type_t qsota_type_YmodemSender;
extern const mp_obj_type_t qsota_type_Stm32Sender;
extern const mp_obj_type_t qsota_type_McubootSender;

// Verifier(keys=...) (image.c): expects an image signed by one of `keys` (TypeError or
// ValueError naming keys), prints why the image was refused, gives the `image` attribute.
void qsota_image_expect(qsota_verifier_t *core, mp_obj_t keys);
void qsota_image_print_problem(const mp_print_t *print, qsota_verifier_t *core);
mp_obj_t qsota_image_info(qsota_verifier_t *core);

// Exceptions (modqsota.c).
extern const mp_obj_type_t mp_type_VerifyError;

// Raises `type` with a message formatted like mp_printf (%q for a qstr, %s, %u, %08x ...).
// Unlike mp_raise_msg_varg, the message survives MICROPY_ERROR_REPORTING_NONE/TERSE ports.
NORETURN void qsota_raise(const mp_obj_type_t *type, const char *fmt, ...);

// Raises the exception for a core status other than QSOTA_OK, naming `what` (the argument or
// call) in the message; returns when `status` is QSOTA_OK. Callers that can say more about a
// particular code (which digits, which state) check for it before calling this.
void qsota_check(int32_t status, qstr what);

// mp_arg_parse_all_kw_array, but an unknown keyword raises Python's own message for a
// function (TypeError "unexpected keyword argument 'x'"), as qsota.pure's classes do, instead
// of MicroPython's "extra keyword arguments given".
void qsota_parse_args(size_t n_args, size_t n_kw, const mp_obj_t *all_args, size_t n_allowed,
    const mp_arg_t *allowed, mp_arg_val_t *out);

// One check of a sender's arguments, a row of python/qsota/rules.py as cmodule/rules.h
// (generated) gives it.
enum {
    QSOTA_RULE_INT, QSOTA_RULE_BOOL, QSOTA_RULE_FLAG, QSOTA_RULE_TEXT, QSOTA_RULE_BUF,
    QSOTA_RULE_TICKS, QSOTA_RULE_WBUF, QSOTA_RULE_RBUF, QSOTA_RULE_HEX, QSOTA_RULE_CRC,
    QSOTA_RULE_NAME, QSOTA_RULE_KEYS,
    QSOTA_RULE_LEN, QSOTA_RULE_GAP, QSOTA_RULE_STEP, QSOTA_RULE_NUL
};
#define QSOTA_NO_FIELD 0xffff
typedef struct {
    uint16_t qst; // the parameter's name
    uint8_t param; // its place in the signature
    uint8_t kind; // QSOTA_RULE_*
    uint16_t field; // offset of its uint32_t field in the options struct, or QSOTA_NO_FIELD
    uint32_t lo, hi;
    const char *msg; // the ValueError's text after "<name>: "
} qsota_rule_t;

// A class's parameters (for mp_arg_parse_all) and its checks in order.
typedef struct {
    const mp_arg_t *params;
    size_t n_params;
    const qsota_rule_t *checks;
    size_t n_checks;
} qsota_rules_t;

// A parameter's value after qsota_parse_rules: `u` for INT, BOOL and FLAG (an omitted one's
// is its options field's default), `data`/`len` for TEXT and BUF (omitted: empty).
typedef struct {
    uint32_t u;
    const byte *data;
    size_t len;
} qsota_value_t;

// Binds a constructor's arguments to `rules`' parameters (qsota_parse_args), checks them in
// the order and with the messages of python/qsota/rules.py, and stores each given one that
// has an options field in `opts`, whose defaults are already there.
void qsota_parse_rules(size_t n_args, size_t n_kw, const mp_obj_t *all_args,
    const qsota_rules_t *rules, void *opts, qsota_value_t *values);

// TypeError "<what>: expected <expected>, got <type of obj>".
NORETURN void qsota_raise_type(qstr what, const char *expected, mp_obj_t obj);

// The TypeError of row `r` (python/qsota/rules.py) for `obj`: its name, what its kind expects.
NORETURN void qsota_refuse_type(const qsota_rule_t *r, mp_obj_t obj);

// An int argument in lo..hi; TypeError for a non-int (bool included), else ValueError
// "<what>: msg". A small int is checked without allocating (provide() runs once per block).
uint32_t qsota_int_arg(mp_obj_t obj, qstr what, uint32_t lo, uint32_t hi, const char *msg);

// An int object for `v`, a small int (no allocation) whenever it fits.
mp_obj_t qsota_int_from_u64(uint64_t v);

// Senders (sender.c): what YmodemSender and NativeSender share, the driver-facing part of
// docs/architecture.md "Sender objects" over the C ABI's poll/receive/provide.

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

#endif // QSOTA_MODQSOTA_H
