# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The drill_report filter: a failover drill's figures for one pair, from what the nodes and the client recorded."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.hapair.loadbalancer.plugins.module_utils.drill import first_change, intervals, overlap
from ansible_collections.hapair.loadbalancer.plugins.module_utils.grammar import heartbeat_time

CLOCKS = ('Every time is taken where the event happens: the fault and the return on the holder\'s clock, the VIP '
          'coming and going on each node\'s own clock (its kernel, read every %s s by hapair.loadbalancer.vip_watch), '
          'the client\'s figures on the clock of %s. Failover and failback subtract a time of one node from a time of '
          'the other, so they are as exact as the nodes\' clocks agree; ntp_synchronized says whether each node\'s '
          'clock is synchronized. The client\'s longest gap and failed requests need one clock only.')


def _round(value, digits=2):
    return None if value is None else round(value, digits)


def drill_report(pair, watches, fault, restore, client=None, bounds=None, auto_failback=True, client_from='localhost',
                 watch_interval=0.02):
    """One pair's drill figures.

    pair: hapair_pair of the pair (nodes with host and name; preferred_host).
    watches: {host: vip_watch result, or None when its watcher did not come back (a reboot ends it)}.
    fault: {host (the holder), method, at (holder's clock)}; restore: {at (holder's clock)}.
    client: site_poll result from the client, or None. bounds: {failover_seconds, failback_seconds}.
    """
    try:
        nodes = {node['host']: node for node in pair['nodes']}
        holder = fault['host']
        fault_at = float(fault['at'])
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError('drill_report: pair and fault must name the nodes and the holder: %s' % exc)
    if holder not in nodes or len(nodes) != 2:
        raise AnsibleFilterError('drill_report: the holder %r is not a node of the pair' % holder)
    taker = next(host for host in nodes if host != holder)
    restored_at = None if restore is None or restore.get('at') is None else float(restore['at'])
    # A watcher that did not come back (a reboot ended it) has no events.
    watches = {host: (watches.get(host) if (watches.get(host) or {}).get('events') else None) for host in nodes}
    events = {host: (watches.get(host) or {}).get('events') or [] for host in nodes}
    ends = {host: (watches.get(host) or {}).get('stopped_at') for host in nodes}

    taken = first_change(events[taker], True, fault_at)
    released = first_change(events[holder], False, fault_at)
    # The VIP back on any node after the fault: the peer's takeover, or the holder's own return (heartbeat killed
    # and restarted before the peer's deadtime).
    regained_by_holder = first_change(events[holder], True, released) if released is not None else None
    back = min([moment for moment in (taken, regained_by_holder) if moment is not None] or [None]) \
        if taken is not None or regained_by_holder is not None else None
    failback = None
    preferred = pair.get('preferred_host', holder)
    if auto_failback and restored_at is not None and taken is not None:
        other = next(host for host in nodes if host != preferred)
        left = first_change(events[other], False, restored_at)
        regained = first_change(events[preferred], True, restored_at) if events[preferred] else None
        if preferred == holder and events[holder] and events[holder][0]['at'] > restored_at:
            # A watcher started after the return (a rebooted holder): only the peer's release tells the time.
            regained = None
        moments = [moment for moment in (left, regained) if moment is not None]
        failback = max(moments) - restored_at if moments else None

    end = max([e for e in ends.values() if e is not None] or [fault_at])
    held = {host: intervals(events[host], ends[host] or end) for host in nodes}
    both = overlap(held[holder], held[taker]) if all(events.values()) else None

    report = {
        'pair': pair['name'],
        'vip': pair['vip'],
        'method': fault.get('method'),
        'holder_before': nodes[holder]['name'],
        'took_over': nodes[taker]['name'] if taken is not None else None,
        'fault_at': fault_at,
        'restored_at': restored_at,
        'failover_seconds': _round(None if taken is None else taken - fault_at),
        'released_seconds': _round(None if released is None else released - fault_at),
        'vip_back_seconds': _round(None if back is None else back - fault_at),
        'failback_seconds': _round(failback),
        'two_holders_seconds': _round(both),
        'watchers': {nodes[host]['name']: {'lost': watches.get(host) is None,
                                           'ntp_synchronized': (watches.get(host) or {}).get('ntp_synchronized')}
                     for host in nodes},
        'bounds': dict(bounds or {}),
        'clocks': CLOCKS % (watch_interval, client_from),
    }
    if client:
        outages = client.get('outages') or []
        during = [o for o in outages if o.get('first_failure', o.get('from', 0)) >= fault_at - 1
                  and (restored_at is None or o.get('first_failure', 0) < restored_at)]
        after = [o for o in outages if restored_at is not None and o.get('first_failure', 0) >= restored_at]
        back = during[0]['to'] if during else None
        report['client'] = {
            'from': client_from,
            'url': client.get('url'),
            'interval_seconds': client.get('interval'),
            'requests': client.get('requests'),
            'failed_requests': client.get('failed_requests'),
            'longest_gap_seconds': client.get('longest_gap_seconds'),
            # From the fault to the first answer after it (0 when no request failed).
            'site_back_seconds': 0.0 if not during else _round(None if back is None else back - fault_at),
            # The client's resolution: a request in flight when the site came back had to time out first, and the
            # answer itself took this long.
            'timeout_seconds': client.get('timeout'),
            'site_back_answer_seconds': during[0].get('answer_seconds') if during else None,
            'failed_during_failback': bool(after),
            'answers': client.get('answers'),
        }
    else:
        report['client'] = None
    return report


