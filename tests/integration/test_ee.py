# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The execution environment definition and the ansible-runner layout of docs/execution-environment.md.

- execution-environment.yml names what the collection needs at run time and no more, with the
  ansible-core range of meta/runtime.yml, and ``ansible-builder create`` turns it into a build context
  that installs the tarball scripts/build-collection.sh writes. No image is built (no container
  runtime here).
- ansible-runner, with process isolation off (no container), runs hapair.loadbalancer.site from the
  installed tarball in the private data dir layout the documentation shows (env/, inventory/, project/),
  with Ansible Vault values (the key and the bad input, vaulted with ``ansible-vault encrypt_string``): the one bad
  input, and nothing else, stops it in validation.

SAFETY: the run targets two fake hosts that are both this machine (``ansible_connection: local``; conftest.py's fake
pair, with its facts in ansible-runner's fact cache). One input is deliberately bad, so validation stops every host
before anything could change; env/cmdline ALWAYS passes ``--check`` as well, so no task could change this machine
even if validation let it through; and ``ansible_python_interpreter`` is ``/bin/false``, so no module can run on it.

Takes about 15 seconds.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import tarfile

import pytest
import yaml

from conftest import REPO, fake_pair_inventory, galaxy_version, hermetic_env, tool

EE_FILE = os.path.join(REPO, 'execution-environment.yml')
TARBALL_NAME = 'hapair-loadbalancer-%s.tar.gz' % galaxy_version()

VAULT_PASSWORD = 'not-a-real-vault-password'
# The bad input, vaulted: the message that names it proves that the vault password reached the run.
BAD_NODE_NAME = 'lb_2!'
BAD_NODE_NAME_MESSAGE = "Host haddock: hapair_node_name 'lb_2!' is not a valid hostname"
# A valid key, vaulted the way docs/execution-environment.md shows.
AUTH_KEY = '0c3f5e8a9b7d6c1e2f4a5b6c7d8e9f01'


@pytest.fixture(scope='module')
def ee():
    with open(EE_FILE) as handle:
        return yaml.safe_load(handle)


def _requires_ansible_lower_bound():
    with open(os.path.join(REPO, 'meta', 'runtime.yml')) as handle:
        requires = yaml.safe_load(handle)['requires_ansible']
    match = re.fullmatch(r'>=(\d+\.\d+\.\d+)(,<\S+)?', requires.replace(' ', ''))
    assert match, requires
    return match.group(1)


def test_definition_names_what_the_collection_needs_and_no_more(ee):
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    import ansible

    assert ee['version'] == 3
    base = ee['images']['base_image']['name']
    # A fully qualified image name with a tag, so that podman and docker pull the same image.
    assert re.fullmatch(r'[a-z0-9.-]+\.[a-z]+/[a-z0-9._/-]+:[A-Za-z0-9._-]+', base), base
    deps = ee['dependencies']
    # ansible-core: the range meta/runtime.yml allows, containing the version the tests run with.
    name, _sep, spec = deps['ansible_core']['package_pip'].partition('>=')
    assert name == 'ansible-core', deps['ansible_core']
    specifiers = SpecifierSet('>=' + spec)
    assert Version(ansible.__version__) in specifiers, (ansible.__version__, str(specifiers))
    assert any(s.operator == '>=' and s.version == _requires_ansible_lower_bound() for s in specifiers), str(specifiers)
    assert any(s.operator == '<' for s in specifiers), 'ansible-core needs an upper bound: ' + str(specifiers)
    assert deps['ansible_runner']['package_pip'].startswith('ansible-runner')
    # No Python or system packages: the collection needs none (managed nodes need python3 only).
    assert 'python' not in deps and 'system' not in deps, deps
    # The collection itself, from the tarball scripts/build-collection.sh writes, and nothing else.
    assert deps['galaxy'] == {'collections': [{'name': 'collections/' + TARBALL_NAME, 'type': 'file'}]}, deps['galaxy']
    assert ee['additional_build_files'] == [{'src': 'build/' + TARBALL_NAME, 'dest': 'collections'}]


def test_ansible_builder_create_writes_a_build_context(installed_collection, tmp_path):
    # The definition next to a build/ with the tarball, as in a checkout after scripts/build-collection.sh.
    shutil.copy(EE_FILE, str(tmp_path / 'execution-environment.yml'))
    (tmp_path / 'build').mkdir()
    shutil.copy(installed_collection.tarball, str(tmp_path / 'build' / TARBALL_NAME))
    context = tmp_path / 'context'
    proc = subprocess.run([tool('ansible-builder'), 'create', '-f', 'execution-environment.yml', '-c', str(context)],
                          cwd=str(tmp_path), check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout
    containerfile = (context / 'Containerfile').read_text()
    with open(EE_FILE) as handle:
        ee = yaml.safe_load(handle)
    assert 'ARG EE_BASE_IMAGE="%s"' % ee['images']['base_image']['name'] in containerfile
    assert ee['dependencies']['ansible_core']['package_pip'] in containerfile
    assert re.search(r'^RUN .*ansible-galaxy collection install .*-r requirements\.yml', containerfile, re.M), containerfile
    with open(str(context / '_build' / 'requirements.yml')) as handle:
        assert yaml.safe_load(handle) == {'collections': [{'name': 'collections/' + TARBALL_NAME, 'type': 'file'}]}
    copied = context / '_build' / 'collections' / TARBALL_NAME
    with open(str(copied), 'rb') as handle, open(installed_collection.tarball, 'rb') as original:
        assert handle.read() == original.read()
    with tarfile.open(str(copied)) as tar:
        info = json.load(tar.extractfile('MANIFEST.json'))['collection_info']
    assert (info['namespace'], info['name'], info['dependencies']) == ('hapair', 'loadbalancer', {})
    # No Python or system requirements of our own in the context.
    assert not (context / '_build' / 'requirements.txt').exists()
    assert not (context / '_build' / 'bindep.txt').exists()

    # The image's galaxy stage, without the image: the Containerfile's two ansible-galaxy commands, run in
    # the context's _build directory (the image's WORKDIR /build) into an empty collections path.
    target = tmp_path / 'usr-share-ansible'
    env = hermetic_env(tmp_path, target / 'collections')
    env['ANSIBLE_GALAXY_DISABLE_GPG_VERIFY'] = '1'
    for command in (['ansible-galaxy', 'role', 'install', '-r', 'requirements.yml', '--roles-path', str(target / 'roles')],
                    ['ansible-galaxy', 'collection', 'install', '-r', 'requirements.yml', '--collections-path',
                     str(target / 'collections')]):
        assert ' '.join(command[:3]) in containerfile
        proc = subprocess.run([tool(command[0])] + command[1:], cwd=str(context / '_build'), env=env, check=False,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout
    assert (target / 'collections' / 'ansible_collections' / 'hapair' / 'loadbalancer' / 'MANIFEST.json').is_file()


def _vaulted(env, name, value):
    """`NAME: !vault |` YAML for value, from ansible-vault encrypt_string."""
    proc = subprocess.run([tool('ansible-vault'), 'encrypt_string', '--vault-password-file',
                           env['HAPAIR_VAULT_PASSWORD_FILE'], '--name', name, value], env=env, check=False,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return '---\n' + proc.stdout


def test_ansible_runner_runs_the_site_playbook_without_containers(installed_collection, tmp_path, fact_cache):
    """ansible-runner in the documented layout; --check ALWAYS and a bad input (see the module docstring)."""
    data = tmp_path / 'runner'
    artifacts = data / 'artifacts' / 'site'
    # The fake hosts' facts, where ansible-runner points Ansible's fact cache (ARTIFACTS/fact_cache).
    shutil.copytree(fact_cache, str(artifacts / 'fact_cache'))
    # Only the collection installed next to the playbook is visible (project/collections).
    env = hermetic_env(tmp_path, tmp_path / 'no-collections', facts=artifacts / 'fact_cache')
    password_file = tmp_path / 'vault-password'
    password_file.write_text(VAULT_PASSWORD)
    env['HAPAIR_VAULT_PASSWORD_FILE'] = str(password_file)

    for sub in ('env', 'inventory/group_vars/loadbalancers', 'inventory/host_vars', 'project'):
        (data / sub).mkdir(parents=True)
    proc = subprocess.run([tool('ansible-galaxy'), 'collection', 'install', '--offline', '--force', '-p',
                           str(data / 'project' / 'collections'), installed_collection.tarball], env=env, check=False,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout
    collection = data / 'project' / 'collections' / 'ansible_collections' / 'hapair' / 'loadbalancer'
    (data / 'project' / 'site.yml').write_text(
        '---\n- name: Provision the load-balancer pairs\n  ansible.builtin.import_playbook: hapair.loadbalancer.site\n')
    fake_pair_inventory(data / 'inventory' / 'hosts.yml', heartbeat_auth_key=None)
    (data / 'inventory' / 'group_vars' / 'loadbalancers' / 'vault.yml').write_text(
        _vaulted(env, 'heartbeat_auth_key', AUTH_KEY))
    (data / 'inventory' / 'host_vars' / 'haddock.yml').write_text(_vaulted(env, 'hapair_node_name', BAD_NODE_NAME))
    (data / 'env' / 'passwords').write_text(yaml.safe_dump({r'^Vault password:\s*?$': VAULT_PASSWORD}))
    (data / 'env' / 'cmdline').write_text('--check --ask-vault-pass\n')
    (data / 'env' / 'settings').write_text(yaml.safe_dump({'process_isolation': False}))

    proc = subprocess.run([tool('ansible-runner'), 'run', str(data), '-p', 'site.yml', '--ident', 'site'],
                          cwd=str(tmp_path), env=env, check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=300)
    stdout = (artifacts / 'stdout').read_text()
    assert (artifacts / 'status').read_text() == 'failed', proc.stdout
    assert (artifacts / 'rc').read_text() == '2', stdout
    assert proc.returncode == 2, proc.stdout
    assert BAD_NODE_NAME_MESSAGE in stdout, stdout
    assert '--check' in json.loads((artifacts / 'command').read_text())['command']

    events = []
    for path in sorted(glob.glob(str(artifacts / 'job_events' / '*.json'))):
        with open(path) as handle:
            events.append(json.load(handle))
    failed = [event for event in events if event.get('event') == 'runner_on_failed']
    assert failed and all(event['event_data']['task'] == 'Stop every host when any input of any host or pair is wrong'
                          for event in failed), failed
    # The vaulted bad input, and nothing else, stopped the run: the vaulted key was read as the key it is.
    messages = failed[0]['event_data']['res']['msg']
    assert len(messages) == 1 and messages[0].startswith(BAD_NODE_NAME_MESSAGE), messages
    assert not [event for event in events if event.get('event_data', {}).get('play') == 'Provision the load-balancer pairs']
    stats = [event for event in events if event.get('event') == 'playbook_on_stats'][-1]['event_data']
    assert not stats['changed'], stats
    # The roles ran from the copy installed next to the playbook, and the key never shows.
    paths = [event['event_data']['task_path'] for event in events if event.get('event_data', {}).get('task_path')]
    assert paths and all(path.startswith(str(collection) + os.sep) for path in paths), paths
    assert failed[0]['event_data']['task_path'].startswith(str(collection / 'roles' / 'hapair' / 'tasks' / 'check.yml:'))
    everything = stdout + ''.join(json.dumps(event) for event in events)
    assert AUTH_KEY not in everything
