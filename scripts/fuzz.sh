#!/usr/bin/env bash
# Fuzzes YAML tree → policy decode → lint → plan (and the scenario reader) with libFuzzer and
# AddressSanitizer. A crash, a hang past -timeout or memory past -rss_limit_mb is a finding,
# written to .build-fuzz/findings/; make each one a regression test under
# Tests/UpdatePolicyTests/Fuzz/crashes/ (the test suite replays that folder and the seeds).
# Leak detection is off: LeakSanitizer reports the lazily initialised global tables (static
# lets) as leaks, once per process; there is no per-input allocation it could find.
#   scripts/fuzz.sh [SECONDS] [JOBS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${1:-600}
jobs=${2:-1}
scratch=.build-fuzz
swift build -c release --scratch-path "$scratch" --product updatectl-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING >/dev/null
bin=$(swift build -c release --scratch-path "$scratch" --show-bin-path)/updatectl-fuzz

corpus=$scratch/corpus
mkdir -p "$corpus" "$scratch/findings"
# Seeds: the hazards, every shipped policy, example and fixture.
cp Tests/UpdatePolicyTests/Fuzz/seeds/* "$corpus"/ 2>/dev/null || true
for file in policies/*.yaml examples/*/*.yaml Tests/*/Fixtures/*.yaml Tests/*/Fixtures/*/*.yaml; do
    [ -f "$file" ] && cp "$file" "$corpus/seed-$(echo "$file" | tr '/' '_')"
done

ASAN_OPTIONS=detect_leaks=0 "$bin" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
    -jobs="$jobs" -workers="$jobs" -artifact_prefix="$scratch/findings/" -print_final_stats=1 -detect_leaks=0
