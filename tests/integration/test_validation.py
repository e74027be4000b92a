# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input stops the site playbook in its validation play, with a clear message, before any host changes.

Every case runs ``playbooks/site.yml`` against fake load balancers (herring, haddock, hake, cod, ling) with one
kind of mistake in the inventory and checks the exit status (2), the message (the variable, the host or the
pair, the bad value, never the key), and that the provisioning play never started. Several variants of one
rule share a run where the rule is checked per host or per pair: every failing item of the check is shown.

SAFETY: the fake hosts are THIS machine (``ansible_connection: local``). Three things keep the runs from
changing it:

- every run is made with ``--check``, so even if validation wrongly let a run through, no task would change
  anything;
- ``ansible_python_interpreter`` is ``/bin/false``: the validation play runs only action plugins on the
  controller (assert, set_fact, validate_argument_spec), so no module ever runs on this machine, and the first
  module of the provisioning play would fail at once;
- the facts come from a fact cache this file fills (``set_fact`` with ``cacheable``) and fact gathering is off
  (``ANSIBLE_GATHERING=explicit``), so the hosts have fixed interfaces and addresses in 198.51.100.0/24, not
  this machine's. No packet is sent anywhere.

The runs are independent (own directory, own fact cache copy), so they run in parallel threads; the whole
file takes well under two minutes on two cores. Each run is ansible-playbook's own entry point in a child of one
playbook server (tests/integration/playbook_server.py), which imported Ansible once: that saves about 1 of the 2.4
CPU-seconds of a run (measured with ansible-core 2.21), across about 400 runs of the suite's six releases.
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
COLLECTIONS = os.path.join(REPO, 'playbooks', 'collections')
WORKERS = max(2, min(4, (os.cpu_count() or 2) + 1))

VALIDATION_PLAY = 'PLAY [Check the input of every role for every pair before any host changes]'
PROVISION_PLAY = 'PLAY [Provision the load-balancer pairs]'
RECAP_RE = re.compile(r'^(?P<host>\S+)\s*:\s*ok=\d+\s+changed=(?P<changed>\d+)\s+unreachable=\d+\s+failed=(?P<failed>\d+)', re.M)
# A failed task or loop item: the host it ran on, then its result as JSON (on one line, or indented over several).
FAILED_RE = re.compile(r'^(?:fatal|failed): \[(?P<host>[^\]]+)\](?:: FAILED!)?(?: \(item=.*?\))? => ', re.M)

KEY = 'validation-test-3b8e6f1a9c2d7e40'
OTHER_KEY = 'validation-test-other-5d1c0b9a7e'


def _tool(name):
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    return candidate if os.path.exists(candidate) else shutil.which(name)


ANSIBLE_PLAYBOOK = _tool('ansible-playbook')
pytestmark = pytest.mark.skipif(ANSIBLE_PLAYBOOK is None, reason='ansible-playbook is not installed')


# Fake hosts: their pair, node name and links, and the interfaces and addresses their facts show.
# pair1 is herring and haddock (hake joins it to make three); pair2 is cod and ling. cod has one more
# interface, eth2, with an address that is in no link.
HOSTS = {
    'herring': {'cluster': 'pair1', 'name': 'loadb1', 'links': [('eth0', '198.51.100.11'), ('eth1', '198.51.100.75')]},
    'haddock': {'cluster': 'pair1', 'name': 'loadb2', 'links': [('eth0', '198.51.100.12'), ('eth1', '198.51.100.76')]},
    'hake': {'cluster': 'pair1', 'name': 'loadb3', 'links': [('eth0', '198.51.100.13'), ('eth1', '198.51.100.77')]},
    'cod': {'cluster': 'pair2', 'name': 'loadc1', 'links': [('eth0', '198.51.100.21'), ('eth1', '198.51.100.85')],
            'extra': [('eth2', '198.51.100.30')]},
    'ling': {'cluster': 'pair2', 'name': 'loadc2', 'links': [('eth0', '198.51.100.22'), ('eth1', '198.51.100.86')]},
}
VIPS = {'pair1': '198.51.100.10', 'pair2': '198.51.100.20'}


def fake_facts(host):
    """The facts of a fake host, named as the setup module names them (ansible_ prefix). cod has one interface
    more (ansible_eth2)."""
    spec = HOSTS[host]
    interfaces = spec['links'] + spec.get('extra', [])
    facts = {
        'ansible_distribution': 'Debian',
        'ansible_distribution_release': 'bookworm',
        'ansible_distribution_major_version': '12',
        'ansible_os_family': 'Debian',
        'ansible_interfaces': ['lo'] + [name for name, _address in interfaces],
        'ansible_all_ipv4_addresses': [address for _name, address in interfaces],
        'ansible_lo': {'device': 'lo', 'ipv4': {'address': '127.0.0.1', 'netmask': '255.0.0.0'}},
    }
    for name, address in interfaces:
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
        'heartbeat_auth_key': KEY,
        'apache_balancer_members': ['http://198.51.100.51/', 'http://198.51.100.52/'],
    }


