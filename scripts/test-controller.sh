#!/usr/bin/env bash
# The controller-only part of the test suite: everything that needs no test bed. scripts/test.sh runs it in the
# background while molecule's pairs run; it can be run on its own too (after scripts/setup.sh).
#   ruff (ruff.toml), yamllint, ansible-lint (production profile), antsibull-docs lint-collection-docs;
#   pytest: the unit and role tests (all but tests/integration/test_testbed_down.py, which needs podman's networks
#     of the test bed and so never runs beside molecule);
#   scripts/ansible-test.sh matrix: ansible-test sanity and units, and the validation suite and the typed values in
#     the files, with every supported ansible-core (2.16 to 2.21; .venv's release ran the last two just above).
# Runs every stage even when one fails; fails if any failed. Prints each stage's time, and appends it to
# TIMINGS_FILE when one is given.
#
# Usage: scripts/test-controller.sh [TIMINGS_FILE]
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$HAPAIR_ROOT"

timings_file=${1:-/dev/null}
failed=0
# Usage: cgroup_cpu - the CPU seconds used so far in this process's cpuacct cgroup (scripts/test.sh's idle cgroup, of
# the controller tests alone), or nothing: the root cgroup (every process of the machine) or no cgroup v1 cpuacct.
cgroup_cpu() {
  local path usage
  path=$(awk -F: '$2 ~ /(^|,)cpuacct(,|$)/ {print $3}' /proc/self/cgroup)
  usage=/sys/fs/cgroup/cpuacct$path/cpuacct.usage
  if [ -n "$path" ] && [ "$path" != / ] && [ -r "$usage" ]; then
    echo $(($(cat "$usage") / 1000000000))
  fi
}
# Usage: controller_stage NAME COMMAND... - runs one stage, records its time (and its CPU seconds, where its cgroup
# tells them) and whether it failed.
controller_stage() {
  local name=$1 start rc=0 cpu_start cpu_end
  shift
  step "$name"
  start=$(date +%s)
  cpu_start=$(cgroup_cpu)
  "$@" || rc=$?
  cpu_end=$(cgroup_cpu)
  if [ -n "$cpu_start" ] && [ -n "$cpu_end" ]; then
    name="$name ($((cpu_end - cpu_start)) CPU-s)"
  fi
  if [ "$rc" != 0 ]; then
    failed=1
    name="$name FAILED (exit $rc)"
  fi
  timing "$name" "$(($(date +%s) - start))" | tee -a "$timings_file"
}

controller_stage "ruff" ruff check .
controller_stage "yamllint" yamllint --strict .
controller_stage "ansible-lint (production profile)" ansible-lint --strict
controller_stage "antsibull-docs lint-collection-docs" env ANSIBLE_COLLECTIONS_PATH="$HAPAIR_ROOT/playbooks/collections" \
  antsibull-docs lint-collection-docs --plugin-docs playbooks/collections/ansible_collections/hapair/loadbalancer
controller_stage "pytest: unit tests and role tests" \
  pytest -q -p no:cacheprovider tests/unit tests/integration --ignore tests/integration/test_testbed_down.py
controller_stage "ansible-test matrix 2.16-2.21" env \
  HAPAIR_MATRIX_PYTEST="tests/integration/test_validation.py tests/integration/test_render.py" \
  HAPAIR_MATRIX_PYTEST_DONE="$(python -c 'import ansible; print(ansible.__version__)')" \
  scripts/ansible-test.sh matrix
exit "$failed"
