# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fault matrix's bounds (testbed/bounds.py) against the benchmark (benchmarks/reference.json).

For every fault of testbed/faults.py on both engines with the standard timers, and every fault of the fast profile
(faults.PROFILE_FAULTS) with the fast timers: every figure has a design bound with a
reason; the benchmark measured every one of them on this machine; the product kept to its design in every run of the
benchmark (no maximum above the design); the bound the tests assert is at most 1.5 times the benchmark's largest
value (or that value plus one resolution step); and a regression of 2x fails the matrix: twice the benchmark's
largest value breaks every bound, and twice its median does wherever the runs spread little.
"""

from __future__ import annotations

import glob
import json
import os
import sys

import pytest

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'testbed'))
# pylint: disable=wrong-import-position
from ansible_collections.hapair.loadbalancer.plugins.module_utils import engines  # noqa: E402

import bounds  # noqa: E402  # testbed/bounds.py
import faults  # noqa: E402  # testbed/faults.py

REFERENCE = bounds.load_reference()
MONITOR = faults.monitor_defaults()
FIGURES = {'site_back_s', 'failed_fault', 'failed_undo', 'longest_gap_undo_s', 'two_holders_max_s', 'moved_s'}
# A killed engine may be back before its peer's detection time (heartbeat restarts in 2 s, deadtime is 10 s): whether
# the VIP moves is not the design's, site_back_s bounds what the client sees either way.
NOT_DESIGNED = {'engine_kill': {'moved_s'}}
CASES = [(engine, profile, fault) for engine in sorted(engines.ENGINES) for profile, names in faults.PROFILE_FAULTS.items()
         for fault in names]


def _bounds(engine, profile, fault, reference=None):
    found = engines.get(engine)
    timers = found.timers(dict(found.profile(profile)))
    return bounds.bounds(fault, engine, profile, timers, MONITOR, REFERENCE if reference is None else reference)


@pytest.mark.parametrize('engine, profile, fault', CASES)
def test_every_figure_has_a_design_and_a_reason(engine, profile, fault):
    found = _bounds(engine, profile, fault, {'faults': {}})
    assert FIGURES - NOT_DESIGNED.get(fault, set()) <= set(bound.figure for bound in found), found
    for bound in found:
        assert bound.reason and (bound.design is None or bound.design >= 0), bound


@pytest.mark.parametrize('engine, profile, fault', CASES)
def test_the_benchmark_measured_it_and_the_product_kept_to_its_design(engine, profile, fault):
    measured = REFERENCE['faults'].get('%s/%s/%s' % (engine, profile, fault))
    assert measured, 'benchmarks/reference.json has no runs of %s/%s/%s: run benchmarks/run.sh --only faults' % (
        engine, profile, fault)
    assert measured['runs'] >= 5 and measured['whole_end'] == measured['runs'], measured
    for bound in _bounds(engine, profile, fault):
        if bound.design is None:
            assert measured[bound.figure]['max'] is None, (bound, measured[bound.figure])
        elif bound.measured_max is not None:
            assert bound.measured_max <= bound.design, bound


@pytest.mark.parametrize('engine, profile, fault', CASES)
def test_a_bound_is_within_the_head_room_and_a_2x_regression_breaks_it(engine, profile, fault):
    for bound in _bounds(engine, profile, fault):
        if bound.value is None or bound.measured_max is None:
            continue
        assert bound.value <= bounds.head_room(bound.figure, bound.measured_max), bound
        assert bound.value >= bound.measured_max, bound
        # A 2x regression - every run twice as long - breaks the bound in the runs that were the benchmark's
        # largest (unless the bound is one resolution step over a largest value of about nothing); and in a run that
        # is twice the median, the usual one, wherever the benchmark's runs leave room for that (its largest value
        # and a step below twice the median).
        resolution = bounds.step(bound.figure)
        assert 2 * bound.measured_max > bound.value or bound.value <= bound.measured_max + resolution, bound
        if bound.measured_median and bound.measured_max + resolution < 2 * bound.measured_median:
            assert 2 * bound.measured_median > bound.value, bound


def test_head_room():
    assert bounds.head_room('site_back_s', 10.0) == 15.0
    assert bounds.head_room('site_back_s', 0.1) == 0.2
    # A gap between answers is one lost request's at least, with the client's spread (GAP_STEP): its step.
    assert bounds.head_room('longest_gap_undo_s', 0.0) == 0.3
    assert bounds.head_room('longest_gap_undo_s', 0.5) == 0.8
    assert bounds.head_room('longest_gap_undo_s', 1.0) == 1.5
    assert bounds.head_room('failed_fault', 0) == 1
    assert bounds.head_room('failed_fault', 20) == 30


def test_a_gap_s_resolution_is_what_one_lost_request_left_in_every_run_measured():
    """GAP_STEP from the runs: every run of benchmarks/results that lost exactly one request after the undo left a gap
    within it, and one lost request's gap is more than two intervals in some (the client's spread), so two
    intervals would not do."""
    gaps = []
    for path in glob.glob(os.path.join(ROOT, 'benchmarks', 'results', '*.json')):
        with open(path, encoding='utf-8') as handle:
            results = json.load(handle)
        for key, faults_of in results.items():
            if key.startswith('faults_') and isinstance(faults_of, dict):
                gaps += [run['longest_gap_undo_s'] for runs in faults_of.values() for run in runs.get('runs', [])
                         if run.get('failed_undo') == 1 and run.get('longest_gap_undo_s') is not None]
    assert len(gaps) >= 40 and max(gaps) <= bounds.GAP_STEP
    assert max(gaps) > 2 * bounds.Q


def test_check_names_the_broken_bound_and_its_reason():
    found = _bounds('heartbeat', 'standard', 'engine_stop', {'faults': {}})
    result = {'moved_s': 1.0, 'site_back_s': 99.0, 'longest_gap_s': 1.0, 'failed_fault': 3, 'two_holders_max_s': 0.0,
              'back_s': 3.0, 'longest_gap_undo_s': 0.0, 'failed_undo': 0, 'whole_end': True}
    broken = bounds.check(result, found)
    assert len(broken) == 1 and broken[0].startswith('site_back_s 99.0 > 5.1 (the site answers through the peer')
    assert bounds.check(dict(result, site_back_s=1.0, whole_end=False, problems_end=['x']), found) == [
        'the pair was not whole at the end: x']
    assert bounds.check(dict(result, site_back_s=1.0, moved_s=None), found)[0].startswith('moved_s did not happen')


def test_only_figures_over_their_bounds_may_be_measured_again():
    found = _bounds('heartbeat', 'standard', 'engine_stop', {'faults': {}})
    result = {'moved_s': 1.0, 'site_back_s': 1.0, 'longest_gap_s': 1.0, 'failed_fault': 3, 'two_holders_max_s': 0.0,
              'back_s': 3.0, 'longest_gap_undo_s': 0.0, 'failed_undo': 0, 'whole_end': True}
    assert bounds.broken_bounds(result, found) == [] and not bounds.figures_over_only([])
    over = bounds.broken_bounds(dict(result, site_back_s=99.0), found)
    assert [(item.figure, item.kind) for item in over] == [('site_back_s', 'over')]
    assert over[0].message == bounds.check(dict(result, site_back_s=99.0), found)[0]
    assert bounds.figures_over_only(over)
    # A figure over its bound with anything else broken is a failure at once.
    cases = [
        (dict(result, site_back_s=99.0, moved_s=None), [('site_back_s', 'over'), ('moved_s', 'missing')]),
        (dict(result, site_back_s=99.0, whole_end=False, problems_end=['x']),
         [('site_back_s', 'over'), (None, 'not_whole')]),
    ]
    for figures, kinds in cases:
        broken = bounds.broken_bounds(figures, found)
        assert sorted(((item.figure or ''), item.kind) for item in broken) == sorted(
            ((figure or ''), kind) for figure, kind in kinds)
        assert not bounds.figures_over_only(broken)
    nothing_moves = _bounds('heartbeat', 'standard', 'apache_stop_both', {'faults': {}})
    happened = [item for item in bounds.broken_bounds({'moved_s': 2.0, 'whole_end': True}, nothing_moves)
                if item.figure == 'moved_s']
    assert [(item.figure, item.kind) for item in happened] == [('moved_s', 'happened')]
    assert not bounds.figures_over_only(happened)


def test_a_killed_engine_that_did_not_come_back_by_itself_fails_at_once():
    found = _bounds('keepalived', 'fast', 'engine_kill', {'faults': {}})
    result = {'site_back_s': 0.3, 'longest_gap_s': 0.3, 'failed_fault': 2, 'two_holders_max_s': 0.0,
              'longest_gap_undo_s': 0.0, 'failed_undo': 0, 'whole_end': True, 'engine_came_back': True}
    assert bounds.broken_bounds(result, found) == []
    broken = bounds.broken_bounds(dict(result, engine_came_back=False), found)
    assert [(item.figure, item.kind) for item in broken] == [('engine_came_back', 'missing')]
    assert not bounds.figures_over_only(broken)


# Moves on purpose (entering and leaving maintenance): measured by the suite's lane C, heartbeat with the standard
# timers (the operations scenario's pair); every engine and profile has a design.
MOVES_MEASURED = [('heartbeat', 'standard', move) for move in bounds.MOVES]


def _move_bounds(engine, profile, move, reference=None):
    found = engines.get(engine)
    timers = found.timers(dict(found.profile(profile)))
    return bounds.move_bounds(move, engine, profile, timers, MONITOR, REFERENCE if reference is None else reference)


@pytest.mark.parametrize('engine', sorted(engines.ENGINES))
@pytest.mark.parametrize('profile', sorted(faults.PROFILE_FAULTS))
@pytest.mark.parametrize('move', bounds.MOVES)
def test_every_move_has_a_design_and_a_reason(engine, profile, move):
    found = _move_bounds(engine, profile, move, {'faults': {}})
    assert [bound.figure for bound in found] == ['two_holders_s']
    assert found[0].reason.startswith('make before break') and found[0].design > 0 and found[0].value == round(
        found[0].design, 2), found


@pytest.mark.parametrize('engine, profile, move', MOVES_MEASURED)
def test_a_move_was_measured_within_its_design_and_its_bound_binds(engine, profile, move):
    measured = REFERENCE['moves'].get('%s/%s/%s' % (engine, profile, move))
    assert measured and measured['runs'] >= 5, measured
    for bound in _move_bounds(engine, profile, move):
        assert bound.measured_max is not None and bound.measured_max <= bound.design, bound
        assert bound.measured_max <= bound.value <= bounds.head_room(bound.figure, bound.measured_max), bound
        # A 2x regression breaks it: in the largest runs, and in the usual one wherever the runs spread little.
        resolution = bounds.step(bound.figure)
        assert 2 * bound.measured_max > bound.value, bound
        if bound.measured_max + resolution < 2 * bound.measured_median:
            assert 2 * bound.measured_median > bound.value, bound


def test_the_moves_of_a_maintenance_test_are_the_stretches_that_moved_the_vip():
    figures = {
        'engine': 'heartbeat', 'profile': 'standard', 'packages': 'heartbeat apache2',
        'loadb1 enter': {'two_holders_s': 0.5, 'vip_gained': [[4.8, 'loadb2']]},
        'loadb1 reboot': {'two_holders_s': 0.0, 'vip_gained': []},
        'loadb1 leave': {'two_holders_s': 3.0, 'vip_gained': [[6.4, 'loadb1']]},
        'loadb2 enter': {'two_holders_s': 0.0, 'vip_gained': []},
        'loadb2 leave': {'two_holders_s': 0.0, 'vip_gained': []},
        'total': {'failed': 0, 'requests': 1000},
    }
    assert bounds.maintenance_moves(figures) == [('maintenance_enter', {'two_holders_s': 0.5}),
                                                 ('maintenance_leave', {'two_holders_s': 3.0})]
    limits = _move_bounds('heartbeat', 'standard', 'maintenance_leave')
    over = bounds.broken_bounds({'two_holders_s': 2 * limits[0].value, 'whole_end': True}, limits)
    assert [(item.figure, item.kind) for item in over] == [('two_holders_s', 'over')]


def test_podman_times_are_read_to_the_nanosecond_podman_gives():
    # The moment a crashed node's container ended (testbed/faults.py's AddressWatcher ends the node's VIP then).
    assert faults.podman_time('2026-12-05 12:46:09.799501096 +0000 UTC\n') == pytest.approx(1796474769.799501, abs=1e-6)
    assert faults.podman_time('2026-12-05 13:46:09.5 +0100 CET') == pytest.approx(1796474769.5, abs=1e-6)
    assert faults.podman_time('2026-12-05 12:46:09 +0000 UTC') == 1796474769.0
    assert faults.podman_time('0001-01-01 00:00:00 +0000 UTC') is None
    assert faults.podman_time('') is None and faults.podman_time('Error: no such container') is None


def test_the_reference_bounds_an_undo_by_every_run_of_the_same_event(tmp_path, monkeypatch):
    """benchmarks/run.py --reference: a fault whose undo is another fault's (bounds.SAME_UNDO) gets the undo's figures
    from both faults' runs, and every other figure from its own."""
    sys.path.insert(0, os.path.join(ROOT, 'benchmarks'))
    import run  # pylint: disable=import-outside-toplevel  # benchmarks/run.py

    def one(**figures):
        return dict({'moved_s': 10.0, 'site_back_s': 10.1, 'failed_undo': 0, 'longest_gap_undo_s': 0.0, 'back_s': 2.0,
                     'one_holder_s': 2.0, 'whole_end': True}, **figures)
    results = {'machine': {'host': 'x'}, 'faults_heartbeat/standard': {
        'engine_stop': {'runs': [one(moved_s=1.0, longest_gap_undo_s=1.4, failed_undo=9, back_s=3.1),
                                 one(moved_s=1.0), one(moved_s=1.0)]},
        'engine_kill_down': {'runs': [one(longest_gap_undo_s=0.3, failed_undo=1), one(moved_s=11.0)]},
        'crash': {'runs': [one(), one()]}}}
    source = tmp_path / 'results.json'
    source.write_text(json.dumps(results))
    monkeypatch.setattr(run, 'REFERENCE', str(tmp_path / 'reference.json'))
    run.reference([str(source)])
    found = json.loads((tmp_path / 'reference.json').read_text())['faults']
    killed, stopped = found['heartbeat/standard/engine_kill_down'], found['heartbeat/standard/engine_stop']
    assert bounds.SAME_UNDO['engine_kill_down'] == 'engine_stop'
    assert (killed['runs'], killed['undo_runs'], stopped['runs']) == (2, 5, 3) and 'undo_runs' not in stopped
    assert killed['longest_gap_undo_s'] == {'max': 1.4, 'median': 0.0, 'none': 0}
    assert killed['failed_undo']['max'] == 9 and killed['back_s']['max'] == 3.1
    # Its own figures, not the stop's.
    assert killed['moved_s'] == {'max': 11.0, 'median': 10.5, 'none': 0}
    assert killed['whole_end'] == 2 and found['heartbeat/standard/crash']['runs'] == 2


@pytest.mark.parametrize('fault, same', sorted(bounds.SAME_UNDO.items()))
def test_the_checked_in_reference_pools_the_undo_of_the_same_event(fault, same):
    for key, measured in REFERENCE['faults'].items():
        engine_profile, dummy_sep, name = key.rpartition('/')
        other = REFERENCE['faults'].get('%s/%s' % (engine_profile, same))
        if name == fault and other:  # the fast profile has no engine_stop: its kept-down kill stands alone
            assert measured['undo_runs'] == measured['runs'] + other['runs'], key
            for figure in bounds.UNDO_FIGURES:
                assert (measured[figure]['max'] or 0) >= (other[figure]['max'] or 0), (key, figure)
