#!/usr/bin/env bash
# Run `ansible-test sanity` and `ansible-test units` for the collection from a checkout: with the ansible-core of
# .venv, or with every ansible-core release the collection supports (the matrix).
#
# ansible-test only works inside .../ansible_collections/<namespace>/<name>, so this copies the
# git-tracked and the untracked-but-not-ignored files (`git ls-files -co --exclude-standard`, the
# same set git would commit) into a temporary <tmp>/ansible_collections/hapair/loadbalancer and runs
# ansible-test there. playbooks/collections is left out: it is a symlink back to the checkout for
# running playbooks from it, and ansible-test must not see the collection twice.
#
# No Docker here: ansible-test sanity runs with --venv, so it builds its own virtual environments from
# PyPI (pinned by ansible-test itself) and leaves .venv alone. The sanity ones are cached in
# ~/.ansible/test/venv; the first run on a fresh machine takes a few minutes longer. ansible-test units runs with
# --local in the release's own venv (.venv, or .venv-matrix/... for the matrix), which holds what it needs
# (pytest, pytest-mock, pytest-xdist, mock, and prometheus-client, whose parser the metrics' tests read with: pinned in
# requirements-dev.txt): with --venv --requirements it built a fresh venv and installed ansible-core's and its own
# requirements into it on every run, about 18 of the 44 CPU-seconds a release's units took. It runs them with one
# pytest-xdist worker: the same tests, 5 CPU-seconds less than a worker per core (the stage shares the machine
# anyway).
#
# Why a script and not antsibull-nox or tox-ansible: antsibull-nox 1.10.0 (read 2026-12) runs its sanity and
# units sessions with `ansible-test ... --docker` (the default test container, from quay.io) and installs
# ansible-core from GitHub archives by default; tox-ansible 26.10.0 installs ansible-core through
# ansible-dev-environment from GitHub's stable-X.Y branches, and its matrix starts at 2.19. Neither quay.io nor
# GitHub is reachable on the test machines, PyPI is: so each release comes from PyPI and ansible-test runs
# with --venv.
#
# Usage: scripts/ansible-test.sh [all|sanity|units] [extra ansible-test arguments...]
#   e.g. scripts/ansible-test.sh sanity --test validate-modules
#        scripts/ansible-test.sh units tests/unit/plugins/modules/test_vip_check.py
#      scripts/ansible-test.sh venv VERSION
#   makes (once) the venv of the matrix release VERSION (2.16, or 2.16.19) and prints its path: the molecule
#   scenarios of the oldest and the newest release run their playbooks with it (scripts/setup.sh links them).
#      scripts/ansible-test.sh matrix [2.16 2.21 ...]
#   sanity (all sanity tests that apply, no ignore files) and the unit tests with each ansible-core of MATRIX below,
#   or only the releases named. Sanity checks the whole checkout with the newest release, and with the others what
#   the collection ships (galaxy.yml's build_ignore left out: shipped_targets below): tests, molecule, the test bed,
#   the benchmarks and the scripts run with .venv's ansible-core and Python alone, and ruff checks them on every
#   run; 2.18's sanity took 67 CPU-seconds on the whole checkout and 33-35 on what ships (idle machine, 2026-12-07).
#   The unit tests run under `ansible-test units` with the oldest and the newest release
#   (its harness runs every test in a forked process of its own: 37 CPU-seconds a release against 8 for plain pytest)
#   and under plain pytest, with that release's venv, for the releases between (HAPAIR_MATRIX_UNITS=ansible-test: under
#   ansible-test with every release). Each release gets its own venv, .venv-matrix/ansible-core-<version>-py<python>,
#   made once and kept (2.19 uses .venv itself when it has that release and Python), and runs with the first
#   Python of its list that this machine has (on PATH or under ~/.pyenv/versions). A release whose Pythons are
#   all missing is reported as SKIPPED, loudly, in the summary; it does not fail the run unless
#   HAPAIR_MATRIX_REQUIRE_ALL=1. The run fails if any sanity, units or pytest run failed.
#      scripts/ansible-test.sh prime [2.16 2.21 ...]
#   makes what the matrix needs and runs no test: each release's venv and ansible-test's sanity venvs
#   (`ansible-test sanity --prime-venvs`, once: a release's stamp in ~/.ansible/test/venv says it was done, and goes
#   with that directory). On a fresh machine the first sanity run of a release spent 590-608 s under the molecule
#   lanes (2026-12-06), against 108-119 s once its venvs existed, and priming them at the lowest priority under the
#   lanes took 1317 s: scripts/test.sh primes them before the lanes start, at the same time as the node images.
#   HAPAIR_MATRIX_PYTEST="PATH..." also runs pytest on those paths (files or directories, relative to the
#   checkout) for each release, with that release's ansible-playbook first on PATH and its Python running
#   pytest (for example tests/integration/test_validation.py). HAPAIR_MATRIX_PYTEST_DONE=VERSION: the caller already
#   ran those paths and tests/unit with that release under plain pytest (scripts/test-controller.sh, with .venv's):
#   not again (unless it is the oldest or the newest, whose units run under ansible-test), and its row says so.
#   Releases run in HAPAIR_MATRIX_JOBS lanes at once (default 2; releases with the same Python share a lane).
#   Each release's whole output goes to tests/output/matrix/<version>.log (prime: tests/output/matrix-prime/); the
#   log of a failed release is printed at the end, then a summary row per release with its times. A release holds
#   a lock per Python (~/.ansible/test/.hapair-pyX.Y.lock) while it runs: ansible-test's venvs of one Python are
#   shared, and a prime and a matrix (or two runs) must not make the same one at once.
# HAPAIR_KEEP_TMP=1 keeps the copy (and its tests/output) and prints where it is.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

