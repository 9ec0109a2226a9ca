#!/bin/sh
# Vendor htmx into the portal's static files, once (the project never needs npm at run time).
#   sh tools/vendor_htmx.sh [VERSION]
set -eu
version="${1:-2.0.11}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "htmx.org@$version" --silent >/dev/null && tar xzf htmx.org-*.tgz)
cp "$work/package/dist/htmx.min.js" "$root/souverain/portal/static/portal/vendor/htmx.min.js"
echo "htmx $version (0BSD licence) → souverain/portal/static/portal/vendor/htmx.min.js"
