"""qsota.agent with a diff package (docs/delta.md "On the module"): the module applies it to
the kept copy of the image the MCU runs (`sota/STM32.img`) and streams the result to
bootloaders that take whole images, on both backends, end to end against the Qth emulator
and the qsota-mcu simulator. Packages are made by `qsota delta` and by PyPI `detools` (its
patch in esp_delta_ota's header). Whatever is wrong (no base, another base, a damaged
package, an unchecked result) fails before one byte reaches the MCU, with "publish a full
package" in the log and the script's failure reason, and the kept copy stays as it was."""

import hashlib
import io
import random
import struct
import subprocess

import detools  # PyPI detools 0.53 (./build.sh setup installs it)
import pytest

from support.micropython import WITH_32
from support.signing import make_key, sign
from test_agent import FAST_MCU, ON_FAILURE, ROOT, assert_failure, example, lines
from scenario import Setup

QSOTA = ROOT / "target" / "release" / "qsota"
PURE = "import qsota_backend\nqsota_backend.use('pure')\n"


def firmware(seed, size=40 * 1024):
    """An image with firmware's mix of runs and varied bytes (so patches compress)."""
    rnd = random.Random(seed)
    out = bytearray()
    while len(out) < size:
        if rnd.random() < 0.6:
            out += bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(1, 48)))
        else:
            out += bytes([rnd.randrange(4)]) * rnd.randrange(1, 32)
    return bytes(out[:size])


def edited(image, seed):
    """`image` with an insertion, a deletion and a moved block: a new version of it."""
    rnd = random.Random(seed)
    new = bytes(rnd.getrandbits(8) for _ in range(700))
    return image[:3000] + new + image[3000:9000] + image[9500:30000] + image[1000:3000] + \
        image[30000:]


OLD = firmware(1)
NEW = edited(OLD, 2)


def qsota_package(tmp_path, old, new, *options):
    (tmp_path / "a.old").write_bytes(old)
    (tmp_path / "a.new").write_bytes(new)
    subprocess.run([str(QSOTA), "delta", tmp_path / "a.old", tmp_path / "a.new", "-o",
                    tmp_path / "a.pkg", *options], check=True, capture_output=True)
    return (tmp_path / "a.pkg").read_bytes()


def detools_package(old, new, extension=True):
    """detools' heatshrink patch in esp_delta_ota's header, with qsota's extension (the
    base's size, the target's SHA-256 prefix) or reserved bytes zero (made for ESP)."""
    out = io.BytesIO()
    detools.create_patch(io.BytesIO(old), io.BytesIO(new), out, compression="heatshrink")
    reserved = bytes(28)
    if extension:
        reserved = b"QSD1" + struct.pack("<I", len(old)) + hashlib.sha256(new).digest()[:20]
    return b"\x10\xde\xcd\xfc" + hashlib.sha256(old).digest() + reserved + out.getvalue()


def run(tmp_path, package, kept=OLD, options="", mcu_args=(), pure=False, old_image=OLD,
        mcu_port=None, prelude="", device=None):
    """The agent updates the simulated MCU (running `old_image`; or the MCU at `mcu_port`)
    from `package`, the platform's diff package for 1_0_0, with `kept` as sota/STM32.img
    (None: no copy); `prelude` runs first, `device` is the emulator's device state."""
    setup = Setup(tmp_path, image=package, old_image=old_image)
    (tmp_path / "sota").mkdir(exist_ok=True)
    if kept is not None:
        (tmp_path / "sota" / "STM32.img").write_bytes(kept)
    script = prelude + example(options + ON_FAILURE)
    path = []
    if pure:
        script, path = PURE + script, [ROOT / "tests" / "mp"]
    return setup.run(script, setup.package(kind="diff", source="1_0_0"),
                     mcu_args=FAST_MCU + list(mcu_args), path=path, mcu_port=mcu_port,
                     timeout_s=120, device=device)


def assert_updated(result, tmp_path, image=NEW, sent=NEW):
    assert result.returncode == 0, result.stdout
    assert "Traceback" not in result.stdout
    assert result.platform["reported"]["STM32"] == "2_0_0", result.stdout
    assert result.platform["results"] == [["STM32", True]]
    assert result.mcu["result"] == "ok" and result.mcu["app_state"] == "new"
    assert result.mcu_image == sent
    assert lines(result, "[qsota] STM32: diff package applies to the kept image: %d bytes"
                 % len(image))[0]
    # the next update's base: the image installed, kept in place of the old one
    assert (tmp_path / "sota" / "STM32.img").read_bytes() == image
    assert sorted(p.name for p in (tmp_path / "sota").iterdir()) == ["STM32.img"]


