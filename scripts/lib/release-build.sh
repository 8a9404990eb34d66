# Sourced by scripts/release.sh, package-deb.sh and size-breakdown.sh: sets $repo (and works
# there), $dist (dist/, or UPDATECTL_DIST) and $scratch, installs what the release build needs
# when it is missing (scripts/setup.sh release), and defines the release build of updatectl with
# the Swift runtime linked in, stripped, and stamped with the commit:
#   build_updatectl node OUT DEBUG   libstdc++, libgcc's unwinder and libyaml linked in too: the
#                                    binary needs glibc 2.36 only (and libcurl, opened for HTTP)
#   build_updatectl debian OUT       libyaml, libstdc++ and libgcc_s from the system, as Debian
#                                    wants (no embedded copies); the package depends on them
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
bash scripts/setup.sh release
dist=${UPDATECTL_DIST:-$repo/dist}
scratch=$repo/.build-release

release_fail() { # LOG MESSAGE
    tail -n 30 "$1" >&2
    echo "release: error: $2; the whole output is in $1" >&2
    exit 1
}

build_updatectl() {
    local mode=$1 out=$2 debug=${3:-} log
    local -a flags=()
    log=$(mktemp "${TMPDIR:-/tmp}/updatectl-release.XXXXXX")
    if [ "$mode" = node ]; then
        # Static libraries in a folder the linker searches first: libstdc++, libyaml, and
        # libgcc_eh.a (what -static-libgcc uses) under the name -lgcc_s asks for. libyaml's own
        # .pc puts the system folder (with the shared library) first; this one puts ours.
        local static="$scratch/static-libs" clang
        clang=$(dirname "$(command -v swift)")/clang
        mkdir -p "$static/pkgconfig"
        link_static() { # NAME PATH
            [ -f "$2" ] || { echo "release: error: $2 is missing (from the C++ or libyaml development package)" >&2; exit 1; }
            ln -sfn "$2" "$static/$1"
        }
        link_static libstdc++.a "$("$clang" -print-file-name=libstdc++.a)"
        link_static libgcc_s.a "$("$clang" -print-file-name=libgcc_eh.a)"
        link_static libyaml.a "$(pkg-config --variable=libdir yaml-0.1)/libyaml.a"
        printf 'Name: LibYAML\nDescription: libyaml, linked statically\nVersion: %s\nCflags: %s\nLibs: -L%s -lyaml\n' \
            "$(pkg-config --modversion yaml-0.1)" "$(pkg-config --cflags yaml-0.1)" "$static" > "$static/pkgconfig/yaml-0.1.pc"
        # lld (the toolchain's) packs the relative relocations (DT_RELR, glibc 2.36: 1.2 MB less)
        # and the executable exports no symbols (the runtime looks none up in it: 1.4 MB less).
        flags=(-Xlinker -L"$static" -Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs
               -Xlinker --no-export-dynamic)
        # scripts/size-breakdown.sh asks for the linker's map.
        if [ -n "${RELEASE_LINK_MAP:-}" ]; then flags+=(-Xlinker -Map="$RELEASE_LINK_MAP"); fi
        export PKG_CONFIG_PATH="$static/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
    fi
    echo "release: swift build -c release --static-swift-stdlib, linked for $mode (the first build takes a few minutes)" >&2
    swift build -c release --static-swift-stdlib --product updatectl --scratch-path "$scratch" "${flags[@]}" >"$log" 2>&1 ||
        release_fail "$log" "the build failed"
    [ "$mode" = node ] && unset PKG_CONFIG_PATH
    rm -f "$log"
    local built="$scratch/release/updatectl"
    if [ -n "$debug" ]; then objcopy --only-keep-debug "$built" "$debug"; fi
    strip --strip-all -o "$out" "$built"
    if [ -n "$debug" ]; then objcopy --add-gnu-debuglink="$debug" "$out"; fi
    # SwiftPM links executables with RUNPATH $ORIGIN; a node's binary loads libraries from the
    # system's folders only.
    patchelf --remove-rpath "$out"
    # The commit, written after the marker in Sources/CSupport/csupport.c; "-dirty" when tracked
    # files differ from it.
    local commit
    commit=$(git -C "$repo" rev-parse HEAD 2>/dev/null || true)
    if [ -n "$commit" ] && [ -n "$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
        commit="$commit-dirty"
    fi
    python3 - "$out" "$commit" <<'PY'
import sys
path, commit = sys.argv[1], sys.argv[2].encode()
marker = b"updatectl-commit:" + bytes(47)
data = bytearray(open(path, "rb").read())
at = data.find(marker)
if at < 0 or data.find(marker, at + 1) >= 0 or len(commit) > 46:
    sys.exit("release: error: the commit marker is not in the binary exactly once")
data[at + 17:at + 17 + len(commit)] = commit
open(path, "wb").write(data)
PY
    chmod 0755 "$out"
}

# updatectl's version, as the binary says it.
updatectl_version() { "$1" --version | cut -d' ' -f1; }

# ARCH in Go's names, as KubeSolo OS releases and Debian name it.
release_arch() {
    case "$(uname -m)" in
        x86_64) echo amd64 ;;
        aarch64) echo arm64 ;;
        *) uname -m ;;
    esac
}

# The commit's time (reproducible archives), or now outside git.
release_epoch() { git -C "$repo" log -1 --format=%ct 2>/dev/null || date -u +%s; }

# SHA256SUMS of every other file in DIR.
write_sums() { (cd "$1" && find . -maxdepth 1 -type f ! -name SHA256SUMS | LC_ALL=C sort | sed 's|^\./||' | xargs -r sha256sum > SHA256SUMS); }

# swift-argument-parser's generate-manual (what its GenerateManual plugin builds and runs), built
# from the checkout the release build resolved, so the man page matches the library in the
# binary. Prints the tool's path.
build_manual_tool() {
    local package="$scratch/checkouts/swift-argument-parser" out="$scratch/manual-tool" log
    [ -f "$package/Package.swift" ] || { echo "release: error: no swift-argument-parser checkout in $scratch" >&2; exit 1; }
    log=$(mktemp "${TMPDIR:-/tmp}/updatectl-manual.XXXXXX")
    swift build -c release --package-path "$package" --product generate-manual --scratch-path "$out" >"$log" 2>&1 ||
        release_fail "$log" "building generate-manual failed"
    rm -f "$log"
    echo "$out/release/generate-manual"
}