def inventory(hosts=('herring', 'haddock'), every=None, each=None, drop=()):
    """The inventory of a case: valid settings for the given hosts, then `every` applied to all of them and
    `each` ({host: vars}) to single hosts; variables named in `drop` are left out everywhere."""
    result = {}
    for host in hosts:
        variables = host_vars(host)
        variables.update(copy.deepcopy(every or {}))
        variables.update(copy.deepcopy((each or {}).get(host, {})))
        for name in drop:
            variables.pop(name, None)
        variables.update({'ansible_connection': 'local', 'ansible_python_interpreter': '/bin/false'})
        result[host] = variables
    return {'all': {'children': {'loadbalancers': {'hosts': result}}}}


class Run:
    """One ansible-playbook run and what it printed."""

    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        # (host, message) of every failure.
        self.failures = []
        for match in FAILED_RE.finditer(self.out):
            result, _end = json.JSONDecoder().raw_decode(self.out, match.end())
            message = result.get('msg', '')
            # The pair model's check fails with a list: every error of every host and pair.
            for item in message if isinstance(message, list) else [message]:
                self.failures.append((match.group('host'), str(item)))
        self.messages = [message for _host, message in self.failures]
        self.recap = {m.group('host'): (int(m.group('changed')), int(m.group('failed'))) for m in RECAP_RE.finditer(self.out)}

    def has_message(self, phrase):
        """Whether a failure says phrase; a (host, phrase) pair must be the failure of that host (for the
        messages of validate_argument_spec, which name the variable but leave the host to the failure line)."""
        if isinstance(phrase, tuple):
            return any(host == phrase[0] and phrase[1] in message for host, message in self.failures)
        return any(phrase in message for message in self.messages)


def env_for(tmp, cache):
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
        'ANSIBLE_DEPRECATION_WARNINGS': 'false',
        # The facts come from the cache only; nothing gathers them from this machine.
        'ANSIBLE_GATHERING': 'explicit',
        'ANSIBLE_CACHE_PLUGIN': 'ansible.builtin.jsonfile',
        'ANSIBLE_CACHE_PLUGIN_CONNECTION': cache,
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
            env = env_for(home, cache=None)
            del env['ANSIBLE_CACHE_PLUGIN_CONNECTION']
            _SERVER['server'] = PlaybookServer(env)
            # atexit runs the last registered first: the server ends, then its directory goes.
            atexit.register(shutil.rmtree, home, True)
            atexit.register(_SERVER['server'].close)
        return _SERVER['server']


def run_playbook(tmp, cache, inventory_data, playbook=SITE, options=('--check',)):
    os.makedirs(tmp, exist_ok=True)
    inventory_file = os.path.join(tmp, 'inventory.json')
    with open(inventory_file, 'w') as handle:
        json.dump(inventory_data, handle, indent=1)
    command = [ANSIBLE_PLAYBOOK, '-i', inventory_file] + list(options) + [playbook]
    return Run(_playbook_server().run(command, tmp, {'ANSIBLE_CACHE_PLUGIN_CONNECTION': cache},
                                      os.path.join(tmp, 'output.txt'), timeout=300))


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


