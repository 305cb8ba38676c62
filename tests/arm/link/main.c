/* Link check: a minimal firmware image that references every exported qsota function (the
 * table in exports.c is generated from include/qsota.h by scripts/cross.sh) next to code that
 * pulls newlib's and libgcc's own memcpy/memset/strlen/64-bit division into the same link.
 * The image is never run: it proves that libqsota.a links against newlib and libgcc without
 * duplicate or missing symbols, and lets the size report see what qsota adds after gc. */
#include <stdint.h>
#include <string.h>

typedef void (*qsota_fn)(void);
extern const qsota_fn qsota_exports[];
extern const unsigned qsota_exports_count;

volatile uint64_t sink;
static uint8_t scratch[64];

int main(void) {
    uintptr_t sum = 0;
    for (unsigned i = 0; i < qsota_exports_count; i++) sum += (uintptr_t)qsota_exports[i];
    memset(scratch, (int)sum, sizeof scratch);
    memcpy(scratch + 1, scratch + 32, 16);
    sink = (uint64_t)sink / (uint64_t)(strlen((const char *)scratch) + 1);
    return (int)(sink + sum);
}
