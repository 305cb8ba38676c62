"""qsota.send with YMODEM on both backends: against lrzsz's real `rb`, against the MCU
simulator's stm32-iap and spec receivers (clean, lost ACKs, seeded line faults, a reset),
byte-identical frames from both backends, and clear errors for bad arguments. The heap per
block also on the 32-bit interpreter ("pure32"; its frames: test_traces.py)."""

import hashlib
import json

import pytest
from support.micropython import BACKENDS, WITH_32
from support.transfer_runs import ERRORS, SESSION, Sending, Transfer, fault_runs, image, line_faults
from support.ymodem_peers import RbPeer

RB_SIZES = (0, 1, 127, 128, 129, 1023, 1024, 1025, 300_000)
# rb purges its input right after each ACK (lrzsz's wcrx: sendline(ACK); flushmo();
# purgeline(0)). On this loopback pty a whole block lands at once, so when the sender's next
# block beats that purge (rb descheduled between the two calls: the busier the machine, the
# more often) the block is gone, rb waits 5 s and the sender resends after its timeout_ms
# (3 s). Idle that costs 0-3 hits per 300,000 bytes; under load it took over 120 s. The
# worst case is one timeout per block (src/ymodem/tests.rs, purges_every_block_once): 293
# blocks x 3 s. The sender itself fails after 10 silent timeouts in a row, so waiting out
# that bound cannot hang: a busy machine makes the test slow, not red.
RB_WORST_S = 293 * 3 + 60
# Fault runs: seeds per personality and backend. Small images at a high baud rate keep
# each run short; the Rust tests add 2000 seeded runs against in-test receivers.
FAULT_SEEDS = 15
FAST = dict(baud=921600, flash_scale=0)


@pytest.mark.heavy
def test_rb_receives_every_size_exactly(mp, tmp_path, backend):
    cases = [(size, "fw-%d.bin" % size) for size in RB_SIZES] + [(5000, "new firmware v2.bin")]
    runs = []
    try:
        for size, name in cases:
            d = tmp_path / name.replace(" ", "_")
            path, data = image(d, size, name)
            peer = RbPeer(d)
            # allow_empty: send refuses a 0-byte image unless asked
            runs.append((peer, data, name, Sending(mp, backend, peer.port, path, allow_empty=True)))
        for peer, data, name, sending in runs:
            r = sending.result(timeout=RB_WORST_S)
            assert r["ok"], r
            assert r["stats"]["bytes"] == len(data)
            assert peer.wait() == 0, peer.log.read_text()
            assert peer.files() == {name: data}
    finally:
        for peer, _, _, sending in runs:
            sending.close()
            peer.close()


def run_mcu(mp, backend, path, **options):
    """One send into the simulator with `options` and FAST: (result, summary)."""
    return Transfer(mp, backend, path, dict(FAST, **options)).result()


def assert_exact_or_error(result, summary, data, batch_ended=True):
    """The one property that matters: success means the exact image on the MCU, a file the
    receiver completed (its EOT accepted). With `batch_ended` the receiver also took the null
    block that ends the batch. Under line faults that is best effort: three null blocks lost
    with every answer to them end the batch as done (docs/api.md), and a receiver by the
    book then waits for a header that never comes, its file complete."""
    if result["ok"]:
        assert summary["app_state"] == "new", summary
        if batch_ended:
            assert summary["result"] == "ok", summary
        assert summary["size"] == len(data)
        assert summary["sha256"] == hashlib.sha256(data).hexdigest(), summary
    else:
        assert result["code"] in ("timeout", "cancelled", "retries", "protocol"), result


@pytest.mark.parametrize("personality", ("stm32-iap", "spec"))
def test_simulator_personalities_clean(mp, tmp_path, backend, personality):
    path, data = image(tmp_path, 40_000)
    result, summary = run_mcu(mp, backend, path, personality=personality)
    assert result["ok"], result
    assert result["stats"]["retries"] == 0
    assert_exact_or_error(result, summary, data)


