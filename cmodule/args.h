// The _qsota module's argument and raise helpers (args.c): exceptions with messages that
// survive every error-reporting level, the one mapping of the core's status codes to Python
// exceptions, and the constructors' argument parser over the rows of python/qsota/rules.py
// (as cmodule/rules.h gives them). The only place that raises, with the classes' own checks.
#ifndef QSOTA_ARGS_H
#define QSOTA_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qsota.h"
#include "qsota_compat.h"

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
    QSOTA_RULE_NAME, QSOTA_RULE_KEYS, QSOTA_RULE_OBJ,
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

// "name: text" of a QSOTA_DELTA_* fault (qsota.codes.DELTA_FAULTS): DeltaError's message.
const char *qsota_delta_fault_text(int32_t fault);

// The TypeError of row `r` (python/qsota/rules.py) for `obj`: its name, what its kind expects.
NORETURN void qsota_refuse_type(const qsota_rule_t *r, mp_obj_t obj);

// An int argument in lo..hi; TypeError for a non-int (bool included), else ValueError
// "<what>: msg". A small int is checked without allocating (provide() runs once per block).
uint32_t qsota_int_arg(mp_obj_t obj, qstr what, uint32_t lo, uint32_t hi, const char *msg);

// An int object for `v`, a small int (no allocation) whenever it fits.
mp_obj_t qsota_int_from_u64(uint64_t v);

#endif // QSOTA_ARGS_H
