#!/usr/bin/env bash
# What the node binary (scripts/release.sh's) is made of: relinks it with a linker map and prints
# the bytes each library, Swift module and linker table adds to what `strip` keeps, largest
# first. docs/performance.md records a run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/release-build.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/updatectl-size.XXXXXX")
trap 'rm -rf "$work"' EXIT
RELEASE_LINK_MAP="$work/updatectl.map" build_updatectl node "$work/updatectl"
echo "stripped binary: $(stat -c %s "$work/updatectl") bytes"
python3 scripts/size-breakdown.py "$work/updatectl.map"
