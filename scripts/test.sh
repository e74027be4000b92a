#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: it sets up what is missing (scripts/setup.sh), then runs
# yamllint, ansible-lint (production profile), the pytest unit and role tests, ansible-test sanity and
# units with every supported ansible-core (scripts/ansible-test.sh matrix: 2.16 to 2.21), and molecule test
# for every scenario. Stops at the first failure; prints the time of each stage.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$HAPAIR_ROOT"

declare -a timings=()
run_stage() {
  local name=$1 start
  shift
  step "$name"
  start=$(date +%s)
  "$@"
  timings+=("$(printf '%-44s %5ss' "$name" "$(($(date +%s) - start))")")
}

run_stage "Set up the machine" scripts/setup.sh
run_stage "yamllint" yamllint --strict .
run_stage "ansible-lint (production profile)" ansible-lint --strict
run_stage "antsibull-docs lint-collection-docs" env ANSIBLE_COLLECTIONS_PATH="$HAPAIR_ROOT/playbooks/collections" \
  antsibull-docs lint-collection-docs --plugin-docs playbooks/collections/ansible_collections/hapair/loadbalancer
run_stage "pytest: unit tests and role tests" pytest -q -p no:cacheprovider tests/unit tests/integration
# The validation suite (every bad input, refused on the controller) and the typed values in the files, with each release.
run_stage "ansible-test sanity and units, validation, ansible-core 2.16-2.21" \
  env HAPAIR_MATRIX_PYTEST="tests/integration/test_validation.py tests/integration/test_render.py" scripts/ansible-test.sh matrix
run_stage "molecule test (every scenario)" molecule test --all

step "All checks passed"
printf '  %s\n' "${timings[@]}"