what=${1:-all}
if [ "$#" -gt 0 ]; then
  shift
fi
case "$what" in
  all | sanity | units | matrix | prime | venv) ;;
  *)
    echo "usage: $0 [all|sanity|units] [extra ansible-test arguments...] | $0 matrix|prime [VERSION...] | $0 venv VERSION" >&2
    exit 2
    ;;
esac
if [ "$what" = all ] && [ "$#" -gt 0 ]; then
  echo "$0: extra arguments need 'sanity' or 'units' as the first argument" >&2
  exit 2
fi

# The matrix: an ansible-core release, then the Pythons to run it with, in order of preference (each must be a
# controller Python of that release: 3.10-3.12 for 2.16 and 2.17, 3.11-3.13 for 2.18 and 2.19, 3.12-3.14 for
# 2.20 and 2.21). Keep it in step with meta/runtime.yml, README.md (Supported platforms) and
# execution-environment.yml.
MATRIX=(
  "2.16.19 3.11 3.12"
  "2.17.14 3.12 3.11"
  "2.18.19 3.11 3.12 3.13"
  "2.19.14 3.11 3.12 3.13"
  "2.20.10 3.12 3.13"
  "2.21.5 3.13 3.12"
)

# ansible-core 2.19 needs a 3.11+ controller; Debian 12 has 3.11.
python_version=${HAPAIR_TEST_PYTHON:-3.11}

