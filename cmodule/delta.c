// _qsota.DeltaPackage: the core's delta applier (src/delta/, src/ffi/delta.rs) with the API,
// results and messages of qsota.pure.delta.Package: push, finish, header, target_size. The
// package's first bytes are staged until they say which heatshrink window the patch needs
// (qsota_delta_window_len: none for compression none and crle); the window is allocated
// then, at most `window` bytes, and the core starts with the staged bytes. The
// base is read with base.seek and base.readinto, the target written with out.write, through
// one memoryview over the core's buffer that is re-pointed at every call (no allocation per
// piece). A callback's Exception is swallowed, as in the pure applier: the core then fails
// with base_read or write; another BaseException (KeyboardInterrupt, SystemExit) is raised
// again once the core has returned (the core has latched the fault by then). Failures raise
// qsota.errors.DeltaError, the class both backends raise.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "py/objarray.h"
#include "py/runtime.h"
#include "qsota.h"
#include "args.h"
#include "modqsota.h"
#include "rules.h"

// The most bytes qsota_delta_window_len reads.
#define DELTA_STAGE 71

typedef struct {
    mp_obj_base_t base;
    mp_obj_t base_file;
    mp_obj_t out;
    mp_obj_array_t *view; // the memoryview the callbacks pass, over the core's buffer
    mp_obj_t interrupt; // a BaseException a callback caught, to raise after the core returns
    uint8_t *window;
    uint32_t base_size, limit, window_cap;
    bool check_base;
    bool started; // the core is initialised (until then the package's bytes are staged)
    uint8_t staged;
    uint8_t stage[DELTA_STAGE];
    qsota_delta_t core;
} delta_obj_t;

// Raises qsota.errors.DeltaError(code) for the core's fault `fault`.
static NORETURN void delta_raise(int32_t fault) {
    mp_obj_t pkg = mp_import_name(MP_QSTR_qsota, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
    mp_obj_t cls = mp_load_attr(mp_load_attr(pkg, MP_QSTR_errors), MP_QSTR_DeltaError);
    const char *name = qsota_delta_fault_name(fault);
    nlr_raise(mp_call_function_1(cls, mp_obj_new_str(name, strlen(name))));
}

// Raises the fault the context has latched, if it has one.
static void delta_latched(delta_obj_t *self) {
    int32_t fault = self->started ? qsota_delta_fault(&self->core) : 0;
    if (fault) {
        delta_raise(fault);
    }
}

// The core's result: a callback's BaseException, the fault as DeltaError, any other failure
// as the glue's errors.
static void delta_check(delta_obj_t *self, int32_t status, qstr what) {
    if (self->interrupt != MP_OBJ_NULL) {
        mp_obj_t exc = self->interrupt;
        self->interrupt = MP_OBJ_NULL;
        nlr_raise(exc);
    }
    if (status == QSOTA_E_DELTA) {
        delta_raise(qsota_delta_fault(&self->core));
    }
    qsota_check(status, what);
}

static mp_obj_t delta_view(delta_obj_t *self, uint8_t *buf, size_t len) {
    self->view->items = buf;
    self->view->len = len;
    return MP_OBJ_FROM_PTR(self->view);
}

// Calls obj.method(arg) (the exception propagates).
static mp_obj_t delta_call(mp_obj_t obj, qstr method, mp_obj_t arg) {
    mp_obj_t dest[3];
    mp_load_method(obj, method, dest);
    dest[2] = arg;
    return mp_call_method_n_kw(1, 0, dest);
}

// A callback's exception `exc`: kept for later unless it is an Exception; -1 either way.
static int32_t delta_caught(delta_obj_t *self, mp_obj_t exc) {
    if (!mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(exc)),
            MP_OBJ_FROM_PTR(&mp_type_Exception))) {
        self->interrupt = exc;
    }
    return -1;
}

static int32_t delta_read(void *user, uint32_t offset, uint8_t *buf, size_t len) {
    delta_obj_t *self = user;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) != 0) {
        return delta_caught(self, MP_OBJ_FROM_PTR(nlr.ret_val)); // never through the core
    }
    delta_call(self->base_file, MP_QSTR_seek, mp_obj_new_int_from_uint(offset));
    mp_obj_t got = delta_call(self->base_file, MP_QSTR_readinto, delta_view(self, buf, len));
    nlr_pop();
    return mp_obj_is_small_int(got) && MP_OBJ_SMALL_INT_VALUE(got) == (mp_int_t)len ? 0 : -1;
}

static int32_t delta_write(void *user, const uint8_t *data, size_t len) {
    delta_obj_t *self = user;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) != 0) {
        return delta_caught(self, MP_OBJ_FROM_PTR(nlr.ret_val));
    }
    delta_call(self->out, MP_QSTR_write, delta_view(self, (uint8_t *)data, len));
    nlr_pop();
    return 0;
}

