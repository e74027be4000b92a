# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one place that turns what instruments recorded into the figures users read.

Inputs are records, never live readings: when each node's kernel gained or lost the VIP (watchers: the drill's
vip_watch module, or the test bed's own `ip monitor address`), when the fault was injected and undone (the holder's
clock), and what a client saw (outages: the drill's site_poll, or the answers of an independent HTTP tool such as
hey, its unanswered requests found by worker_requests() and the outages by outages_from_requests()). The
drill_report filter, the test bed's fault harness (testbed/faults.py) and the benchmarks (benchmarks/run.py) all call
vip_figures() and client_figures(); none computes a figure of its own.

Definitions (seconds; None when the event did not happen or its record is lost):
  failover      from the fault to the first moment the peer's kernel had the VIP
  released      from the fault to the first moment the holder's kernel dropped it
  vip_back      from the fault to the first moment any node had it again after it was dropped
  failback      from the undo to the moment the preferred node alone held it again (auto_failback)
  two_holders   how long both kernels had it at once: in all (total) and the longest stretch (longest)
  one_holder    from the undo to the moment from which exactly one kernel had it for ONE_HOLDER_SETTLE seconds (0.0:
                one had it at the undo and kept it so): after a thaw or a heal, how long until one node holds it.
                A later moment of two holders (heartbeat re-acquiring the VIP while it restarts after a partition)
                is the two holders' figure and the failback's, not this one
  site_back     from the fault to the end of the last outage that began during the fault (0.0: none did)
  longest_gap   the longest time between two answers (over the whole record, during the fault, after the undo)
  failed        failed requests (during the fault, after the undo)

Pure Python and the standard library (Python 3.8 and later).
"""

from __future__ import annotations

from typing import NamedTuple

# An outage that began this long before the fault is the fault's (the clocks of the holder and the client differ
# by scheduling, not by more).
FAULT_SLACK = 0.2
# And one that began this long before the undo is the undo's: its first failed request was in flight as the undo took
# effect (a thawed keepalived node preempting the VIP back: a request sent to the peer shortly before the thaw failed
# as the peer let the VIP go, in a CI try of 2026-12-06, and counted as the fault's second outage: site back 3.72 s
# instead of the takeover's 0.4 s). No fault of the matrix has an outage of its own begin that late.
UNDO_SLACK = 0.2
# One holder again after a thaw or a heal: exactly one node held the VIP for this long (seconds).
ONE_HOLDER_SETTLE = 1.0
# heartbeat's IPaddr, started on a node that has the VIP already, replaces its alias: a delete and an add in the same
# millisecond. That is no move of the VIP (no request can tell); a delete followed by an add within this is none.
REPLACED = 0.005


class VipFigures(NamedTuple):
    failover: float | None
    released: float | None
    vip_back: float | None
    failback: float | None
    two_holders: float | None
    two_holders_longest: float | None
    holders_at_end: tuple[str, ...]
    one_holder: float | None = None


class ClientFigures(NamedTuple):
    requests: int | None
    failed: int | None
    failed_fault: int | None
    failed_undo: int | None
    outages_fault: int
    outages_undo: int
    site_back: float | None
    longest_gap: float
    longest_gap_fault: float
    longest_gap_undo: float
    site_back_answer: float | None


def without_replacements(events):
    """A node's events [{at, holds}] (the first: the state at the start) without the VIP's replacements: a delete
    followed by an add within REPLACED seconds."""
    result = list(events[:1])
    rest = list(events[1:])
    i = 0
    while i < len(rest):
        if (i + 1 < len(rest) and not rest[i]['holds'] and rest[i + 1]['holds']
                and rest[i + 1]['at'] - rest[i]['at'] <= REPLACED):
            i += 2
            continue
        result.append(rest[i])
        i += 1
    return result


def intervals(events, until):
    """[(from, to)] during which a node held the VIP, from its events [{at, holds}] (the first: the state at the
    start); `until` closes an open interval."""
    result = []
    start = None
    for event in events:
        if event['holds'] and start is None:
            start = event['at']
        elif not event['holds'] and start is not None:
            result.append((start, event['at']))
            start = None
    if start is not None:
        result.append((start, until))
    return result


def first_change(events, holds, after):
    """The first time at or after `after` that a node's VIP came (holds=True) or went (False), or None."""
    for event in events[1:]:
        if event['holds'] == holds and event['at'] >= after:
            return event['at']
    return None


