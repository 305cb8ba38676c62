// MicroPython 1.13 API shim (see ../README.md): py/mpstate.h, for its includes (runtime.h
// reaches obj.h and nlr.h through it).
#ifndef MICROPY_INCLUDED_PY_MPSTATE_H
#define MICROPY_INCLUDED_PY_MPSTATE_H

#include "py/mpconfig.h"
#include "py/misc.h"
#include "py/nlr.h"
#include "py/obj.h"

#endif // MICROPY_INCLUDED_PY_MPSTATE_H
