# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Smoke tests of the input check end to end: bad input stops a playbook before any host changes, with a clear
message, and the key never shows.

The input rules themselves are tested one by one, as data, by the unit tests (tests/unit/plugins/module_utils/cases/
and test_input_cases.py). What only a real ansible-playbook run shows is tested here, once per kind, on every
ansible-core release of the matrix:

- a type error, a pair error and a template failure each stop the site playbook in its check play: exit status 2,
  a message that names the variable and the host or the pair, the provisioning play never started, no key shown;
- the key never shows, also with -vvv, in a run that passes the check and in one that fails it;
- a role run alone (monitor) stops in its own check, before its first task that reads or changes a node;
- extra vars (-e) that set what the check publishes (hapair_input) or a role's internal variable
  (__heartbeat_conf_dir) are refused, naming the variable;
- an inventory with the old variable names passes the check with exactly one deprecation warning per old name,
  naming the new one, and the check publishes, and the roles' templates render, exactly what the new names give.

SAFETY: the fake hosts are THIS machine (``ansible_connection: local``). Three things keep the runs from
changing it:

- every run of the site playbook or a role is made with ``--check``, so even if the check wrongly let a run
  through, no task would change anything; the render playbook (tests/integration/render.yml) only writes into a
  temporary directory, on the controller;
- ``ansible_python_interpreter`` is ``/bin/false``: the check runs only action plugins on the controller, so no
  module ever runs on this machine, and the first module of the provisioning play fails at once;
- the facts come from a fact cache this file fills (a module's ``ansible_facts``) and fact gathering is off
  (``ANSIBLE_GATHERING=explicit``), so the hosts have fixed interfaces and addresses in 198.51.100.0/24, not
  this machine's. No packet is sent anywhere.

The runs are independent (own directory, own copy of the fact cache), so they run in parallel threads. Each run is
ansible-playbook's own entry point in a child of one playbook server (tests/integration/playbook_server.py), which
imported Ansible once.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import copy
import json
import os
import re
import shutil
import sys
import tempfile
import threading

import pytest

from playbook_server import PlaybookServer

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SITE = os.path.join(REPO, 'playbooks', 'site.yml')
RENDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'render.yml')
COLLECTIONS = os.path.join(REPO, 'playbooks', 'collections')
WORKERS = max(2, min(4, (os.cpu_count() or 2) + 1))

CHECK_PLAY = 'PLAY [Check the input of every role for every pair before any host changes]'
PROVISION_PLAY = 'PLAY [Provision the load-balancer pairs]'
CHECK_TASK = 'Stop every host when any input of any host or pair is wrong'
VALID = 'The input of %d host(s) in %d pair(s) is valid'
RECAP_RE = re.compile(r'^(?P<host>\S+)\s*:\s*ok=\d+\s+changed=(?P<changed>\d+)\s+unreachable=\d+\s+failed=(?P<failed>\d+)', re.M)
# A failed task or loop item: the host it ran on, then its result as JSON (on one line, or indented over several).
FAILED_RE = re.compile(r'^(?:fatal|failed): \[(?P<host>[^\]]+)\](?:: FAILED!)?(?: \(item=.*?\))? => ', re.M)
DEPRECATION = '[DEPRECATION WARNING]'

KEY = 'validation-test-3b8e6f1a9c2d7e40'
OTHER_KEY = 'validation-test-other-5d1c0b9a7e'
# Everything a run must never print: both keys, and the distinctive part of the key with template syntax.
SECRETS = (KEY, OTHER_KEY, '3b8e6f1a9c2d7e40', '5d1c0b9a7e')


def _tool(name):
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    return candidate if os.path.exists(candidate) else shutil.which(name)


ANSIBLE_PLAYBOOK = _tool('ansible-playbook')
pytestmark = pytest.mark.skipif(ANSIBLE_PLAYBOOK is None, reason='ansible-playbook is not installed')


