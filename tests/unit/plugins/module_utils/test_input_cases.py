# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every input rule, as data: the cases in cases/*.yml, run by this one runner.

A case names the hosts of the play (default: the pair herring/haddock), what is set for all of them (`every`) and
for each (`set`), their facts where they differ from the standard ones, and the entry points checked (default:
every role). The runner types every host (role_input.check_host), builds the pair model (pair_model.build) and
compares the errors field by field - rule, host, pair, variable and, where the case gives it, the value - with the
case's `errors`, exactly: an error a case does not expect fails it too. It also checks `warnings`, typed values
(`typed`), the published pair (`pair`), the deprecated names (`deprecated`), and that no error or warning shows a key
or the password of a URL (user:PASSWORD@), in its message or its value.

Special values: '__missing__' removes a variable; {'__template_failure__': reason} stands for one that could not be
templated; {'__repeat__': [before, text, times, after]} is the string before + text * times + after (a 10,000-character
path without 10,000 characters in the file); {'__power_of_ten__': n} is the whole number 10 ** n (a YAML file cannot
hold one of more than 4300 digits). They may stand anywhere in a value, also inside lists and mappings. The standard
hosts (HOSTS) have a public link on eth0 (/26) and a private one on eth1 (/26).

`outside: {HOST: {variable: value}}` lists hosts of the inventory outside the play (a run with --limit) with the
variables set for them in the inventory - hapair_cluster, hapair_vip, hapair_links, each optional, the special values
above allowed - as the pair_model action plugin reads them (pair_model.outside_host()); they have no facts.

