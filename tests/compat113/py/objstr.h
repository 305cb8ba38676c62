// MicroPython 1.13 API shim (see ../README.md): py/objstr.h, the str/bytes object. Declares
// mp_obj_str_binary_op, which obj.h's mp_obj_is_str_or_bytes needs.
#ifndef MICROPY_INCLUDED_PY_OBJSTR_H
#define MICROPY_INCLUDED_PY_OBJSTR_H

#include "py/obj.h"

typedef struct _mp_obj_str_t {
    mp_obj_base_t base;
    size_t hash;
    size_t len;
    const byte *data;
} mp_obj_str_t;

mp_obj_t mp_obj_str_binary_op(mp_binary_op_t op, mp_obj_t lhs_in, mp_obj_t rhs_in);

#endif // MICROPY_INCLUDED_PY_OBJSTR_H