def drill_verdict(report):
    """[problems] of a drill report against its bounds; empty when every bound held."""
    problems = []
    bounds = report.get('bounds') or {}
    if bounds.get('takeover', True):
        if report.get('failover_seconds') is None:
            problems.append('the peer never took the VIP over')
        elif bounds.get('failover_seconds') is not None and report['failover_seconds'] > bounds['failover_seconds']:
            problems.append('failover took %s s (bound %s s)' % (report['failover_seconds'], bounds['failover_seconds']))
    if bounds.get('vip_back_seconds') is not None:
        if report.get('vip_back_seconds') is None:
            problems.append('no node held the VIP again')
        elif report['vip_back_seconds'] > bounds['vip_back_seconds']:
            problems.append('the VIP was back on a node %s s after the fault (bound %s s)' % (
                report['vip_back_seconds'], bounds['vip_back_seconds']))
    if bounds.get('failback_seconds') is not None:
        if report.get('failback_seconds') is None:
            problems.append('the VIP never came back to the preferred node')
        elif report['failback_seconds'] > bounds['failback_seconds']:
            problems.append('failback took %s s (bound %s s)' % (report['failback_seconds'], bounds['failback_seconds']))
    if bounds.get('two_holders_seconds') is not None and (report.get('two_holders_seconds') or 0) > bounds['two_holders_seconds']:
        problems.append('both nodes held the VIP for %s s (bound %s s)' % (report['two_holders_seconds'], bounds['two_holders_seconds']))
    return problems


def drill_bounds(method, settings, auto_failback=True):
    """The bounds a drill asserts, in seconds, for a fault method, from the pair's typed settings (hapair_input).

    K keepalive, D deadtime, I0 initdead (heartbeat); I interval, T timeout, F fails, R rises, Fd failback_delay,
    Hd holddown (hapair-monitor); H = 2K + 1 s, the budget of a hand-over (measured 0.8 to 2.6 s); M the margin.
    stop, reboot: failover D + M, failback I0 + M. apache (the monitor): failover (F+1)·max(I,T) + T + H + M,
    failback (R+1)·I + max(Fd, Hd) + T + H + 2 + M. kill: no takeover asked; the VIP back on a node within D + M.
    Every method: both nodes hold the VIP for 2 s at most.
    """
    def seconds(name):
        return heartbeat_time(settings['heartbeat_' + name]) / 1000.0
    if method not in ('stop', 'reboot', 'apache', 'kill'):
        raise AnsibleFilterError('drill_bounds: unknown method %r' % method)
    margin = float(settings['heartbeat_failover_margin'])
    keepalive, deadtime, initdead = seconds('keepalive'), seconds('deadtime'), seconds('initdead')
    handover = 2 * keepalive + 1
    bounds = {'two_holders_seconds': 2.0, 'takeover': method != 'kill', 'vip_back_seconds': None}
    if method in ('stop', 'reboot'):
        bounds.update(failover_seconds=deadtime + margin, failback_seconds=initdead + margin)
    elif method == 'apache':
        interval, timeout = float(settings['heartbeat_monitor_interval']), float(settings['heartbeat_monitor_timeout'])
        fails, rises = int(settings['heartbeat_monitor_fails']), int(settings['heartbeat_monitor_rises'])
        wait = max(float(settings['heartbeat_monitor_failback_delay']), float(settings['heartbeat_monitor_holddown']))
        bounds.update(failover_seconds=(fails + 1) * max(interval, timeout) + timeout + handover + margin,
                      failback_seconds=(rises + 1) * interval + wait + timeout + handover + 2 + margin)
    else:
        bounds.update(failover_seconds=None, failback_seconds=None, vip_back_seconds=deadtime + margin)
    if not auto_failback:
        bounds['failback_seconds'] = None
    return {key: (round(value, 2) if isinstance(value, float) else value) for key, value in bounds.items()}


class FilterModule:
    """Drill filters."""

    def filters(self):
        return {'drill_report': drill_report, 'drill_verdict': drill_verdict, 'drill_bounds': drill_bounds}
