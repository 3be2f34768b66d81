#!/usr/bin/env bash
# Builds pgvector from Debian 13's source package against the running
# PostgreSQL 15 (Debian 12 has no binary package; trixie binaries would drag in
# a new libc). Idempotent: does nothing when the extension is already there.
set -euo pipefail
PG_MAJOR="$(ls /etc/postgresql | sort -n | tail -1)"
PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config"
if [ -f "$(${PG_CONFIG} --sharedir 2>/dev/null)/extension/vector.control" ]; then
  echo "pgvector already installed for PostgreSQL ${PG_MAJOR}"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
SRC_LIST=/etc/apt/sources.list.d/jarvis-trixie-src.sources
# The same mirror and keyring the machine already uses for Debian's packages.
MIRROR="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)"
if [ ! -f "${SRC_LIST}" ]; then
  cat > "${SRC_LIST}" <<SOURCES
Types: deb-src
URIs: ${MIRROR}
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
fi
apt-get update -qq
apt-get install -y -qq "postgresql-server-dev-${PG_MAJOR}" build-essential >/dev/null
WORK="$(mktemp -d)"
cd "${WORK}"
apt-get source --download-only pgvector >/dev/null
tar xf pgvector_*.orig.tar.*
cd pgvector-*/
make -s PG_CONFIG="${PG_CONFIG}" >/dev/null
make -s PG_CONFIG="${PG_CONFIG}" install >/dev/null
rm -rf "${WORK}"
echo "pgvector built and installed for PostgreSQL ${PG_MAJOR}"