# Fake hosts: their pair, node name and links, and the interfaces and addresses their facts show.
# pair1 is herring and haddock; pair2 is cod and ling.
HOSTS = {
    'herring': {'cluster': 'pair1', 'name': 'loadb1', 'links': [('eth0', '198.51.100.11'), ('eth1', '198.51.100.75')]},
    'haddock': {'cluster': 'pair1', 'name': 'loadb2', 'links': [('eth0', '198.51.100.12'), ('eth1', '198.51.100.76')]},
    'cod': {'cluster': 'pair2', 'name': 'loadc1', 'links': [('eth0', '198.51.100.21'), ('eth1', '198.51.100.85')]},
    'ling': {'cluster': 'pair2', 'name': 'loadc2', 'links': [('eth0', '198.51.100.22'), ('eth1', '198.51.100.86')]},
}
VIPS = {'pair1': '198.51.100.10', 'pair2': '198.51.100.20'}


def fake_facts(host):
    """The facts of a fake host, named as the setup module names them (ansible_ prefix)."""
    spec = HOSTS[host]
    facts = {
        'ansible_distribution': 'Debian',
        'ansible_distribution_release': 'bookworm',
        'ansible_distribution_major_version': '12',
        'ansible_os_family': 'Debian',
        'ansible_interfaces': ['lo'] + [name for name, _address in spec['links']],
        'ansible_all_ipv4_addresses': [address for _name, address in spec['links']],
        'ansible_lo': {'device': 'lo', 'ipv4': {'address': '127.0.0.1', 'netmask': '255.0.0.0'}},
    }
    for name, address in spec['links']:
        facts['ansible_' + name] = {'device': name, 'ipv4': {'address': address, 'netmask': '255.255.255.192'}}
    return facts


# The facts go into the cache the way gathered facts do: as the ansible_facts of a module's result (a module that
# hands back the facts it is given). Facts set with set_fact would carry the inventory's data tags (ansible-core
# 2.19 and later), which gathered facts never have, and which make every later read of the cache slow.
PRIME_MODULE = """#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec={'facts': {'type': 'dict', 'required': True}})
    module.exit_json(changed=False, ansible_facts=module.params['facts'])


main()
"""
PRIME_PLAYBOOK = """---
- name: Put the fake hosts' facts into the fact cache
  hosts: all
  gather_facts: false
  tasks:
    - name: Cache the facts
      hapair_fake_facts:
        facts: "{{ fake_facts }}"
"""


def host_vars(host):
    spec = HOSTS[host]
    return {
        'hapair_cluster': spec['cluster'],
        'hapair_node_name': spec['name'],
        'hapair_links': [{'interface': name, 'address': address} for name, address in spec['links']],
        'hapair_vip': VIPS[spec['cluster']],
        'hapair_vip_prefix': 26,
        'hapair_ping_nodes': ['198.51.100.1'],
        'heartbeat_auth_key': KEY,
        'apache_balancer_members': ['http://198.51.100.51/', 'http://198.51.100.52/'],
    }


def inventory(hosts=('herring', 'haddock'), every=None, each=None):
    """The inventory of a run: valid settings for the given hosts, then `every` applied to all of them and `each`
    ({host: vars}) to single hosts."""
    result = {}
    for host in hosts:
        variables = host_vars(host)
        variables.update(copy.deepcopy(every or {}))
        variables.update(copy.deepcopy((each or {}).get(host, {})))
        variables.update({'ansible_connection': 'local', 'ansible_python_interpreter': '/bin/false'})
        result[host] = variables
    return {'all': {'children': {'loadbalancers': {'hosts': result}}}}


class Run:
    """One ansible-playbook run and what it printed."""

    def __init__(self, result, directory):
        self.rc = result.returncode
        self.out = result.stdout
        self.directory = directory
        # (host, message) of every failure.
        self.failures = []
        for match in FAILED_RE.finditer(self.out):
            data, _end = json.JSONDecoder().raw_decode(self.out, match.end())
            message = data.get('msg', '')
            # The pair model's check fails with a list: every error of every host and pair.
            for item in message if isinstance(message, list) else [message]:
                self.failures.append((match.group('host'), str(item)))
        self.messages = [message for _host, message in self.failures]
        self.recap = {m.group('host'): (int(m.group('changed')), int(m.group('failed'))) for m in RECAP_RE.finditer(self.out)}

    def has_message(self, phrase):
        return any(phrase in message for message in self.messages)

    def deprecations(self):
        """The text of every deprecation warning, joined into one line (ansible-core 2.16 to 2.18 wrap it at 80
        columns): the lines after '[DEPRECATION WARNING]:' up to an empty line or the next warning, task, play or
        host result."""
        warnings, current = [], None
        for line in self.out.splitlines():
            if line.startswith(DEPRECATION + ':'):
                current = [line[len(DEPRECATION) + 1:]]
                warnings.append(current)
            elif current is not None and line.strip() and not re.match(r'\[|TASK \[|PLAY |\w+: \[', line):
                current.append(line)
            else:
                current = None
        return [' '.join(' '.join(lines).split()) for lines in warnings]


