/* Entry for C tests run bare-metal under qemu-system-arm (sabrelite, Cortex-A9) with newlib's
 * semihosting startup (--specs=rdimon.specs). The code is built hard-float, as QuecPython's
 * firmware is, and an ARMv7-A core comes out of reset with the FPU off: switch on CP10/CP11
 * access (CPACR) and the VFP/NEON unit (FPEXC.EN) before newlib's _start runs. */
    .syntax unified
    .arm
    .section .text.qsota_fpu_start, "ax"
    .global qsota_fpu_start
qsota_fpu_start:
    mrc p15, 0, r0, c1, c0, 2
    orr r0, r0, #(0xf << 20)
    mcr p15, 0, r0, c1, c0, 2
    isb
    mov r0, #0x40000000
    vmsr fpexc, r0
    b _start
