# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One host's input: typed from the roles' real argument specs, then checked rule by rule."""

from __future__ import annotations

import pytest

from ansible_collections.hapair.loadbalancer.plugins.module_utils import role_input
from ansible_collections.hapair.loadbalancer.tests.unit.plugins.role_specs import role_specs

SPECS = role_specs(role_input.ROLES)
KEY = 'unit-test-key-4f2a9c7e1b'
FACTS = {'default_ipv4': {'interface': 'eth0', 'address': '198.51.100.11'}, 'distribution': 'Ubuntu',
         'distribution_release': 'noble'}
ALL = [(role, 'main') for role in role_input.ROLES]


def valid(**overrides):
    raw = {
        'hapair_cluster': 'pair1',
        'hapair_node_name': 'loadb1',
        'hapair_links': [{'interface': 'eth0', 'address': '198.51.100.11'}, {'interface': 'eth1', 'address': '198.51.100.75'}],
        'hapair_vip': '198.51.100.10',
        'hapair_vip_prefix': 26,
        'apache_balancer_members': ['http://198.51.100.51/', 'http://198.51.100.52:8080/app'],
        'heartbeat_auth_key': KEY,
    }
    raw.update(overrides)
    return {name: value for name, value in raw.items() if value is not role_input.MISSING}


def check(raw, entry_points=None, host='herring'):
    return role_input.check_host(host, SPECS, ALL if entry_points is None else entry_points, raw, {'facts': FACTS, 'set': sorted(raw)})


def errors_of(raw, **kwargs):
    result = check(raw, **kwargs)
    for message in result.errors:
        assert KEY not in message
    return result.errors


def test_valid_input_has_no_errors_and_typed_defaults():
    result = check(valid())
    assert result.errors == []
    v = result.values
    assert v['hapair_vip_interface'] == 'eth0'
    assert v['heartbeat_keepalive'] == '2' and v['heartbeat_deadtime'] == '10' and v['heartbeat_initdead'] == '20'
    assert v['heartbeat_udpport'] == 694 and v['heartbeat_auto_failback'] is True
    assert v['apt_sources_distribution'] == 'Ubuntu' and v['apt_sources_release'] == 'noble'
    assert 'heartbeat_auth_key' not in v and result.secrets == {'heartbeat_auth_key': KEY}


def test_computed_defaults_come_from_the_host():
    result = check(valid(hapair_node_name=role_input.MISSING, hapair_links=role_input.MISSING), host='lb7')
    assert result.errors == []
    assert result.values['hapair_node_name'] == 'lb7'
    assert result.values['hapair_links'] == [{'interface': 'eth0', 'address': '198.51.100.11'}]


def test_a_host_without_default_route_needs_links():
    result = role_input.check_host('lb7', SPECS, [('hapair', 'main')], {}, {'facts': {}, 'set': []})
    assert any('hapair_links [] is not valid' in e and 'default route' in e for e in result.errors)


@pytest.mark.parametrize('raw, value', [
    ({'heartbeat_auto_failback': 'false'}, False), ({'heartbeat_auto_failback': 'no'}, False),
    ({'heartbeat_auto_failback': False}, False), ({'heartbeat_auto_failback': 'yes'}, True),
])
def test_booleans_are_converted_as_ansible_converts_them(raw, value):
    result = check(valid(**raw))
    assert result.errors == [] and result.values['heartbeat_auto_failback'] is value


@pytest.mark.parametrize('raw, variable, phrase', [
    ({'heartbeat_udpport': True}, 'heartbeat_udpport', 'is a boolean; expected a number'),
    ({'heartbeat_udpport': 'six-nine-four'}, 'heartbeat_udpport', 'is not valid'),
    ({'heartbeat_udpport': [694]}, 'heartbeat_udpport', 'is a list; expected a number'),
    ({'heartbeat_udpport': None}, 'heartbeat_udpport', 'is null'),
    ({'hapair_vip_prefix': 26.5}, 'hapair_vip_prefix', 'is not valid'),
    ({'hapair_vip_prefix': False}, 'hapair_vip_prefix', 'is a boolean'),
    ({'hapair_node_name': True}, 'hapair_node_name', 'is a boolean; expected a string'),
    ({'hapair_node_name': ['loadb1']}, 'hapair_node_name', 'is a list; expected a string'),
    ({'heartbeat_auto_failback': 'maybe'}, 'heartbeat_auto_failback', 'is not valid'),
    ({'heartbeat_auto_failback': 1.5}, 'heartbeat_auto_failback', 'expected true or false'),
    ({'apache_balancer_members': 'http://198.51.100.51/'}, None, None),  # a string becomes a list, as in Ansible
    ({'apache_balancer_members': [['http://198.51.100.51/']]}, 'apache_balancer_members', 'has a list as item 1'),
    ({'hapair_links': [{'interface': 'eth0', 'address': True}]}, 'hapair_links', 'whose address is a boolean'),
    ({'hapair_links': ['eth0']}, 'hapair_links', 'has a string as item 1; expected a mapping'),
    ({'hapair_links': [{'address': '198.51.100.11'}]}, 'hapair_links', 'missing required arguments: interface'),
    ({'hapair_links': [{'interface': 'eth0', 'address': '198.51.100.11', 'mtu': 9000}]}, 'hapair_links', 'mtu'),
])
def test_wrong_types_name_the_variable_and_host(raw, variable, phrase):
    errors = errors_of(valid(**raw))
    if variable is None:
        assert errors == []
        return
    assert any(e.startswith('Host herring: %s ' % variable) and phrase in e for e in errors), errors


