// The _qsota module's argument and raise helpers (args.h): raising with a formatted
// message, the core's status codes as exceptions, the constructors' parser over the rows of
// python/qsota/rules.py, int arguments and int results.
#include <stdarg.h>
#include <string.h>

#include "py/mpprint.h"
#include "py/objint.h"
#include "py/objstr.h"
#include "qsota.h"
#include "args.h"
#include "rules.h"

NORETURN void qsota_raise(const mp_obj_type_t *type, const char *fmt, ...) {
    vstr_t vstr;
    mp_print_t print;
    vstr_init_print(&vstr, 64, &print);
    va_list args;
    va_start(args, fmt);
    mp_vprintf(&print, fmt, args);
    va_end(args);
    mp_obj_t msg = mp_obj_new_str(vstr.buf, vstr.len);
    vstr_clear(&vstr);
    nlr_raise(mp_obj_new_exception_arg1(type, msg));
}

const char *qsota_delta_fault_text(int32_t fault) {
    size_t n = MP_ARRAY_SIZE(qsota_delta_faults);
    return fault >= 1 && (size_t)fault <= n ? qsota_delta_faults[fault - 1] : "unknown fault";
}

NORETURN void qsota_raise_type(qstr what, const char *expected, mp_obj_t obj) {
    qsota_raise(&mp_type_TypeError, "%q: expected %s, got %s", what, expected,
        mp_obj_get_type_str(obj));
}

NORETURN void qsota_refuse_type(const qsota_rule_t *r, mp_obj_t obj) {
    qsota_raise_type(r->qst, qsota_expected[r->kind], obj);
}

void qsota_parse_args(size_t n_args, size_t n_kw, const mp_obj_t *all_args, size_t n_allowed,
    const mp_arg_t *allowed, mp_arg_val_t *out) {
    for (size_t i = 0; i < n_kw; i++) {
        qstr name = mp_obj_str_get_qstr(all_args[n_args + 2 * i]);
        size_t j = 0;
        while (j < n_allowed && allowed[j].qst != name) {
            j++;
        }
        if (j == n_allowed) {
            qsota_raise(&mp_type_TypeError, "unexpected keyword argument '%q'", name);
        }
    }
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, n_allowed, allowed, out);
}

// Takes `obj` for an argument kind row, into `v` (and the options field, if it has one).
static void take(const qsota_rule_t *r, mp_obj_t obj, void *opts, qsota_value_t *v) {
    switch (r->kind) {
        case QSOTA_RULE_INT:
            v->u = qsota_int_arg(obj, r->qst, r->lo, r->hi, r->msg);
            break;
        case QSOTA_RULE_BOOL:
            if (!mp_obj_is_bool(obj)) {
                qsota_refuse_type(r, obj);
            }
            v->u = obj == mp_const_true;
            break;
        case QSOTA_RULE_FLAG:
            v->u = mp_obj_is_true(obj);
            break;
        case QSOTA_RULE_TEXT:
            if (!mp_obj_is_str_or_bytes(obj)) {
                qsota_refuse_type(r, obj);
            }
            v->data = (const byte *)mp_obj_str_get_data(obj, &v->len);
            break;
        default: { // QSOTA_RULE_BUF
            mp_buffer_info_t buf;
            if (mp_obj_is_str(obj) || !mp_get_buffer(obj, &buf, MP_BUFFER_READ)) {
                qsota_refuse_type(r, obj);
            }
            v->data = buf.buf;
            v->len = buf.len;
        }
    }
    if (r->field != QSOTA_NO_FIELD) {
        memcpy((char *)opts + r->field, &v->u, sizeof(uint32_t));
    }
}

