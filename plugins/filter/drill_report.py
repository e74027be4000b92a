# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The drill filters: a failover drill's bounds, figures and verdict for one pair. The figures come from
module_utils/measure.py and the bounds from module_utils/bounds.py, which the test bed and the benchmarks use too."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.hapair.loadbalancer.plugins.module_utils import bounds as design
from ansible_collections.hapair.loadbalancer.plugins.module_utils import engines, measure

CLOCKS = ('Every time is taken where the event happens: the fault and the return on the holder\'s clock, the VIP '
          'coming and going on each node\'s own clock (its kernel, read every %s s by hapair.loadbalancer.vip_watch), '
          'the client\'s figures on the clock of %s. Failover and failback subtract a time of one node from a time of '
          'the other, so they are as exact as the nodes\' clocks agree; ntp_synchronized says whether each node\'s '
          'clock is synchronized. The client\'s longest gap and failed requests need one clock only.')


def drill_report(pair, watches, fault, restore, client=None, bounds=None, auto_failback=True, client_from='localhost',
                 watch_interval=0.02):
    """One pair's drill figures.

    pair: hapair_pair of the pair (nodes with host and name; preferred_host).
    watches: {host: vip_watch result, or None when its watcher did not come back (a reboot ends it)}.
    fault: {host (the holder), method, at (holder's clock)}; restore: {at (holder's clock)}.
    client: site_poll result from the client, or None. bounds: drill_bounds' result.
    """
    try:
        nodes = dict((node['host'], node) for node in pair['nodes'])
        holder = fault['host']
        fault_at = float(fault['at'])
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError('drill_report: pair and fault must name the nodes and the holder: %s' % exc) from exc
    if holder not in nodes or len(nodes) != 2:
        raise AnsibleFilterError('drill_report: the holder %r is not a node of the pair' % holder)
    taker = next(host for host in nodes if host != holder)
    restored_at = None if restore is None or restore.get('at') is None else float(restore['at'])
    # A watcher that did not come back (a reboot ended it) has no events.
    kept = dict((host, watches.get(host) if (watches.get(host) or {}).get('events') else None) for host in nodes)
    figures = measure.vip_figures(
        dict((host, (kept[host] or {}).get('events')) for host in nodes),
        dict((host, (kept[host] or {}).get('stopped_at')) for host in nodes),
        holder, pair.get('preferred_host', holder), fault_at, restored_at, auto_failback)
    report = {
        'pair': pair['name'],
        'vip': pair['vip'],
        'engine': (pair.get('engine') or {}).get('name'),
        'method': fault.get('method'),
        'holder_before': nodes[holder]['name'],
        'took_over': nodes[taker]['name'] if figures.failover is not None else None,
        'fault_at': fault_at,
        'restored_at': restored_at,
        'failover_seconds': figures.failover,
        'released_seconds': figures.released,
        'vip_back_seconds': figures.vip_back,
        'failback_seconds': figures.failback,
        'two_holders_seconds': figures.two_holders,
        'watchers': dict((nodes[host]['name'], {'lost': kept[host] is None,
                                                'ntp_synchronized': (kept[host] or {}).get('ntp_synchronized')})
                         for host in nodes),
        'bounds': dict(bounds or {}),
        'clocks': CLOCKS % (watch_interval, client_from),
        'client': None,
    }
    if client:
        seen = measure.client_figures(client.get('outages') or [], fault_at, restored_at, client.get('started_at'),
                                      client.get('stopped_at'), client.get('requests'), client.get('failed_requests'))
        report['client'] = {
            'from': client_from,
            'url': client.get('url'),
            'interval_seconds': client.get('interval'),
            'requests': seen.requests,
            'failed_requests': seen.failed,
            'longest_gap_seconds': seen.longest_gap,
            # From the fault to the first answer after the outages it caused (0 when no request failed).
            'site_back_seconds': seen.site_back,
            # The client's resolution: a request in flight when the site came back had to time out first, and the
            # answer itself took this long.
            'timeout_seconds': client.get('timeout'),
            'site_back_answer_seconds': seen.site_back_answer,
            'failed_during_failback': seen.outages_undo > 0,
            'answers': client.get('answers'),
        }
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
    # Without a takeover asked (kill) the VIP may never have left the holder: a failback only follows a takeover.
    moved = bounds.get('takeover', True) or report.get('failover_seconds') is not None
    if bounds.get('failback_seconds') is not None and moved:
        if report.get('failback_seconds') is None:
            problems.append('the VIP never came back to the preferred node')
        elif report['failback_seconds'] > bounds['failback_seconds']:
            problems.append('failback took %s s (bound %s s)' % (report['failback_seconds'], bounds['failback_seconds']))
    if bounds.get('two_holders_seconds') is not None and (report.get('two_holders_seconds') or 0) > bounds['two_holders_seconds']:
        problems.append('both nodes held the VIP for %s s (bound %s s)' % (report['two_holders_seconds'], bounds['two_holders_seconds']))
    return problems


def drill_summary(report):
    """One sentence per pair for the drill's output."""
    bounds = report.get('bounds') or {}
    if report.get('took_over') is not None:
        text = 'VIP %s went from %s to %s %s s after the fault%s' % (
            report['vip'], report['holder_before'], report['took_over'], report['failover_seconds'],
            ' (bound %s s)' % bounds['failover_seconds'] if bounds.get('failover_seconds') is not None else '')
    else:
        text = 'VIP %s left %s %s s after the fault and was on a node again after %s s (bound %s s)' % (
            report['vip'], report['holder_before'], report.get('released_seconds'), report.get('vip_back_seconds'),
            bounds.get('vip_back_seconds'))
    if report.get('failback_seconds') is not None:
        text += ' and came back %s s after the return (bound %s s)' % (
            report['failback_seconds'], bounds.get('failback_seconds'))
    if report.get('two_holders_seconds') is None:
        text += '; a watcher did not come back (reboot), so whether both nodes held it is unknown'
    else:
        text += '; both nodes held it %s s' % report['two_holders_seconds']
    text += '; now on %s.' % report.get('holder_after')
    client = report.get('client')
    if client:
        figures = (client['from'], client['interval_seconds'], client['site_back_seconds'], client['failed_requests'],
                   client['requests'], client['longest_gap_seconds'])
        text += (' The client (%s, every %s s) got an answer again %s s after the fault; %s of %s requests failed, '
                 'the longest gap was %s s.' % figures)
    return "Pair '%s' (%s, %s): %s" % (report['pair'], report.get('engine'), report.get('method'), text)


def drill_bounds(method, pair, settings):
    """The bounds a drill asserts, in seconds, for a fault method of the pair's engine, from the pair (its timers,
    engine and auto_failback: hapair_pair) and the typed settings (the monitor's and the drill's margin:
    hapair_input). See module_utils/bounds.py for the formulas."""
    try:
        engine = engines.get(pair['engine']['name'])
        kind = engine.fault_methods[method].moved_by
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError('drill_bounds: unknown method %r for the pair\'s engine' % (method,)) from exc
    try:
        return design.drill_bounds(kind, pair['timers'], design.monitor_settings(settings),
                                   float(settings['hapair_drill_margin']), bool(pair.get('auto_failback', True)))
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError('drill_bounds: the pair or the settings lack %s' % exc) from exc


class FilterModule:
    """Drill filters."""

    def filters(self):
        return {'drill_report': drill_report, 'drill_verdict': drill_verdict, 'drill_bounds': drill_bounds,
                'drill_summary': drill_summary}