`facts: {HOST: ...}` changes a host's facts: 'bare' (none at all), or any of interfaces [[name, address], ...],
secondaries (the same, with the prefix as an optional third item), prefix (of every other network, 26 by default), gateway (a default route through the first
interface, or through default_interface), macs {interface: mac}, machine_id, and how Ansible reaches the host
(ansible_host, ansible_port, ansible_connection), as node_input's interface_facts() gives them.
"""

from __future__ import annotations

import glob
import ipaddress
import os
import re

import pytest
import yaml

from ansible_collections.hapair.loadbalancer.plugins.module_utils import engines, pair_model, role_input
from ansible_collections.hapair.loadbalancer.plugins.module_utils.errors import render
from ansible_collections.hapair.loadbalancer.tests.unit.plugins.role_specs import role_specs

SPECS = role_specs(role_input.ROLES)
CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'cases')
KEY = 'unit-test-key-4f2a9c7e1b'
HOSTS = {
    'herring': ('pair1', 'loadb1', [('eth0', '198.51.100.11'), ('eth1', '198.51.100.75')]),
    'haddock': ('pair1', 'loadb2', [('eth0', '198.51.100.12'), ('eth1', '198.51.100.76')]),
    'cod': ('pair2', 'loadc1', [('eth0', '198.51.100.21'), ('eth1', '198.51.100.85')]),
    'ling': ('pair2', 'loadc2', [('eth0', '198.51.100.22'), ('eth1', '198.51.100.86')]),
}
VIPS = {'pair1': '198.51.100.10', 'pair2': '198.51.100.20'}
EVERY_ROLE = ['hostnames', 'apt_sources', 'apache_balancer', 'engine', 'monitor', 'verify', 'drill']
# A URL's password, shown: user:PASSWORD@ where PASSWORD is not the mask.
URL_PASSWORD = re.compile(r'://[^/?#\r\n@]*:(?!\*\*\*@)[^/?#\r\n]*@')


def facts(interfaces, secondaries=(), gateway=None, prefix=26, default_interface=None):
    """Facts of a host with these (interface, address) pairs, each on a /prefix, plus secondary addresses."""
    ipv4 = {}
    for name, address in interfaces:
        network = str(ipaddress.IPv4Interface('%s/%d' % (address, prefix)).network)
        ipv4.setdefault(name, []).append({'address': address, 'network': network, 'secondary': False})
    for secondary in secondaries:
        name, address = secondary[:2]
        network = str(ipaddress.IPv4Interface('%s/%d' % (address, secondary[2] if len(secondary) > 2 else prefix)).network)
        ipv4.setdefault(name, []).append({'address': address, 'network': network, 'secondary': True})
    default = {}
    if gateway:
        through = [(n, a) for n, a in interfaces if n == (default_interface or interfaces[0][0])][0]
        default = {'interface': through[0], 'address': through[1], 'gateway': gateway}
    return {'interfaces': ['lo'] + sorted(ipv4), 'ipv4': ipv4, 'macs': {}, 'default_ipv4': default,
            'distribution': 'Debian', 'distribution_release': 'bookworm', 'machine_id': ''}


def standard_raw(host):
    cluster, name, links = HOSTS[host]
    return {
        'hapair_cluster': cluster, 'hapair_node_name': name,
        'hapair_links': [{'interface': i, 'address': a} for i, a in links],
        'hapair_vip': VIPS[cluster], 'hapair_vip_prefix': 26,
        'apache_balancer_members': ['http://198.51.100.51/', 'http://198.51.100.52/'],
        'hapair_ping_nodes': ['198.51.100.1'],
        'heartbeat_auth_key': KEY,
    }


def host_facts(host, case):
    given = (case.get('facts') or {}).get(host)
    if given is None:
        return facts(HOSTS[host][2])
    if given == 'bare':
        return {'interfaces': [], 'ipv4': {}, 'macs': {}, 'default_ipv4': {}, 'distribution': '',
                'distribution_release': '', 'machine_id': ''}
    result = facts([tuple(i) for i in given.get('interfaces', HOSTS[host][2])],
                   [tuple(s) for s in given.get('secondaries', [])], given.get('gateway'), given.get('prefix', 26),
                   given.get('default_interface'))
    result['macs'] = dict(given.get('macs') or {})
    result['machine_id'] = given.get('machine_id', '')
    for name in ('ansible_host', 'ansible_port', 'ansible_connection'):
        if name in given:
            result[name] = given[name]
    return result


def special(value):
    if isinstance(value, dict) and '__template_failure__' in value:
        return role_input.TemplateFailure(value['__template_failure__'])
    if isinstance(value, dict) and '__repeat__' in value:
        before, text, times, after = value['__repeat__']
        return before + text * times + after
    if isinstance(value, dict) and '__power_of_ten__' in value:
        return 10 ** value['__power_of_ten__']
    if isinstance(value, list):
        return [special(item) for item in value]
    if isinstance(value, dict):
        return dict((key, special(item)) for key, item in value.items())
    return value


def run(case):
    """(model, records) of a case."""
    hosts = case.get('hosts', ['herring', 'haddock'])
    entry_points = role_input.parse_entry_points(case.get('entry_points', EVERY_ROLE))
    records = []
    for host in hosts:
        raw = standard_raw(host)
        raw.update(case.get('every') or {})
        raw.update((case.get('set') or {}).get(host) or {})
        raw = dict((name, special(value)) for name, value in raw.items() if value != '__missing__')
        # Old names are read for their new ones, as the node_input action plugin does.
        deprecated = []
        renamed = engines.renamed()
        for old in [name for name in raw if name in renamed]:
            deprecated.append((old, renamed[old]))
            value = raw.pop(old)
            raw.setdefault(renamed[old], value)
        the_facts = host_facts(host, case)
        checked = role_input.check_host(host, SPECS, entry_points, raw, {'facts': the_facts, 'set': sorted(raw)})
        records.append(pair_model.HostRecord(
            host=host, entry_points=tuple('%s:%s' % ep if ep[1] != 'main' else ep[0] for ep in checked.entry_points),
            typed=checked.values, secrets=dict(checked.secrets), errors=tuple(checked.errors),
            warnings=tuple(checked.warnings), invalid=tuple(sorted(checked.invalid)), facts=the_facts,
            shared=tuple(shared_names(checked.entry_points)), deprecated=tuple(deprecated)))
    outside = [pair_model.outside_host(host, dict((name, special(value)) for name, value in variables.items()))
               for host, variables in sorted((case.get('outside') or {}).items())]
    return pair_model.build(records, outside), records


def shared_names(entry_points):
    """What node_input would return as `shared` (the action plugin's rule, restated: tests/unit/plugins/action
    checks that both agree)."""
    names = list(role_input.PAIR_SETTINGS)
    for role, entry_point in entry_points:
        if role in role_input.PAIR_LEVEL_ROLES and entry_point == 'main':
            names += sorted(SPECS[role]['argument_specs']['main']['options'])
        for engine in engines.ENGINES.values():
            if engine.role == role and entry_point == 'main':
                names += engine.pair_variables(SPECS[role]['argument_specs']['main']['options'])
    return names


def _key(item):
    return (item.get('rule'), item.get('host') or '', '' if item.get('pair') is None else item.get('pair'),
            item.get('variable'))


def _cases():
    for path in sorted(glob.glob(os.path.join(CASES, '*.yml'))):
        with open(path, encoding='utf-8') as handle:
            for case in yaml.safe_load(handle) or []:
                yield pytest.param(case, id='%s: %s' % (os.path.basename(path)[:-4], case['name']))


@pytest.mark.parametrize('case', list(_cases()))
def test_case(case):
    model, records = run(case)
    got = sorted(_key(error._asdict()) for error in model.errors)
    want = sorted(_key(dict(error, host=error.get('host'), pair=error.get('pair'))) for error in case.get('errors') or [])
    assert got == want, '\n'.join(render(error) for error in model.errors)
    for expected in case.get('errors') or []:
        if 'value' in expected:
            matching = [e for e in model.errors if _key(e._asdict()) == _key(expected)]
            assert any(e.value == expected['value'] for e in matching), (expected, matching)
    secrets = set([KEY] + [r.secrets.get('heartbeat_auth_key') for r in records if r.secrets.get('heartbeat_auth_key')])
    for error in model.errors + model.warnings:
        text = render(error)
        assert not any(secret in text for secret in secrets if secret), text
        assert not isinstance(error.value, str) or error.value not in secrets
        assert not URL_PASSWORD.search(text) and not URL_PASSWORD.search(str(error.to_dict()['value'])), text
    if 'warnings' in case:
        assert sorted(_key(w._asdict()) for w in model.warnings) == sorted(_key(w) for w in case['warnings'] or [])
    for host, values in (case.get('typed') or {}).items():
        typed = [r for r in records if r.host == host][0].typed
        for name, value in values.items():
            assert typed.get(name) == value and type(typed.get(name)) is type(value), (name, typed.get(name))
    for host, values in (case.get('pair') or {}).items():
        published = model.hosts[host]
        for path, value in values.items():
            item = published
            for part in path.split('.'):
                item = item[int(part)] if isinstance(item, list) else item[part]
            assert item == value, (path, item)
    if 'deprecated' in case:
        assert [[old, new] for old, new, _hosts in model.deprecations] == case['deprecated']


def test_every_case_file_is_a_list_of_named_cases():
    names = set()
    for path in glob.glob(os.path.join(CASES, '*.yml')):
        with open(path, encoding='utf-8') as handle:
            for case in yaml.safe_load(handle):
                assert set(case) <= {'name', 'hosts', 'every', 'set', 'facts', 'entry_points', 'errors', 'warnings',
                                     'typed', 'pair', 'deprecated', 'why', 'outside'}, case
                assert (path, case['name']) not in names
                names.add((path, case['name']))


@pytest.mark.parametrize('role', role_input.ALONE_ROLES)
def test_a_role_that_needs_no_pair_is_checked_without_the_hapair_role(role):
    """apt_sources and apache_balancer check their input alone (tasks/validate.yml) on a host that has neither network
    facts nor a valid node name: the hapair role's input is not theirs to check."""
    raw = {'apache_balancer_members': ['http://198.51.100.51/']}
    bare = {'interfaces': [], 'ipv4': {}, 'default_ipv4': {}, 'distribution': 'Ubuntu', 'distribution_release': 'noble'}
    checked = role_input.check_host('web_1', SPECS, role_input.parse_entry_points([role]), raw,
                                    {'facts': bare, 'set': sorted(raw)})
    assert checked.errors == [], [render(error) for error in checked.errors]
    assert checked.entry_points == [(role, 'main')]
    assert not any(name.startswith('hapair_') for name in checked.values), sorted(checked.values)