# ansible-test bootstraps pip in each virtual environment it makes with a get-pip.py that it downloads
# from Ansible's CI file server, which cannot be reached from here; it uses a copy from its cache
# when there is one. The stand-in below does the same job with the standard library's pip wheel and PyPI. It is
# (re)written when the cache has no such file or an older stand-in. Each ansible-test release pins its own pip
# version (23.1.2 for 2.16 and 2.17, 24.2 for 2.18 and 2.19, 25.2 for 2.20 and 2.21), hence one file per version.
# uv (pinned in requirements-dev.txt, on PATH from .venv) installs the pinned pip (and setuptools and wheel, when
# asked) from PyPI into the venv: 0.1 CPU-seconds a venv. Without uv, or when it fails, the pip of the Python's own
# ensurepip wheel does it at once, without compiling: 2.6 CPU-seconds (ensurepip's install and then the pinned pip's
# over it, both compiled, took 7.8; Python 3.11, 2026-12-06/07). Priming makes about 9 venvs per release of the
# matrix, before the molecule lanes start.
# Usage: ensure_pip_bootstrap PYTHON_WITH_ANSIBLE_TEST PYTHON_VERSION
ensure_pip_bootstrap() {
  local version cache tmp_cache
  # the pip version ansible-test pins for its virtual environments (internal API of ansible-test, the same
  # from 2.16 to 2.21)
  version=$("$1" - "$2" <<'PY'
import sys

from ansible_test._internal.host_configs import NativePythonConfig
from ansible_test._internal.python_requirements import get_venv_packages

print(get_venv_packages(NativePythonConfig(version=sys.argv[1], path=sys.executable))['pip'])
PY
  )
  cache="$HOME/.ansible/test/cache/get_pip_${version//./_}.py"
  mkdir -p "$(dirname "$cache")"
  tmp_cache=$(mktemp "$cache.XXXXXX")
  cat > "$tmp_cache" <<'PY'
# Stand-in for get-pip.py (hapair stand-in 3), written by hapair.loadbalancer's scripts/ansible-test.sh because the
# real one cannot be downloaded here. Same interface: pip install arguments plus --no-setuptools and --no-wheel.
# uv on PATH installs the packages named (from PyPI, trusting the system's certificate store: ansible-test passes
# no SSL_CERT_FILE); without uv, or when it fails, the pip wheel of the Python's ensurepip (pip runs from its wheel)
# installs the arguments, uncompiled; where that wheel is missing (a distribution's Python), pip is installed with
# ensurepip first.
import glob
import os
import shutil
import subprocess
import sys

SKIP = {'--no-setuptools': 'setuptools', '--no-wheel': 'wheel'}
args = [arg for arg in sys.argv[1:] if arg not in SKIP]
unwanted = [SKIP[arg] for arg in sys.argv[1:] if arg in SKIP]
uv = shutil.which('uv')
if uv:
    packages = [arg for arg in args if not arg.startswith('-')]
    try:
        subprocess.check_call([uv, 'pip', 'install', '--quiet', '--system-certs', '--python', sys.executable] + packages)
        sys.exit(0)
    except (OSError, subprocess.CalledProcessError) as exc:
        print('uv could not install %s (%s): with pip instead' % (' '.join(packages), exc), file=sys.stderr)
try:
    import ensurepip
    wheels = sorted(glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), '_bundled', 'pip-*.whl')))
except ImportError:
    wheels = []
if wheels:
    subprocess.check_call([sys.executable, os.path.join(wheels[-1], 'pip'), 'install', '--no-compile'] + args)
else:
    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'], stdout=subprocess.DEVNULL)
    subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + args)
    if unwanted:
        # ensurepip brings setuptools along on Python < 3.12; get-pip.py leaves it out when asked to.
        subprocess.check_call([sys.executable, '-m', 'pip', 'uninstall', '-q', '-y'] + unwanted, stderr=subprocess.DEVNULL)
PY
  if cmp -s "$tmp_cache" "$cache"; then
    rm -f "$tmp_cache"
  else
    step "Writing a pip bootstrap script for ansible-test: $cache"
    mv "$tmp_cache" "$cache"
  fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hapair-ansible-test.XXXXXX")
if [ "${HAPAIR_KEEP_TMP:-0}" = 1 ]; then
  trap 'echo "kept the copy in $tmp"' EXIT
else
  trap 'rm -rf "$tmp"' EXIT
fi

# Usage: copy_collection DIR - the collection as git would commit it, in DIR/ansible_collections/hapair/loadbalancer
copy_collection() {
  local collection="$1/ansible_collections/hapair/loadbalancer"
  mkdir -p "$collection"
  step "Copying the collection to $collection"
  # -co --exclude-standard: tracked files plus new files that are not ignored. Files deleted from the
  # work tree but still in the index are skipped (tar would fail on them).
  (
    cd "$HAPAIR_ROOT" || exit
    git ls-files -z -co --exclude-standard -- . ':(exclude)playbooks/collections' |
      while IFS= read -r -d '' file; do
        if [ -e "$file" ] || [ -L "$file" ]; then
          printf '%s\0' "$file"
        fi
      done |
      tar --null --no-recursion -T - -cf -
  ) | tar -C "$collection" -xf -
  echo "$(find "$collection" -type f -o -type l | wc -l) files"
  # ansible-test lists the collection's files with git when it finds a repository, otherwise it walks
  # the tree. The copy only holds what git would commit, so a repository adds nothing: none is made.
}