def overlaps(a, b):
    """[(from, to)] during which both lists of intervals hold."""
    result = []
    for a_from, a_to in a:
        for b_from, b_to in b:
            start, end = max(a_from, b_from), min(a_to, b_to)
            if end > start:
                result.append((start, end))
    return sorted(result)


def _last_change(events, holds, after):
    """The last time after `after` that the VIP came (holds=True) or went (False), or None."""
    moments = [event['at'] for event in events[1:] if event['holds'] == holds and event['at'] >= after]
    return moments[-1] if moments else None


def _alone_again(preferred, other, after, watcher_restarted=False):
    """Seconds from `after` until the preferred node alone held the VIP for good (to the end of the records), or None.
    A preferred node whose watcher started after `after` (a reboot) tells nothing: the other's release counts alone."""
    if other and other[-1]['holds']:
        return None
    if not watcher_restarted and preferred and not preferred[-1]['holds']:
        return None
    left = _last_change(other, False, after)
    came = None if watcher_restarted else _last_change(preferred, True, after)
    moments = [m for m in (left, came) if m is not None]
    return max(moments) - after if moments else None


def _round(value, digits=2):
    return None if value is None else round(value, digits)


def vip_figures(events, ends, holder, preferred, fault_at, restored_at=None, auto_failback=True):
    """VipFigures of one fault on a pair.

    events: {host: [{at, holds}] or None (a watcher that did not come back, such as a rebooted node's)}, exactly two
      hosts; ends: {host: when its watcher stopped, or None}; holder: the host that held the VIP at the fault;
    preferred: the preferred host; fault_at, restored_at: the fault and its undo (None: nothing was undone).
    """
    hosts = list(events)
    if len(hosts) != 2 or holder not in hosts:
        raise ValueError('expected the events of the two nodes of the pair, the holder among them')
    peer = hosts[1] if hosts[0] == holder else hosts[0]
    known = dict((host, without_replacements(events[host] or [])) for host in hosts)
    end = max([e for e in ends.values() if e is not None] or [fault_at])
    taken = first_change(known[peer], True, fault_at)
    released = first_change(known[holder], False, fault_at)
    regained = first_change(known[holder], True, released) if released is not None else None
    back = min([m for m in (taken, regained) if m is not None] or [None]) if (taken or regained) else None
    failback = None
    if auto_failback and restored_at is not None and taken is not None:
        other = hosts[1] if hosts[0] == preferred else hosts[0]
        failback = _alone_again(known[preferred], known[other], restored_at,
                                watcher_restarted=preferred == holder and bool(known[holder])
                                and known[holder][0]['at'] > restored_at)
    held = dict((host, intervals(known[host], ends.get(host) or end)) for host in hosts)
    both = overlaps(held[hosts[0]], held[hosts[1]]) if all(events[h] for h in hosts) else None
    at_end = tuple(host for host in hosts if held[host] and held[host][-1][1] >= (ends.get(host) or end))
    return VipFigures(
        failover=_round(None if taken is None else taken - fault_at),
        released=_round(None if released is None else released - fault_at),
        vip_back=_round(None if back is None else back - fault_at),
        failback=_round(failback),
        two_holders=_round(None if both is None else sum((e - s for s, e in both), 0.0)),
        two_holders_longest=_round(None if both is None else max([e - s for s, e in both] or [0.0])),
        holders_at_end=at_end,
        one_holder=_round(None if both is None else _one_holder(held, restored_at, end)))


def _one_holder(held, restored_at, end, settle=None):
    """Seconds from `restored_at` to the first moment after it from which exactly one node held the VIP for `settle`
    seconds (ONE_HOLDER_SETTLE; or to the end of the record), from each node's intervals; None without an undo."""
    if restored_at is None:
        return None
    settle = ONE_HOLDER_SETTLE if settle is None else settle
    moments = sorted({restored_at, end} | {m for spans in held.values() for span in spans for m in span
                                           if restored_at < m < end})
    since = None
    for start, stop in zip(moments, moments[1:]):
        count = sum(1 for spans in held.values() if any(a <= start and stop <= b for a, b in spans))
        if count == 1:
            since = start if since is None else since
            if stop - since >= settle:
                break
        else:
            since = None
    return None if since is None else since - restored_at