// An INT argument `v` by its row `i` of `rows` (python/qsota/rules.py as rules.h gives it).
static uint32_t delta_int(const qsota_rule_t *rows, int i, mp_obj_t v) {
    return qsota_int_arg(v, rows[i].qst, rows[i].lo, rows[i].hi, rows[i].msg);
}

// DeltaPackage(base, base_size, out, limit, window, check_base): qsota.rules.DELTA.
static mp_obj_t delta_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *all_args) {
    mp_arg_val_t v[MP_ARRAY_SIZE(qsota_delta_params)];
    qsota_parse_args(n_args, n_kw, all_args, MP_ARRAY_SIZE(qsota_delta_params),
        qsota_delta_params, v);
    const qsota_rule_t *rows = qsota_delta_checks;
    uint32_t base_size = delta_int(rows, QSOTA_DELTA_base_size, v[QSOTA_DELTA_base_size].u_obj);
    uint32_t limit = delta_int(rows, QSOTA_DELTA_limit, v[QSOTA_DELTA_limit].u_obj);
    uint32_t window = delta_int(rows, QSOTA_DELTA_window, v[QSOTA_DELTA_window].u_obj);

    delta_obj_t *self = mp_obj_malloc(delta_obj_t, type);
    self->base_file = v[QSOTA_DELTA_base].u_obj;
    self->out = v[QSOTA_DELTA_out].u_obj;
    self->interrupt = MP_OBJ_NULL;
    self->window = NULL;
    self->base_size = base_size;
    self->limit = limit;
    self->window_cap = window;
    self->check_base = mp_obj_is_true(v[QSOTA_DELTA_check_base].u_obj);
    self->started = false;
    self->staged = 0;
    self->view = MP_OBJ_TO_PTR(mp_obj_new_memoryview('B' | MP_OBJ_ARRAY_TYPECODE_FLAG_RW, 0,
        NULL));
    return MP_OBJ_FROM_PTR(self);
}

// Starts the core with a window of `window` bytes (none if that is over the cap: the core
// then fails with `window` at the patch's parameters) and gives it the staged bytes, which
// write nothing (they end at the parameter byte).
static void delta_start(delta_obj_t *self, const qsota_delta_io_t *io, int32_t window) {
    size_t len = window > 0 && (uint32_t)window <= self->window_cap ? (size_t)window : 0;
    if (len) {
        self->window = m_new(uint8_t, len);
    }
    qsota_check(qsota_delta_init(&self->core, self->window, len, self->base_size, self->limit,
        self->check_base), MP_QSTR_DeltaPackage);
    self->started = true;
    delta_check(self, qsota_delta_push(&self->core, io, self->stage, self->staged),
        MP_QSTR_push);
}

// Stages bytes of `data[..n]` until the window is known (then starts the core); returns
// how many it took.
static size_t delta_stage(delta_obj_t *self, const qsota_delta_io_t *io, const uint8_t *data,
    size_t n) {
    size_t took = 0;
    while (!self->started && took < n) {
        self->stage[self->staged++] = data[took++];
        int32_t window = qsota_delta_window_len(self->stage, self->staged);
        if (window != QSOTA_E_LENGTH || self->staged == DELTA_STAGE) {
            delta_start(self, io, window);
        }
    }
    return took;
}

