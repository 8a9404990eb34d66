#!/usr/bin/env bash
# `updatectl apply` of a 1 GiB KubeSolo OS release (a 16 MiB vmlinuz and a 1008 MiB initramfs,
# signed as KubeSolo OS signs them) from a server on 127.0.0.1 into the directory backend, against,
# in the same run, on the same disk and from the same server:
#   - curl | tee FILE | sha256sum of the same bytes (download, write, hash: what apply must do),
#   - dd of 1 GiB with conv=fsync (the disk's own write speed),
# and a healthcheck round of 20 exec probes that each take 200 ms, against one such probe.
# Prints seconds, MiB/s, peak memory and the ratios. Uses the shipped binary (scripts/release.sh);
# BASELINE=PATH also times another updatectl binary (an older build) in the same rounds.
# Peak memory is given twice: the anonymous resident memory (heap, stacks: RssAnon + RssShmem of
# /proc/PID/status, sampled every 10 ms), and the peak resident size as getrusage counts it, which
# includes the page-cache pages of a file while it is mapped (file signatures are verified over a
# read-only mapping of the written file; those pages are the page cache's, not the process's).
# Not part of the test run; needs about 3 GiB free where TMPDIR points (default /var/tmp, a disk).
#   [BASELINE=PATH] scripts/bench-apply.sh [ROUNDS]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=${1:-3}
tarball=$(bash "$repo/scripts/release.sh" 2>/dev/null | tail -n 1)
work=$(mktemp -d "${TMPDIR:-/var/tmp}/updatectl-bench-apply.XXXXXX")
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
tar -xzf "$tarball" -C "$work" --strip-components=2 --wildcards '*/bin/updatectl'
updatectl="$work/updatectl"
cd "$work"

# Runs a command, prints "SECONDS PEAK_RSS_KIB PEAK_ANON_KIB" of it: getrusage's peak (children
# included; file pages of a mapping count) and the peak of the process's anonymous memory, sampled.
measure() {
    python3 - "$@" <<'PY'
import resource, subprocess, sys, time
def anon(pid):
    try:
        fields = dict(line.split(":", 1) for line in open("/proc/%d/status" % pid))
        return sum(int(fields[k].split()[0]) for k in ("RssAnon", "RssShmem") if k in fields)
    except (OSError, ValueError):
        return 0
start = time.monotonic()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
peak = 0
while child.poll() is None:
    peak = max(peak, anon(child.pid))
    time.sleep(0.01)
if child.returncode != 0:
    sys.exit("%s exited %d" % (sys.argv[1], child.returncode))
print("%.3f %d %d" % (time.monotonic() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, peak))
PY
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "bench-apply: making a 1 GiB release ($(uname -m), $(nproc) cores)" >&2
mkdir -p srv/1.1.0
openssl genpkey -algorithm ed25519 -out release.key 2>/dev/null
openssl pkey -in release.key -pubout -outform DER 2>/dev/null | tail -c 32 | od -An -v -tx1 | tr -d ' \n' > release.pub
head -c $((16 << 20)) /dev/urandom > srv/1.1.0/vmlinuz
head -c $((1008 << 20)) /dev/urandom > srv/1.1.0/kubesolo-os.gz
for file in vmlinuz kubesolo-os.gz; do openssl pkeyutl -sign -inkey release.key -rawin -in "srv/1.1.0/$file" -out "srv/1.1.0/$file.sig"; done
{
    printf '{"version": "1.1.0", "channel": "stable",\n'
    printf ' "vmlinuz_url": "1.1.0/vmlinuz", "vmlinuz_sha256": "%s", "vmlinuz_sig_url": "1.1.0/vmlinuz.sig",\n' \
        "$(sha256sum srv/1.1.0/vmlinuz | cut -d' ' -f1)"
    printf ' "initramfs_url": "1.1.0/kubesolo-os.gz", "initramfs_sha256": "%s", "initramfs_sig_url": "1.1.0/kubesolo-os.gz.sig"}\n' \
        "$(sha256sum srv/1.1.0/kubesolo-os.gz | cut -d' ' -f1)"
} > srv/latest.json
openssl pkeyutl -sign -inkey release.key -rawin -in srv/latest.json | od -An -v -tx1 | tr -d ' \n' > srv/latest.json.sig

python3 -u -c '
import http.server, os, sys
os.chdir(sys.argv[1])
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args): pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
open(sys.argv[2], "w").write(str(server.server_address[1]))
server.serve_forever()
' "$work/srv" "$work/port" &
server_pid=$!
for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.05; done
base="http://127.0.0.1:$(cat "$work/port")"

