"""The UART line of the emulated boards (tests/support/qemu_link.py), without qemu: a unix
socket stands for the UART's chardev."""

import socket
import threading

from support.qemu_link import Line


class HeldModule:
    """The module's end of the line, holding the relay in its first forward until `go`."""

    def __init__(self):
        self.reached, self.go = threading.Event(), threading.Event()

    def sendall(self, data):
        self.reached.set()
        self.go.wait(10)

    def close(self):
        pass


def test_what_the_mcu_said_before_it_went_reaches_the_transcript(tmp_path):
    """An application prints "entering bootloader" and resets at once; the board saves the
    memory and ends qemu, and the line lets go of the UART. On a busy machine the line may
    not have read that last line yet (issue 23: a cut seemed to start the bootloader instead
    of the application): `detach` must still keep it. Here the relay is held after its first
    read while the last line waits in the socket."""
    path = tmp_path / "uart.sock"
    chardev = socket.socket(socket.AF_UNIX)
    chardev.bind(str(path))
    chardev.listen(1)
    line = Line()
    module = HeldModule()
    try:
        line.attach(path)
        mcu, _ = chardev.accept()
        line.module = module
        mcu.sendall(b"version 1_0_0\n")
        assert module.reached.wait(10)
        mcu.sendall(b"entering bootloader\n")
        mcu.close()  # qemu exits
        detach = threading.Thread(target=line.detach)
        detach.start()
        detach.join(0.2)
        module.go.set()
        detach.join(10)
        assert not detach.is_alive()
        assert bytes(line.transcript) == b"version 1_0_0\nentering bootloader\n"
    finally:
        module.go.set()
        line.close()
        chardev.close()
