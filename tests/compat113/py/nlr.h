// MicroPython 1.13 API shim (see ../README.md): py/nlr.h, raising and catching.
#ifndef MICROPY_INCLUDED_PY_NLR_H
#define MICROPY_INCLUDED_PY_NLR_H

#include "py/mpconfig.h"

typedef struct _nlr_buf_t nlr_buf_t;
struct _nlr_buf_t {
    nlr_buf_t *prev;
    void *ret_val; // always a concrete object (an exception instance)
    void *regs[16]; // the port's registers (MICROPY_NLR_NUM_REGS), or a jmp_buf
};

unsigned int nlr_push(nlr_buf_t *);
void nlr_pop(void);
NORETURN void nlr_jump(void *val);
#define nlr_raise(val) nlr_jump(MP_OBJ_TO_PTR(val))

#endif // MICROPY_INCLUDED_PY_NLR_H
