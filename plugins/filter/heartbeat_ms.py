# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The heartbeat_ms filter: a heartbeat time value in milliseconds. Deprecated (meta/runtime.yml): the roles no longer
use it; it reads times with the collection's one time parser (module_utils/timers.py)."""

from __future__ import annotations

from ansible_collections.hapair.loadbalancer.plugins.module_utils import timers


def heartbeat_ms(value):
    """Milliseconds of a heartbeat time value (2, "2", "1.5", "500ms"); -1 when it is not one (nor a positive time of
    at most a day)."""
    try:
        return timers.parse_ms(value)
    except ValueError:
        return -1


class FilterModule:
    """heartbeat filters."""

    def filters(self):
        return {'heartbeat_ms': heartbeat_ms}
