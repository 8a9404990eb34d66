#!/usr/bin/env bash
# A Debian package of the release build: dist/updatectl_VERSION-1_ARCH.deb, made with dpkg-deb
# from dist/updatectl-VERSION-linux-ARCH.tar.gz (scripts/release.sh, which it runs first):
# /usr/bin/updatectl, the systemd units (not enabled: docs/install.md), the man page, bash/zsh/fish
# completions, the docs and the shipped policies under /usr/share/doc/updatectl, the Prometheus
# alerting rules and Grafana dashboard under /usr/share/updatectl/prometheus.
# DEB_MAINTAINER="Name <mail>" names the maintainer; UPDATECTL_DIST=DIR as for release.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/release-build.sh"
maintainer=${DEB_MAINTAINER:-updatectl maintainers <updatectl@users.noreply.github.com>}

# The tarball's files, with a binary linked against the system's libyaml, libstdc++ and libgcc_s
# instead of its own copies (Debian's rule against embedded libraries).
# release.sh first, so that the tarball is this tree's (a second run only relinks).
tarball=$(bash scripts/release.sh | tail -n 1)
name=$(basename "$tarball" .tar.gz)            # updatectl-VERSION-linux-ARCH
version=${name#updatectl-}; version=${version%-linux-*}
arch=${name##*-linux-}
work=$(mktemp -d "${TMPDIR:-/tmp}/updatectl-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar xzf "$tarball" -C "$work"
from="$work/$name"
root="$work/root"
build_updatectl debian "$work/updatectl"
doc="$root/usr/share/doc/updatectl"

install -d "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/man/man1" "$root/usr/share/bash-completion/completions" \
    "$root/usr/share/zsh/vendor-completions" "$root/usr/share/fish/vendor_completions.d" "$root/lib/systemd/system" \
    "$doc/examples" "$doc/docs" "$root/usr/share/updatectl" "$root/usr/share/updatectl/prometheus"
install -m 0755 "$work/updatectl" "$root/usr/bin/updatectl"
for page in "$from"/share/man/man1/*.1; do
    gzip -9n < "$page" > "$root/usr/share/man/man1/$(basename "$page").gz"
done
install -m 0644 "$from/share/bash-completion/completions/updatectl" "$root/usr/share/bash-completion/completions/updatectl"
install -m 0644 "$from/share/zsh/site-functions/_updatectl" "$root/usr/share/zsh/vendor-completions/_updatectl"
install -m 0644 "$from/share/fish/vendor_completions.d/updatectl.fish" "$root/usr/share/fish/vendor_completions.d/updatectl.fish"
for unit in "$from"/lib/systemd/system/*; do
    sed 's|/usr/local/bin/updatectl|/usr/bin/updatectl|g' "$unit" > "$root/lib/systemd/system/$(basename "$unit")"
    chmod 0644 "$root/lib/systemd/system/$(basename "$unit")"
done
install -m 0644 "$from"/share/doc/updatectl/policies/*.yaml "$doc/examples/"
sed 's|/usr/local/bin/updatectl|/usr/bin/updatectl|g' "$from/share/updatectl/updatectl-agent.sh" > "$root/usr/share/updatectl/updatectl-agent.sh"
chmod 0755 "$root/usr/share/updatectl/updatectl-agent.sh"
install -m 0644 "$from/share/updatectl/updatectl-agent.yaml" "$root/usr/share/updatectl/updatectl-agent.yaml"
install -m 0644 "$from"/share/updatectl/prometheus/* "$root/usr/share/updatectl/prometheus/"
install -m 0644 "$from"/share/doc/updatectl/docs/*.md "$doc/docs/"
install -m 0644 "$from/share/doc/updatectl/README.md" "$doc/README.md"
year=$(date -u -r "$from/bin/updatectl" +%Y)
cat > "$doc/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: updatectl

Files: *
Copyright: $year the updatectl authors
License: Apache-2.0

License: Apache-2.0
 Licensed under the Apache License, Version 2.0 (the "License"); you may not
 use this file except in compliance with the License. You may obtain a copy of
 the License at http://www.apache.org/licenses/LICENSE-2.0
 .
 Unless required by applicable law or agreed to in writing, software
 distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
 WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
 License for the specific language governing permissions and limitations under
 the License.
 .
 On Debian systems, the complete text of the Apache License, Version 2.0, can
 be found in "/usr/share/common-licenses/Apache-2.0".
COPYRIGHT
when=$(date -u -R -r "$from/bin/updatectl")
commit=$("$work/updatectl" --version | sed -n 's/.*(commit \([0-9a-f]\{12\}\).*/\1/p')
printf 'updatectl (%s-1) unstable; urgency=medium\n\n  * Release %s%s.\n\n -- %s  %s\n' \
    "$version" "$version" "${commit:+ from commit $commit}" "$maintainer" "$when" | gzip -9n > "$doc/changelog.Debian.gz"

# Dependencies from the libraries the binary links, as Debian's own packages compute them.
mkdir -p "$work/src/debian"
printf 'Source: updatectl\n\nPackage: updatectl\nArchitecture: any\n' > "$work/src/debian/control"
depends=$(cd "$work/src" && dpkg-shlibdeps -O "$root/usr/bin/updatectl" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "package-deb: error: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: updatectl
Version: $version-1
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: $depends
Recommends: libcurl4, ca-certificates
Suggests: grub-common, kubernetes-client
Section: admin
Priority: optional
Description: declarative, policy-driven A/B updates for Linux nodes
 updatectl reads an update policy (the updates: section of a cloud-init
 user-data file), lints it with findings at file:line:col, prints the plan
 it will follow, and drives the node's A/B update state machine through it:
 pre-flight gates, download and signature checks, activation, health probes
 after the reboot, and automatic rollback. It reads and writes the KubeSolo OS
 update agent's state.json.
CONTROL
(cd "$root" && find . -type f ! -path './DEBIAN/*' | LC_ALL=C sort | sed 's|^\./||' | xargs md5sum > DEBIAN/md5sums)
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
find "$root" -type d -exec chmod 0755 {} +
find "$root" -exec touch -h -d "@$(stat -c %Y "$from/bin/updatectl")" {} +

deb="$dist/updatectl_${version}-1_${arch}.deb"
SOURCE_DATE_EPOCH=$(stat -c %Y "$from/bin/updatectl") dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
write_sums "$dist"
echo "$deb"