def env_for(tmp):
    env = {key: value for key, value in os.environ.items() if not key.startswith('ANSIBLE_')}
    env.update({
        'ANSIBLE_CONFIG': os.path.join(tmp, 'no-ansible.cfg'),  # never written: no config from anywhere
        'ANSIBLE_HOME': os.path.join(tmp, 'ansible-home'),
        'ANSIBLE_LOCAL_TEMP': os.path.join(tmp, 'ansible-home', 'tmp'),
        'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS,
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_STDOUT_CALLBACK': 'ansible.builtin.default',
        'ANSIBLE_RETRY_FILES_ENABLED': 'false',
        # On: the old variable names must give their deprecation warnings, and nothing else may give one.
        'ANSIBLE_DEPRECATION_WARNINGS': 'true',
        # The facts come from the cache only; nothing gathers them from this machine.
        'ANSIBLE_GATHERING': 'explicit',
        'ANSIBLE_CACHE_PLUGIN': 'ansible.builtin.jsonfile',
    })
    return env


# The runs go through one playbook server (tests/integration/playbook_server.py): ansible-playbook's own entry point
# in a child forked from a process that imported Ansible once. The settings every run shares are the server's; a
# run's own is its fact cache.
_SERVER = {}
_SERVER_LOCK = threading.Lock()


def _playbook_server():
    with _SERVER_LOCK:
        if 'server' not in _SERVER:
            home = tempfile.mkdtemp(prefix='hapair-playbook-server-')
            _SERVER['server'] = PlaybookServer(env_for(home))
            # atexit runs the last registered first: the server ends, then its directory goes.
            atexit.register(shutil.rmtree, home, True)
            atexit.register(_SERVER['server'].close)
        return _SERVER['server']


def run_playbook(tmp, cache, inventory_data, playbook=SITE, options=('--check',)):
    """Run ansible-playbook in the directory tmp with this inventory and fact cache; a Run."""
    os.makedirs(tmp, exist_ok=True)
    inventory_file = os.path.join(tmp, 'inventory.json')
    with open(inventory_file, 'w') as handle:
        json.dump(inventory_data, handle, indent=1)
    command = [ANSIBLE_PLAYBOOK, '-i', inventory_file] + list(options) + [playbook]
    return Run(_playbook_server().run(command, tmp, {'ANSIBLE_CACHE_PLUGIN_CONNECTION': cache},
                                      os.path.join(tmp, 'output.txt'), timeout=300), tmp)


@pytest.fixture(scope='module')
def fact_cache(tmp_path_factory):
    """A fact cache with the fake hosts' facts, written by Ansible itself (a module's ansible_facts)."""
    tmp = str(tmp_path_factory.mktemp('facts'))
    cache = os.path.join(tmp, 'cache')
    playbook = os.path.join(tmp, 'prime.yml')
    with open(playbook, 'w') as handle:
        handle.write(PRIME_PLAYBOOK)
    os.makedirs(os.path.join(tmp, 'library'))
    with open(os.path.join(tmp, 'library', 'hapair_fake_facts.py'), 'w') as handle:
        handle.write(PRIME_MODULE)
    data = {'all': {'hosts': {host: {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable,
                                     'fake_facts': fake_facts(host)} for host in HOSTS}}}
    run = run_playbook(tmp, cache, data, playbook=playbook, options=())
    assert run.rc == 0, run.out
    assert len(os.listdir(cache)) == len(HOSTS), run.out
    return cache


