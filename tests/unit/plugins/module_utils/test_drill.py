# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The drill's instruments, with a fake clock: the watcher and the client record what they should."""

from __future__ import annotations

import pytest

from ansible_collections.hapair.loadbalancer.plugins.module_utils import drill


class Clock:
    """A clock that moves only when the code sleeps (and by a small step per reading, like a real one)."""

    def __init__(self, start=1000.0):
        self.now = start

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_the_watcher_records_the_state_at_the_start_and_every_change(tmp_path):
    clock = Clock()
    stop = tmp_path / 'stop'
    # The VIP is held, goes at 1000.5, comes back at 1001.0; the drill stops the watcher at 1002.

    def holds():
        if clock.now >= 1002:
            stop.write_text('')
        return not 1000.5 <= clock.now < 1001.0
    record = drill.watch_vip(holds, str(stop), interval=0.02, clock=clock.time, sleep=clock.sleep)
    assert record['events'][0] == {'at': 1000.0, 'holds': True}
    # Seen within one interval of the change.
    assert [e['holds'] for e in record['events'][1:]] == [False, True]
    assert record['events'][1]['at'] == pytest.approx(1000.5, abs=0.021)
    assert record['events'][2]['at'] == pytest.approx(1001.0, abs=0.021)
    assert record['samples'] == pytest.approx(101, abs=2)


def test_the_watcher_ends_after_max_seconds(tmp_path):
    clock = Clock()
    record = drill.watch_vip(lambda: False, str(tmp_path / 'never'), interval=0.5, max_seconds=2, clock=clock.time,
                             sleep=clock.sleep)
    assert record['stopped_at'] - record['started_at'] == pytest.approx(2.0)
    assert record['events'] == [{'at': 1000.0, 'holds': False}]


def test_the_client_counts_failures_gaps_and_outages(tmp_path):
    clock = Clock()
    stop = tmp_path / 'stop'

    def fetch():
        if clock.now >= 1003:
            stop.write_text('')
        if 1001.0 <= clock.now < 1001.55:
            raise OSError('no answer')
        return 'backend web%d 198.51.100.5%d' % ((int(clock.now * 10) % 2) + 1, 1)
    record = drill.poll_url(fetch, str(stop), interval=0.1, clock=clock.time, sleep=clock.sleep)
    assert record['failed_requests'] == 6
    assert record['requests'] == pytest.approx(31, abs=1)
    assert len(record['outages']) == 1
    outage = record['outages'][0]
    assert outage['from'] == pytest.approx(1000.9) and outage['first_failure'] == pytest.approx(1001.0)
    assert outage['to'] == pytest.approx(1001.6)
    assert record['longest_gap_seconds'] == pytest.approx(0.7, abs=0.01)
    assert sum(record['answers'].values()) == record['requests'] - record['failed_requests']


def test_a_request_that_times_out_delays_the_answer_after_it_and_that_answer_has_its_own_time(tmp_path):
    """The site comes back at 1001.02, while a request sent at 1001.0 waits for its 0.5 s timeout; the answer after
    it takes 0.12 s: the client sees the site back at 1001.62, a timeout plus the answer's time after the return."""
    clock = Clock()
    stop = tmp_path / 'stop'

    def fetch():
        if clock.now >= 1003:
            stop.write_text('')
        if 1000.95 <= clock.now < 1001.02:
            clock.sleep(0.5)
            raise OSError('timed out')
        if 1001.02 <= clock.now < 1001.6:
            clock.sleep(0.12)
        return 'ok'
    record = drill.poll_url(fetch, str(stop), interval=0.1, clock=clock.time, sleep=clock.sleep)
    outage = record['outages'][0]
    assert outage['first_failure'] == pytest.approx(1001.0)
    assert outage['to'] == pytest.approx(1001.62)
    assert outage['answer_seconds'] == pytest.approx(0.12)
    assert record['failed_requests'] == 1


def test_an_outage_that_never_ends_counts_to_the_stop(tmp_path):
    clock = Clock()
    stop = tmp_path / 'stop'

    def fetch():
        if clock.now >= 1002:
            stop.write_text('')
        if clock.now >= 1001:
            raise OSError('down')
        return 'ok'
    record = drill.poll_url(fetch, str(stop), interval=0.1, clock=clock.time, sleep=clock.sleep)
    assert record['outages'][0]['to'] is None and record['outages'][0]['answer_seconds'] is None
    assert record['longest_gap_seconds'] == pytest.approx(1.2, abs=0.01)  # last answer 1000.9, stopped at 1002.1


def test_the_stop_file_is_removed_once_and_its_absence_is_no_error(tmp_path):
    stop = tmp_path / 'stop'
    stop.touch()
    drill.remove_stop_file(str(stop))
    assert not stop.exists()
    drill.remove_stop_file(str(stop))
    assert not stop.exists()
