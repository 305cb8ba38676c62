"""Writes cmodule/rules.h, the C module's copy of python/qsota/rules.py (the senders'
arguments and their checks) and of the delta faults' texts of python/qsota/codes.py, to
stdout or, with --write, to the file.
tests/test_rules.py checks that the committed header is what this writes.

    python3 scripts/rules_h.py --write
"""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = ROOT / "cmodule" / "rules.h"

# Per class: its table in qsota.rules, the prefix of its names here, its C ABI options struct
# (None: its arguments go to the core one by one).
CLASSES = (
    ("YmodemSender", "YMODEM", "ymodem", "qsota_ymodem_options_t"),
    ("NativeSender", "NATIVE", "native", "qsota_native_options_t"),
    ("Stm32Sender", "STM32", "stm32", "qsota_stm32_options_t"),
    ("McubootSender", "MCUBOOT", "mcuboot", "qsota_mcuboot_options_t"),
    ("Verifier", "VERIFIER", "verifier", None),
    ("DeltaPackage", "DELTA", "delta", None),
)
# Methods (and the module's function tlv_hash): the name, its table in qsota.rules. Every
# sender has the first three.
METHODS = (
    ("poll", "POLL"), ("receive", "RECEIVE"), ("provide", "PROVIDE"),
    ("update", "UPDATE"), ("hexdigest", "HEXDIGEST"), ("crc32", "CRC32"), ("restore", "RESTORE"),
    ("tlv_hash", "TLV_HASH"), ("push", "PUSH"),
)
# Texts of qsota.rules that a kind adds to its messages.
TEXTS = (
    "NON_HEX", "NOT_A_NUMBER", "KEY_BYTES", "NOT_RESUMABLE", "NOT_FRESH", "STATE_FINAL",
    "STATE_DAMAGED", "STATE_VERSION", "STATE_VARIANT",
)
KINDS = (
    "INT", "BOOL", "FLAG", "TEXT", "BUF", "TICKS", "WBUF", "RBUF", "HEX", "CRC", "NAME", "KEYS",
    "OBJ", "LEN", "GAP", "STEP", "NUL",
)


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / ("python/qsota/%s.py" % name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_rules():
    rules = _load("rules")
    for i, kind in enumerate(KINDS):
        assert getattr(rules, kind) == i, kind
    assert len(rules.EXPECTED) == rules.LEN
    return rules


def c_string(text):
    assert '"' not in text and "\\" not in text, text
    return '"%s"' % text


def c_default(default):
    """The default for mp_arg_parse_all of a parameter of a class without an options struct:
    a bool or an int as itself, else none (MP_OBJ_NULL: not given)."""
    if default is True or default is False:
        return "mp_const_true" if default else "mp_const_false"
    if isinstance(default, int):
        assert -(1 << 30) <= default < 1 << 30, default  # a small int on every port
        return "MP_OBJ_NEW_SMALL_INT(%d)" % default
    return "MP_OBJ_NULL"


def class_tables(rules, cls, table, prefix, options):
    rows = getattr(rules, table)
    params = [r for r in rows if r[1] < rules.LEN]
    names = [r[0] for r in params]
    assert len(set(names)) == len(names), cls
    out = ["// %s: qsota.rules.%s." % (cls, table)]
    out.append("enum {")
    out += ["    QSOTA_%s_%s," % (table, n) for n in names]
    out.append("};")
    out.append("static const mp_arg_t qsota_%s_params[] = {" % prefix)
    keyword_only = False
    for name, kind, _, _, _, default in params:
        flags = "MP_ARG_REQUIRED | MP_ARG_OBJ" if default is rules.REQUIRED else "MP_ARG_OBJ"
        keyword_only |= kind == rules.KEYS
        if keyword_only:
            flags += " | MP_ARG_KW_ONLY"
        value = c_default(default) if options is None else "MP_OBJ_NULL"
        out.append("    { MP_QSTR_%s, %s, { .u_obj = %s } }," % (name, flags, value))
    out.append("};")
    out.append("static const qsota_rule_t qsota_%s_checks[] = {" % prefix)
    taken, fields = set(), []
    for name, kind, lo, hi, message, default in rows:
        # A check row follows its parameter's row; a STEP divides by lo.
        assert kind < rules.LEN or name in taken, (cls, name)
        assert kind != rules.STEP or lo > 0, (cls, name)
        taken.add(name)
        field = "QSOTA_NO_FIELD"
        optional = kind in (rules.INT, rules.BOOL, rules.FLAG) and default is not rules.REQUIRED
        if options is not None and optional:
            field = "offsetof(%s, %s)" % (options, name)
            fields.append(name)
        elif options is not None and kind < rules.LEN:
            # Not in the options struct: required, or text whose default is empty.
            assert default is rules.REQUIRED or default == b"", (cls, name)
        out.append(
            "    { MP_QSTR_%s, %d, QSOTA_RULE_%s, %s, %#x, %#x, %s },"
            % (name, names.index(name), KINDS[kind], field, lo, hi, c_string(message))
        )
    out.append("};")
    # qsota_parse_rules writes a taken value as 4 bytes: every field it writes is uint32_t.
    for name in fields:
        out.append(
            "typedef char qsota_%s_%s_is_u32[sizeof(((%s *)0)->%s) == 4 ? 1 : -1];"
            % (prefix, name, options, name)
        )
    if options is not None:  # for qsota_parse_rules
        out.append(
            "static const qsota_rules_t qsota_%s_rules = {\n    qsota_%s_params, %d, qsota_%s_checks, %d\n};"
            % (prefix, prefix, len(params), prefix, len(rows))
        )
    return out, len(params)


def method_table(rules, method, table):
    """A method's rows, which sender.c reads by index (QSOTA_<TABLE>_<name>)."""
    rows = getattr(rules, table)
    out = ["// %s(): qsota.rules.%s." % (method, table), "enum {"]
    out += ["    QSOTA_%s_%s," % (table, r[0]) for r in rows]
    out += ["};", "static const qsota_rule_t qsota_%s_checks[] = {" % method]
    for i, (name, kind, lo, hi, message, _) in enumerate(rows):
        out.append(
            "    { MP_QSTR_%s, %d, QSOTA_RULE_%s, QSOTA_NO_FIELD, %#x, %#x, %s },"
            % (name, i, KINDS[kind], lo, hi, c_string(message))
        )
    return out + ["};"]


def header():
    rules = load_rules()
    out = [
        "// Generated by scripts/rules_h.py from python/qsota/rules.py: do not edit.",
        "// The senders' arguments and their checks: the constructors' for qsota_parse_rules",
        "// (args.c), each sender's C file reading its own tables; the methods' for sender.c.",
        "#ifndef QSOTA_RULES_H",
        "#define QSOTA_RULES_H",
        "",
        "#include <stddef.h>",
        "",
        '#include "args.h"',
        "",
    ]
    out += ["#define QSOTA_%s %s" % (t, c_string(getattr(rules, t))) for t in TEXTS] + [""]
    out.append("// DeltaError's messages, by QSOTA_DELTA_* code - 1: qsota.codes.DELTA_FAULTS.")
    out.append("static const char *const qsota_delta_faults[] = {")
    faults = _load("codes").DELTA_FAULTS
    out += ["    %s," % c_string("%s: %s" % item) for item in faults.items()]
    out += ["};", ""]
    out.append("// What a TypeError says each QSOTA_RULE_* kind expects: qsota.rules.EXPECTED.")
    out.append("static const char *const qsota_expected[] = {")
    out += ["    %s," % c_string(e) for e in rules.EXPECTED]
    out += ["};", ""]
    for method, table in METHODS:
        out += method_table(rules, method, table) + [""]
    most = 0
    for cls, table, prefix, options in CLASSES:
        lines, n = class_tables(rules, cls, table, prefix, options)
        most = max(most, n)
        out += lines + [""]
    out += [
        "// The most parameters of any class (qsota_parse_rules binds them on the stack).",
        "#define QSOTA_MAX_PARAMS %d" % most,
        "",
        "#endif // QSOTA_RULES_H",
    ]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    text = header()
    if sys.argv[1:] == ["--write"]:
        HEADER.write_text(text)
    else:
        sys.stdout.write(text)
