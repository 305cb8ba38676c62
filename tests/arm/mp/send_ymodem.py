# qsota.send over YMODEM on the emulated ARM, against an in-process receiver: the sender
# (_qsota's Rust core built for ARMv7-A, and qsota.pure) and the driver run as on a module.
# The receiver is a test double of an MCU bootloader that follows Forsberg's ymodem.txt:
# it starts with 'C', checks each block's number and CRC-16, NAKs a damaged block, ACKs a
# duplicate, NAKs the first EOT and ACKs the second, and ends on the null block 0.
# Run by tests/arm/run.py; the last line is `OK <checks>`.
import io

import _qsota
import qsota
import qsota.pure
from check import eq, ok

SOH, STX, EOT, ACK, NAK, CAN, C = 1, 2, 4, 6, 0x15, 0x18, 0x43


def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = (crc << 1 ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


class Receiver:
    """A UART-like port whose far end is a YMODEM receiver. `damage`: block numbers whose
    first copy arrives corrupted; `cancel_at`: the block after which it sends CAN CAN."""

    def __init__(self, damage=(), cancel_at=None):
        self.out = bytearray(b"C")
        self.buf = bytearray()
        self.damage = set(damage)
        self.cancel_at = cancel_at
        self.expect = 0
        self.eots = 0
        self.name = None
        self.size = None
        self.image = bytearray()
        self.done = False

    # The port, as qsota.send uses it.
    def write(self, data):
        self.buf += data
        self.parse()
        return len(data)

    def any(self):
        return len(self.out)

    def readinto(self, buf, nbytes=None):  # machine.UART.readinto(buf[, nbytes])
        n = min(len(buf) if nbytes is None else nbytes, len(self.out))
        buf[:n] = self.out[:n]
        self.out = self.out[n:]
        return n

    # The receiver.
    def parse(self):
        while self.buf:
            head = self.buf[0]
            if head == EOT:
                self.buf = self.buf[1:]
                self.eots += 1
                self.out += bytes((NAK,)) if self.eots == 1 else bytes((ACK, C))
                self.expect = 0
                continue
            if head not in (SOH, STX):
                self.buf = self.buf[1:]
                continue
            n = 128 if head == SOH else 1024
            if len(self.buf) < n + 5:
                return
            packet, self.buf = bytes(self.buf[: n + 5]), self.buf[n + 5 :]
            self.block(packet[1], packet[2], packet[3 : 3 + n], packet[3 + n] << 8 | packet[4 + n])

    def block(self, number, inverse, data, crc):
        if number + inverse != 255 or crc16(data) != crc or number in self.damage:
            self.damage.discard(number)
            self.out += bytes((NAK,))
        elif number == (self.expect - 1) & 0xFF:
            self.out += bytes((ACK,))  # a duplicate: its ACK was lost
        elif number != self.expect:
            self.out += bytes((CAN, CAN))
        elif number == 0 and self.name is None:
            name, _, rest = data.partition(b"\0")
            self.name = name.decode()
            self.size = int(rest.split(b"\0")[0].split(b" ")[0])
            self.expect = 1
            self.out += bytes((ACK, C))
        elif number == 0:
            eq(data, bytes(len(data)), "null block 0 is all NUL")
            self.done = True
            self.out += bytes((ACK,))
        else:
            self.image += data
            self.expect = (self.expect + 1) & 0xFF
            self.out += bytes((CAN, CAN)) if number == self.cancel_at else bytes((ACK,))


image = bytearray(3000)
x = 7
for i in range(len(image)):
    x = (x * 1103515245 + 12345) & 0x7FFFFFFF
    image[i] = x >> 16 & 0xFF
image = bytes(image)

for name, backend in (("native", _qsota), ("pure", qsota.pure)):
    qsota._use(backend)
    eq(qsota.NATIVE, backend is _qsota, name + " backend bound")

    rx = Receiver()
    stats = qsota.send(rx, io.BytesIO(image), name="fw.bin")
    eq((rx.done, rx.name, rx.size), (True, "fw.bin", len(image)), name + " session")
    eq(bytes(rx.image[: rx.size]), image, name + " image received")
    eq(stats["bytes"], len(image), name + " stats bytes")

    rx = Receiver(damage=(0, 2))
    stats = qsota.send(rx, io.BytesIO(image), name="fw.bin")
    eq(bytes(rx.image[: rx.size]), image, name + " image through damaged blocks")
    eq(stats["retries"] >= 2, True, name + " retries counted: %r" % stats)

    rx = Receiver(cancel_at=2)
    try:
        qsota.send(rx, io.BytesIO(image), name="fw.bin")
    except qsota.TransferError as e:
        eq(e.code, "cancelled", name + " receiver cancel: " + str(e))
    else:
        raise AssertionError(name + ": a cancelled transfer reported success")

ok()