# Usage: run_ansible_test RESULT_KEY PYTHON_VERSION PART [ansible-test arguments...]
# Runs ansible-test (the first on PATH) in the current directory; records the outcome in result[RESULT_KEY].
# sanity in venvs of ansible-test's own (--venv); units with the first pythonX.Y on PATH (--local: the release's
# venv, see above).
declare -A result=()
status=0
run_ansible_test() {
  local key=$1 python=$2 part=$3 start=$SECONDS isolation=(--venv)
  shift 3
  if [ "$part" = units ]; then
    isolation=(--local --num-workers 1)
  fi
  step "ansible-test $part with ansible-core $(python -c 'import ansible; print(ansible.__version__)') (Python $python)"
  if ansible-test "$part" "${isolation[@]}" --python "$python" "$@"; then
    result[$key]="passed in $((SECONDS - start)) s"
  else
    result[$key]="FAILED after $((SECONDS - start)) s"
    status=1
  fi
}

if [ "$what" != matrix ] && [ "$what" != prime ] && [ "$what" != venv ]; then
  copy_collection "$tmp"
  cd "$tmp/ansible_collections/hapair/loadbalancer" || exit
  ensure_pip_bootstrap python "$python_version"
  if [ "$what" = all ] || [ "$what" = sanity ]; then
    run_ansible_test sanity "$python_version" sanity "$@"
  fi
  if [ "$what" = all ] || [ "$what" = units ]; then
    run_ansible_test units "$python_version" units "$@"
  fi
  step "Summary"
  for part in sanity units; do
    if [ -n "${result[$part]:-}" ]; then
      echo "ansible-test $part: ${result[$part]}"
    fi
  done
  exit "$status"
fi

# ---- the matrix (and its priming) ----------------------------------------------------------------------------

# Usage: find_python X.Y - prints the path of a working Python X.Y (with venv and ensurepip): pythonX.Y on PATH,
# else the newest ~/.pyenv/versions/X.Y.*/bin/pythonX.Y. pyenv's shims are on PATH for every version but only
# work for the versions pyenv has selected; each candidate is tried.
find_python() {
  local want=$1 candidate
  for candidate in $(command -v "python$want" 2> /dev/null) \
    $(printf '%s\n' "$HOME/.pyenv/versions/$want".*/bin/"python$want" | sort -rV); do
    if [ -x "$candidate" ] && "$candidate" -c "import ensurepip, sys, venv; sys.exit(sys.version_info[:2] != tuple(map(int, '$want'.split('.'))))" \
      2> /dev/null; then
      # the interpreter itself, not a venv's link to it (.venv/bin comes first on PATH)
      "$candidate" -c 'import sys; print(getattr(sys, "_base_executable", sys.executable))'
      return 0
    fi
  done
  return 1
}

