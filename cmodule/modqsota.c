// _qsota: the qsota core (include/qsota.h, libqsota.a) for MicroPython: the module and its
// table. The Python package `qsota` re-exports it; `qsota.pure` has the same API in Python.
// This is the only layer that raises Python exceptions (args.c): the core returns status codes.
#include "modqsota.h"

// The module table: the exceptions, classes and function of _qsota (the same names as
// qsota.pure).
static const mp_rom_map_elem_t qsota_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__qsota) },
    // Exceptions.
    { MP_ROM_QSTR(MP_QSTR_VerifyError), MP_ROM_PTR(&mp_type_VerifyError) },
    // Classes.
    { MP_ROM_QSTR(MP_QSTR_Verifier), MP_ROM_PTR(&qsota_type_Verifier) },
    { MP_ROM_QSTR(MP_QSTR_NativeSender), MP_ROM_PTR(&qsota_type_NativeSender) },
    { MP_ROM_QSTR(MP_QSTR_YmodemSender), MP_ROM_PTR(&qsota_type_YmodemSender) },
    { MP_ROM_QSTR(MP_QSTR_Stm32Sender), MP_ROM_PTR(&qsota_type_Stm32Sender) },
    { MP_ROM_QSTR(MP_QSTR_McubootSender), MP_ROM_PTR(&qsota_type_McubootSender) },
    { MP_ROM_QSTR(MP_QSTR_DeltaPackage), MP_ROM_PTR(&qsota_type_DeltaPackage) },
    // Functions.
    { MP_ROM_QSTR(MP_QSTR_tlv_hash), MP_ROM_PTR(&qsota_tlv_hash_obj) },
};
static MP_DEFINE_CONST_DICT(qsota_module_globals, qsota_module_globals_table);

const mp_obj_module_t qsota_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&qsota_module_globals,
};

// MicroPython 1.13 finds this with a regex over the raw source (not the preprocessor output)
// that spans lines: it must meet the three-argument form first, or it would read the
// two-argument line together with the next. 70144 is 1.18.0.
#if MICROPY_VERSION <= 70144
MP_REGISTER_MODULE(MP_QSTR__qsota, qsota_module, 1);
#else
MP_REGISTER_MODULE(MP_QSTR__qsota, qsota_module);
#endif
