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
FILES = sorted(['ha.cf', 'haresources', 'authkeys', 'logd.cf', 'monitor.json', 'hapair-monitor.service', 'site.conf',
                'ports.conf', 'cloud-init.cfg'])

# The tutorial's ha.cf (issue 23), with its own pair's addresses: every directive of it, in its order.
TUTORIAL_HA_CF = '''\
use_logd on
debugfile /var/log/ha-debug
logfile /var/log/ha-log
logfacility local0
keepalive 2
deadtime 10
udpport 694
ucast eth0 46.20.121.121
ucast eth1 10.0.0.5
ucast eth0 46.20.121.120
ucast eth1 10.0.0.6
node loadb1
node loadb2
auto_failback on
'''
# The tutorial's settings, as the inventory gives them (the timers and the port are the defaults' too).
TUTORIAL_SETTINGS = {
    'heartbeat_use_logd': True,
    'heartbeat_debugfile': '/var/log/ha-debug',
    'heartbeat_logfile': '/var/log/ha-log',
    'heartbeat_logfacility': 'local0',
    'heartbeat_keepalive': 2,
    'heartbeat_deadtime': 10,
    'heartbeat_udpport': 694,
    'hapair_auto_failback': True,
}
# What the inventory gives instead of the tutorial's addresses and names: herring (loadb1) was the tutorial's
# 46.20.121.121 and 10.0.0.5, haddock (loadb2) 46.20.121.120 and 10.0.0.6 (see inventory/example).
TUTORIAL_ADDRESSES = {'46.20.121.121': '198.51.100.11', '10.0.0.5': '198.51.100.75', '46.20.121.120': '198.51.100.12',
                      '10.0.0.6': '198.51.100.76'}
# What the collection writes besides, each for a reason: warntime and initdead, which the tutorial leaves to
# heartbeat's defaults (the standard profile sets them, so that the drill's and verify's bounds know them), and
# crm no (heartbeat v1's haresources, never pacemaker, whatever heartbeat's build defaults to).
ADDED_DIRECTIVES = ['warntime 5', 'initdead 20', 'crm no']


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
    assert re.findall(r'^ReadWritePaths=(\S+)$', unit, re.M) == ['-/var/lib/heartbeat'], unit
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


def _directives(text):
    """The lines of a heartbeat settings file that say something: no comment, no empty line."""
    return [line for line in text.splitlines() if line.strip() and not line.startswith('#')]


def test_the_tutorials_settings_write_the_tutorials_ha_cf_line_by_line(fact_cache, tmp_path):
    """use_logd on, debugfile, logfile, logfacility, keepalive 2, deadtime 10, udpport 694, the four ucast lines,
    the node lines and auto_failback on, as the tutorial writes them and in its order, but for the pair's addresses;
    nothing else but the three directives the collection adds, and logd.cf with the same files and facility."""
    rendered = _render(str(tmp_path), fact_cache, inventory(every=TUTORIAL_SETTINGS))
    ha_cf = rendered['herring']['files']['ha.cf']
    print('\nha.cf as rendered with the tutorial\'s settings:\n' + ha_cf)
    tutorial = []
    for line in _directives(TUTORIAL_HA_CF):
        words = line.split()
        tutorial.append(' '.join(TUTORIAL_ADDRESSES.get(word, word) for word in words))
    lines = _directives(ha_cf)
    assert [line for line in lines if line not in ADDED_DIRECTIVES] == tutorial
    assert [line for line in lines if line in ADDED_DIRECTIVES] == ADDED_DIRECTIVES
    # use_logd first: ha.cf(5) reads it, as udpport, before what it applies to.
    assert lines[0] == 'use_logd on'
    assert _directives(rendered['herring']['files']['logd.cf']) == [
        'debugfile /var/log/ha-debug', 'logfile /var/log/ha-log', 'logfacility local0']
    for name in ('ha.cf', 'logd.cf'):
        assert rendered['herring']['files'][name] == rendered['haddock']['files'][name], name


def test_without_logd_and_a_debug_file_ha_cf_has_neither(rendered):
    """The defaults: no use_logd line (with logfacility and logfile in ha.cf, heartbeat then logs by itself), no
    debugfile line."""
    lines = _directives(rendered['herring']['files']['ha.cf'])
    assert not [line for line in lines if line.startswith(('use_logd', 'debugfile'))], lines
    assert lines[:2] == ['logfile /var/log/ha-log', 'logfacility local0']

