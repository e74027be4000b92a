#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: it sets up what is missing (scripts/setup.sh: the packages and the
# venvs; then the node images and the ansible-core matrix's venvs while the controller tests already run), then runs
# three things at once:
#   - molecule, in three lanes, each on a test bed of its own (real pairs in containers, timing-sensitive, mostly
#     waiting for the engines' timers and the faults' durations):
#       lane A, bed testbed/inventory/one-pair.yml: the default scenario (heartbeat, Debian 12, .venv's ansible-core:
#       the pair, a rerun, check mode, bad input, the secret, the four drills, the faults of the matrix with the
#       standard timers but two, and the fast timers' faults);
#       lane B, bed testbed/inventory/second-bed.yml: keepalived (a Debian 12 and 13 pair, ansible-core 2.21: the pair,
#       a rerun, the four drills, the fault matrix with both timer profiles), then trixie (heartbeat on Debian 13,
#       ansible-core 2.16: the pair, a rerun, a drill), then check_mode (fresh nodes, --check --diff);
#       lane C, bed testbed/inventory/third-bed.yml: operations (heartbeat: the tutorial's logging, two runs at once,
#       an interrupted drill, the live engine switch both ways, maintenance and a rolling upgrade, metrics and
#       notifications, and two faults of the matrix where nothing may move: Apache killed, the private link);
#     the lanes are cut so that each takes about as long (each scenario's log gives the time of every test of 5 s or more);
#     each lane writes its log to tests/output/molecule-<lane>.log, printed when the lane ends;
#   - scripts/test-controller.sh, everything that needs no test bed: ruff, yamllint, ansible-lint, antsibull-docs,
#     the pytest unit and role tests, then ansible-test sanity and units and the validation suite with every supported
#     ansible-core (2.16 to 2.21). It takes the CPU, so it runs in a cpu cgroup marked idle (cpu.idle): it gets a
#     core only when molecule and the nodes leave one idle (mostly while the fault tests wait for the engines'
#     timers), and gives it back the moment one of theirs wakes. Where that cgroup cannot be made it runs at the
#     lowest priority in a session of its own: the kernel schedules each session as a group (autogroup), and a niced
#     process only yields to processes of its own group, so a plain `nice 19` would still take an equal share from the
#     nodes' processes (each container's services are sessions of their own); its group gets nice 19. Its output goes
#     to tests/output/controller-tests.log, printed when it ends.
# Then the one pytest test that needs the test bed's networks (tests/integration/test_testbed_down.py), alone.
# Fails if any stage failed; prints the time of each stage.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$HAPAIR_ROOT"

suite_start=$(date +%s)
declare -a timings=()
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

# The controller tests need .venv, not the node images: they start before the images are built.
run_stage "Set up the machine: packages and venvs" scripts/setup.sh tools

mkdir -p tests/output
controller_log=tests/output/controller-tests.log
controller_timings=tests/output/controller-tests.timings
: > "$controller_timings"
step "Started in the background at the lowest priority: scripts/test-controller.sh (log: $controller_log)"
# The controller tests run in a cpu cgroup of their own marked idle (cgroup v1's cpu.idle, kernel 5.15 or later):
# the kernel gives it a CPU only when nothing else wants one, and any other process that wakes takes the CPU from it
# at once. The lanes alone took 1241-1290 s and 2,164 CPU-seconds, the controller tests alone 514 s and 649
# CPU-seconds; together, with the controller tests in a session niced to 19, the lanes took 1500-1690 s (2026-12-06):
# a nice value still lets the niced group run for a slice whenever a lane's process wakes, and the lanes wait for
# many small steps (ansible-playbook, ssh, a module on a node) one after the other. Where that cgroup cannot be made
# (cgroup v2 only, no cpu.idle, no root), the session's nice is all there is. The cgroup is in cpuacct too, so that
# the stage table gives the controller tests' CPU.
idle_cgroup=
# Usage: drop_idle_cgroup - remove the controller tests' cgroups (what outlived them, such as an SSH master of the
# validation suite, moves to the root cgroup first); also when the suite is interrupted.
# A process may fork while the others move, so each cgroup is tried a few times.
drop_idle_cgroup() {
  local dir pid try
  for dir in $idle_cgroup; do
    for try in 1 2 3 4 5; do
      [ -d "$dir" ] || break
      while IFS= read -r pid; do
        echo "$pid" | $SUDO tee "$(dirname "$dir")/cgroup.procs" > /dev/null 2>&1 || true
      done < "$dir/cgroup.procs"
      $SUDO rmdir "$dir" 2> /dev/null || sleep "0.$try"
    done
  done
}
for hierarchy in cpu cpuacct; do
  dir=/sys/fs/cgroup/$hierarchy/hapair-controller-tests
  $SUDO mkdir -p "$dir" 2> /dev/null || continue
  if [ "$hierarchy" = cpu ]; then
    echo 1 | $SUDO tee "$dir/cpu.idle" > /dev/null 2>&1 || continue
  fi
  idle_cgroup="$idle_cgroup $dir"
