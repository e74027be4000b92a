# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one time parser (module_utils/timers.py)."""

from __future__ import annotations

import pytest

from ansible_collections.hapair.loadbalancer.plugins.module_utils import timers


@pytest.mark.parametrize('value, ms', [(2, 2000), ('2', 2000), (1.5, 1500), ('1.5', 1500), ('500ms', 500), ('10', 10000),
                                       (' 3 ', 3000), (0.0015, 2), ('86400', 86400000)])
def test_times(value, ms):
    assert timers.parse_ms(value) == ms


@pytest.mark.parametrize('value', [0, '0', '0ms', -1, '-10', 'soon', True, None, [], '2 s', '2s', 1e20, '1e20',
                                   float('inf'), float('nan'), '86401', '1' * 30])
def test_times_refused(value):
    with pytest.raises(ValueError):
        timers.parse_ms(value)


@pytest.mark.parametrize('ms, text', [(2000, '2'), (1500, '1500ms'), (200, '200ms'), (10000, '10')])
def test_text(ms, text):
    assert timers.text(ms) == text


def test_seconds():
    assert timers.seconds('1500ms') == 1.5
