# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The heartbeat engine: heartbeat v1 (haresources), configured by the heartbeat role.

Every heartbeat_* variable the engine-neutral code needs to know about is named here and nowhere else outside the
heartbeat role: its timers and their profiles, its secret, its input rules, its old variable names, and what the
node-side monitor runs to hand the VIP over and take it back.

Pure Python and the standard library (Python 3.8 and later).
"""

from __future__ import annotations

import re

from ansible_collections.hapair.loadbalancer.plugins.module_utils import grammar, timers
from ansible_collections.hapair.loadbalancer.plugins.module_utils.engine import Engine, Timers

TIMERS = ('keepalive', 'deadtime', 'warntime', 'initdead')
PROFILES = {
    # The tutorial's.
    'standard': {'keepalive': 2000, 'deadtime': 10000, 'warntime': 5000, 'initdead': 20000},
    # A crashed node fails over in about 2 s (benchmarks/RESULTS.md).
    'fast': {'keepalive': 200, 'deadtime': 1500, 'warntime': 800, 'initdead': 10000},
}
# heartbeat keeps times in milliseconds; below 100 ms its own scheduling (and a busy node) makes every late packet a
# false "dead node".
MIN_KEEPALIVE_MS = 100
MAX_DEADTIME_MS = 3600 * 1000

AUTH_METHODS = ('sha1', 'md5')
# Keys found in tutorials and sample files; a pair using one is as good as unauthenticated. Compared in lower case
# with everything but letters and digits removed; keys that start with "changeme" or "replaceme" (like the example
# inventory's vault) count as placeholders too.
PLACEHOLDER_KEYS = ('somerandomstring', 'changeme', 'secret', 'password', 'heartbeat', 'authkey', 'yoursecret',
                    'mysecret', 'replaceme', 'yoursecretkeyhere', '12345678901234567890', 'abcdefghijklmnop')
PLACEHOLDER_PREFIXES = ('changeme', 'replaceme')
KEY_MIN, KEY_MAX = 16, 255


def key_problem(key):
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


def _timer_default(timer):
    def default(host_input):
        profile = host_input.values.get('hapair_timers') or 'standard'
        return timers.text(PROFILES.get(profile, PROFILES['standard'])[timer])
    return default


class Heartbeat(Engine):
    """heartbeat 3.0 in v1 mode (haresources, no CRM)."""

    name = 'heartbeat'
    role = 'heartbeat'
    service = 'heartbeat'
    process = 'heartbeat'
    packages = ('heartbeat', 'net-tools')
    secrets = ('heartbeat_auth_key',)
    per_host = ()
    renamed = {
        'heartbeat_timers': 'hapair_timers',
        'heartbeat_auto_failback': 'hapair_auto_failback',
        'heartbeat_monitor': 'hapair_monitor',
        'heartbeat_monitor_interval': 'hapair_monitor_interval',
        'heartbeat_monitor_timeout': 'hapair_monitor_timeout',
        'heartbeat_monitor_fails': 'hapair_monitor_fails',
        'heartbeat_monitor_rises': 'hapair_monitor_rises',
        'heartbeat_monitor_failback_delay': 'hapair_monitor_failback_delay',
        'heartbeat_monitor_holddown': 'hapair_monitor_holddown',
        'heartbeat_ping_nodes': 'hapair_ping_nodes',
        'heartbeat_verify_probe_timeout': 'hapair_verify_probe_timeout',
        'heartbeat_failover_method': 'hapair_drill_method',
        'heartbeat_failover_margin': 'hapair_drill_margin',
        'heartbeat_failover_url': 'hapair_drill_url',
        'heartbeat_failover_check_from': 'hapair_drill_check_from',
        'heartbeat_failover_client_interval': 'hapair_drill_client_interval',
        'heartbeat_failover_reboot_timeout': 'hapair_drill_reboot_timeout',
        'heartbeat_failover_report': 'hapair_drill_report',
    }
    # The old entry points of the role, now roles of their own.
    renamed_entry_points = {'heartbeat:verify': 'verify', 'heartbeat:failover': 'drill'}
    timer_variables = tuple('heartbeat_' + timer for timer in TIMERS)
    # roles/heartbeat/vars/main.yml: __heartbeat_applied.
    markers = ('heartbeat-restart', 'heartbeat-reload')
    # Started on the node that holds the VIP, heartbeat's IPaddr finds the VIP configured ("Running OK") when it
    # acquires its resources: it never goes off (seen on the test bed).
    adopts_vip = True
    restart_seconds = 2.0   # roles/heartbeat/files/heartbeat-hapair.conf

    def profile(self, name):
        return dict(('heartbeat_' + timer, timers.text(ms)) for timer, ms in PROFILES[name].items())

    def computed_defaults(self):
        return dict(('heartbeat_' + timer, _timer_default(timer)) for timer in TIMERS)

    def timers(self, values):
        keepalive, deadtime, initdead = (timers.seconds(values['heartbeat_' + timer])
                                         for timer in ('keepalive', 'deadtime', 'initdead'))
        # A graceful hand-over (hb_standby, heartbeat stopped): the request crosses to the peer within a keepalive,
        # the peer's resource agents run (measured 0.8 to 2.6 s with keepalive 2; up to 3.5 s on a loaded machine).
        return Timers(advert=keepalive, detect=deadtime, startup=initdead, handover=2 * keepalive + 1.0)

    def reserved_ports(self, values):
        """heartbeat's UDP port on every link."""
        port = values.get('heartbeat_udpport')
        if isinstance(port, int) and not isinstance(port, bool) and 1 <= port <= 65535:
            return [(port, 'udp', 'heartbeat_udpport')]
        return []

    def monitor_settings(self):
        return {
            'engine': self.name,
            'service': self.service,
            'cl_status': '/usr/bin/cl_status',
            'hb_standby': '/usr/share/heartbeat/hb_standby',
            'hb_takeover': '/usr/share/heartbeat/hb_takeover',
            # Where heartbeat logs (its syslog identifier in the journal): the monitor follows it for healed
            # partitions (node_engine.HeartbeatNode.heal_event). With heartbeat_use_logd, cluster-glue's ha_logd
            # writes heartbeat's lines to syslog under the same identifier (measured on Debian 12 and 13; the role's
            # logd.cf sets no syslogprefix, which would change it).
            'log_identifier': 'heartbeat',
            # For hapair-monitor's unit: what it writes to, and why it runs as root.
            'writes': ['/var/lib/heartbeat'],
            'why_root': "hb_standby and hb_takeover write to heartbeat's FIFO (/var/lib/heartbeat/fifo, root, 0600) and "
                        "cl_status reaches heartbeat's API under /run/heartbeat (hacluster:haclient, 0750)",
        }

    def check(self, host_input):
        v = host_input.values
        if 'heartbeat_auth_key' in host_input.secrets:
            problem = key_problem(host_input.secrets['heartbeat_auth_key'])
            if problem:
                host_input.error('secret', 'heartbeat_auth_key', '{variable} %s {value}.' % problem, secret=True)
        if host_input.ok('heartbeat_auth_method'):
            method = v['heartbeat_auth_method']
            if method == 'crc':
                host_input.error('choice', 'heartbeat_auth_method', "{variable} 'crc' is not allowed: crc only detects "
                                 'corrupted packets and authenticates nothing. Expected one of %s.' % ', '.join(AUTH_METHODS))
            elif method not in AUTH_METHODS:
                host_input.error('choice', 'heartbeat_auth_method', '{variable} {value} is not allowed. Expected one of '
                                 '%s.' % ', '.join(AUTH_METHODS))
        self._check_timers(host_input)
        host_input.in_range('heartbeat_udpport', 1, 65535)
        if host_input.ok('heartbeat_logfacility'):
            if host_input.check('heartbeat_logfacility', grammar.syslog_facility(v['heartbeat_logfacility'])) \
                    and v['heartbeat_logfacility'] == 'none':
                host_input.warn('journal', 'heartbeat_logfacility', "{variable} {value}: heartbeat's lines reach neither "
                                'syslog nor the journal, where hapair-monitor looks for a healed partition (both nodes '
                                'held the VIP) to keep one holder through heartbeat\'s restart.')
        for name in ('heartbeat_logfile', 'heartbeat_debugfile'):
            if host_input.ok(name):
                host_input.check(name, grammar.log_path(v[name], allow_empty=True))
        if host_input.ok('heartbeat_logfile', 'heartbeat_debugfile') and v['heartbeat_debugfile'] \
                and v['heartbeat_debugfile'] == v['heartbeat_logfile']:
            host_input.error('duplicate', 'heartbeat_debugfile', '{variable} {value} is heartbeat_logfile too: heartbeat '
                             'writes every message to its debug file and all but debug messages to its log file, so '
                             'most lines would be written twice. Expected another file, such as /var/log/ha-debug, or '
                             '"" for none.')

    @staticmethod
    def _check_timers(host_input):
        v = host_input.values
        ms = {}
        for timer in TIMERS:
            name = 'heartbeat_' + timer
            if not host_input.ok(name):
                continue
            try:
                ms[timer] = timers.parse_ms(v[name])
            except ValueError as exc:
                host_input.error('time', name, '{variable} {value} is not a valid time: %s.' % exc)
                continue
            v[name] = timers.text(ms[timer])
        if 'keepalive' in ms and ms['keepalive'] < MIN_KEEPALIVE_MS:
            host_input.error('range', 'heartbeat_keepalive', '{variable} {value} is too short: expected at least %dms; '
                             'shorter keepalives make every late packet a dead node.' % MIN_KEEPALIVE_MS)
        if 'deadtime' in ms and ms['deadtime'] > MAX_DEADTIME_MS:
            host_input.error('range', 'heartbeat_deadtime', '{variable} {value} is too long: expected at most an hour; '
                             'a dead node would keep the VIP that long.')
        if {'keepalive', 'deadtime'} <= set(ms) and not ms['deadtime'] > 2 * ms['keepalive']:
            host_input.error('timer-order', 'heartbeat_deadtime', '{variable} ({value}) must be more than twice '
                             'heartbeat_keepalive (%s), or one late heartbeat makes the peer look dead.' % v['heartbeat_keepalive'])
        if {'deadtime', 'initdead'} <= set(ms) and ms['initdead'] < ms['deadtime']:
            host_input.error('timer-order', 'heartbeat_initdead', '{variable} ({value}) must not be lower than '
                             'heartbeat_deadtime (%s); heartbeat recommends at least twice deadtime.' % v['heartbeat_deadtime'])
        if {'keepalive', 'warntime', 'deadtime'} <= set(ms) and not ms['keepalive'] < ms['warntime'] < ms['deadtime']:
            host_input.error('timer-order', 'heartbeat_warntime', '{variable} ({value}) must lie between heartbeat_keepalive '
                             '(%s) and heartbeat_deadtime (%s).' % (v['heartbeat_keepalive'], v['heartbeat_deadtime']))