# A case: (id, inventory, phrases every one of which some failure message must hold, keys the output must not
# show). The phrases name the variable, the host or pair and the bad value. Keys that are common words (secret,
# password) are not looked for: the output shows the source lines around a failed task, comments included.
INJECTION = '\nrespawn root /bin/sh -c id'
CASES = [
    # heartbeat_auth_key
    ('key-missing', inventory(drop=['heartbeat_auth_key']),
     ['Host herring: heartbeat_auth_key is required but not set', 'Host haddock: heartbeat_auth_key is required but not set'], []),
    ('key-empty', inventory(each={'herring': {'heartbeat_auth_key': ''}, 'haddock': {'heartbeat_auth_key': None}}),
     ['Host herring: heartbeat_auth_key is 0 characters long; it needs at least 16 (value not shown)',
      'Host haddock: heartbeat_auth_key is null; expected a string (value not shown)'], []),
    ('key-short', inventory(each={'herring': {'heartbeat_auth_key': 'k3y-7f3c9a1e'},
                                  'haddock': {'heartbeat_auth_key': '0f3c9a1e5b2d4c6'}}),
     ['Host herring: heartbeat_auth_key is 12 characters long; it needs at least 16',
      'Host haddock: heartbeat_auth_key is 15 characters long; it needs at least 16'],
     ['k3y-7f3c9a1e', '0f3c9a1e5b2d4c6']),
    ('key-placeholder', inventory(hosts=('herring', 'haddock', 'cod', 'ling'), each={
        'herring': {'heartbeat_auth_key': 'somerandomstring'}, 'haddock': {'heartbeat_auth_key': 'ChangeMe'},
        'cod': {'heartbeat_auth_key': 'Secret'}, 'ling': {'heartbeat_auth_key': 'changeme-7f3c9a1e5b2d'}}),
     ['Host %s: heartbeat_auth_key is' % host for host in ('herring', 'haddock', 'cod', 'ling')]
     + ['Host ling: heartbeat_auth_key is a well-known placeholder', 'Host herring: heartbeat_auth_key is a well-known placeholder'],
     ['changeme-7f3c9a1e5b2d']),
    ('key-placeholder-variants', inventory(hosts=('herring', 'haddock', 'cod', 'ling'), each={
        'herring': {'heartbeat_auth_key': 'password-password'}, 'haddock': {'heartbeat_auth_key': 'Some-Random-String'},
        'cod': {'heartbeat_auth_key': 'YourSecretKeyHere'}, 'ling': {'heartbeat_auth_key': '12345678901234567890'}}),
     ['Host %s: heartbeat_auth_key is a well-known placeholder' % host for host in ('haddock', 'cod', 'ling')],
     ['Some-Random-String', 'YourSecretKeyHere', '12345678901234567890']),
    ('key-bad-characters', inventory(each={'herring': {'heartbeat_auth_key': 'validation test 3b8e6f1a'},
                                           'haddock': {'heartbeat_auth_key': 'validation#test#3b8e6f1a'}}),
     ["Host herring: heartbeat_auth_key holds whitespace or '#'", "Host haddock: heartbeat_auth_key holds whitespace or '#'"],
     ['validation test 3b8e6f1a', 'validation#test#3b8e6f1a']),
    # A key with template syntax: refused by name, never printed, neither the key nor the inventory line with it.
    ('key-template-syntax', inventory(hosts=('herring', 'haddock', 'cod', 'ling'), each={
        'herring': {'heartbeat_auth_key': 'tpl-{{-3b8e6f1a9c2d7e40'}, 'haddock': {'heartbeat_auth_key': 'tpl-{%-3b8e6f1a9c2d7e40'},
        'cod': {'heartbeat_auth_key': 'tpl-{{ 1 + }}-3b8e6f1a9c'}, 'ling': {'heartbeat_auth_key': "{{ vault_heartbeat_auth_key }}"}}),
     ['Host herring: heartbeat_auth_key could not be templated', 'Host haddock: heartbeat_auth_key could not be templated',
      'Host cod: heartbeat_auth_key could not be templated',
      'Host ling: heartbeat_auth_key could not be templated: it refers to vault_heartbeat_auth_key, which is not defined'],
     ['3b8e6f1a9c2d7e40', '3b8e6f1a9c', 'tpl-{{', 'tpl-{%']),
    ('key-differs', inventory(each={'haddock': {'heartbeat_auth_key': OTHER_KEY}}),
     ["Pair 'pair1': heartbeat_auth_key differs between herring and haddock (values not shown)"], [OTHER_KEY]),
    ('key-not-a-string', inventory(each={'herring': {'heartbeat_auth_key': 12345678901234567890123},
                                         'haddock': {'heartbeat_auth_key': ['validation-test-3b8e6f1a9c2d7e40']}}),
     ['Host herring: heartbeat_auth_key is a number; expected a string (value not shown)',
      'Host haddock: heartbeat_auth_key is a list; expected a string (value not shown)'], ['12345678901234567890123']),
    # heartbeat_auth_method
    ('auth-method', inventory(hosts=('herring', 'haddock', 'cod', 'ling'), each={
        'herring': {'heartbeat_auth_method': 'crc'}, 'haddock': {'heartbeat_auth_method': 'sha256'},
        'cod': {'heartbeat_auth_method': 'none'}, 'ling': {'heartbeat_auth_method': ''}}),
     ["Host herring: heartbeat_auth_method 'crc' is not allowed: crc only detects corrupted packets",
      "Host haddock: heartbeat_auth_method 'sha256' is not allowed. Expected one of sha1, md5",
      "Host cod: heartbeat_auth_method 'none' is not allowed", "Host ling: heartbeat_auth_method '' is not allowed"], []),
    # Timers
    ('timer-not-positive', inventory(hosts=('herring', 'haddock', 'cod', 'ling'), each={
        'herring': {'heartbeat_keepalive': 0}, 'haddock': {'heartbeat_deadtime': -10},
        'cod': {'heartbeat_warntime': '0ms'}, 'ling': {'heartbeat_initdead': 'soon'}}),
     ['Host herring: heartbeat_keepalive 0 is not a positive time', 'Host haddock: heartbeat_deadtime -10 is not a positive time',
      "Host cod: heartbeat_warntime '0ms' is not a positive time", "Host ling: heartbeat_initdead 'soon' is not a positive time"], []),
    ('timer-types', inventory(each={'herring': {'heartbeat_keepalive': True}, 'haddock': {'heartbeat_initdead': '20\nrespawn'}}),
     ['Host herring: heartbeat_keepalive true is not a positive time', 'Host haddock: heartbeat_initdead'], []),
    ('deadtime-not-twice-keepalive', inventory(each={
        'herring': {'heartbeat_keepalive': 5, 'heartbeat_deadtime': 10},
        'haddock': {'heartbeat_keepalive': '600ms', 'heartbeat_deadtime': '1100ms', 'heartbeat_warntime': '800ms'}}),
     ['Host herring: heartbeat_deadtime (10) must be more than twice heartbeat_keepalive (5)',
      'Host haddock: heartbeat_deadtime (1100ms) must be more than twice heartbeat_keepalive (600ms)'], []),
    ('initdead-below-deadtime', inventory(each={'herring': {'heartbeat_initdead': 9}, 'haddock': {'heartbeat_initdead': '9500ms'}}),
     ['Host herring: heartbeat_initdead (9) must not be lower than heartbeat_deadtime (10)',
      'Host haddock: heartbeat_initdead (9500ms) must not be lower than heartbeat_deadtime (10)'], []),
    ('warntime-outside', inventory(hosts=('herring', 'haddock', 'cod', 'ling'), each={
        'herring': {'heartbeat_warntime': 2}, 'haddock': {'heartbeat_warntime': 10},
        'cod': {'heartbeat_warntime': '1500ms'}, 'ling': {'heartbeat_warntime': 12}}),
     ['Host herring: heartbeat_warntime (2) must lie between heartbeat_keepalive (2) and heartbeat_deadtime (10)',
      'Host haddock: heartbeat_warntime (10) must lie between heartbeat_keepalive (2) and heartbeat_deadtime (10)',
      'Host cod: heartbeat_warntime (1500ms) must lie between', 'Host ling: heartbeat_warntime (12) must lie between'], []),
    ('udpport', inventory(hosts=('herring', 'haddock', 'cod', 'ling'), each={
        'herring': {'heartbeat_udpport': 0}, 'haddock': {'heartbeat_udpport': 65536},
        'cod': {'heartbeat_udpport': -694}, 'ling': {'heartbeat_udpport': 100000}}),
     ['Host herring: heartbeat_udpport 0 must be a port number from 1 to 65535',
      'Host haddock: heartbeat_udpport 65536 must be a port number from 1 to 65535',
      'Host cod: heartbeat_udpport -694 must be', 'Host ling: heartbeat_udpport 100000 must be'], []),
    # Types that Ansible's own conversion would pass on as something else.
    ('types', inventory(hosts=('herring', 'haddock', 'cod', 'ling'), each={
        'herring': {'heartbeat_udpport': True}, 'haddock': {'hapair_vip_prefix': 26.5},
        'cod': {'heartbeat_auto_failback': 'maybe'}, 'ling': {'hapair_node_name': ['loadc2']}}),
     ['Host herring: heartbeat_udpport true is a boolean; expected a number', "Host haddock: hapair_vip_prefix 26.5 is not valid",
      "Host cod: heartbeat_auto_failback 'maybe' is not valid", 'Host ling: hapair_node_name ["loadc2"] is a list; expected a string'], []),
    ('heartbeat-setting-differs', inventory(each={'haddock': {'heartbeat_udpport': 695}}),
     ["Pair 'pair1': heartbeat_udpport differs between the nodes (herring: 694, haddock: 695)"], []),
    ('auto-failback-differs', inventory(each={'haddock': {'heartbeat_auto_failback': 'false'}}),
     ["Pair 'pair1': heartbeat_auto_failback differs between the nodes (herring: true, haddock: false)"], []),
    # Lines injected into root-owned files.
    ('newline-in-heartbeat-values', inventory(hosts=('herring', 'haddock', 'cod', 'ling'), each={
        'herring': {'heartbeat_logfile': '/var/log/ha-log' + INJECTION}, 'haddock': {'heartbeat_logfacility': 'local0' + INJECTION},
        'cod': {'hapair_cluster': 'pair2' + INJECTION}, 'ling': {'hapair_node_name': 'loadc2\n198.51.100.99 evil'}}),
     ['Host herring: heartbeat_logfile', 'Host haddock: heartbeat_logfacility', 'Host cod: hapair_cluster',
      'Host ling: hapair_node_name', 'control character U+000A'], []),
    ('stray-characters-in-apache-values', inventory(hosts=('herring', 'haddock', 'cod', 'ling'), each={
        'herring': {'apache_balancer_server_name': 'www.example.com\\'},
        'haddock': {'apache_balancer_members': ['http://198.51.100.51/app\\', 'http://198.51.100.52/']},
        'cod': {'apache_balancer_members': ['http://198.51.100.51:99999/']},
        'ling': {'apache_balancer_manager_path': '/balancer-manager\nProxyPass / http://198.51.100.99/'}}),
     ["Host herring: apache_balancer_server_name 'www.example.com\\\\' is not valid",
      "Host haddock: apache_balancer_members holds 'http://198.51.100.51/app\\\\', which is not a backend URL",
      "Host cod: apache_balancer_members holds 'http://198.51.100.51:99999/', which is not a backend URL: the port '99999'",
      'Host ling: apache_balancer_manager_path'], []),
    ('stray-characters-in-apt-values', inventory(each={
        'herring': {'apt_sources_components': ['universe\nmultiverse']}, 'haddock': {'apt_sources_extra_archive_uris': ['http://m/ubuntu x']}}),
     ['Host herring: apt_sources_components', 'control character U+000A',
      "Host haddock: apt_sources_extra_archive_uris 'http://m/ubuntu x' is not valid"], []),
    # The VIP
    ('vip-not-set', inventory(every={'hapair_vip': ''}),
     ["Pair 'pair1': hapair_vip is not set"], []),
    ('vip-not-ipv4', inventory(hosts=('herring', 'haddock', 'cod', 'ling'), each={
        'herring': {'hapair_vip': '198.51.100.300'}, 'haddock': {'hapair_vip': '198.51.100.300'},
        'cod': {'hapair_vip': '198.51.100.20/26'}, 'ling': {'hapair_vip': 'not-an-ip'}}),
     ["Host herring: hapair_vip '198.51.100.300' is not valid: expected an IPv4 address",
      "Host cod: hapair_vip '198.51.100.20/26' is not valid", "Host ling: hapair_vip 'not-an-ip' is not valid"], []),
    ('vip-is-own-address', inventory(hosts=('herring', 'haddock', 'cod', 'ling'), each={
        'herring': {'hapair_vip': '198.51.100.76'}, 'haddock': {'hapair_vip': '198.51.100.76'},
        # cod's eth2 address, in no link: known from the facts only.
        'cod': {'hapair_vip': '198.51.100.30'}, 'ling': {'hapair_vip': '198.51.100.30'}}),
     ["Pair 'pair1': hapair_vip 198.51.100.76 is an address of haddock",
      "Pair 'pair2': hapair_vip 198.51.100.30 is an address of cod"], []),
    ('vip-collides-with-another-pair-or-a-backend', inventory(hosts=('herring', 'haddock', 'cod', 'ling'), each={
        'herring': {'hapair_vip': '198.51.100.21'}, 'haddock': {'hapair_vip': '198.51.100.21'},
        'cod': {'apache_balancer_members': ['http://198.51.100.20:8080/']}}),
     ["Pair 'pair1': hapair_vip 198.51.100.21 is an address of cod (pair 'pair2')",
      "Pair 'pair2': hapair_vip 198.51.100.20 is also the address of a backend in apache_balancer_members of cod"], []),
    ('vip-network-or-broadcast', inventory(hosts=('herring', 'haddock', 'cod', 'ling'), each={
        'herring': {'hapair_vip': '198.51.100.0'}, 'haddock': {'hapair_vip': '198.51.100.0'},
        'cod': {'hapair_vip': '198.51.100.63'}, 'ling': {'hapair_vip': '198.51.100.63'}}),
     ["Pair 'pair1': hapair_vip 198.51.100.0 is the network address of its subnet 198.51.100.0/26",
      "Pair 'pair2': hapair_vip 198.51.100.63 is the broadcast address of its subnet 198.51.100.0/26"], []),
    ('vip-outside-subnet', inventory(every={'hapair_vip': '198.51.100.100'}),
     ["Pair 'pair1': hapair_vip 198.51.100.100 is outside the subnet of hapair_vip_interface 'eth0' on herring "
      "(198.51.100.0/26), haddock (198.51.100.0/26)"], []),
    ('vip-interface-missing', inventory(every={'hapair_vip_interface': 'eth5'}),
     ["Pair 'pair1': hapair_vip_interface 'eth5' does not exist on herring and haddock"], []),
    ('vip-prefix', inventory(every={'hapair_vip_prefix': 33}),
     ['Host herring: hapair_vip_prefix 33 is not valid: expected a prefix length from 1 to 32'], []),
    ('vip-differs', inventory(each={'haddock': {'hapair_vip': '198.51.100.9'}}),
     ["Pair 'pair1': hapair_vip differs between the nodes (herring: '198.51.100.10', haddock: '198.51.100.9')"], []),
    ('vip-shared-by-two-pairs', inventory(hosts=('herring', 'haddock', 'cod', 'ling'), every={'hapair_vip': '198.51.100.10'}),
     ['hapair_vip 198.51.100.10 is used by more than one pair (pair1, pair2)'], []),
    # Pairs and node names
    ('pair-of-one', inventory(hosts=('herring', 'haddock', 'cod')),
     ["Pair 'pair2' (hapair_cluster) has 1 node(s) in this play: cod"], []),
    ('pair-of-three', inventory(hosts=('herring', 'haddock', 'hake')),
     ["Pair 'pair1' (hapair_cluster) has 3 node(s) in this play: herring, haddock, hake"], []),
    # Two pairs whose names differ only in case: refused, and the second is checked in full all the same.
    ('pair-names-differ-in-case', inventory(hosts=('herring', 'haddock', 'cod', 'ling'), each={
        'cod': {'hapair_cluster': 'PAIR1', 'hapair_vip': 'not-an-ip'},
        'ling': {'hapair_cluster': 'PAIR1', 'hapair_vip': 'not-an-ip', 'heartbeat_udpport': 695, 'heartbeat_auth_key': OTHER_KEY}}),
     ["Pairs 'pair1' and 'PAIR1': hapair_cluster values that differ only in letter case",
      "Host cod: hapair_vip 'not-an-ip' is not valid", "Pair 'PAIR1': heartbeat_udpport differs between the nodes",
      "Pair 'PAIR1': heartbeat_auth_key differs between cod and ling (values not shown)"], [OTHER_KEY]),
    ('node-names-equal', inventory(each={'haddock': {'hapair_node_name': 'LOADB1'}}),
     ["hapair_node_name: hosts herring ('loadb1', pair 'pair1'), haddock ('LOADB1', pair 'pair1') have the same node name but for letter case"], []),
    ('node-name-not-hostname', inventory(hosts=('herring', 'haddock', 'cod', 'ling'), each={
        'herring': {'hapair_node_name': 'load_b1'}, 'haddock': {'hapair_node_name': '-loadb2'},
        'cod': {'hapair_node_name': 'load c1'}, 'ling': {'hapair_node_name': 'l' * 65}}),
     ["Host herring: hapair_node_name 'load_b1' is not a valid hostname", "Host haddock: hapair_node_name '-loadb2' is not a valid hostname",
      "Host cod: hapair_node_name 'load c1' is not a valid hostname", "Host ling: hapair_node_name '%s' is not a valid hostname" % ('l' * 65)], []),
    ('preferred-node-not-in-pair', inventory(every={'hapair_preferred_node': 'herring'}),
     ["Pair 'pair1': hapair_preferred_node 'herring' is not a node of the pair (herring is an inventory name; its node name is "
      "loadb1); expected one of loadb1, loadb2"], []),
    # hapair_links
    ('links-missing-interface-or-address', inventory(each={
        'herring': {'hapair_links': [{'address': '198.51.100.11'}]}, 'haddock': {'hapair_links': [{'interface': 'eth0'}]}}),
     ['Host herring: hapair_links', 'missing required arguments: interface found in hapair_links',
      'Host haddock: hapair_links', 'missing required arguments: address found in hapair_links'], []),
    ('links-bad-address', inventory(hosts=('herring', 'haddock', 'cod', 'ling'), each={
        'herring': {'hapair_links': [{'interface': 'eth0', 'address': '198.51.100.311'}]},
        'haddock': {'hapair_links': [{'interface': 'eth0', 'address': '198.51.100.12/26'}]},
        'cod': {'hapair_links': []}, 'ling': {'hapair_links': [{'interface': 'eth 0', 'address': '198.51.100.22'}]}}),
     ["Host herring: hapair_links item 1: address '198.51.100.311' is not valid",
      "Host haddock: hapair_links item 1: address '198.51.100.12/26' is not valid",
      'Host cod: hapair_links [] is not valid', "Host ling: hapair_links item 1: interface 'eth 0' is not valid"], []),
    ('links-interface-not-on-host', inventory(each={
        'herring': {'hapair_links': [{'interface': 'eth0', 'address': '198.51.100.11'}, {'interface': 'eth7', 'address': '198.51.100.75'}]}}),
     ["Host herring: hapair_links item 2 names interface 'eth7', which this host does not have (interfaces there: eth0, eth1, lo)"], []),
    ('links-address-not-on-host', inventory(each={
        'haddock': {'hapair_links': [{'interface': 'eth0', 'address': '198.51.100.12'}, {'interface': 'eth1', 'address': '198.51.100.99'}]}}),
     ['Host haddock: hapair_links item 2: address 198.51.100.99 is not an address of interface eth1'], []),
    ('links-address-under-another-interface', inventory(each={
        'haddock': {'hapair_links': [{'interface': 'eth0', 'address': '198.51.100.76'}, {'interface': 'eth1', 'address': '198.51.100.12'}]}}),
     ['Host haddock: hapair_links item 1: address 198.51.100.76 is not an address of interface eth0', 'it is on eth1'], []),
    ('links-in-reverse-order', inventory(each={
        'haddock': {'hapair_links': [{'interface': 'eth1', 'address': '198.51.100.76'}, {'interface': 'eth0', 'address': '198.51.100.12'}]}}),
     ["Pair 'pair1': link 1 of hapair_links is on different subnets on the two nodes"], []),
    ('links-same-address-twice', inventory(each={
        'herring': {'hapair_links': [{'interface': 'eth0', 'address': '198.51.100.11'}, {'interface': 'eth1', 'address': '198.51.100.11'}]}}),
     ['Host herring: hapair_links lists address 198.51.100.11 more than once'], []),
    ('links-different-lengths', inventory(each={'herring': {'hapair_links': [{'interface': 'eth0', 'address': '198.51.100.11'}]}}),
     ["Pair 'pair1': hapair_links must have the same number of links on both nodes, but herring has 1 and haddock has 2"], []),
    # apache_balancer
    ('members-missing', inventory(drop=['apache_balancer_members']),
     ['Host herring: apache_balancer_members is required but not set', 'Host haddock: apache_balancer_members is required but not set'], []),
    ('members-empty', inventory(every={'apache_balancer_members': []}),
     ['Host herring: apache_balancer_members is empty', 'Host haddock: apache_balancer_members is empty'], []),
    ('members-not-urls', inventory(hosts=('herring', 'haddock', 'cod', 'ling'), each={
        'herring': {'apache_balancer_members': ['198.51.100.51']},
        'haddock': {'apache_balancer_members': ['http://198.51.100.51/', 'ftp://198.51.100.52/']},
        'cod': {'apache_balancer_members': ['http://198.51.100.51/?pool=1']},
        'ling': {'apache_balancer_members': ['http://198.51.100.51 /']}}),
     ["Host herring: apache_balancer_members holds '198.51.100.51', which is not a backend URL",
      "Host haddock: apache_balancer_members holds 'ftp://198.51.100.52/', which is not a backend URL",
      "Host cod: apache_balancer_members holds 'http://198.51.100.51/?pool=1', which is not a backend URL",
      "Host ling: apache_balancer_members holds 'http://198.51.100.51 /', which is not a backend URL"], []),
    ('members-loop-to-a-balancer', inventory(every={'apache_balancer_members': ['http://198.51.100.12/']}),
     ['Host herring: apache_balancer_members holds http://198.51.100.12/, the balancer itself on haddock (port 80)'], []),
    ('lbmethod-unknown', inventory(every={'apache_balancer_lbmethod': 'roundrobin'}),
     ["Host herring: apache_balancer_lbmethod 'roundrobin' is not a load-balancing method of mod_proxy_balancer; "
      "expected one of byrequests, bytraffic, bybusyness, heartbeat"], []),
]

