# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bound of every figure of every fault of the matrix (testbed/faults.py), for any engine and timer profile.

Each bound starts from the design: a formula of the pair's timers (the engine contract's Timers) and the monitor's
settings, written next to the reason it holds. The bound the tests assert is that design value or, when it is
looser, the head room over what the benchmark measured on this machine (benchmarks/reference.json, written by
`benchmarks/run.py --reference`): 1.5 times the largest value of its runs, and at least that value plus the
instrument's resolution (one request; for a gap between answers, one lost request's with the client's spread, 0.3 s;
for the time of an event, the client's interval, 0.1 s). So a figure twice its usual value fails (tests/unit/test_fault_bounds.py
checks every bound against twice the benchmark's median), and a bound is widened only by a new benchmark run.

Symbols (seconds): A advert (heartbeat's keepalive, VRRP's advert_int), D detect (deadtime, Master_Down_Interval),
S startup (initdead), K the engine's restart delay after it died (Engine.restart_seconds: the drop-in's RestartSec),
L for an engine whose adverts use the VIP's link only (Engine.adverts_on_vip_link: keepalived) D + H, H the engine's
hand-over budget (Timers.handover), O the overlap of its hand-overs
(Timers.overlap: none for heartbeat, at most one advert for VRRP's preemption); the monitor's I interval, T timeout,
F fails; W the monitor's window (module_utils/bounds.py: (F + 1) max(I, T) + T + H), Wb its failback; q the client's
interval (0.1 s: ten hey workers in turn, testbed/faults.py); E the heal: each holder reads the other's page every
probe_interval (within probe_timeout: its links are read at once), the preferred node announces the VIP at once, the
other lets it go a release_drain later (hapair-monitor's DEFAULTS), plus one check (I) for the engines' own moves;
R, for an engine that restarts itself after a partition (heartbeat: node_engine's restarts_after_partition), the
window the monitor keeps one holder through that restart (hapair-monitor's heal_window: the pair's settle time,
S + D + 10 s); B a container's boot until its services run (10 s, measured 3 to 5).

Moves on purpose (MOVES: entering and leaving maintenance) have bounds of their own: move_bounds().

Figures (testbed/faults.py's results): site_back_s, failed_fault, failed_undo, longest_gap_s, longest_gap_undo_s,
two_holders_max_s, moved_s, back_s, one_holder_s. None as a design value means the event must not happen (nothing moves).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from typing import NamedTuple

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, '..', 'benchmarks', 'reference.json')
MONITOR = os.path.join(HERE, '..', 'roles', 'monitor', 'files', 'hapair_monitor.py')

# The client's interval, and the resolution of every time figure.
Q = 0.1
BOOT = 10.0
# How much over the benchmark's maximum a bound may be: this factor, and at least one resolution step.
HEAD_ROOM = 1.5
COUNTS = ('failed_fault', 'failed_undo')
# Gaps between two answers: the smallest there is, one lost request, spans the intervals before and after it (2 q),
# but the ten workers' requests are not evenly spaced and their answers take their time: in the 43 runs of
# benchmarks/results with exactly one request lost after the undo, its gap was 0.06 to 0.28 s, and 13 were over
# 0.2 s. So a gap's resolution is three intervals (GAP_STEP): one lost request with the client's own spread; more
# lost requests are the counts' to catch (COUNTS, one request).
GAPS = ('longest_gap_s', 'longest_gap_undo_s')
GAP_STEP = 3 * Q
# Faults whose undo is another fault's undo, the same event: engine_kill_down's undo starts the engine that its fault
# kept down, as engine_stop's starts the one it stopped (the peer holds the VIP either way, and the start takes it
# back). The reference (benchmarks/run.py --reference) bounds these figures of such a fault by both faults' runs, so
# that the few runs of the newer fault do not make a bound that the same event's many runs break (engine_kill_down's
# gap after the undo: 1.0 s once in a loaded suite run against a bound of 0.82 s from 7 runs; engine_stop's, from
# many more runs, 1.46 s).
SAME_UNDO = {'engine_kill_down': 'engine_stop'}
UNDO_FIGURES = ('failed_undo', 'longest_gap_undo_s', 'back_s', 'one_holder_s')


class Design(NamedTuple):
    figure: str
    value: float | None
    reason: str


class Bound(NamedTuple):
    """What a test asserts: figure <= value (value None: the figure is None, the event did not happen)."""
    figure: str
    value: float | None
    design: float | None
    measured_max: float | None
    measured_median: float | None
    reason: str


def monitor_program_defaults():
    """hapair-monitor's own settings (its DEFAULTS: the probes and the drain of a heal), read from the program."""
    library = os.path.join(HERE, '..', 'plugins', 'module_utils')
    if library not in sys.path:
        sys.path.append(library)   # its node library, as the monitor role installs it next to the program
    spec = importlib.util.spec_from_file_location('hapair_monitor_program', MONITOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DEFAULTS


PROGRAM = monitor_program_defaults()
import node_engine  # noqa: E402  # pylint: disable=wrong-import-position  # the node library, on the path above

# The checkout as the collection hapair.loadbalancer (as testbed/faults.py finds it).
COLLECTIONS = os.path.realpath(os.path.join(HERE, '..', 'playbooks', 'collections'))
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
from ansible_collections.hapair.loadbalancer.plugins.module_utils import engines  # noqa: E402  # pylint: disable=wrong-import-position


def symbols(timers, monitor):
    """The symbols above from a Timers record and the monitor's typed settings (hapair_monitor_*)."""
    interval = float(monitor['hapair_monitor_interval'])
    timeout = float(monitor['hapair_monitor_timeout'])
    fails = int(monitor['hapair_monitor_fails'])
    rises = int(monitor['hapair_monitor_rises'])
    failback_delay = float(monitor['hapair_monitor_failback_delay'])
    holddown = float(monitor['hapair_monitor_holddown'])
    handover = timers.handover
    window = (fails + 1) * max(interval, timeout) + timeout + handover
    failback = (rises + 1) * interval + max(failback_delay, holddown) + timeout + handover + 2.0
    return dict(A=timers.advert, D=timers.detect, S=timers.startup, H=handover, O=timers.overlap, I=interval,
                T=timeout, F=fails, W=window, Wb=failback,
                E=PROGRAM['probe_interval'] + PROGRAM['probe_timeout'] + PROGRAM['release_drain'] + interval)


def _requests(seconds):
    """The requests a client asking every Q seconds makes in `seconds`."""
    return round(seconds / Q)


def _moves(s, after, moved, site_back, why, failback=None, failback_why=''):
    """The designs of a fault that moves the VIP: to the peer within `moved`, the site back within `site_back`, two
    holders no longer than the engine's own hand-over overlap, and (when the undo brings the preferred node back) a
    graceful failback."""
    designs = [
        Design('moved_s', moved, 'the VIP on the peer: %s' % why),
        Design('site_back_s', site_back, 'the site answers through the peer: the VIP moved, plus one request (q)'),
        Design('longest_gap_s', site_back, 'the one outage is the takeover\'s'),
        Design('failed_fault', _requests(site_back), 'the requests of that outage'),
        Design('two_holders_max_s', s['O'], '%s; a hand-over overlaps by the engine\'s design only (O)' % after),
    ]
    if failback is not None:
        designs.append(Design('back_s', failback['back'], 'the VIP back on the preferred node alone: %s' % failback_why))
        designs.append(Design('longest_gap_undo_s', failback['gap'], 'the failback is a graceful hand-over (H + q)'))
        designs.append(Design('failed_undo', _requests(failback['gap']), 'the requests of that hand-over'))
    return designs


def _nothing_moves(why, site_back=0.0, site_why='no request fails'):
    return [
        Design('moved_s', None, 'nothing moves: %s' % why),
        Design('two_holders_max_s', 0.0, 'nothing moves'),
        Design('site_back_s', site_back, site_why),
        Design('failed_fault', _requests(site_back), site_why),
        Design('failed_undo', 0, 'nothing moved, nothing moves back'),
        Design('longest_gap_undo_s', 0.0, 'nothing moved, nothing moves back'),
    ]


def _heals(s, what):
    """A freeze or a split: both nodes held the VIP (the frozen one in a paused kernel; both for real in a split),
    one holder again within the heal, no second outage."""
    return [
        Design('moved_s', s['D'] + s['H'], 'the peer declares the silent holder dead after D and takes over (H)'),
        Design('two_holders_max_s', 3 + s['A'] + s['E'],
               '%s lasts D + 3 s; the peer took over D - A to D after it began; both hold it until the other node lets '
               'go after the %s (E)' % (what, 'thaw' if what == 'the freeze' else 'heal')),
        Design('longest_gap_undo_s', s['A'] + 1.0,
               'no second outage: at most one advert interval and a second (issue 20)'),
        Design('failed_undo', _requests(s['A'] + 1.0), 'the requests of at most that gap'),
        Design('one_holder_s', s['E'],
               'one holder again within the heal (E) after the %s (issue 20): the other node\'s monitor reads the '
               'preferred node\'s page within a probe, and lets go a drain after its announcement%s' % (
                   'thaw' if what == 'the freeze' else 'heal',
                   '; on an engine that restarts after a partition (heartbeat) this needs no word from the engine: it '
                   'declared the preferred node dead, so it restarts once it hears it again, whatever the monitor does'
                   if 'R' in s else '')),
        Design('back_s', s['R'], 'the preferred node alone holds it for good once the engine\'s restart after the '
                                 'partition is over: the monitor keeps one holder through it for R (heartbeat '
                                 'on the other node takes the VIP over as the preferred node\'s heartbeat restarts; '
                                 'hapair-vip declines that while the preferred node serves)')
        if 'R' in s else
        Design('back_s', s['A'] + s['E'], 'the preferred node alone holds it for good: the engine notices the other '
                                          'node within one advert (A), then the heal (E)'),
    ]


def designs(fault, s):
    """[Design] of one fault (a name of testbed/faults.py's FAULTS) from the symbols s (symbols())."""
    q = Q
    graceful_back = {'back': BOOT + s['S'] + s['H'], 'gap': s['H'] + q}
    monitor_back = {'back': s['Wb'], 'gap': s['H'] + q}
    engine_back = {'back': s['S'] + s['H'], 'gap': s['H'] + q}
    table = {
        'crash': _moves(s, 'the crashed node is gone', s['D'] + s['H'], s['D'] + s['H'] + q,
                        'the peer hears nothing for D, then takes over (H)', graceful_back,
                        'the node boots (B), its engine starts (S) and takes it back (H)'),
        'reboot': _moves(s, 'a graceful shutdown stops the engine', s['H'], s['H'] + q,
                         'the engine hands the VIP over on its way down (H)', graceful_back,
                         'the node boots (B), its engine starts (S) and takes it back (H)'),
        'freeze': _heals(s, 'the freeze') + [
            Design('site_back_s', s['D'] + s['H'] + q, 'the frozen holder answers nothing; the peer takes over after '
                                                       'D (H), plus one request'),
            Design('longest_gap_s', s['D'] + s['H'] + q, 'the one outage is the takeover\'s'),
            Design('failed_fault', _requests(s['D'] + s['H'] + q), 'the requests of that outage')],
        'split': _heals(s, 'the split') + [
            Design('site_back_s', 0.0, 'both nodes keep serving: the holder until the peer takes over, then the peer '
                                       '(its gratuitous ARP)'),
            Design('longest_gap_s', s['A'] + 1.0, 'no outage during the split; after the heal as above'),
            Design('failed_fault', 0, 'both nodes keep serving')],
        'engine_stop': _moves(s, 'a stopped engine releases the VIP', s['H'], s['H'] + q,
                              'the engine hands the VIP over as it stops (H)', engine_back,
                              'the engine starts (S) and takes it back (H)'),
        'engine_kill': [
            Design('two_holders_max_s', s['O'],
                   'the killed engine\'s node releases the VIP at once (the drop-in\'s ExecStopPost release, every '
                   'process of the engine being gone); the engine\'s hand-back overlaps by its design only (O)'),
            Design('site_back_s', s['K'] + s['D'] + s['H'] + q,
                   'the VIP is on a node again once the peer took over (it hears nothing for D) or the engine, which '
                   'systemd starts again K later (the drop-in\'s RestartSec), and the peer settled who holds it (H)'),
            Design('longest_gap_s', s['K'] + s['D'] + s['H'] + q, 'the one outage is the release\'s'),
            Design('failed_fault', _requests(s['K'] + s['D'] + s['H'] + q), 'the requests of that outage'),
            Design('failed_undo', _requests(s['H'] + q), 'at most one graceful hand-over back'),
            Design('longest_gap_undo_s', s['H'] + q, 'at most one graceful hand-over back')],
        'engine_kill_down': _moves(s, 'the killed engine\'s node released the VIP at once (the drop-in\'s ExecStopPost '
                                      'release, every process of the engine being gone)',
                                   s['D'] + s['H'], s['D'] + s['H'] + q,
                                   'the peer hears nothing for D, then takes over (H)', engine_back,
                                   'the engine starts (S) and takes it back (H)'),
        'apache_stop': _moves(s, 'the monitor hands over before anything releases', s['W'], s['W'] + q,
                              'F failed checks, one more, a look at the peer, the hand-over (W)', monitor_back,
                              'R good checks, the failback delay or hold-down, the hand-over (Wb)'),
        'apache_hang': _moves(s, 'the monitor hands over before anything releases', s['W'], s['W'] + q,
                              'F checks that time out (T each), one more, a look at the peer, the hand-over (W)',
                              monitor_back, 'R good checks, the failback delay or hold-down, the hand-over (Wb)'),
        'apache_kill': _nothing_moves('systemd restarts Apache (Restart=on-abort) long before F failed checks',
                                      s['F'] * s['I'], 'Apache is back before the monitor\'s F-th failed check'),
        'apache_stop_both': _nothing_moves('the monitor hands over only to a healthy peer', 12.0 + 3.0 + q,
                                           'Apache is down on both nodes for the fault\'s 12 s, then starts (3 s)'),
        'public_link': _moves(s, 'the monitor hands over, or the link down takes the VIP off with it',
                              min(s['W'], s['L'] or s['W']), min(s['W'], s['L'] or s['W']) + q,
                              'the ping nodes fail F checks in a row, one more, a look at the peer over the private '
                              'link, the hand-over (W); or, for an engine whose adverts use that link (keepalived), '
                              'the peer hears nothing for D and takes over (H): whichever comes first', monitor_back,
                              'R good checks, the failback delay or hold-down, the hand-over (Wb)'),
        'private_link': _nothing_moves('the engine still hears its peer on the public link'),
        'backend_down': _nothing_moves('mod_proxy_balancer sends to the other backend'),
        'backend_stop': _nothing_moves('mod_proxy_balancer sends to the other backend'),
    }
    return table[fault]


def load_reference(path=REFERENCE):
    try:
        with open(path, encoding='utf-8') as handle:
            return json.load(handle)
    except FileNotFoundError:
        return {'faults': {}}


def step(figure):
    """The instrument's resolution for a figure: one request; for a gap between answers, one lost request's with the
    client's spread (GAP_STEP); else the client's interval."""
    if figure in COUNTS:
        return 1
    return GAP_STEP if figure in GAPS else Q


def head_room(figure, measured_max):
    """The most a bound may be over the benchmark's largest value."""
    value = max(HEAD_ROOM * measured_max, measured_max + step(figure))
    return int(value) if figure in COUNTS else round(value, 2)


def _bind(design, measured):
    """The Bound of a Design: its value, or less where the benchmark's figures (measured: {figure: {max, median}})
    leave less room."""
    figures = measured.get(design.figure) or {}
    most, middle = figures.get('max'), figures.get('median')
    value = design.value
    if value is not None and most is not None:
        value = min(value, head_room(design.figure, most))
        # Twice the usual value breaks the bound wherever the runs leave room for it.
        if middle and most + step(design.figure) < 2 * middle:
            value = min(value, 2 * middle - step(design.figure))
    if value is not None and design.figure in COUNTS:
        value = int(value)
    elif value is not None:
        value = round(value, 2)
    return Bound(design.figure, value, design.value, most, middle, design.reason)


def bounds(fault, engine, profile, timers, monitor, reference=None):
    """[Bound] of one fault on a pair of `engine` with the timer `profile` (timers: its Timers; monitor: its typed
    monitor settings); the benchmark's figures from `reference` (load_reference() by default)."""
    reference = load_reference() if reference is None else reference
    measured = reference['faults'].get('%s/%s/%s' % (engine, profile, fault), {})
    s = symbols(timers, monitor)
    found = engines.get(engine)
    s['K'] = found.restart_seconds
    s['L'] = s['D'] + s['H'] if found.adverts_on_vip_link else None
    if node_engine.ADAPTERS[engine].restarts_after_partition:
        s['R'] = timers.startup + timers.detect + 10.0
    return [_bind(design, measured) for design in designs(fault, s)]


# Moves on purpose (playbooks/maintenance.yml, molecule's test_85): how long both nodes hold the VIP while it moves.
# Both are make before break, so two holders for a moment is the design; how long is bounded here.
MOVES = ('maintenance_enter', 'maintenance_leave')


def move_designs(move, s):
    """[Design] of a move on purpose (a name of MOVES) from the symbols s (symbols())."""
    table = {
        'maintenance_enter': [Design(
            'two_holders_s', PROGRAM['release_drain'] + s['H'],
            'make before break: the peer claims the VIP and announces it, the holder serves what was sent to it for a '
            'drain (release_drain), then its engine lets the VIP go within a hand-over (H)')],
        'maintenance_leave': [Design(
            'two_holders_s', s['A'] + s['H'],
            'make before break: the preferred node takes the VIP and its engine rejoins; the peer\'s engine hears it '
            'within an advert (A) and lets the VIP go within a hand-over (H)')],
    }
    return table[move]


def maintenance_moves(figures):
    """[(move, {'two_holders_s': ...})] of a maintenance test's figures (test_85's, per stretch between its marks:
    'enter', 'leave', 'loadb1 enter', ...): each stretch that entered or left maintenance and moved the VIP (entering
    on a node that did not hold it moves nothing, so it is no move)."""
    moves = []
    for stretch, values in sorted(figures.items()):
        what = stretch.split()[-1]
        if isinstance(values, dict) and what in ('enter', 'leave') and values.get('vip_gained'):
            moves.append(('maintenance_' + what, {'two_holders_s': values['two_holders_s']}))
    return moves


def move_bounds(move, engine, profile, timers, monitor, reference=None):
    """[Bound] of a move on purpose (MOVES) on a pair of `engine` with the timer `profile`; the suite's figures from
    `reference`'s moves (load_reference() by default)."""
    reference = load_reference() if reference is None else reference
    measured = reference.get('moves', {}).get('%s/%s/%s' % (engine, profile, move), {})
    return [_bind(design, measured) for design in move_designs(move, symbols(timers, monitor))]


class Broken(NamedTuple):
    """One bound a fault's figures broke. kind: 'over' (the figure is over its value), 'happened' (an event that
    must not happen did), 'missing' (an event that must happen did not), 'not_whole' (the pair was not whole at the
    end)."""
    figure: str | None
    kind: str
    message: str


def broken_bounds(result, bound_list):
    """The bounds a fault's figures break, as Broken records."""
    broken = []
    for bound in bound_list:
        value = result.get(bound.figure)
        if bound.value is None:
            if value is not None:
                broken.append(Broken(bound.figure, 'happened', '%s is %s: it must not happen (%s)' % (
                    bound.figure, value, bound.reason)))
        elif value is None:
            if bound.figure in ('moved_s', 'site_back_s', 'back_s'):
                broken.append(Broken(bound.figure, 'missing', '%s did not happen within the fault (bound %s: %s)' % (
                    bound.figure, bound.value, bound.reason)))
        elif value > bound.value:
            broken.append(Broken(bound.figure, 'over', '%s %s > %s (%s; design %s, benchmark max %s)' % (
                bound.figure, value, bound.value, bound.reason,
                None if bound.design is None else round(bound.design, 2), bound.measured_max)))
    if result.get('engine_came_back') is False:
        broken.append(Broken('engine_came_back', 'missing', 'the killed engine did not come back by itself within '
                                                            'the fault (systemd, the drop-in\'s Restart=always)'))
    if not result.get('whole_end'):
        broken.append(Broken(None, 'not_whole', 'the pair was not whole at the end: %s' % '; '.join(
            result.get('problems_end') or [])))
    return broken


def check(result, bound_list):
    """The bounds a fault's figures break: ['figure value > bound (reason)']."""
    return [item.message for item in broken_bounds(result, bound_list)]


def figures_over_only(broken):
    """Whether something broke and every broken bound (Broken records) is a figure over its value, nothing else:
    what may be measured once more (a regression breaks its bound every run; an event that must not happen, one
    missing, or a pair left broken is a failure at once)."""
    return bool(broken) and all(item.kind == 'over' for item in broken)