def assert_refused(result, tmp_path, why, kept=OLD):
    """Failure before the MCU heard anything: platform, script and kept copy as they were."""
    assert_failure(result, app_state="old", why=why)
    assert "publish a full package" in lines(result, "[qsota] STM32: update failed")[0]
    assert lines(result, "on_failure: STM32 verify None diff package: ")
    assert result.mcu["line"]["to_mcu"] == 0, result.mcu
    assert result.mcu["flash"]["erases"] == result.mcu["flash"]["programmed"] == 0
    kept_now = tmp_path / "sota" / "STM32.img"
    assert (kept_now.read_bytes() if kept_now.exists() else None) == kept
    assert not (tmp_path / "sota" / "STM32.part").exists()


# ymodem (ST's IAP), stm32 (the ROM bootloader) and native without a delta-capable
# receiver: each gets the whole image, rebuilt on the module.
PROTOCOLS = {
    "ymodem": ("", []),
    "stm32": (", protocol='stm32', send_options={'timeout_ms': 300, 'baud': 921600}",
              ["--personality", "stm32-rom"]),
    "native": (", protocol='native'", ["--personality", "native"]),
}


@pytest.mark.parametrize("pure", [False, True], ids=["native-backend", "pure-backend"])
@pytest.mark.parametrize("protocol, maker", [("ymodem", "qsota"), ("stm32", "detools")])
def test_the_module_applies_a_diff_package(tmp_path, protocol, maker, pure):
    package = (qsota_package(tmp_path, OLD, NEW) if maker == "qsota"
               else detools_package(OLD, NEW))
    options, mcu_args = PROTOCOLS[protocol]
    result = run(tmp_path, package, options=options, mcu_args=mcu_args, pure=pure)
    assert_updated(result, tmp_path)
    assert "sent %d bytes" % len(NEW) in result.stdout


# Prints a line each time qsota.delta applies a package from its first byte (a pass).
COUNT_PASSES = """import qsota.delta
_start = qsota.delta.Target._start
def _counted(self):
    print("delta pass")
    _start(self)
qsota.delta.Target._start = _counted
"""


@pytest.mark.parametrize("room", [True, False], ids=["room", "no-room"])
def test_the_target_is_applied_once_where_the_workdir_has_room_for_it(tmp_path, room):
    """With room for the target (the device says 80,000 bytes free), one pass proves it into
    sota/STM32.img.new, the MCU gets that file and it becomes the kept copy. Without (30,000
    bytes: the package fits, the target does not), one pass proves it and another streams
    it to the MCU, and no copy is kept (the next update needs a full package)."""
    package = qsota_package(tmp_path, OLD, NEW)
    result = run(tmp_path, package, prelude=COUNT_PASSES, options=", device=Qth.emu_device",
                 device={"dk": "dev1", "free": 80000 if room else 30000})
    assert result.returncode == 0, result.stdout
    assert result.platform["reported"]["STM32"] == "2_0_0", result.stdout
    assert result.mcu_image == NEW
    assert result.stdout.count("delta pass") == (1 if room else 2), result.stdout
    kept = tmp_path / "sota" / "STM32.img"
    if room:
        assert kept.read_bytes() == NEW
    else:
        assert not kept.exists()
        assert lines(result, "[qsota] STM32: not keeping the installed image (no room for it"), \
            result.stdout
    assert sorted(p.name for p in (tmp_path / "sota").iterdir()) == (["STM32.img"] if room else [])


def test_a_full_package_then_a_diff_package_across_a_reset(tmp_path):
    """The native protocol across an MCU reset midway (the sender reads from the MCU's
    offset again: the module applies the package from its start once more); the kept copy
    is the full package's image after the first update, the diff's target after the second."""
    options, mcu_args = PROTOCOLS["native"]
    setup = Setup(tmp_path, image=OLD, old_image=b"factory" * 100)
    first = setup.run(example(options), setup.package(), mcu_args=FAST_MCU + mcu_args)
    assert first.platform["reported"]["STM32"] == "2_0_0" and first.mcu_image == OLD
    assert (tmp_path / "sota" / "STM32.img").read_bytes() == OLD
    result = run(tmp_path, qsota_package(tmp_path, OLD, NEW), kept=OLD, options=options,
                 mcu_args=mcu_args + ["--reset-at", "20000"])
    assert_updated(result, tmp_path)


