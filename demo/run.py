#!/usr/bin/env python3
"""The main job: Quectel's SOTA example (demo/sota_example.py, one line changed) on the unix
port's MicroPython against the Qth emulator, a local download server and the qsota-mcu
simulator (STM32 IAP bootloader over a paced 921600-baud line, STM32F4 flash timings).

It shows the four steps (plan received, downloading %, transferring %, update complete), with
the download server dropping the connection once (the agent resumes with Range), and
checks the end state: the MCU holds exactly the target image and the platform saw version
2_0_0 and a successful result. Exit status 0 only then.

    python3 demo/run.py [WORKDIR]          (default build/demo)
"""

import hashlib
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools" / "qth_emu"))

from scenario import Setup  # noqa: E402


def firmware(size, seed):
    """A stand-in STM32 image: a vector table, then deterministic pseudo-random code."""
    rng = random.Random(seed)
    return bytes.fromhex("00000220c1010008") + bytes(rng.getrandbits(8) for _ in range(size - 8))


def main():
    work = (Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "demo").resolve()
    old, new = firmware(48 * 1024, 1), firmware(200 * 1024, 2)
    setup = Setup(work, image=new, old_image=old)
    script = (ROOT / "demo" / "sota_example.py").read_text()
    print(
        "== qsota demo: STM32 1_0_0 -> 2_0_0 (%d bytes, md5 %s)"
        % (len(new), hashlib.md5(new).hexdigest())
    )
    # The download server drops the connection once, at 120000 bytes: the agent resumes.
    result = setup.run(
        script,
        setup.package(),
        mcu_args=["--baud", "921600"],
        cuts=[120000],
        echo=True,
        timeout_s=120,
    )

    platform, mcu = result.platform or {}, result.mcu or {}
    checks = [
        ("the script ran to the platform's verdict", result.returncode == 0),
        ("the platform saw version 2_0_0", platform.get("reported", {}).get("STM32") == "2_0_0"),
        ("the platform judged success", platform.get("results") == [["STM32", True]]),
        ("the MCU holds exactly the target image", result.mcu_image == new),
        ("the MCU's application is the new one", mcu.get("app_state") == "new"),
        ("each byte was downloaded once", result.body_bytes == len(new)),
    ]
    print(
        "== MCU: %s, app_state %s, %s bytes in %s ms, %s retries"
        % (
            mcu.get("result"),
            mcu.get("app_state"),
            mcu.get("bytes"),
            mcu.get("elapsed_ms"),
            mcu.get("retries"),
        )
    )
    for what, ok in checks:
        print("== %s: %s" % ("ok  " if ok else "FAIL", what))
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