# Usage: ensure_venv CORE_VERSION PYTHON - prints the venv (made or updated if needed) with ansible-core
# CORE_VERSION and the test pins of requirements-dev.txt (pytest and what ansible-test units needs, and ansible-core's
# cryptography) on PYTHON. .venv itself when it has them all already.
read -r -a test_pins <<< "$(grep -E '^(pytest|pytest-mock|pytest-xdist|mock|prometheus-client|cryptography)==' "$HAPAIR_ROOT/requirements-dev.txt" | tr '\n' ' ')"
matrix_dir=${HAPAIR_MATRIX_DIR:-$HAPAIR_ROOT/.venv-matrix}
ensure_venv() {
  local core=$1 python=$2 pyver venv want
  pyver=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  if [ "$("$HAPAIR_ROOT/.venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2> /dev/null)" = "$pyver" ] &&
    [ "$("$HAPAIR_ROOT/.venv/bin/python" -c 'import ansible; print(ansible.__version__)' 2> /dev/null)" = "$core" ] &&
    "$HAPAIR_ROOT/.venv/bin/python" -c 'import mock, prometheus_client, pytest, pytest_mock, xdist' 2> /dev/null; then
    echo "$HAPAIR_ROOT/.venv"
    return
  fi
  venv="$matrix_dir/ansible-core-$core-py$pyver"
  want="ansible-core==$core ${test_pins[*]} $python"
  if [ "$(cat "$venv/.hapair-matrix" 2> /dev/null)" != "$want" ]; then
    step "Making $venv: ansible-core $core, ${test_pins[*]}, Python $pyver ($python)" >&2
    rm -rf "$venv"
    # As scripts/setup.sh makes .venv: with uv where .venv has it (2 CPU-seconds against pip's 10), else pip; neither
    # compiles (only the modules imported get compiled, when first imported).
    if command -v uv > /dev/null && "$python" -m venv --without-pip "$venv" >&2 &&
      uv pip install -q --system-certs --python "$venv/bin/python" "ansible-core==$core" "${test_pins[@]}" >&2; then
      :
    else
      rm -rf "$venv"
      "$python" -m venv "$venv" >&2
      "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-compile "ansible-core==$core" "${test_pins[@]}" \
        2> >(grep -v "is ignored: it is neither a file nor a directory" >&2) >&2
    fi
    echo "$want" > "$venv/.hapair-matrix"
  fi
  echo "$venv"
}

if [ "$what" = venv ]; then
  for entry in "${MATRIX[@]}"; do
    read -r core pythons <<< "$entry"
    if [ "$core" = "${1:?which release}" ] || [[ $core == "$1".* ]]; then
      for candidate in $pythons; do
        if python=$(find_python "$candidate"); then
          ensure_venv "$core" "$python"
          exit 0
        fi
      done
      echo "$0: no Python ${pythons// / or } for ansible-core $core (looked on PATH and in ~/.pyenv/versions)" >&2
      exit 1
    fi
  done
  echo "$0: ansible-core $1 is not a release of the matrix" >&2
  exit 2
fi

read -r -a pytest_paths <<< "${HAPAIR_MATRIX_PYTEST:-}"
# ansible-test units (its harness: the collection loader, one forked process per test) runs with the oldest and the
# newest release; the releases between run the same unit tests with plain pytest and their own ansible-core.
oldest_core=${MATRIX[0]%% *}
newest_core=${MATRIX[-1]%% *}
logs=$HAPAIR_ROOT/tests/output/matrix$([ "$what" = matrix ] || echo -prime)
mkdir -p "$logs"

# Usage: run_release CORE PYVER PYTHON - sanity, units and the pytest paths with one ansible-core release; all
# output goes to $logs/CORE.log, the summary row to $logs/CORE.row, the exit status (0 or 1) to $logs/CORE.status.
run_release() {
  local core=$1 pyver=$2 python=$3 start=$SECONDS lock_fd
  local log=$logs/$core.log
  result=()
  status=0
  echo "ansible-core $core, Python $pyver: starting; log: $log"
  mkdir -p "$HOME/.ansible/test"
  exec {lock_fd}> "$HOME/.ansible/test/.hapair-py$pyver.lock"
  flock "$lock_fd"
  release_body "$core" "$pyver" "$python" > "$log" 2>&1
  exec {lock_fd}>&-
  printf '%-9s %-6s sanity: %-27s units: %-28s pytest: %-22s %4s s%s\n' "$core" "$pyver" "${result[sanity]:-not run}" \
    "${result[units]:-not run}" "${result[pytest]:-not run}" "$((SECONDS - start))" "${result[setup]:+  ${result[setup]}}" \
    > "$logs/$core.row"
  echo "$status" > "$logs/$core.status"
  echo "ansible-core $core done: $(cat "$logs/$core.row")"
}

