# The qemu test firmware: the qsota package, plus frozen/time.py (the qemu port has no time)
# and frozen/check.py (the checks of the scripts in mp/).
include("../../manifest.py")
module("time.py", base_path="frozen")
module("check.py", base_path="frozen")
