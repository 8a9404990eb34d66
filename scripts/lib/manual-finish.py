"""Finishes the man page swift-argument-parser's generate-manual writes for updatectl: a
discussion's blank lines become paragraph breaks (mdoc has no blank lines; none is left right
before a list item, where mandoc skips it), the exit-status table
each discussion ends with is left out there, and the page's EXIT STATUS section lists updatectl's
own codes (from the table `updatectl --help` prints) instead of the generic `.Ex -std`.
    python3 manual-finish.py PAGE UPDATECTL > FINISHED"""
import subprocess
import sys

page, updatectl = sys.argv[1], sys.argv[2]
help_text = subprocess.run([updatectl, "--help"], check=True, capture_output=True, text=True).stdout
codes = []
in_table = False
for line in help_text.splitlines():
    if line == "EXIT STATUS:":
        in_table = True
    elif in_table and line.startswith("  ") and line.strip():
        code, meaning = line.strip().split(None, 1)
        codes.append((code, meaning))
    elif in_table:
        break
if not codes:
    sys.exit("manual-finish: `updatectl --help` printed no EXIT STATUS table")

out = []
skipping = False
for line in open(page, encoding="utf-8").read().splitlines():
    if line == "EXIT STATUS:":
        skipping = True
        continue
    if skipping:
        if line.startswith("  ") or not line:
            continue
        skipping = False
    if line == ".Ex -std":
        out.append(".Bl -tag -width 3n")
        for code, meaning in codes:
            out += [".It " + code, meaning]
        out.append(".El")
        continue
    out.append(line)

finished = []
for index, line in enumerate(out):
    if line:
        finished.append(line)
        continue
    following = next((later for later in out[index + 1:] if later), "")
    if finished and not finished[-1].startswith(".") and not following.startswith("."):
        finished.append(".Pp")
# A paragraph break right before a list item or a list's start or end is one mandoc skips anyway.
finished = [line for index, line in enumerate(finished)
            if not (line == ".Pp" and index + 1 < len(finished) and finished[index + 1].split(" ")[0] in (".It", ".Bl", ".El", ".Sh"))]
sys.stdout.write("\n".join(finished) + "\n")