def test_prefix_given_as_a_whole_float_is_converted():
    result = check(valid(hapair_vip_prefix=26.0))
    assert result.errors == [] and result.values['hapair_vip_prefix'] == 26 and isinstance(result.values['hapair_vip_prefix'], int)


@pytest.mark.parametrize('variable, value', [
    ('heartbeat_logfile', '/var/log/ha-log\nrespawn root /bin/sh'),
    ('heartbeat_logfacility', 'local0\nrespawn root /bin/sh'),
    ('hapair_cluster', 'pair1\nrespawn root /bin/sh'),
    ('hapair_node_name', 'loadb1\n198.51.100.99 evil'),
    ('apache_balancer_server_name', 'www.example.com\nProxyPass / http://evil/'),
    ('apache_balancer_server_aliases', ['a.example.com\n']),
    ('apache_balancer_name', 'pool\\'),
    ('apache_balancer_manager_path', '/balancer-manager\\'),
    ('apache_balancer_sticky_cookie', 'ROUTE\r\n'),
    ('apt_sources_components', ['universe\nmultiverse']),
    ('apt_sources_extra_archive_uris', ['https://mirror.example.com/ubuntu\n']),
    ('heartbeat_failover_report', '/tmp/report\n.json'),
])
def test_newlines_and_stray_backslashes_are_refused(variable, value):
    entry_points = ALL + [('heartbeat', 'failover')]
    errors = errors_of(valid(**{variable: value}), entry_points=entry_points)
    assert any(e.startswith('Host herring: %s ' % variable) for e in errors), errors


@pytest.mark.parametrize('member, phrase', [
    ('http://198.51.100.51:99999/', 'port'), ('http://198.51.100.51/\\', 'URL path'), ('ftp://198.51.100.51/', 'scheme'),
    ('http://198.51.100.51/?x=1', 'query'), ('http://user@198.51.100.51/', 'user'), ('198.51.100.51', 'expected a URL'),
])
def test_backend_urls_are_parsed_strictly(member, phrase):
    errors = errors_of(valid(apache_balancer_members=[member]))
    assert any('apache_balancer_members holds' in e and phrase in e for e in errors), errors


def test_the_same_backend_twice_is_refused():
    errors = errors_of(valid(apache_balancer_members=['http://198.51.100.51', 'HTTP://198.51.100.51:80/'.lower()]))
    assert any('lists the backend http://198.51.100.51:80 twice' in e for e in errors), errors


@pytest.mark.parametrize('raw, phrase', [
    ({'heartbeat_keepalive': 5, 'heartbeat_deadtime': 10}, 'heartbeat_deadtime (10) must be more than twice heartbeat_keepalive (5)'),
    ({'heartbeat_initdead': 9}, 'heartbeat_initdead (9) must not be lower than heartbeat_deadtime (10)'),
    ({'heartbeat_warntime': 2}, 'heartbeat_warntime (2) must lie between heartbeat_keepalive (2) and heartbeat_deadtime (10)'),
    ({'heartbeat_keepalive': '0ms'}, "heartbeat_keepalive '0ms' is not a positive time"),
    ({'heartbeat_keepalive': True}, 'heartbeat_keepalive true is not a positive time'),
])
def test_timer_rules(raw, phrase):
    errors = errors_of(valid(**raw))
    assert any(phrase in e for e in errors), errors


