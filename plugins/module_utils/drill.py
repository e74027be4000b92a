# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The failover drill's measuring instruments, as plain functions that take their clock and I/O as arguments.

- watch_vip: on a node, record every moment the kernel gains or loses the VIP (the node's own clock);
- poll_url: on the client, request the site every interval and record what was lost;
- both stop when a stop file appears (the drill creates it) or after max_seconds.

Runs on the nodes and on the client: Python 3.8 and the standard library only.
"""

from __future__ import annotations

import os
import time

# The options of every module that runs in the background until a stop file appears; documented by the doc
# fragment hapair.loadbalancer.attributes.background.
BACKGROUND_ARGUMENT_SPEC = {
    'stop_file': {'type': 'path', 'required': True},
    'max_seconds': {'type': 'float', 'default': 3600.0},
}


def remove_stop_file(stop_file):
    """Remove the stop file if it is there, so that the next run does not stop at once."""
    try:
        os.remove(stop_file)
    except FileNotFoundError:
        pass


def _stopped(stop_file, started, max_seconds, clock):
    return os.path.exists(stop_file) or clock() - started >= max_seconds


def watch_vip(holds, stop_file, interval=0.02, max_seconds=3600.0, clock=time.time, sleep=time.sleep):
    """Sample holds() every `interval` seconds until the stop file appears; return the changes.

    holds: () -> bool, whether the node's kernel has the VIP now. Returns {started_at, stopped_at, samples,
    events: [{at, holds}]}, the first event being the state at the start; `at` is the node's clock (epoch s).
    """
    started = clock()
    state = holds()
    events = [{'at': started, 'holds': state}]
    samples = 1
    while not _stopped(stop_file, started, max_seconds, clock):
        sleep(interval)
        now = clock()
        current = holds()
        samples += 1
        if current != state:
            events.append({'at': now, 'holds': current})
            state = current
    return {'started_at': started, 'stopped_at': clock(), 'samples': samples, 'events': events}


def poll_url(fetch, stop_file, interval=0.1, max_seconds=3600.0, clock=time.time, sleep=time.sleep):
    """Call fetch() every `interval` seconds until the stop file appears; return what the client saw.

    fetch: () -> the first line of the answer (a str), or raises on any failure (no answer, an HTTP error).
    Returns {started_at, stopped_at, requests, failed_requests, longest_gap_seconds,
    outages: [{from, first_failure, to, answer_seconds}], answers}:
    an outage runs from the last answer before a failure to the first answer after it (`to` None if the site
    never answered again); answer_seconds is how long the request of that answer took (None with `to`); answers
    counts the first lines of the answers.
    """
    started = clock()
    requests = failed = 0
    last_ok = started
    longest_gap = 0.0
    outages = []
    answers = {}
    in_outage = False
    while not _stopped(stop_file, started, max_seconds, clock):
        tick = clock()
        requests += 1
        try:
            line = fetch()
        except Exception:  # pylint: disable=broad-exception-caught  # any failure is a lost request
            failed += 1
            if not in_outage:
                outages.append({'from': last_ok, 'first_failure': tick, 'to': None, 'answer_seconds': None})
                in_outage = True
        else:
            now = clock()
            longest_gap = max(longest_gap, now - last_ok)
            if in_outage:
                outages[-1]['to'] = now
                outages[-1]['answer_seconds'] = round(now - tick, 3)
                in_outage = False
            last_ok = now
            key = (line or '')[:80]
            answers[key] = answers.get(key, 0) + 1
        sleep(max(0.0, interval - (clock() - tick)))
    stopped = clock()
    if in_outage:
        longest_gap = max(longest_gap, stopped - last_ok)
    return {'started_at': started, 'stopped_at': stopped, 'requests': requests, 'failed_requests': failed,
            'longest_gap_seconds': round(longest_gap, 3), 'outages': outages, 'answers': answers}
