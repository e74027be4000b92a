# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A raw ARP probe (RFC 5227) over an AF_PACKET socket: who claims an IPv4 address?

The probe is an ARP request with sender IP 0.0.0.0, so it changes no ARP cache on the
segment. A host that has the address configured answers it (Linux replies to such a
probe by unicast to the sender's MAC). Every ARP frame seen while listening whose sender
IP is the probed address counts as a claim: replies, but also the gratuitous ARPs that
heartbeat sends when it takes the address over. Frames this host sends itself (its own
kernel answering another prober, its own gratuitous ARPs) are ignored.

Needs CAP_NET_RAW. Compatible with Python 3.8 and later (this code runs on the managed node).
"""

from __future__ import annotations

import socket
import struct
import time

ETH_P_ARP = 0x0806
ETH_P_IP = 0x0800
ARPHRD_ETHER = 1
ARPOP_REQUEST = 1
ARPOP_REPLY = 2
PACKET_OUTGOING = 4

BROADCAST_MAC = b'\xff' * 6
ZERO_MAC = b'\x00' * 6
ZERO_IP = b'\x00' * 4

# Ethernet header: destination, source, EtherType.
ETHER_HEADER = struct.Struct('!6s6sH')
# ARP for IPv4 over Ethernet: htype, ptype, hlen, plen, op, sha, spa, tha, tpa.
ARP_PAYLOAD = struct.Struct('!HHBBH6s4s6s4s')
# Shortest Ethernet frame without the FCS; some drivers (veth) do not pad by themselves.
MIN_FRAME = 60

PROBE_COUNT = 3
RECV_SIZE = 2048


class ProbeError(Exception):
    """The ARP probe could not run; the message says why."""


def mac_to_bytes(mac):
    """'02:42:c6:33:64:e1' -> 6 bytes. Raises ValueError on anything else."""
    parts = mac.split(':')
    if len(parts) != 6:
        raise ValueError('not a MAC address: %r' % mac)
    return bytes(bytearray(int(part, 16) for part in parts))


def bytes_to_mac(raw):
    """6 bytes -> '02:42:c6:33:64:e1' (lower case)."""
    return ':'.join('%02x' % octet for octet in bytearray(raw))


def build_probe(src_mac, target_ip):
    """Return the Ethernet frame of an RFC 5227 ARP probe for target_ip sent from src_mac.

    Broadcast, op request, sender MAC src_mac, sender IP 0.0.0.0, target MAC zero,
    target IP target_ip; padded to the minimum Ethernet frame length.
    """
    src = mac_to_bytes(src_mac)
    frame = ETHER_HEADER.pack(BROADCAST_MAC, src, ETH_P_ARP) + ARP_PAYLOAD.pack(
        ARPHRD_ETHER, ETH_P_IP, 6, 4, ARPOP_REQUEST, src, ZERO_IP, ZERO_MAC, socket.inet_aton(target_ip))
    return frame + b'\x00' * (MIN_FRAME - len(frame))


def build_announcements(src_mac, ip):
    """The Ethernet frames of a gratuitous ARP for ip from src_mac: a request and a reply, both broadcast, sender and
    target IP the announced address (RFC 5227's announcement), so that neighbours update their caches at once."""
    src = mac_to_bytes(src_mac)
    address = socket.inet_aton(ip)
    frames = []
    for op, target_mac in ((ARPOP_REQUEST, ZERO_MAC), (ARPOP_REPLY, BROADCAST_MAC)):
        frame = ETHER_HEADER.pack(BROADCAST_MAC, src, ETH_P_ARP) + ARP_PAYLOAD.pack(
            ARPHRD_ETHER, ETH_P_IP, 6, 4, op, src, address, target_mac, address)
        frames.append(frame + b'\x00' * (MIN_FRAME - len(frame)))
    return frames


def parse_arp(frame):
    """Return a dict for an Ethernet frame carrying IPv4-over-Ethernet ARP, else None.

    Keys: op, sender_mac, sender_ip, target_mac, target_ip, eth_src.
    """
    if len(frame) < ETHER_HEADER.size + ARP_PAYLOAD.size:
        return None
    dummy, eth_src, ethertype = ETHER_HEADER.unpack_from(frame)
    if ethertype != ETH_P_ARP:
        return None
    htype, ptype, hlen, plen, op, sha, spa, tha, tpa = ARP_PAYLOAD.unpack_from(frame, ETHER_HEADER.size)
    if htype != ARPHRD_ETHER or ptype != ETH_P_IP or hlen != 6 or plen != 4:
        return None
    return {
        'op': op,
        'sender_mac': bytes_to_mac(sha),
        'sender_ip': socket.inet_ntoa(spa),
        'target_mac': bytes_to_mac(tha),
        'target_ip': socket.inet_ntoa(tpa),
        'eth_src': bytes_to_mac(eth_src),
    }


def claimant(frame, pkttype, vip, own_mac):
    """Return the MAC that this frame shows claiming vip, or None.

    A claim is an ARP request or reply whose sender IP is vip, not sent by this host.
    Probes (sender IP 0.0.0.0) from other checkers claim nothing.
    """
    if pkttype == PACKET_OUTGOING:
        return None
    arp = parse_arp(frame)
    if arp is None or arp['op'] not in (ARPOP_REQUEST, ARPOP_REPLY):
        return None
    if arp['sender_ip'] != vip or arp['sender_mac'] == own_mac:
        return None
    return arp['sender_mac']


def _reason(exc):
    """'Operation not permitted' rather than '[Errno 1] Operation not permitted'."""
    return exc.strerror or str(exc)


def open_socket(interface):
    """Return an AF_PACKET socket bound to interface that receives ARP frames only."""
    try:
        family = socket.AF_PACKET
    except AttributeError as exc:
        raise ProbeError('AF_PACKET sockets are not available on this platform') from exc
    try:
        # Protocol 0 at creation, so that no frame of another interface is queued before bind().
        sock = socket.socket(family, socket.SOCK_RAW, 0)
    except PermissionError as exc:
        raise ProbeError('no permission to open a raw socket, CAP_NET_RAW is missing: %s' % _reason(exc)) from exc
    except OSError as exc:
        raise ProbeError('cannot open a raw socket: %s' % _reason(exc)) from exc
    try:
        sock.bind((interface, ETH_P_ARP))
    except OSError as exc:
        sock.close()
        raise ProbeError('cannot bind a raw socket to %s: %s' % (interface, _reason(exc))) from exc
    return sock


def probe(interface, own_mac, vip, timeout, count=PROBE_COUNT):
    """Send count ARP probes for vip on interface, spread over timeout seconds, and listen.

    Listens for the whole timeout (a second claimant may answer late). Returns
    (sorted list of claimant MACs other than own_mac, number of probes sent).
    Raises ProbeError when the socket cannot be opened, bound or written to.
    """
    own_mac = own_mac.lower()
    frame = build_probe(own_mac, vip)
    sock = open_socket(interface)
    claimants = set()
    sent = 0
    try:
        start = time.monotonic()
        deadline = start + timeout
        send_at = [start + timeout * i / count for i in range(count)]
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            while sent < count and now >= send_at[sent]:
                try:
                    sock.send(frame)
                except OSError as exc:
                    raise ProbeError('cannot send an ARP probe on %s: %s' % (interface, _reason(exc))) from exc
                sent += 1
            wake = send_at[sent] if sent < count else deadline
            sock.settimeout(max(min(wake, deadline) - now, 0.001))
            try:
                data, address = sock.recvfrom(RECV_SIZE)
            except socket.timeout:
                continue
            except OSError as exc:
                raise ProbeError('cannot receive on %s: %s' % (interface, _reason(exc))) from exc
            pkttype = address[2] if len(address) > 2 else None
            mac = claimant(data, pkttype, vip, own_mac)
            if mac is not None:
                claimants.add(mac)
    finally:
        sock.close()
    return sorted(claimants), sent
