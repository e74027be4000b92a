#!/usr/bin/env bash
# Run `ansible-test sanity` and `ansible-test units` for the collection from a checkout.
#
# ansible-test only works inside .../ansible_collections/<namespace>/<name>, so this copies the
# git-tracked and the untracked-but-not-ignored files (`git ls-files -co --exclude-standard`, the
# same set git would commit) into a temporary <tmp>/ansible_collections/hapair/loadbalancer and runs
# ansible-test there. playbooks/collections is left out: it is a symlink back to the checkout for
# running playbooks from it, and ansible-test must not see the collection twice.
#
# No Docker here: ansible-test runs with --venv, so it builds its own virtual environments from
# PyPI (pinned by ansible-test itself) and leaves .venv alone. The sanity ones are cached in
# ~/.ansible/test/venv; the first run on a fresh machine takes a few minutes longer.
#
# Usage: scripts/ansible-test.sh [all|sanity|units] [extra ansible-test arguments...]
#   e.g. scripts/ansible-test.sh sanity --test validate-modules
#        scripts/ansible-test.sh units tests/unit/plugins/modules/test_vip_check.py
# HAPAIR_KEEP_TMP=1 keeps the copy (and its tests/output) and prints where it is.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

what=${1:-all}
if [ "$#" -gt 0 ]; then
  shift
fi
case "$what" in
  all | sanity | units) ;;
  *)
    echo "usage: $0 [all|sanity|units] [extra ansible-test arguments...]" >&2
    exit 2
    ;;
esac
if [ "$what" = all ] && [ "$#" -gt 0 ]; then
  echo "$0: extra arguments need 'sanity' or 'units' as the first argument" >&2
  exit 2
fi

# ansible-core 2.19 needs a 3.11+ controller; Debian 12 has 3.11.
python_version=${HAPAIR_TEST_PYTHON:-3.11}

# ansible-test bootstraps pip in each virtual environment it makes with a get-pip.py that it downloads
# from Ansible's CI file server, which cannot be reached from here; it uses a copy from its cache
# when there is one. The stand-in below does the same job with the standard library's ensurepip
# and PyPI. It is only written when the cache has no such file.
ensure_pip_bootstrap() {
  local version cache
  # the pip version ansible-test pins for its virtual environments (internal API of the pinned ansible-test)
  version=$(python - "$python_version" <<'PY'
import sys

from ansible_test._internal.host_configs import NativePythonConfig
from ansible_test._internal.python_requirements import get_venv_packages

print(get_venv_packages(NativePythonConfig(version=sys.argv[1], path=sys.executable))['pip'])
PY
  )
  cache="$HOME/.ansible/test/cache/get_pip_${version//./_}.py"
  if [ -e "$cache" ]; then
    return
  fi
  step "Writing a pip bootstrap script for ansible-test: $cache"
  mkdir -p "$(dirname "$cache")"
  cat > "$cache.tmp" <<'PY'
# Stand-in for get-pip.py, written by hapair.loadbalancer's scripts/ansible-test.sh because the real
# one cannot be downloaded here. Same interface: pip install arguments plus --no-setuptools and
# --no-wheel. Installs pip with ensurepip, then runs pip install with the arguments (from PyPI).
import subprocess
import sys

SKIP = {'--no-setuptools': 'setuptools', '--no-wheel': 'wheel'}
args = [arg for arg in sys.argv[1:] if arg not in SKIP]
unwanted = [SKIP[arg] for arg in sys.argv[1:] if arg in SKIP]
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + args)
if unwanted:
    # ensurepip brings setuptools along on Python < 3.12; get-pip.py leaves it out when asked to.
    subprocess.check_call([sys.executable, '-m', 'pip', 'uninstall', '-q', '-y'] + unwanted, stderr=subprocess.DEVNULL)
PY
  mv "$cache.tmp" "$cache"
}
ensure_pip_bootstrap

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hapair-ansible-test.XXXXXX")
if [ "${HAPAIR_KEEP_TMP:-0}" = 1 ]; then
  trap 'echo "kept the copy in $tmp"' EXIT
else
  trap 'rm -rf "$tmp"' EXIT
fi
collection="$tmp/ansible_collections/hapair/loadbalancer"
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

cd "$collection" || exit
declare -A took=()
status=0

run_part() {
  local part=$1
  shift
  local start=$SECONDS
  step "ansible-test $part (Python $python_version)"
  if ansible-test "$part" --venv --python "$python_version" "$@"; then
    took[$part]="passed in $((SECONDS - start)) s"
  else
    took[$part]="FAILED after $((SECONDS - start)) s"
    status=1
  fi
}

if [ "$what" = all ] || [ "$what" = sanity ]; then
  run_part sanity "$@"
fi
if [ "$what" = all ] || [ "$what" = units ]; then
  run_part units --requirements "$@"
fi

step "Summary"
for part in sanity units; do
  if [ -n "${took[$part]:-}" ]; then
    echo "ansible-test $part: ${took[$part]}"
  fi
done
exit "$status"
