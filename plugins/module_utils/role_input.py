# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One host's input to the collection's roles: typed from the roles' argument specs, then checked rule by rule.

The argument specs (roles/*/meta/argument_specs.yml) are the single source of the types: every value is converted
the way Ansible converts role arguments (ArgumentSpecValidator, so "false" is false and "694" is 694), after a
stricter look at the raw value where Ansible's conversion would hide a mistake (a boolean where a number belongs,
a list where a string belongs). Then each role's rules check what a spec cannot say: the grammar of every string
that ends up in a file (module_utils/grammar.py), ranges, and how settings relate (heartbeat's timers).

Values that the roles compute when they are not set (the node name, the links, the VIP interface, the timers of
a profile, the apt release) are computed here too, so every consumer sees one typed value.

Nothing here ever puts the value of a no_log option (the heartbeat key) into a message.
"""

from __future__ import annotations

import ipaddress
import json
import re

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.hapair.loadbalancer.plugins.module_utils import grammar

# The roles whose input is checked here, and the entry points of each that have an argument spec.
ROLES = ('hapair', 'hostnames', 'apt_sources', 'apache_balancer', 'heartbeat')

# A value that is not set at all.
MISSING = object()

TIMER_PROFILES = {
    'standard': {'keepalive': 2000, 'deadtime': 10000, 'warntime': 5000, 'initdead': 20000},
    'fast': {'keepalive': 200, 'deadtime': 1500, 'warntime': 800, 'initdead': 10000},
}
TIMERS = ('keepalive', 'deadtime', 'warntime', 'initdead')

# Keys found in tutorials and sample files; a pair using one is as good as unauthenticated. Compared in lower
# case with everything but letters and digits removed; keys that start with "changeme" or "replaceme" (like the
# example inventory's vault) count as placeholders too.
PLACEHOLDER_KEYS = ('somerandomstring', 'changeme', 'secret', 'password', 'heartbeat', 'authkey', 'yoursecret',
                    'mysecret', 'replaceme', 'yoursecretkeyhere', '12345678901234567890', 'abcdefghijklmnop')
PLACEHOLDER_PREFIXES = ('changeme', 'replaceme')
KEY_MIN, KEY_MAX = 16, 255

AUTH_METHODS = ('sha1', 'md5')
LBMETHODS = ('byrequests', 'bytraffic', 'bybusyness', 'heartbeat')
HEALTHCHECK_METHODS = ('TCP', 'OPTIONS', 'HEAD', 'GET', 'OPTIONS11', 'HEAD11', 'GET11')


class TemplateFailure:
    """A variable whose value could not be templated; `reason` never holds the value of a secret."""

    def __init__(self, reason):
        self.reason = reason


def show(value):
    """A value for a message: strings quoted with escapes (a newline shows as \\n), the rest as JSON."""
    if isinstance(value, str):
        return repr(value)
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(value)


def _type_name(value):
    if isinstance(value, bool):
        return 'a boolean'
    if isinstance(value, (int, float)):
        return 'a number'
    if isinstance(value, str):
        return 'a string'
    if isinstance(value, (list, tuple)):
        return 'a list'
    if isinstance(value, dict):
        return 'a mapping'
    if value is None:
        return 'null'
    return type(value).__name__


def _strict_type_problem(option, value):
    """What Ansible's conversion would silently accept but is a mistake: None when the raw value may be converted."""
    kind = option.get('type', 'str')
    if value is None:
        return 'is null'
    if kind in ('int', 'float') and isinstance(value, bool):
        return 'is a boolean; expected a number'
    if kind in ('int', 'float') and isinstance(value, (list, dict)):
        return 'is %s; expected a number' % _type_name(value)
    if kind == 'str' and not isinstance(value, (str, int, float)) or kind == 'str' and isinstance(value, bool):
        return 'is %s; expected a string' % _type_name(value)
    if kind == 'bool' and isinstance(value, (list, dict, float)):
        return 'is %s; expected true or false' % _type_name(value)
    if kind == 'list':
        if isinstance(value, dict) or isinstance(value, bool) or isinstance(value, (int, float)):
            return 'is %s; expected a list' % _type_name(value)
        if isinstance(value, (list, tuple)):
            elements = option.get('elements')
            for index, element in enumerate(value):
                if elements == 'dict' and not isinstance(element, dict):
                    return 'has %s as item %d; expected a mapping' % (_type_name(element), index + 1)
                if elements == 'str' and (isinstance(element, (bool, list, dict)) or element is None):
                    return 'has %s as item %d; expected a string' % (_type_name(element), index + 1)
                if elements == 'dict':
                    for name, sub in (option.get('options') or {}).items():
                        if name in element:
                            problem = _strict_type_problem(sub, element[name])
                            if problem:
                                return 'has item %d whose %s %s' % (index + 1, name, problem)
    return None


def _strings(value):
    """Every string inside a value (lists and mappings walked), keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


class HostInput:
    """The typed and checked input of one host. `errors` are complete messages naming the host and variable."""

    def __init__(self, host, context):
        self.host = host
        self.context = context
        self.values = {}
        self.secrets = {}
        self.errors = []
        self.warnings = []
        self.invalid = set()

    def warn(self, variable, message):
        self.warnings.append('Host %s: %s %s' % (self.host, variable, message))

    def error(self, variable, message):
        self.errors.append('Host %s: %s %s' % (self.host, variable, message))
        self.invalid.add(variable)

    def ok(self, *variables):
        """Whether these variables were all typed without error."""
        return not any(variable in self.invalid for variable in variables)


def type_options(host_input, options, raw, computed):
    """Type every option of one entry point for one host into host_input.values (secrets into .secrets).

    raw: {variable: value as templated, or TemplateFailure}; variables that are not set are absent.
    computed: {variable: function(host_input) -> default} for defaults the spec cannot state.
    """
    for name, option in sorted(options.items()):
        if name in host_input.values or name in host_input.secrets or name in host_input.invalid:
            continue  # another entry point of the same role typed it already
        secret = bool(option.get('no_log'))
        value = raw.get(name, MISSING)
        if isinstance(value, TemplateFailure):
            host_input.error(name, 'could not be templated: %s' % value.reason)
            continue
        if value is MISSING:
            if 'default' in option:
                value = option['default']
            elif name in computed:
                host_input.values[name] = computed[name](host_input)
                continue
            elif option.get('required'):
                host_input.error(name, 'is required but not set')
                continue
            else:
                host_input.values[name] = None
                continue
        if secret:
            if not isinstance(value, str):
                host_input.error(name, 'is %s; expected a string (value not shown)' % _type_name(value))
            else:
                host_input.secrets[name] = value
            continue
        problem = _strict_type_problem(option, value)
        if problem:
            host_input.error(name, '%s %s' % (show(value), problem))
            continue
        if option.get('type') == 'int' and isinstance(value, float) and value.is_integer():
            # ansible-core 2.19 and later take a whole float for an int, earlier releases refuse it: take it on all.
            value = int(value)
        result = ArgumentSpecValidator({name: option}).validate({name: value}, validate_role_argument_spec=True)
        if result.error_messages:
            host_input.error(name, '%s is not valid: %s' % (show(value), '; '.join(result.error_messages)))
            continue
        typed = result.validated_parameters[name]
        for text in _strings(typed):
            problem = grammar.control_characters(text)
            if problem:
                host_input.error(name, '%s: %s' % (show(value), problem))
                break
        else:
            host_input.values[name] = typed


# --- Computed defaults ----------------------------------------------------------------------------------------

def _default_node_name(host_input):
    return host_input.host


def _default_links(host_input):
    default = host_input.context.get('facts', {}).get('default_ipv4') or {}
    if default.get('interface') and default.get('address'):
        return [{'interface': default['interface'], 'address': default['address']}]
    return []


def _default_vip_interface(host_input):
    links = host_input.values.get('hapair_links') or []
    return links[0]['interface'] if links else ''


def _default_distribution(host_input):
    return host_input.context.get('facts', {}).get('distribution') or ''


def _default_release(host_input):
    return host_input.context.get('facts', {}).get('distribution_release') or ''


def _default_ping_nodes(host_input):
    """The host's default gateway when it lies in the VIP's network, else none."""
    gateway = (host_input.context.get('facts', {}).get('default_ipv4') or {}).get('gateway')
    vip, prefix = host_input.values.get('hapair_vip'), host_input.values.get('hapair_vip_prefix')
    if not gateway or not vip or not isinstance(prefix, int) or grammar.ipv4_address(gateway) or grammar.ipv4_address(vip):
        return []
    try:
        network = ipaddress.IPv4Network('%s/%d' % (vip, prefix), strict=False)
    except ValueError:
        return []
    return [gateway] if ipaddress.IPv4Address(gateway) in network and gateway != vip else []


def _timer_default(name):
    def default(host_input):
        profile = host_input.values.get('heartbeat_timers') or 'standard'
        return grammar.heartbeat_time_text(TIMER_PROFILES.get(profile, TIMER_PROFILES['standard'])[name])
    return default


COMPUTED = {
    'hapair_node_name': _default_node_name,
    'hapair_links': _default_links,
    'hapair_vip_interface': _default_vip_interface,
    'apt_sources_distribution': _default_distribution,
    'apt_sources_release': _default_release,
    'heartbeat_ping_nodes': _default_ping_nodes,
}
COMPUTED.update({'heartbeat_' + timer: _timer_default(timer) for timer in TIMERS})

# Options typed before the others of their entry point, because computed defaults read them.
FIRST = ('hapair_links', 'heartbeat_timers')


# --- Rules per role -------------------------------------------------------------------------------------------

def _check(host_input, variable, problem, value=None):
    if problem:
        host_input.error(variable, '%s is not valid: %s.' % (show(host_input.values.get(variable) if value is None else value), problem))
        return False
    return True


def rules_hapair(host_input):
    v = host_input.values
    if host_input.ok('hapair_cluster'):
        if not re.match(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z', v['hapair_cluster']):
            _check(host_input, 'hapair_cluster', "expected a pair name of letters, digits, '.', '_' and '-', at most 64 "
                                                 "characters, starting with a letter or digit")
    if host_input.ok('hapair_node_name'):
        problem = grammar.hostname(v['hapair_node_name'])
        if problem:
            host_input.error('hapair_node_name', '%s is not a valid hostname: %s.%s' % (
                show(v['hapair_node_name']), problem,
                ' Set hapair_node_name for this host.' if 'hapair_node_name' not in host_input.context.get('set', ()) else ''))
    if host_input.ok('hapair_links'):
        links = v['hapair_links']
        if not links:
            host_input.error('hapair_links', '[] is not valid: expected at least one {interface, address} link. Without '
                                             'hapair_links the default IPv4 interface and address are used, so a host '
                                             'without a default route needs hapair_links.')
        for index, link in enumerate(links):
            for field, check in (('interface', grammar.interface_name), ('address', _link_address)):
                problem = check(link[field])
                if problem:
                    host_input.error('hapair_links', 'item %d: %s %s is not valid: %s.' % (index + 1, field, show(link[field]), problem))
        interfaces = [link['interface'] for link in links]
        for name in sorted(set(i for i in interfaces if interfaces.count(i) > 1)):
            host_input.error('hapair_links', 'lists interface %s in more than one link; every link needs an interface of its '
                                             'own, or it is no second path.' % show(name))
        addresses = [link['address'] for link in links]
        for address in sorted(set(a for a in addresses if addresses.count(a) > 1)):
            host_input.error('hapair_links', 'lists address %s more than once.' % address)
    if host_input.ok('hapair_vip') and v['hapair_vip'] != '':
        _check(host_input, 'hapair_vip', _vip_address(v['hapair_vip']))
    if host_input.ok('hapair_vip_prefix'):
        if not 1 <= v['hapair_vip_prefix'] <= 32:
            _check(host_input, 'hapair_vip_prefix', 'expected a prefix length from 1 to 32')
    if host_input.ok('hapair_vip_interface'):
        _check(host_input, 'hapair_vip_interface', grammar.interface_name(v['hapair_vip_interface']))
    if host_input.ok('hapair_preferred_node') and v['hapair_preferred_node'] != '':
        _check(host_input, 'hapair_preferred_node', grammar.hostname(v['hapair_preferred_node']))


def _link_address(value):
    return grammar.usable_ipv4_address(value) if not value.startswith('127.') else grammar.ipv4_address(value)


def _vip_address(value):
    problem = grammar.usable_ipv4_address(value)
    if problem:
        return problem
    if value.startswith('127.'):
        return 'expected an address on a network the clients reach, not a loopback address'
    return None


def rules_hostnames(host_input):
    """hostnames_cloud_init_preserve is a boolean: its spec says all there is to say."""


def rules_apt_sources(host_input):
    v = host_input.values
    if host_input.ok('apt_sources_components'):
        components = v['apt_sources_components']
        if not components:
            host_input.error('apt_sources_components', '[] is not valid: expected at least one component, such as universe.')
        for component in components:
            _check(host_input, 'apt_sources_components', grammar.apt_word(component), component)
        for component in sorted(set(c for c in components if components.count(c) > 1)):
            host_input.error('apt_sources_components', 'lists %s more than once.' % show(component))
    if host_input.ok('apt_sources_pockets'):
        pockets = v['apt_sources_pockets']
        for pocket in pockets:
            _check(host_input, 'apt_sources_pockets', grammar.apt_pocket(pocket), pocket)
        if '' not in pockets:
            host_input.error('apt_sources_pockets', '%s is not valid: expected "" (the release pocket itself) among the '
                                                    'pockets.' % show(pockets))
    uris = []
    for name in ('apt_sources_archive_uris', 'apt_sources_extra_archive_uris'):
        if host_input.ok(name):
            for uri in v[name]:
                _check(host_input, name, grammar.apt_uri_pattern(uri), uri)
            uris += v[name]
    if host_input.ok('apt_sources_archive_uris', 'apt_sources_extra_archive_uris') and not uris:
        host_input.error('apt_sources_archive_uris', 'and apt_sources_extra_archive_uris are both empty: expected at least '
                                                     'one pattern of the Ubuntu archive.')
    if host_input.ok('apt_sources_distribution', 'apt_sources_release') and v['apt_sources_distribution'] == 'Ubuntu':
        _check(host_input, 'apt_sources_release', grammar.apt_release(v['apt_sources_release']))
    if host_input.ok('apt_sources_dir', 'apt_sources_update_cache'):
        if _check(host_input, 'apt_sources_dir', grammar.absolute_path(v['apt_sources_dir'].rstrip('/') or '/')):
            if v['apt_sources_update_cache'] and v['apt_sources_dir'].rstrip('/') != '/etc/apt':
                host_input.error('apt_sources_dir', '%s with apt_sources_update_cache true is not valid: when it is not '
                                                    '/etc/apt (a copy for tests), apt_sources_update_cache must be false, '
                                                    'because apt-get update reads /etc/apt.' % show(v['apt_sources_dir']))


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
            host_input.error('apache_balancer_members', 'is empty: expected at least one backend URL, for example '
                                                        '[http://198.51.100.11:8080, http://198.51.100.12:8080].')
        seen = {}
        for member in v['apache_balancer_members']:
            try:
                parsed = grammar.url(member)
            except ValueError as exc:
                host_input.error('apache_balancer_members', 'holds %s, which is not a backend URL: %s. Expected '
                                                            'http://HOST[:PORT][/PATH] or https://...' % (show(member), exc))
                continue
            identity = (parsed['scheme'], parsed['host'], parsed['port'], parsed['path'].rstrip('/'))
            if identity in seen:
                host_input.error('apache_balancer_members', 'lists the backend %s twice (%s and %s).' % (
                    '%s://%s:%d%s' % identity, show(seen[identity]), show(member)))
            seen[identity] = member
    if host_input.ok('apache_balancer_lbmethod') and v['apache_balancer_lbmethod'] not in LBMETHODS:
        host_input.error('apache_balancer_lbmethod', '%s is not a load-balancing method of mod_proxy_balancer; expected one '
                                                     'of %s.' % (show(v['apache_balancer_lbmethod']), ', '.join(LBMETHODS)))
    if host_input.ok('apache_balancer_name'):
        _check(host_input, 'apache_balancer_name', grammar.apache_token(v['apache_balancer_name']))
    if host_input.ok('apache_balancer_port') and not 1 <= v['apache_balancer_port'] <= 65535:
        _check(host_input, 'apache_balancer_port', 'expected a TCP port from 1 to 65535')
    if host_input.ok('apache_balancer_server_name') and v['apache_balancer_server_name'] != '':
        _check(host_input, 'apache_balancer_server_name', grammar.server_name(v['apache_balancer_server_name']))
    if host_input.ok('apache_balancer_server_aliases'):
        for alias in v['apache_balancer_server_aliases']:
            _check(host_input, 'apache_balancer_server_aliases', grammar.server_name(alias, wildcards=True), alias)
    if host_input.ok('apache_balancer_sticky_cookie') and v['apache_balancer_sticky_cookie'] != '':
        if not re.match(r'^[A-Za-z0-9_-]{1,64}\Z', v['apache_balancer_sticky_cookie']):
            _check(host_input, 'apache_balancer_sticky_cookie', "expected a cookie name of letters, digits, '_' and '-' "
                                                                '(for example ROUTEID), or "" for no sticky sessions')
    if host_input.ok('apache_balancer_healthcheck_method') and v['apache_balancer_healthcheck_method'] not in HEALTHCHECK_METHODS:
        host_input.error('apache_balancer_healthcheck_method', '%s is not an hcmethod of mod_proxy_hcheck; expected one of '
                                                               '%s.' % (show(v['apache_balancer_healthcheck_method']),
                                                                        ', '.join(HEALTHCHECK_METHODS)))
    if host_input.ok('apache_balancer_healthcheck_uri'):
        _check(host_input, 'apache_balancer_healthcheck_uri', grammar.url_path(v['apache_balancer_healthcheck_uri']))
    for name in ('apache_balancer_healthcheck_interval', 'apache_balancer_healthcheck_passes', 'apache_balancer_healthcheck_fails'):
        if host_input.ok(name) and not 1 <= v[name] <= 86400:
            _check(host_input, name, 'expected a whole number from 1 to 86400')
    if host_input.ok('apache_balancer_manager_path'):
        _check(host_input, 'apache_balancer_manager_path', grammar.url_path(v['apache_balancer_manager_path'], allow_root=False))
    if host_input.ok('apache_balancer_health_path') and v.get('apache_balancer_health_path') is not None:
        if _check(host_input, 'apache_balancer_health_path', grammar.url_path(v['apache_balancer_health_path'], allow_root=False)):
            if v['apache_balancer_health_path'] == v.get('apache_balancer_manager_path'):
                host_input.error('apache_balancer_health_path', '%s is also apache_balancer_manager_path; expected a path of '
                                                                'its own.' % show(v['apache_balancer_health_path']))
    if host_input.ok('apache_balancer_connect_timeout') and v.get('apache_balancer_connect_timeout') is not None:
        if not re.match(r'^[1-9][0-9]{0,5}(ms)?\Z', v['apache_balancer_connect_timeout']):
            _check(host_input, 'apache_balancer_connect_timeout', 'expected a positive whole number of seconds or of '
                                                                  'milliseconds, such as 300ms or 2')
    if host_input.ok('apache_balancer_manager_allow'):
        for allowed in v['apache_balancer_manager_allow']:
            _check(host_input, 'apache_balancer_manager_allow', grammar.require_ip(allowed), allowed)


def _key_problem(key):
    """What is wrong with a heartbeat key, never quoting it."""
    if len(key) < KEY_MIN:
        return 'is %d characters long; it needs at least %d' % (len(key), KEY_MIN)
    if len(key) > KEY_MAX:
        return 'is %d characters long; it may have at most %d' % (len(key), KEY_MAX)
    if re.search(r'[\s#]', key):
        return "holds whitespace or '#', which end the key in authkeys"
    if re.search(r'[^\x21-\x7e]', key):
        return 'holds a character that is not printable ASCII; use letters, digits and punctuation'
    if re.search(r'\{\{|\{%|\{#', key):
        return "holds '{{', '{%' or '{#', Jinja2 template syntax that Ansible would try to evaluate; choose a key without it"
    folded = re.sub(r'[^a-z0-9]', '', key.lower())
    if folded in PLACEHOLDER_KEYS or any(folded.startswith(prefix) for prefix in PLACEHOLDER_PREFIXES):
        return 'is a well-known placeholder; a pair using it is as good as unauthenticated. Generate one with ' \
               '`openssl rand -hex 32` and keep it in Ansible Vault'
    return None


def timers_ms(values):
    """{keepalive, deadtime, warntime, initdead} in milliseconds, for the timers that are valid."""
    result = {}
    for timer in TIMERS:
        value = values.get('heartbeat_' + timer)
        if value is None:
            continue
        try:
            result[timer] = grammar.heartbeat_time(value)
        except ValueError:
            pass
    return result


def rules_heartbeat(host_input):
    v = host_input.values
    if 'heartbeat_auth_key' in host_input.secrets:
        problem = _key_problem(host_input.secrets['heartbeat_auth_key'])
        if problem:
            host_input.error('heartbeat_auth_key', '%s (value not shown).' % problem)
    if host_input.ok('heartbeat_auth_method') and v.get('heartbeat_auth_method') is not None:
        method = v['heartbeat_auth_method']
        if method == 'crc':
            host_input.error('heartbeat_auth_method', "'crc' is not allowed: crc only detects corrupted packets and "
                                                      'authenticates nothing. Expected one of %s.' % ', '.join(AUTH_METHODS))
        elif method not in AUTH_METHODS:
            host_input.error('heartbeat_auth_method', '%s is not allowed. Expected one of %s.' % (show(method), ', '.join(AUTH_METHODS)))
    typed_timers = {}
    for timer in TIMERS:
        name = 'heartbeat_' + timer
        if name not in v or not host_input.ok(name) or v[name] is None:
            continue
        try:
            typed_timers[timer] = grammar.heartbeat_time(v[name])
        except ValueError as exc:
            host_input.error(name, '%s is not a positive time: %s.' % (show(v[name]), exc))
            continue
        v[name] = grammar.heartbeat_time_text(typed_timers[timer])
    ms = typed_timers
    if {'keepalive', 'deadtime'} <= set(ms) and not ms['deadtime'] > 2 * ms['keepalive']:
        host_input.error('heartbeat_deadtime', '(%s) must be more than twice heartbeat_keepalive (%s), or one late '
                                               'heartbeat makes the peer look dead.' % (v['heartbeat_deadtime'], v['heartbeat_keepalive']))
    if {'deadtime', 'initdead'} <= set(ms) and ms['initdead'] < ms['deadtime']:
        host_input.error('heartbeat_initdead', '(%s) must not be lower than heartbeat_deadtime (%s); heartbeat recommends '
                                               'at least twice deadtime.' % (v['heartbeat_initdead'], v['heartbeat_deadtime']))
    if {'keepalive', 'warntime', 'deadtime'} <= set(ms) and not ms['keepalive'] < ms['warntime'] < ms['deadtime']:
        host_input.error('heartbeat_warntime', '(%s) must lie between heartbeat_keepalive (%s) and heartbeat_deadtime (%s).' % (
            v['heartbeat_warntime'], v['heartbeat_keepalive'], v['heartbeat_deadtime']))
    if host_input.ok('heartbeat_udpport') and v.get('heartbeat_udpport') is not None and not 1 <= v['heartbeat_udpport'] <= 65535:
        host_input.error('heartbeat_udpport', '%s must be a port number from 1 to 65535.' % show(v['heartbeat_udpport']))
    if host_input.ok('heartbeat_logfacility') and v.get('heartbeat_logfacility') is not None:
        _check(host_input, 'heartbeat_logfacility', grammar.syslog_facility(v['heartbeat_logfacility']))
    if host_input.ok('heartbeat_logfile') and v.get('heartbeat_logfile') is not None:
        _check(host_input, 'heartbeat_logfile', grammar.absolute_path(v['heartbeat_logfile'], allow_empty=True))
    for name, low, high in MONITOR_RANGES:
        if host_input.ok(name) and v.get(name) is not None and not low <= v[name] <= high:
            _check(host_input, name, 'expected %s to %s' % (low, high))
    if host_input.ok('heartbeat_ping_nodes') and v.get('heartbeat_ping_nodes') is not None:
        nodes = v['heartbeat_ping_nodes']
        for node in nodes:
            _check(host_input, 'heartbeat_ping_nodes', grammar.usable_ipv4_address(node), node)
        for node in sorted(set(n for n in nodes if nodes.count(n) > 1)):
            host_input.error('heartbeat_ping_nodes', 'lists %s more than once.' % node)
        if len(nodes) > 8:
            host_input.error('heartbeat_ping_nodes', 'lists %d addresses; expected at most 8.' % len(nodes))
        if v.get('hapair_vip') in nodes:
            host_input.error('heartbeat_ping_nodes', 'lists the VIP %s; expected routers the nodes reach, such as the '
                                                     "VIP network's gateway." % v['hapair_vip'])
        if not nodes and v.get('heartbeat_monitor'):
            gateway = (host_input.context.get('facts', {}).get('default_ipv4') or {}).get('gateway')
            host_input.warn('heartbeat_ping_nodes', 'is empty (%s): a lost public link will not move the VIP. Set it to '
                                                    "the VIP network's router." % (
                                                        'the default gateway %s is not in the VIP\'s network' % gateway
                                                        if gateway else 'the host has no default gateway'))
    if host_input.ok('heartbeat_verify_probe_timeout') and v.get('heartbeat_verify_probe_timeout') is not None:
        if not 0 < v['heartbeat_verify_probe_timeout'] <= 60:
            _check(host_input, 'heartbeat_verify_probe_timeout', 'expected more than 0 and at most 60 seconds')
    if host_input.ok('heartbeat_failover_margin') and v.get('heartbeat_failover_margin') is not None:
        if not 0 <= v['heartbeat_failover_margin'] <= 3600:
            _check(host_input, 'heartbeat_failover_margin', 'expected 0 to 3600 seconds')
    if host_input.ok('heartbeat_failover_reboot_timeout') and v.get('heartbeat_failover_reboot_timeout') is not None:
        if not 1 <= v['heartbeat_failover_reboot_timeout'] <= 86400:
            _check(host_input, 'heartbeat_failover_reboot_timeout', 'expected 1 to 86400 seconds')
    if host_input.ok('heartbeat_failover_url') and v.get('heartbeat_failover_url'):
        try:
            grammar.url(v['heartbeat_failover_url'])
        except ValueError as exc:
            _check(host_input, 'heartbeat_failover_url', str(exc))
    if host_input.ok('heartbeat_failover_client_interval') and v.get('heartbeat_failover_client_interval') is not None:
        if not 0.02 <= v['heartbeat_failover_client_interval'] <= 10:
            _check(host_input, 'heartbeat_failover_client_interval', 'expected 0.02 to 10 seconds')
    if host_input.ok('heartbeat_failover_check_from') and v.get('heartbeat_failover_check_from') is not None:
        if v['heartbeat_failover_check_from'] == '':
            _check(host_input, 'heartbeat_failover_check_from', 'expected an inventory host name, such as localhost')


MONITOR_RANGES = (
    ('heartbeat_monitor_interval', 0.2, 60), ('heartbeat_monitor_timeout', 0.1, 30), ('heartbeat_monitor_fails', 1, 100),
    ('heartbeat_monitor_rises', 1, 100), ('heartbeat_monitor_failback_delay', 0, 3600), ('heartbeat_monitor_holddown', 0, 3600),
)

RULES = {
    'hapair': rules_hapair,
    'hostnames': rules_hostnames,
    'apt_sources': rules_apt_sources,
    'apache_balancer': rules_apache_balancer,
    'heartbeat': rules_heartbeat,
}


def parse_entry_points(names):
    """["heartbeat", "heartbeat:verify"] -> [("heartbeat", "main"), ("heartbeat", "verify")]; ValueError if unknown."""
    result = []
    for name in names:
        role, _colon, entry_point = str(name).partition(':')
        if role not in ROLES:
            raise ValueError('%s is not a role of this collection; expected one of %s' % (show(name), ', '.join(ROLES)))
        result.append((role, entry_point or 'main'))
    return result


def check_host(host, specs, entry_points, raw, context):
    """Type and check one host's input for the given entry points.

    specs: {role: the argument_specs mapping of roles/ROLE/meta/argument_specs.yml}.
    entry_points: [(role, entry point)], checked in this order (the hapair role's main entry point, which the
    pair model needs, first when it is among them).
    raw: {variable: templated value or TemplateFailure} of the variables that are set for the host.
    context: {facts: {...}, set: [variables set for the host]}.
    Returns a HostInput.
    """
    host_input = HostInput(host, context)
    wanted = sorted(set(entry_points), key=lambda ep: (ep != ('hapair', 'main'), entry_points.index(ep)))
    for role, entry_point in wanted:
        options = specs[role]['argument_specs'][entry_point]['options']
        first = {name: options[name] for name in FIRST if name in options}
        type_options(host_input, first, raw, COMPUTED)
        type_options(host_input, options, raw, COMPUTED)
    for role in ROLES:
        if any(r == role for r, _entry_point in wanted):
            RULES[role](host_input)
    return host_input
