// MicroPython 1.13 API shim (see ../README.md): py/objtuple.h, the tuple object.
#ifndef MICROPY_INCLUDED_PY_OBJTUPLE_H
#define MICROPY_INCLUDED_PY_OBJTUPLE_H

#include "py/obj.h"

typedef struct _mp_obj_tuple_t {
    mp_obj_base_t base;
    size_t len;
    mp_obj_t items[];
} mp_obj_tuple_t;

#endif // MICROPY_INCLUDED_PY_OBJTUPLE_H
