# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The grammar of every string the roles write into a file: what each check accepts and refuses."""

from __future__ import annotations

import re

import pytest

from ansible_collections.hapair.loadbalancer.plugins.module_utils import grammar


@pytest.mark.parametrize('value', ['a\nb', 'a\rb', 'tab\there', 'nul\x00', 'del\x7f', 'c1\x85', 'ls\u2028', 'ps\u2029'])
def test_control_characters_are_refused(value):
    assert 'control character' in grammar.control_characters(value)


@pytest.mark.parametrize('value', ['plain', 'with space', 'ünïcode', 'back\\slash'])
def test_printable_text_has_no_control_characters(value):
    assert grammar.control_characters(value) is None


@pytest.mark.parametrize('value', ['loadb1', 'LoadB1', 'lb-1.example.com', 'a', '9lives', 'x' * 63, 'a.' * 31 + 'bc'])
def test_hostnames_accepted(value):
    assert grammar.hostname(value) is None


@pytest.mark.parametrize('value, phrase', [
    ('', 'empty'), ('load_b1', 'RFC 1123'), ('-lb', 'RFC 1123'), ('lb-', 'RFC 1123'), ('lb..1', 'RFC 1123'),
    ('lb 1', 'RFC 1123'), ('lb1.', 'trailing'), ('l' * 65, 'at most 64'), ('x' * 64 + '.a', 'at most 64'),
    ('198.51.100.1', 'not a number'), ('123', 'not a number'), ('lb\n1', 'RFC 1123'), ('a' * 64 + 'b', 'at most'),
])
def test_hostnames_refused(value, phrase):
    assert phrase in grammar.hostname(value)


@pytest.mark.parametrize('value', ['eth0', 'ens3', 'enp0s31f6', 'bond0.100', 'br-lan', 'wlan_1', 'x' * 15])
def test_interface_names_accepted(value):
    assert grammar.interface_name(value) is None


@pytest.mark.parametrize('value', ['', '.', '..', 'eth0:0', 'eth 0', 'eth/0', 'x' * 16, 'eth0\n', 'éth0'])
def test_interface_names_refused(value):
    assert 'interface name' in grammar.interface_name(value)


@pytest.mark.parametrize('value', ['198.51.100.10', '10.0.0.1', '127.0.0.1'])
def test_ipv4_addresses_accepted(value):
    assert grammar.ipv4_address(value) is None


@pytest.mark.parametrize('value', ['198.51.100.300', '198.51.100.10/26', '198.51.100', 'fe80::1', '', ' 198.51.100.10',
                                   '198.51.100.010'])
def test_ipv4_addresses_refused(value):
    assert grammar.ipv4_address(value) is not None


@pytest.mark.parametrize('value', ['0.0.0.0', '0.1.2.3', '224.0.0.1', '255.255.255.255', '240.0.0.1'])
def test_unusable_addresses_refused(value):
    assert 'unicast' in grammar.usable_ipv4_address(value)


@pytest.mark.parametrize('value, allow_empty, ok', [
    ('/var/log/ha-log', False, True), ('', True, True), ('', False, False), ('var/log/ha-log', False, False),
    ('/var/log/ha log', False, False), ('/var/log/#ha', False, False), ('/var/log/../../etc/shadow', False, False),
    ('/var/log/', False, False), ("/var/log/ha'log", False, False), ('/var/log/ha\\log', False, False),
])
def test_absolute_paths(value, allow_empty, ok):
    assert (grammar.absolute_path(value, allow_empty=allow_empty) is None) is ok


@pytest.mark.parametrize('value', ['local0', 'local7', 'daemon', 'authpriv', 'none'])
def test_syslog_facilities_accepted(value):
    assert grammar.syslog_facility(value) is None


@pytest.mark.parametrize('value', ['local8', 'LOCAL0', 'local0\nrespawn root /bin/sh', ''])
def test_syslog_facilities_refused(value):
    assert 'syslog facility' in grammar.syslog_facility(value)


@pytest.mark.parametrize('value, ok', [('hapair', True), ('pool.1_a-b', True), ('pool 1', False), ('pool"', False),
                                       ('pool\\', False), ('', False), ('pool\n', False)])
def test_apache_tokens(value, ok):
    assert (grammar.apache_token(value) is None) is ok