# Usage: shipped_targets - in the collection's copy, ansible-test's targets for what the collection ships: each
# top-level file and directory (a directory with its slash) that galaxy.yml's build_ignore does not leave out.
shipped_targets() {
  python - <<'PY'
import fnmatch
import os

import yaml

with open('galaxy.yml', encoding='utf-8') as handle:
    ignored = yaml.safe_load(handle)['build_ignore']
for name in sorted(os.listdir('.')):
    if not any(fnmatch.fnmatch(name, pattern) for pattern in ignored):
        print(name + ('/' if os.path.isdir(name) else ''))
PY
}

# Usage: release_body CORE PYVER PYTHON (see run_release). errexit does not apply here (the caller's output is
# redirected), so each step is checked.
release_body() {
  local core=$1 pyver=$2 python=$3 venv version_path pytest_start units_start
  local primed_stamp=$HOME/.ansible/test/venv/.hapair-primed-$core-py$pyver
  if [ "$what" = prime ]; then
    result[units]="not run (priming)"
    result[pytest]="not run (priming)"
    # Primed before: nothing to make here (the matrix makes the release's venv when this checkout has none).
    if [ -e "$primed_stamp" ]; then
      result[sanity]="venvs primed before"
      return
    fi
  fi
  if ! venv=$(ensure_venv "$core" "$python"); then
    result[setup]="setup FAILED: the venv for ansible-core $core (see the log)"
    status=1
    return
  fi
  # ansible-test --venv --python X.Y looks for pythonX.Y on PATH: the chosen one comes first (a pyenv shim
  # further on may not work), and this release's ansible-test, ansible-doc and ansible-playbook before that.
  version_path="$venv/bin:$(dirname "$python"):$PATH"
  if ! PATH=$version_path ensure_pip_bootstrap "$venv/bin/python" "$pyver" || ! copy_collection "$tmp/$core" ||
    ! cd "$tmp/$core/ansible_collections/hapair/loadbalancer"; then
    result[setup]="setup FAILED: pip bootstrap or the copy (see the log)"
    status=1
    return
  fi
  if [ "$what" = prime ]; then
    if PATH=$version_path run_ansible_test sanity "$pyver" sanity --prime-venvs; then
      touch "$primed_stamp"
    fi
    cd "$HAPAIR_ROOT" && rm -rf "${tmp:?}/$core"
    return
  fi
  if [ "$core" = "$newest_core" ]; then
    PATH=$version_path run_ansible_test sanity "$pyver" sanity
  else
    local targets=()
    mapfile -t targets < <(shipped_targets)
    PATH=$version_path run_ansible_test sanity "$pyver" sanity "${targets[@]}"
    result[sanity]="${result[sanity]} (ships)"
  fi
  if [ "${HAPAIR_MATRIX_UNITS:-}" = ansible-test ] || [ "$core" = "$oldest_core" ] || [ "$core" = "$newest_core" ]; then
    PATH=$version_path run_ansible_test units "$pyver" units
  elif [ "$core" = "${HAPAIR_MATRIX_PYTEST_DONE:-}" ]; then
    result[units]="pytest, ran before"
  else
    units_start=$SECONDS
    step "pytest tests/unit with ansible-core $core (Python $pyver), in the copy"
    if PATH=$version_path PYTHONPATH="$tmp/$core" "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/unit; then
      result[units]="pytest, passed in $((SECONDS - units_start)) s"
    else
      result[units]="pytest, FAILED after $((SECONDS - units_start)) s"
      status=1
    fi
  fi
  cd "$HAPAIR_ROOT" && rm -rf "${tmp:?}/$core"
  if [ "${#pytest_paths[@]}" -gt 0 ] && [ "$core" = "${HAPAIR_MATRIX_PYTEST_DONE:-}" ]; then
    result[pytest]="ran before (${HAPAIR_MATRIX_PYTEST_DONE})"
  elif [ "${#pytest_paths[@]}" -gt 0 ]; then
    pytest_start=$SECONDS
    step "pytest ${pytest_paths[*]} with ansible-core $core (Python $pyver)"
    if PATH=$version_path "$venv/bin/python" -m pytest -q -p no:cacheprovider "${pytest_paths[@]}"; then
      result[pytest]="passed in $((SECONDS - pytest_start)) s"
    else
      result[pytest]="FAILED after $((SECONDS - pytest_start)) s"
      status=1
    fi
  else
    result[pytest]="not asked for"
  fi
}

