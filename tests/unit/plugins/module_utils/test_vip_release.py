# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The holder's half of a hand-over between engines (module_utils/vip_release.py), on a fake segment and clock."""

from __future__ import annotations

from ansible_collections.hapair.loadbalancer.plugins.module_utils import vip_check_arp as arp
from ansible_collections.hapair.loadbalancer.plugins.module_utils import vip_release
from ansible_collections.hapair.loadbalancer.tests.unit.plugins.vip_check_fakes import (
    OWN_MAC,
    PACKET_BROADCAST,
    PACKET_HOST,
    PACKET_OUTGOING,
    PEER_MAC,
    VIP,
    FakeClock,
    FakePacketSocket,
    gratuitous,
    probe_from,
    reply,
)


def segment(events):
    clock = FakeClock()
    return clock, FakePacketSocket(clock, events)


def test_a_gratuitous_arp_of_the_new_engine_is_the_claim():
    clock, sock = segment([(2.5, gratuitous(PEER_MAC), PACKET_BROADCAST)])
    outcome, mac, waited = vip_release.watch(sock, OWN_MAC, VIP, 30, lambda: True, clock=clock.monotonic)
    assert (outcome, mac, round(waited, 3)) == ('claimed', PEER_MAC, 2.5)
    # It probed meanwhile, every PROBE_INTERVAL from the start, with sender 0.0.0.0 (no cache changes anywhere).
    assert [at for at, dummy in sock.sent] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5][:len(sock.sent)]
    assert len(sock.sent) >= 10
    assert arp.parse_arp(sock.sent[0][1])['sender_ip'] == '0.0.0.0'
    assert arp.parse_arp(sock.sent[0][1])['target_ip'] == VIP


def test_an_answer_to_its_probe_is_a_claim_too():
    """The new engine's announcement came before the socket was open: the next probe finds it."""
    clock, sock = segment([(0.3, reply(PEER_MAC), PACKET_HOST)])
    assert vip_release.watch(sock, OWN_MAC, VIP, 30, lambda: True, clock=clock.monotonic)[:2] == ('claimed', PEER_MAC)


def test_its_own_frames_and_other_probes_claim_nothing():
    clock, sock = segment([(0.1, gratuitous(OWN_MAC), PACKET_OUTGOING), (0.2, gratuitous(OWN_MAC), PACKET_HOST),
                           (0.3, probe_from(PEER_MAC), PACKET_BROADCAST)])
    outcome, mac, waited = vip_release.watch(sock, OWN_MAC.upper(), VIP, 2, lambda: True, clock=clock.monotonic)
    assert (outcome, mac, round(waited, 3)) == ('timeout', None, 2.0)


def test_no_claim_in_time_changes_nothing():
    clock, sock = segment([(31, gratuitous(PEER_MAC), PACKET_BROADCAST)])
    assert vip_release.watch(sock, OWN_MAC, VIP, 30, lambda: True, clock=clock.monotonic)[0] == 'timeout'


def test_the_vip_leaving_by_other_means_ends_the_wait():
    clock, sock = segment([])
    answers = iter([True, True, False])
    outcome, dummy_mac, waited = vip_release.watch(sock, OWN_MAC, VIP, 30, lambda: next(answers), clock=clock.monotonic)
    assert outcome == 'gone' and round(waited, 3) == 1.0


def test_a_probe_that_cannot_be_sent_keeps_it_listening():
    clock, sock = segment([(1.0, gratuitous(PEER_MAC), PACKET_BROADCAST)])
    sock.send_error = OSError(100, 'Network is down')
    assert vip_release.watch(sock, OWN_MAC, VIP, 30, lambda: True, clock=clock.monotonic)[0] == 'claimed'


class Node:
    """The commands release() runs, and whether the node still holds the VIP after each."""

    def __init__(self, answers=None, holds_after=(False, False)):
        self.ran = []
        self.slept = []
        self.answers = answers or {}
        self.holds_after = list(holds_after)

    def run(self, argv, timeout):
        self.ran.append(' '.join(argv))
        return self.answers.get(' '.join(argv), (0, ''))

    def holds(self):
        return self.holds_after.pop(0)


def test_release_drains_deletes_then_stops_the_old_engine():
    node = Node()
    result = vip_release.release(VIP, 28, 'eth0', ['heartbeat'], node.holds, drain=0.3, run=node.run,
                                 sleep=node.slept.append, clock=lambda: 1234.5)
    assert node.slept == [0.3]
    assert node.ran == ['ip -4 addr del %s/28 dev eth0' % VIP, 'systemctl stop heartbeat']
    assert result == {'released_at': 1234.5, 'stopped': ['heartbeat'], 'errors': []}


def test_an_engine_that_put_the_vip_back_before_it_stopped_loses_it_again():
    node = Node(holds_after=[True])
    result = vip_release.release(VIP, 28, 'eth0', ['keepalived'], node.holds, run=node.run, sleep=node.slept.append)
    assert node.ran == ['ip -4 addr del %s/28 dev eth0' % VIP, 'systemctl stop keepalived',
                        'ip -4 addr del %s/28 dev eth0' % VIP]
    assert result['errors'] == []


def test_release_says_what_failed():
    delete = 'ip -4 addr del %s/28 dev eth0' % VIP
    node = Node(answers={delete: (2, 'RTNETLINK answers: Operation not permitted'),
                         'systemctl stop heartbeat': (1, 'Job failed')}, holds_after=[True, True])
    result = vip_release.release(VIP, 28, 'eth0', ['heartbeat'], node.holds, run=node.run, sleep=node.slept.append)
    assert result['stopped'] == []
    assert result['errors'] == [
        'cannot take the VIP off eth0: RTNETLINK answers: Operation not permitted',
        'cannot stop heartbeat: Job failed',
        'the VIP came back on eth0 and stays: RTNETLINK answers: Operation not permitted']
