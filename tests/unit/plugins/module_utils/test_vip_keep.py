# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stopping the old engine on the VIP holder while the node keeps the VIP (module_utils/vip_keep.py), faked."""

from __future__ import annotations

from ansible_collections.hapair.loadbalancer.plugins.module_utils import vip_keep

VIP = '198.51.100.10'


class Node:
    """A node whose old engine takes the VIP off `deletes_at` seconds into its stop and is inactive at `stops_at`."""

    def __init__(self, deletes_at=(0.4,), stops_at=1.0, add_fails=False):
        self.now = 0.0
        self.deletes = list(deletes_at)
        self.stops_at = stops_at
        self.holds_vip = True
        self.add_fails = add_fails
        self.ran = []
        self.added = []

    def clock(self):
        return self.now

    def run(self, argv, timeout):
        self.ran.append(' '.join(argv))
        return 0, ''

    def events(self, seconds):
        self.now += seconds
        found = []
        while self.deletes and self.deletes[0] <= self.now:
            self.deletes.pop(0)
            self.holds_vip = False
            found.append(('del', {'address': VIP, 'prefixlen': 26, 'label': 'eth0:0'}))
        return found

    def readd(self):
        self.now += 0.002
        if self.add_fails:
            return 2, 'RTNETLINK answers: Operation not permitted'
        self.holds_vip = True
        self.added.append(round(self.now, 3))
        return 0, ''

    def holds(self):
        return self.holds_vip

    def unit_state(self, unit):
        return 'inactive' if self.now >= self.stops_at else 'deactivating'


def keep(node, units=('keepalived',), timeout=120.0):
    return vip_keep.keep(VIP, list(units), node.readd, node.holds, node.events, node.unit_state, node.run,
                         clock=node.clock, timeout=timeout)


def test_the_vip_comes_back_the_moment_the_old_engine_takes_it_off():
    node = Node(deletes_at=[0.4], stops_at=1.0)
    result = keep(node)
    assert node.ran == ['systemctl stop --no-block keepalived']
    assert result == {'stopped': ['keepalived'], 'readded': 1, 'longest_off_seconds': 0.002, 'errors': []}
    assert node.holds_vip and len(node.added) == 1 and node.added[0] < 0.5


def test_a_deletion_seen_only_after_the_stop_is_put_right_too():
    node = Node(deletes_at=[], stops_at=0.3)
    node.holds_vip = False  # taken off between two reads, no event left
    result = keep(node)
    assert result['readded'] == 1 and node.holds_vip and result['errors'] == []


def test_an_engine_that_keeps_the_vip_is_left_alone():
    node = Node(deletes_at=[], stops_at=0.5)
    result = keep(node, units=['heartbeat'])
    assert result == {'stopped': ['heartbeat'], 'readded': 0, 'longest_off_seconds': 0.0, 'errors': []}


def test_a_unit_that_does_not_stop_is_said():
    node = Node(deletes_at=[], stops_at=1e9)
    result = keep(node, timeout=2.0)
    assert result['stopped'] == [] and result['errors'] == ['keepalived still running after 2.0 s']


def test_a_vip_that_cannot_be_put_back_is_said():
    node = Node(deletes_at=[0.1], stops_at=0.5, add_fails=True)
    result = keep(node)
    assert result['readded'] == 0
    assert result['errors'][0] == 'cannot put the VIP back: RTNETLINK answers: Operation not permitted'
