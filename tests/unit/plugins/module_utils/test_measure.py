# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one measuring module: figures from records (module_utils/measure.py)."""

from __future__ import annotations

import pytest

from ansible_collections.hapair.loadbalancer.plugins.module_utils import measure


def events(*changes):
    return [{'at': at, 'holds': holds} for at, holds in changes]


def test_intervals_first_change_and_overlaps():
    a = events((0, True), (5, False), (9, True))
    b = events((0, False), (4, True), (10, False))
    assert measure.intervals(a, 12) == [(0, 5), (9, 12)]
    assert measure.intervals(b, 12) == [(4, 10)]
    assert measure.overlaps(measure.intervals(a, 12), measure.intervals(b, 12)) == [(4, 5), (9, 10)]
    assert measure.first_change(a, False, 1) == 5 and measure.first_change(a, True, 1) == 9
    assert measure.first_change(a, True, 10) is None


def test_a_crash_and_a_return():
    figures = measure.vip_figures(
        {'a': events((0, True), (30.2, True)), 'b': events((0, False), (20.0, True), (33.0, False))},
        {'a': 40.0, 'b': 40.0}, holder='a', preferred='a', fault_at=10.0, restored_at=30.0)
    assert figures.failover == 10.0 and figures.released is None and figures.failback == 3.0
    # a never dropped it in this record: both held it from 20 to 33.
    assert figures.two_holders == 13.0 and figures.two_holders_longest == 13.0 and figures.holders_at_end == ('a',)


def test_a_freeze_both_hold_in_two_stretches_the_longest_counts():
    figures = measure.vip_figures(
        {'a': events((0, True), (25, False), (27, True)),
         'b': events((0, False), (20, True), (26, False), (26.5, True), (28, False))},
        {'a': 40.0, 'b': 40.0}, holder='a', preferred='a', fault_at=10.0, restored_at=24.0)
    assert figures.two_holders == 5.0 + 1.0 and figures.two_holders_longest == 5.0
    assert figures.failback == 4.0
    # One holder again 1 s after the thaw: b alone from 25 to 26, a second. The later stretch of two holders (27 to 28)
    # is the two holders' figure and the failback's.
    assert figures.one_holder == 1.0
    unsettled = measure.vip_figures(
        {'a': events((0, True), (25, False), (27, True)),
         'b': events((0, False), (20, True), (25.5, False), (25.6, True), (28, False))},
        {'a': 40.0, 'b': 40.0}, holder='a', preferred='a', fault_at=10.0, restored_at=24.0)
    # b alone for 0.5 s, then no holder for 0.1 s: not settled; b alone again from 25.6 for 1.4 s: one holder at 1.6.
    assert unsettled.one_holder == 1.6


def test_a_heal_whose_engine_restart_drops_the_vip_for_a_moment_has_one_holder_before_the_failback():
    """A split healed at 24: b lets go at 25.5, one holder from then; a's engine restarts at 27 and takes the VIP off
    for 10 ms, put back: the failback is 27.01, one holder is 1.5 s after the heal."""
    figures = measure.vip_figures(
        {'a': events((0, True), (27.0, False), (27.01, True)), 'b': events((0, False), (20, True), (25.5, False))},
        {'a': 40.0, 'b': 40.0}, holder='a', preferred='a', fault_at=10.0, restored_at=24.0)
    assert figures.one_holder == 1.5 and figures.failback == 3.01 and figures.two_holders_longest == 5.5


def test_heartbeat_replacing_its_alias_is_no_move_of_the_vip():
    """A thaw at 24: b lets go at 25.5; a's heartbeat, restarting, replaces the alias at 27 (a delete and an add 1 ms
    apart, seen in the suite: back_s read 2.57 s where a held the VIP alone from 25.5): the failback is 1.5 s."""
    record = events((0, True), (27.0, False), (27.001, True))
    assert measure.without_replacements(record) == events((0, True))
    assert measure.without_replacements(events((0, True), (27.0, False), (27.01, True))) == events(
        (0, True), (27.0, False), (27.01, True))
    figures = measure.vip_figures(
        {'a': record, 'b': events((0, False), (20, True), (25.5, False))},
        {'a': 40.0, 'b': 40.0}, holder='a', preferred='a', fault_at=10.0, restored_at=24.0)
    assert figures.failback == 1.5 and figures.one_holder == 1.5 and figures.two_holders_longest == 5.5