def test_the_fast_profile_sets_every_timer_and_explicit_timers_win():
    result = check(valid(heartbeat_timers='fast', heartbeat_deadtime='2'))
    assert result.errors == []
    assert (result.values['heartbeat_keepalive'], result.values['heartbeat_deadtime'], result.values['heartbeat_warntime'],
            result.values['heartbeat_initdead']) == ('200ms', '2', '800ms', '10')


@pytest.mark.parametrize('key, phrase', [
    ('short-key', 'is 9 characters long; it needs at least 16'),
    ('x' * 300, 'it may have at most 255'),
    ('has a space in it 123', 'holds whitespace'),
    ('has#hash#in#it#1234', "holds whitespace or '#'"),
    ('key-with-newline\n12345', 'holds whitespace'),
    ('kéy-with-accent-12345', 'not printable ASCII'),
    ('abc{{def}}ghi12345678', 'Jinja2 template syntax'),
    ('abc{%raw%}ghi12345678', 'Jinja2 template syntax'),
    ('SomeRandomString', 'well-known placeholder'),
    ('CHANGE-ME-please-0123456789', 'well-known placeholder'),
])
def test_bad_keys_are_refused_without_showing_them(key, phrase):
    errors = check(valid(heartbeat_auth_key=key)).errors
    matching = [e for e in errors if e.startswith('Host herring: heartbeat_auth_key ')]
    assert matching and phrase in matching[0], errors
    assert all(key not in e for e in errors)
    assert all('(value not shown)' in e for e in matching)


@pytest.mark.parametrize('key', [12345678901234567890, ['a' * 20], {'k': 'v'}, None])
def test_a_key_that_is_not_a_string_is_refused_without_showing_it(key):
    errors = check(valid(heartbeat_auth_key=key)).errors
    assert any(e.startswith('Host herring: heartbeat_auth_key is ') and 'value not shown' in e for e in errors), errors
    assert all(str(key) not in e for e in errors if key is not None)


def test_a_missing_key_is_named():
    errors = check(valid(heartbeat_auth_key=role_input.MISSING)).errors
    assert 'Host herring: heartbeat_auth_key is required but not set' in errors


def test_a_template_failure_names_the_variable_and_never_the_value():
    raw = valid(heartbeat_auth_key=role_input.TemplateFailure('the reason'))
    errors = check(raw).errors
    assert 'Host herring: heartbeat_auth_key could not be templated: the reason' in errors