# Each role on its own, in a play of its own: its validation still stops the play before its first change.
ROLE_ALONE_PLAYBOOK = """---
- name: Apply %(role)s alone
  hosts: loadbalancers
  roles:
    - role: %(role)s
"""
ROLE_CASES = [
    ('heartbeat', inventory(every={'heartbeat_auth_method': 'crc'}),
     "Host herring: heartbeat_auth_method 'crc' is not allowed", "Read the state of heartbeat's packages"),
    ('hostnames', inventory(each={'haddock': {'hapair_node_name': 'load_b2'}}),
     "Host haddock: hapair_node_name 'load_b2' is not a valid hostname", 'Read the node name, /etc/hostname'),
    ('apache_balancer', inventory(every={'apache_balancer_lbmethod': 'roundrobin'}),
     "Host herring: apache_balancer_lbmethod 'roundrobin' is not a load-balancing method", "Read the state of Apache's package"),
    # A type error on one node only fails Ansible's own check of the role's arguments there; the pair model then
    # fails its peer too, which does not go on alone.
    ('heartbeat-one-node', inventory(each={'herring': {'heartbeat_udpport': 'six-nine-four'}}),
     'Host herring: its input was not checked', "Read the state of heartbeat's packages"),
]


# The verify and failover playbooks: their entry points' argument specs are applied (the playbooks name the entry
# point, tasks_from: verify), so a bad option stops them before any module runs on a node.
VERIFY = os.path.join(REPO, 'playbooks', 'verify.yml')
FAILOVER = os.path.join(REPO, 'playbooks', 'failover.yml')
ENTRY_CASES = [
    ('verify-probe-timeout', VERIFY, {'heartbeat_verify_probe_timeout': 'soon'}, 'heartbeat_verify_probe_timeout',
     'Wait until this node sees the VIP settled'),
    ('failover-method', FAILOVER, {'heartbeat_failover_method': 'pull-the-plug'}, 'heartbeat_failover_method',
     'Stop heartbeat on the VIP holder'),
    ('failover-url', FAILOVER, {'heartbeat_failover_url': 'http://198.51.100.10:0/'},
     "Host herring: heartbeat_failover_url 'http://198.51.100.10:0/' is not valid: the port '0'", 'Stop heartbeat on the VIP holder'),
    ('verify-timers', VERIFY, {'heartbeat_deadtime': 'soon'}, "Host herring: heartbeat_deadtime 'soon' is not a positive time",
     'Wait until this node sees the VIP settled'),
]


