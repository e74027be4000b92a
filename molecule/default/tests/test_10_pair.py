# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The converged pair: its engine (heartbeat or keepalived, as its inventory says), Apache and hapair-monitor
running and started at boot, the other engine not; the VIP on exactly one node, the preferred one; the site balanced
over both backends."""

from __future__ import annotations

import re

import pytest

from conftest import BACKENDS, ENGINE, http_get

HEARTBEAT_FILES = ('/etc/ha.d/ha.cf', '/etc/ha.d/haresources', '/etc/ha.d/authkeys')
OTHER_ENGINE = {'heartbeat': 'keepalived', 'keepalived': 'heartbeat'}[ENGINE]
heartbeat_only = pytest.mark.skipif(ENGINE != 'heartbeat', reason='the pair runs %s' % ENGINE)
keepalived_only = pytest.mark.skipif(ENGINE != 'keepalived', reason='the pair runs %s' % ENGINE)


def vip_holders(nodes, vip):
    """Inventory names of the nodes that have the VIP on an interface, read from the kernel."""
    return [name for name, _variables, host in nodes
            if host.run('ip -4 -o addr show to %s', vip).stdout.strip()]


@heartbeat_only
def test_heartbeat_files_are_byte_identical_on_both_nodes(pair):
    _cluster, nodes = pair
    for path in HEARTBEAT_FILES:
        sums = {name: host.check_output('sha256sum %s', path).split()[0] for name, _variables, host in nodes}
        assert len(set(sums.values())) == 1, '%s differs: %s' % (path, sums)


@heartbeat_only
def test_authkeys_is_root_only(node):
    _name, _variables, host = node
    authkeys = host.file('/etc/ha.d/authkeys')
    assert authkeys.mode == 0o600
    assert authkeys.user == 'root' and authkeys.group == 'root'
    assert re.fullmatch(r'auth 1\n1 sha1 \S{16,}', authkeys.content_string.split('\n', 3)[-1].strip())


@heartbeat_only
def test_ha_cf_names_both_nodes_and_every_link(pair):
    _cluster, nodes = pair
    ha_cf = nodes[0][2].file('/etc/ha.d/ha.cf').content_string
    assert sorted(re.findall(r'^node (\S+)$', ha_cf, re.M)) == sorted(v['hapair_node_name'] for _name, v, _host in nodes)
    ucast = re.findall(r'^ucast (\S+) (\S+)$', ha_cf, re.M)
    assert sorted(addr for _interface, addr in ucast) == sorted(
        link['address'] for _name, v, _host in nodes for link in v['hapair_links'])
    for setting in ('keepalive 2', 'deadtime 10', 'udpport 694', 'auto_failback on', 'crm no'):
        assert re.search(r'^%s$' % setting, ha_cf, re.M), setting


@keepalived_only
def test_keepalived_instances_are_one_vrrp3_unicast_pair(pair):
    """Each node's keepalived.conf: VRRPv3, one instance with the pair's router id, unicast from its own address on
    the VIP's link to its peer's, the preferred node with the higher priority, no VRRP authentication."""
    _cluster, nodes = pair
    confs = dict((name, host.file('/etc/keepalived/keepalived.conf').content_string) for name, _v, host in nodes)
    addresses = dict((name, v['hapair_links'][0]['address']) for name, v, _host in nodes)
    (first, first_conf), (second, second_conf) = confs.items()
    for name, conf in confs.items():
        other = second if name == first else first
        assert re.search(r'^\s*vrrp_version 3$', conf, re.M), conf
        assert re.search(r'^\s*unicast_src_ip %s$' % re.escape(addresses[name]), conf, re.M), conf
        assert re.search(r'^\s*unicast_peer \{\s*%s\s*\}' % re.escape(addresses[other]), conf, re.M), conf
        assert 'authentication' not in conf and 'auth_pass' not in conf
    router_ids = [re.search(r'virtual_router_id (\d+)', conf).group(1) for conf in confs.values()]
    assert len(set(router_ids)) == 1, router_ids
    priorities = dict((name, int(re.search(r'^\s*priority (\d+)$', conf, re.M).group(1))) for name, conf in confs.items())
    assert priorities[first] > priorities[second], priorities
    assert re.sub(r'(priority|unicast_src_ip|router_id) \S+|node \S+|\{\s*[0-9.]+\s*\}', '', first_conf) == \
        re.sub(r'(priority|unicast_src_ip|router_id) \S+|node \S+|\{\s*[0-9.]+\s*\}', '', second_conf)


def test_the_engine_apache_and_the_monitor_run_and_start_at_boot(node):
    _name, _variables, host = node
    for service in (ENGINE, 'apache2', 'hapair-monitor'):
        assert host.service(service).is_running, service
        assert host.service(service).is_enabled, service


def test_the_other_engine_does_not_run(node):
    _name, _variables, host = node
    assert not host.service(OTHER_ENGINE).is_running
    # `systemctl is-enabled` of a unit that is not installed: 1 on Debian 12, 4 ("not-found") on Debian 13.
    enabled = host.run('systemctl is-enabled %s', OTHER_ENGINE)
    assert enabled.stdout.strip() in ('disabled', 'not-found', ''), (enabled.rc, enabled.stdout)


def test_node_name_is_uname_n(node):
    _name, variables, host = node
    assert host.check_output('uname -n') == variables['hapair_node_name']


def test_node_names_resolve_to_first_link_address(pair):
    _cluster, nodes = pair
    for _name, _variables, host in nodes:
        for _peer, variables, _peer_host in nodes:
            resolved = host.check_output('getent hosts %s', variables['hapair_node_name']).split()[0]
            assert resolved == variables['hapair_links'][0]['address']


def test_vip_is_on_exactly_one_node_the_preferred_one(pair):
    _cluster, nodes = pair
    vip = nodes[0][1]['hapair_vip']
    holders = vip_holders(nodes, vip)
    assert holders == [nodes[0][0]], 'VIP %s held by %s' % (vip, holders)
    # Both engines add it as an eth0:N style alias (heartbeat's IPaddr agent, keepalived's label).
    label = nodes[0][2].check_output('ip -4 -o addr show to %s', vip)
    assert re.search(r'\beth0:\d+\b', label), label


def test_site_through_the_vip_is_answered_by_both_backends_in_turn(pair, client):
    _cluster, nodes = pair
    vip = nodes[0][1]['hapair_vip']
    answers = [http_get(client, 'http://%s/' % vip).split()[1] for _request in range(6)]
    assert set(answers) == set(BACKENDS)
    # byrequests: consecutive requests go to different backends
    assert all(a != b for a, b in zip(answers, answers[1:], strict=False)), answers


def test_each_node_serves_the_site_on_its_own_address(node, client):
    _name, variables, _host = node
    answer = http_get(client, 'http://%s/' % variables['hapair_links'][0]['address'])
    assert answer.split()[1] in BACKENDS


def test_balancer_manager_answers_only_locally(node, client):
    _name, variables, host = node
    local = host.run('python3 -c %s', 'import urllib.request;print(urllib.request.urlopen("http://127.0.0.1/balancer-manager").status)')
    assert local.stdout.strip() == '200'
    remote = client.run('python3 -c %s %s', 'import sys,urllib.request,urllib.error\n'
                        'try:\n urllib.request.urlopen(sys.argv[1])\nexcept urllib.error.HTTPError as e:\n print(e.code)',
                        'http://%s/balancer-manager' % variables['hapair_links'][0]['address'])
    assert remote.stdout.strip() == '403'


def test_stock_default_site_is_disabled(node):
    _name, _variables, host = node
    assert not host.file('/etc/apache2/sites-enabled/000-default.conf').exists
