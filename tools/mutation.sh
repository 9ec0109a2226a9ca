#!/usr/bin/env bash
# Mutation testing of the rule-bearing modules with their fast unit tests (make mutation; not part of make test).
#
# mutmut rewrites the modules into many mutants (a `<=` made `<`, a condition dropped, a constant changed) and
# runs the tests that cover each; a mutant the tests do not notice "survives". It runs in a copy of the working
# tree, never in the tree itself, so other work goes on undisturbed. One module at a time, each in its own copy
# (MUTATION_DIR/<dotted.module>) with only the tests that exercise it: on a shared machine one mutant then costs a
# fraction of a second (pure modules: no database at all; permissions: an in-memory SQLite without migrations).
# See docs/development/mutation-testing.md for the figures and the explained survivors.
#
#   make mutation                      # the four modules one after another, 2 processes (MUTATION_JOBS)
#   MUTATION_ONLY=souverain/estate/ownership.py make mutation      # one module
#   tools/mutation.sh results          # the survivors of the last run, per module
#   tools/mutation.sh show souverain.estate.ownership.x_ownership_test__mutmut_42   # one mutant's diff
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
WORK="${MUTATION_DIR:-${TMPDIR:-/tmp}/souverain-mutation}"
JOBS="${MUTATION_JOBS:-2}"
MODULES="${MUTATION_ONLY:-souverain/estate/ownership.py souverain/estate/exposure.py souverain/policy/workloads.py
souverain/tenancy/permissions.py}"

# The tests that exercise each module (plain data, or a few rows in an in-memory database; no test-bed, no
# browser), and extra pytest arguments for its run.
tests_of() {
    case "$1" in
        souverain/estate/ownership.py) echo "souverain/estate/tests/test_ownership.py
            souverain/estate/tests/test_ownership_boundaries.py souverain/estate/tests/test_ownership_explanations.py" ;;
        souverain/estate/exposure.py) echo "souverain/estate/tests/test_exposure_unit.py
            souverain/estate/tests/test_exposure_boundaries.py" ;;
        souverain/policy/workloads.py) echo "souverain/policy/tests/test_workloads.py
            souverain/policy/tests/test_workloads_boundaries.py" ;;
        souverain/tenancy/permissions.py) echo "souverain/tenancy/tests/test_permissions.py
            souverain/tenancy/tests/test_permissions_boundaries.py" ;;
        *) echo "no tests known for $1: add them to tests_of in tools/mutation.sh" >&2; return 1 ;;
    esac
}
# Database-backed tests: each mutant's child creates its test database; without migrations that is a fraction
# of a second (the tests need only the tables).
pytest_args_of() {
    case "$1" in
        souverain/tenancy/permissions.py) echo "--nomigrations" ;;
        *) echo "" ;;
    esac
}
dotted() { local m="${1%.py}"; echo "${m//\//.}"; }

# Every survivor (and mutant without tests) of the last run with its diff, compactly: what to kill or explain.
SURVIVORS_PY='
from mutmut.__main__ import SourceFileMutationData, walk_mutatable_files
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code
for path in walk_mutatable_files():
    data = SourceFileMutationData(path=path)
    data.load()
    for name, code in data.exit_code_by_key.items():
        status = status_by_exit_code[code]
        if status != "killed":
            diff = [line for line in get_diff_for_mutant(name, path=path).splitlines()[3:] if line[:1] in "+-"]
            print(f"{name}: {status}", *diff, sep="\n    ")
'

if [[ "${1:-run}" == "survivors" ]]; then
    for dir in "$WORK"/*/; do (cd "$dir" && "$VENV/bin/python" -c "$SURVIVORS_PY"); done
    exit 0
fi
if [[ "${1:-run}" != "run" ]]; then  # results, show NAME, browse: on the last run's copies
    command="$1"; shift
    for dir in "$WORK"/*/; do
        module="$(basename "$dir")"
        if [[ "$command" == "show" && "${1:-}" != "$module".* ]]; then continue; fi
        [[ "$command" == "results" ]] && echo "== $module"
        (cd "$dir" && "$VENV/bin/mutmut" "$command" "$@")
    done
    exit 0
fi

# setup.cfg lists: one value a line, continuation lines indented.
list() { printf '%s' "$*" | tr -s ' \n' '\n' | sed '/^$/d; s/^/    /'; }

for module in $MODULES; do
    dir="$WORK/$(dotted "$module")"
    rm -rf "$dir" && mkdir -p "$dir"
    # The working tree as it is (tracked and new files, not ignored ones), so uncommitted tests count too.
    (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | grep -zv '^tools/\|^docs/' \
        | xargs -0 tar -cf - 2>/dev/null) | tar -xf - -C "$dir"
    tests=""
    for test in $(tests_of "$module"); do [[ -f "$dir/$test" ]] && tests="$tests $test"; done
    cat > "$dir/setup.cfg" <<CFG
[mutmut]
source_paths=souverain/
# A constant margin on top of mutmut's own (a multiple of the tests' measured durations): on a loaded machine a
# slow child is not an endless loop.
timeout_constant=${MUTATION_TIMEOUT:-10}
only_mutate=
$(list "$module")
pytest_add_cli_args=
    -p
    no:cacheprovider
    -p
    no:randomly
$(list "$(pytest_args_of "$module")")
pytest_add_cli_args_test_selection=
$(list "$tests")
also_copy=
    conftest.py
    examples/
CFG
    echo "== $module: tests$tests"
    started=$(date +%s)
    (cd "$dir" && "$VENV/bin/mutmut" run --max-children "$JOBS") | tr "\r" "\n" | tail -n 3
    echo "== $module: $(( $(date +%s) - started )) s in $dir"
    (cd "$dir" && "$VENV/bin/mutmut" results --all true 2>/dev/null | awk '{print $NF}' | sort | uniq -c) || true
done
"$0" results
