#!/usr/bin/env bash
# Build a local node image, localhost/hapair-node:<release>, from Debian's packages (no container registry is
# reachable): a plain Debian server with systemd as PID 1, python3, and sshd with a sudo user `ansible` (Ansible
# reaches the nodes over SSH with become, as in production), nothing of the product installed. The same image
# serves the load-balancer nodes, the backends and the client.
#
# Usage: testbed/build-image.sh [RELEASE]
#   bookworm (the default): localhost/hapair-node:bookworm, Debian 12, what the test bed and molecule use
#   trixie:                 localhost/hapair-node:trixie, Debian 13
# Rebuilt only when this script, the podman settings or the release change.
# shellcheck source-path=SCRIPTDIR source=../scripts/lib.sh
source "$(dirname "$0")/../scripts/lib.sh"

release=${1:-bookworm}
case "$release" in
  bookworm | trixie) ;;
  *)
    echo "usage: $0 [bookworm|trixie]" >&2
    exit 2
    ;;
esac
image=localhost/hapair-node:$release
mirror=${HAPAIR_DEBIAN_MIRROR:-http://deb.debian.org/debian}
zipimport_cache=$(dirname "$0")/node/hapair_testbed_zipimport_cache.py
inputs=$( (cat "$0" "$CONTAINERS_CONF" "$zipimport_cache" && echo "$release") | sha256sum | cut -c1-16)

have=$($SUDO podman image inspect --format '{{ index .Labels "hapair.inputs" }}' "$image" 2>/dev/null || true)
if [ "$have" = "$inputs" ]; then
  step "Node image $image is up to date"
  exit 0
fi

step "Building the node image $image with debootstrap (about 50 s)"
work=$(mktemp -d /var/tmp/hapair-rootfs.XXXXXX)
trap '$SUDO rm -rf "$work"' EXIT
$SUDO debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,python3,python3-apt,iproute2,procps,ca-certificates,openssh-server,sudo \
  "$release" "$work/rootfs" "$mirror" > "$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log"; exit 1; }

$SUDO tee "$work/rootfs/etc/apt/sources.list" > /dev/null <<SOURCES
deb $mirror $release main
deb $mirror $release-updates main
deb ${mirror%/debian}/debian-security $release-security main
SOURCES
# A server's own /etc/hosts (nodes run with --no-hosts, so it survives restarts as on a real server).
$SUDO tee "$work/rootfs/etc/hosts" > /dev/null <<HOSTS
127.0.0.1	localhost
::1		localhost ip6-localhost ip6-loopback
ff02::1		ip6-allnodes
ff02::2		ip6-allrouters
HOSTS
# Units that cannot work, or only slow the boot, in a container.
$SUDO chroot "$work/rootfs" systemctl mask --quiet \
  systemd-logind.service getty.target console-getty.service \
  systemd-udevd.service systemd-udev-trigger.service systemd-remount-fs.service \
  dev-hugepages.mount sys-fs-fuse-connections.mount systemd-firstboot.service
# The user Ansible logs in as; testbed/up.yml mounts the test bed's public key as its authorized key.
$SUDO chroot "$work/rootfs" useradd --create-home --shell /bin/bash ansible
echo 'ansible ALL=(ALL:ALL) NOPASSWD: ALL' | $SUDO tee "$work/rootfs/etc/sudoers.d/ansible" > /dev/null
$SUDO chmod 0440 "$work/rootfs/etc/sudoers.d/ansible"
$SUDO tee "$work/rootfs/etc/ssh/sshd_config.d/hapair-testbed.conf" > /dev/null <<SSHD
PermitRootLogin no
PasswordAuthentication no
AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/testbed_authorized_keys
UseDNS no
SSHD
# A bytecode cache for what Python imports from a zip, such as every Ansible module run's payload (test bed only: the
# module's docstring says why; 0.24 CPU-seconds a stat module run without it, 0.15 with it, 2026-12-07). A .pth file in
# the system's site directory imports it at every start of Python (also with -I, which leaves out the user's only).
$SUDO install -m 0644 "$zipimport_cache" "$work/rootfs/usr/lib/python3/dist-packages/hapair_testbed_zipimport_cache.py"
echo 'import hapair_testbed_zipimport_cache' \
  | $SUDO tee "$work/rootfs/usr/lib/python3/dist-packages/hapair-testbed-zipimport-cache.pth" > /dev/null
$SUDO install -d -m 0755 "$work/rootfs/var/cache/hapair-testbed-zipimport"
$SUDO chroot "$work/rootfs" apt-get clean
# The package lists stay, as on an installed server, so apt knows every package from the start.
$SUDO rm -f "$work/rootfs/etc/machine-id"
$SUDO touch "$work/rootfs/etc/machine-id"

$SUDO tar -C "$work/rootfs" -c . | $SUDO podman import \
  --change 'CMD ["/sbin/init"]' \
  --change 'STOPSIGNAL SIGRTMIN+3' \
  --change "LABEL hapair.inputs=$inputs" \
  --quiet - "$image" > /dev/null
step "Node image $image built"