policy() { # DIR
    cat > "$1.yaml" <<POLICY
updates:
  server: $base
  pubkey: $work/release.pub
  data_dir: $work/$1/data
  kube_system_settle: 0
  reboot: manual
  backend: {type: directory, root: $work/$1/slots, initial_version: 1.0.0}
POLICY
}

echo "bench-apply: $rounds rounds" >&2
: > apply.txt; : > pipe.txt; : > dd.txt; : > baseline.txt
for round in $(seq 1 "$rounds"); do
    rm -rf "node" && policy node
    measure "$updatectl" apply node.yaml >> apply.txt
    if [ -n "${BASELINE:-}" ]; then
        rm -rf "node" && policy node
        measure "$BASELINE" apply node.yaml >> baseline.txt
    fi
    rm -f pipe.out && sync
    measure bash -c "curl -fsS $base/1.1.0/vmlinuz $base/1.1.0/kubesolo-os.gz | tee pipe.out | sha256sum && sync pipe.out" >> pipe.txt
    rm -f dd.out && sync
    measure dd if=/dev/zero of=dd.out bs=4M count=256 conv=fsync status=none >> dd.txt
done
apply=$(cut -d' ' -f1 apply.txt | median); pipe=$(cut -d' ' -f1 pipe.txt | median); disk=$(cut -d' ' -f1 dd.txt | median)
rss=$(cut -d' ' -f2 apply.txt | sort -n | tail -n 1); anon=$(cut -d' ' -f3 apply.txt | sort -n | tail -n 1)
if [ -s baseline.txt ]; then
    base_apply=$(cut -d' ' -f1 baseline.txt | median); base_anon=$(cut -d' ' -f3 baseline.txt | sort -n | tail -n 1)
else
    base_apply=0; base_anon=0
fi

# A probe round: 20 probes of 200 ms each, against one.
probes() { # COUNT
    { echo "updates:"; echo "  server: $base"; echo "  kube_system_settle: 0"; echo "  data_dir: $work/probes-$1"
      echo "  backend: {type: directory, root: $work/probes-$1/slots}"; echo "  healthcheck:"; echo "    probes:"
      for i in $(seq 1 "$1"); do echo "      - exec: {name: p$i, command: [/bin/sleep, '0.2'], timeout: 5s}"; done
    } > "probes-$1.yaml"
}
probes 1; probes 20
: > one.txt; : > twenty.txt
for round in $(seq 1 "$rounds"); do
    measure "$updatectl" healthcheck probes-1.yaml >> one.txt
    measure "$updatectl" healthcheck probes-20.yaml >> twenty.txt
done
one=$(cut -d' ' -f1 one.txt | median); twenty=$(cut -d' ' -f1 twenty.txt | median)

python3 - "$apply" "$pipe" "$disk" "$rss" "$anon" "$one" "$twenty" "$base_apply" "$base_anon" <<'PY'
import sys
apply, pipe, disk, rss, anon, one, twenty, base_apply, base_anon = map(float, sys.argv[1:])
mib = 1024
print("1 GiB release (medians):")
print("  updatectl apply               %6.2f s  %6.0f MiB/s  peak anonymous RSS %.1f MiB (peak RSS with mapped file pages %.1f MiB)"
      % (apply, mib / apply, anon / 1024, rss / 1024))
if base_apply:
    print("  BASELINE apply                %6.2f s  %6.0f MiB/s  peak anonymous RSS %.1f MiB; %.2fx the pipeline"
          % (base_apply, mib / base_apply, base_anon / 1024, base_apply / pipe))
print("  curl | tee | sha256sum, sync  %6.2f s  %6.0f MiB/s" % (pipe, mib / pipe))
print("  dd conv=fsync (the disk)      %6.2f s  %6.0f MiB/s" % (disk, mib / disk))
print("  apply / pipeline %.2fx, apply / disk %.2fx" % (apply / pipe, apply / disk))
print("healthcheck round: 1 probe of 200 ms %.2f s, 20 probes of 200 ms %.2f s (%.2fx)" % (one, twenty, twenty / one))
PY
