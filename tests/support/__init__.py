"""What the tests share (and the benches and tools/qth_emu borrow): running MicroPython
(`micropython`, and the `mp` and `backend` fixtures in `fixtures`), the MCU simulator
(`mcu`), the real peer tools (`ymodem_peers`: lrzsz; `stm32_peers`: stm32flash and
stm32loader; `mcuboot_qemu` and `mcuboot_peers`: MCUboot in qemu and smpclient), transfer
sessions and fault runs (`transfer_runs`) and signed images (`signing`)."""
