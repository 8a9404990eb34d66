#!/usr/bin/env bash
# Installs what updatectl's build, demo or tests need and this machine lacks, as listed in
# scripts/requirements.txt: Debian packages with apt-get, Python packages with pip.
#   scripts/setup.sh build|release|demo|test   (a group includes the ones listed before it)
#   scripts/setup.sh --check GROUP       only say what is missing; exit 1 when something is
# Prints nothing when everything is present. Installing needs root, or sudo without a password.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
check_only=""
if [ "${1:-}" = "--check" ]; then check_only=1; shift; fi
want=${1:?usage: setup.sh [--check] image|build|release|demo|test}
order=(image build release demo test)
case " ${order[*]} " in *" $want "*) ;; *) echo "setup.sh: unknown group '$want' (image, build, release, demo or test)" >&2; exit 2 ;; esac

present() { # KIND:WHAT
    local kind=${1%%:*} what=${1#*:}
    case $kind in
    command) command -v "$what" >/dev/null 2>&1 ;;
    pkgconfig) command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$what" ;;
    python) python3 -c "import $what" >/dev/null 2>&1 ;;
    file) [ -e "$what" ] ;;
    library) ldconfig -p 2>/dev/null | grep -q "[[:space:]]$what " ;;
    *) echo "setup.sh: unknown check '$1' in requirements.txt" >&2; return 2 ;;
    esac
}

apt_packages=()
pip_packages=()
missing=()
for group in "${order[@]}"; do
    while read -r line_group check source; do
        [ "$line_group" = "$group" ] || continue
        present "$check" && continue
        missing+=("${source#*:} (${check#*:})")
        case $source in
        apt:*) apt_packages+=("${source#apt:}") ;;
        pip:*) pip_packages+=("${source#pip:}") ;;
        image:*) echo "setup.sh: ${check#*:} is missing, and it should come with the machine image" >&2; exit 1 ;;
        *) echo "setup.sh: unknown source '$source' in requirements.txt" >&2; exit 2 ;;
        esac
    done < <(grep -vE '^[[:space:]]*(#|$)' "$here/requirements.txt")
    [ "$group" = "$want" ] && break
done

[ ${#missing[@]} -eq 0 ] && exit 0
if [ -n "$check_only" ]; then
    echo "missing for '$want': ${missing[*]}" >&2
    exit 1
fi

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
    else
        echo "setup.sh: installing needs root: run as root, or install by hand: $*" >&2
        return 1
    fi
}

log=$(mktemp "${TMPDIR:-/tmp}/updatectl-setup.XXXXXX")
quietly() { # runs a command with its output in $log, shown only when it fails
    if ! "$@" >>"$log" 2>&1; then
        tail -n 20 "$log" >&2
        echo "setup.sh: failed: $* (whole output in $log)" >&2
        return 1
    fi
}
if [ ${#apt_packages[@]} -gt 0 ]; then
    echo "setup: installing with apt-get: ${apt_packages[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    quietly as_root apt-get update -qq
    quietly as_root apt-get install -y -qq --no-install-recommends "${apt_packages[@]}"
fi
if [ ${#pip_packages[@]} -gt 0 ]; then
    echo "setup: installing with pip: ${pip_packages[*]}" >&2
    # A Debian-managed python3 refuses plain installs (PEP 668); then install beside it.
    quietly python3 -m pip install --quiet "${pip_packages[@]}" ||
        quietly python3 -m pip install --quiet --break-system-packages "${pip_packages[@]}"
fi
rm -f "$log"
# Say plainly if an install did not bring what the check looks for.
exec bash "$here/setup.sh" --check "$want"
