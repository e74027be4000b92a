#!/usr/bin/env bash
# Prepare a fresh Debian 12 / Ubuntu 24.04 machine for the demo and the tests:
# apt packages (podman and friends), the Python venv with the pinned tools in
# requirements-dev.txt, and the node images. Safe to run again: it only does
# what is missing or out of date.
#
# Usage: scripts/setup.sh [all|tools|images]
#   all (the default): everything; tools: the apt packages and the venvs; images: the apt packages and the node
#   images (scripts/test.sh starts the controller tests between the two: they need the venvs, not the images).
source "$(dirname "$0")/lib.sh"

what=${1:-all}
case "$what" in
  all | tools | images) ;;
  *)
    echo "usage: $0 [all|tools|images]" >&2
    exit 2
    ;;
esac

# ansible-test sanity skips its shellcheck test when the shellcheck program is missing. The test bed's client is hey,
# its network split nftables (nft), the benchmark's CPU load stress-ng.
packages=(podman runc debootstrap containernetworking-plugins iptables catatonit git openssh-client shellcheck
  hey nftables stress-ng)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
done
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  missing+=(python3-venv)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  step "Installing apt packages: ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  step "apt packages already present"
fi

# The node images, Debian 12 (bookworm) and Debian 13 (trixie): both built at once, in the background while the
# venvs are made (debootstrap mostly waits for the mirror: 106 s one after the other on a fresh machine, 2026-12-06).
# Each build's output goes to a file of its own, printed when it ends.
declare -A image_jobs=()
if [ "$what" != tools ]; then
  image_logs=$(mktemp -d "${TMPDIR:-/tmp}/hapair-images.XXXXXX")
  trap 'rm -rf "$image_logs"' EXIT
  # podman sets up its storage on its first run: once, before two builds could race for it.
  $SUDO podman info > /dev/null
  for release in bookworm trixie; do
    "$HAPAIR_ROOT/testbed/build-image.sh" "$release" > "$image_logs/$release.log" 2>&1 &
    image_jobs[$release]=$!
  done
fi
# Usage: wait_images - waits for the image builds, prints their output; fails if one failed.
wait_images() {
  local release rc failed=0
  for release in "${!image_jobs[@]}"; do
    rc=0
    wait "${image_jobs[$release]}" || rc=$?
    cat "$image_logs/$release.log"
    if [ "$rc" != 0 ]; then
      echo "$0: the $release node image failed to build (exit $rc, output above)" >&2
      failed=1
    fi
  done
  return "$failed"
}
if [ "$what" = images ]; then
  wait_images
  exit 0
fi

python3 - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"Python 3.11 or later is needed (ansible-core 2.19); found {sys.version.split()[0]}")
PY

stamp="$HAPAIR_ROOT/.venv/.requirements.sha256"
want=$(sha256sum "$HAPAIR_ROOT/requirements-dev.txt" | cut -d' ' -f1)
if [ ! -x "$HAPAIR_ROOT/.venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  step "Creating the Python venv .venv with the pinned tools (about 10 s)"
  python3 -m venv "$HAPAIR_ROOT/.venv"
  # pip installs uv (pinned in requirements-dev.txt), and uv the rest: 5 CPU-seconds against pip's 22 (pip with
  # --no-compile; the same releases of every package, 2026-12-07). uv trusts the system's certificate store, as pip
  # does here. Neither compiles: Python compiles the modules the tools import, once, when first imported. Where uv
  # fails, pip installs them all.
  "$HAPAIR_ROOT/.venv/bin/pip" install -q --disable-pip-version-check --no-compile \
    "$(grep -E '^uv==' "$HAPAIR_ROOT/requirements-dev.txt")" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  if ! "$HAPAIR_ROOT/.venv/bin/uv" pip install -q --system-certs --python "$HAPAIR_ROOT/.venv/bin/python" \
    -r "$HAPAIR_ROOT/requirements-dev.txt"; then
    echo "$0: uv could not install requirements-dev.txt: with pip instead" >&2
    "$HAPAIR_ROOT/.venv/bin/pip" install -q --disable-pip-version-check --no-compile -r "$HAPAIR_ROOT/requirements-dev.txt" \
      2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  fi
  echo "$want" > "$stamp"
else
  step "Python venv .venv is up to date"
fi

# The oldest and the newest ansible-core the collection supports, for the molecule scenarios that provision with them
# (trixie, mixed): .venv-matrix/oldest and .venv-matrix/newest, both at once (each writing its path to a file), with
# .venv's uv (scripts/ansible-test.sh venv).
mkdir -p "$HAPAIR_ROOT/.venv-matrix"
declare -A matrix_venv_jobs=()
for wanted in "oldest 2.16" "newest 2.21"; do
  read -r name release <<< "$wanted"
  "$HAPAIR_ROOT/scripts/ansible-test.sh" venv "$release" > "$HAPAIR_ROOT/.venv-matrix/.$name.path" &
  matrix_venv_jobs[$name]=$!
done

# The oldest and the newest venvs (started above), and the test bed's collections (containers.podman, from the
# ansible package in .venv) where their ansible-playbook finds them, .venv-matrix/test-collections.
for name in oldest newest; do
  if ! wait "${matrix_venv_jobs[$name]}"; then
    echo "$0: could not make the $name ansible-core's venv (see above)" >&2
    exit 1
  fi
  ln -sfn "$(cat "$HAPAIR_ROOT/.venv-matrix/.$name.path")" "$HAPAIR_ROOT/.venv-matrix/$name"
  rm -f "$HAPAIR_ROOT/.venv-matrix/.$name.path"
done
ln -sfn "$("$HAPAIR_ROOT/.venv/bin/python" -c 'import ansible_collections, os; print(os.path.dirname(list(ansible_collections.__path__)[0]))')" \
  "$HAPAIR_ROOT/.venv-matrix/test-collections"

wait_images
