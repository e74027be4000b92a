# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input that only real hosts can show wrong stops the site playbook before any change.

Each case runs playbooks/site.yml against the converged pair with one mistake, given with -e or with a small
inventory whose host variables override the test bed's; it must fail in the validation play (exit status 2)
with a message that names the variable, the host or pair and the bad value, and the nodes must be exactly as
before: heartbeat's files, the Apache site, the host names, which node holds the VIP, the PIDs of heartbeat
and Apache (conftest.snapshot).

The rules that need no host are tested against fake hosts in tests/integration/test_validation.py; one of
them (a placeholder key) runs here too, to show the same stop on real hosts.
"""

from __future__ import annotations

import ipaddress
import json

import pytest

from conftest import HOSTVARS, PROVISION_PLAY, ansible_playbook, pairs, snapshot, vip_holders

CLUSTER = sorted(pairs())[0]
FIRST, SECOND = pairs()[CLUSTER]
LINKS = {host: HOSTVARS[host]['hapair_links'] for host in (FIRST, SECOND)}


def _network_of(address):
    """The test bed network (testbed_networks) an address is on."""
    for network in HOSTVARS[FIRST]['testbed_networks']:
        if ipaddress.ip_address(address) in ipaddress.ip_network(network['subnet']):
            return ipaddress.ip_network(network['subnet'])
    raise AssertionError('%s is on no test bed network' % address)


PUBLIC = _network_of(LINKS[FIRST][0]['address'])
PRIVATE = _network_of(LINKS[FIRST][1]['address'])
USED = {link['address'] for links in LINKS.values() for link in links}
# The first backend's address (on the public network, like the VIP).
BACKEND = HOSTVARS[FIRST]['apache_balancer_members'][0].split('//')[1].strip('/')
# Two addresses of the private network that no container has (nothing is ever sent to them): its last two, as the
# second and third beds' networks are /27.
FREE_PRIVATE = [str(address) for address in PRIVATE.hosts() if str(address) not in USED][-2:]


def _links(host, **changes):
    """The host's links with some replaced: {index: {interface, address}}."""
    links = [dict(link) for link in LINKS[host]]
    for index, link in changes.items():
        links[int(index[1:])] = link
    return links


# (id, -e variables, host variables to override {host: vars}, extra options, phrases the failure must hold)
CASES = [
    ('vip-outside-interface-subnet', {'hapair_vip': FREE_PRIVATE[0]}, {}, [],
     ["Pair '%s': hapair_vip '%s' is outside the subnet of hapair_vip_interface 'eth0' on " % (CLUSTER, FREE_PRIVATE[0])]),
    ('vip-is-a-link-address', {'hapair_vip': LINKS[SECOND][0]['address']}, {}, [],
     ["Pair '%s': hapair_vip '%s' is an address of %s" % (CLUSTER, LINKS[SECOND][0]['address'], SECOND)]),
    # Only the first link in hapair_links: the second address is the node's own, known from its facts alone.
    ('vip-is-an-address-of-the-node-not-in-links', {'hapair_vip': LINKS[SECOND][1]['address']},
     {FIRST: {'hapair_links': LINKS[FIRST][:1]}, SECOND: {'hapair_links': LINKS[SECOND][:1]}}, [],
     ["Pair '%s': hapair_vip '%s' is an address of %s" % (CLUSTER, LINKS[SECOND][1]['address'], SECOND)]),
    ('vip-interface-missing', {'hapair_vip_interface': 'eth9'}, {}, [],
     ["Pair '%s': hapair_vip_interface 'eth9' does not exist on %s and %s" % (CLUSTER, FIRST, SECOND)]),
    ('link-interface-missing', {}, {FIRST: {'hapair_links': _links(FIRST, i1={'interface': 'eth7', 'address': LINKS[FIRST][1]['address']})}}, [],
     ["Host %s: hapair_links item 2 names interface 'eth7', which this host does not have (interfaces there: " % FIRST]),
    ('link-address-not-on-the-node', {}, {SECOND: {'hapair_links': _links(SECOND, i1={'interface': 'eth1', 'address': FREE_PRIVATE[1]})}}, [],
     ["Host %s: hapair_links item 2: address '%s' is not an address of interface eth1" % (SECOND, FREE_PRIVATE[1])]),
    # The links of one node in the other order: link 1 would join the public and the private network.
    ('links-in-reverse-order', {}, {SECOND: {'hapair_links': list(reversed(LINKS[SECOND]))}}, [],
     ["Pair '%s': link 1 of hapair_links is on different subnets on the two nodes" % CLUSTER]),
    # An address listed under the other interface of the node.
    ('link-address-under-another-interface', {},
     {SECOND: {'hapair_links': [{'interface': 'eth0', 'address': LINKS[SECOND][1]['address']},
                                {'interface': 'eth1', 'address': LINKS[SECOND][0]['address']}]}}, [],
     ["Host %s: hapair_links item 1: address '%s' is not an address of interface eth0" % (SECOND, LINKS[SECOND][1]['address'])]),
    # A VIP that is a backend's address.
    ('vip-is-a-backend', {'hapair_vip': BACKEND}, {}, [],
     ["Pair '%s': hapair_vip '%s' is also the address of a backend in apache_balancer_members of %s" % (CLUSTER, BACKEND, FIRST)]),
    ('limit-to-one-node', {}, {}, ['--limit', FIRST],
     ["Pair '%s': the pair has 1 node(s) in this play: %s." % (CLUSTER, FIRST)]),
    ('placeholder-key', {'heartbeat_auth_key': 'somerandomstring'}, {}, [],
     ['Host %s: heartbeat_auth_key is a well-known placeholder' % FIRST]),
]


@pytest.fixture(scope='module')
def converged():
    """The pair as the earlier tests left it: converged, the VIP on one node."""
    state = snapshot()
    assert len(vip_holders(state)) == 1, state
    return state


@pytest.mark.parametrize('extra_vars, host_vars, options, phrases', [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input_stops_the_site_playbook_and_changes_nothing(converged, tmp_path, extra_vars, host_vars, options, phrases):
    args = list(options)
    if extra_vars:
        (tmp_path / 'vars.json').write_text(json.dumps(extra_vars))
        args += ['-e', '@%s' % (tmp_path / 'vars.json')]
    inventories = []
    if host_vars:
        (tmp_path / 'override.json').write_text(json.dumps({'all': {'hosts': host_vars}}))
        inventories.append(tmp_path / 'override.json')

    run = ansible_playbook('site.yml', *args, inventories=inventories)

    assert run.rc == 2, run.out[-5000:]
    for phrase in phrases:
        assert run.has_message(phrase), 'no message holds %r:\n%s' % (phrase, '\n'.join(run.messages))
    # Stopped in the validation play: no task that could change a node ran.
    assert PROVISION_PLAY not in run.out, run.out[-5000:]
    assert all(recap['changed'] == 0 for recap in run.recap.values()), run.recap
    assert snapshot() == converged
