// MicroPython 1.13 API shim (see ../README.md): py/mpconfig.h, reduced to what cmodule/ meets.
#ifndef MICROPY_INCLUDED_PY_MPCONFIG_H
#define MICROPY_INCLUDED_PY_MPCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MICROPY_VERSION_MAJOR 1
#define MICROPY_VERSION_MINOR 13
#define MICROPY_VERSION_MICRO 0
#define MICROPY_VERSION \
    (MICROPY_VERSION_MAJOR << 16 | MICROPY_VERSION_MINOR << 8 | MICROPY_VERSION_MICRO)

// What a 32-bit port's mpconfigport.h supplies (legacy QuecPython: Cortex-A5, 32 bits).
typedef intptr_t mp_int_t;
typedef uintptr_t mp_uint_t;
typedef long mp_off_t;

// Object representation A (the default): pointers, small ints tagged with bit 0.
#define MICROPY_OBJ_REPR_A (0)
#define MICROPY_OBJ_REPR (MICROPY_OBJ_REPR_A)
#define MICROPY_OBJ_BASE_ALIGNMENT
#define MP_ENDIANNESS_LITTLE (1)

// 1.13 still has STATIC (1.23 removed it); the glue must not need it.
#ifndef STATIC
#define STATIC static
#endif

#ifndef NORETURN
#define NORETURN __attribute__((noreturn))
#endif

#endif // MICROPY_INCLUDED_PY_MPCONFIG_H
