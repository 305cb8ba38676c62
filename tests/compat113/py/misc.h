// MicroPython 1.13 API shim (see ../README.md): py/misc.h, reduced to what cmodule/ meets.
#ifndef MICROPY_INCLUDED_PY_MISC_H
#define MICROPY_INCLUDED_PY_MISC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef unsigned char byte;
typedef unsigned int uint;

#define MP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

// Memory: m_new_obj is the allocator every version has; mp_obj_malloc (1.19) is absent.
#define m_new(type, num) ((type *)(m_malloc(sizeof(type) * (num))))
#define m_new_obj(type) (m_new(type, 1))
void *m_malloc(size_t num_bytes);
void m_free(void *ptr);

// Error text (new in 1.13), without ROM text compression. Only with compression does 1.13's
// misc.h include <string.h>: the glue must include it itself.
typedef const char *mp_rom_error_text_t;
#define MP_ERROR_TEXT(x) (x)

typedef struct _vstr_t {
    size_t alloc;
    size_t len;
    char *buf;
    bool fixed_buf : 1;
} vstr_t;

struct _mp_print_t;
void vstr_init(vstr_t *vstr, size_t alloc);
void vstr_init_print(vstr_t *vstr, size_t alloc, struct _mp_print_t *print);
void vstr_clear(vstr_t *vstr);
void vstr_add_strn(vstr_t *vstr, const char *str, size_t len);

#endif // MICROPY_INCLUDED_PY_MISC_H
