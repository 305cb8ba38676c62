"""qsota.agent end to end: Quectel's SOTA example (demo/sota_example.py, one line changed) on
build/unix/micropython against the Qth emulator (tools/qth_emu), its download server and the
qsota-mcu simulator (ST's IAP YMODEM receiver, instant flash).

After every failure the test checks what the field needs: the platform was told failure (the
reported version stayed 1_0_0 and the script's result callback saw False), nothing crashed,
and the MCU's application is what the simulator reports: the old one when the MCU was never
touched, and after any native-protocol failure (its bootloader receives into a download slot);
with ST's receiver, which erases the application area before it accepts the first block, a
YMODEM transfer that fails midway leaves part of the new image there ("partial"; the MCU
stays in its bootloader).
"""

import hashlib
import random
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools" / "qth_emu"))

from scenario import Setup  # noqa: E402

EXAMPLE = (ROOT / "demo" / "sota_example.py").read_text()
AGENT_LINE = "workdir='sota')"
SEED_LINE = "Qth.setMcuVer('STM32', '1_0_0', App_sotaInfoCb, App_sotaResultCb)"
FAST_MCU = ["--baud", "921600", "--flash-scale", "0"]
IMAGE = random.Random(5).randbytes(40 * 1024)
OLD = b"OLD!" * 2048


def example(options="", info_args=5, qsota=True):
    """The example script: with the agent line and extra `options`, or with the seed's line."""
    script = EXAMPLE.replace(AGENT_LINE, "workdir='sota', backoff_ms=50%s)" % options)
    if not qsota:
        script = "\n".join(
            "    " + SEED_LINE if "qsota.agent.setMcuVer(" in l else l
            for l in script.splitlines()
            if l != "import qsota.agent  # added for qsota"
        )
    if info_args == 6:
        script = script.replace(
            "def App_sotaInfoCb(comp_no, version, url, md5, crc):\n"
            "    print('sotaInfo:', comp_no, version, url, md5, crc)",
            "def App_sotaInfoCb(comp_no, version, url, fileSize, md5, crc):\n"
            "    print('sotaInfo:', comp_no, version, url, fileSize, md5, crc)",
        )
    return script


@pytest.fixture
def setup(tmp_path):
    return Setup(tmp_path, image=IMAGE, old_image=OLD)


