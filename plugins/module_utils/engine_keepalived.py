# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The keepalived engine: one VRRPv3 instance per pair, unicast between the nodes, configured by the keepalived role.

Every keepalived_* variable the engine-neutral code needs to know about is named here and nowhere else outside the
keepalived role: its timer (the advertisement interval) and its profiles, its rules, the virtual router id a pair
gets, and what the node-side monitor writes to move the VIP (a file keepalived tracks).

Why these choices (docs/design.md has the longer story):
- unicast VRRP (unicast_src_ip, unicast_peer) on the VIP's link: no multicast needed on the segment, and a lost
  public link on the holder stops its adverts reaching the peer, which takes over;
- both nodes start as BACKUP; the preferred node has the higher priority and preempts (auto_failback), or neither
  does (nopreempt, auto_failback off);
- hapair-monitor's verdict reaches keepalived through a tracked file (weight 0: a non-zero value puts the instance in
  FAULT, which releases the VIP and, on the master, sends a priority 0 advert so the backup takes over at once);
- no VRRP authentication: VRRPv3 has none, and VRRPv2's was plain text. What protects the pair is the unicast peers
  (keepalived drops adverts from other sources), the network the VIP's link is on (adverts go over it), and the
  filtering of what reaches the nodes (the README says so).

Pure Python and the standard library (Python 3.8 and later).
"""

from __future__ import annotations

import zlib

from ansible_collections.hapair.loadbalancer.plugins.module_utils import timers
from ansible_collections.hapair.loadbalancer.plugins.module_utils.engine import Engine, Timers

# The advertisement interval per profile, in milliseconds. VRRP's default is 1 s; the fast profile's is the shortest
# that held without a false failover in the benchmark's soak under full CPU load (benchmarks/RESULTS.md).
PROFILES = {'standard': 1000, 'fast': 100}
# VRRPv3 counts the interval in centiseconds (1 to 4095).
MIN_ADVERT_MS, MAX_ADVERT_MS = 10, 40950
# The priorities: the preferred node's, the other node's. A backup waits three adverts and a skew of
# (256 - priority) / 256 adverts before it takes over (RFC 5798, Master_Down_Interval).
PRIORITY_PREFERRED, PRIORITY_OTHER = 150, 100


def router_id(cluster):
    """The virtual router id a pair gets by default: from its name, 1 to 255, the same on every run."""
    return zlib.crc32(cluster.encode('utf-8')) % 255 + 1


def master_down(advert, priority=PRIORITY_OTHER):
    """Seconds a backup of `priority` waits for adverts before it takes over."""
    return 3 * advert + (256 - priority) / 256.0 * advert


def _advert_default(host_input):
    profile = host_input.values.get('hapair_timers') or 'standard'
    return timers.text(PROFILES.get(profile, PROFILES['standard']))


def _router_id_default(host_input):
    cluster = host_input.values.get('hapair_cluster')
    return router_id(cluster) if isinstance(cluster, str) and cluster else None


class Keepalived(Engine):
    """keepalived 2.x, VRRPv3, one instance per pair."""

    name = 'keepalived'
    role = 'keepalived'
    service = 'keepalived'
    process = 'keepalived'
    packages = ('keepalived',)
    secrets = ()
    per_host = ()
    renamed = {}
    timer_variables = ('keepalived_advert_int',)
    segment_variable = 'keepalived_virtual_router_id'
    # roles/keepalived/vars/main.yml: __keepalived_applied_path.
    markers = ('keepalived',)
    adverts_on_vip_link = True
    restart_seconds = 1.0   # roles/keepalived/templates/keepalived-hapair.conf.j2

    def profile(self, name):
        return {'keepalived_advert_int': timers.text(PROFILES[name])}

    def computed_defaults(self):
        return {'keepalived_advert_int': _advert_default, 'keepalived_virtual_router_id': _router_id_default}

    def timers(self, values):
        advert = timers.seconds(values['keepalived_advert_int'])
        detect = master_down(advert)
        # A hand-over (the holder's FAULT, or keepalived stopped): a priority 0 advert, then the backup takes over
        # after its skew time and announces the VIP; a second covers the gratuitous ARP and the clients' next try.
        return Timers(advert=advert, detect=detect, startup=detect, handover=advert + 1.0, overlap=advert)

    def segment_id(self, values):
        """The pair's virtual router id: two pairs on one network must not share one."""
        value = values.get('keepalived_virtual_router_id')
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def monitor_settings(self):
        return {
            'engine': self.name,
            'service': self.service,
            # The file keepalived tracks (vrrp_track_file, weight 0): 0, the node may hold the VIP; 1, it may not
            # (FAULT). hapair-monitor writes it.
            # Both in keepalived's runtime directory (its drop-in makes it, for the notify script's user).
            'track_file': '/run/hapair-keepalived/track',
            # What keepalived's notify script last wrote: MASTER, BACKUP, FAULT or STOP.
            'state_file': '/run/hapair-keepalived/state',
            'writes': ['/run/hapair-keepalived'],
            'why_root': 'it writes the file keepalived tracks (/run/hapair-keepalived/track) and takes the VIP off '
                        'after an unclean stop',
        }

    def check(self, host_input):
        v = host_input.values
        if host_input.ok('keepalived_advert_int'):
            try:
                ms = timers.parse_ms(v['keepalived_advert_int'])
            except ValueError as exc:
                host_input.error('time', 'keepalived_advert_int', '{variable} {value} is not a valid time: %s.' % exc)
            else:
                if not MIN_ADVERT_MS <= ms <= MAX_ADVERT_MS or ms % 10:
                    host_input.error('range', 'keepalived_advert_int', '{variable} {value} is not an advertisement '
                                     'interval VRRPv3 can carry: expected 10ms to 40950ms in steps of 10ms.')
                else:
                    v['keepalived_advert_int'] = timers.text(ms)
        host_input.in_range('keepalived_virtual_router_id', 1, 255)
        host_input.in_range('keepalived_preempt_delay', 0, 1000, ' seconds')
        # Unicast VRRP: the adverts go from this node's address on the VIP's interface to the peer's (the role's
        # unicast_src_ip and unicast_peer), so that interface must carry one of the node's links.
        if host_input.ok('hapair_links', 'hapair_vip_interface'):
            interfaces = [link['interface'] for link in v['hapair_links']]
            if v['hapair_vip_interface'] not in interfaces:
                host_input.error('vip-link', 'hapair_vip_interface', "{variable} {value} is the interface of no link in "
                                 "hapair_links (%s): keepalived sends its adverts from this node's address on the "
                                 "VIP's interface to the peer's. Expected the interface of one of the links, or a link "
                                 'on it.' % ', '.join(interfaces))
