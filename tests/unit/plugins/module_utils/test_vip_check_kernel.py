# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests for module_utils/vip_check_kernel.py: the rtnetlink dumps, parsed from fake datagrams."""

from __future__ import annotations

import socket
import struct
import sys

import pytest

from ansible_collections.hapair.loadbalancer.plugins.module_utils import vip_check_kernel as kernel
from ansible_collections.hapair.loadbalancer.tests.unit.plugins.vip_check_fakes import (
    OWN_MAC,
    VIP,
    FakeNetlinkSocket,
    addr,
    addr_payload,
    link,
    link_payload,
    loopback,
    nlmsg,
    node,
    rtattr,
)


def install(monkeypatch, fake):
    monkeypatch.setattr(kernel, '_netlink_socket', lambda: fake)
    return fake


def test_read_interfaces(monkeypatch):
    interfaces = node(holds_vip=True) + [link(5, 'eth1', '02:00:00:00:00:bb')]
    fake = install(monkeypatch, FakeNetlinkSocket(list(reversed(interfaces))))
    assert kernel.read_interfaces() == interfaces
    assert fake.closed
    (link_kind, link_flags, link_seq, dummy), (addr_kind, addr_flags, addr_seq, addr_body) = fake.requests
    assert (link_kind, link_flags) == (kernel.RTM_GETLINK, kernel.NLM_F_REQUEST | kernel.NLM_F_DUMP)
    assert (addr_kind, addr_flags) == (kernel.RTM_GETADDR, kernel.NLM_F_REQUEST | kernel.NLM_F_DUMP)
    assert link_seq != addr_seq
    assert addr_body[0] == socket.AF_INET


def test_read_interfaces_skips_other_families_and_unknown_links(monkeypatch):
    extra = {kernel.RTM_GETADDR: [
        (kernel.RTM_NEWADDR, addr_payload(2, addr('2001:db8::1'), family=socket.AF_INET6)),
        (kernel.RTM_NEWADDR, addr_payload(9, addr('10.9.9.9', 24, 'ghost0'))),
    ]}
    install(monkeypatch, FakeNetlinkSocket(node(), extra=extra))
    interfaces = kernel.read_interfaces()
    assert [(i['name'], [a['address'] for a in i['addresses']]) for i in interfaces] == [
        ('lo', ['127.0.0.1']), ('eth0', ['198.51.100.226'])]


def test_netlink_error_message(monkeypatch):
    install(monkeypatch, FakeNetlinkSocket(node(), fail_on=kernel.RTM_GETADDR))
    with pytest.raises(kernel.KernelReadError, match='^netlink error: Operation not permitted$'):
        kernel.read_interfaces()


def test_socket_errors(monkeypatch):
    def no_netlink():
        raise OSError(97, 'Address family not supported by protocol')

    monkeypatch.setattr(kernel, '_netlink_socket', no_netlink)
    with pytest.raises(kernel.KernelReadError, match=r'^cannot open a netlink socket \(Linux only\): \[Errno 97\]'):
        kernel.read_interfaces()

    class Silent(FakeNetlinkSocket):
        def recv(self, size):
            raise TimeoutError('timed out')

    fake = install(monkeypatch, Silent(node()))
    with pytest.raises(kernel.KernelReadError, match='^reading the interfaces over netlink failed: timed out$'):
        kernel.read_interfaces()
    assert fake.closed


def test_parse_address_prefers_ifa_local():
    payload = kernel.IFADDRMSG.pack(socket.AF_INET, 30, 0, 0, 3)
    payload += rtattr(kernel.IFA_ADDRESS, socket.inet_aton('10.0.0.2'))  # the peer on a point-to-point link
    payload += rtattr(kernel.IFA_LOCAL, socket.inet_aton('10.0.0.1'))
    payload += rtattr(kernel.IFA_LABEL, b'ppp0\0')
    assert kernel.parse_address(payload) == {'index': 3, 'address': '10.0.0.1', 'prefixlen': 30, 'label': 'ppp0'}
    only_address = addr_payload(4, addr(VIP, 28, 'eth0:0'), with_local=False)
    assert kernel.parse_address(only_address) == {'index': 4, 'address': VIP, 'prefixlen': 28, 'label': 'eth0:0'}


def test_parse_link():
    iface = link(2, 'eth0', OWN_MAC)
    assert kernel.parse_link(link_payload(iface)) == {k: v for k, v in iface.items() if k != 'addresses'}
    lo = loopback()
    lo['mac'] = None
    assert kernel.parse_link(link_payload(lo))['mac'] is None


def test_parse_attributes_stops_at_garbage():
    data = rtattr(1, b'abcde') + rtattr(3, b'x') + struct.pack('=HH', 200, 7)
    assert kernel.parse_attributes(data) == {1: b'abcde', 3: b'x'}


def test_parse_messages_rejects_truncated_data():
    message = nlmsg(kernel.RTM_NEWLINK, 1, b'\0' * 16)
    assert len(kernel.parse_messages(message)) == 1
    with pytest.raises(kernel.KernelReadError, match='truncated netlink message'):
        kernel.parse_messages(message[:-4])


def test_parse_messages_accepts_ack():
    ack = nlmsg(kernel.NLMSG_ERROR, 1, struct.pack('=i', 0) + b'\0' * 16, flags=0)
    assert kernel.parse_messages(ack)[0][0] == kernel.NLMSG_ERROR


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='rtnetlink is Linux only')
def test_real_kernel_lists_loopback():
    interfaces = kernel.read_interfaces()
    assert any(i['name'] == 'lo' for i in interfaces)
    assert [i['index'] for i in interfaces] == sorted(i['index'] for i in interfaces)
