# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pair model: grouping, and a test per rule that spans hosts or pairs."""

from __future__ import annotations

import ipaddress

import pytest

from ansible_collections.hapair.loadbalancer.plugins.module_utils import pair_model, role_input
from ansible_collections.hapair.loadbalancer.tests.unit.plugins.role_specs import role_specs

SPECS = role_specs(role_input.ROLES)
KEY = 'pair-model-key-9e1c4b7a2d'
ENTRY_POINTS = [(role, 'main') for role in role_input.ROLES]
HEARTBEAT_MAIN = sorted(n for n, o in SPECS['heartbeat']['argument_specs']['main']['options'].items() if not o.get('no_log'))

# Two pairs: herring/haddock (pair1) and cod/ling (pair2), a public link on eth0 (/26) and a private one on eth1.
HOSTS = {
    'herring': ('pair1', 'loadb1', [('eth0', '198.51.100.11'), ('eth1', '198.51.100.75')]),
    'haddock': ('pair1', 'loadb2', [('eth0', '198.51.100.12'), ('eth1', '198.51.100.76')]),
    'cod': ('pair2', 'loadc1', [('eth0', '198.51.100.21'), ('eth1', '198.51.100.85')]),
    'ling': ('pair2', 'loadc2', [('eth0', '198.51.100.22'), ('eth1', '198.51.100.86')]),
}
VIPS = {'pair1': '198.51.100.10', 'pair2': '198.51.100.20'}


def facts(interfaces, secondaries=()):
    """Facts of a host with these (interface, address) pairs, each on a /26, plus secondary addresses."""
    ipv4 = {}
    for name, address in interfaces:
        network = str(ipaddress.IPv4Interface(address + '/26').network)
        ipv4.setdefault(name, []).append({'address': address, 'network': network, 'secondary': False})
    for name, address in secondaries:
        network = str(ipaddress.IPv4Interface(address + '/26').network)
        ipv4.setdefault(name, []).append({'address': address, 'network': network, 'secondary': True})
    return {'interfaces': ['lo'] + sorted(ipv4), 'ipv4': ipv4, 'default_ipv4': {}, 'distribution': 'Debian',
            'distribution_release': 'bookworm'}


def record(host, overrides=None, host_facts=None):
    cluster, name, links = HOSTS[host]
    raw = {
        'hapair_cluster': cluster, 'hapair_node_name': name,
        'hapair_links': [{'interface': i, 'address': a} for i, a in links],
        'hapair_vip': VIPS.get(cluster, '198.51.100.10'), 'hapair_vip_prefix': 26,
        'apache_balancer_members': ['http://198.51.100.51/', 'http://198.51.100.52/'],
        'heartbeat_auth_key': KEY,
    }
    raw.update(overrides or {})
    raw = {k: v for k, v in raw.items() if v is not role_input.MISSING}
    the_facts = facts(links) if host_facts is None else host_facts
    checked = role_input.check_host(host, SPECS, ENTRY_POINTS, raw, {'facts': the_facts, 'set': sorted(raw)})
    return {'host': host, 'typed': checked.values, 'secrets': checked.secrets, 'errors': checked.errors,
            'invalid': sorted(checked.invalid), 'facts': the_facts, 'shared': HEARTBEAT_MAIN,
            'entry_points': [role for role, _entry_point in ENTRY_POINTS]}


def build(hosts=('herring', 'haddock'), each=None, every=None, host_facts=None):
    records = []
    for host in hosts:
        overrides = dict(every or {})
        overrides.update((each or {}).get(host, {}))
        records.append(record(host, overrides, (host_facts or {}).get(host)))
    model = pair_model.build(records)
    for message in model['errors']:
        assert KEY not in message
    return model


def has(model, *phrases):
    return any(all(p in e for p in phrases) for e in model['errors'])


