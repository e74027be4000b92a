# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stop the old engine on the node that holds the VIP while the node keeps the VIP: the engine switch in place.

When the new engine can take the VIP over on the node that holds it under the old one (Engine.adopts_vip: heartbeat,
whose IPaddr agent finds the address configured), the engine switch starts the new engine there, waits until it holds
the VIP as its own, and then stops the old engine here. The old engine takes the VIP off as it stops (keepalived does,
a second before it exits): this puts it back the moment the kernel reports it gone, so it is off for the time of one
`ip addr add` (milliseconds; a few requests' packets at most), and nobody else ever claims it. The VIP keeps its label
(`eth0:0`), by which heartbeat's agent finds it.

Python 3.8 and the standard library, and the node library (node_engine.py).
"""

from __future__ import annotations

import time

# How often the units' state is read while they stop, and how long to wait for them at most.
CHECK_INTERVAL = 0.2
TIMEOUT = 120.0


def keep(vip, units, readd, holds, events, unit_state, run, clock=time.monotonic, timeout=TIMEOUT):
    """Stop `units` and keep `vip` on this node through their stop.

    readd(): put the VIP back, (rc, output); holds(): whether the node has it; events(seconds): the kernel's address
    events [(kind 'add' | 'del', {address, ...})] since the last call, waiting at most that long for one (an
    open_address_events() socket, opened before the stop); unit_state(unit): systemd's word (active, deactivating,
    inactive, failed ...); run(argv, timeout): a command. Returns {'stopped', 'readded', 'longest_off_seconds',
    'errors'}.
    """
    errors = []
    for unit in units:
        rc, out = run(['systemctl', 'stop', '--no-block', unit], 30.0)
        if rc != 0:
            errors.append('cannot stop %s: %s' % (unit, out))
    readded = 0
    longest = 0.0

    def put_back():
        nonlocal readded, longest
        off = clock()
        rc, out = readd()
        if rc == 0:
            readded += 1
            longest = max(longest, clock() - off)
        elif holds():
            pass  # another add won the race: it is there
        else:
            errors.append('cannot put the VIP back: %s' % out)

    start = clock()
    next_check = start
    stopped = []
    while True:
        for kind, address in events(CHECK_INTERVAL / 4):
            if kind == 'del' and address.get('address') == vip:
                put_back()
        now = clock()
        if now >= next_check:
            stopped = [unit for unit in units if unit_state(unit) not in ('active', 'activating', 'deactivating', 'reloading')]
            if len(stopped) == len(units):
                break
            next_check = now + CHECK_INTERVAL
        if now - start > timeout:
            errors.append('%s still running after %s s' % (', '.join(u for u in units if u not in stopped), timeout))
            break
    # The deletion may have come between two reads, or as the last thing before the unit ended.
    for kind, address in events(0.0):
        if kind == 'del' and address.get('address') == vip:
            put_back()
    if not holds():
        put_back()
    return {'stopped': stopped, 'readded': readded, 'longest_off_seconds': round(longest, 4), 'errors': errors}
