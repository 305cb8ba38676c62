"""smpclient 7.3.0 (the peer, from build/mcuboot-venv) against a qemu fixture's TCP chardev, for
the tests and the benchmark; prints one JSON line.

    python mcuboot_peers.py PORT list            # MCUboot's image list: [{slot, hash, version}]
    python mcuboot_peers.py PORT enter           # application: os reset, boot mode 1 (recovery)
    python mcuboot_peers.py PORT echo            # {"ok": answered within 10 s}
    python mcuboot_peers.py PORT reset
    python mcuboot_peers.py PORT upload FILE     # {"seconds", "line_bytes", "offsets"}

The transport is smpclient's own serial transport over a `socket://` URL, as smpclient's
integration tests drive the same fixtures; only the write is wrapped to count line bytes.
"""

import asyncio
import json
import sys
import time

import serial
from smp.os_management import BootMode
from smpclient import SMPClient
from smpclient.generics import success
from smpclient.requests.image_management import ImageStatesRead
from smpclient.requests.os_management import EchoWrite, ResetWrite
from smpclient.transport.serial import SMPSerialTransport


class SocketTransport(SMPSerialTransport):
    written = 0

    def __init__(self, url):
        super().__init__()
        self._url = url

    async def connect(self, address, timeout_s):
        self._reset_state()
        conn = serial.serial_for_url(self._url, timeout=0, write_timeout=0)
        object.__setattr__(conn, "out_waiting", 0)  # a socket has no TX buffer to drain
        write = conn.write

        def counted(data):
            SocketTransport.written += len(data)
            return write(data)

        object.__setattr__(conn, "write", counted)
        object.__setattr__(self, "_conn", conn)


async def main(port, command, args):
    url = "socket://127.0.0.1:%d" % port
    client = SMPClient(SocketTransport(url), url)
    await client.connect()
    try:
        if command == "list":
            # Asked again after a timeout: a line damaged by a test's faulty relay may still
            # sit in MCUboot's line buffer and spoil the first request.
            for attempt in range(3):
                try:
                    r = await client.request(ImageStatesRead(), timeout_s=5)
                    break
                except TimeoutError:
                    if attempt == 2:
                        raise
            assert success(r), r
            return [{"slot": i.slot, "hash": bytes(i.hash).hex() if i.hash else None,
                     "version": i.version} for i in r.images]
        if command == "enter":
            try:
                r = await client.request(ResetWrite(boot_mode=BootMode.BOOTLOADER), timeout_s=3)
                return {"ok": success(r)}
            except TimeoutError:
                return {"ok": False}
        if command == "reset":
            try:
                return {"ok": success(await client.request(ResetWrite(), timeout_s=3))}
            except TimeoutError:
                return {"ok": False}
        if command == "echo":
            for _ in range(20):
                try:
                    r = await client.request(EchoWrite(d="qsota"), timeout_s=0.5)
                    if success(r) and r.r == "qsota":
                        return {"ok": True}
                except Exception:
                    await asyncio.sleep(0.3)
            return {"ok": False}
        if command == "upload":
            image = open(args[0], "rb").read()
            await client._initialize()  # params: the buffer size
            start = time.monotonic()
            offsets = [o async for o in client.upload(image, subsequent_timeout_s=15)]
            return {"seconds": time.monotonic() - start, "line_bytes": SocketTransport.written,
                    "offsets": len(offsets), "bytes": offsets[-1]}
        raise SystemExit("unknown command " + command)
    finally:
        await client.disconnect()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3:]))))