def test_a_valid_pair_gives_each_host_its_node_peer_and_pair():
    model = build()
    assert model['errors'] == []
    herring = model['hosts']['herring']
    assert herring['node'] == {'host': 'herring', 'name': 'loadb1', 'cluster': 'pair1',
                               'links': [{'interface': 'eth0', 'address': '198.51.100.11'},
                                         {'interface': 'eth1', 'address': '198.51.100.75'}]}
    assert herring['peer']['host'] == 'haddock'
    assert model['hosts']['haddock']['peer']['host'] == 'herring'
    pair = herring['pair']
    assert pair['name'] == 'pair1' and pair['vip'] == '198.51.100.10' and pair['vip_prefix'] == 26
    assert pair['vip_interface'] == 'eth0' and pair['preferred_node'] == 'loadb1' and pair['preferred_host'] == 'herring'
    assert [n['name'] for n in pair['nodes']] == ['loadb1', 'loadb2']


def test_nodes_are_listed_by_name_and_the_default_preferred_node_is_the_first_in_inventory():
    model = build(hosts=('haddock', 'herring'))
    pair = model['hosts']['herring']['pair']
    assert [n['name'] for n in pair['nodes']] == ['loadb1', 'loadb2']
    assert pair['preferred_node'] == 'loadb2' and pair['preferred_host'] == 'haddock'


def test_two_pairs_are_kept_apart():
    model = build(hosts=('herring', 'haddock', 'cod', 'ling'))
    assert model['errors'] == []
    assert model['hosts']['cod']['peer']['host'] == 'ling' and model['hosts']['cod']['pair']['vip'] == '198.51.100.20'


def test_cluster_names_that_differ_only_in_case_are_refused_and_both_pairs_are_still_checked():
    model = build(hosts=('herring', 'haddock', 'cod', 'ling'), each={
        'cod': {'hapair_cluster': 'PAIR1'}, 'ling': {'hapair_cluster': 'PAIR1', 'heartbeat_udpport': 695}})
    assert has(model, "Pairs 'pair1' and 'PAIR1': hapair_cluster values that differ only in letter case ('pair1': herring, "
                      "haddock; 'PAIR1': cod, ling)")
    # The case-folded pair is still a pair of its own, checked like any other.
    assert has(model, "Pair 'PAIR1': heartbeat_udpport differs between the nodes")


@pytest.mark.parametrize('hosts, phrase', [
    (('herring', 'haddock', 'cod'), "Pair 'pair2' (hapair_cluster) has 1 node(s) in this play: cod"),
])
def test_a_pair_needs_exactly_two_nodes(hosts, phrase):
    assert has(build(hosts=hosts), phrase)


def test_a_pair_of_three_is_refused():
    model = build(hosts=('herring', 'haddock', 'cod'), each={'cod': {'hapair_cluster': 'pair1', 'hapair_vip': '198.51.100.10'}})
    assert has(model, "Pair 'pair1' (hapair_cluster) has 3 node(s) in this play: herring, haddock, cod")


@pytest.mark.parametrize('other', ['loadb1', 'LOADB1'])
def test_node_names_must_differ_without_regard_to_case(other):
    model = build(each={'haddock': {'hapair_node_name': other}})
    assert has(model, 'hapair_node_name: hosts herring', 'haddock', 'have the same node name')


def test_node_names_must_differ_across_pairs_too():
    model = build(hosts=('herring', 'haddock', 'cod', 'ling'), each={'cod': {'hapair_node_name': 'loadb2'}})
    assert has(model, "hosts haddock ('loadb2', pair 'pair1'), cod ('loadb2', pair 'pair2') have the same node name")


def test_a_link_interface_must_exist_on_the_host():
    model = build(each={'herring': {'hapair_links': [{'interface': 'eth0', 'address': '198.51.100.11'},
                                                     {'interface': 'eth7', 'address': '198.51.100.75'}]}})
    assert has(model, 'Host herring: hapair_links item 2 names interface', 'eth7', 'interfaces there: eth0, eth1, lo')


def test_a_link_address_must_be_on_the_interface_listed():
    model = build(each={'haddock': {'hapair_links': [{'interface': 'eth0', 'address': '198.51.100.76'},
                                                     {'interface': 'eth1', 'address': '198.51.100.12'}]}})
    assert has(model, 'Host haddock: hapair_links item 1: address 198.51.100.76 is not an address of interface eth0', 'it is on eth1')


def test_a_link_address_the_host_does_not_have_is_refused():
    model = build(each={'haddock': {'hapair_links': [{'interface': 'eth0', 'address': '198.51.100.12'},
                                                     {'interface': 'eth1', 'address': '198.51.100.99'}]}})
    assert has(model, 'Host haddock: hapair_links item 2: address 198.51.100.99', 'the host has it on no interface')