done
# setsid: a session, so a scheduling group and a process group, of its own (this script is not a process group
# leader, so setsid does not fork: $! is the session's leader). Writing a nice value to /proc/self/autogroup sets
# the group's; a kernel without autogroup has no such file, and then the plain nice is all there is.
# shellcheck disable=SC2016 # $$, $1 and $2 are the new shell's
setsid bash -c 'for dir in $2; do echo $$ > "$dir/cgroup.procs" 2> /dev/null || true; done
  echo 19 > /proc/self/autogroup 2> /dev/null || true
  renice -n 19 -p $$ > /dev/null
  ionice -c 3 -p $$ 2> /dev/null || true
  exec scripts/test-controller.sh "$1"' test-controller "$controller_timings" "$idle_cgroup" < /dev/null > "$controller_log" 2>&1 &
controller_pid=$!
# An interrupted run stops the background tests with it and removes their cgroups (and, once the lanes run, their beds:
# stop_lanes below).
trap 'kill -- "-$controller_pid" 2> /dev/null || true; drop_idle_cgroup' EXIT

# The node images, and the venvs of the ansible-core matrix with ansible-test's sanity venvs, at once and at the
# normal priority, before the lanes start: on a fresh machine, making the sanity venvs at the lowest priority under
# the lanes took 1317 s and ended the suite 5 to 7 minutes after them (2026-12-06); once made, priming is a stamp per
# release (scripts/ansible-test.sh prime).
# Usage: prepare_lanes - both jobs, each to its own log (printed when both end); fails if either failed.
prepare_lanes() {
  local images_rc=0 prime_rc=0 images_pid
  scripts/setup.sh images > tests/output/setup-images.log 2>&1 &
  images_pid=$!
  scripts/ansible-test.sh prime > tests/output/matrix-prime.log 2>&1 || prime_rc=$?
  wait "$images_pid" || images_rc=$?
  cat tests/output/setup-images.log tests/output/matrix-prime.log
  [ "$images_rc" = 0 ] && [ "$prime_rc" = 0 ]
}
run_stage "Set up the machine: node images, the matrix's venvs" prepare_lanes

# Usage: bed_cpu_used - the CPU seconds podman's containers (all in cgroups under libpod_parent, cgroupfs) have used
# since they first ran; nothing where cgroup v1's cpuacct is missing.
bed_cpu_used() {
  local usage=/sys/fs/cgroup/cpuacct/libpod_parent/cpuacct.usage
  if [ -r "$usage" ]; then
    echo $(($(cat "$usage") / 1000000000))
  fi
}
# Usage: cpu_used - the CPU seconds this machine has used since it started (both cores; user, nice, system, irq).
cpu_used() {
  awk '/^cpu /{print int(($2 + $3 + $4 + $7 + $8) / 100)}' /proc/stat
}

# The lanes' beds share the test bed's SSH key: made once here, before any lane's create could race for it.
ssh_key=$HOME/.cache/hapair/testbed_ed25519
if [ ! -f "$ssh_key" ]; then
  mkdir -p "$(dirname "$ssh_key")"
  chmod 700 "$(dirname "$ssh_key")"
  ssh-keygen -q -t ed25519 -N '' -C hapair-testbed -f "$ssh_key"
fi
# Usage: lane NAME SCENARIO... - molecule test for each scenario in turn (all of them, whatever one returns), its
# output to tests/output/molecule-NAME.log, one line per scenario to tests/output/molecule-NAME.timings; returns 1
# when any failed.
lane() {
  local name=$1 scenario start rc status=0
  shift
  for scenario in "$@"; do
    start=$(date +%s)
    rc=0
    echo "==> [$(date +%H:%M:%S)] molecule test -s $scenario" >> "tests/output/molecule-$name.log"
    molecule test -s "$scenario" >> "tests/output/molecule-$name.log" 2>&1 || rc=$?
    timing "molecule $scenario (lane $name)$([ "$rc" = 0 ] || echo " FAILED (exit $rc)")" "$(($(date +%s) - start))" \
      >> "tests/output/molecule-$name.timings"
    [ "$rc" = 0 ] || status=1
  done
  return "$status"
}
step "molecule in three lanes: A (default), B (keepalived, trixie, check_mode), C (operations); logs: tests/output/molecule-{A,B,C}.log"
molecule_start=$(date +%s)
bed_cpu_start=$(bed_cpu_used)
total_cpu_start=$(cpu_used)
for lane_name in A B C; do
  : > "tests/output/molecule-$lane_name.log"
  : > "tests/output/molecule-$lane_name.timings"
