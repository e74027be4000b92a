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


def test_outages_from_an_answer_log():
    # Requests every 0.1 s from 9.5; none answered from 10.0 to 12.3 (holes), a bad answer (HTTP 503) at 12.4, good
    # ones from 12.5; nothing after 12.9 until the record stops at 13.5.
    answers = [(t / 10.0, t / 10.0 + 0.01, True) for t in range(95, 100)]
    answers += [(12.3, 12.31, True), (12.4, 12.41, False)] + [(t / 10.0, t / 10.0 + 0.01, True) for t in range(125, 130)]
    outages = measure.outages_from_answers(answers, started=9.4, stopped=13.5, interval=0.1)
    assert [(round(o['from'], 2), round(o['first_failure'], 2), o['to'] and round(o['to'], 2)) for o in outages] == [
        (9.91, 10.0, 12.31), (12.31, 12.4, 12.51), (12.91, 13.0, None)]


def test_a_slow_answer_is_no_outage():
    # The answer to 10.0 takes 0.6 s; the next request follows it at once.
    answers = [(9.9, 9.91, True), (10.0, 10.6, True), (10.6, 10.61, True), (10.7, 10.71, True)]
    assert measure.outages_from_answers(answers, started=9.8, stopped=10.75, interval=0.1) == []


def test_a_request_that_timed_out_is_a_hole_in_the_schedule():
    # 10.0 timed out after 1 s (no line); the next request at 11.0 answered.
    answers = [(9.9, 9.91, True), (11.0, 11.01, True), (11.1, 11.11, True)]
    outages = measure.outages_from_answers(answers, started=9.8, stopped=11.15, interval=0.1)
    assert outages == [{'from': 9.91, 'first_failure': 10.0, 'to': 11.01, 'answer_seconds': 0.01}]
