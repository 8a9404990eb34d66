#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests start when it is missing
# (scripts/requirements.txt), checks the code's format (swift format lint), builds the release
# artifacts the release tests check
# (scripts/package-deb.sh, which runs scripts/release.sh; incremental after the first time),
# then `swift test` with any arguments given here.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh test
# The house style (.swift-format), by the toolchain's swift-format: any finding fails the run;
# `swift format format -i -r Sources Tests Package.swift` fixes what it can.
swift format lint --strict --parallel -r Sources Tests Package.swift
bash scripts/package-deb.sh >/dev/null
# Tells the suite that set-up ran, so that a test component that is still missing fails the run
# instead of quietly skipping the tests that need it.
export UPDATECTL_TEST_SETUP=1
exec swift test "$@"