@pytest.mark.parametrize('value, ok', [
    ('/', True), ('/health', True), ('/a/b-c_d.e~f', True), ('/%20', True), ('/a:b@c', True),
    ('health', False), ('/a b', False), ('/a"b', False), ('/a\\', False), ('/a?x=1', False), ('/a#top', False),
    ('/%zz', False), ('/a/../b', False), ('/a\nb', False),
])
def test_url_paths(value, ok):
    assert (grammar.url_path(value) is None) is ok


def test_url_path_root_can_be_refused():
    assert 'below' in grammar.url_path('/', allow_root=False)


@pytest.mark.parametrize('value, expected', [
    ('http://198.51.100.11', ('http', '198.51.100.11', 80, '')),
    ('https://198.51.100.11/', ('https', '198.51.100.11', 443, '/')),
    ('http://Web1.Example.COM:8080/app/', ('http', 'web1.example.com', 8080, '/app/')),
    ('http://[2001:db8::1]:8080/x', ('http', '[2001:db8::1]', 8080, '/x')),
    ('http://web1:65535', ('http', 'web1', 65535, '')),
])
def test_urls_parsed(value, expected):
    parsed = grammar.url(value)
    assert (parsed['scheme'], parsed['host'], parsed['port'], parsed['path']) == expected


@pytest.mark.parametrize('value, phrase', [
    ('198.51.100.11', 'expected a URL'), ('ftp://198.51.100.11/', 'scheme'), ('http://198.51.100.11:99999/', 'port'),
    ('http://198.51.100.11:0/', 'port'), ('http://198.51.100.11:80a/', 'port'), ('http://198.51.100.11/?a=1', 'query'),
    ('http://198.51.100.11/#x', 'fragment'), ('http://user:pw@198.51.100.11/', 'user'), ('http:///path', 'host'),
    ('http://198.51.100.11/a b', 'URL path'), ('http://198.51.100.11/a"b', 'URL path'), ('http://198.51.100.11/a\\', 'URL path'),
    ('http://198.51.100.311/', 'IPv4'), ('http://[2001:db8::zz]/', 'IPv6'), ('http://web_1/', 'host name'),
    ('http://198.51.100.11/\n', 'URL path'),
])
def test_urls_refused(value, phrase):
    with pytest.raises(ValueError, match=phrase):
        grammar.url(value)


@pytest.mark.parametrize('value, wildcards, ok', [
    ('www.example.com', False, True), ('www.example.com:8080', False, True), ('198.51.100.10', False, True),
    ('*.example.com', True, True), ('www?.example.com', True, True), ('*.example.com', False, False),
    ('www.example.com:8080', True, False), ('www example', False, False), ('www"', False, False),
    ('www.example.com:99999', False, False), ('www\\', False, False),
])
def test_server_names(value, wildcards, ok):
    assert (grammar.server_name(value, wildcards=wildcards) is None) is ok


@pytest.mark.parametrize('value, ok', [('127.0.0.1', True), ('::1', True), ('198.51.100.0/24', True),
                                       ('10.0.0.0/255.0.0.0', True), ('2001:db8::/32', True), ('localhost', False),
                                       ('10.0.0.1 10.0.0.2', False), ('10.0.0.0/33', False)])
def test_require_ip(value, ok):
    assert (grammar.require_ip(value) is None) is ok


@pytest.mark.parametrize('value, ok', [
    ('/var/log/ha-log', True), ('/var/log/heartbeat/ha-log', True), ('/var/log/ha-debug.1', True), ('', False),
    ('/etc/passwd', False), ('/dev/sda', False), ('/etc/ha.d/authkeys', False), ('/var/log/', False), ('/var/log', False),
    ('/var/log/../../etc/shadow', False), ('/var/log/./x', False), ('/var/log/' + 'x' * 300, False),
    ('/var/log/ha log', False), ('var/log/ha-log', False), ('/var/log/ha-log\n', False),
])
def test_log_paths(value, ok):
    assert (grammar.log_path(value) is None) is ok


def test_no_log_path_is_fine_where_allowed():
    assert grammar.log_path('', allow_empty=True) is None


