#!/usr/bin/env bash
# Makes the image of a throwaway "VPS" for the provisioning tests: a Debian 12
# root filesystem from debootstrap with sshd, systemd, Docker and the packages
# the hardening playbook installs (the target has no route to a mirror, so they
# are there beforehand; the playbook finds them installed). Built once (about
# a minute) and kept in the test engine's data under ~/.cache/jarvis.
set -euo pipefail
SOCKET="${JARVIS_TEST_DOCKER_SOCKET:-/run/jarvis-docker.sock}"
IMAGE="jarvis-test/debian-vps:2"
docker_cmd() { docker -H "unix://${SOCKET}" "$@"; }

if docker_cmd image inspect "${IMAGE}" >/dev/null 2>&1; then
  echo "${IMAGE} is there"
  exit 0
fi
# The Debian mirror this machine's apt uses.
mirror="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | sed -n 1p)"
if [ -z "${mirror}" ]; then mirror="$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list)"; fi
rootfs="$(mktemp -d)"
trap 'rm -rf "${rootfs}"' EXIT
debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,dbus,openssh-server,python3,sudo,iproute2,procps,nftables,fail2ban,python3-systemd,unattended-upgrades,docker.io,ca-certificates \
  bookworm "${rootfs}" "${mirror}" >/dev/null
# mktemp made the folder 0700: as the image's / it would lock every user but root out.
chmod 0755 "${rootfs}"
# D-Bus cannot start in a container without all capabilities, and logind waits
# for it, holding back every unit ordered after it: both are masked, as
# container images usually do (systemctl works over systemd's private socket).
for unit in dbus.service dbus.socket systemd-logind.service; do ln -sf /dev/null "${rootfs}/etc/systemd/system/${unit}"; done
tar -C "${rootfs}" -c . | docker_cmd import - "${IMAGE}" >/dev/null
echo "made ${IMAGE}"
