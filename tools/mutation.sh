#!/usr/bin/env bash
# Mutation testing of the rule-bearing modules with their fast unit tests (make mutation; not part of make test).
#
# mutmut rewrites the modules into many mutants (a `<=` made `<`, a condition dropped, a constant changed) and
# runs the tests that cover each; a mutant the tests do not notice "survives". It runs in a copy of the working
# tree (MUTATION_DIR, default a temporary directory), never in the tree itself, so other work goes on undisturbed.
# See docs/development/mutation-testing.md for the figures and the explained survivors.
#
#   make mutation                      # the four modules, 2 processes (MUTATION_JOBS)
#   MUTATION_ONLY=souverain/estate/ownership.py make mutation      # one module
#   tools/mutation.sh results          # list the survivors of the last run; `show NAME` prints one's diff
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
WORK="${MUTATION_DIR:-${TMPDIR:-/tmp}/souverain-mutation}"
JOBS="${MUTATION_JOBS:-2}"
MODULES="${MUTATION_ONLY:-souverain/estate/ownership.py souverain/estate/exposure.py souverain/policy/workloads.py souverain/tenancy/permissions.py}"
# The fast unit tests of those modules: plain data, or a few rows in the test database. No test-bed, no browser.
TESTS="souverain/estate/tests/test_ownership.py souverain/estate/tests/test_ownership_boundaries.py
souverain/estate/tests/test_exposure_unit.py souverain/policy/tests/test_workloads.py
souverain/tenancy/tests/test_permissions.py"

if [[ "${1:-run}" != "run" ]]; then  # results, show NAME, browse: on the last run's copy
    cd "$WORK" && exec "$VENV/bin/mutmut" "$@"
fi

rm -rf "$WORK" && mkdir -p "$WORK"
# The working tree as it is (tracked and new files, not ignored ones), so uncommitted tests count too.
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | grep -zv '^tools/\|^docs/' \
    | xargs -0 tar -cf - 2>/dev/null) | tar -xf - -C "$WORK"

# setup.cfg lists: one value a line, continuation lines indented.
list() { printf '%s' "$*" | tr -s ' \n' '\n' | sed '/^$/d; s/^/    /'; }
cat > "$WORK/setup.cfg" <<EOF
[mutmut]
source_paths=souverain/
# Each mutant's child creates its own test database (pytest-django): seconds that mutmut's timeout, measured
# from the tests' own durations, does not include. Without this, every database-backed mutant "times out".
timeout_constant=${MUTATION_TIMEOUT:-45}
only_mutate=
$(list $MODULES)
pytest_add_cli_args=
    -p
    no:cacheprovider
pytest_add_cli_args_test_selection=
$(list $TESTS)
also_copy=
    conftest.py
    examples/
EOF

cd "$WORK"
started=$(date +%s)
"$VENV/bin/mutmut" run --max-children "$JOBS"
echo "mutation run: $(( $(date +%s) - started )) s in $WORK"
"$VENV/bin/mutmut" results
