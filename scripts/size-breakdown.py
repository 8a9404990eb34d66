#!/usr/bin/env python3
"""What a linked binary is made of, from the linker's map file (-Xlinker -Map=FILE): the bytes
each library, Swift module or linker-made table adds to the sections that stay after `strip`
(debug info and the symbol table are left out). Used by scripts/size-breakdown.sh."""
import collections
import re
import sys

DROPPED_BY_STRIP = (".debug", ".comment", ".symtab", ".strtab", ".shstrtab", ".note.gnu.build-id")


def owner(path):
    module = re.search(r"/([^/]+)\.build/", path)  # a SwiftPM target's object
    if module:
        return module.group(1)
    archive = re.search(r"([^/]+\.a)\(", path)  # a member of a static library (gold: lib.a(member))
    if archive:
        return archive.group(1)
    return path.rsplit("/", 1)[-1]


LLD_LINE = re.compile(r"^\s*[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+ ( *)(\S.*)$")


def breakdown_lld(lines):
    """lld's map: VMA LMA Size Align, then the output section, input sections (8 spaces
    further in, FILE:(SECTION)) and symbols (16 spaces further in)."""
    sizes = collections.Counter()
    section = None
    for line in lines:
        match = LLD_LINE.match(line)
        if not match:
            continue
        size, indent, text = int(match.group(1), 16), len(match.group(2)), match.group(3)
        if indent == 0:
            section = text.split()[0]
        elif indent == 8 and section and not section.startswith(DROPPED_BY_STRIP):
            path = text.rsplit(":(", 1)[0]
            sizes["(linker: %s)" % section if path == "<internal>" else owner(path + "(")] += size
    return sizes


def breakdown(lines):
    sizes = collections.Counter()
    section = None
    pending = None  # an input section whose address and size are on the next line
    in_map = False
    for line in lines:
        if line.startswith(("Memory map", "Linker script and memory map")):
            in_map = True
            continue
        if not in_map or not line.strip():
            continue
        if not line.startswith(" "):
            section = line.split()[0]
            pending = None
            continue
        kept = section is not None and not section.startswith(DROPPED_BY_STRIP)
        words = line.split()
        numbers = [w for w in words if w.startswith("0x")]
        if pending is not None:
            if len(numbers) >= 2 and words[0].startswith("0x"):
                if kept:
                    sizes[pending if pending.startswith("(") else owner(" ".join(words[2:]))] += int(words[1], 16)
            pending = None
            continue
        if words[0] == "**":  # made by the linker: string tables, relocations, PLT
            name = "(linker: %s)" % section
            if len(numbers) >= 2:
                if kept:
                    sizes[name] += int(numbers[1], 16)
            else:
                pending = name
        elif words[0].startswith("."):
            if len(words) >= 4 and words[1].startswith("0x") and words[2].startswith("0x"):
                if kept:
                    sizes[owner(" ".join(words[3:]))] += int(words[2], 16)
            elif len(words) == 1:
                pending = words[0]
    return sizes


def main():
    lines = open(sys.argv[1], errors="replace").readlines()
    sizes = breakdown_lld(lines) if lines and lines[0].split()[:3] == ["VMA", "LMA", "Size"] else breakdown(lines)
    total = sum(sizes.values())
    print("%10s  %6s  %s" % ("bytes", "share", "part"))
    for name, size in sizes.most_common():
        if size * 1000 < total:
            continue
        print("%10d  %5.1f%%  %s" % (size, 100.0 * size / total, name))
    small = sum(s for s in sizes.values() if s * 1000 < total)
    print("%10d  %5.1f%%  (each under 0.1%%)" % (small, 100.0 * small / total))
    print("%10d  100.0%%  total of the sections strip keeps" % total)


if __name__ == "__main__":
    main()
