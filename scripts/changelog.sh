#!/usr/bin/env bash
# Generate changelogs/changelog.yaml and CHANGELOG.md from changelogs/fragments/ with antsibull-changelog,
# for the version in galaxy.yml; or, with --check, only check that both are up to date.
#
# Every change gets a fragment in changelogs/fragments/ (see changelogs/config.yaml for the sections).
# Fragments are kept (keep_fragments: true): changelog.yaml records which fragments each release holds,
# so a fragment added, edited or removed before the release is published is picked up by running this
# script again.
#
#   scripts/changelog.sh                     lint the fragments, then add the release (or update it)
#   scripts/changelog.sh --date 2026-12-01   the same with that release date (default: the date the
#                                            release already has, else today)
#   scripts/changelog.sh --check             lint, and fail if changelog.yaml or CHANGELOG.md differ from
#                                            what the fragments give (run by tests/integration/test_changelog.py)
#
# While galaxy.yml's version is not in changelog.yaml yet (development towards the next release), --check
# only lints: new fragments wait for the next run without --check.
#
# antsibull-changelog runs on a copy of the files git would commit (like scripts/ansible-test.sh), so it
# sees new, untracked plugins as well and never writes its plugin cache into the checkout.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

check=false
date=
while [ "$#" -gt 0 ]; do
  case "$1" in
    --check) check=true ;;
    --date)
      date=${2:?--date needs YYYY-MM-DD}
      shift
      ;;
    *)
      echo "usage: $0 [--check] [--date YYYY-MM-DD]" >&2
      exit 2
      ;;
  esac
  shift
done

cd "$HAPAIR_ROOT"
step "antsibull-changelog lint"
antsibull-changelog lint

# The version to release and, if changelog.yaml has it already, its date.
read -r version released_date < <(python - <<'PY'
import os

import yaml

with open('galaxy.yml') as handle:
    version = str(yaml.safe_load(handle)['version'])
date = '-'
if os.path.exists('changelogs/changelog.yaml'):
    with open('changelogs/changelog.yaml') as handle:
        releases = (yaml.safe_load(handle) or {}).get('releases') or {}
    date = str((releases.get(version) or {}).get('release_date') or '-')
print(version, date)
PY
)
if [ "$check" = true ] && [ "$released_date" = - ]; then
  echo "Version $version is not in changelogs/changelog.yaml yet: its fragments wait for the release."
  exit 0
fi
if [ -z "$date" ]; then
  if [ "$released_date" != - ]; then
    date=$released_date
  else
    date=$(date +%Y-%m-%d)
  fi
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hapair-changelog.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
copy="$tmp/loadbalancer"
mkdir -p "$copy"
if git rev-parse --is-inside-work-tree > /dev/null 2>&1; then
  git ls-files -z -co --exclude-standard -- . ':(exclude)playbooks/collections' |
    while IFS= read -r -d '' file; do
      if [ -e "$file" ] || [ -L "$file" ]; then
        printf '%s\0' "$file"
      fi
    done |
    tar --null --no-recursion -T - -cf - | tar -C "$copy" -xf -
else
  tar --exclude=./playbooks/collections --exclude=./.venv --exclude=./build -cf - . | tar -C "$copy" -xf -
fi

step "antsibull-changelog release --version $version --date $date"
# --update-existing: the release may be in changelog.yaml already; --reload-plugins --refresh-plugins
# prevent-removal --refresh-fragments: take the plugins, their descriptions and every fragment as they are now
# (edited and removed fragments too), but keep in each release the plugins it shipped that are gone since (a
# removal is the later release's news, in its fragments).
# Updating a release whose summary fragment it already took makes antsibull-changelog warn that there is
# no summary; there is one.
(cd "$copy" && antsibull-changelog release --version "$version" --date "$date" --update-existing --reload-plugins \
  --refresh-plugins prevent-removal --refresh-fragments 2>&1) |
  { grep -v "Found no release_summary section" || true; }

status=0
for file in changelogs/changelog.yaml CHANGELOG.md; do
  if [ "$check" = true ]; then
    if ! diff -u --label "$file (checkout)" --label "$file (from the fragments)" "$file" "$copy/$file"; then
      status=1
    fi
  else
    cp "$copy/$file" "$file"
    echo "wrote $file"
  fi
done
if [ "$status" -ne 0 ]; then
  echo "$0: changelogs/changelog.yaml or CHANGELOG.md is out of date; run scripts/changelog.sh" >&2
elif [ "$check" = true ]; then
  echo "changelogs/changelog.yaml and CHANGELOG.md are up to date for $version"
fi
exit "$status"
