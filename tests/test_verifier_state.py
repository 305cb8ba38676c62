"""A Verifier's state, exported and restored (Verifier(resumable=True), export(), restore();
src/midstate.rs, docs/api.md "Verifier state"): what a streamed update persists so that a
module that reboots midway continues verifying without the bytes it already saw.

The record is bit-exact across backends (the C module's core, qsota.pure on 64-bit and on
the 32-bit interpreter, where MD5 and SHA-256 run in Python on 16-bit halves): a state one
exports, another restores, and each continues to CPython's digests. A damaged record, one of
a later version or of another crc_variant is refused with the same words on both backends,
and leaves the verifier fresh. The core's refusals of every damaged byte and bit are
cargo tests (src/midstate.rs), its import is fuzzed (fuzz/fuzz_targets/verifier_state.rs).
"""

import hashlib
import json
import zlib

from support.micropython import WITH_32
from test_verify import crc32_mpeg2

IMAGE = bytes((i * 7 + i // 13) & 0xFF for i in range(1000))


def test_a_state_moves_between_backends_bit_exact(mp, tmp_path):
    states = {b: mp.json("import verifier_state", b, args=["export"]) for b in WITH_32}
    assert states["pure"] == states["native"] and states["pure32"] == states["native"]
    want_crc = {"mpeg2": [crc32_mpeg2(IMAGE)], "iso-hdlc": [zlib.crc32(IMAGE)]}
    want_crc["auto"] = want_crc["mpeg2"] + want_crc["iso-hdlc"]
    # Each backend finishes from the states another exported.
    for backend, source in (("native", "pure32"), ("pure", "native"), ("pure32", "pure")):
        path = tmp_path / ("%s.json" % source)
        path.write_text(json.dumps(states[source]))
        done = mp.json("import verifier_state", backend, args=["finish", path])
        assert len(done) == 30
        for variant, split, md5, sha256, crc in done:
            assert md5 == hashlib.md5(IMAGE).hexdigest(), (backend, variant, split)
            assert sha256 == hashlib.sha256(IMAGE).hexdigest(), (backend, variant, split)
            assert crc == want_crc[variant], (backend, variant, split)


def test_export_and_restore_refuse_alike(mp):
    got = mp.both("import verifier_state", args=["refusals"], pure32=True)
    assert got == [
        ["raise", "ValueError", "export: the Verifier was made without resumable=True"],
        ["raise", "ValueError", "restore: the Verifier was made without resumable=True"],
        ["raise", "ValueError", "export: the verifier is final after check() or a digest"],
        ["raise", "TypeError", "state: expected a bytes-like object, got str"],
        ["raise", "TypeError", "state: expected a bytes-like object, got int"],
        ["raise", "ValueError", "state: expected 140 bytes, got 139"],
        ["raise", "ValueError", "state: expected 140 bytes, got 141"],
        ["raise", "ValueError", "restore: only into a new Verifier, before its first byte"],
        ["raise", "ValueError", "restore: only into a new Verifier, before its first byte"],
        ["raise", "ValueError", "state: damaged (its check value or a field is wrong)"],
        ["raise", "ValueError", "state: made by a later version of qsota"],
        ["raise", "ValueError", "state: damaged (its check value or a field is wrong)"],
        ["raise", "ValueError", "state: made with another crc_variant"],
        [
            "raise",
            "ValueError",
            "resumable: not with keys (a signed image's state is not exported)",
        ],
        ["raise", "TypeError", "extra positional arguments given"],
        ["ok", True],
        ["ok", None],
    ]