def test_links_in_reverse_order_are_on_different_subnets():
    model = build(each={'haddock': {'hapair_links': [{'interface': 'eth1', 'address': '198.51.100.76'},
                                                     {'interface': 'eth0', 'address': '198.51.100.12'}]}})
    assert has(model, "Pair 'pair1': link 1 of hapair_links is on different subnets on the two nodes",
               'herring eth0 198.51.100.11 on 198.51.100.0/26', 'haddock eth1 198.51.100.76 on 198.51.100.64/26')


def test_links_must_be_as_many_on_both_nodes():
    model = build(each={'herring': {'hapair_links': [{'interface': 'eth0', 'address': '198.51.100.11'}]}})
    assert has(model, "Pair 'pair1': hapair_links must have the same number of links on both nodes, but herring has 1 and haddock has 2")


def test_an_address_may_not_be_listed_by_two_hosts():
    model = build(each={'haddock': {'hapair_links': [{'interface': 'eth0', 'address': '198.51.100.11'},
                                                     {'interface': 'eth1', 'address': '198.51.100.76'}]}},
                  host_facts={'haddock': facts([('eth0', '198.51.100.11'), ('eth1', '198.51.100.76')])})
    assert has(model, 'hapair_links address 198.51.100.11 is listed by more than one host (haddock, herring)')


@pytest.mark.parametrize('variable, value, shown', [
    ('hapair_vip', '198.51.100.9', "herring: '198.51.100.10', haddock: '198.51.100.9'"),
    ('hapair_vip_prefix', 27, 'herring: 26, haddock: 27'),
    ('hapair_preferred_node', 'loadb2', "herring: '', haddock: 'loadb2'"),
    ('heartbeat_udpport', 695, 'herring: 694, haddock: 695'),
    ('heartbeat_auto_failback', 'false', 'herring: true, haddock: false'),
    ('heartbeat_keepalive', 1, "herring: '2', haddock: '1'"),
    ('heartbeat_logfile', '', "herring: '/var/log/ha-log', haddock: ''"),
])
def test_both_nodes_must_share_the_pair_settings(variable, value, shown):
    model = build(each={'haddock': {variable: value}})
    assert has(model, "Pair 'pair1': %s differs between the nodes (%s)" % (variable, shown)), model['errors']


def test_the_keys_of_a_pair_must_match_and_are_never_shown():
    other = 'pair-model-other-key-77aa'
    model = build(each={'haddock': {'heartbeat_auth_key': other}})
    assert has(model, "Pair 'pair1': heartbeat_auth_key differs between herring and haddock (values not shown)")
    assert not any(other in e for e in model['errors'])


def test_the_preferred_node_must_be_a_node_name_of_the_pair():
    assert has(build(every={'hapair_preferred_node': 'herring'}),
               "Pair 'pair1': hapair_preferred_node 'herring' is not a node of the pair (herring is an inventory name; its node name is loadb1)")
    assert has(build(every={'hapair_preferred_node': 'LOADB1'}), 'letter case included')
    model = build(every={'hapair_preferred_node': 'loadb2'})
    assert model['errors'] == [] and model['hosts']['herring']['pair']['preferred_host'] == 'haddock'


@pytest.mark.parametrize('vip, phrase', [
    ('198.51.100.0', 'is the network address of its subnet 198.51.100.0/26'),
    ('198.51.100.63', 'is the broadcast address of its subnet 198.51.100.0/26'),
])
def test_the_vip_is_not_the_network_or_broadcast_address(vip, phrase):
    assert has(build(every={'hapair_vip': vip}), "Pair 'pair1': hapair_vip %s %s" % (vip, phrase))


def test_heartbeat_needs_a_vip():
    assert has(build(every={'hapair_vip': ''}), "Pair 'pair1': hapair_vip is not set; heartbeat needs the virtual IP")


def test_a_pair_without_heartbeat_needs_no_vip():
    records = [record(host, {'hapair_vip': ''}) for host in ('herring', 'haddock')]
    for item in records:
        item['entry_points'] = ['hapair', 'hostnames']
    assert pair_model.build(records)['errors'] == []