def test_a_role_that_needs_the_pair_is_checked_with_the_hapair_role():
    bare = {'interfaces': [], 'ipv4': {}, 'default_ipv4': {}, 'distribution': 'Debian', 'distribution_release': 'bookworm'}
    checked = role_input.check_host('web_1', SPECS, role_input.parse_entry_points(['hostnames']), {},
                                    {'facts': bare, 'set': []})
    assert checked.entry_points[0] == ('hapair', 'main')
    assert sorted((error.rule, error.variable) for error in checked.errors) == [
        ('grammar', 'hapair_node_name'), ('required', 'hapair_links')], [render(error) for error in checked.errors]


def test_the_deprecation_warning_names_the_old_and_new_name_the_release_and_the_hosts():
    assert pair_model.deprecation_message('heartbeat_timers', 'hapair_timers', ('herring', 'haddock')) == (
        'heartbeat_timers is deprecated and will be removed in hapair.loadbalancer %s: use hapair_timers (set for '
        'herring, haddock).' % engines.RENAMED_REMOVED_IN)
    assert engines.RENAMED_REMOVED_IN == '2.0.0'
    # The action plugin gives display.deprecated the same release, as a literal (ansible-test's pylint wants one).
    action = os.path.join(os.path.dirname(os.path.abspath(pair_model.__file__)), '..', 'action', 'pair_model.py')
    with open(action, encoding='utf-8') as handle:
        assert re.findall(r"version='([^']*)'", handle.read()) == [engines.RENAMED_REMOVED_IN]
