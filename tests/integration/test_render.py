# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The files the roles write hold the typed values: "false" is off, "695" is 695, 26.0 is 26.

Values that Ansible converts when it checks a role's arguments (a boolean or a number given as a string, a whole
number given as a float, a time given as a float) pass the input check; here the roles' templates (heartbeat,
monitor, apache_balancer, hostnames) are rendered on the controller (tests/integration/render.yml, with the template
lookup the roles use to compare digests with the nodes' files) from what the pair model publishes, and must hold the
converted values, identical on both nodes where the engine needs them so. The engine's part of the monitor's files
comes from the engine contract, through the published pair. The fake hosts and their facts are fake_hosts.py's.
"""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest
from fake_hosts import ANSIBLE_PLAYBOOK, KEY, inventory, render

pytestmark = pytest.mark.skipif(ANSIBLE_PLAYBOOK is None, reason='ansible-playbook is not installed')

# Every template render.yml renders for each host.
FILES = sorted(['ha.cf', 'haresources', 'authkeys', 'monitor.json', 'hapair-monitor.service', 'site.conf', 'ports.conf',
                'cloud-init.cfg'])


def _render(tmp, fact_cache, inventory_data, options=()):
    cache = os.path.join(tmp, 'cache')
    shutil.copytree(fact_cache, cache)
    run, rendered = render(tmp, cache, inventory_data, options)
    assert run.rc == 0, run.out[-4000:]
    assert KEY not in run.out
    assert sorted(rendered) == ['haddock', 'herring'], sorted(rendered)
    assert all(sorted(rendered[host]['files']) == FILES for host in rendered), rendered['herring']['files'].keys()
    return rendered


@pytest.fixture(scope='module')
def rendered(fact_cache, tmp_path_factory):
    """Render with tricky but valid input; {host: {'files': {name: text}, 'published': {...}}}."""
    data = inventory(every={
        'hapair_auto_failback': 'false',         # a string, as -e hapair_auto_failback=false gives it
        'heartbeat_udpport': '695',
        'hapair_vip_prefix': 26.0,
        'heartbeat_keepalive': 1.5,
        'heartbeat_deadtime': '10000ms',
        'hapair_monitor_fails': '5',
        'hapair_monitor_interval': 2,
        'apache_balancer_port': '8080',
        'apache_balancer_healthcheck': 'yes',
    })
    return _render(str(tmp_path_factory.mktemp('render')), fact_cache, data)


def test_a_boolean_given_with_dash_e_is_a_boolean(fact_cache, tmp_path):
    """-e hapair_auto_failback=false gives the string "false": ha.cf and the monitor say off all the same."""
    files = _render(str(tmp_path), fact_cache, inventory(), ('-e', 'hapair_auto_failback=false'))['herring']['files']
    assert re.search(r'^auto_failback off$', files['ha.cf'], re.M), files['ha.cf']
    assert json.loads(files['monitor.json'])['auto_failback'] is False


def test_both_nodes_get_byte_identical_heartbeat_files(rendered):
    for name in ('ha.cf', 'haresources', 'authkeys'):
        assert rendered['herring']['files'][name] == rendered['haddock']['files'][name], name


def test_ha_cf_holds_the_converted_values(rendered):
    ha_cf = rendered['herring']['files']['ha.cf']
    assert re.search(r'^auto_failback off$', ha_cf, re.M), ha_cf
    assert re.search(r'^udpport 695$', ha_cf, re.M), ha_cf
    assert re.search(r'^keepalive 1500ms$', ha_cf, re.M), ha_cf
    assert re.search(r'^deadtime 10$', ha_cf, re.M), ha_cf
    assert re.findall(r'^node (\S+)$', ha_cf, re.M) == ['loadb1', 'loadb2']
    assert re.findall(r'^ucast (\S+) (\S+)$', ha_cf, re.M) == [
        ('eth0', '198.51.100.11'), ('eth1', '198.51.100.75'), ('eth0', '198.51.100.12'), ('eth1', '198.51.100.76')]


def test_haresources_holds_a_whole_prefix(rendered):
    assert rendered['herring']['files']['haresources'].splitlines()[-1] == 'loadb1 IPaddr::198.51.100.10/26/eth0'


def test_authkeys_holds_the_key(rendered):
    assert rendered['herring']['files']['authkeys'].splitlines()[-2:] == ['auth 1', '1 sha1 %s' % KEY]


def test_the_apache_site_holds_the_converted_values(rendered):
    site = rendered['herring']['files']['site.conf']
    assert 'Listen 8080\n' in site and '<VirtualHost *:8080>' in site
    assert re.search(r'BalancerMember "http://198.51.100.51" connectiontimeout=300ms hcmethod=HEAD hcuri=/ hcinterval=10', site), site


def test_the_health_page_is_apaches_own_and_open_to_the_pair_only(rendered):
    site = rendered['herring']['files']['site.conf']
    assert site.index('ProxyPass "/hapair-health" "!"') < site.index('ProxyPass "/" "balancer://')
    assert 'AliasMatch "^/hapair\\-health$" "/run/hapair/health.json"' in site, site
    assert 'Require ip 127.0.0.1 ::1 198.51.100.11 198.51.100.75 198.51.100.12 198.51.100.76' in site, site
    assert 'combined env=!hapair_health' in site


def test_the_monitor_settings_name_the_node_its_peer_and_the_private_link_first(rendered):
    herring = json.loads(rendered['herring']['files']['monitor.json'])
    haddock = json.loads(rendered['haddock']['files']['monitor.json'])
    assert (herring['node'], herring['peer'], herring['preferred']) == ('loadb1', 'loadb2', 'loadb1')
    assert (haddock['node'], haddock['peer'], haddock['preferred']) == ('loadb2', 'loadb1', 'loadb1')
    assert herring['peer_addresses'] == ['198.51.100.76', '198.51.100.12']
    assert haddock['peer_addresses'] == ['198.51.100.75', '198.51.100.11']
    assert herring['auto_failback'] is False and herring['port'] == 8080
    assert herring['fails'] == 5 and isinstance(herring['interval'], float) and herring['interval'] == 2.0
    assert herring['vip_prefix'] == 26 and herring['ping_nodes'] == ['198.51.100.1']


def test_the_monitor_gets_the_engines_part_from_the_engine_contract(rendered):
    """hapair-monitor is engine-neutral: what it runs to hand the VIP over, and what its unit waits for and may write,
    come from the engine (module_utils/engine_heartbeat.py: monitor_settings) through the published pair."""
    settings = json.loads(rendered['herring']['files']['monitor.json'])
    assert settings['engine']['engine'] == 'heartbeat' and settings['engine']['service'] == 'heartbeat'
    assert settings['engine']['hb_standby'] == '/usr/share/heartbeat/hb_standby'
    unit = rendered['herring']['files']['hapair-monitor.service']
    assert re.search(r'^After=network\.target apache2\.service heartbeat\.service$', unit, re.M), unit
    # The engine's paths, then the directory of the metrics file (hapair_metrics_file).
    assert re.findall(r'^ReadWritePaths=(\S+)$', unit, re.M) == ['-/var/lib/heartbeat',
                                                                 '-/var/lib/prometheus/node-exporter'], unit
    assert unit == rendered['haddock']['files']['hapair-monitor.service']


def test_the_published_pair_holds_the_engine_and_its_timers_in_seconds(rendered):
    """verify and the drill bound their waits with the pair's timers: keepalive 1.5 (a float) is 1.5 s, deadtime
    10000ms is 10 s, initdead the standard profile's 20 s."""
    published = rendered['herring']['published']
    pair = published['hapair_pair']
    assert pair['engine']['name'] == 'heartbeat' and pair['auto_failback'] is False
    assert pair['timers']['advert'] == 1.5 and pair['timers']['detect'] == 10 and pair['timers']['startup'] == 20
    assert pair['timers']['settle'] == 20 + 10 + 10
    assert published['hapair_input']['heartbeat_keepalive'] == '1500ms'
    assert published['hapair_input']['hapair_auto_failback'] is False
    # One pair, one model: both nodes got the same.
    assert pair == rendered['haddock']['published']['hapair_pair']
