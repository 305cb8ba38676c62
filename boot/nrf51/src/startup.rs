//! The vector table, the reset handler and the exception forwarding.
//!
//! The Cortex-M0 has no VTOR: the vector table at address 0 (the bootloader's) serves the
//! application too. Every exception but reset goes to `forward`, which reads the exception
//! number from IPSR and branches to the handler in the application's table, leaving the
//! stacked frame, LR (EXC_RETURN) and SP as the hardware made them, so the application's
//! handlers run as if its table were at 0. The bootloader itself enables no interrupts.
core::arch::global_asm!(
    r#"
    .syntax unified
    .section .vectors, "a"
    .global __vectors
__vectors:
    .word _stack_top
    .word reset
    .rept 46
    .word forward
    .endr

    .section .text.forward, "ax"
    .thumb_func
forward:
    mrs r0, ipsr
    lsls r0, r0, #2
    movs r1, #{app_hi}
    lsls r1, r1, #8
    ldr r0, [r1, r0]
    bx r0

    .section .text.reset, "ax"
    .global reset
    .thumb_func
reset:
    ldr r0, =_sdata
    ldr r1, =_edata
    ldr r2, =_sidata
1:  cmp r0, r1
    bhs 2f
    ldr r3, [r2]
    str r3, [r0]
    adds r0, r0, #4
    adds r2, r2, #4
    b 1b
2:  ldr r0, =_sbss
    ldr r1, =_ebss
    movs r2, #0
3:  cmp r0, r1
    bhs 4f
    str r2, [r0]
    adds r0, r0, #4
    b 3b
4:  bl boot_main
    b .
    .ltorg
"#,
    app_hi = const boot_hal::layout::APP >> 8,
);

// `forward` builds the application's address in one byte shifted by 8.
const _: () = assert!(boot_hal::layout::APP & 0xFF == 0 && boot_hal::layout::APP >> 8 <= 0xFF);
