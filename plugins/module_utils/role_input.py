# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One host's input to the collection's roles: typed (host_input.py), then checked rule by rule.

check_host() types every option of the entry points asked for from the roles' argument specs and applies each
role's rules: the engine-neutral roles' here, the engine's from its Engine (engines.get(hapair_engine).check).
Values that the roles compute when they are not set (the node name, the links, the VIP interface, the ping nodes,
an engine's timers of the hapair_timers profile, the apt release) are computed here too, so every consumer sees one
typed value. Old variable names (an engine's `renamed`) are read for their new names, with a deprecation.

Nothing here names an engine's variables: those are the engines' own (engine_*.py).
Nothing here ever puts the value of a no_log option (a key) into a message.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.hapair.loadbalancer.plugins.module_utils import engines, grammar, timers
from ansible_collections.hapair.loadbalancer.plugins.module_utils.host_input import (
    MISSING,
    HostInput,
    TemplateFailure,
    type_options,
)

__all__ = ['MISSING', 'TemplateFailure', 'ROLES', 'check_host', 'parse_entry_points', 'members', 'renames']

# The roles whose input is checked here, in the order their rules run: the pair model's own, the node's, then the
# engines', the monitor's, verify's and the drill's.
ROLES = ('hapair', 'hostnames', 'apt_sources', 'apache_balancer') + engines.roles() + (
    'monitor', 'verify', 'drill', 'maintenance')
# In hapair_roles, the engine role of the host's pair (hapair_engine).
ENGINE = 'engine'
# Roles that check their input alone when they run on their own (tasks/validate.yml): they need no pair, so the hapair
# role's input (node name, links, VIP) is not checked with theirs.
ALONE_ROLES = ('apt_sources', 'apache_balancer')
# Roles whose every variable of the main entry point must agree across a pair (both nodes judge the pair alike).
PAIR_LEVEL_ROLES = ('monitor',)
# The hapair role's variables that must agree across a pair: the VIP is one, the engine is one.
PAIR_SETTINGS = ('hapair_vip', 'hapair_vip_prefix', 'hapair_vip_interface', 'hapair_preferred_node', 'hapair_engine',
                 'hapair_timers', 'hapair_auto_failback')

LBMETHODS = ('byrequests', 'bytraffic', 'bybusyness', 'heartbeat')
HEALTHCHECK_METHODS = ('TCP', 'OPTIONS', 'HEAD', 'GET', 'OPTIONS11', 'HEAD11', 'GET11')
DRILL_METHODS = ('stop', 'reboot', 'apache', 'kill')
MAX_PING_NODES = 8
# SSH's port: the way in to every node (also the host's ansible_port, when it connects over SSH).
SSH_PORT = 22


# --- Computed defaults ----------------------------------------------------------------------------------------

def _default_node_name(host_input):
    return host_input.host


def _default_links(host_input):
    default = host_input.facts.get('default_ipv4') or {}
    if default.get('interface') and default.get('address'):
        return [{'interface': default['interface'], 'address': default['address']}]
    return []


def _default_vip_interface(host_input):
    """The first link's interface; None (nothing to check) when the links are invalid: their error says it all."""
    links = host_input.values.get('hapair_links') or []
    return links[0]['interface'] if links and host_input.ok('hapair_links') else None


def _default_distribution(host_input):
    return host_input.facts.get('distribution') or ''


def _default_release(host_input):
    return host_input.facts.get('distribution_release') or ''


def _default_ping_nodes(host_input):
    """The host's default gateway when it lies in the VIP's network, else none."""
    gateway = (host_input.facts.get('default_ipv4') or {}).get('gateway')
    vip, prefix = host_input.values.get('hapair_vip'), host_input.values.get('hapair_vip_prefix')
    if not gateway or not vip or not isinstance(prefix, int) or grammar.ipv4_address(gateway) or grammar.ipv4_address(vip):
        return []
    try:
        network = ipaddress.IPv4Network('%s/%d' % (vip, prefix), strict=False)
    except ValueError:
        return []
    return [gateway] if ipaddress.IPv4Address(gateway) in network and gateway != vip else []


COMPUTED = {
    'hapair_node_name': _default_node_name,
    'hapair_links': _default_links,
    'hapair_vip_interface': _default_vip_interface,
    'apt_sources_distribution': _default_distribution,
    'apt_sources_release': _default_release,
    'hapair_ping_nodes': _default_ping_nodes,
}
for _engine in engines.ENGINES.values():
    COMPUTED.update(_engine.computed_defaults())

# Options typed before the others of their entry point, because computed defaults read them.
FIRST = ('hapair_links', 'hapair_timers', 'hapair_engine')


# --- Rules per role -------------------------------------------------------------------------------------------

def _link_address(value):
    return grammar.usable_ipv4_address(value) if not value.startswith('127.') else grammar.ipv4_address(value)


def _vip_address(value):
    problem = grammar.usable_ipv4_address(value)
    if problem:
        return problem
    if value.startswith('127.'):
        return 'expected an address on a network the clients reach, not a loopback address'
    return None


def rules_hapair(host_input):
    v = host_input.values
    if host_input.ok('hapair_cluster'):
        if not re.match(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z', v['hapair_cluster']):
            host_input.check('hapair_cluster', "expected a pair name of letters, digits, '.', '_' and '-', at most 64 "
                                               'characters, starting with a letter or digit')
    if host_input.ok('hapair_node_name'):
        problem = grammar.hostname(v['hapair_node_name'])
        hint = '' if host_input.is_set('hapair_node_name') else ' Set hapair_node_name for this host.'
        if problem:
            host_input.error('grammar', 'hapair_node_name', '{variable} {value} is not a valid hostname: %s.%s' % (
                problem, hint))
        elif grammar.loopback_name(v['hapair_node_name']):
            host_input.error('node-name', 'hapair_node_name', '{variable} {value} names the host itself on every node '
                             '(/etc/hosts maps it to 127.0.0.1 or ::1): the node would be its own peer to the engine, '
                             'and localhost would no longer be this machine. Expected a name of this node\'s own.%s'
                             % hint)
    if host_input.ok('hapair_links'):
        links = v['hapair_links']
        if not links:
            host_input.error('required', 'hapair_links', '{variable} [] is not valid: expected at least one {interface, '
                             'address} link. Without hapair_links the default IPv4 interface and address are used, so a '
                             'host without a default route needs hapair_links.', [])
        for index, link in enumerate(links):
            for field, check in (('interface', grammar.interface_name), ('address', _link_address)):
                problem = check(link[field])
                if problem:
                    host_input.error('grammar', 'hapair_links', '{variable} item %d: %s {value} is not valid: %s.' % (
                        index + 1, field, problem), link[field])
        interfaces = [link['interface'] for link in links]
        for name in sorted(set(i for i in interfaces if interfaces.count(i) > 1)):
            host_input.error('duplicate', 'hapair_links', '{variable} lists interface {value} in more than one link; every '
                             'link needs an interface of its own, or it is no second path.', name)
        addresses = [link['address'] for link in links]
        for address in sorted(set(a for a in addresses if addresses.count(a) > 1)):
            host_input.error('duplicate', 'hapair_links', '{variable} lists address {value} more than once.', address)
    if not host_input.ok('hapair_links') and not host_input.is_set('hapair_vip_interface'):
        v['hapair_vip_interface'] = None  # computed from links that are wrong: their error says it all
    if host_input.ok('hapair_vip') and v['hapair_vip'] != '':
        host_input.check('hapair_vip', _vip_address(v['hapair_vip']))
    host_input.in_range('hapair_vip_prefix', 1, 32)
    if host_input.ok('hapair_vip_interface'):
        host_input.check('hapair_vip_interface', grammar.interface_name(v['hapair_vip_interface']))
    if host_input.ok('hapair_preferred_node') and v['hapair_preferred_node'] != '':
        host_input.check('hapair_preferred_node', grammar.hostname(v['hapair_preferred_node']))
    if host_input.ok('hapair_engine') and v['hapair_engine'] not in engines.NAMES:
        host_input.error('choice', 'hapair_engine', '{variable} {value} is not an engine of this collection; expected '
                         'one of %s.' % ', '.join(engines.NAMES))
    if host_input.ok('hapair_timers') and v['hapair_timers'] not in timers.PROFILES:
        host_input.error('choice', 'hapair_timers', '{variable} {value} is not a timer profile; expected one of %s.'
                         % ', '.join(timers.PROFILES))
    host_input.in_range('hapair_lock_timeout', 60, 86400, ' seconds')


def rules_hostnames(host_input):
    """hostnames_cloud_init_preserve is a boolean: its spec says all there is to say."""


def rules_apt_sources(host_input):
    v = host_input.values
    if host_input.ok('apt_sources_components'):
        components = v['apt_sources_components']
        if not components:
            host_input.error('required', 'apt_sources_components', '{variable} [] is not valid: expected at least one '
                             'component, such as universe.')
        for component in components:
            host_input.check('apt_sources_components', grammar.apt_word(component), component)
        for component in sorted(set(c for c in components if components.count(c) > 1)):
            host_input.error('duplicate', 'apt_sources_components', '{variable} lists {value} more than once.', component)
    if host_input.ok('apt_sources_pockets'):
        pockets = v['apt_sources_pockets']
        for pocket in pockets:
            host_input.check('apt_sources_pockets', grammar.apt_pocket(pocket), pocket)
        if '' not in pockets:
            host_input.error('required', 'apt_sources_pockets', '{variable} {value} is not valid: expected "" (the '
                             'release pocket itself) among the pockets.')
    uris = []
    for name in ('apt_sources_archive_uris', 'apt_sources_extra_archive_uris'):
        if host_input.ok(name):
            for uri in v[name]:
                host_input.check(name, grammar.apt_uri_pattern(uri), uri)
            uris += v[name]
    if host_input.ok('apt_sources_archive_uris', 'apt_sources_extra_archive_uris') and not uris:
        host_input.error('required', 'apt_sources_archive_uris', '{variable} and apt_sources_extra_archive_uris are both '
                         'empty: expected at least one pattern of the Ubuntu archive.')
    if host_input.ok('apt_sources_distribution', 'apt_sources_release') and v['apt_sources_distribution'] == 'Ubuntu':
        host_input.check('apt_sources_release', grammar.apt_release(v['apt_sources_release']))
    if host_input.ok('apt_sources_dir', 'apt_sources_update_cache'):
        if host_input.check('apt_sources_dir', grammar.safe_path(v['apt_sources_dir'], directory=True)):
            if v['apt_sources_update_cache'] and v['apt_sources_dir'].rstrip('/') != '/etc/apt':
                host_input.error('combination', 'apt_sources_dir', '{variable} {value} with apt_sources_update_cache true '
                                 'is not valid: when it is not /etc/apt (a copy for tests), apt_sources_update_cache must '
                                 'be false, because apt-get update reads /etc/apt.')


def members(values):
    """The valid backend URLs of apache_balancer_members, parsed: [{url, scheme, host, port, path}]."""
    result = []
    for member in values.get('apache_balancer_members') or []:
        try:
            parsed = grammar.url(member)
        except ValueError:
            continue
        parsed['url'] = member
        result.append(parsed)
    return result


def rules_apache_balancer(host_input):
    v = host_input.values
    if host_input.ok('apache_balancer_members'):
        if not v['apache_balancer_members']:
            host_input.error('required', 'apache_balancer_members', '{variable} is empty: expected at least one backend '
                             'URL, for example [http://198.51.100.11:8080, http://198.51.100.12:8080].')
        seen = {}
        for member in v['apache_balancer_members']:
            try:
                parsed = grammar.url(member)
            except ValueError as exc:
                host_input.error('grammar', 'apache_balancer_members', '{variable} holds {value}, which is not a backend '
                                 'URL: %s. Expected http://HOST[:PORT][/PATH] or https://...' % exc, member)
                continue
            identity = (parsed['scheme'], parsed['host'], parsed['port'], parsed['path'].rstrip('/'))
            if identity in seen:
                host_input.error('duplicate', 'apache_balancer_members', '{variable} lists the backend %s twice (%s and '
                                 '{value}).' % ('%s://%s:%d%s' % identity, repr(seen[identity])), member)
            seen[identity] = member
    if host_input.ok('apache_balancer_lbmethod') and v['apache_balancer_lbmethod'] not in LBMETHODS:
        host_input.error('choice', 'apache_balancer_lbmethod', '{variable} {value} is not a load-balancing method of '
                         'mod_proxy_balancer; expected one of %s.' % ', '.join(LBMETHODS))
    if host_input.ok('apache_balancer_name'):
        host_input.check('apache_balancer_name', grammar.apache_token(v['apache_balancer_name']))
    if host_input.ok('apache_balancer_port') and not 1 <= v['apache_balancer_port'] <= 65535:
        host_input.check('apache_balancer_port', 'expected a TCP port from 1 to 65535', rule='range')
    _reserved_ports(host_input)
    if host_input.ok('apache_balancer_members', 'apache_balancer_port'):
        for member in members(v):
            if grammar.loopback_host(member['host']) and member['port'] == v['apache_balancer_port']:
                host_input.error('member-loop', 'apache_balancer_members', '{variable} holds {value}, the node itself '
                                 'on the port of the site (apache_balancer_port %d): every request would come back to '
                                 'the balancer. Expected the backends\' addresses; a service on the node itself needs '
                                 'a port of its own.' % v['apache_balancer_port'], member['url'])
    if host_input.ok('apache_balancer_server_name') and v['apache_balancer_server_name'] != '':
        host_input.check('apache_balancer_server_name', grammar.server_name(v['apache_balancer_server_name']))
    if host_input.ok('apache_balancer_server_aliases'):
        for alias in v['apache_balancer_server_aliases']:
            host_input.check('apache_balancer_server_aliases', grammar.server_name(alias, wildcards=True), alias)
    if host_input.ok('apache_balancer_sticky_cookie') and v['apache_balancer_sticky_cookie'] != '':
        if not re.match(r'^[A-Za-z0-9_-]{1,64}\Z', v['apache_balancer_sticky_cookie']):
            host_input.check('apache_balancer_sticky_cookie', "expected a cookie name of letters, digits, '_' and '-' "
                                                              '(for example ROUTEID), or "" for no sticky sessions')
    if host_input.ok('apache_balancer_healthcheck_method') and \
            v['apache_balancer_healthcheck_method'] not in HEALTHCHECK_METHODS:
        host_input.error('choice', 'apache_balancer_healthcheck_method', '{variable} {value} is not an hcmethod of '
                         'mod_proxy_hcheck; expected one of %s.' % ', '.join(HEALTHCHECK_METHODS))
    if host_input.ok('apache_balancer_healthcheck_uri'):
        host_input.check('apache_balancer_healthcheck_uri', grammar.url_path(v['apache_balancer_healthcheck_uri']))
    for name in ('apache_balancer_healthcheck_interval', 'apache_balancer_healthcheck_passes',
                 'apache_balancer_healthcheck_fails'):
        if host_input.ok(name) and not 1 <= v[name] <= 86400:
            host_input.check(name, 'expected a whole number from 1 to 86400', rule='range')
    if host_input.ok('apache_balancer_manager_path'):
        host_input.check('apache_balancer_manager_path',
                         grammar.url_path(v['apache_balancer_manager_path'], allow_root=False, escapes=False))
    if host_input.ok('apache_balancer_health_path'):
        if host_input.check('apache_balancer_health_path',
                            grammar.url_path(v['apache_balancer_health_path'], allow_root=False, escapes=False)):
            if v['apache_balancer_health_path'] == v.get('apache_balancer_manager_path'):
                host_input.error('collision', 'apache_balancer_health_path', '{variable} {value} is also '
                                 'apache_balancer_manager_path; expected a path of its own.')
    if host_input.ok('apache_balancer_connect_timeout'):
        if not re.match(r'^[1-9][0-9]{0,5}(ms)?\Z', v['apache_balancer_connect_timeout']):
            host_input.check('apache_balancer_connect_timeout', 'expected a positive whole number of seconds or of '
                                                                'milliseconds, such as 300ms or 2')
    if host_input.ok('apache_balancer_manager_allow'):
        for allowed in v['apache_balancer_manager_allow']:
            host_input.check('apache_balancer_manager_allow', grammar.require_ip(allowed), allowed)
    _manager_exposure(host_input)
    if host_input.ok('apache_balancer_tls_ca') and v['apache_balancer_tls_ca'] != '':
        host_input.check('apache_balancer_tls_ca', grammar.safe_path(v['apache_balancer_tls_ca']))
    https = [m['url'] for m in members(v) if m['scheme'] == 'https'] if host_input.ok('apache_balancer_members') else []
    if https and host_input.ok('apache_balancer_tls_verify') and not v['apache_balancer_tls_verify']:
        host_input.warn('tls-verify', 'apache_balancer_tls_verify', '{variable} is false: the certificates of the https '
                        'backends (%s) are not checked (SSLProxyVerify none, SSLProxyCheckPeerName off, '
                        'SSLProxyCheckPeerExpire off), so whoever sits between the balancer and them can read and change '
                        'every request. Expected true, with apache_balancer_tls_ca naming the CA bundle that signed '
                        'them.' % ', '.join(https), False)


def _reserved_ports(host_input):
    """The site's port is no port the node's own services use: SSH's, and the engine's (Engine.reserved_ports). A
    TCP site on a UDP port number does not clash in the kernel, but firewall rules, port scans and captures are
    written by number, so one number stands for one service."""
    v = host_input.values
    if not host_input.ok('apache_balancer_port'):
        return
    reserved = [(SSH_PORT, 'tcp', "SSH's port")]
    ssh_port = host_input.facts.get('ansible_port')
    if isinstance(ssh_port, int) and ssh_port != SSH_PORT:
        reserved.append((ssh_port, 'tcp', "ansible_port, this host's SSH port"))
    if host_input.ok('hapair_engine') and v['hapair_engine'] in engines.NAMES:
        valid = dict((name, value) for name, value in v.items() if name not in host_input.invalid)
        reserved += engines.get(v['hapair_engine']).reserved_ports(valid)
    for port, protocol, what in reserved:
        if v['apache_balancer_port'] == port:
            host_input.error('port-reserved', 'apache_balancer_port', '{variable} {value} is %s (%s %d): the site needs '
                             'a port that no service of the node uses.' % (what, protocol.upper(), port))
            return


def _manager_exposure(host_input):
    """The balancer-manager changes members at run time: an allow list that reaches the internet at large needs
    apache_balancer_manager_allow_public (see grammar.PUBLIC_LIMIT for the threshold and why)."""
    v = host_input.values
    if not host_input.ok('apache_balancer_manager_allow', 'apache_balancer_manager_allow_public'):
        return
    networks = [grammar.ip_network(allowed) for allowed in v['apache_balancer_manager_allow']]
    counts = grammar.public_addresses(networks)
    wide = [version for version in (4, 6) if counts[version] > grammar.PUBLIC_LIMIT[version]]
    if not wide:
        return
    what = ' and '.join('%s public IPv%d addresses (more than a /%d)' % (
        f'{counts[version]:,}' if counts[version] < 10 ** 12 else 'about 2^%d' % (counts[version].bit_length() - 1),
        version, 16 if version == 4 else 32) for version in wide)
    if v['apache_balancer_manager_allow_public']:
        host_input.warn('exposure', 'apache_balancer_manager_allow', '{variable} {value} lets %s reach the '
                        'balancer-manager, where anyone allowed changes the backends at run time; '
                        'apache_balancer_manager_allow_public is true, so it is meant to.' % what,
                        v['apache_balancer_manager_allow'])
        return
    host_input.error('exposure', 'apache_balancer_manager_allow', '{variable} {value} lets %s reach the '
                     'balancer-manager, where anyone allowed changes the backends at run time. Expected the networks '
                     'of the people who run the balancer (private networks do not count); if the page is meant to be '
                     'open to the internet, set apache_balancer_manager_allow_public: true.' % what)


MONITOR_RANGES = (
    ('hapair_monitor_interval', 0.2, 60), ('hapair_monitor_timeout', 0.1, 30), ('hapair_monitor_fails', 1, 100),
    ('hapair_monitor_rises', 1, 100), ('hapair_monitor_failback_delay', 0, 3600), ('hapair_monitor_holddown', 0, 3600),
)


def rules_monitor(host_input):
    v = host_input.values
    for name, low, high in MONITOR_RANGES:
        host_input.in_range(name, low, high)
    _flapping(host_input)
    _operations(host_input)
    if host_input.ok('hapair_ping_nodes'):
        nodes = v['hapair_ping_nodes']
        for node in nodes:
            host_input.check('hapair_ping_nodes', grammar.usable_ipv4_address(node), node)
        for node in sorted(set(n for n in nodes if nodes.count(n) > 1)):
            host_input.error('duplicate', 'hapair_ping_nodes', '{variable} lists {value} more than once.', node)
        if len(nodes) > MAX_PING_NODES:
            host_input.error('range', 'hapair_ping_nodes', '{variable} lists %d addresses; expected at most %d.'
                             % (len(nodes), MAX_PING_NODES))
        if v.get('hapair_vip') in nodes:
            host_input.error('collision', 'hapair_ping_nodes', '{variable} lists the VIP {value}; expected routers the '
                             "nodes reach, such as the VIP network's gateway.", v['hapair_vip'])
        for node in nodes:
            problem = None if grammar.usable_ipv4_address(node) else _silent_ping_node(host_input, node)
            if problem:
                host_input.error('ping-node', 'hapair_ping_nodes', '{variable} lists {value}, which %s. It can never '
                                 'answer the monitor, which pings it bound to hapair_vip_interface, so the monitor would '
                                 'judge this node unhealthy. Expected a router on the network of hapair_vip_interface, '
                                 'such as its default gateway.' % problem, node)
        if not nodes and v.get('hapair_monitor'):
            host_input.warn('no-ping-nodes', 'hapair_ping_nodes', '{variable} is empty (%s): a lost public link will not '
                            "move the VIP. Set it to the VIP network's router." % _no_ping_nodes_reason(host_input), [])


def _operations(host_input):
    """The metrics file (for node_exporter's textfile collector, which reads *.prom only) and the notify command (run
    directly, never by a shell: a path alone, the event in its environment)."""
    v = host_input.values
    host_input.in_range('hapair_notify_timeout', 0.5, 300, ' seconds')
    if host_input.ok('hapair_metrics_file') and v['hapair_metrics_file'] != '':
        path = v['hapair_metrics_file']
        problem = grammar.safe_path(path, refused_trees=grammar.SYSTEM_TREES)
        if problem:
            host_input.error('grammar', 'hapair_metrics_file', '{variable} {value} is not valid: %s. Expected the file '
                             "node_exporter's textfile collector reads, such as "
                             '/var/lib/prometheus/node-exporter/hapair.prom, or "" for no metrics.' % problem)
        elif not path.endswith('.prom') or path.rsplit('/', 1)[-1] == '.prom':
            host_input.error('grammar', 'hapair_metrics_file', "{variable} {value} is not valid: node_exporter's textfile "
                             'collector reads only files named *.prom. Expected a name such as hapair.prom.')
    if host_input.ok('hapair_notify_command') and v['hapair_notify_command'] != '':
        command = v['hapair_notify_command']
        if ' ' in command.strip():
            host_input.error('grammar', 'hapair_notify_command', '{variable} {value} is not valid: expected the absolute '
                             'path of an executable alone, without arguments - it runs without a shell, and the event '
                             'comes in its environment (HAPAIR_EVENT, HAPAIR_REASON, ...).')
        else:
            problem = grammar.safe_path(command)
            if problem:
                host_input.error('grammar', 'hapair_notify_command', '{variable} {value} is not valid: %s. Expected '
                                 'the absolute path of an executable on the nodes, such as '
                                 '/usr/local/bin/hapair-notify, or "" for none.' % problem)


def _flapping(host_input):
    """Settings that move the VIP at every blip. The monitor gives the VIP up after hapair_monitor_fails failed checks
    in a row, and (with auto_failback) takes it back once the preferred node has been healthy for
    hapair_monitor_rises checks, hapair_monitor_failback_delay seconds and hapair_monitor_holddown seconds since it
    gave up: at the earliest max(rises x interval, failback_delay, holddown) after the give-up. Away at the first
    failed check and back by the next good one, every blip (one answer slower than hapair_monitor_timeout) moves the
    VIP twice, each move an outage of its own: refused. Each half alone is worth a word: away at the first failed
    check moves the VIP at every blip; back at the first good check lets an Apache that fails again and again move
    it to and fro."""
    v = host_input.values
    names = ('hapair_monitor_interval', 'hapair_monitor_fails', 'hapair_monitor_rises',
             'hapair_monitor_failback_delay', 'hapair_monitor_holddown')
    if not host_input.ok(*names) or not v.get('hapair_monitor') or any(name in host_input.invalid for name in names):
        return
    interval = v['hapair_monitor_interval']
    back = max(v['hapair_monitor_rises'] * interval, v['hapair_monitor_failback_delay'], v['hapair_monitor_holddown'])
    quick_back = v.get('hapair_auto_failback') is not False and back <= interval
    values = (v['hapair_monitor_rises'], v['hapair_monitor_failback_delay'], v['hapair_monitor_holddown'], interval)
    settings = 'hapair_monitor_rises %s, hapair_monitor_failback_delay %s, hapair_monitor_holddown %s, ' \
               'hapair_monitor_interval %s' % values
    if v['hapair_monitor_fails'] == 1 and quick_back:
        host_input.error('flapping', 'hapair_monitor_fails', '{variable} {value} gives the VIP up at the first failed '
                         'check, and %s take it back at the next good one: every blip (one answer slower than '
                         'hapair_monitor_timeout) moves the VIP away and back, two outages where there was none. '
                         'Expected hapair_monitor_fails 2 or more, or a hapair_monitor_holddown of some seconds (10 by '
                         'default).' % settings)
    elif v['hapair_monitor_fails'] == 1:
        host_input.warn('flapping', 'hapair_monitor_fails', '{variable} {value} gives the VIP up at the first failed '
                        'check: every blip (one answer slower than hapair_monitor_timeout) moves the VIP, an outage '
                        'of its own. 3, the default, rides out a blip.', 1)
    elif quick_back:
        host_input.warn('flapping', 'hapair_monitor_holddown', '{variable} {value}: %s take the VIP back at the first '
                        'good check after it was given up, so an Apache that fails and recovers again and again moves '
                        'the VIP to and fro. A hold-down of some seconds (10 by default) keeps it where it is.'
                        % settings, v['hapair_monitor_holddown'])


def _silent_ping_node(host_input, node):
    """Why a ping node can never answer the monitor, which pings it bound to hapair_vip_interface, or None: a loopback
    or link-local address, or (when the facts show the interface's networks) an address in none of them while the
    default route leaves by another interface (the facts show no other routes)."""
    address = ipaddress.IPv4Address(node)
    interface = host_input.values.get('hapair_vip_interface')
    if address in ipaddress.IPv4Network('127.0.0.0/8'):
        return 'is a loopback address, on lo and not on hapair_vip_interface %s' % interface
    if address.is_link_local:
        return 'is link-local (169.254.0.0/16), an address no router of the VIP\'s network answers from'

    networks = [ipaddress.IPv4Network(entry['network'])
                for entry in (host_input.facts.get('ipv4') or {}).get(interface or '', [])]
    if not networks or any(address in network for network in networks):
        return None
    default = host_input.facts.get('default_ipv4') or {}
    if default.get('interface') == interface and default.get('gateway'):
        return None  # beyond the default gateway, which the interface reaches
    return 'lies in no network of hapair_vip_interface %s on this host (%s), and %s' % (
        interface, ', '.join(str(n) for n in networks),
        'the default route leaves by %s' % default['interface'] if default.get('interface') else
        'the host has no default route')


def _no_ping_nodes_reason(host_input):
    """Why hapair_ping_nodes is empty: set so, or why its default (the default gateway in the VIP's network) is none."""
    if host_input.is_set('hapair_ping_nodes'):
        return 'it is set to []'
    gateway = (host_input.facts.get('default_ipv4') or {}).get('gateway')
    if not gateway:
        return 'the host has no default gateway, which would be the default'
    vip, prefix = host_input.values.get('hapair_vip'), host_input.values.get('hapair_vip_prefix')
    if not vip or not host_input.ok('hapair_vip', 'hapair_vip_prefix'):
        return 'the default gateway %s is not matched to the VIP\'s network, as hapair_vip is not set or not valid' % gateway
    if gateway == vip:
        return 'the default gateway %s is the VIP itself' % gateway
    network = ipaddress.IPv4Network('%s/%d' % (vip, prefix), strict=False)
    return "the default gateway %s is outside the VIP's network %s" % (gateway, network)


def rules_verify(host_input):
    if host_input.ok('hapair_verify_probe_timeout') and not 0 < host_input.values['hapair_verify_probe_timeout'] <= 60:
        host_input.check('hapair_verify_probe_timeout', 'expected more than 0 and at most 60 seconds', rule='range')
    if host_input.values.get('hapair_verify_wait') is not None:
        host_input.in_range('hapair_verify_wait', 0, 3600, ' seconds')


def rules_drill(host_input):
    v = host_input.values
    if host_input.ok('hapair_drill_method') and v['hapair_drill_method'] not in DRILL_METHODS:
        host_input.error('choice', 'hapair_drill_method', '{variable} {value} is not a drill method; expected one of %s.'
                         % ', '.join(DRILL_METHODS))
    host_input.in_range('hapair_drill_margin', 0, 3600, ' seconds')
    host_input.in_range('hapair_drill_reboot_timeout', 1, 86400, ' seconds')
    host_input.in_range('hapair_drill_client_interval', 0.02, 10, ' seconds')
    if host_input.ok('hapair_drill_url') and v['hapair_drill_url']:
        try:
            grammar.url(v['hapair_drill_url'])
        except ValueError as exc:
            host_input.check('hapair_drill_url', str(exc))
    if host_input.ok('hapair_drill_check_from') and v['hapair_drill_check_from'] == '':
        host_input.check('hapair_drill_check_from', 'expected an inventory host name, such as localhost')
    if host_input.ok('hapair_drill_report') and v['hapair_drill_report']:
        problem = grammar.safe_path(v['hapair_drill_report'], refused_trees=grammar.SYSTEM_TREES)
        if problem:
            host_input.error('grammar', 'hapair_drill_report', '{variable} {value} is not valid: %s. It names the file on '
                             'the controller that the drill writes as the user who runs ansible-playbook, such as '
                             '/tmp/drill.json (not in /etc, /usr, /dev and the like), or "" for none.' % problem)


MAINTENANCE_NONE = 'none'


def rules_maintenance(host_input):
    """hapair_maintenance: node names or inventory names (the pair model matches them against the play), or 'none'
    alone."""
    v = host_input.values
    host_input.in_range('hapair_maintenance_timeout', 1, 3600, ' seconds')
    if host_input.ok('hapair_maintenance'):
        names = v['hapair_maintenance']
        if not names:
            host_input.error('required', 'hapair_maintenance', '{variable} [] is not valid: expected the node to put in '
                             'maintenance (a node name or an inventory name), or none to take every node out.', [])
        for name in names:
            if not re.match(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,254}\Z', name):
                host_input.error('grammar', 'hapair_maintenance', '{variable} holds {value}, which is not a node name '
                                 "or an inventory name: expected letters, digits, '.', '_' and '-'.", name)
        if MAINTENANCE_NONE in [n.lower() for n in names] and len(names) > 1:
            host_input.error('combination', 'hapair_maintenance', '{variable} {value} is not valid: none takes every '
                             'node out of maintenance and stands alone.')
        for name in sorted(set(n for n in names if names.count(n) > 1)):
            host_input.error('duplicate', 'hapair_maintenance', '{variable} names {value} more than once.', name)
    if host_input.ok('hapair_maintenance_reason') and len(v['hapair_maintenance_reason']) > 200:
        host_input.error('length', 'hapair_maintenance_reason', '{variable} {value} is too long: expected at most 200 '
                         'characters.')


RULES = {
    'hapair': rules_hapair,
    'hostnames': rules_hostnames,
    'apt_sources': rules_apt_sources,
    'apache_balancer': rules_apache_balancer,
    'monitor': rules_monitor,
    'verify': rules_verify,
    'drill': rules_drill,
    'maintenance': rules_maintenance,
}
for _engine in engines.ENGINES.values():
    RULES[_engine.role] = _engine.check


# --- Entry points and renamed variables -----------------------------------------------------------------------

def parse_entry_points(names, engine=None):
    """["heartbeat", "engine:timers", "verify"] -> [("heartbeat", "main"), (ENGINE, "timers"), ("verify", "main")];
    'engine' stands for the engine role of the host's pair, resolved when `engine` (its name) is given. Raises
    ValueError for an unknown role; old entry points (heartbeat:verify) give their new role."""
    old = engines.renamed_entry_points()
    result = []
    for name in names:
        name = old.get(str(name), str(name))
        role, _colon, entry_point = name.partition(':')
        if role == ENGINE and engine is not None:
            role = engines.get(engine).role
        if role not in ROLES and role != ENGINE:
            raise ValueError('%r is not a role of this collection; expected one of %s' % (name, ', '.join(ROLES + (ENGINE,))))
        result.append((role, entry_point or 'main'))
    return result


def entry_point_options(specs, role, entry_point):
    """The argument spec options of an entry point; for an engine role, 'timers' is its main entry point's timers."""
    if entry_point == 'timers' and role in engines.roles():
        engine = [e for e in engines.ENGINES.values() if e.role == role][0]
        main = specs[role]['argument_specs']['main']['options']
        return dict((name, main[name]) for name in engine.timer_variables)
    return specs[role]['argument_specs'][entry_point]['options']


def renames(options):
    """{old: new} of the renamed variables whose new name is among these options."""
    return dict((old, new) for old, new in engines.renamed().items() if new in options)


def check_host(host, specs, entry_points, raw, context):
    """Type and check one host's input for the given entry points.

    specs: {role: the argument_specs mapping of roles/ROLE/meta/argument_specs.yml}.
    entry_points: [(role, entry point)] from parse_entry_points(); (ENGINE, ep) is resolved from the host's
      hapair_engine (typed first, with the hapair role). The hapair role's main entry point is checked too, first,
      unless every entry point is of a role in ALONE_ROLES.
    raw: {variable: templated value or TemplateFailure} of the variables that are set for the host.
    context: {facts: {...}, set: [variables set for the host]}.
    Returns a HostInput.
    """
    host_input = HostInput(host, context)
    wanted = list(entry_points)
    # The pair model needs the hapair role's input, and an engine entry point its hapair_engine; the roles that need no
    # pair are checked without it.
    if ('hapair', 'main') not in wanted and any(role not in ALONE_ROLES for role, _entry_point in wanted):
        wanted.insert(0, ('hapair', 'main'))
    wanted.sort(key=lambda ep: ep != ('hapair', 'main'))
    resolved = []
    for role, entry_point in wanted:
        if role == ENGINE:
            name = host_input.values.get('hapair_engine')
            if name not in engines.NAMES:
                continue  # its error is reported already
            role = engines.get(name).role
        if (role, entry_point) in resolved:
            continue
        resolved.append((role, entry_point))
        options = entry_point_options(specs, role, entry_point)
        first = dict((name, options[name]) for name in FIRST if name in options)
        type_options(host_input, first, raw, COMPUTED)
        type_options(host_input, options, raw, COMPUTED)
    host_input.entry_points = resolved
    for role in ROLES:
        if any(r == role for r, _entry_point in resolved):
            RULES[role](host_input)
    return host_input