# Pick each release's Python; a release with none is skipped, loudly.
declare -a rows=() selected=() runnable=()
declare -A release_python=() release_pyver=()
skipped=0
for entry in "${MATRIX[@]}"; do
  read -r core pythons <<< "$entry"
  if [ "$#" -gt 0 ]; then
    wanted=false
    for pattern in "$@"; do
      if [ "$core" = "$pattern" ] || [[ $core == "$pattern".* ]]; then
        wanted=true
      fi
    done
    if [ "$wanted" = false ]; then
      continue
    fi
  fi
  selected+=("$core")
  python=
  for candidate in $pythons; do
    if python=$(find_python "$candidate"); then
      release_pyver[$core]=$candidate
      break
    fi
  done
  if [ -z "$python" ]; then
    message="SKIPPED: no Python ${pythons// / or } (looked for python${pythons%% *} etc. on PATH and in ~/.pyenv/versions)"
    step "ansible-core $core: $message"
    rows+=("$(printf '%-9s %-6s %s' "$core" - "$message")")
    skipped=$((skipped + 1))
    continue
  fi
  release_python[$core]=$python
  runnable+=("$core")
done
if [ "${#selected[@]}" -eq 0 ]; then
  echo "$0: no ansible-core release of the matrix matches: $*" >&2
  exit 2
fi

# Lanes: HAPAIR_MATRIX_JOBS (default 2, one per core) releases run at the same time. ansible-test keeps its sanity
# venvs in ~/.ansible/test/venv/<test>/<python version>/<hash>, shared by every release with the same requirements,
# and two runs must not build the same one at once: releases with the same Python share a lane. The lanes are
# filled largest Python group first, each group into the lane with the fewest releases so far.
jobs=${HAPAIR_MATRIX_JOBS:-2}
declare -a lanes=()
for pyver in $(for core in "${runnable[@]}"; do echo "${release_pyver[$core]}"; done | sort | uniq -c | sort -rn |
  awk '{print $2}'); do
  group=()
  for core in "${runnable[@]}"; do
    if [ "${release_pyver[$core]}" = "$pyver" ]; then
      group+=("$core")
    fi
  done
  best=0
  for ((lane = 0; lane < jobs; lane++)); do
    if [ "$(wc -w <<< "${lanes[$lane]:-}")" -lt "$(wc -w <<< "${lanes[$best]:-}")" ]; then
      best=$lane
    fi
  done
  lanes[best]="${lanes[$best]:-} ${group[*]}"
done

matrix_start=$SECONDS
step "ansible-core matrix: ${runnable[*]:-nothing to run} in ${#lanes[@]} lane(s); logs in $logs"
declare -a lane_pids=()
for lane in "${lanes[@]}"; do
  (
    for core in $lane; do
      run_release "$core" "${release_pyver[$core]}" "${release_python[$core]}"
    done
  ) &
  lane_pids+=("$!")
done
for pid in "${lane_pids[@]}"; do
  wait "$pid" || status=1
done

for core in "${runnable[@]}"; do
  rows+=("$(cat "$logs/$core.row" 2> /dev/null || echo "$core: no result (see $logs/$core.log)")")
  if [ "$(cat "$logs/$core.status" 2> /dev/null)" != 0 ]; then
    status=1
    step "Log of ansible-core $core ($logs/$core.log)"
    cat "$logs/$core.log"
  fi
done
step "Matrix $([ "$what" = matrix ] && echo summary || echo primed) (${#selected[@]} ansible-core releases, $((SECONDS - matrix_start)) s)"
printf '%s\n' "${rows[@]}"
if [ "$skipped" -gt 0 ]; then
  printf '\033[1;31m%s\033[0m\n' "$skipped ansible-core release(s) SKIPPED: their Python is missing on this machine"
  if [ "${HAPAIR_MATRIX_REQUIRE_ALL:-0}" = 1 ]; then
    status=1
  fi
fi
exit "$status"
