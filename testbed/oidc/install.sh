#!/usr/bin/env bash
# Installs the loopback OpenID provider's npm packages (from package-lock.json, offline when npm's cache has them)
# into var/oidc-provider/ (gitignored), with provider.mjs beside them. Run by `make install` and by the SSO tests'
# fixture; does nothing when the lock has not changed since the last install.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="${SOUVERAIN_OIDC_TESTBED:-$here/../../var/oidc-provider}"
mkdir -p "$target"
cp "$here/package.json" "$here/package-lock.json" "$here/provider.mjs" "$target/"
stamp="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
if [ -d "$target/node_modules/oidc-provider" ] && [ "$(cat "$target/.installed" 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "npm is missing: apt-get install nodejs npm (Node 20+)" >&2; exit 1; }
(cd "$target" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
echo "$stamp" > "$target/.installed"
