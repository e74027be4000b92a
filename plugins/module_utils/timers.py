# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one parser of the collection's times: plain numbers are seconds, "500ms" style values milliseconds.

heartbeat's ha.cf reads times this way ("1500ms means 1.5 seconds"), and so do every time-valued variable of the
engines and the engine-neutral profile names. Everything that reads a time (the input check, the drill's bounds, the
test bed, the benchmarks) calls parse_ms(); nothing else parses one.

Pure Python and the standard library (Python 3.8 and later).
"""

from __future__ import annotations

import math
import re

# The engine-neutral timer profiles (hapair_timers). Each engine maps a profile to its own timers.
PROFILES = ('standard', 'fast')

# A time may not exceed a day: longer ones are typing mistakes (a deadtime of 1e20 s), and heartbeat keeps times in
# milliseconds in a C long.
MAX_MS = 24 * 3600 * 1000

_TIME = re.compile(r'^(?P<number>[0-9]{1,12}(?:\.[0-9]{1,6})?)(?P<unit>ms)?\Z')


def parse_ms(value):
    """Milliseconds of a time (2, "2", 1.5, "1.5", "500ms"); raises ValueError saying what was expected."""
    if isinstance(value, bool):
        raise ValueError('expected a time such as 2 (seconds) or 500ms, not a boolean')
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError('expected a time such as 2 (seconds) or 500ms, not %r' % value)
        text = ('%.6f' % value).rstrip('0').rstrip('.')
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise ValueError('expected a time such as 2 (seconds) or 500ms')
    match = _TIME.match(text)
    if not match:
        raise ValueError('expected a positive time such as 2 (seconds) or 500ms')
    number = float(match.group('number'))
    milliseconds = int(round(number if match.group('unit') else number * 1000))
    if milliseconds <= 0:
        raise ValueError('expected a positive time such as 2 (seconds) or 500ms')
    if milliseconds > MAX_MS:
        raise ValueError('expected at most a day (86400 seconds)')
    return milliseconds


def seconds(value):
    """A time in seconds, as a float."""
    return parse_ms(value) / 1000.0


def text(milliseconds):
    """The written form of a time in milliseconds: whole seconds as a plain number, the rest with 'ms'."""
    milliseconds = int(milliseconds)
    if milliseconds % 1000 == 0:
        return str(milliseconds // 1000)
    return '%dms' % milliseconds
