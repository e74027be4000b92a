# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.hapair.loadbalancer.plugins.filter.heartbeat_ms import FilterModule, heartbeat_ms


@pytest.mark.parametrize('value, expected', [
    (2, 2000),
    ('2', 2000),
    (10, 10000),
    ('1.5', 1500),
    (0.25, 250),
    ('500ms', 500),
    ('1500ms', 1500),
    (' 200ms ', 200),
])
def test_reads_heartbeat_times(value, expected):
    assert heartbeat_ms(value) == expected


@pytest.mark.parametrize('value', ['', 'fast', '-2', '2m', '2s', '1,5', 'ms', None, True, [2], '2 ms s', 0, 86401])
def test_rejects_what_heartbeat_would_not_read(value):
    assert heartbeat_ms(value) == -1


def test_is_registered():
    assert FilterModule().filters()['heartbeat_ms'] is heartbeat_ms
