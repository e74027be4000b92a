# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The changelog: valid fragments, a valid changelogs/changelog.yaml, and a CHANGELOG.md that is up to date.

scripts/changelog.sh --check lints the fragments (``antsibull-changelog lint``) and, once galaxy.yml's
version is in changelog.yaml, regenerates changelog.yaml and CHANGELOG.md in a temporary copy and
compares: a fragment added, edited or removed since the last ``scripts/changelog.sh`` fails here.
Takes about 5 seconds.
"""

from __future__ import annotations

import os
import subprocess

import yaml

from conftest import REPO, galaxy_version, tool


def _run(command):
    return subprocess.run(command, cwd=REPO, check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=300)


def test_changelog_yaml_is_valid_and_holds_this_version():
    proc = _run([tool('antsibull-changelog'), 'lint-changelog-yaml', os.path.join('changelogs', 'changelog.yaml')])
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout
    with open(os.path.join(REPO, 'changelogs', 'changelog.yaml')) as handle:
        releases = yaml.safe_load(handle)['releases']
    with open(os.path.join(REPO, 'changelogs', 'config.yaml')) as handle:
        config = yaml.safe_load(handle)
    assert config['keep_fragments'] is True
    assert [output['file'] for output in config['output']] == ['CHANGELOG.md']
    # The first release is 1.0.0; later versions of galaxy.yml may be unreleased yet.
    assert '1.0.0' in releases
    if galaxy_version() == '1.0.0':
        assert releases['1.0.0']['changes'].get('release_summary')


def test_fragments_lint_and_changelog_is_up_to_date():
    proc = _run(['bash', os.path.join(REPO, 'scripts', 'changelog.sh'), '--check'])
    assert proc.returncode == 0, proc.stdout