// Whether a check kind row refuses the parameter's value `v`.
static bool refused(const qsota_rule_t *r, const qsota_value_t *v) {
    switch (r->kind) {
        case QSOTA_RULE_LEN:
            return v->len < r->lo || v->len > r->hi;
        case QSOTA_RULE_GAP:
            return v->u > r->lo && v->u < r->hi;
        case QSOTA_RULE_STEP:
            return v->u % r->lo != 0;
        default: // QSOTA_RULE_NUL
            return memchr(v->data, 0, v->len) != NULL;
    }
}

void qsota_parse_rules(size_t n_args, size_t n_kw, const mp_obj_t *all_args,
    const qsota_rules_t *rules, void *opts, qsota_value_t *values) {
    mp_arg_val_t args[QSOTA_MAX_PARAMS];
    qsota_parse_args(n_args, n_kw, all_args, rules->n_params, rules->params, args);
    for (size_t i = 0; i < rules->n_checks; i++) {
        const qsota_rule_t *r = &rules->checks[i];
        qsota_value_t *v = &values[r->param];
        if (r->kind >= QSOTA_RULE_LEN) {
            if (refused(r, v)) {
                qsota_raise(&mp_type_ValueError, "%q: %s", r->qst, r->msg);
            }
        } else if (args[r->param].u_obj != MP_OBJ_NULL) {
            take(r, args[r->param].u_obj, opts, v);
        } else { // omitted: the default
            v->data = (const byte *)"";
            v->len = 0;
            if (r->field != QSOTA_NO_FIELD) {
                memcpy(&v->u, (const char *)opts + r->field, sizeof(uint32_t));
            }
        }
    }
}

void qsota_check(int32_t status, qstr what) {
    switch (status) {
        case QSOTA_OK:
            return;
        case QSOTA_E_STATE:
            qsota_raise(&mp_type_ValueError, "%q: not allowed in this state", what);
        case QSOTA_E_LENGTH:
            qsota_raise(&mp_type_ValueError, "%q: wrong length", what);
        case QSOTA_E_SYNTAX:
            qsota_raise(&mp_type_ValueError, "%q: malformed", what);
        case QSOTA_E_RANGE:
            qsota_raise(&mp_type_ValueError, "%q: out of range", what);
        case QSOTA_E_ARG:
            qsota_raise(&mp_type_ValueError, "%q: no such value", what);
        case QSOTA_E_BUFFER:
            qsota_raise(&mp_type_ValueError, "%q: buffer too small", what);
        case QSOTA_E_NULL:
        // The glue never passes null pointers; reaching this is a bug in _qsota.
        default:
            qsota_raise(&mp_type_RuntimeError, "%q: internal error (status %d)", what, (int)status);
    }
}

uint32_t qsota_int_arg(mp_obj_t obj, qstr what, uint32_t lo, uint32_t hi, const char *msg) {
    bool ok;
    if (mp_obj_is_small_int(obj)) {
        mp_int_t v = MP_OBJ_SMALL_INT_VALUE(obj);
        ok = v >= 0 && (mp_uint_t)v >= lo && (uint64_t)v <= hi;
    } else if (mp_obj_is_int(obj)) {
        ok = mp_obj_int_sign(obj) >= 0
            && !mp_obj_is_true(mp_binary_op(MP_BINARY_OP_LESS, obj, mp_obj_new_int_from_uint(lo)))
            && !mp_obj_is_true(mp_binary_op(MP_BINARY_OP_MORE, obj, mp_obj_new_int_from_uint(hi)));
    } else {
        qsota_raise_type(what, qsota_expected[QSOTA_RULE_INT], obj);
    }
    if (!ok) {
        qsota_raise(&mp_type_ValueError, "%q: %s", what, msg);
    }
    return (uint32_t)mp_obj_int_get_truncated(obj);
}

// mp_obj_new_int_from_uint makes a small int whenever it fits, mp_obj_new_int_from_ull does not.
mp_obj_t qsota_int_from_u64(uint64_t v) {
    if (v <= 0xffffffffu) {
        return mp_obj_new_int_from_uint((mp_uint_t)v);
    }
    return mp_obj_new_int_from_ull(v);
}
