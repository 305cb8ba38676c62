"""The real MCUboot for test_mcuboot.py and bench/mcuboot_bench.py: the serial-recovery
fixtures of the smpclient 7.3.0 sdist (fetched and checked by scripts/mcuboot.sh into
build/mcuboot-fixtures) booted in qemu-system-arm -M mps2-an385 with the UART on a loopback TCP
chardev, as each fixture's manifest `qemu_cmd` says; smpclient (build/mcuboot-venv) as the
independent peer; a seeded faulty TCP relay; MCUboot image helpers.

    with Qemu(RECOVERY) as q:           # q.port: the UART
        peer(q.port, "list")            # smpclient's view of MCUboot's image list
"""

import hashlib
import json
import random
import shlex
import socket
import struct
import subprocess
import threading
from pathlib import Path

from .child import dies_with_parent

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "build" / "mcuboot-fixtures"
VENV_PYTHON = ROOT / "build" / "mcuboot-venv" / "bin" / "python"
PEER = Path(__file__).resolve().parent / "mcuboot_peers.py"
# MCUboot with `params` (buf_size 1024), built after Zephyr 4.4.0 (see the fixtures' VERSION).
RECOVERY = "zephyr_f33aa2bc4a43_smp_server_27c54835_mps2_an385_serial_recovery"
# Zephyr 4.4.0's MCUboot: no `params` (the client falls back to MCUboot's default 512).
OLD_RECOVERY = "zephyr_4.4.0_smp_server_0eae053d_mps2_an385_serial_recovery_buf%d"


def missing():
    """Why the fixtures cannot run here, or None."""
    if not (FIXTURES / ".checked").exists():
        return "no %s (./build.sh test fetches them: scripts/mcuboot.sh)" % FIXTURES
    if not VENV_PYTHON.exists():
        return "no %s (scripts/mcuboot.sh mcuboot_venv)" % VENV_PYTHON
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _checked(names):
    """Checks the fixture files against SHA256SUMS again (a stale or edited copy in build/
    would otherwise pass unnoticed)."""
    sums = dict(reversed(line.split()) for line in (FIXTURES / "SHA256SUMS").read_text().splitlines())
    for name in names:
        digest = hashlib.sha256((FIXTURES / name).read_bytes()).hexdigest()
        assert sums.get(name) == digest, "%s differs from SHA256SUMS" % name


class Qemu:
    """One boot of the fixture `name` (the manifest's qemu_cmd; `port` its UART)."""

    def __init__(self, name):
        manifest = json.loads((FIXTURES / "manifest.json").read_text())
        entry = next(e for e in manifest if e["artifact"] == name + ".hex")
        _checked([name + ".hex", name + ".signed.bin"])
        self.name = name
        self.image = FIXTURES / (name + ".signed.bin")
        self.port = free_port()
        cmd = shlex.split(entry["qemu_cmd"].replace("<PORT>", str(self.port)))
        self.proc = subprocess.Popen(cmd, cwd=FIXTURES, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     preexec_fn=dies_with_parent)
        self._wait_listening()

    def _wait_listening(self, tries=100):
        """qemu listens before the guest runs; a connect that is closed again is harmless
        (the chardev takes the next client)."""
        for _ in range(tries):
            if self.proc.poll() is not None:
                raise RuntimeError("qemu exited: %s" % self.proc.stderr.read().decode())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                threading.Event().wait(0.05)
        raise RuntimeError("qemu never listened on %d" % self.port)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.proc.stderr.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def peer(port, command, *args, timeout=60):
    """smpclient's answer to `command` (see tests/mcuboot_peers.py)."""
    out = subprocess.run([str(VENV_PYTHON), str(PEER), str(port), command, *map(str, args)],
                         capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, "smpclient failed:\n%s" % out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def tlv_hash(image):
    """The SHA-256 TLV of an MCUboot image (what MCUboot lists), in hex, read with struct:
    an independent reading of the format for the tests."""
    hdr_size, = struct.unpack_from("<H", image, 8)
    img_size, = struct.unpack_from("<I", image, 12)
    at = hdr_size + img_size
    while at + 4 <= len(image):
        magic, total = struct.unpack_from("<HH", image, at)
        if magic not in (0x6907, 0x6908):
            break
        end, at = at + total, at + 4
        while at < end:
            kind, n = struct.unpack_from("<HH", image, at)
            if kind == 0x10:
                return image[at + 4:at + 4 + n].hex()
            at += 4 + n
    raise AssertionError("no SHA-256 TLV")


def resign(image, out, key, body_len=8192, version="9.9.9"):
    """The first `body_len` bytes of `image`'s code signed by imgtool with `key` (a new key,
    which MCUboot does not know): a well-formed MCUboot image that MCUboot must refuse."""
    hdr_size, = struct.unpack_from("<H", image, 8)
    body = out.with_suffix(".body.bin")
    body.write_bytes(image[hdr_size:hdr_size + body_len])
    imgtool = [str(VENV_PYTHON), "-m", "imgtool.main"]
    if not key.exists():
        subprocess.run(imgtool + ["keygen", "-k", str(key), "-t", "ecdsa-p256"], check=True,
                       capture_output=True)
    subprocess.run(imgtool + ["sign", "-k", str(key), "--header-size", hex(hdr_size),
                              "--pad-header", "--align", "4", "--version", version,
                              "--slot-size", "0x40000", str(body), str(out)],
                   check=True, capture_output=True)
    return out.read_bytes()


class Relay:
    """A TCP relay from a local port to qemu's UART that damages the line with seeded
    faults: each byte is dropped with probability `drop`, or gets one bit flipped with
    `flip`, in both directions. `port` is where the module connects."""

    def __init__(self, target, seed, drop=0.0, flip=0.0):
        self.rng = random.Random(seed)
        self.drop, self.flip = drop, flip
        self.faults = 0
        self.lock = threading.Lock()
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.port = self.server.getsockname()[1]
        self.target = target
        self.threads = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        try:
            a, _ = self.server.accept()
        except OSError:
            return
        b = socket.create_connection(("127.0.0.1", self.target))
        self.socks = (a, b)
        for src, dst in ((a, b), (b, a)):
            t = threading.Thread(target=self._pump, args=(src, dst), daemon=True)
            t.start()
            self.threads.append(t)

    def _damage(self, data):
        out = bytearray()
        with self.lock:
            for byte in data:
                r = self.rng.random()
                if r < self.drop:
                    self.faults += 1
                    continue
                if r < self.drop + self.flip:
                    self.faults += 1
                    byte ^= 1 << self.rng.randrange(8)
                out.append(byte)
        return bytes(out)

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(4096)
                if not data:
                    break
                dst.sendall(self._damage(data))
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        """Ends both connections (shutdown first: a plain close would leave the one to qemu
        open while a pump thread still waits in recv, and qemu takes one client at a time)."""
        self.server.close()
        for s in getattr(self, "socks", ()):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in self.threads:
            t.join(timeout=5)
        for s in getattr(self, "socks", ()):
            s.close()