def test_at_9600_baud_blocks_reach_st_within_its_packet_timeout(mp, tmp_path, backend):
    """ST's IAP reads a whole packet within 1 s: at 9600 baud a 1K packet takes 1.07 s, and
    the IAP cancelled with its application area erased. A sender told the baud sends 128-byte
    blocks there; one not told (baud 0) still fails, as the simulator shows."""
    path, data = image(tmp_path, 2000)
    mcu = dict(personality="stm32-iap", baud=9600, flash_scale=0)
    result, summary = Transfer(mp, backend, path, mcu, baud=9600).result()
    assert result["ok"], (result, summary)
    assert result["stats"]["blocks"] == 16
    assert summary["app_state"] == "new" and summary["sha256"] == hashlib.sha256(data).hexdigest()
    out = mp.run(
        "import qsota\n"
        "print(qsota.YmodemSender('f', 1, baud=13719).frame_size,"
        " qsota.YmodemSender('f', 1, baud=13720).frame_size)\n"
        "try:\n    qsota.YmodemSender('f', 1, baud=1200)\n"
        "except ValueError as e:\n    print(e)\n", backend)
    assert out.splitlines() == [
        "133 1029",
        "baud: must be 0 (unknown) or at least 1774: a 128-byte block must reach the receiver "
        "within ST's 1 s packet timeout",
    ]


def test_lost_acks_with_stm32_iap_recover(mp, tmp_path, backend):
    # 20 blocks: the header's ACK, two blocks in a row, and the last block's (which needs
    # the padding probe).
    path, data = image(tmp_path, 20 * 1024 - 300)
    result, summary = run_mcu(mp, backend, path, drop_ack=[0, 7, 8, 20])
    assert result["ok"], (result, summary)
    assert summary["faults"]["dropped_acks"] == [0, 7, 8, 20]
    assert result["stats"]["retries"] >= 4
    assert_exact_or_error(result, summary, data)


@pytest.mark.heavy
def test_seeded_faults_never_report_a_wrong_image(mp, tmp_path):
    cases = [
        (personality, backend, seed)
        for personality in ("stm32-iap", "spec")
        for backend in BACKENDS
        for seed in range(FAULT_SEEDS)
    ]

    def start(case):
        personality, backend, seed = case
        path, data = image(tmp_path / ("%s-%s-%d" % case), 3000 + seed * 700, seed=seed)
        options = dict(FAST, personality=personality, **line_faults(seed, reply_factor=20))
        return Transfer(mp, backend, path, options), data

    def check(result, summary, data):
        assert_exact_or_error(result, summary, data, batch_ended=False)

    outcomes = fault_runs(cases, start, check)
    print("seeded fault runs:", len(cases), outcomes)
    # The faults are mild enough that most runs must get through.
    assert outcomes["exact"] >= len(cases) * 3 // 4, outcomes


@pytest.mark.parametrize(
    "size, reset_at, codes",
    [
        (30_000, 10_000, ("retries", "timeout", "cancelled", "protocol")),
        # Restarted just before block 256 (numbered 0), ST takes it for a header: the sender
        # sees a second header ACK (protocol) or, when the restart's timing differs by a
        # frame, ST's own CAN CAN; never success.
        (300 * 1024, 255 * 1024, ("protocol", "cancelled")),
    ],
)
def test_receiver_reset_mid_transfer_is_an_error(mp, tmp_path, backend, size, reset_at, codes):
    path, data = image(tmp_path, size)
    result, summary = run_mcu(mp, backend, path, reset_at=reset_at)
    assert not result["ok"], (result, summary)
    assert result["code"] in codes, result
    assert summary["faults"]["resets"] == 1
    assert summary["app_state"] != "new", summary


