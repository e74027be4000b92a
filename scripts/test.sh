#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: it sets up what is missing (scripts/setup.sh), then runs
# yamllint, ansible-lint (production profile), antsibull-docs, then two things at once:
#   - molecule test for every scenario: real pairs in containers, timing-sensitive, mostly waiting for heartbeat's
#     timers, at normal priority;
#   - the controller-only tests, which take the CPU but need no test bed: the pytest unit and role tests, then
#     ansible-test sanity and units and the validation suite with every supported ansible-core
#     (scripts/ansible-test.sh matrix: 2.16 to 2.21), at the lowest CPU and I/O priority (nice 19, idle I/O), so
#     that molecule gets the CPU first. The pairs still run on a busy machine (the fault tests print the load
#     average; in a full run their drills took longer than on an idle machine, within every bound): the true
#     figures come from benchmarks/, on an idle machine. Their output goes to tests/output/controller-tests.log,
#     printed when they end.
# Then the one pytest test that needs the test bed's networks (tests/integration/test_testbed_down.py), alone.
# Fails if any stage failed; prints the time of each stage.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$HAPAIR_ROOT"

suite_start=$(date +%s)
declare -a timings=()
timing() {
  printf '%-66s %5ss' "$1" "$2"
}
# Usage: run_stage NAME COMMAND... - returns the command's status (the caller's errexit stops the run on a failure)
run_stage() {
  local name=$1 start rc=0
  shift
  step "$name"
  start=$(date +%s)
  "$@" || rc=$?
  timings+=("$(timing "$name$([ "$rc" = 0 ] || echo " FAILED (exit $rc)")" "$(($(date +%s) - start))")")
  return "$rc"
}

# Needs podman's networks of the test bed: never at the same time as molecule.
TESTBED_PYTEST=tests/integration/test_testbed_down.py

# Usage: controller_tests TIMINGS_FILE - the pytest stage, then the matrix; each stage's time to TIMINGS_FILE.
controller_tests() {
  local timings_file=$1 start status=0 rc=0
  start=$(date +%s)
  step "pytest: unit tests and role tests (all but $TESTBED_PYTEST)"
  pytest -q -p no:cacheprovider tests/unit tests/integration --ignore "$TESTBED_PYTEST" || rc=1
  timing "pytest: unit tests and role tests$([ "$rc" = 0 ] || echo ' FAILED')" "$(($(date +%s) - start))" >> "$timings_file"
  echo >> "$timings_file"
  start=$(date +%s)
  # The validation suite (every bad input, refused on the controller) and the typed values in the files, with each
  # release; the release of .venv ran them just above.
  step "ansible-test sanity and units, validation, ansible-core 2.16-2.21"
  env HAPAIR_MATRIX_PYTEST="tests/integration/test_validation.py tests/integration/test_render.py" \
    HAPAIR_MATRIX_PYTEST_DONE="$(python -c 'import ansible; print(ansible.__version__)')" \
    scripts/ansible-test.sh matrix || status=1
  timing "ansible-test matrix 2.16-2.21$([ "$status" = 0 ] || echo ' FAILED')" "$(($(date +%s) - start))" >> "$timings_file"
  echo >> "$timings_file"
  [ "$rc" = 0 ] && [ "$status" = 0 ]
}

run_stage "Set up the machine" scripts/setup.sh
run_stage "yamllint" yamllint --strict .
run_stage "ansible-lint (production profile)" ansible-lint --strict
run_stage "antsibull-docs lint-collection-docs" env ANSIBLE_COLLECTIONS_PATH="$HAPAIR_ROOT/playbooks/collections" \
  antsibull-docs lint-collection-docs --plugin-docs playbooks/collections/ansible_collections/hapair/loadbalancer

mkdir -p tests/output
controller_log=tests/output/controller-tests.log
controller_timings=tests/output/controller-tests.timings
: > "$controller_timings"
step "Started in the background at the lowest priority: pytest, then the ansible-core matrix (log: $controller_log)"
# Job control for this one job: it gets a process group of its own, which the trap below can end as a whole.
set -m
(
  renice -n 19 -p "$BASHPID" > /dev/null
  ionice -c 3 -p "$BASHPID" 2> /dev/null || true
  controller_tests "$controller_timings"
) < /dev/null > "$controller_log" 2>&1 &
controller_pid=$!
set +m
# An interrupted run leaves nothing behind: the background tests end with it (molecule cleans up after itself).
trap 'kill -- "-$controller_pid" 2> /dev/null || true' EXIT

molecule_status=0
run_stage "molecule test (every scenario)" molecule test --all || molecule_status=$?

step "Waiting for the controller tests"
controller_status=0
wait "$controller_pid" || controller_status=$?
trap - EXIT
cat "$controller_log"
while IFS= read -r row; do
  timings+=("$row")
done < "$controller_timings"

testbed_status=0
run_stage "pytest: $TESTBED_PYTEST" pytest -q -p no:cacheprovider "$TESTBED_PYTEST" || testbed_status=$?

if [ "$molecule_status" != 0 ] || [ "$controller_status" != 0 ] || [ "$testbed_status" != 0 ]; then
  step "FAILED: molecule exit $molecule_status, controller tests exit $controller_status, $TESTBED_PYTEST exit $testbed_status"
  printf '  %s\n' "${timings[@]}"
  exit 1
fi
step "All checks passed in $(($(date +%s) - suite_start)) s"
printf '  %s\n' "${timings[@]}"
echo "  (pytest and the matrix ran at the same time as molecule)"
