# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read the interfaces and their IPv4 addresses from the Linux kernel over rtnetlink.

Only the standard library is used, so that the module needs neither iproute2 nor any
Python package on the managed node. This is what ``ip -4 addr show`` reads:
one RTM_GETLINK dump (names, MACs, flags) and one RTM_GETADDR dump for AF_INET
(address, prefix length and the label, ``eth0:0`` for heartbeat's IPaddr alias).

Compatible with Python 3.8 and later (this code runs on the managed node).
"""

from __future__ import annotations

import os
import socket
import struct

NETLINK_ROUTE = 0

NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x01
NLM_F_MULTI = 0x02
NLM_F_DUMP = 0x300

RTM_NEWLINK = 16
RTM_GETLINK = 18
RTM_NEWADDR = 20
RTM_DELADDR = 21
RTM_GETADDR = 22

# The multicast group of IPv4 address changes (RTMGRP_IPV4_IFADDR).
RTMGRP_IPV4_IFADDR = 0x10

IFLA_ADDRESS = 1
IFLA_IFNAME = 3

IFA_ADDRESS = 1
IFA_LOCAL = 2
IFA_LABEL = 3

IFF_UP = 0x1
IFF_LOOPBACK = 0x8

ARPHRD_ETHER = 1

# struct nlmsghdr: length, type, flags, sequence number, port id.
NLMSGHDR = struct.Struct('=IHHII')
# struct ifinfomsg: family, padding, type (ARPHRD_*), index, flags, change mask.
IFINFOMSG = struct.Struct('=BxHiII')
# struct ifaddrmsg: family, prefix length, flags, scope, interface index.
IFADDRMSG = struct.Struct('=BBBBI')
# struct rtattr: length, type.
RTATTR = struct.Struct('=HH')

RECV_SIZE = 65536
NETLINK_TIMEOUT = 5.0


class KernelReadError(Exception):
    """The kernel's interface list could not be read."""


def _align(length):
    """Netlink aligns messages and attributes to 4 bytes."""
    return (length + 3) & ~3


def parse_attributes(data, offset=0):
    """Return {type: payload bytes} of the rtattr list in data[offset:]."""
    attrs = {}
    while offset + RTATTR.size <= len(data):
        length, kind = RTATTR.unpack_from(data, offset)
        if length < RTATTR.size or offset + length > len(data):
            break
        attrs[kind] = bytes(data[offset + RTATTR.size:offset + length])
        offset += _align(length)
    return attrs


def parse_messages(data):
    """Split a netlink datagram into (type, flags, seq, payload) tuples.

    Raises KernelReadError on a truncated message or on an NLMSG_ERROR message with a
    non-zero error code.
    """
    messages = []
    offset = 0
    while offset + NLMSGHDR.size <= len(data):
        length, kind, flags, seq, dummy = NLMSGHDR.unpack_from(data, offset)
        if length < NLMSGHDR.size or offset + length > len(data):
            raise KernelReadError('truncated netlink message (%d bytes announced, %d left)' % (length, len(data) - offset))
        payload = bytes(data[offset + NLMSGHDR.size:offset + length])
        if kind == NLMSG_ERROR:
            error = struct.unpack_from('=i', payload)[0] if len(payload) >= 4 else -1
            if error != 0:
                raise KernelReadError('netlink error: %s' % os.strerror(-error))
        messages.append((kind, flags, seq, payload))
        offset += _align(length)
    return messages


def format_mac(raw):
    """Return b'\\x02\\x42...' as '02:42:...' (lower case)."""
    return ':'.join('%02x' % octet for octet in bytearray(raw))


def _cstring(raw):
    return raw.split(b'\0', 1)[0].decode('utf-8', 'replace')


def parse_link(payload):
    """Return a dict for one RTM_NEWLINK payload."""
    family, link_type, index, flags, dummy = IFINFOMSG.unpack_from(payload)
    attrs = parse_attributes(payload, IFINFOMSG.size)
    mac = attrs.get(IFLA_ADDRESS)
    return {
        'index': index,
        'name': _cstring(attrs.get(IFLA_IFNAME, b'')),
        'link_type': link_type,
        'flags': flags,
        'mac': format_mac(mac) if mac else None,
    }


def parse_address(payload):
    """Return a dict for one AF_INET RTM_NEWADDR payload, or None for another family."""
    family, prefixlen, dummy, scope, index = IFADDRMSG.unpack_from(payload)
    if family != socket.AF_INET:
        return None
    attrs = parse_attributes(payload, IFADDRMSG.size)
    # IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on point-to-point links
    # and the same as IFA_LOCAL everywhere else.
    raw = attrs.get(IFA_LOCAL, attrs.get(IFA_ADDRESS))
    if raw is None or len(raw) != 4:
        return None
    return {
        'index': index,
        'address': socket.inet_ntoa(raw),
        'prefixlen': prefixlen,
        'label': _cstring(attrs[IFA_LABEL]) if IFA_LABEL in attrs else None,
    }


def build_dump_request(kind, seq, family):
    """Return an NLM_F_DUMP request for RTM_GETLINK or RTM_GETADDR."""
    if kind == RTM_GETLINK:
        body = IFINFOMSG.pack(family, 0, 0, 0, 0)
    else:
        body = IFADDRMSG.pack(family, 0, 0, 0, 0)
    return NLMSGHDR.pack(NLMSGHDR.size + len(body), kind, NLM_F_REQUEST | NLM_F_DUMP, seq, 0) + body


def _dump(sock, kind, seq, family, reply_kind):
    sock.sendto(build_dump_request(kind, seq, family), (0, 0))
    payloads = []
    while True:
        data = sock.recv(RECV_SIZE)
        if not data:
            raise KernelReadError('netlink socket closed during the dump')
        for msg_kind, dummy, msg_seq, payload in parse_messages(data):
            if msg_seq != seq:
                continue
            if msg_kind == NLMSG_DONE:
                return payloads
            if msg_kind == reply_kind:
                payloads.append(payload)


def _netlink_socket():
    return socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)