@pytest.mark.parametrize('raw, variable, phrase', [
    ({'heartbeat_auth_method': 'crc'}, 'heartbeat_auth_method', "'crc' is not allowed"),
    ({'heartbeat_auth_method': 'sha256'}, 'heartbeat_auth_method', 'Expected one of sha1, md5'),
    ({'heartbeat_logfacility': 'local9'}, 'heartbeat_logfacility', 'syslog facility'),
    ({'heartbeat_logfile': 'ha-log'}, 'heartbeat_logfile', 'absolute path'),
    ({'heartbeat_udpport': 65536}, 'heartbeat_udpport', 'from 1 to 65535'),
    ({'heartbeat_udpport': 0}, 'heartbeat_udpport', 'from 1 to 65535'),
    ({'hapair_vip_prefix': 33}, 'hapair_vip_prefix', 'from 1 to 32'),
    ({'hapair_vip': '198.51.100.300'}, 'hapair_vip', 'IPv4 address'),
    ({'hapair_vip': '198.51.100.10/26'}, 'hapair_vip', 'IPv4 address'),
    ({'hapair_vip': '224.0.0.10'}, 'hapair_vip', 'unicast'),
    ({'hapair_vip': '127.0.0.10'}, 'hapair_vip', 'loopback'),
    ({'hapair_vip_interface': 'eth0:0'}, 'hapair_vip_interface', 'interface name'),
    ({'hapair_cluster': 'pair 1'}, 'hapair_cluster', 'pair name'),
    ({'hapair_cluster': ''}, 'hapair_cluster', 'pair name'),
    ({'hapair_node_name': 'load_b1'}, 'hapair_node_name', 'not a valid hostname'),
    ({'hapair_preferred_node': 'load b1'}, 'hapair_preferred_node', 'RFC 1123'),
    ({'hapair_links': [{'interface': 'eth0', 'address': '198.51.100.11'}, {'interface': 'eth0', 'address': '198.51.100.75'}]},
     'hapair_links', "lists interface 'eth0' in more than one link"),
    ({'hapair_links': [{'interface': 'eth0', 'address': '198.51.100.11'}, {'interface': 'eth1', 'address': '198.51.100.11'}]},
     'hapair_links', 'lists address 198.51.100.11 more than once'),
    ({'hapair_links': [{'interface': 'eth 0', 'address': '198.51.100.11'}]}, 'hapair_links', 'interface name'),
    ({'hapair_links': [{'interface': 'eth0', 'address': '0.0.0.0'}]}, 'hapair_links', 'unicast'),
    ({'apache_balancer_members': []}, 'apache_balancer_members', 'is empty'),
    ({'apache_balancer_lbmethod': 'roundrobin'}, 'apache_balancer_lbmethod', 'expected one of byrequests'),
    ({'apache_balancer_port': 70000}, 'apache_balancer_port', '1 to 65535'),
    ({'apache_balancer_port': True}, 'apache_balancer_port', 'boolean'),
    ({'apache_balancer_server_name': 'www example'}, 'apache_balancer_server_name', 'host name'),
    ({'apache_balancer_manager_allow': ['everyone']}, 'apache_balancer_manager_allow', 'IP address or network'),
    ({'apache_balancer_manager_path': '/'}, 'apache_balancer_manager_path', "below '/'"),
    ({'apache_balancer_healthcheck_method': 'PING'}, 'apache_balancer_healthcheck_method', 'hcmethod'),
    ({'apache_balancer_healthcheck_interval': 0}, 'apache_balancer_healthcheck_interval', '1 to 86400'),
    ({'apache_balancer_healthcheck_uri': 'health'}, 'apache_balancer_healthcheck_uri', 'URL path'),
    ({'apt_sources_components': []}, 'apt_sources_components', 'at least one'),
    ({'apt_sources_components': ['universe', 'universe']}, 'apt_sources_components', 'more than once'),
    ({'apt_sources_pockets': ['-updates']}, 'apt_sources_pockets', 'release pocket'),
    ({'apt_sources_release': 'Noble'}, 'apt_sources_release', 'code name'),
    ({'apt_sources_dir': 'etc/apt'}, 'apt_sources_dir', 'absolute path'),
    ({'apt_sources_dir': '/tmp/apt'}, 'apt_sources_dir', 'apt_sources_update_cache must be false'),
    ({'apt_sources_archive_uris': [], 'apt_sources_extra_archive_uris': []}, 'apt_sources_archive_uris', 'both empty'),
])
def test_rules_name_host_variable_and_value(raw, variable, phrase):
    errors = errors_of(valid(**raw))
    assert any(e.startswith('Host herring: %s' % variable) and phrase in e for e in errors), errors


@pytest.mark.parametrize('raw, variable, phrase', [
    ({'heartbeat_verify_probe_timeout': 0}, 'heartbeat_verify_probe_timeout', 'more than 0'),
    ({'heartbeat_verify_probe_timeout': 'long'}, 'heartbeat_verify_probe_timeout', 'is not valid'),
    ({'heartbeat_failover_method': 'pull-the-plug'}, 'heartbeat_failover_method', 'is not valid'),
    ({'heartbeat_failover_url': 'http://198.51.100.10:0/'}, 'heartbeat_failover_url', 'port'),
    ({'heartbeat_failover_margin': -1}, 'heartbeat_failover_margin', '0 to 3600'),
    ({'heartbeat_failover_check_from': ''}, 'heartbeat_failover_check_from', 'inventory host name'),
    ({'heartbeat_failover_client_interval': 0}, 'heartbeat_failover_client_interval', '0.02 to 10'),
])
def test_the_verify_and_failover_entry_points_are_typed_too(raw, variable, phrase):
    errors = errors_of(valid(**raw), entry_points=[('hapair', 'main'), ('heartbeat', 'verify'), ('heartbeat', 'failover')])
    assert any(e.startswith('Host herring: %s' % variable) and phrase in e for e in errors), errors


def test_verify_alone_needs_no_key():
    result = check(valid(heartbeat_auth_key=role_input.MISSING), entry_points=[('hapair', 'main'), ('heartbeat', 'verify')])
    assert result.errors == []
    assert result.values['heartbeat_verify_probe_timeout'] == 0.5 and result.values['heartbeat_initdead'] == '20'


def test_unknown_entry_points_are_refused():
    with pytest.raises(ValueError, match='not a role of this collection'):
        role_input.parse_entry_points(['keepalived'])
    assert role_input.parse_entry_points(['heartbeat', 'heartbeat:verify']) == [('heartbeat', 'main'), ('heartbeat', 'verify')]


def test_show_escapes_line_breaks():
    assert role_input.show('a\nb') == "'a\\nb'"
    assert role_input.show(['x']) == '["x"]'
