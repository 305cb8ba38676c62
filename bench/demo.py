"""The main job of ./build.sh: verify a sample MCU image under MicroPython, as a Qth script does.

The platform's sotaInfo callback gives the image's MD5 (32 lowercase hex digits) and its
CRC-32/MPEG-2; the script downloads the file and checks it with one call:

    qsota.verify_file(path, md5=md5, crc=crc)

This demo plays the platform on CPython (it makes the image and its expected values), runs
that script on build/unix/micropython ($QSOTA_MICROPYTHON), then shows that a single flipped
bit and a truncated download are both refused.
"""

import hashlib
import os
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "demo"
SIZE = 300_000

# The Qth side: what a user's sotaInfo callback does with qsota (runs on MicroPython).
SCRIPT = """
import sys, time, qsota

def sota_info(comp_no, version, path, md5, crc):
    start = time.ticks_us()
    try:
        v = qsota.verify_file(path, md5=md5, crc=crc)
    except qsota.VerifyError as e:
        print("  REFUSED %s: %s" % (path.split("/")[-1], e))
        return False
    ms = time.ticks_diff(time.ticks_us(), start) / 1000
    print("  ok      %s: %d bytes, md5 %s, crc %s matched as %s, in %.1f ms"
          % (path.split("/")[-1], v.size, v.hexdigest("md5"), crc, v.crc_matched, ms))
    return True

comp_no, version, md5, crc = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
print("  backend: %s" % ("_qsota (native)" if qsota.NATIVE else "qsota.pure"))
for path in sys.argv[5:]:
    sota_info(comp_no, version, path, md5, crc)
"""


def crc32_mpeg2(data):
    """CRC-32/MPEG-2, bit by bit: the platform's side, kept obviously correct."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
    return crc


def main():
    micropython = os.environ.get("QSOTA_MICROPYTHON", str(ROOT / "build" / "unix" / "micropython"))
    OUT.mkdir(parents=True, exist_ok=True)
    image = random.Random(2026).randbytes(SIZE)
    md5 = hashlib.md5(image).hexdigest()
    crc = crc32_mpeg2(image)

    good = OUT / "mcu-v2.bin"
    good.write_bytes(image)
    flipped = OUT / "mcu-v2-bitflip.bin"
    damaged = bytearray(image)
    damaged[SIZE // 2] ^= 0x10
    flipped.write_bytes(damaged)
    truncated = OUT / "mcu-v2-truncated.bin"
    truncated.write_bytes(image[: SIZE - 2048])

    print("platform: component 1, version v2, %d bytes, md5 %s, crc %d (0x%08x, MPEG-2)"
          % (SIZE, md5, crc, crc))
    print("MicroPython (%s) verifies what it downloaded:" % micropython)
    env = dict(os.environ, MICROPYPATH=str(ROOT / "python"))
    args = ["1", "v2", md5, str(crc), str(good), str(flipped), str(truncated)]
    proc = subprocess.run([micropython, "-c", SCRIPT, *args], env=env, text=True,
                          capture_output=True)
    sys.stdout.write(proc.stdout)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        sys.exit("demo failed: MicroPython exited with %d" % proc.returncode)
    verdicts = [line.split()[0] for line in proc.stdout.splitlines() if ".bin" in line]
    if verdicts != ["ok", "REFUSED", "REFUSED"]:
        sys.exit("demo failed: expected ok, REFUSED, REFUSED; got %s" % verdicts)


if __name__ == "__main__":
    main()
