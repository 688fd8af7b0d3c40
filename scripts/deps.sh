#!/usr/bin/env bash
# Installs every build, test and testbed dependency of memtuned from Debian
# packages. Idempotent, and silent when everything is already there.
set -euo pipefail

PKGS=(
	build-essential pkg-config
	libvirt-dev libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
	qemu-system-x86 qemu-utils
	libnl-3-dev libnl-genl-3-dev libnl-route-3-dev
	libcgroup-dev libinih-dev check libsubunit-dev
	libxml2-dev libxml2-utils libjson-c-dev libsystemd-dev bc
	busybox-static cpio kmod socat procps psmisc iproute2 xz-utils
	clang libclang-rt-14-dev valgrind gnuplot-nox scdoc groff-base python3
	systemd binutils util-linux passwd
	debhelper dpkg-dev fakeroot lintian
)
# Not here: prometheus, for promtool. Its postinst enables and starts a
# Prometheus server on the host; scripts/check-contrib unpacks promtool
# alone from the package into build/ instead.

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ "$st" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
	echo "deps.sh: missing packages: ${missing[*]}" >&2
	echo "deps.sh: run scripts/deps.sh as root (it uses apt-get)" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq "${missing[@]}" >/dev/null