def _selected_params(request, name):
    """The values of parameter `name` of this file's tests that pytest is going to run."""
    return [item.callspec.params[name] for item in request.session.items
            if getattr(item, 'module', None) is request.module and hasattr(item, 'callspec') and name in item.callspec.params]


@pytest.fixture(scope='module')
def runs(request, fact_cache, tmp_path_factory):
    """Every selected case, run in parallel threads: {case id: Run}."""
    base = str(tmp_path_factory.mktemp('runs'))
    jobs = {}

    def job(name, inventory_data, playbook=SITE):
        tmp = os.path.join(base, name)
        cache = os.path.join(tmp, 'cache')
        shutil.copytree(fact_cache, cache)
        if playbook not in (SITE, VERIFY, FAILOVER):
            os.makedirs(tmp, exist_ok=True)
            path = os.path.join(tmp, 'play.yml')
            with open(path, 'w') as handle:
                handle.write(playbook)
            playbook = path
        return run_playbook(tmp, cache, inventory_data, playbook=playbook)

    cases = dict((case[0], case[1]) for case in CASES)
    roles = dict((case[0], case[1]) for case in ROLE_CASES)
    with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for name in _selected_params(request, 'case_id'):
            jobs[name] = pool.submit(job, name, cases[name])
        for role in _selected_params(request, 'role'):
            jobs['role-' + role] = pool.submit(job, 'role-' + role, roles[role],
                                               ROLE_ALONE_PLAYBOOK % {'role': 'hapair.loadbalancer.' + role.split('-')[0]})
        for entry in _selected_params(request, 'entry'):
            _name, playbook, extra, _phrase, _first = next(case for case in ENTRY_CASES if case[0] == entry)
            variables = inventory()
            for host in variables['all']['children']['loadbalancers']['hosts'].values():
                host.update(extra)
            jobs['entry-' + entry] = pool.submit(job, 'entry-' + entry, variables, playbook)
        if _selected_params(request, 'valid'):
            jobs['valid'] = pool.submit(job, 'valid', inventory(hosts=('herring', 'haddock', 'cod', 'ling')))
        return {name: future.result() for name, future in jobs.items()}


