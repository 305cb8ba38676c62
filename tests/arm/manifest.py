# The qemu test firmware: the qsota package, plus frozen/time.py (the qemu port has no time).
include("../../manifest.py")
module("time.py", base_path="frozen")