# One scripted session, the same on both backends: every action and every frame must match.
SCRIPT = SESSION + """
import _qsota
from qsota.pure.ymodem import YmodemSender as Pure

# Answers to successive frames (after the receiver's first C); None: no answer.
ANSWERS = [b"\\x06C", b"\\x06", None, b"\\x15", b"\\x06", b"C", b"\\x06", b"\\x15",
           b"\\x15", None, b"\\x15", b"\\x06", b"\\x15", b"\\x06", None, b"C", b"\\x06"]
IMAGE = bytes(range(256)) * 20 + b"tail"

def ymodem(cls, **opts):
    s = cls("img.bin", len(IMAGE), **opts)
    s.receive(0, b"C")
    return session(s, IMAGE, ANSWERS, 200)

for opts in ({}, {"block_size": 128, "baud": 9600, "retries": 3}):
    compare(ymodem(_qsota.YmodemSender, **opts), ymodem(Pure, **opts))
"""


def test_both_backends_make_identical_frames(mp):
    lines = mp.run(SCRIPT, backend=None).strip().splitlines()
    assert len(lines) == 2
    for line in lines:
        same, steps, end, _ = json.loads(line)
        assert same, line
        assert steps > 20
        assert end[0] == "end"


BAD = ERRORS + """
err(lambda: qsota.send(Port(), "{path}", protocol="xmodem"))
err(lambda: qsota.send(object(), "{path}"))
err(lambda: qsota.send(Port(), "{missing}"))
err(lambda: qsota.send(Port(), 42))
err(lambda: qsota.send(Port(), "{path}", block_size=512))
err(lambda: qsota.send(Port(), "{path}", timeout_ms=-1))
err(lambda: qsota.send(Port(), "{path}", name=""))
err(lambda: qsota.send(Port(), "{path}", name="a\\x00b"))
err(lambda: qsota.send(Port(), "{path}", start_timeout_ms=50))
err(lambda: qsota.YmodemSender("f", -1))
err(lambda: qsota.YmodemSender("f", 1, retries=300))
err(lambda: qsota.YmodemSender(b"f", True))
err(lambda: qsota.YmodemSender(3, 1))
err(lambda: qsota.tcp_port("127.0.0.1", 70000))
print(qsota.TransferError is __import__("qsota.transfer").transfer.TransferError)
"""


def test_bad_arguments_raise_clear_errors(mp, tmp_path, backend):
    code = BAD.format(path=tmp_path / "ten.bin", missing=tmp_path / "missing.bin")
    lines = mp.run(code, backend=backend).strip().splitlines()
    assert lines == [
        "ValueError  protocol: unknown 'xmodem' (known: 'ymodem', 'native', 'stm32', 'mcuboot')",
        "TypeError  port: expected a UART-like object with write(), any() and readinto() or "
        "read(), got object",
        "TransferError source source: cannot open '%s' ([Errno 2] ENOENT)"
        % (tmp_path / "missing.bin"),
        "TypeError  source: expected a path or a binary file object with readinto() and "
        "seek(), got int",
        "ValueError  block_size: must be 128 or 1024",
        "ValueError  timeout_ms: must be 1 to 2147483647",
        "ValueError  name: must be 1 to 255 bytes",
        "ValueError  name: must not contain NUL",
        "TransferError timeout ymodem: the receiver did not answer (block 0, 0 of 10 bytes "
        "acknowledged)",
        "ValueError  size: must be 0 to 4294967295",
        "ValueError  retries: must be 0 to 255",
        "TypeError  size: expected int, got bool",
        "TypeError  name: expected str or bytes, got int",
        "ValueError  port: must be 1 to 65535",
        "True",
    ], lines


# A port whose receiver ACKs every frame at once, so that only the driver and the sender
# run: their heap use during the data phase, per block, must be zero.


@pytest.mark.parametrize("backend", WITH_32)
def test_no_heap_allocation_per_block(mp, tmp_path, backend):
    out = mp.run("import ymodem_alloc", backend=backend, args=[tmp_path / "zeros.bin"]).split()
    assert out == ["0.0", str(120 * 1024), "0"], out


def test_a_port_with_read_but_no_readinto(mp, tmp_path, backend):
    out = mp.run("import ymodem_read_port", backend=backend, args=[tmp_path / "f.bin"])
    assert out.split() == ["3000"]