def assert_stopped_in_validation(run):
    assert run.rc == 2, run.out
    assert VALIDATION_PLAY in run.out, run.out
    # Nothing after the validation play started: no task that could change a host ran.
    assert PROVISION_PLAY not in run.out, run.out
    assert run.recap, run.out
    assert all(changed == 0 for changed, _failed in run.recap.values()), run.recap
    assert any(failed > 0 for _changed, failed in run.recap.values()), run.recap


@pytest.mark.parametrize('case_id, phrases, hidden', [(case[0], case[2], case[3]) for case in CASES],
                         ids=[case[0] for case in CASES])
def test_bad_input_stops_the_site_playbook_before_any_change(runs, case_id, phrases, hidden):
    run = runs[case_id]
    assert_stopped_in_validation(run)
    for phrase in phrases:
        assert run.has_message(phrase), 'no message holds %r; messages:\n%s' % (phrase, '\n'.join(run.messages))
    for secret in hidden + [KEY]:
        assert secret not in run.out, 'the output shows %r' % secret


@pytest.mark.parametrize('role', [case[0] for case in ROLE_CASES])
def test_each_role_alone_validates_before_its_first_change(runs, role):
    _role, _inventory, phrase, first_change = next(case for case in ROLE_CASES if case[0] == role)
    run = runs['role-' + role]
    assert run.rc == 2, run.out
    assert run.has_message(phrase), '\n'.join(run.messages)
    assert first_change not in run.out, run.out
    assert all(changed == 0 for changed, _failed in run.recap.values()), run.recap


