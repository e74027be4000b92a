# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The files the roles write hold the typed values: "false" is off, "695" is 695, 26.0 is 26.

Values that Ansible converts when it checks a role's arguments (a boolean or a number given as a string, a whole
number given as a float, a time given as a float) pass the input check; here the roles' templates (the pair's engine,
heartbeat or keepalived, and monitor, apache_balancer, hostnames) are rendered on the controller
(tests/integration/render.yml, with the template lookup the roles use to compare digests with the nodes' files) from
what the pair model publishes, and must hold the converted values, identical on both nodes where the engine needs them
so (heartbeat: every file; keepalived: all but what is the node's own in keepalived.conf). The engine's part of the
monitor's files comes from the engine contract, through the published pair. The fake hosts and their facts are
fake_hosts.py's.
"""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest
import yaml
from fake_hosts import ANSIBLE_PLAYBOOK, KEY, inventory, render

pytestmark = pytest.mark.skipif(ANSIBLE_PLAYBOOK is None, reason='ansible-playbook is not installed')

# Every file render.yml renders for each host: the engine-neutral roles' and the pair's engine's.
COMMON = ['monitor.json', 'hapair-monitor.service', 'site.conf', 'ports.conf', 'cloud-init.cfg']
FILES = {
    'heartbeat': sorted(COMMON + ['ha.cf', 'haresources', 'authkeys', 'logd.cf']),
    'keepalived': sorted(COMMON + ['keepalived.conf', 'keepalived-hapair.conf', 'hapair-keepalived.tmpfiles',
                                   'keepalived-notify']),
}
ROLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'roles')

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
# The tutorial's settings, as the inventory gives them (tests/tutorial.yml, which the molecule test converges with).
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tutorial.yml'), encoding='utf-8') as _handle:
    TUTORIAL_SETTINGS = yaml.safe_load(_handle)
# What the inventory gives instead of the tutorial's addresses and names: herring (loadb1) was the tutorial's
# 46.20.121.121 and 10.0.0.5, haddock (loadb2) 46.20.121.120 and 10.0.0.6 (see inventory/example).
TUTORIAL_ADDRESSES = {'46.20.121.121': '198.51.100.11', '10.0.0.5': '198.51.100.75', '46.20.121.120': '198.51.100.12',
                      '10.0.0.6': '198.51.100.76'}
# What the collection writes besides, each for a reason: warntime and initdead, which the tutorial leaves to
# heartbeat's defaults (the standard profile sets them, so that the drill's and verify's bounds know them), and
# crm no (heartbeat v1's haresources, never pacemaker, whatever heartbeat's build defaults to).
ADDED_DIRECTIVES = ['warntime 5', 'initdead 20', 'crm no']


def _render(tmp, fact_cache, inventory_data, options=(), engine='heartbeat'):
    cache = os.path.join(tmp, 'cache')
    shutil.copytree(fact_cache, cache)
    run, rendered = render(tmp, cache, inventory_data, options)
    assert run.rc == 0, run.out[-4000:]
    assert KEY not in run.out
    assert sorted(rendered) == ['haddock', 'herring'], sorted(rendered)
    assert all(sorted(rendered[host]['files']) == FILES[engine] for host in rendered), rendered['herring']['files'].keys()
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
    assert rendered['herring']['files']['haresources'].splitlines()[-1] == 'loadb1 hapair-vip::198.51.100.10/26/eth0'


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


# --- keepalived ------------------------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def keepalived(fact_cache, tmp_path_factory):
    """A keepalived pair with tricky but valid input, auto_failback on, a preempt delay and the monitor on."""
    data = inventory(every={
        'hapair_engine': 'keepalived',
        'hapair_auto_failback': 'true',
        'hapair_monitor': 'yes',
        'hapair_vip_prefix': 26.0,
        'keepalived_advert_int': 1.5,
        'keepalived_virtual_router_id': '42',
        'keepalived_preempt_delay': '30',
    })
    return _render(str(tmp_path_factory.mktemp('render-keepalived')), fact_cache, data, engine='keepalived')


@pytest.fixture(scope='module')
def keepalived_plain(fact_cache, tmp_path_factory):
    """A keepalived pair without auto_failback (a preempt delay set all the same) and without the monitor, with the
    fast timers, the router id from the pair's name and the second node preferred."""
    data = inventory(every={
        'hapair_engine': 'keepalived',
        'hapair_auto_failback': 'false',
        'hapair_monitor': False,
        'hapair_timers': 'fast',
        'hapair_preferred_node': 'loadb2',
        'keepalived_preempt_delay': 30,
    })
    return _render(str(tmp_path_factory.mktemp('render-keepalived-plain')), fact_cache, data, engine='keepalived')


def _conf(rendered, host):
    return rendered[host]['files']['keepalived.conf']


def _lines(text, pattern):
    """Every match of pattern (a regular expression over one whole line, leading spaces ignored): its groups."""
    return re.findall(r'^\s*' + pattern + r'\s*$', text, re.M)


@pytest.mark.parametrize('case', ['keepalived', 'keepalived_plain'])
def test_the_two_nodes_keepalived_conf_differ_only_in_the_nodes_own_name_priority_and_addresses(request, case):
    rendered = request.getfixturevalue(case)
    herring, haddock = (_conf(rendered, host).splitlines() for host in ('herring', 'haddock'))
    assert len(herring) == len(haddock)
    differing = [(one, other) for one, other in zip(herring, haddock, strict=True) if one != other]
    own = [r'# keepalived for pair pair1, node (loadb1|loadb2): .*', r'\s*router_id (loadb1|loadb2)',
           r'\s*priority (150|100)', r'\s*unicast_src_ip 198\.51\.100\.1[12]', r'\s*198\.51\.100\.1[12]']
    assert len(differing) == len(own), differing
    for (one, other), pattern in zip(differing, own, strict=True):
        assert re.fullmatch(pattern, one) and re.fullmatch(pattern, other), (one, other, pattern)


def test_keepalived_conf_is_one_vrrpv3_unicast_instance_per_pair(keepalived):
    for host, name, priority, own, peer in (('herring', 'loadb1', 150, '198.51.100.11', '198.51.100.12'),
                                            ('haddock', 'loadb2', 100, '198.51.100.12', '198.51.100.11')):
        conf = _conf(keepalived, host)
        assert conf.startswith('#\n# Ansible managed\n#\n'), conf
        assert _lines(conf, r'router_id (\S+)') == [name]
        assert _lines(conf, r'vrrp_version (\S+)') == ['3']
        assert _lines(conf, r'(enable_script_security)') == ['enable_script_security']
        assert _lines(conf, r'script_user (\S+)') == ['keepalived_script']
        assert _lines(conf, r'vrrp_garp_master_delay (\S+)') == ['1'] and _lines(conf, r'vrrp_garp_master_repeat (\S+)') == ['3']
        assert _lines(conf, r'vrrp_instance (\S+) \{') == ['hapair_pair1']
        assert _lines(conf, r'state (\S+)') == ['BACKUP']
        assert _lines(conf, r'interface (\S+)') == ['eth0']
        assert _lines(conf, r'virtual_router_id (\S+)') == ['42']
        assert _lines(conf, r'priority (\S+)') == [str(priority)]
        # 1.5 given as a float: 1500ms typed, 1.5 s published and written.
        assert _lines(conf, r'advert_int (\S+)') == ['1.5']
        # auto_failback "true": the preferred node preempts, after the delay ("30": 30).
        assert _lines(conf, r'(nopreempt)') == [] and _lines(conf, r'preempt_delay (\S+)') == ['30']
        assert _lines(conf, r'unicast_src_ip (\S+)') == [own]
        assert re.search(r'^    unicast_peer \{\n        %s\n    \}$' % re.escape(peer), conf, re.M), conf
        # A whole prefix (26.0 is 26), on the VIP's interface, as an eth0:0 style alias.
        assert re.search(r'^    virtual_ipaddress \{\n        198\.51\.100\.10/26 dev eth0 label eth0:0\n    \}$', conf,
                         re.M), conf
        assert _lines(conf, r'notify (\S+)') == ['/usr/local/lib/hapair/keepalived-notify']


def test_the_monitor_s_verdict_reaches_keepalived_through_its_track_file(keepalived):
    conf = _conf(keepalived, 'herring')
    settings = keepalived['herring']['published']['hapair_pair']['engine']['monitor']
    assert re.search(r'^track_file hapair_monitor \{\n    file %s\n    weight 0\n    init_file 0\n\}$'
                     % re.escape(settings['track_file']), conf, re.M), conf
    # The instance tracks it, inside its block.
    instance = conf[conf.index('vrrp_instance '):]
    assert re.search(r'^    track_file \{\n        hapair_monitor\n    \}$', instance, re.M), instance


def test_without_auto_failback_neither_node_preempts_and_without_the_monitor_nothing_is_tracked(keepalived_plain):
    for host, priority in (('herring', 100), ('haddock', 150)):
        conf = _conf(keepalived_plain, host)
        assert _lines(conf, r'(nopreempt)') == ['nopreempt']
        # The delay is set, but only auto_failback uses it: keepalived would not take both.
        assert _lines(conf, r'preempt_delay (\S+)') == []
        assert 'track_file' not in conf and '/run/hapair-keepalived/track' not in conf
        # The preferred node is loadb2, haddock: the priorities follow it, not the inventory's order.
        assert _lines(conf, r'priority (\S+)') == [str(priority)]
        # The fast profile's interval, and the router id from the pair's name.
        assert _lines(conf, r'advert_int (\S+)') == ['0.1'] and _lines(conf, r'virtual_router_id (\S+)') == ['54']


def _sections(text):
    """{section: [(key, value)]} of a systemd unit file, in order, comments left out."""
    sections, current = {}, None
    for line in text.splitlines():
        if line.startswith('[') and line.endswith(']'):
            current = sections.setdefault(line[1:-1], [])
        elif line and not line.startswith('#') and current is not None:
            key, _equals, value = line.partition('=')
            current.append((key, value))
    return sections


def test_keepalived_s_drop_in_restarts_it_and_releases_the_vip_after_an_unclean_stop(keepalived):
    drop_in = keepalived['herring']['files']['keepalived-hapair.conf']
    assert drop_in.startswith('#\n# Ansible managed\n#\n'), drop_in
    assert _sections(drop_in) == {
        'Unit': [('After', 'apache2.service'), ('StartLimitIntervalSec', '120'), ('StartLimitBurst', '5')],
        'Service': [('Restart', 'always'), ('RestartSec', '1'),
                    ('ExecStopPost', '/usr/bin/python3 -I /usr/local/sbin/hapair-monitor release'),
                    # A node in maintenance does not start keepalived (node_maintenance's gate).
                    ('ExecCondition', '/usr/bin/python3 -I /usr/local/sbin/hapair-monitor engine-gate')],
    }
    # The program the monitor role's tools entry point installs, and the one the template's validation runs.
    with open(os.path.join(ROLES, 'monitor', 'vars', 'main.yml'), encoding='utf-8') as handle:
        assert re.search(r'^__monitor_program: /usr/local/sbin/hapair-monitor$', handle.read(), re.M)
    with open(os.path.join(ROLES, 'keepalived', 'tasks', 'converge.yml'), encoding='utf-8') as handle:
        assert 'validate: /usr/bin/python3 -I /usr/local/sbin/hapair-monitor --engine keepalived engine-config-test %s' \
            in handle.read()


def test_keepalived_s_runtime_directory_is_the_one_the_monitor_writes_owned_by_the_script_user(keepalived):
    tmpfiles = keepalived['herring']['files']['hapair-keepalived.tmpfiles']
    settings = keepalived['herring']['published']['hapair_pair']['engine']['monitor']
    directory = os.path.dirname(settings['track_file'])
    assert directory == os.path.dirname(settings['state_file']) and settings['writes'] == [directory]
    assert [line for line in tmpfiles.splitlines() if not line.startswith('#')] == [
        'd %s 0755 keepalived_script keepalived_script -' % directory]


def test_the_notify_script_is_the_role_s_file_as_it_is(keepalived):
    with open(os.path.join(ROLES, 'keepalived', 'files', 'keepalived-notify'), encoding='utf-8') as handle:
        assert keepalived['herring']['files']['keepalived-notify'] == handle.read()


def test_every_keepalived_file_but_keepalived_conf_is_the_same_on_both_nodes(keepalived):
    for name in ('keepalived-hapair.conf', 'hapair-keepalived.tmpfiles', 'keepalived-notify', 'hapair-monitor.service'):
        assert keepalived['herring']['files'][name] == keepalived['haddock']['files'][name], name


def test_the_monitor_of_a_keepalived_pair_gets_keepalived_s_part_from_the_engine_contract(keepalived):
    settings = json.loads(keepalived['herring']['files']['monitor.json'])
    assert settings['engine'] == {
        'engine': 'keepalived', 'service': 'keepalived', 'track_file': '/run/hapair-keepalived/track',
        'state_file': '/run/hapair-keepalived/state', 'writes': ['/run/hapair-keepalived'], 'vip': '198.51.100.10',
        'why_root': settings['engine']['why_root']}
    assert settings['auto_failback'] is True and settings['vip_prefix'] == 26
    unit = keepalived['herring']['files']['hapair-monitor.service']
    assert re.search(r'^After=network\.target apache2\.service keepalived\.service$', unit, re.M), unit
    # The engine's paths, then the directory of the metrics file (hapair_metrics_file).
    assert re.findall(r'^ReadWritePaths=(\S+)$', unit, re.M) == ['-/run/hapair-keepalived',
                                                                 '-/var/lib/prometheus/node-exporter'], unit


def test_the_published_keepalived_pair_holds_its_timers_and_typed_values(keepalived, keepalived_plain):
    published = keepalived['herring']['published']
    pair = published['hapair_pair']
    assert pair['engine']['name'] == 'keepalived' and pair['auto_failback'] is True
    # advert 1.5 s; the backup's master-down interval 3 A + 156/256 A; a hand-over A + 1 s; one advert of overlap.
    assert pair['timers'] == {'advert': 1.5, 'detect': 5.4140625, 'startup': 5.4140625, 'handover': 2.5,
                              'overlap': 1.5, 'settle': 5.4140625 * 2 + 10}
    assert published['hapair_input']['keepalived_advert_int'] == '1500ms'
    assert published['hapair_input']['keepalived_virtual_router_id'] == 42
    assert published['hapair_input']['keepalived_preempt_delay'] == 30
    assert pair == keepalived['haddock']['published']['hapair_pair']
    plain = keepalived_plain['herring']['published']
    assert plain['hapair_pair']['auto_failback'] is False and plain['hapair_input']['hapair_monitor'] is False
    assert plain['hapair_pair']['preferred_host'] == 'haddock' and plain['hapair_pair']['timers']['advert'] == 0.1


def test_a_vip_on_an_interface_without_a_link_stops_a_keepalived_pair_at_the_check(fact_cache, tmp_path):
    """It used to pass the check, and then writing keepalived.conf failed: no address for unicast_src_ip."""
    cache = os.path.join(str(tmp_path), 'cache')
    shutil.copytree(fact_cache, cache)
    data = inventory(every={'hapair_engine': 'keepalived', 'hapair_vip_interface': 'eth0'}, each={
        'herring': {'hapair_links': [{'interface': 'eth1', 'address': '198.51.100.75'}]},
        'haddock': {'hapair_links': [{'interface': 'eth1', 'address': '198.51.100.76'}]}})
    run, rendered = render(str(tmp_path), cache, data)
    assert run.rc != 0 and rendered == {}, run.out[-4000:]
    assert run.has_message("Host herring: hapair_vip_interface 'eth0' is the interface of no link in hapair_links "
                           '(eth1)'), run.messages
    assert 'No first item' not in run.out