done
# Each lane in a session of its own (setsid: this script is not a process group leader, so setsid does not fork and
# $! is the session's leader), so that an interrupted run stops each lane whole: its molecule, ansible-playbook and
# pytest, not only its shell.
lane_beds=(one-pair second-bed third-bed)
setsid bash -c "$(declare -f lane timing); lane A default" &
lane_a=$!
setsid bash -c "$(declare -f lane timing); lane B keepalived trixie check_mode" &
lane_b=$!
setsid bash -c "$(declare -f lane timing); lane C operations" &
lane_c=$!
# Usage: stop_lanes - an interrupted run (Ctrl-C, SIGTERM, an error of this script): stops the lanes and the
# controller tests, then removes the lanes' beds (testbed/down.yml, each bed's containers and networks; molecule,
# stopped, would not), so that nothing is left behind.
stop_lanes() {
  local bed pids=()
  trap - EXIT INT TERM
  kill -- "-$controller_pid" "-$lane_a" "-$lane_b" "-$lane_c" 2> /dev/null || true
  wait "$lane_a" "$lane_b" "$lane_c" 2> /dev/null || true
  drop_idle_cgroup
  step "Interrupted: removing the lanes' test beds (${lane_beds[*]})"
  for bed in "${lane_beds[@]}"; do
    ansible-playbook -i "testbed/inventory/$bed.yml" testbed/down.yml > "tests/output/down-$bed.log" 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}" || echo "$0: could not remove every bed: see tests/output/down-*.log" >&2
}
trap 'stop_lanes' EXIT
trap 'stop_lanes; exit 130' INT
trap 'stop_lanes; exit 143' TERM
molecule_status=0
wait "$lane_a" || molecule_status=$?
step "Lane A ended: tests/output/molecule-A.log"
cat tests/output/molecule-A.log
wait "$lane_b" || molecule_status=$?
step "Lane B ended: tests/output/molecule-B.log"
cat tests/output/molecule-B.log
wait "$lane_c" || molecule_status=$?
# The lanes are over (molecule destroyed their beds): from here on, an interrupted run stops the controller tests only.
trap 'kill -- "-$controller_pid" 2> /dev/null || true; drop_idle_cgroup' EXIT
trap - INT TERM
step "Lane C ended: tests/output/molecule-C.log"
cat tests/output/molecule-C.log
for lane_name in A B C; do
  while IFS= read -r row; do
    timings+=("$row")
  done < "tests/output/molecule-$lane_name.timings"
done
timings+=("$(timing "molecule, all lanes$([ "$molecule_status" = 0 ] || echo " FAILED")" "$(($(date +%s) - molecule_start))")")
bed_cpu_end=$(bed_cpu_used)
total_cpu_end=$(cpu_used)
timings+=("$(timing "CPU used while the lanes ran (CPU seconds, both cores)" "$((total_cpu_end - total_cpu_start))")")
if [ -n "$bed_cpu_start" ] && [ -n "$bed_cpu_end" ]; then
  timings+=("$(timing "  of it, the test bed's containers (CPU seconds)" "$((bed_cpu_end - bed_cpu_start))")")
fi

step "Waiting for the controller tests"
controller_status=0
wait "$controller_pid" || controller_status=$?
trap - EXIT
cat "$controller_log"
while IFS= read -r row; do
  timings+=("$row")
done < "$controller_timings"
# The controller tests' CPU, then their cgroups go.
for dir in $idle_cgroup; do
  if [ -r "$dir/cpuacct.usage" ]; then
    timings+=("$(timing "  the controller tests (CPU seconds, their cgroup)" "$(($(cat "$dir/cpuacct.usage") / 1000000000))")")
  fi
done
drop_idle_cgroup

# Needs podman's networks of the test bed: never at the same time as molecule.
TESTBED_PYTEST=tests/integration/test_testbed_down.py
testbed_status=0
run_stage "pytest: $TESTBED_PYTEST" pytest -q -p no:cacheprovider "$TESTBED_PYTEST" || testbed_status=$?

# Usage: failure_summary LOG - what failed, from a log printed earlier: pytest's summary lines and assertion
# messages, molecule's errors, the fault harness's "over its bound" lines with the lines molecule wrapped them onto
# (the last 80 such lines, colour and molecule's frame stripped), so that the end of the output (all a CI page may
# keep) says why.
failure_summary() {
  sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^ *│ \{0,1\}//' "$1" | awk '
    /FAILED - RETRYING/ { more = 0; next }
    /^=+ .*(passed|failed|error)/ { print; more = 0; next }
    /^(FAILED|ERROR) |^E  |^CRITICAL|short test summary|over its bound|broke its bounds|^fatal: / {
      print; more = 1; next
    }
    more && /^  / { print; next }
    { more = 0 }' | tail -n 80
}
if [ "$molecule_status" != 0 ] || [ "$controller_status" != 0 ] || [ "$testbed_status" != 0 ]; then
  for lane_name in A B C; do
    if grep -q FAILED "tests/output/molecule-$lane_name.timings"; then
      step "Why lane $lane_name failed (tests/output/molecule-$lane_name.log, printed above)"
      failure_summary "tests/output/molecule-$lane_name.log"
    fi
  done
  if [ "$controller_status" != 0 ]; then
    step "Why the controller tests failed ($controller_log, printed above)"
    failure_summary "$controller_log"
  fi
  step "FAILED: molecule exit $molecule_status, controller tests exit $controller_status, $TESTBED_PYTEST exit $testbed_status"
  printf '  %s\n' "${timings[@]}"
  exit 1
fi
step "All checks passed in $(($(date +%s) - suite_start)) s"
printf '  %s\n' "${timings[@]}"
echo "  (the linters, pytest and the matrix ran at the same time as molecule)"
