"""A minimal client of qemu's gdbstub (the GDB remote serial protocol): breakpoints, continue,
registers, memory. Enough to stop an emulated CPU at the n-th call of a function, which
is what tests/nrf51_cuts.py needs, in a fraction of gdb's start-up time per run.
"""

import socket
import time


class GdbError(Exception):
    pass


class Gdb:
    def __init__(self, sock):
        """A client on `sock`, connected to the stub."""
        self.sock = sock
        self.buf = b""

    def _send(self, payload):
        self.sock.sendall(b"$%s#%02x" % (payload, sum(payload) & 0xFF))

    def _packet(self, timeout):
        """The next packet's payload (acknowledged), or None after `timeout` seconds."""
        end = time.monotonic() + timeout
        while True:
            start = self.buf.find(b"$")
            hash_at = self.buf.find(b"#", start)
            if start >= 0 and hash_at >= 0 and len(self.buf) >= hash_at + 3:
                payload = self.buf[start + 1 : hash_at]
                self.buf = self.buf[hash_at + 3 :]
                self.sock.sendall(b"+")
                return payload
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                return None
            if not data:
                raise GdbError("the gdbstub closed the connection")
            self.buf += data

    def request(self, payload, timeout=10):
        self._send(payload)
        reply = self._packet(timeout)
        if reply is None:
            raise GdbError("no answer to %r" % payload)
        return reply

    def breakpoint(self, addr):
        if self.request(b"Z0,%x,2" % addr) != b"OK":
            raise GdbError("qemu refused a breakpoint at %#x" % addr)

    def remove(self, addr):
        if self.request(b"z0,%x,2" % addr) != b"OK":
            raise GdbError("qemu refused to remove the breakpoint at %#x" % addr)

    def resume(self, at=None):
        """Lets the CPU run; `stopped` waits for it to stop. `at`: the breakpoint it stopped
        at, stepped over first (qemu would stop there again at once)."""
        if at is not None:
            self.remove(at)
            self._send(b"s")
            if self._packet(10) is None:
                raise GdbError("a single step did not end")
            self.breakpoint(at)
        self._send(b"c")

    def stopped(self, timeout):
        """The stop reply (e.g. b'T05thread:01;'), or None if the CPU still runs."""
        return self._packet(timeout)

    def memory(self, addr, length):
        return bytes.fromhex(self.request(b"m%x,%x" % (addr, length)).decode())

    def write(self, addr, data):
        """Writes `data` at `addr` (qemu writes flash too: a debugger's write)."""
        if self.request(b"M%x,%x:%s" % (addr, len(data), data.hex().encode())) != b"OK":
            raise GdbError("qemu refused a write at %#x" % addr)

    def registers(self):
        """r0..r15 as ints (qemu's stub answers `g`, not `p`)."""
        raw = bytes.fromhex(self.request(b"g")[: 16 * 8].decode())
        return [int.from_bytes(raw[i : i + 4], "little") for i in range(0, 64, 4)]

    def close(self):
        self.sock.close()
