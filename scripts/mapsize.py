"""What an image keeps from some input files, read from a GNU ld map file.

    python3 scripts/mapsize.py MAP PATTERN

sums the input sections the linker kept from files whose name contains PATTERN and prints
`text=N data=N bss=N code=N rodata=N crc_tables=N`: text = code + rodata (what takes flash);
crc_tables counts read-only sections of at least 16 KB (a slice-by-16 CRC-32 table is
16 x 256 x 4 bytes; nothing else in the core comes near that size).
"""

import re
import sys

CODE = re.compile(r"\.(text|ARM\.exidx|ARM\.extab|glue_7)")
# An input section: ` .name 0xADDR 0xSIZE file` on one line, or the name alone on its line
# and `  0xADDR 0xSIZE file` on the next (long names).
ONE_LINE = re.compile(r"^ (\S+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+(.+)$")
NAME_ONLY = re.compile(r"^ ([^ *]\S*)\s*$")
CONTINUED = re.compile(r"^\s{2,}0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+(.+)$")


def mapsize(lines, pattern):
    sums = dict(code=0, rodata=0, data=0, bss=0, tables=0)
    on = False
    section = None
    for line in lines:
        line = line.rstrip("\n")
        if line.startswith("Linker script and memory map"):
            on = True
            continue
        if not on:
            continue
        m = ONE_LINE.match(line)
        if m:
            section, size, file = m.group(1), m.group(2), m.group(3)
        elif NAME_ONLY.match(line):
            section = NAME_ONLY.match(line).group(1)
            continue
        else:
            m = CONTINUED.match(line)
            if not m or section is None:
                continue
            size, file = m.group(1), m.group(2)
        file = file.split()[-1]
        if pattern not in file:
            continue
        size = int(size, 16)
        if CODE.match(section):
            sums["code"] += size
        elif section.startswith(".rodata"):
            sums["rodata"] += size
            if size >= 16384:
                sums["tables"] += size
        elif section.startswith(".data"):
            sums["data"] += size
        elif section.startswith(".bss") or section.startswith("COMMON"):
            sums["bss"] += size
    return "text=%d data=%d bss=%d code=%d rodata=%d crc_tables=%d" % (
        sums["code"] + sums["rodata"], sums["data"], sums["bss"], sums["code"],
        sums["rodata"], sums["tables"])


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        print(mapsize(f, sys.argv[2]))
