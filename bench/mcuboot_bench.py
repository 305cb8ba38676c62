"""MCUboot serial recovery: the same signed image (the fixture's own, 132 KB) uploaded by qsota
(protocol='mcuboot', both backends, build/unix/micropython) and by smpclient 7.3.0 (the
peer, CPython, build/mcuboot-venv) into the same real MCUboot in one qemu boot
(`..._27c54835_mps2_an385_serial_recovery`: MCUboot with `params`, buffer 1024 bytes, entered
by `os reset` with boot mode 1). Each upload starts from offset 0 (MCUboot erases the slot).

Per row: seconds (first request to the last answer: MicroPython's elapsed_ms, smpclient's
upload loop), line_bytes (module to MCU), line_per_image_byte, and min_line_per_image_byte:
the framing's theoretical minimum for this buffer, every request filled to the buffer with
only the keys MCUboot needs (`off`, `data`; `len` in the first) on lines of 127 bytes;
cpu_s_per_mb: user + system CPU of the sending process per 10**6 image bytes;
alloc_bytes_per_chunk (qsota): heap allocated per upload request between 10% and 90%.
speed_vs_smpclient: smpclient's seconds / this row's. Targets: qsota no slower than
smpclient, line bytes within 2% of the minimum (reported, never asserted).
"""

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from support.mcuboot_qemu import FIXTURES, PEER, RECOVERY, VENV_PYTHON, Qemu, missing, peer  # noqa: E402
sys.path.insert(0, str(ROOT / "bench"))
from measure import measured  # noqa: E402

MICROPYTHON_SIDE = """
import gc, json, sys
import qsota
port_no, path, backend, size = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
if backend == "pure":
    import qsota.pure
    qsota._use(qsota.pure)
marks = [0, 0, 0, 0]  # heap use and offset at 10% and at 90% (storing ints allocates nothing)
def progress(offset, total):
    if not marks[1] and offset >= total // 10:
        marks[0], marks[1] = gc.mem_alloc(), offset
    elif marks[1] and not marks[3] and offset >= total * 9 // 10:
        marks[2], marks[3] = gc.mem_alloc(), offset
port = qsota.tcp_port("127.0.0.1", port_no)
gc.collect()
gc.disable()
stats = qsota.send(port, path, protocol="mcuboot", progress=progress, reset=False, resume=False)
a0, o0, a1, o1 = marks
stats["alloc_per_chunk"] = (a1 - a0) / ((o1 - o0) / stats["chunk"])
print(json.dumps(stats))
"""


def encoded_len(raw):
    chars = (raw + 2) // 3 * 4
    return chars + 3 * ((chars + 123) // 124)


def head(v):
    return 1 if v < 24 else 2 if v < 256 else 3 if v < 65536 else 5


def minimum_line_bytes(size, buf):
    """Line bytes of the fewest, fullest requests MCUboot accepts (see the module doc)."""
    off, total = 0, 0
    while off < size:
        keys = 1 + 4 + head(off) + 5  # map head, "off" and its value, "data"
        if off == 0:
            keys += 4 + head(size)  # "len"
        room = buf - 4 - 8 - keys
        n = min(size - off, room - head(room))
        total += encoded_len(4 + 8 + keys + head(n) + n)
        off += n
    return total


def qsota_run(micropython, backend, port, path, size):
    env = dict(os.environ, MICROPYPATH=str(ROOT / "python"))
    return checked("qsota", measured([micropython, "-c", MICROPYTHON_SIDE, str(port), str(path),
                                      backend, str(size)], env))


def smpclient_run(port, path):
    return checked("smpclient", measured([str(VENV_PYTHON), str(PEER), str(port), "upload",
                                          str(path)]))


def checked(who, run):
    """An upload's stats (the JSON of its last output line) and CPU seconds, once it succeeded."""
    status, out, err, cpu_s = run
    if status != 0:
        raise RuntimeError(who + " upload failed:\n" + err)
    return json.loads(out.strip().splitlines()[-1]), cpu_s


def run(micropython):
    why = missing()
    if why:
        print("mcuboot: skipped:", why)
        return {"mcuboot": []}
    path = FIXTURES / (RECOVERY + ".signed.bin")
    size = path.stat().st_size
    rows = []
    with Qemu(RECOVERY) as q:
        assert peer(q.port, "enter")["ok"]
        time.sleep(2)
        for who in ("native", "smpclient", "pure"):
            if who == "smpclient":
                st, cpu = smpclient_run(q.port, path)
                row = {"protocol": "smpclient", "backend": "cpython", "seconds": st["seconds"],
                       "line_bytes": st["line_bytes"], "requests": st["offsets"]}
            else:
                st, cpu = qsota_run(micropython, who, q.port, path, size)
                row = {"protocol": "mcuboot", "backend": who, "seconds": st["elapsed_ms"] / 1000,
                       "line_bytes": st["line_bytes"], "requests": st["frames"],
                       "retries": st["retries"], "resent_bytes": st["resent_bytes"],
                       "alloc_bytes_per_chunk": st["alloc_per_chunk"]}
                buf = st["buf_size"]
            row.update(bytes=size, cpu_s_per_mb=round(cpu / (size / 1e6), 3),
                       line_per_image_byte=round(row["line_bytes"] / size, 4))
            rows.append(row)
    minimum = minimum_line_bytes(size, buf) / size
    smp_seconds = next(r["seconds"] for r in rows if r["protocol"] == "smpclient")
    for r in rows:
        r["seconds"] = round(r["seconds"], 2)
        r["min_line_per_image_byte"] = round(minimum, 4)
        r["over_minimum"] = round(r["line_per_image_byte"] / minimum - 1, 4)
        r["speed_vs_smpclient"] = round(smp_seconds / r["seconds"], 2)
        r["mcu"] = "MCUboot serial recovery (qemu mps2-an385, buffer %d)" % buf
    print_table(rows)
    return {"mcuboot": rows}


def print_table(rows):
    print("mcuboot: %s, %d-byte image, one qemu boot" % (rows[0]["mcu"], rows[0]["bytes"]))
    print("  protocol   backend   seconds  x smpclient  line/B   min/B  over min  cpu s/MB  requests"
          "  alloc B/chunk")
    for r in rows:
        print("  %-10s %-8s %8.2f %11.2f  %6.4f  %6.4f  %7.2f%%  %8.3f  %8d  %13s" % (
            r["protocol"], r["backend"], r["seconds"], r["speed_vs_smpclient"],
            r["line_per_image_byte"], r["min_line_per_image_byte"], r["over_minimum"] * 100,
            r["cpu_s_per_mb"], r["requests"], r.get("alloc_bytes_per_chunk", "-")))


if __name__ == "__main__":
    run(os.environ.get("QSOTA_MICROPYTHON", str(ROOT / "build" / "unix" / "micropython")))
