#!/usr/bin/env bash
# Times whole processes with hyperfine: `updatectl lint` on 1,000 cloud-init user-data files, on
# one policy with 20,000 probes and on a tiny policy, against a C program that only scans the same
# files with libyaml (the limit), and against yamllint + check-jsonschema with updatectl's schema
# (what a CI user would otherwise assemble). Prints the ratios. Then runs the in-process stage
# benchmark (updatectl-bench). Installs hyperfine (Debian) and the Python tools (a throwaway
# virtualenv) when missing. Not part of the test run.
#   scripts/bench-cli.sh [RUNS]
# BASELINE=/path/to/an/older/updatectl adds that build to the tiny-policy and huge-policy runs,
# so a change's effect on cold start is measured in the same run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-10}

command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
swift build -c release --product updatectl >/dev/null
swift build -c release --product updatectl-bench >/dev/null
bin=$(swift build -c release --show-bin-path)

work=$(mktemp -d "${TMPDIR:-/tmp}/updatectl-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$bin/updatectl-bench" generate "$work/corpus" >/dev/null

# The limit: a C program that parses every event with libyaml and does nothing else.
cat > "$work/scan.c" <<'C'
#include <stdio.h>
#include <yaml.h>
int main(int argc, char **argv) {
    long events = 0;
    for (int i = 1; i < argc; i++) {
        FILE *file = fopen(argv[i], "rb");
        if (!file) return 2;
        yaml_parser_t parser;
        yaml_event_t event;
        yaml_parser_initialize(&parser);
        yaml_parser_set_input_file(&parser, file);
        for (;;) {
            if (!yaml_parser_parse(&parser, &event)) return 1;
            int done = event.type == YAML_STREAM_END_EVENT;
            yaml_event_delete(&event);
            events++;
            if (done) break;
        }
        yaml_parser_delete(&parser);
        fclose(file);
    }
    printf("%ld\n", events);
    return 0;
}
C
cc -O2 -o "$work/scan" "$work/scan.c" $(pkg-config --cflags --libs yaml-0.1)

# The pipeline a CI user would otherwise assemble.
python3 -m venv "$work/venv" >/dev/null
"$work/venv/bin/pip" install --quiet yamllint check-jsonschema >/dev/null
"$bin/updatectl" schema > "$work/schema.json"
printf 'extends: relaxed\nrules: {line-length: disable, document-start: disable}\n' > "$work/yamllint.yaml"

files=("$work"/corpus/userdata/*.yaml)
hf() { hyperfine --style basic --warmup 2 -N "$@" 2>/dev/null; }

echo "== 1,000 user-data files ($(cat "${files[@]}" | wc -c) bytes), one process each"
hf --runs "$runs" --export-json "$work/files.json" \
    -n scan "$work/scan ${files[*]}" \
    -n updatectl "$bin/updatectl lint --format concise $work/corpus/userdata"
hyperfine --style basic --runs 3 --export-json "$work/python.json" -n "yamllint+check-jsonschema" \
    "$work/venv/bin/yamllint -c $work/yamllint.yaml -s $work/corpus/userdata && $work/venv/bin/check-jsonschema --schemafile $work/schema.json ${files[*]}" \
    2>/dev/null
echo "== huge policy (20,000 probes, $(wc -c < "$work/corpus/huge.yaml") bytes)"
baseline=()
[[ -n "${BASELINE:-}" ]] && baseline=(-n baseline "$BASELINE lint $work/corpus/huge.yaml")
hf --runs "$runs" --export-json "$work/huge.json" \
    -n scan "$work/scan $work/corpus/huge.yaml" \
    -n updatectl "$bin/updatectl lint $work/corpus/huge.yaml" "${baseline[@]}"
echo "== tiny policy, cold process"
[[ -n "${BASELINE:-}" ]] && baseline=(-n baseline "$BASELINE lint $work/corpus/tiny.yaml")
hf --runs 100 --export-json "$work/tiny.json" \
    -n scan "$work/scan $work/corpus/tiny.yaml" \
    -n version "$bin/updatectl --version" \
    -n updatectl "$bin/updatectl lint $work/corpus/tiny.yaml" "${baseline[@]}"

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
def median(name, label):
    for result in json.load(open(f"{work}/{name}.json"))["results"]:
        if result["command"] == label:
            return result["median"]
files_scan, files_lint = median("files", "scan"), median("files", "updatectl")
python = median("python", "yamllint+check-jsonschema")
huge_scan, huge_lint = median("huge", "scan"), median("huge", "updatectl")
tiny = median("tiny", "updatectl")
base_tiny, base_huge = median("tiny", "baseline"), median("huge", "baseline")
print()
print(f"lint 1,000 files / libyaml scan:       {files_lint / files_scan:6.2f}x  ({files_lint*1000:.1f} ms vs {files_scan*1000:.1f} ms)")
print(f"lint huge policy / libyaml scan:        {huge_lint / huge_scan:6.2f}x  ({huge_lint*1000:.1f} ms vs {huge_scan*1000:.1f} ms)")
print(f"yamllint+check-jsonschema / lint:       {python / files_lint:6.1f}x  ({python*1000:.0f} ms vs {files_lint*1000:.1f} ms)")
print(f"lint tiny policy, cold process, median: {tiny*1000:6.2f} ms")
if base_tiny:
    print(f"baseline build, tiny policy:            {base_tiny*1000:6.2f} ms  (this build / baseline: {tiny / base_tiny:.2f}x)")
    print(f"baseline build, huge policy:            {base_huge*1000:6.1f} ms  (this build / baseline: {huge_lint / base_huge:.2f}x)")
PY

echo
echo "== in-process stages (updatectl-bench)"
"$bin/updatectl-bench" run "$work/corpus" 15
"$bin/updatectl-bench" rss "$work/corpus"
