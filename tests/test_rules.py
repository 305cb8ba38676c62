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


def test_the_delta_applier_binds_and_refuses_by_the_table(mp):
    """_qsota.DeltaPackage and qsota.pure.delta.Package take qsota.rules.DELTA's parameters
    with its defaults and refuse with its words; push refuses with PUSH's, and takes -1 (an
    int, not -1.0) as "all" and "no bound"."""
    rules = _rules()
    row = {r[0]: r for r in rules.DELTA + rules.PUSH}
    code = """
import io, json
from qsota.delta import _package_class
Package = _package_class()
out = []
def call(f, *args, **kw):
    try:
        f(*args, **kw)
        out.append("ok")
    except Exception as e:
        out.append("%s: %s" % (type(e).__name__, e))
new = lambda *a, **kw: Package(io.BytesIO(), *a, **kw)
call(new, 0, None, limit=-1)
call(new, 0, None, window=1.5)
call(new, 1 << 30, None)
call(new, 0, None, bogus=1)
call(new, 0)
p = new(0, None)
call(p.push, "x")
call(p.push, b"", -1.0)
call(p.push, b"12", 3)
call(p.push, b"", -1, -2)
call(p.push, b"", -1, -1)
print(json.dumps(out))
"""

    def value(name):
        return "ValueError: %s: %s" % (name, row[name][4])

    def typed(name, got):
        return "TypeError: %s: expected %s, got %s" % (name, rules.EXPECTED[row[name][1]], got)

    assert mp.both(code) == [
        value("limit"), typed("window", "float"), value("base_size"),
        "TypeError: unexpected keyword argument 'bogus'", "TypeError: 'out' argument required",
        typed("data", "str"), typed("n", "float"), value("n"), value("room"), "ok",
    ]
    assert row["window"][5] == 1 << 15 and row["limit"][5] == row["limit"][3]


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


# How each sender's qsota_*_init is called: the C ABI names, and the call with `o` (the
# options) and the values of the parameters that are no options field (`size`, and the
# length of a TEXT parameter as `<name>_len`; `text` is 300 bytes of "a").
INITS = {
    "YMODEM": ("ymodem", "qsota_ymodem_init(&s.ymodem, text, name_len, size, &o)"),
    "NATIVE": ("native", "qsota_native_tx_init(&s.native, size, sha, text, component_len, "
               "text, version_len, &o)"),
    "STM32": ("stm32", "qsota_stm32_init(&s.stm32, (uint32_t)size, &o)"),
    "MCUBOOT": ("mcuboot", "qsota_mcuboot_init(&s.mcuboot, size, sha, sha, &o)"),
}
# The values of the arguments that are no options field, as the calls above take them.
BASE = {"size": 100, "name_len": 5, "component_len": 0, "version_len": 0}
PROGRAM = """#include <inttypes.h>
#include <stdio.h>
#include "qsota.h"
int main(void) {
    static union { qsota_ymodem_t ymodem; qsota_native_tx_t native; qsota_stm32_t stm32;
                   qsota_mcuboot_t mcuboot; } s;
    static const uint8_t sha[32];
    static uint8_t text[300];
    for (int i = 0; i < 300; i++) text[i] = 'a';
%s
    return 0;
}
"""


def _range_cases(rules):
    """The C statements printing each options field's default, as (table, field, the table's
    default, statement); and for lo-1, lo, hi and hi+1 of every range row of the senders'
    tables (as far as the C type holds them), (table, parameter, value, whether the table
    accepts it, the statement printing the core's status)."""
    cases, defaults = [], []
    for table, (prefix, call) in INITS.items():
        rows = getattr(rules, table)
        options = "qsota_%s_options_t o; qsota_%s_options_default(&o);" % (prefix, prefix)
        for r in rows:
            if r[1] in (rules.INT, rules.BOOL, rules.FLAG) and r[5] is not rules.REQUIRED:
                show = '{ %s printf("%%" PRIu32 "\\n", o.%s); }' % (options, r[0])
                defaults.append((table, r[0], int(r[5]), show))
        for r in rows:
            field = r[1] == rules.INT and r[5] is not rules.REQUIRED
            if r[1] == rules.INT:
                param = r[0]
            elif r[1] == rules.LEN and r[0] + "_len" in BASE:
                param = r[0] + "_len"
            else:
                continue
            top = 2**32 - 1 if field or table == "STM32" else 2**64 - 1
            checks = [c for c in rows if c[0] == r[0] and c[1] in (rules.GAP, rules.STEP)]
            for v in sorted({r[2] - 1, r[2], r[3], r[3] + 1}):
                if not 0 <= v <= top:
                    continue
                ok = r[2] <= v <= r[3] and all(
                    not c[2] < v < c[3] if c[1] == rules.GAP else v % c[2] == 0
                    for c in checks
                )
                args = dict(BASE)
                setup = options
                if field:
                    setup += " o.%s = %dU;" % (param, v)
                else:
                    args[param] = v
                setup += "".join(" uint64_t %s = %dULL;" % (k, a) for k, a in args.items()
                                 if k in call)
                stmt = '{ %s printf("%%d\\n", (int)%s); }' % (setup, call)
                cases.append((table, param, v, ok, stmt))
    return cases, defaults


def test_the_core_takes_exactly_the_tables_ranges(tmp_path):
    """Each sender's qsota_*_init, driven at lo-1, lo, hi and hi+1 of every range row of its
    table (as far as the C type holds them), accepts exactly what the table accepts, and
    each options field's default (qsota_*_options_default) is the table's: so `_qsota`,
    which checks by the table and then calls the core, and `qsota.pure` agree with it."""
    rules = _rules()
    cases, defaults = _range_cases(rules)
    body = "\n".join("    " + c[-1] for c in defaults + cases)
    src = tmp_path / "ranges.c"
    src.write_text(PROGRAM % body)
    exe = tmp_path / "ranges"
    subprocess.run(
        ["cc", "-std=c99", "-Wall", "-Werror", "-I", str(ROOT / "include"), str(src),
         str(ROOT / "target/release/libqsota.a"), "-o", str(exe)],
        check=True,
    )
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.split()
    assert len(out) == len(defaults) + len(cases)
    got = [(t, name, int(v)) for (t, name, _, _), v in zip(defaults, out)]
    assert got == [(t, name, want) for t, name, want, _ in defaults]
    wrong = [(t, p, v, ok, int(status)) for (t, p, v, ok, _), status
             in zip(cases, out[len(defaults):]) if (int(status) == 0) != ok]
    assert not wrong, wrong
    # Every table reached its ranges from both sides.
    assert {t for t, _, _, ok, _ in cases if not ok} == set(INITS)
