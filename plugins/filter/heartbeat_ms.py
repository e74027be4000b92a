# Copyright: (c) 2026, hapair.loadbalancer developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The heartbeat_ms filter: a heartbeat time value in milliseconds."""

from __future__ import annotations

import re

_TIME = re.compile(r'^\s*(?P<number>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>ms)?\s*$')


def heartbeat_ms(value):
    """Milliseconds of a heartbeat time value (2, "2", "1.5", "500ms"); -1 when it is not one.

    heartbeat reads plain numbers as seconds and accepts an "ms" suffix (ha.cf: "1500ms means 1.5 seconds").
    """
    if isinstance(value, bool):
        return -1
    match = _TIME.match(str(value))
    if not match:
        return -1
    number = float(match.group('number'))
    return int(round(number if match.group('unit') == 'ms' else number * 1000))


class FilterModule:
    """heartbeat filters."""

    def filters(self):
        return {'heartbeat_ms': heartbeat_ms}
