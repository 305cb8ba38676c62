// MicroPython 1.13's py/objarray.h, as the glue uses it (declarations only; see README.md).
#ifndef MICROPY_INCLUDED_PY_OBJARRAY_H
#define MICROPY_INCLUDED_PY_OBJARRAY_H

#include "py/obj.h"

// Set in a memoryview's typecode: the view is writable.
#define MP_OBJ_ARRAY_TYPECODE_FLAG_RW (0x80)

// bytearray, array.array and memoryview: for a memoryview, `free` is the offset into the
// parent object.
typedef struct _mp_obj_array_t {
    mp_obj_base_t base;
    size_t typecode : 8;
    size_t free : (8 * sizeof(size_t) - 8);
    size_t len;
    void *items;
} mp_obj_array_t;

#endif
