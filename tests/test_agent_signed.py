"""qsota.agent with keys=: only an MCUboot image signed by the product's key reaches the MCU.

The platform serves a container made by `imgtool sign` (throwaway keys made here); the MCU
simulator runs a bootloader that takes a raw application (ST's IAP over YMODEM, the native
receiver), so what must land there is the body alone. A tampered or unsigned container must
never touch the MCU: the simulator's application stays the old one and the platform is told
failure.
"""

import random

import pytest

from support.signing import make_key, sign
from test_agent import FAST_MCU, OLD, ROOT, assert_failure, example, lines
from scenario import Setup

BODY = random.Random(41).randbytes(20 * 1024)


@pytest.fixture(scope="module")
def product(tmp_path_factory):
    """(the signed container, the product's public key, another product's key, unsigned)."""
    d = tmp_path_factory.mktemp("product")
    key = make_key(d / "product.pem")
    other = make_key(d / "other.pem")
    return sign(d, d / "product.pem", BODY), key, other, sign(d, None, BODY)


def keys_option(*keys):
    return ", keys=[%s]" % ", ".join(repr(k) for k in keys)


def run(tmp_path, served, options, mcu_args=(), pure=False):
    setup = Setup(tmp_path, image=served, old_image=OLD)
    script = example(options)
    path = []
    if pure:
        script = "import qsota_backend\nqsota_backend.use('pure')\n" + script
        path = [ROOT / "tests" / "mp"]
    return setup.run(script, setup.package(), mcu_args=FAST_MCU + list(mcu_args), path=path)


def assert_body_landed(result):
    assert result.returncode == 0, result.stdout
    assert "Traceback" not in result.stdout
    assert result.platform["reported"]["STM32"] == "2_0_0"
    assert result.mcu["result"] == "ok" and result.mcu["app_state"] == "new"
    assert result.mcu_image == BODY  # the body alone, not the container
    assert result.mcu["line"]["to_mcu"] > len(BODY)  # what the refusals below find at 0
    assert lines(result, "[qsota] STM32: signature verified: key 1, image version 1.2.3+4")


@pytest.mark.parametrize("personality", ["stm32-iap", "native"])
def test_signed_update_sends_the_body(tmp_path, product, personality):
    image, key, other, _ = product
    protocol = ", protocol='native'" if personality == "native" else ""
    result = run(tmp_path, image, protocol + keys_option(other, key),
                 ["--personality", personality])
    assert_body_landed(result)


def test_signed_update_on_the_pure_backend(tmp_path, product):
    image, key, _, _ = product
    assert_body_landed(run(tmp_path, image, keys_option(bytes(32), key), pure=True))


def tampered(image, at):
    out = bytearray(image)
    out[at] ^= 0x40
    return bytes(out)


@pytest.mark.parametrize(
    "case, why",
    [
        ("body", "hash: the SHA-256 TLV does not match the image"),
        ("signature", "signature: the Ed25519 signature does not verify with keys[0]"),
        ("other key", "key: signed with a key not in keys"),
        ("unsigned", "signature: the image is not signed"),
        ("raw binary", "image: bad magic"),
    ],
)
def test_refused_images_never_touch_the_mcu(tmp_path, product, case, why):
    image, key, other, unsigned = product
    served, trusted = {
        "body": (tampered(image, 1000), key),
        "signature": (tampered(image, len(image) - 1), key),
        "other key": (image, other),
        "unsigned": (unsigned, key),
        "raw binary": (BODY, key),
    }[case]
    result = run(tmp_path, served, keys_option(trusted))
    assert_failure(result, app_state="old", why=why)
    assert "(verify)" in lines(result, "[qsota] STM32: update failed")[0]
    assert result.mcu["line"]["to_mcu"] == 0  # not one byte went to the MCU
    assert result.mcu["flash"]["erases"] == result.mcu["flash"]["programmed"] == 0
    assert not (tmp_path / "sota" / "STM32.part").exists()  # a refused image is not kept


def test_without_keys_the_container_goes_as_it_is(tmp_path, product):
    image = product[0]
    result = run(tmp_path, image, "")
    assert result.platform["reported"]["STM32"] == "2_0_0"
    assert result.mcu_image == image


def test_bad_keys_fail_at_setup(mp, tmp_path):
    (tmp_path / "s.json").write_text('{"package": {}}')
    env = dict(mp.env)
    mp.env["QTH_SCENARIO"] = str(tmp_path / "s.json")
    mp.env["MICROPYPATH"] += ":" + str(ROOT / "tools" / "qth_emu")
    try:
        out = mp.run(
            "import Qth, qsota.agent\n"
            "for keys in ([b'x'], 'k'):\n"
            "    try:\n"
            "        qsota.agent.setMcuVer(Qth, 'S', '1', print, print, port=print, keys=keys)\n"
            "    except (TypeError, ValueError) as e:\n"
            "        print(type(e).__name__, e)\n",
            backend=None,
        ).splitlines()
    finally:
        mp.env.clear()
        mp.env.update(env)
    assert out == [
        "ValueError keys: expected 32-byte Ed25519 public keys, got 1 bytes",
        "TypeError keys: expected a list of 32-byte Ed25519 public keys, got str",
    ]
