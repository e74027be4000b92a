# Shared shell settings for the project's scripts: source it, do not run it.
# shellcheck shell=bash
set -euo pipefail

HAPAIR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export HAPAIR_ROOT
# Podman settings of our own, so the machine's /etc/containers stays untouched.
export CONTAINERS_CONF="$HAPAIR_ROOT/testbed/containers.conf"
export PATH="$HAPAIR_ROOT/.venv/bin:$PATH"

# $SUDO prefixes the commands that need root in the scripts that source this file.
# shellcheck disable=SC2034
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi

# Print a stage heading with the time, so long runs show where they are.
step() {
  printf '\n\033[1m==> [%s] %s\033[0m\n' "$(date +%H:%M:%S)" "$*"
}

# A row of a stage-times table: NAME SECONDS.
timing() {
  printf '%-66s %5ss\n' "$1" "$2"
}
