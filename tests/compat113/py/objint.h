// MicroPython 1.13 API shim (see ../README.md): py/objint.h, the int helpers the glue uses.
#ifndef MICROPY_INCLUDED_PY_OBJINT_H
#define MICROPY_INCLUDED_PY_OBJINT_H

#include "py/obj.h"

int mp_obj_int_sign(mp_obj_t self_in);

#endif // MICROPY_INCLUDED_PY_OBJINT_H
