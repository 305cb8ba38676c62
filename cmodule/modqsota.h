// The _qsota module's classes and exception (modqsota.c lists them), and what the Verifier
// takes from image.c. Argument and raise helpers: args.h; what the senders share: sender.h.
#ifndef QSOTA_MODQSOTA_H
#define QSOTA_MODQSOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qsota.h"
#include "qsota_compat.h"

// Classes, one per cmodule/<name>.c.
extern const mp_obj_type_t qsota_type_Verifier;
extern const mp_obj_type_t qsota_type_NativeSender;
extern const mp_obj_type_t qsota_type_YmodemSender;
extern const mp_obj_type_t qsota_type_Stm32Sender;
extern const mp_obj_type_t qsota_type_McubootSender;
extern const mp_obj_type_t qsota_type_DeltaPackage;

// Verifier(keys=...) (image.c): expects an image signed by one of `keys` (TypeError or
// ValueError naming keys), prints why the image was refused, gives the `image` attribute.
void qsota_image_expect(qsota_verifier_t *core, mp_obj_t keys);
void qsota_image_print_problem(const mp_print_t *print, qsota_verifier_t *core);
mp_obj_t qsota_image_info(qsota_verifier_t *core);
// tlv_hash(head, tail, tail_at), the module's function (image.c).
MP_DECLARE_CONST_FUN_OBJ_3(qsota_tlv_hash_obj);

// VerifyError (verifier.c): Verifier.check() found a mismatch.
extern const mp_obj_type_t mp_type_VerifyError;

#endif // QSOTA_MODQSOTA_H