def worker_requests(answers, started, stopped, interval, timeout):
    """Every request of one client worker that logs only its answered requests (an HTTP tool's per-request log, such
    as hey's CSV, which leaves out the requests that got no answer): [(sent_at, answered_at or None, ok)].

    answers: [(sent_at, answered_at, ok)], ok false for an answer that is not a success (HTTP 503); the worker sent a
    request every `interval` seconds from `started` (the first one interval after it), or at once when the last took
    longer, and gave each `timeout` seconds. A request that got no answer leaves a hole in that schedule: the next
    request comes later than max(last sent + interval, last answered) by more than half an interval. Each hole is filled
    with the requests that should have been sent in it, unanswered. Requests due in the last `timeout` seconds before
    the record `stopped` may still have been under way: none is made up there.
    """
    result = []
    expected = started + interval
    for sent, done, ok in sorted(answers):
        while sent - expected > 0.5 * interval:
            result.append((expected, None, False))
            expected += max(interval, timeout)
        result.append((sent, done, ok))
        expected = max(sent + interval, done)
    while expected < stopped - timeout - 0.5 * interval:
        result.append((expected, None, False))
        expected += max(interval, timeout)
    return result


def outages_from_requests(requests, started):
    """Outages [{from, first_failure, to, answer_seconds, failed}] of a client from all its requests
    [(sent_at, answered_at or None, ok)] (several workers' merged: worker_requests()).

    An outage is a run of failed requests (no answer, or not a success) in the order they were sent: it lasts from the
    last good answer before its first failure (`from`; `started` when there was none) to the first good answer of a
    request sent after that failure (`to`; None when none came). `failed` counts the run's requests. A slow answer is
    no outage.
    """
    outages = []
    current = None
    last_good = started
    for sent, done, ok in sorted(requests, key=lambda request: request[0]):
        if not ok:
            if current is None:
                current = {'from': last_good, 'first_failure': sent, 'to': None, 'answer_seconds': None, 'failed': 0}
            current['failed'] += 1
            continue
        if current is not None:
            current['to'] = done
            current['answer_seconds'] = round(done - sent, 3)
            outages.append(current)
            current = None
        last_good = max(last_good, done)
    if current is not None:
        outages.append(current)
    return outages


def missed_requests(outage, interval, stopped):
    """The requests a client missed in an outage: its own count (`failed`) when it has one, else the answers that did
    not come to a client asking every `interval` seconds."""
    if 'failed' in outage:
        return outage['failed']
    end = outage['to'] if outage['to'] is not None else stopped
    return max(1, int(round((end - outage['from']) / interval)) - 1)


def client_figures(outages, fault_at, restored_at=None, started=None, stopped=None, requests=None, failed=None,
                   interval=None):
    """ClientFigures of one fault from a client's outages (see outages_from_requests for their form).

    requests, failed: the client's own counts over the whole record, when it has them (the drill's client); else
    (interval given) the failed requests are the outages' own counts (`failed`), or the missed answers at that
    interval.
    """
    undo = restored_at - UNDO_SLACK if restored_at is not None else float('inf')
    during = [o for o in outages if fault_at - FAULT_SLACK <= o['first_failure'] < undo]
    after = [o for o in outages if o['first_failure'] >= undo]
    if not during:
        site_back = 0.0
    elif any(o['to'] is None for o in during):
        site_back = None
    else:
        site_back = max(o['to'] for o in during) - fault_at
    end = stopped if stopped is not None else max([o['to'] or o['from'] for o in outages] or [fault_at])

    def gap(outage):
        return (outage['to'] if outage['to'] is not None else end) - outage['from']

    def lost(group):
        if interval is None:
            return None
        return sum(missed_requests(o, interval, end) for o in group)

    if failed is None and interval is not None:
        failed = lost(outages)
    return ClientFigures(
        requests=requests, failed=failed, failed_fault=lost(during), failed_undo=lost(after),
        outages_fault=len(during), outages_undo=len(after), site_back=_round(site_back),
        longest_gap=_round(max([gap(o) for o in outages] or [0.0])),
        longest_gap_fault=_round(max([gap(o) for o in during] or [0.0])),
        longest_gap_undo=_round(max([gap(o) for o in after] or [0.0])),
        site_back_answer=during[-1].get('answer_seconds') if during else None)


def as_dict(figures):
    """A figures record as a plain dict."""
    return dict(figures._asdict())


__all__ = ['VipFigures', 'ClientFigures', 'intervals', 'first_change', 'overlaps', 'vip_figures', 'client_figures',
           'worker_requests', 'outages_from_requests', 'missed_requests', 'as_dict']
