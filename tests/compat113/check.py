"""Compiles the _qsota glue (cmodule/*.c) against MicroPython 1.13's API, as the legacy
QuecPython tree (ports/quectel, MicroPython 1.13) builds a user C module:

1. qstrs: each file is preprocessed with NO_QSTR and every MP_QSTR_ name in the output is
   collected into genhdr/qstrdefs.generated.h (1.13's makeqstrdefs.py does the same);
2. module registration: the source is scanned with 1.13's py/makemoduledefs.py pattern (a
   regex over the raw text, not the preprocessor), which must find `_qsota` exactly once with
   three arguments, and the table entry it would generate must compile;
3. every file compiles with 1.13's warning flags as errors, for each compiler given.

The API is tests/compat113/py/, a shim of 1.13's headers (README.md there says what it is).

    python3 tests/compat113/check.py OUTDIR CC [CFLAGS...] [-- CC [CFLAGS...]]...
"""

import glob
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SOURCES = sorted(glob.glob(os.path.join(ROOT, "cmodule", "*.c")))
INCLUDES = ["-I" + HERE, "-I" + os.path.join(ROOT, "include"), "-I" + os.path.join(ROOT, "cmodule")]
# legacy QuecPython's ports/quectel/core/Makefile: CWARN, -std=gnu99
WARNINGS = ["-std=gnu99", "-Wall", "-Werror", "-Wpointer-arith", "-Wuninitialized"]
# py/makemoduledefs.py of 1.13 (same pattern in the legacy QuecPython tree)
REGISTER = re.compile(r"[\n;]\s*MP_REGISTER_MODULE\((.*?),\s*(.*?),\s*(.*?)\);", flags=re.DOTALL)


def run(cmd):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode:
        sys.exit("compat113: failed: %s\n%s" % (" ".join(cmd), proc.stdout))
    return proc.stdout


def write_qstrs(out, cc):
    names = set()
    for src in SOURCES:
        text = run(cc + ["-E", "-DNO_QSTR"] + INCLUDES + ["-I" + out, src])
        names.update(re.findall(r"\bMP_QSTR_(\w+)", text))
    os.makedirs(os.path.join(out, "genhdr"), exist_ok=True)
    with open(os.path.join(out, "genhdr", "qstrdefs.generated.h"), "w") as f:
        for name in sorted(names):
            f.write('QDEF(MP_QSTR_%s, (const byte *)"%s")\n' % (name, name))
    return names


def write_moduledefs(out):
    found = []
    for src in SOURCES:
        with open(src, encoding="utf-8") as f:
            found += REGISTER.findall(f.read())
    if [(m, o) for m, o, _ in found] != [("MP_QSTR__qsota", "qsota_module")]:
        sys.exit("compat113: 1.13's scanner finds %r, want one _qsota registration" % found)
    name, obj, enabled = found[0]
    path = os.path.join(out, "moduledefs.c")
    with open(path, "w") as f:
        # What 1.13's generated moduledefs.h puts into py/objmodule.c's table.
        f.write('#include "py/obj.h"\n#if (%s)\nextern const struct _mp_obj_module_t %s;\n' % (enabled, obj))
        f.write("const mp_rom_map_elem_t modules[] = {\n")
        f.write("    { MP_ROM_QSTR(%s), MP_ROM_PTR(&%s) },\n};\n#endif\n" % (name, obj))
    return path


def main(out, compilers):
    os.makedirs(out, exist_ok=True)
    write_qstrs(out, compilers[0])
    moduledefs = write_moduledefs(out)
    for cc in compilers:
        for src in SOURCES + [moduledefs]:
            obj = os.path.join(out, os.path.basename(src) + ".o")
            run(cc + WARNINGS + INCLUDES + ["-I" + out, "-c", src, "-o", obj])
        print("compat113: %d files compile against the 1.13 API with %s"
              % (len(SOURCES) + 1, " ".join(cc)))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    groups, group = [], []
    for arg in sys.argv[2:]:
        if arg == "--":
            groups.append(group)
            group = []
        else:
            group.append(arg)
    groups.append(group)
    main(sys.argv[1], [g for g in groups if g])
