# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fakes for the vip_check tests: the kernel's interface list (as dicts and as netlink
datagrams), an AF_PACKET socket that replays ARP frames on a fake clock, and frame builders."""

from __future__ import annotations

import socket
import struct

from ansible_collections.hapair.loadbalancer.plugins.module_utils import vip_check_arp as arp
from ansible_collections.hapair.loadbalancer.plugins.module_utils import vip_check_kernel as kernel

VIP = '198.51.100.230'
OWN_MAC = '02:00:c6:33:64:01'
PEER_MAC = '02:00:c6:33:64:02'
THIRD_MAC = '02:00:c6:33:64:03'
CLIENT_MAC = '02:00:c6:33:64:09'

PACKET_HOST = 0
PACKET_BROADCAST = 1
PACKET_OUTGOING = 4

UP = kernel.IFF_UP | 0x40 | 0x10000  # IFF_UP | IFF_RUNNING | IFF_LOWER_UP


# --- the kernel's view, as vip_check_kernel.read_interfaces() returns it -------------------

def addr(address, prefixlen=28, label='eth0'):
    return {'address': address, 'prefixlen': prefixlen, 'label': label}


def link(index, name, mac, addresses=(), link_type=kernel.ARPHRD_ETHER, flags=UP):
    return {'index': index, 'name': name, 'link_type': link_type, 'flags': flags, 'mac': mac, 'addresses': list(addresses)}


def loopback():
    return link(1, 'lo', '00:00:00:00:00:00', [addr('127.0.0.1', 8, 'lo')], link_type=772, flags=UP | kernel.IFF_LOOPBACK)


def node(holds_vip=False, label='eth0:0', own_ip='198.51.100.226'):
    """lo plus eth0 on 198.51.100.224/28, with the VIP as alias label if holds_vip."""
    addresses = [addr(own_ip)]
    if holds_vip:
        addresses.append(addr(VIP, 28, label))
    return [loopback(), link(2, 'eth0', OWN_MAC, addresses)]


# --- frames ----------------------------------------------------------------------------------

def arp_frame(op, sender_mac, sender_ip, target_ip, target_mac='00:00:00:00:00:00', eth_dst='ff:ff:ff:ff:ff:ff', pad=True):
    frame = struct.pack(
        '!6s6sHHHBBH6s4s6s4s',
        arp.mac_to_bytes(eth_dst), arp.mac_to_bytes(sender_mac), 0x0806,
        1, 0x0800, 6, 4, op,
        arp.mac_to_bytes(sender_mac), socket.inet_aton(sender_ip), arp.mac_to_bytes(target_mac), socket.inet_aton(target_ip))
    return frame + b'\0' * (60 - len(frame)) if pad else frame


def reply(sender_mac, sender_ip=VIP, to_mac=OWN_MAC, to_ip='0.0.0.0'):
    """What Linux sends in answer to an RFC 5227 probe: unicast reply to the prober."""
    return arp_frame(arp.ARPOP_REPLY, sender_mac, sender_ip, to_ip, target_mac=to_mac, eth_dst=to_mac)


def probe_from(mac, vip=VIP):
    """Another checker's probe (sender IP 0.0.0.0): claims nothing."""
    return arp_frame(arp.ARPOP_REQUEST, mac, '0.0.0.0', vip)


def gratuitous(mac, vip=VIP):
    """Heartbeat's send_arp on takeover: sender IP = target IP = VIP."""
    return arp_frame(arp.ARPOP_REQUEST, mac, vip, vip)


# --- a fake clock and AF_PACKET socket ---------------------------------------------------------

class FakeClock:
    """Stands in for the time module in vip_check_arp; only the fake socket moves it."""

    def __init__(self, start=1000.0):
        self.start = start
        self.now = start

    def monotonic(self):
        return self.now


class FakePacketSocket:
    """Replays (seconds after the start, frame, pkttype) events; records what is sent."""

    def __init__(self, clock, events=(), interface='eth0', send_error=None, recv_error=None):
        self.clock = clock
        self.events = sorted(((clock.start + at, frame, pkttype) for at, frame, pkttype in events), key=lambda e: e[0])
        self.interface = interface
        self.send_error = send_error
        self.recv_error = recv_error
        self.sent = []
        self.timeouts = []
        self.timeout = None
        self.closed = False

    def settimeout(self, value):
        assert value is not None and value > 0
        self.timeout = value
        self.timeouts.append(value)

    def send(self, frame):
        if self.send_error:
            raise self.send_error
        self.sent.append((round(self.clock.now - self.clock.start, 6), bytes(frame)))
        return len(frame)

    def recvfrom(self, size):
        if self.recv_error:
            raise self.recv_error
        limit = self.clock.now + self.timeout
        if self.events and self.events[0][0] <= limit:
            at, frame, pkttype = self.events.pop(0)
            self.clock.now = max(self.clock.now, at)
            return frame[:size], (self.interface, 0x0806, pkttype, 1, frame[6:12])
        self.clock.now = limit
        raise TimeoutError('timed out')

    def close(self):
        self.closed = True


