#!/usr/bin/env bash
# The release build for nodes: updatectl with the Swift runtime, libstdc++ and libyaml linked in
# (it needs glibc, and libcurl only when it speaks HTTP, opened at run time), stripped, stamped
# with the commit. Writes, in dist/:
#   updatectl-VERSION-linux-ARCH.tar.gz   bin/updatectl, the man page, bash/zsh/fish completions,
#                                         the systemd units, the shipped policies, the Prometheus
#                                         alerting rules and Grafana dashboard, the docs and a
#                                         SHA256SUMS of its files (share/doc/updatectl/); unpack it
#                                         into /usr/local (docs/install.md)
#   updatectl-VERSION-linux-ARCH.debug    the debug symbols the binary was stripped of
#   SHA256SUMS                            of everything in dist/ (scripts/package-deb.sh adds to it)
# Incremental: a second run rebuilds only what changed. UPDATECTL_DIST=DIR writes elsewhere.
# The last line printed is the tarball's path.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/release-build.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/updatectl-release.XXXXXX")
trap 'rm -rf "$work"' EXIT

build_updatectl node "$work/updatectl" "$work/updatectl.debug"
version=$(updatectl_version "$work/updatectl")
"$work/updatectl" --version >&2
epoch=$(release_epoch)

name="updatectl-$version-linux-$(release_arch)"
root="$work/$name"
doc="$root/share/doc/updatectl"
install -d "$root/bin" "$root/share/man/man1" "$root/share/bash-completion/completions" \
    "$root/share/zsh/site-functions" "$root/share/fish/vendor_completions.d" "$root/lib/systemd/system" \
    "$doc/policies" "$doc/docs" "$root/share/updatectl" "$root/share/updatectl/prometheus"
install -m 0755 "$work/updatectl" "$root/bin/updatectl"
# The man page, from the command definitions (the binary's --experimental-dump-help) by
# swift-argument-parser's generate-manual, the tool its GenerateManual plugin runs; dated with the
# commit; scripts/lib/manual-finish.py turns the discussions' blank lines into paragraphs and
# writes updatectl's exit codes into EXIT STATUS.
install -d "$work/man"
"$(build_manual_tool)" "$root/bin/updatectl" --date "$(date -u -d "@$epoch" +%Y-%m-%d)" \
    --authors "The updatectl authors" --output-directory "$work/man"
python3 scripts/lib/manual-finish.py "$work/man/updatectl.1" "$root/bin/updatectl" > "$root/share/man/man1/updatectl.1"
# Completion scripts, from swift-argument-parser (sourced, not run: the #! line is left out).
for shell in bash zsh fish; do
    case $shell in
        bash) file="$root/share/bash-completion/completions/updatectl" ;;
        zsh) file="$root/share/zsh/site-functions/_updatectl" ;;
        fish) file="$root/share/fish/vendor_completions.d/updatectl.fish" ;;
    esac
    "$root/bin/updatectl" --generate-completion-script "$shell" | sed '1{/^#!/d}' > "$file"
done
# The units call /usr/local/bin/updatectl, where the tarball is unpacked (docs/install.md);
# scripts/package-deb.sh points them at /usr/bin.
install -m 0644 examples/systemd/*.service examples/systemd/*.timer "$root/lib/systemd/system/"
install -m 0644 policies/*.yaml "$doc/policies/"
# For a node without systemd: the init-stage script that supervises `updatectl agent`, and the
# DaemonSet that runs it from the cluster (docs/install.md).
install -m 0755 examples/kubesolo/updatectl-agent.sh "$root/share/updatectl/updatectl-agent.sh"
install -m 0644 examples/kubernetes/updatectl-agent.yaml "$root/share/updatectl/updatectl-agent.yaml"
# The alerting rules (with their promtool unit tests) and the Grafana dashboard over the metrics
# of `updatectl status --format prometheus` (docs/fleet.md).
install -m 0644 examples/prometheus/* "$root/share/updatectl/prometheus/"
install -m 0644 docs/*.md "$doc/docs/"
install -m 0644 README.md LICENSE "$doc/"
# A manifest of the installed files: `cd /usr/local && sha256sum -c share/doc/updatectl/SHA256SUMS`.
(cd "$root" && find . -type f ! -path ./share/doc/updatectl/SHA256SUMS | LC_ALL=C sort | sed 's|^\./||' | xargs sha256sum > "$doc/SHA256SUMS")

# Reproducible: sorted names, the commit's time, no owners, gzip without a name or time.
mkdir -p "$dist"
rm -f "$dist"/updatectl-*-linux-*.tar.gz "$dist"/updatectl-*-linux-*.debug
tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --mode='go-w' \
    -C "$work" -cf - "$name" | gzip -9n > "$dist/$name.tar.gz"
install -m 0644 "$work/updatectl.debug" "$dist/$name.debug"
write_sums "$dist"
echo "release: $(stat -c %s "$root/bin/updatectl") bytes stripped; $(ldd "$root/bin/updatectl" | grep -c '=>') shared libraries" >&2
echo "$dist/$name.tar.gz"