@pytest.mark.parametrize("case", ["no copy", "another base", "damaged", "made for ESP",
                                  "header only"])
def test_a_diff_package_the_module_cannot_prove_never_reaches_the_mcu(tmp_path, case):
    package, kept = detools_package(OLD, NEW), OLD
    why = {
        "no copy": "no copy of the image the MCU runs (sota/STM32.img) to apply it to",
        "another base": "made for the base with SHA-256 %s, the kept image (sota/STM32.img) "
                        "is %s" % (hashlib.sha256(OLD).hexdigest()[:16],
                                   hashlib.sha256(NEW).hexdigest()[:16]),
        "damaged": "diff package: ",
        "made for ESP": "no target digest (a package made for ESP) and no keys= to check "
                        "the result",
        "header only": "diff package: truncated: ",
    }[case]
    if case == "no copy":
        kept = None
    elif case == "another base":
        kept = NEW
    elif case == "damaged":
        package = bytearray(package)
        package[len(package) // 2] ^= 0x10  # the platform's md5 and crc are of this one
        package = bytes(package)
    elif case == "header only":
        package = package[:64]  # it ends before the patch says the target's size
    else:
        package = detools_package(OLD, NEW, extension=False)
    result = run(tmp_path, package, kept=kept)
    assert_refused(result, tmp_path, why, kept)


def test_the_bootloader_that_applies_diffs_gets_the_package(tmp_path):
    package = detools_package(OLD, NEW)
    result = run(tmp_path, package, kept=None, options=", mcu_applies_diffs=True")
    assert result.platform["reported"]["STM32"] == "2_0_0", result.stdout
    assert result.mcu_image == package


@pytest.fixture(scope="module")
def product(tmp_path_factory):
    """Two versions of one signed container and the product's key, another product's key."""
    d = tmp_path_factory.mktemp("product")
    key = make_key(d / "product.pem")
    other = make_key(d / "other.pem")
    old = sign(d, d / "product.pem", OLD)
    new = sign(d, d / "product.pem", NEW)
    foreign = sign(d, d / "other.pem", NEW)
    return old, new, foreign, key, other


def test_keys_check_the_rebuilt_image_and_the_body_reaches_the_mcu(tmp_path, product):
    old, new, _, key, other = product
    result = run(tmp_path, detools_package(old, new), kept=old,
                 options=", keys=[%r, %r]" % (other, key), pure=True)
    assert_updated(result, tmp_path, image=new, sent=NEW)  # the body alone
    assert lines(result, "[qsota] STM32: signature verified: key 1, image version 1.2.3+4")


def test_a_rebuilt_image_signed_by_another_key_never_reaches_the_mcu(tmp_path, product):
    old, _, foreign, key, _ = product
    result = run(tmp_path, detools_package(old, foreign), kept=old,
                 options=", keys=[%r]" % (key,))
    assert_refused(result, tmp_path, "key: signed with a key not in keys", kept=old)


@pytest.mark.parametrize("backend", WITH_32)
def test_the_target_streams_with_reads_behind_and_a_damaged_package_fails(mp, tmp_path, backend):
    """qsota.delta.Target read as the drivers read it (blocks of several sizes, re-reads
    within its ring and far behind it, which applies from the start again) is the target;
    on 31-bit small ints too. The native backend applies through the core alone: the pure
    applier is never loaded."""
    package = detools_package(OLD, NEW)
    damaged = bytearray(package)
    damaged[len(package) // 2] ^= 0x10
    for name, data in (("base", OLD), ("pkg", package), ("new", NEW), ("bad", damaged)):
        (tmp_path / name).write_bytes(data)
    got = mp.json("import delta_target", backend,
                  args=[tmp_path / n for n in ("base", "pkg", "new", "bad")])
    assert got[:4] == [len(NEW), hashlib.sha256(NEW).hexdigest(), True, 0]
    assert "diff package: " in got[4]
    assert got[5] == (backend != "native")


@pytest.mark.heavy
def test_mcuboot_in_qemu_takes_the_images_the_module_rebuilt(tmp_path):
    """The real MCUboot (serial recovery, Zephyr 4.4.0 on qemu's mps2-an385) gets the image
    rebuilt from real Zephyr pairs, once per backend, and lists it as valid (its own hash
    and signature check): buf512 -> buf1024 (native backend), then buf1024 -> buf2048."""
    from support.mcuboot_qemu import FIXTURES, OLD_RECOVERY, Qemu, missing, peer, tlv_hash

    if missing():
        pytest.fail(missing(), pytrace=False)
    z = [(FIXTURES / (OLD_RECOVERY % n + ".signed.bin")).read_bytes() for n in (512, 1024, 2048)]
    # reset=False: qemu's reset reloads the fixture into its flash, so MCUboot's list is read
    # before any reset (the sender's own last step is that list, its success condition)
    options = ", protocol='mcuboot', send_options={'enter': True, 'reset': False}"
    for i, pure in enumerate((False, True)):
        # a fresh MCUboot each: a second upload into a session that holds a complete one
        # (reset=False) is refused, full packages too (the agent, the same two images)
        with Qemu(OLD_RECOVERY % 512) as q:
            d = tmp_path / str(i)
            d.mkdir()
            result = run(d, qsota_package(d, z[i], z[i + 1]), kept=z[i], options=options,
                         pure=pure, mcu_port=q.port)
            assert result.platform["reported"]["STM32"] == "2_0_0", result.stdout
            assert "Traceback" not in result.stdout
            assert peer(q.port, "list")[0]["hash"] == tlv_hash(z[i + 1])
            assert (d / "sota" / "STM32.img").read_bytes() == z[i + 1]


# The MCU applies the package (native, mcu_applies_diffs=True) and runs the old container:
# with keys= the module cannot check the result, so it asks the receiver to (OPEN's SIGNED
# flag); the simulator's receiver checks with the product's keys (--keys) or, without them,
# is one built without the check.
SIGNED_NATIVE = ", protocol='native', mcu_applies_diffs=True, keys=[%r]"


def mcu_keys(tmp_path, *keys):
    path = tmp_path / "mcu.keys"
    path.write_bytes(b"".join(keys))
    return ["--personality", "native", "--keys", str(path)]


@pytest.mark.parametrize("pure", [False, True], ids=["native-backend", "pure-backend"])
def test_with_keys_the_receiver_checks_the_result_it_applies(tmp_path, product, pure):
    old, new, _, key, other = product
    result = run(tmp_path, detools_package(old, new), kept=None, old_image=old,
                 options=SIGNED_NATIVE % key, mcu_args=mcu_keys(tmp_path, other, key), pure=pure)
    assert result.platform["reported"]["STM32"] == "2_0_0", result.stdout
    assert result.mcu["result"] == "ok" and result.mcu["app_state"] == "new"
    assert result.mcu_image[:len(new)] == new
    assert lines(result, "[qsota] STM32: the MCU applied the diff package and checked its "
                 "result's signature")


@pytest.mark.parametrize("pure", [False, True], ids=["native-backend", "pure-backend"])
def test_a_result_signed_by_another_key_is_refused_by_the_mcu(tmp_path, product, pure):
    old, _, foreign, key, _ = product
    result = run(tmp_path, detools_package(old, foreign), kept=None, old_image=old,
                 options=SIGNED_NATIVE % key, mcu_args=mcu_keys(tmp_path, key), pure=pure)
    assert_failure(result, app_state="old", why="(signature)")
    assert result.mcu["result"] != "ok"
    assert lines(result, "on_failure: STM32 transfer rejected ")


def test_a_receiver_without_the_check_refuses_before_anything_is_erased(tmp_path, product):
    old, new, _, key, _ = product
    result = run(tmp_path, detools_package(old, new), kept=None, old_image=old,
                 options=SIGNED_NATIVE % key, mcu_args=["--personality", "native"])
    assert_failure(result, app_state="old", why="(flags)")
    assert result.mcu["flash"]["erases"] == result.mcu["flash"]["programmed"] == 0


@pytest.mark.parametrize("pure", [False, True], ids=["native-backend", "pure-backend"])
def test_with_keys_a_full_package_lands_as_the_container_and_the_next_diff_applies(
        tmp_path, product, pure):
    """With keys= and mcu_applies_diffs, the MCU is a signature-checking receiver for every
    image: a full package goes as the whole signed container (SIGNED), so the application
    area holds it, and the next diff package, made between containers, applies there
    (SIGNED|DELTA)."""
    old, new, _, key, other = product
    mcu_args = mcu_keys(tmp_path, other, key)
    setup = Setup(tmp_path, image=old, old_image=b"factory" * 100)
    script, path = example(SIGNED_NATIVE % key), []
    if pure:
        script, path = PURE + script, [ROOT / "tests" / "mp"]
    first = setup.run(script, setup.package(), mcu_args=FAST_MCU + mcu_args, path=path)
    assert first.platform["reported"]["STM32"] == "2_0_0", first.stdout
    assert first.mcu["result"] == "ok" and first.mcu["app_state"] == "new"
    assert first.mcu_image == old  # the container, byte for byte
    assert lines(first, "[qsota] STM32: sent the signed container; the MCU checked its "
                 "signature")
    result = run(tmp_path, detools_package(old, new), kept=None, old_image=first.mcu_image,
                 options=SIGNED_NATIVE % key, mcu_args=mcu_args, pure=pure)
    assert result.platform["reported"]["STM32"] == "2_0_0", result.stdout
    assert result.mcu["result"] == "ok" and result.mcu["app_state"] == "new"
    assert result.mcu_image[:len(new)] == new
    assert lines(result, "[qsota] STM32: the MCU applied the diff package and checked its "
                 "result's signature")


def test_with_keys_a_full_package_signed_by_another_key_never_reaches_the_mcu(tmp_path,
                                                                               product):
    _, _, foreign, key, _ = product
    setup = Setup(tmp_path, image=foreign, old_image=OLD)
    result = setup.run(example(SIGNED_NATIVE % key + ON_FAILURE), setup.package(),
                       mcu_args=FAST_MCU + mcu_keys(tmp_path, key))
    assert_failure(result, app_state="old", why="key: signed with a key not in keys")
    assert result.mcu["line"]["to_mcu"] == 0
    assert result.mcu["flash"]["erases"] == result.mcu["flash"]["programmed"] == 0


@pytest.mark.parametrize("pure", [False, True], ids=["native-backend", "pure-backend"])
@pytest.mark.parametrize("corrupt", [False, True], ids=["intact", "corrupt"])
def test_a_diff_package_larger_than_the_free_space_streams_into_the_native_receiver(
        tmp_path, pure, corrupt):
    """Stream mode (docs/agent.md): the package goes to the MCU as it downloads (OPEN's DELTA,
    named by the stream's identity) and the MCU applies it to its application, the base;
    COMMIT waits for the package's md5. Corrupt: one byte of the served package's target
    digest changed (the receiver would see it only at COMMIT): the md5 fails first, COMMIT
    never goes, the MCU keeps its application."""
    package = qsota_package(tmp_path, OLD, NEW)
    setup = Setup(tmp_path, image=package, old_image=OLD)
    platform = setup.package(kind="diff", source="1_0_0")
    if corrupt:
        bad = bytearray(package)
        bad[50] ^= 1
        setup.serve(bytes(bad))
    script = example(", protocol='native', device=Qth.emu_device" + ON_FAILURE, info_args=6)
    path = [ROOT / "tests" / "mp"]
    if pure:
        script = PURE + script
    result = setup.run(script, platform, device={"dk": "dev1", "free": len(package) // 2},
                       mcu_args=FAST_MCU + ["--personality", "native"], path=path,
                       sota_info_args=6, timeout_s=120)
    assert "streaming the image into the MCU" in result.stdout, result.stdout
    assert result.body_bytes == len(package), result.stdout
    assert sorted(p.name for p in (tmp_path / "sota").iterdir()) == []  # no copy of the target
    if corrupt:
        assert_failure(result, app_state="old", why="failed its final check")
        return
    assert result.returncode == 0, result.stdout
    assert "Traceback" not in result.stdout
    assert result.platform["results"] == [["STM32", True]], result.stdout
    assert result.mcu["result"] == "ok" and result.mcu["app_state"] == "new"
    assert result.mcu_image == NEW
