"""Talking to a qemu process for tests/nrf51.py: its UART's chardev behind a `Line` (a relay
on a TCP port that outlives the qemu behind it), its QMP monitor (`Qmp`), unix sockets.

qemu reads its chardev only while the UART can take bytes, and looks again only when its main
loop turns: after the guest starts its receiver, the next bytes can wait for an unrelated
event (about a second). `Qmp.poke` is a command that makes the loop turn (QMP's own I/O runs
in a thread of its own: a blank line would not reach the main loop).
"""

import json
import queue
import socket
import threading
import time


class BoardError(Exception):
    """qemu did not start, or the MCU did not answer in time."""


def connect_unix(path, timeout, what):
    """A connection to the unix socket `path`, retried until it listens."""
    end = time.monotonic() + timeout
    while True:
        conn = socket.socket(socket.AF_UNIX)
        try:
            conn.connect(str(path))
            return conn
        except OSError:
            conn.close()
            if time.monotonic() > end:
                raise BoardError("%s never listened at %s" % (what, path)) from None
            time.sleep(0.01)


class Line:
    """The UART line: the module's end is a TCP port (one connection at a time), the MCU's the
    current qemu's chardev. `transcript` holds everything the MCU sent."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.port = self.server.getsockname()[1]
        self.module = None
        self.mcu = None
        self.mcu_pump = None  # the thread that relays self.mcu
        self.transcript = bytearray()
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with self.lock:
                old, self.module = self.module, conn
            if old is not None:
                old.close()
            threading.Thread(target=self._pump, args=(conn, False), daemon=True).start()

    def _pump(self, conn, from_mcu):
        """Moves what `conn` (the MCU's end or the module's) receives to the other end; what
        the MCU sends also goes to the transcript. Bytes with nobody at the other end are
        lost, as on a UART."""
        while True:
            try:
                data = conn.recv(4096)
            except OSError:
                data = b""
            if not data:
                break
            with self.lock:
                if from_mcu:
                    self.transcript += data
                    self.changed.notify_all()
                peer = self.module if from_mcu else self.mcu
            if peer is not None:
                try:
                    peer.sendall(data)
                except OSError:
                    pass  # the other end went away (a reset, a cut, a hang-up)
        with self.lock:
            if self.module is conn:
                self.module = None
        conn.close()

    def attach(self, path, timeout=10):
        """Connects to the chardev at `path` (qemu waits for this before it runs)."""
        conn = connect_unix(path, timeout, "qemu's UART")
        pump = threading.Thread(target=self._pump, args=(conn, True), daemon=True)
        with self.lock:
            self.mcu, self.mcu_pump = conn, pump
        pump.start()

    def detach(self, timeout=10):
        """Lets go of the MCU's end once its qemu has exited: the relay reads it to its end
        first, so that the last bytes the MCU sent (the line an application prints before
        it resets) reach the transcript. Closing the socket under the relay would drop
        what it had not read yet."""
        with self.lock:
            conn, self.mcu = self.mcu, None
            pump, self.mcu_pump = self.mcu_pump, None
        if pump is not None:
            pump.join(timeout)
        if conn is not None:
            conn.close()

    def wait_for(self, text, start=0, timeout=10):
        """Waits until `text` (bytes) appears in the transcript after offset `start`; returns
        the offset just past it."""
        end = time.monotonic() + timeout
        with self.lock:
            while True:
                at = self.transcript.find(text, start)
                if at >= 0:
                    return at + len(text)
                left = end - time.monotonic()
                if left <= 0:
                    raise BoardError("the MCU never said %r; it said %r"
                                     % (text, bytes(self.transcript[start:])[-300:]))
                self.changed.wait(left)

    def close(self):
        self.closed = True
        self.server.close()
        self.detach()
        with self.lock:
            module, self.module = self.module, None
        if module is not None:
            module.close()


class Qmp:
    """qemu's QMP monitor on a unix socket: commands, and the events in a queue. `start` once
    qemu runs (it only connects before)."""

    def __init__(self, path, timeout=10):
        self.sock = connect_unix(path, timeout, "qemu's QMP")
        self.file = self.sock.makefile("rwb")
        self.writing = threading.Lock()
        self.events = queue.Queue()
        self.replies = queue.Queue()

    def start(self):
        self.file.readline()  # the greeting
        threading.Thread(target=self._read, daemon=True).start()
        self.command("qmp_capabilities")

    def _read(self):
        try:
            for raw in self.file:
                msg = json.loads(raw)
                if msg.get("id") == "poke":
                    continue
                (self.events if "event" in msg else self.replies).put(msg)
        except OSError:
            pass  # closed
        self.replies.put({"error": {"desc": "qemu closed QMP"}})

    def _write(self, data):
        with self.writing:
            self.file.write(data)
            self.file.flush()

    def poke(self):
        """Wakes qemu's main loop (see the module doc); the answer is dropped."""
        self._write(b'{"execute": "query-status", "id": "poke"}\n')

    def command(self, name, timeout=30, **args):
        self._write(json.dumps({"execute": name, "arguments": args}).encode() + b"\n")
        try:
            reply = self.replies.get(timeout=timeout)
        except queue.Empty:
            raise BoardError("QMP %s: no answer in %d s" % (name, timeout)) from None
        if "error" in reply:
            raise BoardError("QMP %s: %s" % (name, reply["error"]["desc"]))
        return reply["return"]

    def hmp(self, line):
        return self.command("human-monitor-command", **{"command-line": line})

    def close(self):
        self.sock.close()