def read_interfaces():
    """Return the interfaces with their IPv4 addresses, ordered by interface index.

    Each item: {'index', 'name', 'link_type', 'flags', 'mac', 'addresses': [{'address',
    'prefixlen', 'label'}]}. Raises KernelReadError when netlink is unavailable.
    """
    try:
        sock = _netlink_socket()
    except (AttributeError, OSError) as exc:
        raise KernelReadError('cannot open a netlink socket (Linux only): %s' % exc) from exc
    try:
        sock.settimeout(NETLINK_TIMEOUT)
        sock.bind((0, 0))
        links = [parse_link(p) for p in _dump(sock, RTM_GETLINK, 1, socket.AF_UNSPEC, RTM_NEWLINK)]
        addresses = [parse_address(p) for p in _dump(sock, RTM_GETADDR, 2, socket.AF_INET, RTM_NEWADDR)]
    except (OSError, struct.error) as exc:
        raise KernelReadError('reading the interfaces over netlink failed: %s' % exc) from exc
    finally:
        sock.close()
    by_index = {}
    for link in sorted(links, key=lambda item: item['index']):
        link['addresses'] = []
        by_index[link['index']] = link
    for addr in addresses:
        if addr is not None and addr['index'] in by_index:
            entry = dict(addr)
            del entry['index']
            by_index[addr['index']]['addresses'].append(entry)
    return list(by_index.values())


def open_address_events():
    """A non-blocking netlink socket that receives every change of an IPv4 address (RTMGRP_IPV4_IFADDR), for a
    program that wants to know at once when an address comes or goes (select() on it, then address_events())."""
    try:
        sock = _netlink_socket()
        sock.bind((0, RTMGRP_IPV4_IFADDR))
        sock.setblocking(False)
    except (AttributeError, OSError) as exc:
        raise KernelReadError('cannot listen to address changes over netlink: %s' % exc) from exc
    return sock


def address_events(sock):
    """[('add' | 'del', address dict as parse_address gives it)] of the changes queued on an open_address_events()
    socket."""
    events = []
    while True:
        try:
            data = sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return events
        for kind, dummy_flags, dummy_seq, payload in parse_messages(data):
            if kind in (RTM_NEWADDR, RTM_DELADDR):
                address = parse_address(payload)
                if address is not None:
                    events.append(('add' if kind == RTM_NEWADDR else 'del', address))
