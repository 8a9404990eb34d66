#!/usr/bin/env bash
# updatectl apply over bad links, from a Python server on 127.0.0.1 that honours Range and
# If-Range (strong ETags) and can cut every answer after N bytes:
#   - a 64 MiB KubeSolo OS release over a link that drops every 1 MiB: how many runs, how many
#     bytes the server sent in all (against the release's size), how long;
#   - the same release under download.max_rate 2MiB/s and 8MiB/s: the rate achieved against the cap.
# Uses the debug build (`swift build`). Not part of the test run.
#   scripts/bench-links.sh
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
swift build --package-path "$repo" --product updatectl >/dev/null
updatectl="$(swift build --package-path "$repo" --show-bin-path)/updatectl"
work=$(mktemp -d "${TMPDIR:-/var/tmp}/updatectl-bench-links.XXXXXX")
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
mkdir -p srv/1.1.0
head -c $((1 << 20)) /dev/urandom > srv/1.1.0/vmlinuz
head -c $((63 << 20)) /dev/urandom > srv/1.1.0/kubesolo-os.gz
printf '{"version":"1.1.0","vmlinuz_url":"1.1.0/vmlinuz","vmlinuz_sha256":"%s","initramfs_url":"1.1.0/kubesolo-os.gz","initramfs_sha256":"%s"}\n' \
    "$(sha256sum srv/1.1.0/vmlinuz | cut -d' ' -f1)" "$(sha256sum srv/1.1.0/kubesolo-os.gz | cut -d' ' -f1)" > srv/latest.json

cat > server.py <<'PY'
import http.server, os, sys, threading
root, drop = sys.argv[1], int(sys.argv[2])
sent = 0
lock = threading.Lock()
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def do_HEAD(self): self.answer(False)
    def do_GET(self): self.answer(True)
    def answer(self, body):
        global sent
        if self.path == "/sent":
            data = str(sent).encode()
            self.send_response(200); self.send_header("Content-Length", str(len(data))); self.end_headers()
            self.wfile.write(data); return
        path = os.path.join(root, self.path.lstrip("/"))
        if not os.path.isfile(path):
            self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers(); return
        size = os.path.getsize(path)
        etag = '"%x-%x"' % (size, int(os.path.getmtime(path)))
        start, status = 0, 200
        rng, if_range = self.headers.get("Range"), self.headers.get("If-Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-") and (if_range is None or if_range == etag):
            start, status = int(rng[6:-1]), 206
        self.send_response(status)
        self.send_header("ETag", etag)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(size - start))
        if status == 206: self.send_header("Content-Range", "bytes %d-%d/%d" % (start, size - 1, size))
        self.send_header("Connection", "close")
        self.end_headers()
        if not body: return
        limit = min(size - start, drop) if drop > 0 else size - start
        with open(path, "rb") as f:
            f.seek(start)
            left = limit
            while left > 0:
                chunk = f.read(min(left, 65536))
                self.wfile.write(chunk)
                left -= len(chunk)
        with lock: sent += limit
        self.close_connection = True
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[3])), Handler).serve_forever()
PY

port=$((20000 + RANDOM % 20000))
start_server() {
    if [ -n "$server_pid" ]; then kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; fi
    python3 server.py "$work/srv" "$1" "$port" & server_pid=$!
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/sent" && return; sleep 0.1; done
}
policy() {
    rm -rf node
    cat > policy.yaml <<YAML
updates:
  server: http://127.0.0.1:$port
  data_dir: $work/node/data
  reboot: manual
  download: {$1}
  backend: {type: directory, root: $work/node/slots, initial_version: 1.0.0}
YAML
}
size=$(( (1 << 20) + (63 << 20) ))

echo "== 64 MiB release, the link drops every 1 MiB"
start_server $((1 << 20))
policy "retries: 8"
runs=0
begin=$(date +%s.%N)
until "$updatectl" apply policy.yaml > apply.log 2>&1; do
    runs=$((runs + 1))
    [ "$runs" -lt 20 ] || { tail -3 apply.log; echo "gave up after 20 runs"; exit 1; }
done
runs=$((runs + 1))
end=$(date +%s.%N)
sent=$(curl -s "http://127.0.0.1:$port/sent")
python3 - "$runs" "$sent" "$size" "$begin" "$end" "$(grep -c 'trying again' apply.log || true)" <<'PY'
import sys
runs, sent, size, begin, end, retries = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
print(f"  runs: {runs}; tries retried within the run: {retries}; bytes sent {sent} for a release of {size} ({sent / size:.3f}x); {end - begin:.1f} s")
PY

for cap in 2MiB/s 8MiB/s; do
    echo "== 64 MiB release, download.max_rate $cap"
    start_server 0
    policy "max_rate: $cap"
    begin=$(date +%s.%N)
    "$updatectl" apply policy.yaml > apply.log 2>&1
    end=$(date +%s.%N)
    python3 - "$cap" "$size" "$begin" "$end" <<'PY'
import sys
cap = int(sys.argv[1].split("MiB")[0]) << 20
size, seconds = int(sys.argv[2]), float(sys.argv[4]) - float(sys.argv[3])
rate = size / seconds
print(f"  {seconds:.1f} s, {rate / (1 << 20):.2f} MiB/s = {rate / cap:.3f}x the cap")
PY
done