def lines(result, prefix, same_port=False):
    found = [l for l in result.stdout.splitlines() if l.startswith(prefix)]
    return [re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", l) for l in found] if same_port else found


def assert_success(result):
    assert result.returncode == 0, result.stdout
    assert "Traceback" not in result.stdout
    assert "the script's callback raised" not in result.stdout, result.stdout
    assert result.platform["reported"]["STM32"] == "2_0_0"
    assert result.platform["results"] == [["STM32", True]]
    assert lines(result, "sotaResult:") == ["sotaResult: STM32 True"]
    assert result.mcu["result"] == "ok" and result.mcu["app_state"] == "new"
    assert result.mcu_image == IMAGE


def assert_failure(result, app_state="old", why=""):
    """The platform was told failure, nothing crashed, the MCU's state is as reported."""
    assert result.returncode == 0, result.stdout
    assert "Traceback" not in result.stdout
    assert "the script's callback raised" not in result.stdout, result.stdout
    assert result.platform["reported"]["STM32"] == "1_0_0"
    assert result.platform["results"] == [["STM32", False]]
    assert lines(result, "sotaResult:") == ["sotaResult: STM32 False"]
    assert result.mcu["app_state"] == app_state
    failed = lines(result, "[qsota] STM32: update failed")
    assert len(failed) == 1 and why in failed[0], result.stdout


@pytest.mark.parametrize("info_args", [5, 6])
def test_full_package_updates_the_mcu(setup, info_args):
    result = setup.run(
        example(info_args=info_args), setup.package(), sota_info_args=info_args, mcu_args=FAST_MCU
    )
    assert_success(result)
    assert result.body_bytes == len(IMAGE)
    for step in ("plan 0%", "download 100%", "transfer 100%", "complete 100%"):
        assert "STM32: " + step in result.stdout
    assert not (setup.dir / "sota" / "STM32.part").exists()


@pytest.mark.parametrize("fault", [[], ["--reset-at", "8192"]])
def test_native_protocol_updates_the_mcu(setup, fault):
    """The native protocol, also across an MCU reset midway (it resumes from the MCU's offset)."""
    result = setup.run(
        example(", protocol='native'"),
        setup.package(),
        mcu_args=FAST_MCU + ["--personality", "native"] + fault,
    )
    assert_success(result)
    assert "download verified" in result.stdout and "sent 40960 bytes" in result.stdout


def test_a_slow_line_gets_blocks_st_reads_within_its_packet_timeout(tmp_path):
    """send_options' baud reaches the sender, which picks 128-byte blocks at 9600 baud (a 1K
    packet outlasts ST's 1 s packet timeout and the IAP cancelled, its area erased)."""
    small = IMAGE[:3000]
    setup = Setup(tmp_path, image=small, old_image=OLD)
    result = setup.run(example(", send_options={'baud': 9600}"), setup.package(),
                       mcu_args=["--baud", "9600", "--flash-scale", "0"])
    assert result.platform["reported"]["STM32"] == "2_0_0", result.stdout
    assert result.mcu["app_state"] == "new" and result.mcu_image[: len(small)] == small
    assert result.mcu["blocks"] == 24


def test_native_mcu_failure_leaves_the_old_application(setup):
    """The native bootloader stages the image in its download slot and installs it only after
    the commit: an MCU that goes away mid-transfer leaves the running application as it was."""
    result = setup.run(
        example(", protocol='native', send_options={'rto_ms': 200, 'retries': 2}"),
        setup.package(),
        mcu_args=FAST_MCU + ["--personality", "native", "--reset-at", "8192", "--boot-ms", "3000"],
    )
    assert_failure(result, app_state="old", why="MCU transfer failed")


def test_pure_backend_updates_the_mcu(setup):
    """A firmware without _qsota: the same agent on qsota.pure."""
    script = "import qsota_backend\nqsota_backend.use('pure')\n" + example()
    result = setup.run(script, setup.package(), mcu_args=FAST_MCU, path=[ROOT / "tests" / "mp"])
    assert_success(result)


# Run right before the agent is made (after `import qsota.agent`): fills the heap with
# 3000-byte blocks, the rest with small ones, and frees every other 3000-byte block, so that
# no free run is much over 3 KB. Loading modules from a file system leaves a module's heap so
# (bench/arm/ram.py: 96 KB free in a 160 KiB heap, no 3 KB in one piece); an update must get
# by with what the agent took at import and such holes.
FRAGMENT = """
    freed = kept = None
    for size in (3000, 64):  # then what is left, in small blocks kept
        try:
            while True:
                freed = (bytearray(size), freed) if size == 3000 else freed
                kept = (bytearray(size), kept)
        except MemoryError:
            pass
    freed = None
    gc.collect()
"""


@pytest.mark.parametrize("backend", ["native", "pure"])
def test_an_update_fits_a_heap_left_in_small_holes_by_imports(setup, backend):
    agent = "    qsota.agent.setMcuVer("
    script = "import gc\nimport qsota_backend\nqsota_backend.use(%r)\n" % backend
    script += example().replace(agent, FRAGMENT.lstrip("\n") + agent, 1)
    result = setup.run(script, setup.package(), mcu_args=FAST_MCU, path=[ROOT / "tests" / "mp"])
    assert_success(result)


# What the script's on_failure hears (docs/agent.md: "Failure semantics").
ON_FAILURE = ", on_failure=lambda comp, e: print('on_failure:', comp, e.stage, e.code, e)"


def test_diff_package_for_the_reported_version(setup):
    """A package that is an application (no patch magic) is sent, also as a diff package."""
    result = setup.run(example(), setup.package(kind="diff", source="1_0_0"), mcu_args=FAST_MCU)
    assert_success(result)


def test_a_diff_package_is_refused_before_the_mcu_unless_its_bootloader_applies_it(tmp_path):
    """A bsdiff patch as the platform's diff package: qsota cannot apply it and the MCU would
    store it as its application, so the platform hears failure and the MCU hears nothing;
    with mcu_applies_diffs=True it is sent as it is."""
    patch = b"BSDIFF40" + IMAGE[:5000]
    setup = Setup(tmp_path, image=patch, old_image=OLD)
    package = setup.package(kind="diff", source="1_0_0")
    options = ", policy=True, events=eventCb, device=Qth.emu_device" + ON_FAILURE
    result = setup.run(example(options), package, mcu_args=FAST_MCU)
    why = ("(verify): the image is a diff package (bsdiff), not an application: qsota cannot "
           "apply it and the MCU would store it as one: refused (mcu_applies_diffs=True sends "
           "it as it is) (the plan's source version: 1_0_0)")
    assert_failure(result, app_state="old", why=why)
    assert result.mcu["line"]["to_mcu"] == 0, result.mcu
    assert lines(result, "on_failure:") == ["on_failure: STM32 verify None " + why[10:]]
    assert not list((tmp_path / "sota").iterdir())  # the patch is not kept
    sent = setup.run(example(", mcu_applies_diffs=True"), package, mcu_args=FAST_MCU)
    assert sent.platform["reported"]["STM32"] == "2_0_0"
    assert sent.mcu_image == patch


def test_a_failed_transfer_reaches_the_script_with_its_stage_and_code(setup):
    result = setup.run(
        example(", send_options={'timeout_ms': 300, 'retries': 3}" + ON_FAILURE),
        setup.package(),
        mcu_args=FAST_MCU + ["--reset-at", "8192"],
    )
    assert_failure(result, app_state="partial", why="MCU transfer failed")
    (line,) = lines(result, "on_failure:")
    assert line.startswith("on_failure: STM32 transfer ")
    code = line.split()[3]
    assert code in ("timeout", "retries", "protocol", "cancelled"), line
    (logged,) = lines(result, "[qsota] STM32: update failed (transfer): ")
    assert line.endswith(logged.split("(transfer): ", 1)[1])


def no_plan(result, why):
    assert result.returncode == 0, result.stdout
    assert not lines(result, "otaPlan:") and not lines(result, "sotaInfo:")
    assert ["no plan", why] in result.platform["log"]
    assert result.platform["reported"]["STM32"] == "1_0_0"
    assert result.mcu["app_state"] == "old"


def test_diff_package_for_another_version_is_not_offered(setup):
    result = setup.run(
        example(),
        setup.package(kind="diff", source="0_9_0"),
        end={"minutes": 25},
        mcu_args=FAST_MCU,
    )
    no_plan(result, "diff package for 0_9_0, device reports 1_0_0")


@pytest.mark.parametrize(
    "plan, why",
    [
        ({"whitelist": ["dev1"], "blacklist": ["dev1"]}, "device dev1 is blacklisted"),
        ({"whitelist": ["dev2"]}, "device dev1 is not whitelisted"),
    ],
)
def test_black_and_white_lists(setup, plan, why):
    result = setup.run(
        example(), setup.package(), plan=plan, end={"minutes": 25}, mcu_args=FAST_MCU
    )
    no_plan(result, why)


def test_user_confirmed_plan_waits_for_the_user(setup):
    result = setup.run(
        example(), setup.package(), plan={"mode": "confirm"}, end={"minutes": 25}, mcu_args=FAST_MCU
    )
    no_plan(result, "waiting for the user's confirmation")


def test_pending_plan_is_pushed_every_ten_minutes(setup):
    """A script that never calls otaRequest gets the plan at the platform's next push."""
    script = example().replace("        Qth.otaRequest()\n", "        pass\n")
    result = setup.run(script, setup.package(), mcu_args=FAST_MCU)
    assert_success(result)
    log = result.platform["log"]
    assert ["otaRequest"] not in log
    assert [e for e in log if e[:2] == ["push", "otaPlan"]]


def test_whitelisted_device_updates(setup):
    result = setup.run(
        example(),
        setup.package(),
        plan={"whitelist": ["dev1"], "blacklist": ["dev9"]},
        mcu_args=FAST_MCU,
    )
    assert_success(result)


def test_policy_refuses_a_plan_on_low_battery(setup):
    options = ", policy=True, events=eventCb, device=Qth.emu_device"
    result = setup.run(
        example(options),
        setup.package(),
        plan={"min_power": 30},
        device={"dk": "dev1", "battery": 12, "signal": 25},
        end={"refusals": 1},
        mcu_args=FAST_MCU,
    )
    assert result.returncode == 0 and "Traceback" not in result.stdout
    assert ["otaAction", 0] in result.platform["log"]
    assert "battery 12 is below the plan's minPower 30" in result.stdout
    assert not lines(result, "otaPlan:")  # vetoed before the script's callback could accept
    assert result.platform["reported"]["STM32"] == "1_0_0"
    assert result.mcu["app_state"] == "old"


def test_policy_lets_the_script_answer_when_the_device_qualifies(setup):
    options = ", policy=True, events=eventCb, device=Qth.emu_device"
    result = setup.run(
        example(options),
        setup.package(),
        plan={"min_power": 30, "min_signal": 10},
        mcu_args=FAST_MCU,
    )
    assert_success(result)
    assert len(lines(result, "otaPlan:")) == 1


def test_wrong_md5(setup):
    result = setup.run(example(), setup.package(md5="0" * 32), mcu_args=FAST_MCU)
    assert_failure(result, why="md5")
    assert not (setup.dir / "sota" / "STM32.part").exists()  # a bad image is not kept


@pytest.mark.parametrize(
    "override, info_args, why",
    [
        ({"md5": "not-hex"}, 5, "md5"),
        ({"crc": "0xZZ"}, 5, "crc"),
        ({"url": "ftp://127.0.0.1/fw.bin"}, 5, "expected an http:// or https:// URL"),
        ({"url": "http://127.0.0.1/a b"}, 5, "spaces, control or non-ASCII"),
        ({"size": "big"}, 6, "fileSize: expected a number, got 'big'"),
    ],
)
def test_malformed_firmware_info_fails_cleanly(setup, override, info_args, why):
    result = setup.run(
        example(info_args=info_args),
        setup.package(**override),
        sota_info_args=info_args,
        mcu_args=FAST_MCU,
    )
    assert_failure(result, why=why)


def test_bad_setup_arguments_raise_clear_errors(mp, tmp_path):
    (tmp_path / "s.json").write_text('{"package": {}}')
    mp.env["QTH_SCENARIO"] = str(tmp_path / "s.json")
    mp.env["MICROPYPATH"] += ":" + str(ROOT / "tools" / "qth_emu")
    try:
        out = mp.run("import agent_setup_errors", backend=None).splitlines()
    finally:
        del mp.env["QTH_SCENARIO"]
        mp.env["MICROPYPATH"] = mp.env["MICROPYPATH"].rsplit(":", 1)[0]
    assert out == [
        "TypeError port: the UART to the MCU (or a callable returning one) is required",
        "ValueError protocol: expected 'ymodem', 'native', 'stm32' or 'mcuboot', got 'xmodem'",
        "TypeError events: the policy needs the dict given to Qth.setEventCb",
        "ValueError retries: bad value -1",
        "ValueError pin: expected 64 hex digits (SHA-256), got 'abc'",
        "ValueError ca: neither a DER nor a PEM certificate",
        "ValueError stream: expected True, False or 'auto', got 'yes'",
        "ValueError stream: protocol 'stm32' cannot stream (a failed final check could not be "
        "withheld from the MCU)",
        "ValueError stream: a signed image is checked and sent from a stored download only "
        "(keys)",
        "TypeError infoCb: expected a callable, got str",
    ]


@pytest.mark.parametrize("crc_variant", ["mpeg2", "iso-hdlc"])
def test_crc_either_variant_and_a_wrong_crc(setup, crc_variant):
    good = setup.run(
        example(), setup.package(crc_variant=crc_variant, crc_format="hex"), mcu_args=FAST_MCU
    )
    assert_success(good)
    assert "crc %s" % crc_variant in good.stdout
    bad = setup.run(example(), setup.package(crc="12345678"), mcu_args=FAST_MCU)
    assert_failure(bad, why="crc")


@pytest.mark.parametrize("info_args", [5, 6])
def test_truncated_download(setup, info_args):
    setup.serve(IMAGE[:-1000])
    result = setup.run(
        example(info_args=info_args), setup.package(), sota_info_args=info_args, mcu_args=FAST_MCU
    )
    # 6 arguments: the server's size contradicts the platform's; 5: the digests do not match
    assert_failure(result, why="size" if info_args == 6 else "md5")


def test_cut_connections_resume_and_fetch_each_byte_once(setup):
    result = setup.run(example(), setup.package(), cuts=[10000, 3000, 7], mcu_args=FAST_MCU)
    assert_success(result)
    assert [start for _, start in result.requests] == [0, 10000, 13000, 13007]
    assert result.body_bytes == len(IMAGE)


def test_a_link_that_keeps_making_progress_finishes_in_one_offer(setup):
    """Every response is cut after 4000 bytes: ten cuts, twice the default retries, each after
    progress, so each starts the count and the backoff (50 ms here) over."""
    result = setup.run(example(), setup.package(), cuts=[4000] * 20, mcu_args=FAST_MCU)
    assert_success(result)
    assert [start for _, start in result.requests] == list(range(0, len(IMAGE), 4000))
    assert result.body_bytes == len(IMAGE)
    pauses = re.findall(r"download interrupted at byte \d+ \(.*\); retry in (\d+) ms",
                        result.stdout)
    assert pauses == ["50"] * 10, result.stdout


def test_a_kept_partial_download_resumes_after_a_restart(setup):
    first = setup.run(example(", retries=0"), setup.package(), cuts=[15000], mcu_args=FAST_MCU)
    assert_failure(first, why="gave up at byte 15000")
    assert (setup.dir / "sota" / "STM32.part").stat().st_size == 15000
    second = setup.run(example(), setup.package(), mcu_args=FAST_MCU)
    assert_success(second)
    assert "resuming a kept download at byte 15000" in second.stdout
    assert second.requests == [("/fw.bin", 15000)]
    assert second.body_bytes == len(IMAGE) - 15000


def test_mcu_fails_mid_transfer(setup):
    # The MCU resets after 8 KiB are programmed: ST's receiver erased the application area
    # before the first block, so it now holds part of the new image (the simulator says
    # "partial"); the MCU stays in its bootloader until a later update completes.
    result = setup.run(
        example(", send_options={'timeout_ms': 300, 'retries': 3}"),
        setup.package(),
        mcu_args=FAST_MCU + ["--reset-at", "8192"],
    )
    assert_failure(result, app_state="partial", why="MCU transfer failed")
    assert (setup.dir / "sota" / "STM32.part").read_bytes() == IMAGE  # kept for the next try


def test_read_back_version_is_what_gets_reported(setup):
    """The MCU took the image but says it runs 1_9_9: the platform hears 1_9_9 (a failure)."""
    result = setup.run(
        example(", read_version=lambda comp: '1_9_9'"), setup.package(), mcu_args=FAST_MCU
    )
    assert result.returncode == 0 and "Traceback" not in result.stdout
    assert result.platform["reported"]["STM32"] == "1_9_9"
    assert result.platform["results"] == [["STM32", False]]
    assert result.mcu["app_state"] == "new"
    assert "the MCU runs '1_9_9' after the update, not '2_0_0'" in result.stdout


@pytest.mark.parametrize(
    "info_args,huge",
    # 4 GiB: no Verifier takes that size, the limit must refuse it first (from fileSize; the
    # server would hash the whole file for its ETag, so only the 6-argument form asks).
    [(5, 100 * 1024 * 1024 + 1), (6, 100 * 1024 * 1024 + 1), (6, 1 << 32)],
)
def test_file_over_the_platform_limit(setup, info_args, huge):
    setup.serve(huge)  # a sparse file
    result = setup.run(
        example(info_args=info_args),
        setup.package(size=huge),
        sota_info_args=info_args,
        mcu_args=FAST_MCU,
    )
    assert_failure(result, why="over the 104857600-byte limit")
    if info_args == 6:
        assert result.requests == []  # refused on the platform's fileSize, before any request
    assert not (setup.dir / "sota" / "STM32.part").exists()  # nothing stored


def test_file_larger_than_the_free_space(setup):
    result = setup.run(
        example(", device=Qth.emu_device"),
        setup.package(),
        device={"dk": "dev1", "free": 30000},
        mcu_args=FAST_MCU,
    )
    assert_failure(result, why="the file needs 40960 more bytes, 30000 are free")


@pytest.mark.parametrize("info_args", [5, 6])
def test_script_callbacks_get_the_same_arguments_as_without_qsota(setup, info_args):
    plain = setup.run(
        example(info_args=info_args, qsota=False),
        setup.package(),
        sota_info_args=info_args,
        end={"minutes": 5},
        mcu_args=FAST_MCU,
    )
    assert plain.returncode == 0 and "[qsota]" not in plain.stdout
    agent = setup.run(
        example(info_args=info_args), setup.package(), sota_info_args=info_args, mcu_args=FAST_MCU
    )
    assert_success(agent)
    for prefix in ("dev_event:", "otaPlan:", "sotaInfo:"):
        # each run has its own download server: the URLs differ in the port only
        assert lines(agent, prefix, same_port=True) == lines(plain, prefix, same_port=True) != []
    md5 = hashlib.md5(IMAGE).hexdigest()
    assert md5 in lines(agent, "sotaInfo:")[0]
    if info_args == 6:
        assert " %d %s " % (len(IMAGE), md5) in lines(agent, "sotaInfo:")[0]


@pytest.mark.parametrize("info_args", [5, 6])
def test_an_image_nothing_checks_is_refused_unless_allowed(setup, info_args):
    """No md5, no crc (and with 5 arguments no fileSize): a short Content-Length would put a
    truncated image on the MCU, so the agent refuses, unless the script opts in."""
    override = {"md5": "", "crc": None if info_args == 5 else ""}
    if info_args == 6:
        override["size"] = ""
    args = dict(sota_info_args=info_args, mcu_args=FAST_MCU)
    result = setup.run(example(info_args=info_args), setup.package(**override), **args)
    assert_failure(result, why="(verify): nothing would check this image")
    assert result.requests == []
    assert "download verified" not in result.stdout
    allowed = setup.run(
        example(", allow_unverified=True", info_args=info_args), setup.package(**override), **args
    )
    assert_success(allowed)
    assert "download NOT verified (allow_unverified): 40960 bytes" in allowed.stdout
    assert "download verified" not in allowed.stdout


def test_an_empty_image_is_refused(tmp_path):
    setup = Setup(tmp_path, image=b"", old_image=OLD)
    result = setup.run(example(), setup.package(), mcu_args=FAST_MCU)
    assert_failure(result, why="(verify): the image is empty (0 bytes)")
    assert not list((tmp_path / "sota").iterdir())  # no 0-byte .part/.json left


def test_failures_no_retry_fixes_leave_nothing_behind(setup):
    result = setup.run(example(), setup.package(), mcu_args=FAST_MCU, server={"auth": "u:p"})
    assert_failure(result, why="(download): HTTP 401")
    assert not list((setup.dir / "sota").iterdir())


@pytest.mark.parametrize("plan", [{"fields": 2}, {"fields": 3}, {"none": True}])
def test_malformed_plans_go_to_the_script_unchanged(setup, plan):
    options = ", policy=True, events=eventCb, device=Qth.emu_device"
    result = setup.run(example(options), setup.package(), plan=plan, mcu_args=FAST_MCU)
    assert result.returncode == 0 and "Traceback" not in result.stdout
    assert "handed to the script unchecked" in result.stdout
    assert len(lines(result, "otaPlan:")) == 1  # the script's callback ran (and accepted)
    assert ["otaAction", 1] in result.platform["log"]


def test_https_download_with_a_pin(setup, tmp_path):
    """The agent end to end over https, the server authenticated by its key pin."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_http import Certs

    certs = Certs(tmp_path)
    pin = certs.pins()[1]
    result = setup.run(
        example(", pin=%r" % pin),
        setup.package(),
        mcu_args=FAST_MCU,
        cuts=[20000],
        server={"tls": certs.context()},
    )
    assert_success(result)
    assert "https without ca or pin" not in result.stdout
    assert "download verified: 40960 bytes, md5, crc (crc mpeg2)" in result.stdout
    bad = setup.run(
        example(", pin=%r" % ("00" * 32)),
        setup.package(),
        mcu_args=FAST_MCU,
        server={"tls": certs.context()},
    )
    assert_failure(bad, why="(download): TLS: the server's certificate matches no pin")


def test_send_refuses_an_empty_source_and_a_diff_package(mp):
    out = mp.both("import send_refusals")
    assert out[0] == [
        "source", "source: the image is empty (0 bytes): refused (allow_empty=True sends it)"]
    assert out[1][0] == "io"  # allowed: it goes on to the port (a dead line here)
    assert out[2] == ["source", (
        "source: the image is a diff package (bsdiff), not an application: qsota cannot apply "
        "it and the MCU would store it as one: refused (mcu_applies_diffs=True sends it as it "
        "is)")]
    assert out[3][0] == "io"
    assert out[4][0] == "source" and "(esp_delta_ota)" in out[4][1]
    assert out[5] == ["ValueError", "delta: no_extension: a package made for ESP: without "
                      "qsota's extension the target cannot be checked"]