def test_no_two_holders_after_the_undo_is_one_holder_at_once_and_a_lost_record_unknown():
    crash = measure.vip_figures({'a': events((0, True), (30.2, True)), 'b': events((0, False), (20.0, True), (29, False))},
                                {'a': 40.0, 'b': 40.0}, holder='a', preferred='a', fault_at=10.0, restored_at=30.0)
    assert crash.one_holder == 0.0
    lost = measure.vip_figures({'a': None, 'b': events((0, False), (12, True), (41, False))}, {'a': None, 'b': 50.0},
                               holder='a', preferred='a', fault_at=10.0, restored_at=38.0)
    assert lost.one_holder is None


def test_a_lost_watcher_leaves_two_holders_unknown():
    figures = measure.vip_figures({'a': None, 'b': events((0, False), (12, True), (41, False))}, {'a': None, 'b': 50.0},
                                  holder='a', preferred='a', fault_at=10.0, restored_at=38.0)
    assert figures.failover == 2.0 and figures.two_holders is None and figures.failback == 3.0


def test_vip_figures_need_both_nodes():
    with pytest.raises(ValueError):
        measure.vip_figures({'a': []}, {}, 'a', 'a', 0.0)


OUTAGES = [{'from': 9.9, 'first_failure': 10.0, 'to': 12.3, 'answer_seconds': 0.01},
           {'from': 30.1, 'first_failure': 30.2, 'to': 30.7, 'answer_seconds': 0.02}]


def test_client_figures_split_the_fault_and_the_undo():
    seen = measure.client_figures(OUTAGES, fault_at=10.0, restored_at=30.0, started=0.0, stopped=40.0, interval=0.1)
    assert seen.site_back == 2.3 and seen.outages_fault == 1 and seen.outages_undo == 1
    assert seen.longest_gap == 2.4 and seen.longest_gap_fault == 2.4 and seen.longest_gap_undo == 0.6
    # Missed answers at the nominal rate: 2.4 s / 0.1 - 1 and 0.6 / 0.1 - 1.
    assert seen.failed_fault == 23 and seen.failed_undo == 5 and seen.failed == 28


def test_an_outage_that_began_just_before_the_undo_is_the_undo_s():
    """A request in flight as the undo took effect failed because of it (a thawed node preempting the VIP back)."""
    at_thaw = [OUTAGES[0], {'from': 29.75, 'first_failure': 29.85, 'to': 30.1, 'answer_seconds': 0.01}]
    seen = measure.client_figures(at_thaw, fault_at=10.0, restored_at=30.0, started=0.0, stopped=40.0, interval=0.1)
    assert (seen.site_back, seen.outages_fault, seen.outages_undo) == (2.3, 1, 1)
    # Earlier than that it is the fault's.
    earlier = [OUTAGES[0], {'from': 29.6, 'first_failure': 29.7, 'to': 30.1, 'answer_seconds': 0.01}]
    seen = measure.client_figures(earlier, fault_at=10.0, restored_at=30.0, started=0.0, stopped=40.0, interval=0.1)
    assert (seen.site_back, seen.outages_fault, seen.outages_undo) == (20.1, 2, 0)


def test_client_figures_keep_the_client_s_own_counts():
    seen = measure.client_figures(OUTAGES, fault_at=10.0, restored_at=30.0, requests=400, failed=9)
    assert (seen.requests, seen.failed, seen.failed_fault) == (400, 9, None)


def test_an_outage_still_on_at_the_undo_has_no_site_back_and_none_is_zero():
    still = [{'from': 9.9, 'first_failure': 10.0, 'to': None, 'answer_seconds': None}]
    assert measure.client_figures(still, 10.0, 30.0, stopped=40.0).site_back is None
    assert measure.client_figures([], 10.0, 30.0).site_back == 0.0