class PacketNetwork:
    """Installs the fake clock and socket into vip_check_arp through monkeypatch."""

    def __init__(self, monkeypatch, events=(), **kwargs):
        self.clock = FakeClock()
        self.socket = FakePacketSocket(self.clock, events, **kwargs)
        self.opened = []
        monkeypatch.setattr(arp, 'time', self.clock)
        monkeypatch.setattr(arp, 'open_socket', self.open_socket)

    def open_socket(self, interface):
        self.opened.append(interface)
        self.socket.interface = interface
        return self.socket


def install_kernel(monkeypatch, interfaces):
    """Make vip_check_kernel.read_interfaces() return a copy of interfaces."""
    def read_interfaces():
        return [dict(iface, addresses=[dict(a) for a in iface['addresses']]) for iface in interfaces]
    monkeypatch.setattr(kernel, 'read_interfaces', read_interfaces)


# --- netlink datagrams -----------------------------------------------------------------------

def rtattr(kind, data):
    length = kernel.RTATTR.size + len(data)
    return kernel.RTATTR.pack(length, kind) + data + b'\0' * ((4 - length % 4) % 4)


def nlmsg(kind, seq, payload, flags=kernel.NLM_F_MULTI):
    return kernel.NLMSGHDR.pack(kernel.NLMSGHDR.size + len(payload), kind, flags, seq, 4242) + payload


def link_payload(iface):
    body = kernel.IFINFOMSG.pack(socket.AF_UNSPEC, iface['link_type'], iface['index'], iface['flags'], 0)
    body += rtattr(kernel.IFLA_IFNAME, iface['name'].encode() + b'\0')
    if iface['mac']:
        body += rtattr(kernel.IFLA_ADDRESS, arp.mac_to_bytes(iface['mac']))
    return body


def addr_payload(index, entry, family=socket.AF_INET, with_local=True):
    body = kernel.IFADDRMSG.pack(family, entry['prefixlen'], 0, 0, index)
    raw = socket.inet_pton(family, entry['address'])
    body += rtattr(kernel.IFA_ADDRESS, raw)
    if with_local:
        body += rtattr(kernel.IFA_LOCAL, raw)
    if entry['label'] is not None:
        body += rtattr(kernel.IFA_LABEL, entry['label'].encode() + b'\0')
    return body


class FakeNetlinkSocket:
    """Answers RTM_GETLINK / RTM_GETADDR dumps for the given interfaces, two datagrams per dump."""

    def __init__(self, interfaces, extra=None, fail_on=None):
        self.interfaces = interfaces
        self.extra = extra or {}
        self.fail_on = fail_on
        self.queue = []
        self.requests = []
        self.closed = False

    def settimeout(self, value):
        pass

    def bind(self, address):
        pass

    def sendto(self, data, address):
        length, kind, flags, seq, dummy = kernel.NLMSGHDR.unpack_from(data)
        self.requests.append((kind, flags, seq, data[kernel.NLMSGHDR.size:length]))
        if kind == self.fail_on:
            self.queue.append(nlmsg(kernel.NLMSG_ERROR, seq, struct.pack('=i', -1) + data[:length], flags=0))
            return len(data)
        if kind == kernel.RTM_GETLINK:
            messages = [nlmsg(kernel.RTM_NEWLINK, seq, link_payload(i)) for i in self.interfaces]
        else:
            messages = [nlmsg(kernel.RTM_NEWADDR, seq, addr_payload(i['index'], a)) for i in self.interfaces for a in i['addresses']]
        messages += [nlmsg(t, seq, p) for t, p in self.extra.get(kind, [])]
        # an unrelated message with another sequence number, to be ignored
        messages.insert(0, nlmsg(kernel.RTM_NEWLINK if kind == kernel.RTM_GETLINK else kernel.RTM_NEWADDR, seq + 100, b'\0' * 16))
        half = len(messages) // 2
        self.queue.append(b''.join(messages[:half]))
        self.queue.append(b''.join(messages[half:]) + nlmsg(kernel.NLMSG_DONE, seq, struct.pack('=i', 0)))
        return len(data)

    def recv(self, size):
        return self.queue.pop(0)

    def close(self):
        self.closed = True
