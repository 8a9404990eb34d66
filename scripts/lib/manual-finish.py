"""Finishes the man page swift-argument-parser's generate-manual writes for updatectl: a
discussion's blank lines become paragraph breaks (mdoc has no blank lines; none is left right
before a list item, where mandoc skips it), the exit-status table
each discussion ends with is left out there, and the page's EXIT STATUS section lists updatectl's
own codes (from the table `updatectl --help` prints) instead of the generic `.Ex -std`. It adds
ENVIRONMENT and FILES (before EXIT STATUS) and SEE ALSO (after it), and writes text as mandoc
-Tlint wants it: each sentence on a line of its own, no line over 80 bytes.
    python3 manual-finish.py PAGE UPDATECTL > FINISHED"""
import re
import subprocess
import sys

# What updatectl reads from the environment (test switches, which only debug builds read, are
# left out) and the files it reads and writes by default; docs/policy-discovery.md, docs/state.md,
# docs/apply.md and docs/bootloaders.md say more.
ENVIRONMENT_AND_FILES = r""".Sh ENVIRONMENT
.Bl -tag -width Ds
.It Ev UPDATECTL_POLICY
The policy file a command uses when its command line names none: first in the search order, before /etc/updatectl/policy.yaml and cloud-init's user-data.
.It Ev https_proxy , http_proxy , no_proxy
The proxy for the update server, the registry and the fleet lock, and the hosts reached without it, when the policy sets no proxy (libcurl reads them).
.It Ev KUBECONFIG
The kubeconfig of the gates and probes that ask Kubernetes, when the policy names none; then /etc/rancher/k3s/k3s.yaml and /var/lib/kubesolo/pki/admin/admin.kubeconfig.
Commands that updatectl starts (exec gates and probes, backend commands) get PATH, LANG and only HOME, KUBECONFIG and TZ from its environment.
.It Ev TZDIR
The time zone database that maintenance windows and lint read (default /usr/share/zoneinfo).
.It Ev TMPDIR
Where simulate makes its scratch directory (an absolute path; default /tmp).
.It Ev GITHUB_ACTIONS , GITHUB_STEP_SUMMARY
For lint: with GITHUB_ACTIONS=true the default format is github, and the findings are appended to the file GITHUB_STEP_SUMMARY names.
.El
.Sh FILES
.Bl -tag -width Ds
.It Pa /etc/updatectl/policy.yaml
The policy, when the command line and UPDATECTL_POLICY name none.
.It Pa /var/lib/cloud/instance/user-data.txt
cloud-init's user-data, next in the search order: its updates: section is the policy.
.It Pa /etc/kubesolo/update.conf
KubeSolo OS's key=value settings, read under the YAML policy, or alone without one (--conf names another).
.It Pa /var/lib/kubesolo/update/state.json
The state file: where the update lifecycle is (data_dir/update/state.json with a policy; --state names another).
.It Pa /var/lib/kubesolo/update/state.json.lock
The lock every writer of the state takes.
.It Pa /var/lib/kubesolo/update/updatectl.json
Beside the state file: versions rolled back, interrupted attempts, the last activation, fleet slots held and the newest signed metadata accepted.
.It Pa /boot/grub/grubenv
GRUB's environment block on a KubeSolo OS node (active_slot, boot_counter, boot_success); the kubesolo backend's grubenv names another.
.It Pa /etc/kubesolo/update.pub
KubeSolo OS's release key (64 hex characters), as its pubkey setting and --pubkey name it; a policy names its key file in public_key, such as /etc/updatectl/release.pub.
.El
"""

SEE_ALSO = r""".Sh "SEE ALSO"
The documentation installed with updatectl, in share/doc/updatectl/docs/: policy.md (every policy key), lint.md and lint-rules.md, plan.md, simulate.md, apply.md, healthcheck.md, state.md, exit-codes.md, bootloaders.md, fleet.md and install.md.
"""

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

with_sections = []
for line in finished:
    if line == '.Sh "EXIT STATUS"':
        with_sections += ENVIRONMENT_AND_FILES.splitlines()
    elif line == ".Sh AUTHORS":
        with_sections += SEE_ALSO.splitlines()
    with_sections.append(line)
# NAME's one-line description ends without a full stop.
with_sections = [re.sub(r'\.("?)$', r"\1", line) if line.startswith(".Nd ") else line for line in with_sections]


def text_lines(line):
    """A text line as mandoc -Tlint wants it: a sentence per line, none over 80 bytes, and no
    line that would start with a control character."""
    out = []
    for sentence in re.split(r"(?<=[.!?])\s+", line):
        current = ""
        for word in sentence.split(" "):
            if current and len((current + " " + word).encode()) > 80:
                out.append(current)
                current = word
            else:
                current = current + " " + word if current else word
        out.append(current)
    return ["\\&" + part if part[:1] in (".", "'") else part for part in out if part]


page_lines = []
for line in with_sections:
    page_lines += [line] if line.startswith(".") or not line else text_lines(line)
sys.stdout.write("\n".join(page_lines) + "\n")
