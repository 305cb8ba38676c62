// MicroPython 1.13 API shim (see ../README.md): py/nlr.h, raising only.
#ifndef MICROPY_INCLUDED_PY_NLR_H
#define MICROPY_INCLUDED_PY_NLR_H

#include "py/mpconfig.h"

NORETURN void nlr_jump(void *val);
#define nlr_raise(val) nlr_jump(MP_OBJ_TO_PTR(val))

#endif // MICROPY_INCLUDED_PY_NLR_H
