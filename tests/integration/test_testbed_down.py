# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""testbed/down.yml leaves nothing behind, whatever inventory made the containers.

A container of the three-pair test bed (or of any other inventory) keeps the test networks in use, and
molecule's destroy with one-pair.yml then failed with "network is being used". down.yml removes every
container labelled as part of the test bed, not only the inventory's. This test leaves a stray labelled
container on a test network (created, never started: that is enough to hold the network), runs
down.yml with one-pair.yml and checks that the container and both networks are gone.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import REPO, tool

IMAGE = 'localhost/hapair-node:bookworm'
STRAY = 'hapair-stray-test'
NETWORKS = {'hapair-public': '198.51.100.0/26', 'hapair-private': '198.51.100.64/26'}


def podman(*args, check=True):
    return subprocess.run(['podman', *args], capture_output=True, text=True, check=check)


@pytest.fixture
def podman_env(monkeypatch):
    if shutil.which('podman') is None or podman('image', 'exists', IMAGE, check=False).returncode != 0:
        pytest.skip('needs podman and the node image (scripts/setup.sh installs both)')
    monkeypatch.setenv('CONTAINERS_CONF', os.path.join(REPO, 'testbed', 'containers.conf'))
    yield
    podman('rm', '--force', '--ignore', STRAY, check=False)


def test_down_removes_labelled_containers_of_other_inventories(podman_env):
    for name, subnet in NETWORKS.items():
        if podman('network', 'exists', name, check=False).returncode != 0:
            podman('network', 'create', '--subnet', subnet, name)
    podman('create', '--name', STRAY, '--label', 'hapair.testbed=hapair', '--network', 'hapair-public', IMAGE, 'true')

    result = subprocess.run(
        [tool('ansible-playbook'), '-i', os.path.join(REPO, 'testbed', 'inventory', 'one-pair.yml'),
         os.path.join(REPO, 'testbed', 'down.yml')],
        cwd=REPO, capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stdout + result.stderr
    assert 'changed: [localhost] => (item=%s)' % STRAY in result.stdout
    assert podman('container', 'exists', STRAY, check=False).returncode == 1
    for name in NETWORKS:
        assert podman('network', 'exists', name, check=False).returncode == 1, name
