"""qsota.agent in stream mode (docs/agent.md, "Stream mode") end to end: Quectel's SOTA
example on build/unix/micropython against the Qth emulator, its download server and the
qsota-mcu simulator's native receiver, with less free space than the image needs. The image
goes into the MCU as it downloads and is committed only after its final check; every byte is
downloaded once (the server counts them), and nothing but the stream's record, removed at the
end, is kept on the module.
"""

import hashlib

import pytest
from test_agent import FAST_MCU, IMAGE, ROOT, assert_failure, assert_success, example
from test_agent import setup  # noqa: F401 (fixture)
from support.mcu import Mcu
from support.relay import Relay

NATIVE_MCU = FAST_MCU + ["--personality", "native"]
SMALL = {"dk": "dev1", "free": 30000}  # the image is 40 KB
OTHER = bytes(b ^ 0x5A for b in IMAGE)
PURE = "import qsota_backend\nqsota_backend.use('pure')\n"


def script(backend, options="", info_args=6):
    text = example(", protocol='native', device=Qth.emu_device" + options, info_args=info_args)
    return (PURE if backend == "pure" else "") + text


def run(setup, backend, package, info_args=6, **kw):
    return setup.run(
        script(backend, info_args=info_args),
        package,
        device=SMALL,
        sota_info_args=info_args,
        mcu_args=NATIVE_MCU,
        path=[ROOT / "tests" / "mp"],
        **kw,
    )


def assert_nothing_kept(setup):
    sota = setup.dir / "sota"
    assert not any(sota.iterdir()), list(sota.iterdir())


# fileSize given (6 arguments): streamed from the start; not given (5): the download finds
# that the file does not fit and the update streams instead.
@pytest.mark.parametrize("backend,info_args", [("native", 6), ("pure", 5)])
def test_an_image_larger_than_the_free_space_streams(setup, backend, info_args):
    result = run(setup, backend, setup.package(), info_args=info_args)
    assert_success(result)
    assert "streaming the image into the MCU" in result.stdout
    assert ("streaming it instead" in result.stdout) == (info_args == 5)
    # Each byte downloaded once; without a fileSize, plus what the server wrote of the first
    # response (the one whose headers showed that the file does not fit) before the module
    # closed it: on loopback the kernel's buffers may take all of it.
    wasted = result.body_bytes - len(IMAGE)
    assert wasted == 0 if info_args == 6 else 0 <= wasted <= len(IMAGE), result.body_bytes
    assert_nothing_kept(setup)


def test_a_file_that_changes_mid_stream_starts_the_update_over(setup):
    # The server's file is replaced (another ETag) after 20,000 bytes: the resumed request
    # gets the new file whole, and the update starts over with it. The platform checks the
    # size only here, so the new file is as good as the old.
    result = run(
        setup,
        "native",
        setup.package(md5="", crc=""),
        cuts=[20000],
        server={"swap": OTHER},
    )
    assert result.returncode == 0, result.stdout
    assert "the update starts over" in result.stdout, result.stdout
    assert result.platform["reported"]["STM32"] == "2_0_0"
    assert result.mcu["result"] == "ok" and result.mcu_image == OTHER
    assert result.mcu["sha256"] == hashlib.sha256(OTHER).hexdigest()
    assert_nothing_kept(setup)


@pytest.mark.parametrize("backend", ["native", "pure"])
def test_a_streamed_image_that_fails_its_final_check_is_not_committed(setup, backend):
    setup.serve(IMAGE[:9000] + bytes([IMAGE[9000] ^ 1]) + IMAGE[9001:])
    result = run(setup, backend, setup.package())
    assert_failure(result, app_state="old", why="failed its final check")
    assert "update failed (verify)" in result.stdout
    assert_nothing_kept(setup)


@pytest.mark.parametrize("corrupt", [False, True])
def test_ymodem_streams_only_when_asked(setup, corrupt):
    # stream=True: ST's IAP takes the blocks as they download; a byte changed on the server
    # fails the final check, and CAN replaces the final EOT: the IAP never reports a complete
    # file (its application area holds part of the image: the MCU stays in its bootloader).
    if corrupt:
        setup.serve(IMAGE[:9000] + bytes([IMAGE[9000] ^ 1]) + IMAGE[9001:])
    result = setup.run(
        example(", device=Qth.emu_device, stream=True", info_args=6),
        setup.package(),
        device=SMALL,
        sota_info_args=6,
        mcu_args=FAST_MCU,
    )
    assert "streaming the image into the MCU" in result.stdout
    if corrupt:
        assert_failure(result, app_state="partial", why="failed its final check")
    else:
        assert_success(result)
        assert result.body_bytes == len(IMAGE)
    assert_nothing_kept(setup)


def test_a_plan_needing_more_space_than_free_is_accepted_when_the_agent_streams(setup):
    options = ", policy=True, events=eventCb"
    result = setup.run(
        script("native", options),
        setup.package(),
        plan={"disk_space": len(IMAGE)},
        device=SMALL,
        sota_info_args=6,
        mcu_args=NATIVE_MCU,
    )
    assert_success(result)
    assert "policy: meets the plan's minimums" in result.stdout
    assert "streaming the image into the MCU" in result.stdout



@pytest.mark.parametrize("backend", ["native", "pure"])
def test_a_stream_cut_short_resumes_from_its_record_in_the_next_run(setup, backend):
    # The connection breaks at byte 30,000 and the agent gives up (retries=0): the platform
    # hears failure, the MCU committed nothing, the stream's record stays. The next run (the
    # module restarted, the same MCU: its UART kept by a relay) resumes the download where
    # the record and the MCU's receiver agree, and downloads only the rest.
    with Mcu(personality="native", flash_scale=0, baud=921600) as mcu:
        with Relay(mcu.port) as relay:
            first = setup.run(
                script(backend, ", retries=0"),
                setup.package(),
                device=SMALL,
                sota_info_args=6,
                cuts=[30000],
                path=[ROOT / "tests" / "mp"],
                mcu_port=relay.port,
            )
            assert first.returncode == 0 and "Traceback" not in first.stdout, first.stdout
            assert first.platform["results"] == [["STM32", False]], first.stdout
            assert (setup.dir / "sota" / "STM32.stream").exists()
            second = setup.run(
                script(backend),
                setup.package(),
                device=SMALL,
                sota_info_args=6,
                path=[ROOT / "tests" / "mp"],
                mcu_port=relay.port,
            )
        summary = mcu.summary()
    assert second.returncode == 0 and "Traceback" not in second.stdout, second.stdout
    assert second.platform["results"] == [["STM32", True]], second.stdout
    assert second.platform["reported"]["STM32"] == "2_0_0"
    assert summary["result"] == "ok", summary
    assert summary["sha256"] == hashlib.sha256(IMAGE).hexdigest(), summary
    # Resumed at most one window (16 KiB, the default) behind the cut: the record is saved
    # every window, and the MCU is never more than a window behind the download.
    window = 16 * 1024
    assert len(second.requests) == 1, second.requests
    assert 30000 - window <= second.requests[0][1] <= 30000, second.requests
    assert "resuming a streamed download at byte" in second.stdout
    assert first.body_bytes + second.body_bytes <= len(IMAGE) + window
    assert_nothing_kept(setup)