// push(data, n=-1, room=-1) -> how many of the first n bytes of data it took, writing at
// most room target bytes (-1: all of them, no bound): qsota.rules.PUSH.
static mp_obj_t delta_push(size_t n_args, const mp_obj_t *args, mp_map_t *kw) {
    enum { ARG_data, ARG_n, ARG_room };
    static const mp_arg_t allowed[] = {
        { MP_QSTR_data, MP_ARG_REQUIRED | MP_ARG_OBJ, { .u_obj = MP_OBJ_NULL } },
        { MP_QSTR_n, MP_ARG_OBJ, { .u_obj = MP_OBJ_NEW_SMALL_INT(-1) } },
        { MP_QSTR_room, MP_ARG_OBJ, { .u_obj = MP_OBJ_NEW_SMALL_INT(-1) } },
    };
    delta_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    mp_arg_val_t v[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all(n_args - 1, args + 1, kw, MP_ARRAY_SIZE(allowed), allowed, v);
    delta_latched(self);
    const qsota_rule_t *rows = qsota_push_checks;
    mp_obj_t data = v[ARG_data].u_obj;
    mp_buffer_info_t buf;
    if (!(mp_obj_is_type(data, &mp_type_bytes) || mp_obj_is_type(data, &mp_type_bytearray)
            || mp_obj_is_type(data, &mp_type_memoryview))
        || !mp_get_buffer(data, &buf, MP_BUFFER_READ)) {
        qsota_refuse_type(&rows[QSOTA_PUSH_data], data);
    }
    mp_obj_t n_obj = v[ARG_n].u_obj, room_obj = v[ARG_room].u_obj;
    size_t n = buf.len;
    if (!(mp_obj_is_small_int(n_obj) && MP_OBJ_SMALL_INT_VALUE(n_obj) == -1)) {
        const qsota_rule_t *r = &rows[QSOTA_PUSH_n]; // its hi is len(data)
        n = qsota_int_arg(n_obj, r->qst, r->lo, buf.len, r->msg);
    }
    size_t room = SIZE_MAX;
    if (!(mp_obj_is_small_int(room_obj) && MP_OBJ_SMALL_INT_VALUE(room_obj) == -1)) {
        room = delta_int(rows, QSOTA_PUSH_room, room_obj);
    }
    qsota_delta_io_t io = { self, delta_read, delta_write };
    size_t staged = delta_stage(self, &io, buf.buf, n), took = 0;
    if (self->started) {
        delta_check(self, qsota_delta_push_within(&self->core, &io, (const uint8_t *)buf.buf
            + staged, n - staged, room, &took), MP_QSTR_push);
    }
    return mp_obj_new_int_from_uint(staged + took);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(delta_push_obj, 2, delta_push);

// finish() -> (target size, target SHA-256).
static mp_obj_t delta_finish(mp_obj_t self_in) {
    delta_obj_t *self = MP_OBJ_TO_PTR(self_in);
    delta_latched(self);
    if (!self->started) {
        qsota_delta_io_t io = { self, delta_read, delta_write };
        delta_start(self, &io, 0); // the package ended before its window was known
    }
    uint32_t size;
    uint8_t sha[32];
    delta_check(self, qsota_delta_finish(&self->core, &size, sha), MP_QSTR_finish);
    mp_obj_t items[2] = { mp_obj_new_int_from_uint(size), mp_obj_new_bytes(sha, sizeof(sha)) };
    return mp_obj_new_tuple(2, items);
}
static MP_DEFINE_CONST_FUN_OBJ_1(delta_finish_obj, delta_finish);

// header() -> (base SHA-256, extension) once the header is in, else None; the extension is
// (base size, the first 20 bytes of the target's SHA-256), or None.
static mp_obj_t delta_header(mp_obj_t self_in) {
    delta_obj_t *self = MP_OBJ_TO_PTR(self_in);
    uint8_t base_sha[32], digest[20];
    int32_t has_ext;
    uint32_t base_size;
    if (!self->started
        || qsota_delta_header(&self->core, base_sha, &has_ext, &base_size, digest) != QSOTA_OK) {
        return mp_const_none;
    }
    mp_obj_t ext = mp_const_none;
    if (has_ext) {
        mp_obj_t e[2] = { mp_obj_new_int_from_uint(base_size),
                          mp_obj_new_bytes(digest, sizeof(digest)) };
        ext = mp_obj_new_tuple(2, e);
    }
    mp_obj_t items[2] = { mp_obj_new_bytes(base_sha, sizeof(base_sha)), ext };
    return mp_obj_new_tuple(2, items);
}
static MP_DEFINE_CONST_FUN_OBJ_1(delta_header_obj, delta_header);

// target_size() -> the target's size once the patch has stated it, else None.
static mp_obj_t delta_target_size(mp_obj_t self_in) {
    delta_obj_t *self = MP_OBJ_TO_PTR(self_in);
    uint32_t size;
    if (!self->started || qsota_delta_target_size(&self->core, &size) != QSOTA_OK) {
        return mp_const_none;
    }
    return mp_obj_new_int_from_uint(size);
}
static MP_DEFINE_CONST_FUN_OBJ_1(delta_target_size_obj, delta_target_size);

static const mp_rom_map_elem_t delta_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_push), MP_ROM_PTR(&delta_push_obj) },
    { MP_ROM_QSTR(MP_QSTR_finish), MP_ROM_PTR(&delta_finish_obj) },
    { MP_ROM_QSTR(MP_QSTR_header), MP_ROM_PTR(&delta_header_obj) },
    { MP_ROM_QSTR(MP_QSTR_target_size), MP_ROM_PTR(&delta_target_size_obj) },
};
static MP_DEFINE_CONST_DICT(delta_locals, delta_locals_table);

static void delta_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    qsota_attr_methods(self_in, attr, dest, &delta_locals);
}

QSOTA_DEFINE_TYPE(qsota_type_DeltaPackage, MP_QSTR_DeltaPackage, delta_make_new, delta_attr,
    delta_locals);
