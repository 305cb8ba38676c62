// MicroPython 1.13 API shim (see ../README.md): py/qstr.h. As in 1.13, the MP_QSTR_ names
// come from genhdr/qstrdefs.generated.h, which the check writes from the glue's
// preprocessed source (compiled with NO_QSTR), the way 1.13's build collects them.
#ifndef MICROPY_INCLUDED_PY_QSTR_H
#define MICROPY_INCLUDED_PY_QSTR_H

#include "py/mpconfig.h"
#include "py/misc.h"

enum {
    #ifndef NO_QSTR
    #define QDEF(id, str) id,
    #include "genhdr/qstrdefs.generated.h"
    #undef QDEF
    #endif
    MP_QSTRnumber_of,
};

typedef size_t qstr;

const char *qstr_str(qstr q);

#endif // MICROPY_INCLUDED_PY_QSTR_H
