# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests for module_utils/vip_check_arp.py: ARP frame building and parsing, claim rules,
socket setup and the probe loop (on a fake clock)."""

from __future__ import annotations

import socket

import pytest

from ansible_collections.hapair.loadbalancer.plugins.module_utils import vip_check_arp as arp
from ansible_collections.hapair.loadbalancer.tests.unit.plugins.vip_check_fakes import (
    CLIENT_MAC,
    OWN_MAC,
    PACKET_BROADCAST,
    PACKET_HOST,
    PACKET_OUTGOING,
    PEER_MAC,
    THIRD_MAC,
    VIP,
    PacketNetwork,
    arp_frame,
    gratuitous,
    probe_from,
    reply,
)


def test_build_probe_is_an_rfc5227_probe():
    frame = arp.build_probe('02:00:C6:33:64:01', VIP)
    expected = (
        b'\xff\xff\xff\xff\xff\xff'     # Ethernet destination: broadcast
        b'\x02\x00\xc6\x33\x64\x01'     # Ethernet source: our MAC
        b'\x08\x06'                     # EtherType ARP
        b'\x00\x01\x08\x00\x06\x04'     # Ethernet / IPv4, lengths 6 and 4
        b'\x00\x01'                     # request
        b'\x02\x00\xc6\x33\x64\x01'     # sender MAC: ours
        b'\x00\x00\x00\x00'             # sender IP 0.0.0.0
        b'\x00\x00\x00\x00\x00\x00'     # target MAC unknown
        b'\xc6\x33\x64\xe6'             # target IP 198.51.100.230
    )
    assert frame == expected + b'\x00' * 18
    assert len(frame) == 60


def test_parse_arp_round_trip():
    assert arp.parse_arp(arp.build_probe(OWN_MAC, VIP)) == {
        'op': 1, 'sender_mac': OWN_MAC, 'sender_ip': '0.0.0.0',
        'target_mac': '00:00:00:00:00:00', 'target_ip': VIP, 'eth_src': OWN_MAC,
    }
    parsed = arp.parse_arp(reply(PEER_MAC))
    assert (parsed['op'], parsed['sender_mac'], parsed['sender_ip'], parsed['target_mac']) == (2, PEER_MAC, VIP, OWN_MAC)


def test_parse_arp_accepts_unpadded_frames():
    assert arp.parse_arp(arp_frame(2, PEER_MAC, VIP, '0.0.0.0', pad=False))['sender_ip'] == VIP


@pytest.mark.parametrize('frame', [
    b'',
    reply(PEER_MAC)[:41],                                   # truncated
    reply(PEER_MAC)[:12] + b'\x08\x00' + reply(PEER_MAC)[14:],  # EtherType IPv4
    reply(PEER_MAC)[:14] + b'\x00\x06' + reply(PEER_MAC)[16:],  # htype IEEE 802
    reply(PEER_MAC)[:16] + b'\x86\xdd' + reply(PEER_MAC)[18:],  # ptype IPv6
    reply(PEER_MAC)[:18] + b'\x06\x10' + reply(PEER_MAC)[20:],  # plen 16
])
def test_parse_arp_rejects_other_frames(frame):
    assert arp.parse_arp(frame) is None


def test_mac_conversion():
    assert arp.mac_to_bytes('02:00:c6:33:64:0A') == b'\x02\x00\xc6\x33\x64\x0a'
    assert arp.bytes_to_mac(b'\x02\x00\xc6\x33\x64\x0a') == '02:00:c6:33:64:0a'
    for bad in ('02:00:c6:33:64', '02-00-c6-33-64-0a', '02:00:c6:33:64:zz'):
        with pytest.raises(ValueError):
            arp.mac_to_bytes(bad)


@pytest.mark.parametrize('frame, pkttype, claimed', [
    (reply(PEER_MAC), PACKET_HOST, PEER_MAC),                                # answer to our probe
    (gratuitous(PEER_MAC), PACKET_BROADCAST, PEER_MAC),                      # takeover announcement
    (reply(PEER_MAC, to_mac=CLIENT_MAC, to_ip='198.51.100.225'), 3, PEER_MAC),  # answer to a client, flooded
    (reply(PEER_MAC), PACKET_OUTGOING, None),                                # sent by this host
    (reply(OWN_MAC), PACKET_HOST, None),                                     # our own MAC
    (reply(OWN_MAC.upper()), PACKET_HOST, None),
    (probe_from(THIRD_MAC), PACKET_BROADCAST, None),                         # another checker's probe
    (arp_frame(1, CLIENT_MAC, '198.51.100.225', VIP), PACKET_BROADCAST, None),  # a client asking for the VIP
    (reply(PEER_MAC, sender_ip='198.51.100.231'), PACKET_HOST, None),        # another address
    (arp_frame(3, PEER_MAC, VIP, VIP), PACKET_BROADCAST, None),              # RARP request opcode
    (b'\x00' * 60, PACKET_HOST, None),
])
def test_claimant(frame, pkttype, claimed):
    assert arp.claimant(frame, pkttype, VIP, OWN_MAC) == claimed


def test_probe_returns_sorted_unique_claimants(monkeypatch):
    events = [(0.05, reply(THIRD_MAC), PACKET_HOST), (0.10, reply(PEER_MAC), PACKET_HOST),
              (0.40, reply(THIRD_MAC), PACKET_HOST), (0.50, reply(PEER_MAC), PACKET_OUTGOING)]
    network = PacketNetwork(monkeypatch, events)
    assert arp.probe('eth0', OWN_MAC.upper(), VIP, 1.0) == ([PEER_MAC, THIRD_MAC], 3)
    assert network.opened == ['eth0']
    assert network.socket.closed
    # never waits past the next probe or the deadline
    assert max(network.socket.timeouts) <= 1.0 / 3 + 1e-9
    assert network.clock.now - network.clock.start == pytest.approx(1.0)


def test_probe_count(monkeypatch):
    network = PacketNetwork(monkeypatch)
    assert arp.probe('eth0', OWN_MAC, VIP, 0.5, count=5) == ([], 5)
    assert [round(at, 3) for at, frame in network.socket.sent] == [0.0, 0.1, 0.2, 0.3, 0.4]


class RecordingSocket:
    def __init__(self, *args):
        self.args = args
        self.bound = None
        self.closed = False

    def bind(self, address):
        if address[0] == 'nosuch0':
            raise OSError(19, 'No such device')
        self.bound = address

    def close(self):
        self.closed = True


def test_open_socket_binds_to_arp_on_the_interface(monkeypatch):
    created = []

    def factory(*args):
        created.append(RecordingSocket(*args))
        return created[-1]

    monkeypatch.setattr(arp.socket, 'socket', factory)
    sock = arp.open_socket('eth0')
    assert sock.args == (socket.AF_PACKET, socket.SOCK_RAW, 0)
    assert sock.bound == ('eth0', 0x0806)
    with pytest.raises(arp.ProbeError, match=r'^cannot bind a raw socket to nosuch0: No such device$'):
        arp.open_socket('nosuch0')
    assert created[-1].closed


@pytest.mark.parametrize('error, message', [
    (PermissionError(1, 'Operation not permitted'),
     r'^no permission to open a raw socket, CAP_NET_RAW is missing: Operation not permitted$'),
    (OSError(97, 'Address family not supported by protocol'),
     r'^cannot open a raw socket: Address family not supported by protocol$'),
])
def test_open_socket_errors(monkeypatch, error, message):
    def factory(*args):
        raise error

    monkeypatch.setattr(arp.socket, 'socket', factory)
    with pytest.raises(arp.ProbeError, match=message):
        arp.open_socket('eth0')
