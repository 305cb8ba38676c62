// Shared by the _qsota module's C files: its types, its exceptions, and the one mapping of
// the core's status codes to Python exceptions.
#ifndef QSOTA_MODQSOTA_H
#define QSOTA_MODQSOTA_H

#include <stdint.h>

#include "qsota_compat.h"

// Classes, one per cmodule/<name>.c.
extern const mp_obj_type_t qsota_type_Verifier;
extern const mp_obj_type_t qsota_type_LinkSender;
extern const mp_obj_type_t qsota_type_YmodemSender;

// Exceptions (modqsota.c).
extern const mp_obj_type_t mp_type_VerifyError;

// Raises `type` with a message formatted like mp_printf (%q for a qstr, %s, %u, %08x ...).
// Unlike mp_raise_msg_varg, the message survives MICROPY_ERROR_REPORTING_NONE/TERSE ports.
NORETURN void qsota_raise(const mp_obj_type_t *type, const char *fmt, ...);

// Raises the exception for a core status other than QSOTA_OK, naming `what` (the argument or
// call) in the message; returns when `status` is QSOTA_OK. Callers that can say more about a
// particular code (which digits, which state) check for it before calling this.
void qsota_check(int32_t status, qstr what);

// TypeError "<what>: expected <expected>, got <type of obj>".
NORETURN void qsota_raise_type(qstr what, const char *expected, mp_obj_t obj);

#endif // QSOTA_MODQSOTA_H
