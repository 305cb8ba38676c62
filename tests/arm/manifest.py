# The qemu test firmware: the qsota package, plus frozen/time.py (the qemu port has no time),
# frozen/check.py (the checks of the scripts in mp/), frozen/ramfs.py (files outside the
# heap) and what the ARM benchmarks measure with (bench/arm/insn.py, fakes.py).
include("../../manifest.py")
module("time.py", base_path="frozen")
module("check.py", base_path="frozen")
module("ramfs.py", base_path="frozen")
module("insn.py", base_path="../../bench/arm")
module("fakes.py", base_path="../../bench/arm")
