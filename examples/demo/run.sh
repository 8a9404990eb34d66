#!/usr/bin/env bash
# updatectl end to end on one machine, without root: a signing key, two tiny KubeSolo OS releases
# (kernel and initramfs, laid out and signed as KubeSolo OS publishes them) served from a local
# HTTP server on 127.0.0.1, and the directory backend in a temporary folder.
#   lint → plan → apply → reboot → healthcheck → success
#   then a bad release → apply → failing healthchecks → automatic rollback
# It cleans up after itself. Needs bash, python3 (the HTTP server) and openssl (signing); it
# installs what is missing (scripts/setup.sh). Progress goes to standard error, the transcript to
# standard output. UPDATECTL=/path/to/updatectl uses that binary; otherwise it builds one.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bash "$repo/scripts/setup.sh" demo
if [ -z "${UPDATECTL:-}" ]; then
    echo "demo: building updatectl with swift build (the first build takes a minute or two)..." >&2
    log=$(mktemp "${TMPDIR:-/tmp}/updatectl-demo-build.XXXXXX")
    if ! (cd "$repo" && swift build --product updatectl) >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        echo "demo: error: the build failed; its whole output is in $log" >&2
        exit 1
    fi
    rm -f "$log"
    UPDATECTL="$repo/.build/debug/updatectl"
    echo "demo: built $UPDATECTL" >&2
fi
# The demo works in a folder of its own: a relative path is made absolute first.
case "$UPDATECTL" in /*) ;; *) UPDATECTL="$PWD/$UPDATECTL" ;; esac

work=$(mktemp -d "${TMPDIR:-/tmp}/updatectl-demo.XXXXXX")
server_pid=""
cleanup() {
    # SIGKILL: a parent may have left SIGTERM ignored, and this server keeps nothing worth a clean exit.
    if [ -n "$server_pid" ]; then kill -KILL "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/srv"
cd "$work"

# The update server: a static HTTP server on a free port of 127.0.0.1.
python3 -u -c '
import http.server, socketserver, sys, os
os.chdir(sys.argv[1])
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args): pass
server = socketserver.TCPServer(("127.0.0.1", 0), Quiet)
open(sys.argv[2], "w").write(str(server.server_address[1]))
server.serve_forever()
' "$work/srv" "$work/port" &
server_pid=$!
for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port")

# This machine's architecture in Go's names, as releases name theirs.
case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64) arch=arm64 ;;
    *) arch=$(uname -m) ;;
esac

# Output without what changes from run to run: the folder, the port, free space, timings, ages.
tidy() {
    sed -e "s|$work|\$DEMO|g" -e "s|$repo|\$REPO|g" -e "s|127\.0\.0\.1:$port|127.0.0.1:PORT|g" \
        -e 's/free space [0-9.]* [KMGT]*i*B on/free space … on/' \
        -e '/^      downloaded /d' -e '/^note: round /d' \
        -e 's/([0-9]* rounds)/(… rounds)/' -e 's/passed after [0-9a-z]*/passed after …/' \
        -e 's/; released [0-9dhm ]* ago/; released … ago/' \
        -e "s/ $arch\([ ,]\)/ \$ARCH\1/g"
}
step() {
    echo
    echo "\$ updatectl $*" | tidy
    set +e
    "$UPDATECTL" "$@" 2>&1 | tidy
    local status=${PIPESTATUS[0]}
    set -e
    echo "[exit $status]"
}
say() { echo; echo "# $*"; }

# A release signing key (Ed25519), its public half as KubeSolo OS keeps it (64 hex characters),
# and a way to publish a release as KubeSolo OS does: latest.json naming vmlinuz and the initramfs
# with their SHA-256 and detached signatures (raw for the files, hex for the metadata).
openssl genpkey -algorithm ed25519 -out release.key 2>/dev/null
openssl pkey -in release.key -pubout -outform DER 2>/dev/null | tail -c 32 | od -An -v -tx1 | tr -d ' \n' > release.pub.hex
sign() { openssl pkeyutl -sign -inkey release.key -rawin -in "$1"; }
publish() { # VERSION CONTENT
    local dir="srv/$1"
    mkdir -p "$dir"
    head -c 2048 /dev/zero | tr '\0' 'k' > "$dir/vmlinuz"
    printf '%s\n' "$2" > "$dir/kubesolo-os.gz"
    truncate -s 4096 "$dir/kubesolo-os.gz"
    sign "$dir/vmlinuz" > "$dir/vmlinuz.sig"
    sign "$dir/kubesolo-os.gz" > "$dir/kubesolo-os.gz.sig"
    printf '{"version": "%s", "channel": "stable", "architecture": "%s",\n' "$1" "$arch" > srv/latest.json
    printf ' "vmlinuz_url": "%s/vmlinuz", "vmlinuz_sha256": "%s", "vmlinuz_sig_url": "%s/vmlinuz.sig",\n' \
        "$1" "$(sha256sum "$dir/vmlinuz" | cut -d' ' -f1)" "$1" >> srv/latest.json
    printf ' "initramfs_url": "%s/kubesolo-os.gz", "initramfs_sha256": "%s", "initramfs_sig_url": "%s/kubesolo-os.gz.sig",\n' \
        "$1" "$(sha256sum "$dir/kubesolo-os.gz" | cut -d' ' -f1)" "$1" >> srv/latest.json
    printf ' "metadata_sig_url": "latest.json.sig", "release_date": "2026-11-26T02:00:00Z"}\n' >> srv/latest.json
    sign srv/latest.json | od -An -v -tx1 | tr -d ' \n' > srv/latest.json.sig
}

# The policy: signed releases, no downgrades, and a probe that checks the booted image says
# "healthy" (a stand-in for the node's real health endpoints).
cat > policy.yaml <<POLICY
updates:
  server: http://127.0.0.1:$port
  pubkey: $work/release.pub.hex
  data_dir: $work/data
  preflight:
    - free_space: {headroom: 20%}
    - no_downgrade: true
  kube_system_settle: 0
  healthcheck:
    timeout: 3s
    interval: 1s
    probes:
      - exec:
          name: app
          command: [/bin/sh, -c, "grep -q healthy $work/slots/\$(cat $work/slots/booted)/kubesolo-os.gz"]
          timeout: 1s
      - disk_writable: {timeout: 1s}
  auto_rollback_after: 3
  reboot: auto
  backend: {type: directory, root: $work/slots, initial_version: 1.0.0}
POLICY

say "A good release, 1.1.0, is published."
publish 1.1.0 "build 1.1.0: healthy"
step lint policy.yaml
say "A real KubeSolo OS node's policy (GRUB slots by label) and update.conf lint the same way:"
step lint "$repo/policies/kubesolo.yaml" "$repo/examples/kubesolo/update.conf"
step plan policy.yaml
step apply policy.yaml
say "The directory backend rebooted into slot b; after the boot, verification:"
step healthcheck policy.yaml

say "A bad release, 1.2.0: it boots, but its app is broken."
publish 1.2.0 "build 1.2.0: broken"
step apply policy.yaml
say "Three verification runs fail; the third rolls back and reboots into the old slot."
step healthcheck policy.yaml
step healthcheck policy.yaml
step healthcheck policy.yaml
say "The node runs slot $(cat slots/booted) again, with version $(cat slots/$(cat slots/booted)/version)."
