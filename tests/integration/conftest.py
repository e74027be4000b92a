# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared by the tests that use the collection as a user gets it: built, installed, run from elsewhere.

The session fixture ``installed_collection`` runs scripts/build-collection.sh once into a temporary
directory: the tarball (``ansible-galaxy collection build``) and its install into an otherwise empty
collections path. ``hermetic_env`` is the environment for running Ansible against that install only:
no ansible.cfg, no collections from the checkout (playbooks/collections), from ~/.ansible or from the
Python environment (the ``ansible`` package's collections), Ansible's own files in the temporary
directory.

``fact_cache`` is the fact cache of the fake hosts of fake_hosts.py (herring and haddock, one pair, and cod and
ling), filled once per session; ``hermetic_env(..., facts=COPY)`` makes Ansible read the facts from a copy of it and
gather none. ``fake_pair_inventory`` writes an inventory of herring and haddock with valid input for every role:
both are this machine (``ansible_connection: local``) with ``ansible_python_interpreter: /bin/false``, so no module
can run on them; the tests only run the site playbook against it with ``--check`` and with one bad input that stops
it in validation, before any host could change.
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_SCRIPT = os.path.join(REPO, 'scripts', 'build-collection.sh')

InstalledCollection = collections.namedtuple('InstalledCollection', 'tarball collections_path path tmp')


def tool(name):
    """An Ansible command from the Python environment running pytest (the project's .venv)."""
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    return candidate if os.path.exists(candidate) else name


def galaxy_version():
    with open(os.path.join(REPO, 'galaxy.yml')) as handle:
        return str(yaml.safe_load(handle)['version'])


def hermetic_env(tmp, collections_path, facts=None):
    """os.environ without any ANSIBLE_* setting, plus settings that see nothing but collections_path; with facts (a
    copy of the fixture fact_cache), the facts come from there and nothing gathers any."""
    env = {key: value for key, value in os.environ.items() if not key.startswith('ANSIBLE_')}
    home = os.path.join(str(tmp), 'ansible-home')
    env.update({
        'PATH': os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', ''),
        'ANSIBLE_CONFIG': os.path.join(str(tmp), 'no-ansible.cfg'),  # never written: no config from anywhere
        'ANSIBLE_HOME': home,
        'ANSIBLE_LOCAL_TEMP': os.path.join(home, 'tmp'),
        'ANSIBLE_COLLECTIONS_PATH': str(collections_path),
        'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'false',
        'ANSIBLE_ROLES_PATH': os.path.join(home, 'roles'),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_RETRY_FILES_ENABLED': 'false',
        'ANSIBLE_STDOUT_CALLBACK': 'ansible.builtin.default',
    })
    if facts:
        env.update({
            'ANSIBLE_GATHERING': 'explicit',
            'ANSIBLE_CACHE_PLUGIN': 'ansible.builtin.jsonfile',
            'ANSIBLE_CACHE_PLUGIN_CONNECTION': str(facts),
        })
    return env


@pytest.fixture(scope='session')
def installed_collection(tmp_path_factory):
    """The collection built by scripts/build-collection.sh and installed into an empty collections path."""
    tmp = tmp_path_factory.mktemp('collection')
    proc = subprocess.run(['bash', BUILD_SCRIPT, str(tmp / 'build')], cwd=REPO, check=False, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout
    tarball = proc.stdout.strip().splitlines()[-1]
    assert tarball == str(tmp / 'build' / ('hapair-loadbalancer-%s.tar.gz' % galaxy_version())), proc.stdout
    collections_path = tmp / 'build' / 'collections'
    path = collections_path / 'ansible_collections' / 'hapair' / 'loadbalancer'
    assert (path / 'MANIFEST.json').is_file(), proc.stdout
    # Nothing else in that collections path.
    assert sorted(os.listdir(str(collections_path / 'ansible_collections'))) == ['hapair']
    assert sorted(os.listdir(str(collections_path / 'ansible_collections' / 'hapair'))) == ['loadbalancer']
    return InstalledCollection(tarball, collections_path, path, tmp)


@pytest.fixture(scope='session')
def fact_cache(tmp_path_factory):
    """The fact cache of fake_hosts.py's hosts (its path), written by Ansible itself. Copy it before a run uses it."""
    import fake_hosts  # pylint: disable=import-outside-toplevel  # only the tests that run playbooks need it
    return fake_hosts.prime_fact_cache(str(tmp_path_factory.mktemp('facts')))


def fake_pair_inventory(path, **pair_vars):
    """The pair herring and haddock of fake_hosts.py, with valid input for every role unless pair_vars overrides it
    (a value of None leaves the variable out); their facts are in the fixture fact_cache. Nothing is ever sent to
    their addresses: the tests stop the site playbook in validation, and no module can run on them."""
    import fake_hosts  # pylint: disable=import-outside-toplevel  # only the tests that run playbooks need it
    hosts = fake_hosts.inventory()['all']['children']['loadbalancers']['hosts']
    for variables in hosts.values():
        variables.update(pair_vars)
        for name in [name for name, value in variables.items() if value is None]:
            del variables[name]
    with open(str(path), 'w') as handle:
        handle.write('---\n')
        yaml.dump({'loadbalancers': {'hosts': hosts}}, handle, default_flow_style=False)
    return path
