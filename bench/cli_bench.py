"""The host command `qsota send` through a real pty (socat to the simulator), next to the
module side (`qsota.send` on MicroPython with `_qsota`) on the same simulated MCU, image,
line and flash as bench/transfer_bench.py, measured in the same run.

Per row (protocol, baud): qsota's seconds and data_seconds (from the first image read: the
MCU's erase before it is not the line's), line_efficiency = payload / (data_seconds * baud /
10), and the module's line_efficiency from transfer_bench.one() with the native backend.
The pty adds the kernel's tty layer and socat to the path: a stop-and-wait protocol (YMODEM)
pays their latency once per block, a windowed one (native) hides it.
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import transfer_bench  # noqa: E402  (it puts tests/ on sys.path)
from support.mcu import Mcu, binary, pty_bridge  # noqa: E402

CLI_OPTIONS = {
    "ymodem": [],
    "native": ["--protocol", "native", "--component", "mcu", "--image-version", "2.0"],
}


def one(protocol, baud, path, tmp):
    simulator, _, _ = transfer_bench.PROTOCOLS[protocol]
    with Mcu(**simulator, baud=baud) as sim:
        with pty_bridge(sim.port, Path(tmp) / "ttyMCU") as tty:
            run = subprocess.run(
                [str(binary("qsota", "QSOTA_CLI", "qsota-cli")), "send", str(path), "--port",
                 str(tty), "--baud", str(baud), "--json", *CLI_OPTIONS[protocol]],
                capture_output=True, text=True, timeout=300,
            )
            if run.returncode != 0:
                raise RuntimeError("qsota send failed: " + run.stderr)
            stats = json.loads(run.stdout)
            summary = sim.summary()
    if summary["result"] != "ok" or summary["sha256"] != stats["sha256"]:
        raise RuntimeError("the MCU did not get the image: %s" % summary)
    return stats


def run(micropython):
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "app.bin"
        size = transfer_bench.SIZE
        path.write_bytes(bytes((i * 131 + (i >> 10)) & 0xFF for i in range(size)))
        for protocol in CLI_OPTIONS:
            for baud in transfer_bench.BAUDS:
                started = time.monotonic()
                stats = one(protocol, baud, path, tmp)
                module = transfer_bench.one(micropython, protocol, "native", baud, path)
                rows.append({
                    "protocol": protocol,
                    "baud": baud,
                    "bytes": size,
                    "seconds": round(stats["elapsed_ms"] / 1000, 3),
                    "data_seconds": round(stats["data_ms"] / 1000, 3),
                    "line_efficiency": stats["line_efficiency"],
                    "line_efficiency_overall": stats["line_efficiency_overall"],
                    "retries": stats["retries"],
                    "module_seconds": module["seconds"],
                    "module_data_seconds": module["data_seconds"],
                    "module_line_efficiency": module["line_efficiency"],
                    "bench_wall_seconds": round(time.monotonic() - started, 1),
                })
    print("  protocol  baud     qsota: total s  data s  line eff. | module (_qsota): total s  data s  line eff.")
    for r in rows:
        print("  %-8s %7d  %14.2f %7.2f %10.3f | %24.2f %7.2f %10.3f" % (
            r["protocol"], r["baud"], r["seconds"], r["data_seconds"], r["line_efficiency"],
            r["module_seconds"], r["module_data_seconds"], r["module_line_efficiency"]))
    return {"cli_transfer": rows}


if __name__ == "__main__":
    import os
    mp = os.environ.get("QSOTA_MICROPYTHON", str(BENCH.parent / "build" / "unix" / "micropython"))
    print(json.dumps(run(mp), indent=2))