@pytest.mark.parametrize('check, value, ok', [
    (grammar.apt_word, 'universe', True), (grammar.apt_word, 'non-free-firmware', True), (grammar.apt_word, '-x', False),
    (grammar.apt_word, 'uni verse', False), (grammar.apt_word, 'universe\nmain', False),
    (grammar.apt_release, 'noble', True), (grammar.apt_release, 'Noble', False), (grammar.apt_release, 'noble-updates', False),
    (grammar.apt_pocket, '', True), (grammar.apt_pocket, '-updates', True), (grammar.apt_pocket, 'updates', False),
    (grammar.apt_uri_pattern, 'https://mirror.example.com/ubuntu', True), (grammar.apt_uri_pattern, 'a b', False),
])
def test_apt_words(check, value, ok):
    assert (check(value) is None) is ok


@pytest.mark.parametrize('value, directory, phrase', [
    ('/etc/apt', True, None), ('/etc/apt/', True, None), ('/tmp/apt-copy.1_x+y@z,w=v~u', True, None),
    ('/tmp/report.json', False, None), ('/tmp/report.json/', False, "not ending in '/'"),
    ('etc/apt', True, 'absolute'), ('/', True, "below '/'"), ('//', True, "below '/'"), ('/etc//apt', True, 'empty'),
    ('/etc/./apt', True, "'.'"), ('/etc/apt/../shadow', True, "'..'"), ('/etc/\u0430pt', True, 'ASCII'),
    ('/etc/apt list', True, 'ASCII'), ('/etc/"apt', True, 'ASCII'), ('/etc/ap\\t', True, 'ASCII'),
    ('/etc/apt\x00', True, 'ASCII'), ('/tmp/' + 'x' * 256, True, 'at most 255'), ('/tmp/' + 'x' * 255, True, None),
    ('/proc/self/fd', True, 'pseudo file system'), ('/sys', True, 'pseudo file system'), ('/dev/sda', False, 'pseudo'),
    ('/devices/x', False, None),
])
def test_safe_paths(value, directory, phrase):
    problem = grammar.safe_path(value, directory=directory)
    assert problem is None if phrase is None else phrase in problem, problem


@pytest.mark.parametrize('value, ok', [
    ('/tmp/drill.json', True), ('/home/ops/reports/drill-1.json', True), ('/etc/passwd', False), ('/usr/bin/x', False),
    ('/boot/vmlinuz', False), ('/lib64/ld.so', False), ('/dev/null', False), ('/etcetera/x.json', True),
])
def test_safe_paths_outside_the_system_trees(value, ok):
    assert (grammar.safe_path(value, refused_trees=grammar.SYSTEM_TREES) is None) is ok


@pytest.mark.parametrize('value, escapes, phrase', [
    ('/health', False, None), ('/a%20b', True, None), ('/a%2Fb', True, None), ('/a%20b', False, 'without %-escapes'),
    ('/a%00b', True, 'control'), ('/a%0ab', True, 'control'), ('/a%1Fb', True, 'control'), ('/a%7fb', True, 'control'),
    ('/%2e%2e/etc', True, '%2E'), ('/a/%2E./b', True, '%2E'), ('/a%2eb', True, '%2E'), ('/%25', True, None),
])
def test_url_path_escapes(value, escapes, phrase):
    problem = grammar.url_path(value, escapes=escapes)
    assert problem is None if phrase is None else phrase in problem, problem


@pytest.mark.parametrize('value, ok', [
    ('https://mirror.example.com/ubuntu', True), ('*.archive.ubuntu.com/ubuntu', True), ('http://u:p@m.example/x', True),
    ('https://mirror.ex\u0430mple.com/ubuntu', False), ('mirror.example.com/\u00fcbuntu', False),
    ('mirror.example.com/a"b', False), ("mirror.example.com/a'b", False), ('mirror.example.com/a\\b', False),
    ('mirror .example.com', False), ('', False),
])
def test_apt_uri_patterns_are_printable_ascii(value, ok):
    assert (grammar.apt_uri_pattern(value) is None) is ok


@pytest.mark.parametrize('value, phrase', [
    ('10.0.0.0/0.255.255.255', 'hostmask'), ('10.0.0.0/255.0.255.0', 'expected an IP address'), ('fe80::1%eth0', 'zone'),
    ('10.1', 'expected an IP address'), ('10', 'expected an IP address'),
])
def test_require_ip_refuses_what_reads_otherwise(value, phrase):
    assert phrase in grammar.require_ip(value)


