#!/usr/bin/env bash
# Build the collection artifact from this checkout and install it, the way a user would get it.
#
#   build/hapair-loadbalancer-<version>.tar.gz        the artifact (`ansible-galaxy collection build`;
#                                                     galaxy.yml's build_ignore keeps tests, molecule,
#                                                     benchmarks, the test bed, scripts and caches out)
#   build/collections/ansible_collections/hapair/loadbalancer
#                                                     that artifact installed (`ansible-galaxy collection
#                                                     install --offline --force`): the collection has no
#                                                     dependencies, so Galaxy is never contacted
#
# Prints the tarball's path as the last line of its output. build/ is in .gitignore and in build_ignore.
# Use the installed copy with
#   ANSIBLE_COLLECTIONS_PATH="$PWD/build/collections" ansible-playbook hapair.loadbalancer.site -i INVENTORY
#
# Usage: scripts/build-collection.sh [OUTPUT_DIR]    (default: build/ in the checkout)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

out=${1:-$HAPAIR_ROOT/build}
mkdir -p "$out"
out=$(cd "$out" && pwd)

version=$(python - "$HAPAIR_ROOT/galaxy.yml" <<'PY'
import sys

import yaml

with open(sys.argv[1]) as handle:
    print(yaml.safe_load(handle)['version'])
PY
)
tarball="$out/hapair-loadbalancer-$version.tar.gz"

step "Building the collection into $out"
ansible-galaxy collection build --force --output-path "$out" "$HAPAIR_ROOT" >&2
if [ ! -f "$tarball" ]; then
  echo "$0: ansible-galaxy did not write $tarball" >&2
  exit 1
fi

step "Installing $(basename "$tarball") into $out/collections"
rm -rf "$out/collections/ansible_collections/hapair/loadbalancer"
# -p names a path outside the configured collections paths; ansible-galaxy warns about that, rightly.
ansible-galaxy collection install --offline --force --no-deps -p "$out/collections" "$tarball" >&2
if [ ! -f "$out/collections/ansible_collections/hapair/loadbalancer/MANIFEST.json" ]; then
  echo "$0: the install into $out/collections failed" >&2
  exit 1
fi

echo "$tarball"
