// The one place that papers over MicroPython API differences between 1.13 (legacy
// QuecPython) and 1.25+ (current QuecPython). Feature checks where the API has a macro to
// test, version numbers only where it has none.
//
// Not here, on purpose:
// - STATIC (removed in 1.23): write plain `static`, which every version accepts.
// - MP_REGISTER_MODULE (3 arguments up to 1.18, 2 from 1.19): 1.13 finds it with a regex
//   over the raw source, so a wrapper macro would hide it; see the end of modqsota.c.
// - MP_DEFINE_EXCEPTION: py/objexcept.h has it from 1.13 on, in a form that fits each version.
// - MP_ERROR_TEXT: exists from 1.13 on (qsota_raise in args.c takes plain text anyway).
#ifndef QSOTA_COMPAT_H
#define QSOTA_COMPAT_H

#include "py/obj.h"
#include "py/runtime.h"

// mp_obj_malloc (1.19+) allocates an object and sets its type.
#ifndef mp_obj_malloc
static inline void *qsota_obj_malloc(size_t size, const mp_obj_type_t *type) {
    mp_obj_base_t *o = (mp_obj_base_t *)m_malloc(size);
    o->type = type;
    return o;
}
#define mp_obj_malloc(struct_type, obj_type) \
    ((struct_type *)qsota_obj_malloc(sizeof(struct_type), obj_type))
#endif

// QSOTA_DEFINE_TYPE: a class with a constructor, attributes and methods.
// MP_DEFINE_CONST_OBJ_TYPE (1.20+) replaced the plain struct initialiser.
#ifdef MP_DEFINE_CONST_OBJ_TYPE
#define QSOTA_DEFINE_TYPE(type, qstr_name, make_new_fn, attr_fn, locals) \
    MP_DEFINE_CONST_OBJ_TYPE(type, qstr_name, MP_TYPE_FLAG_NONE, \
        make_new, make_new_fn, attr, attr_fn, locals_dict, &locals)
#else
#define QSOTA_DEFINE_TYPE(type, qstr_name, make_new_fn, attr_fn, locals) \
    const mp_obj_type_t type = { \
        { &mp_type_type }, \
        .name = qstr_name, \
        .make_new = make_new_fn, \
        .attr = attr_fn, \
        .locals_dict = (mp_obj_dict_t *)&locals, \
    }
#endif

// For a type's attr function: looks `attr` up among the type's methods. Newer versions do
// this themselves when attr sets dest[1] = MP_OBJ_SENTINEL; 1.13 never looks at locals_dict
// once a type has attr.
static inline void qsota_attr_methods(mp_obj_t self, qstr attr, mp_obj_t *dest,
    const mp_obj_dict_t *locals) {
    mp_map_elem_t *elem = mp_map_lookup((mp_map_t *)&locals->map, MP_OBJ_NEW_QSTR(attr),
        MP_MAP_LOOKUP);
    if (elem != NULL) {
        mp_convert_member_lookup(self, mp_obj_get_type(self), elem->value, dest);
    }
}

#endif // QSOTA_COMPAT_H