@pytest.mark.parametrize('value', ['10.0.0.0/255.0.0.0', '0.0.0.0/0.0.0.0', '198.51.100.7/24', '2001:db8::/32'])
def test_require_ip_takes_netmasks_and_prefixes(value):
    assert grammar.require_ip(value) is None


@pytest.mark.parametrize('value, expected', [
    ('198.51.100.0/24', '198.51.100.0/24'), ('::ffff:0:0/96', '0.0.0.0/0'), ('::ffff:198.51.100.0/120', '198.51.100.0/24'),
    ('2001:db8::/32', '2001:db8::/32'), ('::/0', '::/0'), ('10.0.0.0/255.0.0.0', '10.0.0.0/8'),
])
def test_ip_network_reads_ipv4_mapped_networks_as_ipv4(value, expected):
    assert str(grammar.ip_network(value)) == expected


@pytest.mark.parametrize('values, ipv4, ipv6', [
    (['0.0.0.0/0'], 2 ** 32 - 592708608, 0),
    (['0.0.0.0/1', '128.0.0.0/1'], 2 ** 32 - 592708608, 0),
    (['5.0.0.0/16', '5.0.0.0/17', '5.0.1.1'], 2 ** 16, 0),
    (['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.1', '198.51.100.0/24', '203.0.113.0/24'], 0, 0),
    (['fc00::/7', 'fe80::/10', '::1', '2001:db8::/32'], 0, 0),
    (['2a00::/32', '2a00::/33'], 0, 2 ** 96),
    (['::ffff:0:0/96'], 2 ** 32 - 592708608, 0),
])
def test_public_addresses_are_counted_once_without_the_private_ones(values, ipv4, ipv6):
    assert grammar.public_addresses([grammar.ip_network(v) for v in values]) == {4: ipv4, 6: ipv6}


@pytest.mark.parametrize('value, expected', [
    ('0xc6336410', '198.51.100.16'), ('3325256720', '198.51.100.16'), ('127.1', '127.0.0.1'), ('0177.0.0.1', '127.0.0.1'),
    ('0x7f.0.0.1', '127.0.0.1'), ('198.51.100.010', '198.51.100.8'), ('198.51.100.10', None), ('web1', None),
    ('cafe', None), ('0xzz', None), ('1.2.3.4.5', None),
])
def test_numeric_ipv4_reads_what_resolvers_read(value, expected):
    assert grammar.numeric_ipv4(value) == expected


@pytest.mark.parametrize('value, ok', [
    ('localhost', True), ('LOCALHOST', True), ('localhost.', True), ('app.localhost', True), ('ip6-loopback', True),
    ('localhost.localdomain', True), ('localhost6', True), ('mylocalhost', False), ('localhost.example.com', False),
    ('loadb1', False),
])
def test_loopback_names(value, ok):
    assert grammar.loopback_name(value) is ok


@pytest.mark.parametrize('url, ok', [
    ('http://localhost/', True), ('http://127.0.0.1/', True), ('http://127.255.255.254/', True), ('http://0.0.0.0/', True),
    ('http://[::1]/', True), ('http://[0:0:0:0:0:0:0:1]/', True), ('http://[::]/', True), ('http://app.LOCALHOST/', True),
    ('http://198.51.100.51/', False), ('http://[2001:db8::1]/', False), ('http://web1.example.com/', False),
    ('http://128.0.0.1/', False),
])
def test_loopback_hosts(url, ok):
    assert grammar.loopback_host(grammar.url(url)['host']) is ok


@pytest.mark.parametrize('value, phrase', [
    ('http://0xc6336410/', 'write 198.51.100.16'), ('http://3325256720:8080/', 'write 198.51.100.16'),
    ('http://127.1/', 'write 127.0.0.1'), ('http://[::ffff:198.51.100.10]/', 'written as IPv6'),
    ('http://[::198.51.100.10]/', 'written as IPv6'),
])
def test_urls_refuse_other_spellings_of_ipv4(value, phrase):
    with pytest.raises(ValueError, match=re.escape(phrase)):
        grammar.url(value)


def test_url_ipv6_hosts_are_compressed():
    assert grammar.url('http://[2001:DB8:0:0:0:0:0:1]:8080/')['host'] == '[2001:db8::1]'