# A playbook that runs one role alone (its own check, then its tasks).
ROLE_ALONE = """---
- name: Apply %(role)s alone
  hosts: loadbalancers
  gather_facts: false
  roles:
    - role: %(role)s
"""
# The roles whose input the old-names runs check: the site playbook's and the drill's (the failover playbook's).
EVERY_ROLE = ['hostnames', 'apt_sources', 'apache_balancer', 'engine', 'monitor', 'verify', 'drill']
# {old name: (new name, value)}
RENAMED = {'heartbeat_timers': ('hapair_timers', 'fast'), 'heartbeat_monitor_fails': ('hapair_monitor_fails', 4),
           'heartbeat_failover_method': ('hapair_drill_method', 'kill')}
OLD_NAMES = dict((old, value) for old, (_new, value) in RENAMED.items())
NEW_NAMES = dict(RENAMED.values())

# Every run of this file: {name: (inventory, playbook (a path, or the text of one), ansible-playbook options)}.
RUNS = {
    # Values of the wrong type: one Ansible's own conversion would refuse, one it would take (true is no port).
    'type-error': (inventory(each={'herring': {'heartbeat_udpport': 'six-nine-four'}, 'haddock': {'heartbeat_udpport': True}}),
                   SITE, ('--check',)),
    # Errors across hosts: link 1 on different subnets in pair1; two hosts of two pairs with one node name.
    'pair-error': (inventory(hosts=('herring', 'haddock', 'cod', 'ling'), each={
        'haddock': {'hapair_links': [{'interface': 'eth1', 'address': '198.51.100.76'},
                                     {'interface': 'eth0', 'address': '198.51.100.12'}]},
        'ling': {'hapair_node_name': 'LOADB1'}}), SITE, ('--check',)),
    # A variable referring to an undefined one; a key with template syntax, which must not show.
    'template-failure': (inventory(each={'herring': {'hapair_vip': '{{ pair1_vip }}'},
                                         'haddock': {'heartbeat_auth_key': 'tpl-{{-3b8e6f1a9c2d7e40'}}), SITE, ('--check',)),
    # -vvv, valid input: the check passes, the provisioning play starts and stops at its first module.
    'key-valid-vvv': (inventory(hosts=('herring', 'haddock', 'cod', 'ling')), SITE, ('--check', '-vvv')),
    # -vvv, the keys of a pair differ: both keys are in play, neither may show.
    'key-differs-vvv': (inventory(each={'haddock': {'heartbeat_auth_key': OTHER_KEY}}), SITE, ('--check', '-vvv')),
    # The monitor role alone: 0 passes Ansible's own check of the role's arguments (an int), not the role's.
    'role-alone': (inventory(every={'hapair_monitor_fails': 0}), ROLE_ALONE % {'role': 'hapair.loadbalancer.monitor'},
                   ('--check',)),
    # What the check publishes and a role's internal variable, given as extra vars.
    'extra-vars': (inventory(), SITE, ('--check', '-e', json.dumps({'hapair_input': {'heartbeat_logfile': '/etc/shadow'}}),
                                       '-e', '__heartbeat_conf_dir=/tmp')),
    # The old names and the new ones, rendered (render.yml): the same result, but for the warnings.
    'old-names': (inventory(every=dict(OLD_NAMES, hapair_roles=EVERY_ROLE)), RENDER, ()),
    'new-names': (inventory(every=dict(NEW_NAMES, hapair_roles=EVERY_ROLE)), RENDER, ()),
}


# Runs a test needs besides the one it is named after.
COMPANIONS = {'old-names': ('new-names',)}


def _selected(request):
    """The runs that the selected tests of this file use (parameter `name`, and its companions)."""
    names = set()
    for item in request.session.items:
        if getattr(item, 'module', None) is request.module and 'name' in getattr(getattr(item, 'callspec', None), 'params', {}):
            name = item.callspec.params['name']
            names.update((name,) + COMPANIONS.get(name, ()))
    return sorted(names)


