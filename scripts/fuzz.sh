#!/usr/bin/env bash
# Fuzzes with libFuzzer and AddressSanitizer, one of two targets:
#   policy  YAML tree → policy decode → lint → plan (and the scenario reader)
#   json    the JSON reader and what reads JSON from outside: the state file, release metadata
#           (a value that parses must survive its own writing; a state, its own file)
# A crash, a hang past -timeout or memory past -rss_limit_mb is a finding, written to
# .build-fuzz/findings-TARGET/; make each one a regression test under
# Tests/UpdatePolicyTests/Fuzz/crashes/ (json: Fuzz/json-crashes/); the test suite replays those
# folders and the seeds. Leak detection is off: LeakSanitizer reports the lazily initialised
# global tables (static lets) as leaks, once per process; there is no per-input allocation it
# could find.
#   scripts/fuzz.sh [SECONDS] [JOBS] [policy|json]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${1:-600}
jobs=${2:-1}
target=${3:-policy}
scratch=.build-fuzz
swift build -c release --scratch-path "$scratch" --product updatectl-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING >/dev/null
bin=$(swift build -c release --scratch-path "$scratch" --show-bin-path)/updatectl-fuzz

corpus=$scratch/corpus-$target
mkdir -p "$corpus" "$scratch/findings-$target"
case $target in
policy)
    # Seeds: the hazards, every shipped policy, example and fixture.
    cp Tests/UpdatePolicyTests/Fuzz/seeds/* "$corpus"/ 2>/dev/null || true
    for file in policies/*.yaml examples/*/*.yaml Tests/*/Fixtures/*.yaml Tests/*/Fixtures/*/*.yaml; do
        [ -f "$file" ] && cp "$file" "$corpus/seed-$(echo "$file" | tr '/' '_')"
    done
    max_len=262144
    ;;
json)
    # Seeds: state files of both agents, both metadata forms, the hazards; the Go agent's state
    # fixtures.
    cp Tests/UpdatePolicyTests/Fuzz/json-seeds/* "$corpus"/
    for file in Tests/*/Fixtures/*/*.json Tests/*/Fixtures/*/*/*.json; do
        [ -f "$file" ] && [ "$(stat -c %s "$file")" -le 65536 ] && cp "$file" "$corpus/seed-$(echo "$file" | tr '/' '_')"
    done
    max_len=65536
    ;;
*) echo "fuzz.sh: the target is policy or json, not $target" >&2; exit 2 ;;
esac

UPDATECTL_FUZZ_TARGET=$target ASAN_OPTIONS=detect_leaks=0 "$bin" "$corpus" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -max_len="$max_len" -jobs="$jobs" -workers="$jobs" -artifact_prefix="$scratch/findings-$target/" \
    -print_final_stats=1 -detect_leaks=0
