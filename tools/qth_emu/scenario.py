"""Runs a QuecPython SOTA script against the Qth emulator, a download server and qsota-mcu
(CPython; used by demo/run.py and tests/test_agent.py).

    run = Setup(workdir, image=b"...", old_image=b"...")   # files, server, MCU simulator
    result = run.run(script_text, package={...}, plan={...}, device={...})
    result.platform   -> the emulator's record (reported versions, results, log)
    result.mcu        -> qsota-mcu's JSON summary (app_state old/new/erased, ...)
    result.mcu_image  -> what the MCU's application area holds after the run
    result.stdout     -> the script's output

The package's md5 and crc are computed here the way the platform computes them: md5 as 32
lowercase hex characters, crc the CRC-32/MPEG-2 of the file (the Quectel docs' variant) printed
as an unsigned decimal string, unless the package says otherwise.
"""

import hashlib
import json
import os
import socket
import subprocess
import sys
import zlib
from pathlib import Path

from fileserver import FileServer

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tests"))

from support.mcu import binary as mcu_binary  # noqa: E402  (finds qsota-mcu, built by ./build.sh)


def _mpeg2_table():
    table = []
    for i in range(256):
        c = i << 24
        for _ in range(8):
            c = ((c << 1) ^ 0x04C11DB7) if c & 0x80000000 else (c << 1)
        table.append(c & 0xFFFFFFFF)
    return table


_MPEG2 = _mpeg2_table()


def crc32_mpeg2(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _MPEG2[((crc >> 24) ^ b) & 0xFF]
    return crc


def crc32(data, variant="mpeg2"):
    return crc32_mpeg2(data) if variant == "mpeg2" else zlib.crc32(data) & 0xFFFFFFFF


def micropython():
    return os.path.abspath(
        os.environ.get("QSOTA_MICROPYTHON", str(ROOT / "build" / "unix" / "micropython"))
    )


def _hang_up(port):
    """Connects to the MCU simulator and hangs up. After the script has exited: if it never
    connected (no transfer), this ends the simulator's wait so that it prints its summary;
    otherwise the simulator no longer listens and the connection is refused."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        pass


class Result:
    def __init__(self, returncode, stdout, platform, mcu, mcu_image, server):
        self.returncode = returncode
        self.stdout = stdout
        self.platform = platform
        self.mcu = mcu
        self.mcu_image = mcu_image
        self.body_bytes = server.body_bytes
        self.requests = list(server.requests)


class Setup:
    """One run's files: the package on the download server, the MCU's old image."""

    def __init__(self, workdir, image, old_image):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.image = image
        self.old_image = old_image
        (self.dir / "www").mkdir(exist_ok=True)
        self.serve(image)
        (self.dir / "old.bin").write_bytes(old_image)

    def serve(self, data):
        """What the download server sends: bytes, or an int for a sparse file of that size."""
        with open(self.dir / "www" / "fw.bin", "wb") as f:
            if isinstance(data, int):
                f.truncate(data)
            else:
                f.write(data)

    def package(
        self,
        comp="STM32",
        target="2_0_0",
        kind="full",
        source=None,
        crc_variant="mpeg2",
        crc_format="decimal",
        **override
    ):
        crc = crc32(self.image, crc_variant)
        crc = {"decimal": str(crc), "hex": "%08x" % crc, "int": crc}[crc_format]
        pkg = {
            "comp": comp,
            "target": target,
            "type": kind,
            "source": source,
            "size": len(self.image),
            "md5": hashlib.md5(self.image).hexdigest(),
            "crc": crc,
        }
        pkg.update(override)
        return pkg

    def run(
        self,
        script,
        package,
        plan=None,
        device=None,
        end=None,
        sota_info_args=5,
        mcu_args=(),
        timeout_s=60,
        echo=False,
        cuts=(),
        path=(),
        server=None,
        mcu_port=None,
    ):
        """Runs `script` (MCU_PORT in it becomes the simulator's port) until the scenario's
        end; `path` adds MicroPython import directories; `server` holds FileServer options
        (tls, chunked, ...); `mcu_port`: an MCU already listening there (an emulated board)
        instead of the simulator (the result then has no `mcu` nor `mcu_image`)."""
        for stale in ("platform.json", "mcu.bin"):
            (self.dir / stale).unlink(missing_ok=True)
        server = FileServer(self.dir / "www", cuts, **(server or {})).start()
        mcu_proc = None if mcu_port else subprocess.Popen(
            [
                str(mcu_binary()),
                "--listen",
                "127.0.0.1:0",
                "--old-image",
                str(self.dir / "old.bin"),
                "--out",
                str(self.dir / "mcu.bin"),
                *mcu_args,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        if mcu_proc is not None:
            mcu_port = int(mcu_proc.stdout.readline().split()[1])
        package = dict(package)
        package.setdefault("url", server.url("fw.bin"))
        scenario = {
            "package": package,
            "plan": plan or {},
            "device": device or {"dk": "dev1", "battery": 90, "signal": 25},
            "end": end or {"results": 1},
            "sota_info_args": sota_info_args,
            "clock_scale": 600,
            "timeout_s": timeout_s,
            "state_file": str(self.dir / "platform.json"),
        }
        (self.dir / "scenario.json").write_text(json.dumps(scenario))
        (self.dir / "script.py").write_text(script.replace("MCU_PORT", str(mcu_port)))
        env = dict(
            os.environ,
            QTH_SCENARIO=str(self.dir / "scenario.json"),
            MICROPYPATH=os.pathsep.join([str(ROOT / "python"), str(HERE), *map(str, path)]),
        )
        try:
            proc = subprocess.Popen(
                [micropython(), str(self.dir / "script.py")],
                env=env,
                cwd=self.dir,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            lines = []
            for line in proc.stdout:
                lines.append(line)
                if echo:
                    sys.stdout.write(line)
                    sys.stdout.flush()
            proc.wait(timeout=timeout_s + 10)
            summary = None
            if mcu_proc is not None:
                _hang_up(mcu_port)
                out, _ = mcu_proc.communicate(timeout=30)
                tail = [l for l in out.splitlines() if l.startswith("{")]
                summary = json.loads(tail[-1]) if tail else None
        finally:
            server.stop()
            if mcu_proc is not None and mcu_proc.poll() is None:
                mcu_proc.kill()
        image_path = self.dir / "mcu.bin"
        platform_path = self.dir / "platform.json"
        return Result(
            proc.returncode,
            "".join(lines),
            json.loads(platform_path.read_text()) if platform_path.exists() else None,
            summary,
            image_path.read_bytes() if image_path.exists() else None,
            server,
        )