def test_the_vip_must_be_on_the_subnet_of_its_interface():
    model = build(every={'hapair_vip': '198.51.100.100'})
    assert has(model, "Pair 'pair1': hapair_vip 198.51.100.100 is outside the subnet of hapair_vip_interface 'eth0' on "
                      'herring (198.51.100.0/26), haddock (198.51.100.0/26)')


def test_the_vip_interface_must_exist_on_both_nodes():
    assert has(build(every={'hapair_vip_interface': 'eth5'}), "Pair 'pair1': hapair_vip_interface 'eth5' does not exist on herring and haddock")


def test_the_vip_may_not_be_a_link_address_of_its_own_pair():
    assert has(build(every={'hapair_vip': '198.51.100.12'}), "Pair 'pair1': hapair_vip 198.51.100.12 is an address of haddock")


def test_the_vip_may_not_be_a_node_address_of_another_pair():
    model = build(hosts=('herring', 'haddock', 'cod', 'ling'), each={
        'herring': {'hapair_vip': '198.51.100.21'}, 'haddock': {'hapair_vip': '198.51.100.21'}})
    assert has(model, "Pair 'pair1': hapair_vip 198.51.100.21 is an address of cod (pair 'pair2')")


def test_the_vip_may_not_be_an_address_another_host_has_outside_its_links():
    model = build(every={'hapair_vip': '198.51.100.30'},
                  host_facts={'herring': facts([('eth0', '198.51.100.11'), ('eth1', '198.51.100.75'), ('eth2', '198.51.100.30')])})
    assert has(model, "Pair 'pair1': hapair_vip 198.51.100.30 is an address of herring")


def test_the_vip_held_by_a_node_of_its_own_pair_is_fine_but_not_by_another_pair():
    holder = facts([('eth0', '198.51.100.11'), ('eth1', '198.51.100.75')], secondaries=[('eth0', '198.51.100.10')])
    assert build(host_facts={'herring': holder})['errors'] == []
    other = facts([('eth0', '198.51.100.21'), ('eth1', '198.51.100.85')], secondaries=[('eth0', '198.51.100.10')])
    model = build(hosts=('herring', 'haddock', 'cod', 'ling'), host_facts={'cod': other})
    assert has(model, "Pair 'pair1': hapair_vip 198.51.100.10 is an address of cod (pair 'pair2')", 'secondary address')


def test_two_pairs_may_not_share_a_vip():
    model = build(hosts=('herring', 'haddock', 'cod', 'ling'), every={'hapair_vip': '198.51.100.10'})
    assert has(model, 'hapair_vip 198.51.100.10 is used by more than one pair (pair1, pair2)')


def test_the_vip_may_not_be_a_backend():
    model = build(each={'cod': {}}, every={'apache_balancer_members': ['http://198.51.100.10:8080/']})
    assert has(model, "Pair 'pair1': hapair_vip 198.51.100.10 is also the address of a backend in apache_balancer_members of herring")


def test_a_backend_on_a_balancer_node_and_port_would_loop():
    model = build(every={'apache_balancer_members': ['http://198.51.100.12/', 'http://198.51.100.51/']})
    assert has(model, 'Host herring: apache_balancer_members holds http://198.51.100.12/, the balancer itself on haddock (port 80)')
    # Another port on a node is a backend like any other.
    assert build(every={'apache_balancer_members': ['http://198.51.100.12:8080/']})['errors'] == []


def test_errors_of_every_host_come_out_together():
    model = build(hosts=('herring', 'haddock', 'cod', 'ling'), each={
        'herring': {'heartbeat_udpport': 0}, 'ling': {'hapair_node_name': 'load_c2'}})
    assert has(model, 'Host herring: heartbeat_udpport 0 must be a port number')
    assert has(model, "Host ling: hapair_node_name 'load_c2' is not a valid hostname")


def test_facts_that_are_missing_skip_only_the_checks_that_need_them():
    bare = {'interfaces': [], 'ipv4': {}, 'default_ipv4': {}, 'distribution': '', 'distribution_release': ''}
    model = build(host_facts={'herring': bare, 'haddock': bare})
    assert model['errors'] == []
