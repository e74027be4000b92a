# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fake load balancers for the playbook tests (test_validation.py, test_render.py), and how to run a playbook
against them.

Four fake hosts in two pairs (herring and haddock in pair1, cod and ling in pair2), each with a public link on eth0
and a private one on eth1 in 198.51.100.0/24. Their facts come from a fact cache that prime_fact_cache() fills
(conftest.py's fixture ``fact_cache``, once per session); fact gathering is off. They are THIS machine
(``ansible_connection: local``) with ``ansible_python_interpreter: /bin/false``, so no module can run on them: see
test_validation.py for why that keeps every run from changing the machine.

run_playbook() runs ansible-playbook through one playbook server (playbook_server.py), with its own directory and
copy of the fact cache, and returns a Run: exit status, output, failure messages, recap and deprecation warnings.
render() runs render.yml and returns what it rendered for each host.
"""

from __future__ import annotations

import atexit
import copy
import json
import os
import re
import shutil
import sys
import tempfile
import threading

from playbook_server import PlaybookServer

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SITE = os.path.join(REPO, 'playbooks', 'site.yml')
RENDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'render.yml')
COLLECTIONS = os.path.join(REPO, 'playbooks', 'collections')

RECAP_RE = re.compile(r'^(?P<host>\S+)\s*:\s*ok=\d+\s+changed=(?P<changed>\d+)\s+unreachable=\d+\s+failed=(?P<failed>\d+)', re.M)
# A failed task or loop item: the host it ran on, then its result as JSON (on one line, or indented over several).
FAILED_RE = re.compile(r'^(?:fatal|failed): \[(?P<host>[^\]]+)\](?:: FAILED!)?(?: \(item=.*?\))? => ', re.M)
DEPRECATION = '[DEPRECATION WARNING]'

KEY = 'validation-test-3b8e6f1a9c2d7e40'
OTHER_KEY = 'validation-test-other-5d1c0b9a7e'


def _tool(name):
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    return candidate if os.path.exists(candidate) else shutil.which(name)


ANSIBLE_PLAYBOOK = _tool('ansible-playbook')


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
        """Whether some failure message holds phrase."""
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


def prime_fact_cache(tmp):
    """A fact cache, in the directory tmp, with the fake hosts' facts, written by Ansible itself (a module's
    ansible_facts); its path."""
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
    if run.rc != 0 or len(os.listdir(cache)) != len(HOSTS):
        raise RuntimeError('the fake hosts\' facts did not reach the fact cache %s:\n%s' % (cache, run.out))
    return cache


def render(tmp, cache, inventory_data, options=()):
    """Run render.yml (the input check, then every template of the roles rendered on the controller) in the directory
    tmp; (Run, {host: {'files': {name: text}, 'published': {...}}}) - the second empty when the run failed."""
    out = os.path.join(tmp, 'rendered')
    os.makedirs(out)
    run = run_playbook(tmp, cache, inventory_data, playbook=RENDER, options=tuple(options) + ('-e', 'render_dir=%s' % out))
    rendered = {}
    for name in sorted(os.listdir(out)):
        with open(os.path.join(out, name), encoding='utf-8') as handle:
            rendered[name[:-len('.json')]] = json.load(handle)
    return run, rendered