def test_the_last_outage_of_the_fault_is_when_the_site_is_back_for_good():
    flapping = [{'from': 9.9, 'first_failure': 10.0, 'to': 11.0, 'answer_seconds': 0.01},
                {'from': 12.0, 'first_failure': 12.1, 'to': 14.0, 'answer_seconds': 0.01}]
    assert measure.client_figures(flapping, 10.0, 30.0).site_back == 4.0


def _ten_workers(down_from, down_to, good=True, answer=0.01, start=9.0, stop=14.0):
    """What ten hey workers asking once a second each, 0.1 s apart, log while nothing answers from down_from to down_to
    (a request sent then hangs until its 1 s timeout and is not logged)."""
    workers = []
    for k in range(10):
        started = start + k / 10.0
        answers = []
        sent = started + 1.0
        while sent < stop - 1.0:
            if down_from <= sent < down_to:
                sent += 1.0          # timed out: not logged; the next request goes at once
                continue
            answers.append((round(sent, 2), round(sent + answer, 2), good))
            sent += 1.0
        workers.append((started, answers))
    return workers


def _merged(workers, stop=14.0):
    requests = []
    for started, answers in workers:
        requests += measure.worker_requests(answers, started, stop, interval=1.0, timeout=1.0)
    return requests


def test_the_requests_a_worker_did_not_log_are_found_in_its_schedule():
    # Sent at 10.0 and 11.0 with no answer (holes), answered from 12.0; nothing made up in the last second.
    answers = [(9.0, 9.01, True), (12.0, 12.01, True), (13.0, 13.01, True)]
    assert measure.worker_requests(answers, started=8.0, stopped=14.5, interval=1.0, timeout=1.0) == [
        (9.0, 9.01, True), (10.0, None, False), (11.0, None, False), (12.0, 12.01, True), (13.0, 13.01, True)]


def test_a_slow_answer_delays_the_next_request_and_is_no_hole():
    answers = [(9.0, 9.01, True), (10.0, 10.9, True), (10.9, 10.91, True), (11.9, 11.91, True)]
    requests = measure.worker_requests(answers, started=8.0, stopped=12.5, interval=1.0, timeout=1.0)
    assert all(ok for _sent, _done, ok in requests)
    assert measure.outages_from_requests(requests, 8.0) == []


def test_a_worker_that_stopped_answering_for_good():
    answers = [(9.0, 9.01, True)]
    requests = measure.worker_requests(answers, started=8.0, stopped=13.2, interval=1.0, timeout=1.0)
    assert requests == [(9.0, 9.01, True), (10.0, None, False), (11.0, None, False)]
    assert measure.outages_from_requests(requests, 8.0) == [
        {'from': 9.01, 'first_failure': 10.0, 'to': None, 'answer_seconds': None, 'failed': 2}]


def test_ten_staggered_workers_see_an_outage_to_a_tenth_of_a_second():
    # Nothing answers from 10.05 to 10.5: the four requests sent at 10.1 to 10.4 hang and are lost; the one sent at
    # 10.5 is answered at once, whatever the others still wait for.
    outages = measure.outages_from_requests(_merged(_ten_workers(10.05, 10.5)), 9.0)
    assert outages == [{'from': 10.01, 'first_failure': 10.1, 'to': 10.51, 'answer_seconds': 0.01, 'failed': 4}]
    figures = measure.client_figures(outages, fault_at=10.05, restored_at=12.0, started=9.0, stopped=14.0, interval=0.1)
    assert figures.site_back == 0.46 and figures.failed_fault == 4 and figures.longest_gap == 0.5
    assert figures.failed_undo == 0 and figures.longest_gap_undo == 0.0


def test_bad_answers_are_failed_requests():
    # HTTP 503 from 10.0 to 10.35: answered, but failed.
    workers = _ten_workers(100.0, 100.0, start=8.0)
    requests = [(s, d, ok and not 10.0 <= s < 10.35) for s, d, ok in _merged(workers)]
    assert measure.outages_from_requests(requests, 9.0) == [
        {'from': 9.91, 'first_failure': 10.0, 'to': 10.41, 'answer_seconds': 0.01, 'failed': 4}]
