#!/usr/bin/env bash
# Find PostgreSQL on 127.0.0.1:5432, or install and start Debian's (trust auth on loopback) — for tests only.
set -euo pipefail
ready() { python3 - <<'PY'
import socket, sys
s = socket.socket(); s.settimeout(2)
sys.exit(0 if s.connect_ex(("127.0.0.1", 5432)) == 0 else 1)
PY
}
if ready; then exit 0; fi
echo "PostgreSQL is not listening on 127.0.0.1:5432: starting it"
if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then echo "install PostgreSQL (apt-get install postgresql) or set PG_URL" >&2; exit 1; fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  version=$(ls /etc/postgresql | head -1)
  sed -i 's/^\(host.*127.0.0.1\/32\s*\).*/\1trust/; s/^\(local\s*all\s*postgres\s*\).*/\1trust/' \
    "/etc/postgresql/$version/main/pg_hba.conf"
fi
pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
for _ in $(seq 30); do ready && exit 0; sleep 1; done
echo "PostgreSQL did not start" >&2; exit 1