@pytest.fixture(scope='module')
def runs(request, fact_cache, tmp_path_factory):
    """Every run the selected tests need, in parallel threads: {name: Run}."""
    base = str(tmp_path_factory.mktemp('runs'))

    def job(name):
        inventory_data, playbook, options = RUNS[name]
        tmp = os.path.join(base, name)
        cache = os.path.join(tmp, 'cache')
        shutil.copytree(fact_cache, cache)
        if not playbook.endswith('.yml'):
            path = os.path.join(tmp, 'play.yml')
            with open(path, 'w') as handle:
                handle.write(playbook)
            playbook = path
        if playbook == RENDER:
            os.makedirs(os.path.join(tmp, 'rendered'))
            for host in inventory_data['all']['children']['loadbalancers']['hosts']:
                os.makedirs(os.path.join(tmp, 'rendered', host))
            options = tuple(options) + ('-e', 'render_dir=%s' % os.path.join(tmp, 'rendered'))
        return run_playbook(tmp, cache, inventory_data, playbook=playbook, options=options)

    with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
        jobs = dict((name, pool.submit(job, name)) for name in _selected(request))
        return dict((name, future.result()) for name, future in jobs.items())


def assert_stopped_in_the_check(run, phrases):
    """Exit status 2, every phrase in some failure message, the provisioning play never started, no change, no key."""
    assert run.rc == 2, run.out
    for phrase in phrases:
        assert run.has_message(phrase), 'no message holds %r; messages:\n%s' % (phrase, '\n'.join(run.messages))
    assert CHECK_PLAY in run.out and 'TASK [hapair.loadbalancer.hapair : %s]' % CHECK_TASK in run.out, run.out
    assert PROVISION_PLAY not in run.out, run.out
    assert run.recap and all(changed == 0 for changed, _failed in run.recap.values()), run.recap
    assert_no_secret(run)


def assert_no_secret(run):
    for secret in SECRETS:
        assert secret not in run.out, 'the output shows %r' % secret
    assert not run.deprecations(), run.deprecations()


@pytest.mark.parametrize('name', ['type-error'])
def test_a_type_error_stops_the_site_playbook(runs, name):
    assert_stopped_in_the_check(runs[name], [
        "Host herring: heartbeat_udpport 'six-nine-four' is not valid",
        'Host haddock: heartbeat_udpport true is a boolean; expected a number'])


@pytest.mark.parametrize('name', ['pair-error'])
def test_a_pair_error_stops_the_site_playbook(runs, name):
    assert_stopped_in_the_check(runs[name], [
        "Pair 'pair1': link 1 of hapair_links is on different subnets on the two nodes",
        "hapair_node_name: hosts herring ('loadb1', pair 'pair1'), ling ('LOADB1', pair 'pair2') have the same node "
        'name but for letter case'])


@pytest.mark.parametrize('name', ['template-failure'])
def test_a_template_failure_stops_the_site_playbook_naming_the_variable_not_the_secret(runs, name):
    run = runs[name]
    assert_stopped_in_the_check(run, [
        'Host herring: hapair_vip could not be templated: it refers to pair1_vip, which is not defined',
        'Host haddock: heartbeat_auth_key could not be templated: the template failed; the reason is not shown '
        "because the value is secret. A value with Jinja2 syntax ('{{', '{%', '{#') must not be given literally"])
    assert 'tpl-{{' not in run.out


@pytest.mark.parametrize('name', ['key-valid-vvv'])
def test_the_key_never_shows_with_vvv_when_the_check_passes(runs, name):
    """The check passes; the provisioning play then starts and stops at its first module, which cannot run
    (ansible_python_interpreter /bin/false), with --check anyway."""
    run = runs[name]
    assert run.rc == 2, run.out
    assert 'ansible-playbook [core ' in run.out, 'not a -vvv run'
    assert PROVISION_PLAY in run.out, run.out
    check, provisioning = run.out.split(PROVISION_PLAY)
    assert VALID % (4, 2) in check, check
    assert not [line for line in check.splitlines() if line.startswith(('fatal:', 'failed:'))], check
    # The safety net held: the first task that would touch a host could not even run its module.
    first = "TASK [hapair.loadbalancer.hostnames : Read the node name, /etc/hostname, the pair's block in /etc/hosts"
    assert first in provisioning, provisioning
    assert sorted(host for host, _message in run.failures) == ['cod', 'haddock', 'herring', 'ling'], run.failures
    # (ansible-core 2.19 and later say the first; 2.16 to 2.18 the second.)
    assert all('Module result deserialization failed' in message or 'MODULE FAILURE' in message
               for _host, message in run.failures), run.failures
    assert 'TASK [' not in provisioning.split(first)[1], provisioning
    assert all(changed == 0 for changed, _failed in run.recap.values()), run.recap
    assert_no_secret(run)


