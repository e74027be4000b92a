# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The time bounds the design promises, from an engine's Timers and the monitor's settings.

Symbols (seconds), from the engine's Timers: A advert (Timers.advert), D detect (Timers.detect), S startup
(Timers.startup), H the engine's hand-over budget (Timers.handover); I, T, F, R, Fd, Hd the monitor's interval,
timeout, fails, rises, failback delay and holddown; M the drill's margin.

- The monitor hands the VIP over after F failed checks in a row (a hung Apache makes each last T), one more check
  to decide, a look at the peer (T), then the hand-over: monitor_window = (F + 1) * max(I, T) + T + H.
- It takes the VIP back once healthy R checks in a row, after max(Fd, Hd), a look at the peer, the hand-over and 2 s
  of the engine's own state changes: monitor_failback = (R + 1) * I + max(Fd, Hd) + T + H + 2.

drill_bounds() is what the failover drill asserts on a real pair for each fault method, with the margin M for the
unknowns of real servers. The test bed asserts tighter bounds of its own (testbed/bounds.py), from the same
definitions and the benchmark's measurements.

Pure Python and the standard library (Python 3.8 and later).
"""

from __future__ import annotations

# How long both nodes may hold the VIP at once in a drill: a hand-over's own overlap is well under a second.
TWO_HOLDERS_SECONDS = 2.0


def monitor_window(interval, timeout, fails, handover):
    """Seconds from the monitor's first failed check to the VIP answering on the peer."""
    return (fails + 1) * max(interval, timeout) + timeout + handover


def monitor_failback(interval, timeout, rises, failback_delay, holddown, handover):
    """Seconds from the preferred node being healthy again to the VIP back on it."""
    return (rises + 1) * interval + max(failback_delay, holddown) + timeout + handover + 2.0


def monitor_settings(values):
    """(I, T, F, R, Fd, Hd) from the typed monitor variables (hapair_input)."""
    return (float(values['hapair_monitor_interval']), float(values['hapair_monitor_timeout']),
            int(values['hapair_monitor_fails']), int(values['hapair_monitor_rises']),
            float(values['hapair_monitor_failback_delay']), float(values['hapair_monitor_holddown']))


def drill_bounds(moved_by, timers, monitor, margin, auto_failback=True):
    """{failover_seconds, failback_seconds, vip_back_seconds, two_holders_seconds, takeover} for a fault method.

    moved_by: the FaultMethod's ('handover', 'monitor', 'release', 'detection'); timers: the pair's timers (a dict
    with advert, detect, startup, handover); monitor: monitor_settings(); margin: M.
    handover (stop, reboot) and detection: failover D + M, failback S + M. monitor (apache): failover monitor_window + M,
    failback monitor_failback + M. release (kill): no takeover asked; the VIP back on a node within D + M; if the
    peer took it, failback from the engine running again within S + M (drill_verdict asks it only then).
    """
    detect, startup, handover = float(timers['detect']), float(timers['startup']), float(timers['handover'])
    interval, timeout, fails, rises, failback_delay, holddown = monitor
    bounds = {'two_holders_seconds': TWO_HOLDERS_SECONDS, 'takeover': moved_by != 'release', 'vip_back_seconds': None}
    if moved_by in ('handover', 'detection'):
        bounds.update(failover_seconds=detect + margin, failback_seconds=startup + margin)
    elif moved_by == 'monitor':
        bounds.update(failover_seconds=monitor_window(interval, timeout, fails, handover) + margin,
                      failback_seconds=monitor_failback(interval, timeout, rises, failback_delay, holddown, handover)
                      + margin)
    elif moved_by == 'release':
        bounds.update(failover_seconds=None, failback_seconds=startup + margin, vip_back_seconds=detect + margin)
    else:
        raise ValueError('unknown kind of fault %r' % moved_by)
    if not auto_failback:
        bounds['failback_seconds'] = None
    return dict((key, round(value, 2) if isinstance(value, float) else value) for key, value in bounds.items())
