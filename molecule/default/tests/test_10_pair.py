# Copyright: (c) 2026, hapair.loadbalancer developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The converged pair: real heartbeat, real Apache, the VIP on exactly one node."""

from __future__ import annotations

import re

from conftest import BACKENDS, http_get

HEARTBEAT_FILES = ('/etc/ha.d/ha.cf', '/etc/ha.d/haresources', '/etc/ha.d/authkeys')


def vip_holders(nodes, vip):
    """Inventory names of the nodes that have the VIP on an interface, read from the kernel."""
    return [name for name, _variables, host in nodes
            if host.run('ip -4 -o addr show to %s', vip).stdout.strip()]


def test_heartbeat_files_are_byte_identical_on_both_nodes(pair):
    _cluster, nodes = pair
    for path in HEARTBEAT_FILES:
        sums = {name: host.check_output('sha256sum %s', path).split()[0] for name, _variables, host in nodes}
        assert len(set(sums.values())) == 1, '%s differs: %s' % (path, sums)


def test_authkeys_is_root_only(node):
    _name, _variables, host = node
    authkeys = host.file('/etc/ha.d/authkeys')
    assert authkeys.mode == 0o600
    assert authkeys.user == 'root' and authkeys.group == 'root'
    assert re.fullmatch(r'auth 1\n1 sha1 \S{16,}', authkeys.content_string.split('\n', 3)[-1].strip())


def test_ha_cf_names_both_nodes_and_every_link(pair):
    _cluster, nodes = pair
    ha_cf = nodes[0][2].file('/etc/ha.d/ha.cf').content_string
    assert sorted(re.findall(r'^node (\S+)$', ha_cf, re.M)) == sorted(v['hapair_node_name'] for _name, v, _host in nodes)
    ucast = re.findall(r'^ucast (\S+) (\S+)$', ha_cf, re.M)
    assert sorted(addr for _interface, addr in ucast) == sorted(link['address'] for _name, v, _host in nodes for link in v['hapair_links'])
    for setting in ('keepalive 2', 'deadtime 10', 'udpport 694', 'auto_failback on', 'crm no'):
        assert re.search(r'^%s$' % setting, ha_cf, re.M), setting


def test_heartbeat_and_apache_run_and_start_at_boot(node):
    _name, _variables, host = node
    for service in ('heartbeat', 'apache2'):
        assert host.service(service).is_running, service
        assert host.service(service).is_enabled, service


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
    # heartbeat's IPaddr agent adds it as an eth0:0 style alias
    label = nodes[0][2].check_output('ip -4 -o addr show to %s', vip)
    assert re.search(r'\beth0:\d+\b', label), label


def test_site_through_the_vip_is_answered_by_both_backends_in_turn(pair, client):
    _cluster, nodes = pair
    vip = nodes[0][1]['hapair_vip']
    answers = [http_get(client, 'http://%s/' % vip).split()[1] for _request in range(6)]
    assert set(answers) == set(BACKENDS)
    # byrequests: consecutive requests go to different backends
    assert all(a != b for a, b in zip(answers, answers[1:])), answers


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
