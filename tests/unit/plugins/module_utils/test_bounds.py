# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bounds the design promises (module_utils/bounds.py)."""

from __future__ import annotations

import pytest

from ansible_collections.hapair.loadbalancer.plugins.module_utils import bounds

STANDARD = {'advert': 2.0, 'detect': 10.0, 'startup': 20.0, 'handover': 5.0}
FAST = {'advert': 0.2, 'detect': 1.5, 'startup': 10.0, 'handover': 1.4}
MONITOR = (1.0, 1.0, 3, 3, 5.0, 10.0)


@pytest.mark.parametrize('kind, expected', [
    ('handover', {'failover_seconds': 20.0, 'failback_seconds': 30.0, 'takeover': True, 'vip_back_seconds': None}),
    ('detection', {'failover_seconds': 20.0, 'failback_seconds': 30.0, 'takeover': True, 'vip_back_seconds': None}),
    # (3+1)·1 + 1 + 5 + 10 = 20; (3+1)·1 + max(5, 10) + 1 + 5 + 2 + 10 = 32
    ('monitor', {'failover_seconds': 20.0, 'failback_seconds': 32.0, 'takeover': True, 'vip_back_seconds': None}),
    # kill: the VIP back on a node within D + M; a failback (after a takeover) within S + M from the engine's return.
    ('release', {'failover_seconds': None, 'failback_seconds': 30.0, 'takeover': False, 'vip_back_seconds': 20.0}),
])
def test_drill_bounds_per_kind(kind, expected):
    assert bounds.drill_bounds(kind, STANDARD, MONITOR, 10.0) == dict(expected, two_holders_seconds=2.0)


def test_drill_bounds_follow_the_fast_timers_and_auto_failback():
    assert bounds.drill_bounds('handover', FAST, MONITOR, 10.0)['failover_seconds'] == 11.5
    assert bounds.drill_bounds('handover', FAST, MONITOR, 10.0, auto_failback=False)['failback_seconds'] is None
    with pytest.raises(ValueError):
        bounds.drill_bounds('unplug', FAST, MONITOR, 10.0)


def test_a_hung_apache_makes_each_check_last_its_timeout():
    assert bounds.monitor_window(interval=1.0, timeout=2.0, fails=3, handover=5.0) == 4 * 2.0 + 2.0 + 5.0
    assert bounds.monitor_failback(1.0, 1.0, 3, 5.0, 10.0, 5.0) == 4.0 + 10.0 + 1.0 + 5.0 + 2.0


def test_monitor_settings_from_the_typed_input():
    values = {'hapair_monitor_interval': 1, 'hapair_monitor_timeout': 1, 'hapair_monitor_fails': 3,
              'hapair_monitor_rises': 3, 'hapair_monitor_failback_delay': 5, 'hapair_monitor_holddown': 10}
    assert bounds.monitor_settings(values) == MONITOR