@pytest.mark.parametrize('entry', [case[0] for case in ENTRY_CASES])
def test_verify_and_failover_check_their_options_before_any_module_runs(runs, entry):
    _name, _playbook, _extra, phrase, first_module = next(case for case in ENTRY_CASES if case[0] == entry)
    run = runs['entry-' + entry]
    assert run.rc == 2, run.out
    assert run.has_message(phrase), '\n'.join(run.messages)
    assert first_module not in run.out, run.out
    assert all(changed == 0 for changed, _failed in run.recap.values()), run.recap


# Parametrized only so that the `runs` fixture sees it selected.
@pytest.mark.parametrize('valid', [True])
def test_valid_input_passes_validation(runs, valid):
    """The baseline every case changes one thing of passes validation; the provisioning play then starts and
    stops at its first module, which cannot run (ansible_python_interpreter /bin/false), with --check anyway."""
    run = runs['valid']
    assert valid
    assert run.rc == 2, run.out
    assert PROVISION_PLAY in run.out, run.out
    validation, provisioning = run.out.split(PROVISION_PLAY)
    assert 'fatal:' not in validation and 'failed:' not in validation, validation
    assert 'The input of 4 host(s) in 2 pair(s) is valid' in validation
    # The safety net held: the first task that would touch the host could not even run its module.
    first = "TASK [hapair.loadbalancer.hostnames : Read the node name, /etc/hostname, the pair's block in /etc/hosts and cloud-init's settings]"
    assert first in provisioning, provisioning
    assert sorted(host for host, _message in run.failures) == ['cod', 'haddock', 'herring', 'ling'], run.failures
    # (ansible-core 2.19 and later say the first; 2.16 to 2.18 the second.)
    assert all('Module result deserialization failed' in message or 'MODULE FAILURE' in message
               for _host, message in run.failures), run.failures
    assert 'TASK' not in provisioning.split(first)[1], provisioning
    assert all(changed == 0 for changed, _failed in run.recap.values()), run.recap
    assert KEY not in run.out
