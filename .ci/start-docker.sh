#!/usr/bin/env bash
# Starts a Docker engine for the container tests (Swarm initialised) and makes
# the busybox test image locally (no registry can be reached); idempotent.
set -euo pipefail
SOCKET="${JARVIS_TEST_DOCKER_SOCKET:-/run/jarvis-docker.sock}"
ROOT="${JARVIS_DOCKER_ROOT:-${HOME}/.cache/jarvis/docker}"
docker_cmd() { docker -H "unix://${SOCKET}" "$@"; }

if ! docker_cmd info >/dev/null 2>&1; then
  mkdir -p "${ROOT}"
  nohup dockerd --data-root "${ROOT}/data" --exec-root "${ROOT}/exec" --iptables=false --ip6tables=false \
    --bridge=none --storage-driver=vfs --host "unix://${SOCKET}" --pidfile "${ROOT}/dockerd.pid" \
    >"${ROOT}/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do docker_cmd info >/dev/null 2>&1 && break; sleep 1; done
fi
docker_cmd info --format '{{.ServerVersion}}'
if [ "$(docker_cmd info --format '{{.Swarm.LocalNodeState}}')" != "active" ]; then
  docker_cmd swarm init --advertise-addr 127.0.0.1 >/dev/null
fi
if ! docker_cmd image inspect jarvis-test/busybox:1 >/dev/null 2>&1; then
  rootfs="$(mktemp -d)"
  mkdir -p "${rootfs}/bin" "${rootfs}/tmp" "${rootfs}/www"
  cp "$(command -v busybox)" "${rootfs}/bin/busybox"
  for applet in sh sleep httpd wget echo cat ls kill true false; do ln -s busybox "${rootfs}/bin/${applet}"; done
  echo ok >"${rootfs}/www/health"
  tar -C "${rootfs}" -c . | docker_cmd import - jarvis-test/busybox:1 >/dev/null
  rm -rf "${rootfs}"
fi
echo "Docker engine at unix://${SOCKET} (Swarm active, image jarvis-test/busybox:1)"
