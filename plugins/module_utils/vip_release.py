# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Let the VIP go once another node claims it: the holder's half of a hand-over between two engines that do not talk.

When the nodes of a pair run different engines (the engine switch, engine_switch.py), neither engine knows the other
is there: the node that starts the new engine claims the VIP after its engine's start-up time, and the holder, whose
old engine would keep it for ever, must let it go. It waits here, listening on the VIP's segment (an AF_PACKET socket,
vip_check_arp.py), until another MAC address claims the VIP: a gratuitous ARP (keepalived and heartbeat both send
them when they take an address), or an answer to the ARP probes it sends meanwhile (sender 0.0.0.0, so no neighbour
cache changes), which catch a claim whose announcement came before the socket was open. Then, a drain later (the
requests in flight to it finish; clients already send to the new holder), it takes the VIP off and stops the old
engine's units, so that the old engine cannot put it back.

Make before break: the holder serves until the other node can, so a client sees no gap; both nodes hold the VIP for
the drain and the time to delete it. If no claim comes in time, nothing changes here.

Python 3.8 and the standard library, and the node library (vip_check_arp.py, node_engine.py).
"""

from __future__ import annotations

import socket
import time

from ansible_collections.hapair.loadbalancer.plugins.module_utils import node_engine, vip_check_arp

# How often the holder probes for another holder, and how often it checks that it still holds the VIP itself.
PROBE_INTERVAL = 0.25
HOLD_CHECK_INTERVAL = 0.5
# How long the holder keeps serving after the claim: the requests sent to it before the clients learnt the new MAC.
DRAIN = 0.3


def watch(sock, own_mac, vip, timeout, holds, probe_interval=PROBE_INTERVAL, clock=time.monotonic):
    """Wait until another MAC claims `vip` on the socket's segment.

    sock: an ARP socket (vip_check_arp.open_socket); holds(): whether this node still holds the VIP. Returns
    ('claimed', mac, seconds), ('gone', None, seconds) when the VIP left this node by other means, or ('timeout', None,
    seconds).
    """
    probe = vip_check_arp.build_probe(own_mac, vip)
    start = clock()
    next_probe = next_check = start
    while True:
        now = clock()
        if now - start >= timeout:
            return 'timeout', None, now - start
        if now >= next_check:
            if not holds():
                return 'gone', None, now - start
            next_check = now + HOLD_CHECK_INTERVAL
        if now >= next_probe:
            try:
                sock.send(probe)
            except OSError:
                pass  # the interface is down: keep listening, the check above ends the wait if the VIP goes
            next_probe = now + probe_interval
        sock.settimeout(max(0.001, min(next_probe, next_check, start + timeout) - now))
        try:
            frame, address = sock.recvfrom(vip_check_arp.RECV_SIZE)
        except socket.timeout:
            continue
        mac = vip_check_arp.claimant(frame, address[2] if len(address) > 2 else None, vip, own_mac.lower())
        if mac is not None:
            return 'claimed', mac, clock() - start


def release(vip, prefix, interface, units, holds, drain=DRAIN, run=node_engine.run, sleep=time.sleep,
            clock=time.time):
    """After the claim: wait `drain` seconds, take the VIP off, stop `units` (the old engine), and take the VIP off
    again if an engine put it back before it stopped. Returns {'released_at', 'stopped': [units], 'errors': [...]}."""
    errors = []
    delete = ['ip', '-4', 'addr', 'del', '%s/%s' % (vip, prefix), 'dev', interface]
    sleep(drain)
    rc, out = run(delete, 5.0)
    released_at = clock()
    if rc != 0 and holds():
        errors.append('cannot take the VIP off %s: %s' % (interface, out))
    stopped = []
    for unit in units:
        rc, out = run(['systemctl', 'stop', unit], 120.0)
        if rc == 0:
            stopped.append(unit)
        else:
            errors.append('cannot stop %s: %s' % (unit, out))
    if holds():
        rc, out = run(delete, 5.0)
        if rc != 0:
            errors.append('the VIP came back on %s and stays: %s' % (interface, out))
    return {'released_at': released_at, 'stopped': stopped, 'errors': errors}
