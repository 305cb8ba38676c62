"""The senders' argument rules are written once (python/qsota/rules.py): the C module reads
them from cmodule/rules.h, which must be what scripts/rules_h.py writes from them, and both
backends bind arguments alike (tests/test_arg_parity.py fuzzes the checks themselves)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_committed_rules_header_is_what_the_generator_writes():
    generated = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "rules_h.py")],
        check=True, capture_output=True, text=True,
    ).stdout
    committed = (ROOT / "cmodule" / "rules.h").read_text()
    assert committed == generated, "cmodule/rules.h is stale: run scripts/rules_h.py --write"


def test_both_backends_bind_arguments_alike(mp):
    got = mp.both("import rules_binding")
    assert got == [
        "TypeError: 'size' argument required",
        "TypeError: extra positional arguments given",
        "TypeError: extra keyword arguments given",
        "TypeError: unexpected keyword argument 'bogus'",
        "ok",
        "TypeError: 'sha256' argument required",
        "ok",
        "ok",
        "TypeError: 'hash' argument required",
        "ok",
    ]


def test_the_methods_refuse_with_the_tables_words(mp):
    """poll, receive and provide check their arguments in each backend's own code (they run
    at every step), with the names, kinds and messages of qsota.rules' method rows."""
    rules = _rules()
    poll_now, poll_frame = rules.POLL
    _, receive_data, receive_n = rules.RECEIVE
    (provide_n,) = rules.PROVIDE

    def expected(row, got):
        return "TypeError: %s: expected %s, got %s" % (row[0], rules.EXPECTED[row[1]], got)

    assert mp.both("import rules_methods") == [
        expected(poll_now, "str"),
        expected(poll_frame, "bytes"),
        expected(receive_data, "str"),
        "ValueError: %s: %s" % (receive_n[0], receive_n[4]),
        expected(receive_n, "float"),
        "ValueError: %s: %s" % (provide_n[0], provide_n[4]),
    ]


def _rules():
    import importlib.util

    spec = importlib.util.spec_from_file_location("rules", ROOT / "python/qsota/rules.py")
    rules = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rules)
    return rules


def test_the_verifier_binds_and_refuses_by_the_table(mp):
    """The Verifier's constructor and methods are bound and checked by qsota.rules' VERIFIER,
    UPDATE, HEXDIGEST and CRC32 rows on both backends: their words, their order (the
    signature's: md5 before size), `keys` by keyword only and its keys."""
    rules = _rules()
    row = {r[0]: r for r in rules.VERIFIER}

    def value(name, why=None):
        return "ValueError: %s: %s" % (name, why or row[name][4])

    def typed(r, got):
        return "TypeError: %s: expected %s, got %s" % (r[0], rules.EXPECTED[r[1]], got)

    assert mp.both("import rules_verifier") == [
        value("md5", row["md5"][4] + ", got 31"),
        value("sha256", row["sha256"][4] + ", " + rules.NON_HEX),
        typed(row["md5"], "int"),
        value("crc", rules.NOT_A_NUMBER),
        value("crc"),
        typed(row["crc"], "float"),
        typed(row["size"], "bool"),
        value("size"),
        value("crc_variant"),
        "TypeError: extra positional arguments given",
        "TypeError: unexpected keyword argument 'bogus'",
        value("md5", row["md5"][4] + ", got 31"),
        typed(rules.UPDATE[0], "str"),
        typed(rules.HEXDIGEST[0], "int"),
        "ValueError: name: " + rules.HEXDIGEST[0][4],
        "ValueError: variant: " + rules.CRC32[0][4],
        "ok",
        value("keys", row["keys"][4] + ", got 5"),
        "TypeError: keys: expected %s, got int" % rules.EXPECTED[rules.BUF],
        value("keys", rules.KEY_BYTES + ", got 31 bytes"),
        typed(row["keys"], "bytes"),
    ]


RECORDS = """
import json, qsota.pure, _qsota
from qsota import protocols, rules
out = []
for p in protocols.PROTOCOLS:
    table = getattr(rules, p.name.upper())
    default = [row[5] for row in table if row[0] == p.reply][0]
    classes = [hasattr(b, p.cls) for b in (_qsota, qsota.pure)]
    out.append([p.name, p.reply_ms, default, classes])
print(json.dumps(out))
"""


def test_each_protocol_record_agrees_with_the_rules_table_and_the_backends(mp):
    """A record's reply timeout is its table's default for that option (native's is 0,
    adaptive, which the driver counts as 1 s), and both backends have its class."""
    got = mp.json(RECORDS, None)
    assert [r[0] for r in got] == ["ymodem", "native", "stm32", "mcuboot"]
    for name, reply_ms, default, classes in got:
        assert reply_ms == (default or 1000), name
        assert classes == [True, True], name
