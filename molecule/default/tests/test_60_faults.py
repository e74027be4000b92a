# Copyright: (c) 2026, hapair.loadbalancer developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault matrix: every single fault, injected on the VIP holder of the converged pair and undone, while a client
polls the site through the VIP every 100 ms (testbed/faults.py). Each fault has a bound derived from heartbeat's
timers and hapair-monitor's settings, and every fault must end, with no manual step, with exactly one holder (the
preferred node) and heartbeat running on both nodes.

Symbols: K keepalive, D deadtime (heartbeat); I interval, T timeout, F fails (hapair-monitor); H the hand-over from
hb_standby to the VIP answering on the peer, budgeted at 2K + 1 s (measured 0.8 to 2.6 s).
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from conftest import HOSTVARS, INVENTORY, ROOT, pairs
from drill import report

sys.path.insert(0, os.path.join(ROOT, 'testbed'))
import faults  # noqa: E402  # pylint: disable=wrong-import-position  # testbed/faults.py

CLUSTER = sorted(pairs())[0]
FIRST = HOSTVARS[pairs()[CLUSTER][0]]
I = float(FIRST.get('heartbeat_monitor_interval', 1))  # noqa: E741
T = float(FIRST.get('heartbeat_monitor_timeout', 1))
F = int(FIRST.get('heartbeat_monitor_fails', 3))


@pytest.fixture(scope='module')
def pair():
    """The pair under test (made only when a fault runs: it copies the client into the containers)."""
    return faults.Pair(INVENTORY, CLUSTER)


def bounds(pair):
    """K, D (heartbeat), H (the hand-over budget) and the monitor's window: F failed checks in a row (a hung Apache
    makes a check last T), one more to decide, the check of the peer, then the hand-over."""
    keepalive, deadtime = pair.timers['keepalive'], pair.timers['deadtime']
    handover = 2 * keepalive + 1
    return keepalive, deadtime, handover, (F + 1) * max(I, T) + T + handover


def _ends_whole(pair, result):
    assert result['steady_end'], result
    assert result['holders_end'] == [pair.names[pair.preferred]], result
    assert all(result['heartbeat_active_end'].values()), result
    for host in pair.nodes:
        assert pair.active(host, 'hapair-monitor'), '%s: hapair-monitor is not running' % host


def _run(pair, name):
    result = faults.FAULTS[name](pair, verbose=True)
    report('fault ' + name, {key: value for key, value in result.items() if key not in ('events', 'backends')})
    path = os.environ.get('HAPAIR_FAULT_RESULTS')
    if path:
        with open(path, 'a', encoding='utf-8') as out:
            out.write(json.dumps(result) + '\n')
    _ends_whole(pair, result)
    return result


def test_crash_of_the_holder(pair):
    dummy_k, D, dummy_h, dummy_window = bounds(pair)
    result = _run(pair, 'crash')
    assert result['moved_s'] is not None and result['site_back_s'] is not None, result
    assert result['site_back_s'] <= D + 5, result


def test_freeze_past_deadtime_then_thaw(pair):
    K, D, dummy_h, dummy_window = bounds(pair)
    result = _run(pair, 'freeze')
    assert result['moved_s'] is not None and result['moved_s'] <= D + 5, result
    # While it is frozen the old holder's kernel still has the VIP: both hold it from the takeover (D - K after the
    # freeze at the earliest) until heartbeat lets one go after the thaw (the freeze lasts D + 3 s), give or take 3 s.
    assert result['two_holders_max_s'] <= (D + 3) - (D - K) + 3, result


def test_heartbeat_stopped_on_the_holder(pair):
    dummy_k, dummy_d, H, dummy_window = bounds(pair)
    result = _run(pair, 'heartbeat_stop')
    assert result['moved_s'] is not None and result['moved_s'] <= H, result
    assert result['longest_gap_s'] <= H, result


def test_heartbeat_killed_never_leaves_two_holders(pair):
    dummy_k, D, dummy_h, dummy_window = bounds(pair)
    result = _run(pair, 'heartbeat_kill')
    assert result['two_holders_max_s'] <= 2, result
    # One holder and heartbeat back on both, by itself, within deadtime + 5 s.
    assert result['pair_ok_s'] is not None and result['pair_ok_s'] <= D + 5, result
    assert result['heartbeat_came_back'], result


@pytest.mark.parametrize('name', ['apache_stop', 'apache_hang'])
def test_apache_failing_on_the_holder_moves_the_vip(pair, name):
    window = bounds(pair)[3]
    result = _run(pair, name)
    assert result['moved_s'] is not None, result
    assert result['site_back_s'] is not None and result['site_back_s'] <= window, (window, result)


def test_public_link_lost_on_the_holder(pair):
    dummy_k, D, dummy_h, window = bounds(pair)
    result = _run(pair, 'public_link')
    assert result['moved_s'] is not None, result
    assert result['site_back_s'] is not None and result['site_back_s'] <= min(D + 5, window), result


@pytest.mark.parametrize('name', ['private_link', 'backend_down'])
def test_faults_that_must_move_nothing_lose_nothing(pair, name):
    result = _run(pair, name)
    assert result['moved_s'] is None, result
    assert result['failed'] == 0, result
