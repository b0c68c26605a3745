#!/usr/bin/env bash
# Installs a gVisor runsc that has the systrap platform (docs/gvisor.md) when the system's runsc lacks it: bookworm's
# 0.0~20221219 has only ptrace, whose warm call costs several times systrap's. It takes Debian trixie's runsc package (a
# static Go binary that runs on bookworm) and verifies it the way apt does: the suite's InRelease signed by a key in
# Debian's archive keyring (gpgv), Packages.xz's SHA256 from it, the .deb's SHA256 from Packages. Any mismatch fails
# closed: nothing is installed. Debian's /usr/bin/runsc is left alone; the gVisor driver prefers the binary installed
# here (gvisor.runscPath) and falls back to ptrace on the older one when this script could not run.
# Quiet and quick when there is nothing to do. Settings (environment), for mirrors and the installer's own tests:
#   TERN_RUNSC_MIRROR   Debian mirror (http://deb.debian.org/debian)    TERN_RUNSC_SUITE    suite (trixie)
#   TERN_RUNSC_KEYRING  keyring gpgv trusts (/usr/share/keyrings/debian-archive-keyring.gpg)
#   TERN_RUNSC_DEST     where runsc goes (/usr/local/lib/tern/runsc)  TERN_RUNSC_SYSTEM   runsc to check first (/usr/bin/runsc)
set -euo pipefail
mirror="${TERN_RUNSC_MIRROR:-http://deb.debian.org/debian}"
suite="${TERN_RUNSC_SUITE:-trixie}"
keyring="${TERN_RUNSC_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}"
dest="${TERN_RUNSC_DEST:-/usr/local/lib/tern/runsc}"
system="${TERN_RUNSC_SYSTEM:-/usr/bin/runsc}"
arch=amd64
fail() { echo "install-runsc: $*; gVisor keeps the system's runsc (ptrace platform)" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Whether a runsc knows the systrap platform: an unknown one fails its flag check at once (`list` starts nothing and
# creates no state directory).
has_systrap() { [[ -x "$1" ]] && "$1" --root "$tmp/probe" --platform=systrap list >/dev/null 2>&1; }
has_systrap "$dest" && exit 0
has_systrap "$system" && exit 0

[[ "$(uname -m)" == x86_64 ]] || fail "only amd64 is handled (this is $(uname -m))"
for tool in curl gpgv xz dpkg sha256sum; do
  command -v "$tool" >/dev/null || fail "$tool is missing (scripts/install-deps.sh installs it)"
done
[[ -f "$keyring" ]] || fail "no keyring at $keyring (apt-get install debian-archive-keyring)"
fetch() { curl -fsSL --retry 2 --connect-timeout 10 -o "$2" "$mirror/$1" || fail "cannot download $mirror/$1"; }
# "<sha256> <size> <name>" from a verified Release (its SHA256 section) or a Packages stanza's value.
release_sha256() { awk -v f="$2" '/^SHA256:/ { s = 1; next } /^[^ ]/ { s = 0 } s && $3 == f { print $1; exit }' "$1"; }

echo "install-runsc: installing runsc with the systrap platform from Debian $suite to $dest" >&2
fetch "dists/$suite/InRelease" "$tmp/InRelease"
# Only what gpgv verified is read: the signed text, not the file as downloaded.
gpgv --quiet --keyring "$keyring" --output "$tmp/Release" "$tmp/InRelease" 2>"$tmp/gpgv.err" \
  || fail "the InRelease of $suite from $mirror has no valid signature from $keyring: $(tr '\n' ' ' <"$tmp/gpgv.err")"
grep -qx "Codename: $suite" "$tmp/Release" || fail "the signed Release is not for $suite"

index="main/binary-$arch/Packages.xz"
want="$(release_sha256 "$tmp/Release" "$index")"
[[ "$want" =~ ^[0-9a-f]{64}$ ]] || fail "the signed Release lists no SHA256 for $index"
fetch "dists/$suite/$index" "$tmp/Packages.xz"
got="$(sha256sum "$tmp/Packages.xz" | cut -d' ' -f1)"
[[ "$got" == "$want" ]] || fail "SHA256 mismatch for $index: got $got, the signed Release says $want"

# (awk reads to the end: leaving early would kill xz with SIGPIPE)
xz -dc "$tmp/Packages.xz" | awk '/^Package: runsc$/ && !done { p = 1 } p && /^$/ { p = 0; done = 1 } p' >"$tmp/stanza"
filename="$(sed -n 's/^Filename: //p' "$tmp/stanza")"
want="$(sed -n 's/^SHA256: //p' "$tmp/stanza")"
version="$(sed -n 's/^Version: //p' "$tmp/stanza")"
[[ "$filename" =~ ^pool/[A-Za-z0-9/._~+-]+\.deb$ && "$want" =~ ^[0-9a-f]{64}$ ]] || fail "no runsc package in $suite's $index"
fetch "$filename" "$tmp/runsc.deb"
got="$(sha256sum "$tmp/runsc.deb" | cut -d' ' -f1)"
[[ "$got" == "$want" ]] || fail "SHA256 mismatch for $filename: got $got, the signed Packages says $want"

dpkg -x "$tmp/runsc.deb" "$tmp/x"
[[ -f "$tmp/x/usr/bin/runsc" ]] || fail "$filename holds no usr/bin/runsc"
has_systrap "$tmp/x/usr/bin/runsc" || fail "runsc $version from $suite does not run here or lacks systrap"
install -d -m 0755 "$(dirname "$dest")"
install -m 0755 "$tmp/x/usr/bin/runsc" "$dest.new"
mv -f "$dest.new" "$dest" # atomic: a daemon never sees half a binary
printf 'runsc %s from %s %s (%s, sha256 %s)\n' "$version" "$mirror" "$suite" "$filename" "$want" >"$dest.source"
echo "install-runsc: installed runsc $version at $dest" >&2