@pytest.mark.parametrize('name', ['key-differs-vvv'])
def test_the_key_never_shows_with_vvv_when_the_check_fails(runs, name):
    run = runs[name]
    assert 'ansible-playbook [core ' in run.out, 'not a -vvv run'
    assert_stopped_in_the_check(run, ["Pair 'pair1': heartbeat_auth_key differs between herring and haddock (values not shown)"])


@pytest.mark.parametrize('name', ['role-alone'])
def test_a_role_alone_stops_in_its_own_check(runs, name):
    run = runs[name]
    assert run.rc == 2, run.out
    for host in ('herring', 'haddock'):
        phrase = 'Host %s: hapair_monitor_fails 0 is out of range: expected 1 to 100' % host
        assert run.has_message(phrase), 'no message holds %r; messages:\n%s' % (phrase, '\n'.join(run.messages))
    # Ansible's own check of the role's arguments passed; the role's check, through the hapair role, stopped it.
    assert re.search(r"^ok: \[herring\]", run.out.split("Validating arguments against arg spec 'main'")[1], re.M), run.out
    assert 'TASK [hapair.loadbalancer.hapair : %s]' % CHECK_TASK in run.out, run.out
    assert "Read the state of hapair-monitor's files and service" not in run.out, run.out
    assert run.recap and all(changed == 0 for changed, _failed in run.recap.values()), run.recap
    assert_no_secret(run)


@pytest.mark.parametrize('name', ['extra-vars'])
def test_extra_vars_that_would_outrank_the_check_are_refused(runs, name):
    phrases = []
    for host in ('herring', 'haddock'):
        phrases += ['Host %s: hapair_input is given as an extra var (-e, a survey), but it is what the input check '
                    'publishes' % host,
                    "Host %s: __heartbeat_conf_dir is given as an extra var (-e, a survey), but it is a role's internal "
                    'variable' % host]
    assert_stopped_in_the_check(runs[name], phrases)


@pytest.mark.parametrize('name', ['old-names'])
def test_old_names_pass_the_check_with_one_deprecation_warning_each(runs, name):
    old, new = runs['old-names'], runs['new-names']
    for run in (old, new):
        assert run.rc == 0, run.out[-4000:]
        assert VALID % (2, 1) in run.out, run.out
        for secret in SECRETS:
            assert secret not in run.out, 'the output shows %r' % secret
    warnings = old.deprecations()
    assert len(warnings) == len(OLD_NAMES), warnings
    for old_name, (new_name, _value) in RENAMED.items():
        mine = [w for w in warnings if w.startswith('%s is deprecated' % old_name)]
        assert len(mine) == 1, (old_name, warnings)
        assert 'use %s (set for herring, haddock)' % new_name in mine[0], mine[0]
        assert 'hapair.loadbalancer 2.0.0' in mine[0], mine[0]
    assert new.deprecations() == []
    # Nothing else changes: what the check published and every file the roles would write are the same.
    for host in ('herring', 'haddock'):
        old_files, new_files = (sorted(os.listdir(os.path.join(run.directory, 'rendered', host))) for run in (old, new))
        assert old_files == new_files and 'published.json' in old_files and 'ha.cf' in old_files, (old_files, new_files)
        for file in old_files:
            texts = []
            for run in (old, new):
                with open(os.path.join(run.directory, 'rendered', host, file), encoding='utf-8') as handle:
                    texts.append(handle.read())
            assert texts[0] == texts[1], (host, file)
    with open(os.path.join(old.directory, 'rendered', 'herring', 'published.json'), encoding='utf-8') as handle:
        published = json.load(handle)
    # The old names' values arrived under the new names, and the old names are nowhere.
    for new_name, value in NEW_NAMES.items():
        assert published['hapair_input'][new_name] == value, new_name
    # The fast profile's timers.
    assert published['hapair_input']['heartbeat_deadtime'] == '1500ms'
    assert not set(OLD_NAMES) & set(published['hapair_input']), sorted(published['hapair_input'])
