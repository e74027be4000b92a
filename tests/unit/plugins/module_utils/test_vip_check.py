# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests for module_utils/vip_check.py (verdicts, interface choice, options) with the kernel
read and the AF_PACKET socket replaced through monkeypatch."""

from __future__ import annotations

import socket

import pytest

from ansible_collections.hapair.loadbalancer.plugins.module_utils import vip_check
from ansible_collections.hapair.loadbalancer.plugins.module_utils import vip_check_arp as arp
from ansible_collections.hapair.loadbalancer.plugins.module_utils import vip_check_kernel as kernel
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
    addr,
    arp_frame,
    gratuitous,
    install_kernel,
    link,
    loopback,
    node,
    probe_from,
    reply,
)

RESULT_KEYS = {'changed', 'vip', 'expect', 'holds_vip', 'interface', 'label', 'prefixlen', 'local_mac', 'responders',
               'arp_probe', 'verdict', 'msg'}
PROBE_KEYS = {'enabled', 'ran', 'error', 'interface', 'sent', 'timeout'}


def params(**overrides):
    base = dict(vip=VIP, interface=None, expect='any', arp_probe=True, timeout=1.0)
    base.update(overrides)
    return base


def run(monkeypatch, interfaces, events=(), **overrides):
    install_kernel(monkeypatch, interfaces)
    network = PacketNetwork(monkeypatch, events)
    result, warnings = vip_check.check(params(**overrides))
    assert set(result) - {'failed'} == RESULT_KEYS
    assert set(result['arp_probe']) == PROBE_KEYS
    assert result['changed'] is False
    return result, warnings, network


# --- the five verdict situations --------------------------------------------------------------

def test_holder(monkeypatch):
    events = [
        # the peer checks at the same time: its probe claims nothing
        (0.010, probe_from(PEER_MAC), PACKET_BROADCAST),
        # our own kernel answers that probe: outgoing, ignored
        (0.011, reply(OWN_MAC, to_mac=PEER_MAC), PACKET_OUTGOING),
        # a client asks for the VIP: its sender IP is its own, no claim
        (0.200, arp_frame(arp.ARPOP_REQUEST, CLIENT_MAC, '198.51.100.225', VIP), PACKET_BROADCAST),
    ]
    result, warnings, network = run(monkeypatch, node(holds_vip=True), events)
    assert result['verdict'] == 'holder'
    assert 'failed' not in result
    assert warnings == []
    assert result['holds_vip'] is True
    assert (result['interface'], result['label'], result['prefixlen']) == ('eth0', 'eth0:0', 28)
    assert result['local_mac'] == OWN_MAC
    assert result['responders'] == []
    assert result['arp_probe'] == dict(enabled=True, ran=True, error=None, interface='eth0', sent=3, timeout=1.0)
    assert network.opened == ['eth0']
    assert network.socket.closed
    assert result['msg'] == ('holder: this node holds 198.51.100.230 on eth0 (label eth0:0, MAC %s); '
                             'no other MAC claimed it (ARP probe on eth0, 1.0 s)' % OWN_MAC)


def test_standby(monkeypatch):
    events = [(0.002, reply(PEER_MAC), PACKET_HOST), (0.335, reply(PEER_MAC), PACKET_HOST), (0.668, reply(PEER_MAC), PACKET_HOST)]
    result, warnings, network = run(monkeypatch, node(holds_vip=False), events)
    assert result['verdict'] == 'standby'
    assert 'failed' not in result
    assert warnings == []
    assert result['holds_vip'] is False
    assert (result['interface'], result['label'], result['prefixlen']) == ('eth0', None, None)
    assert result['responders'] == [PEER_MAC]
    assert result['arp_probe']['ran'] is True
    assert result['msg'] == ('standby: this node does not hold 198.51.100.230 (interface eth0, MAC %s); '
                             '1 other MAC claimed it (ARP probe on eth0, 1.0 s): %s' % (OWN_MAC, PEER_MAC))


def test_conflict_this_node_and_another(monkeypatch):
    result, warnings, network = run(monkeypatch, node(holds_vip=True), [(0.001, reply(PEER_MAC), PACKET_HOST)])
    assert result['verdict'] == 'conflict'
    assert result['failed'] is True
    assert result['responders'] == [PEER_MAC]
    assert result['msg'].startswith('conflict: 198.51.100.230 is claimed by more than one machine: this node holds '
                                    'it on eth0 (label eth0:0, MAC %s); 1 other MAC claimed it' % OWN_MAC)
    assert result['msg'].endswith(': %s (expected no conflict)' % PEER_MAC)


def test_conflict_two_other_claimants(monkeypatch):
    events = [(0.001, reply(THIRD_MAC), PACKET_HOST), (0.002, reply(PEER_MAC), PACKET_HOST), (0.4, reply(THIRD_MAC), PACKET_HOST)]
    result, warnings, network = run(monkeypatch, node(holds_vip=False), events)
    assert result['verdict'] == 'conflict'
    assert result['failed'] is True
    assert result['responders'] == [PEER_MAC, THIRD_MAC]
    assert 'is claimed by more than one machine' in result['msg']
    assert '2 other MACs claimed it (ARP probe on eth0, 1.0 s): %s, %s' % (PEER_MAC, THIRD_MAC) in result['msg']


def test_conflict_nobody_holds_it(monkeypatch):
    result, warnings, network = run(monkeypatch, node(holds_vip=False), [(0.1, probe_from(PEER_MAC), PACKET_BROADCAST)])
    assert result['verdict'] == 'conflict'
    assert result['failed'] is True
    assert result['responders'] == []
    assert result['msg'] == ('conflict: nobody holds 198.51.100.230: this node does not hold it '
                             '(interface eth0, MAC %s); no other MAC claimed it (ARP probe on eth0, 1.0 s) '
                             '(expected no conflict)' % OWN_MAC)


@pytest.mark.parametrize('holds_vip, verdict', [(True, 'holder'), (False, 'standby')])
def test_probe_unavailable_keeps_the_local_answer(monkeypatch, holds_vip, verdict):
    install_kernel(monkeypatch, node(holds_vip=holds_vip))

    def no_raw_socket(*args):
        raise PermissionError(1, 'Operation not permitted')

    monkeypatch.setattr(arp.socket, 'socket', no_raw_socket)
    result, warnings = vip_check.check(params())
    assert result['verdict'] == verdict
    assert 'failed' not in result
    assert result['responders'] == []
    probe = result['arp_probe']
    assert probe['ran'] is False and probe['enabled'] is True and probe['sent'] == 0
    assert probe['error'] == 'no permission to open a raw socket, CAP_NET_RAW is missing: Operation not permitted'
    assert warnings == ['the ARP probe for 198.51.100.230 did not run: %s; the verdict (%s) rests on the local state only'
                        % (probe['error'], verdict)]
    assert result['msg'].startswith('%s: this node ' % verdict)
    assert result['msg'].endswith('; ARP probe did not run (%s), verdict from the local state only' % probe['error'])


def test_probe_disabled_opens_no_socket_and_does_not_warn(monkeypatch):
    result, warnings, network = run(monkeypatch, node(holds_vip=True), arp_probe=False)
    assert network.opened == []
    assert result['verdict'] == 'holder'
    assert result['arp_probe'] == dict(enabled=False, ran=False, error=None, interface='eth0', sent=0, timeout=1.0)
    assert warnings == []
    assert result['msg'].endswith('; ARP probe disabled (arp_probe=false), verdict from the local state only')


# --- expect --------------------------------------------------------------------------------------

@pytest.mark.parametrize('expect, verdict, fails', [
    ('any', 'holder', False), ('any', 'standby', False), ('any', 'conflict', True),
    ('holder', 'holder', False), ('holder', 'standby', True), ('holder', 'conflict', True),
    ('standby', 'holder', True), ('standby', 'standby', False), ('standby', 'conflict', True),
])
def test_expect(monkeypatch, expect, verdict, fails):
    holds_vip = verdict == 'holder'
    events = [] if verdict != 'standby' else [(0.001, reply(PEER_MAC), PACKET_HOST)]
    result, warnings, network = run(monkeypatch, node(holds_vip=holds_vip), events, expect=expect)
    assert result['verdict'] == verdict
    assert result.get('failed', False) is fails
    assert result['expect'] == expect
    if fails:
        assert result['msg'].endswith('(expected %s)' % ('no conflict' if expect == 'any' else 'verdict ' + expect))
    else:
        assert '(expected' not in result['msg']


def test_expect_holder_passes_on_local_answer_when_probe_cannot_run(monkeypatch):
    interfaces = node(holds_vip=True)
    interfaces[1]['flags'] = 0  # eth0 down
    result, warnings, network = run(monkeypatch, interfaces, expect='holder')
    assert result['verdict'] == 'holder' and 'failed' not in result
    assert result['arp_probe']['error'] == 'interface eth0 is down'
    assert network.opened == []
    assert len(warnings) == 1


# --- claims seen during the probe ----------------------------------------------------------------

def test_gratuitous_arp_counts_as_a_claim(monkeypatch):
    result, warnings, network = run(monkeypatch, node(), [(0.9, gratuitous(PEER_MAC), PACKET_BROADCAST)])
    assert result['verdict'] == 'standby'
    assert result['responders'] == [PEER_MAC]


def test_own_mac_is_never_a_responder(monkeypatch):
    # e.g. a frame with our MAC that is not marked outgoing (bridge echo)
    result, warnings, network = run(monkeypatch, node(holds_vip=True), [(0.1, gratuitous(OWN_MAC), PACKET_BROADCAST)])
    assert result['verdict'] == 'holder'
    assert result['responders'] == []


def test_claims_after_the_timeout_are_not_counted(monkeypatch):
    events = [(0.99, reply(PEER_MAC), PACKET_HOST), (1.01, reply(THIRD_MAC), PACKET_HOST)]
    result, warnings, network = run(monkeypatch, node(), events)
    assert result['responders'] == [PEER_MAC]
    assert result['verdict'] == 'standby'


def test_probes_are_spread_over_the_timeout(monkeypatch):
    result, warnings, network = run(monkeypatch, node(), [(0.001, reply(PEER_MAC), PACKET_HOST)], timeout=0.6)
    assert [round(at, 3) for at, frame in network.socket.sent] == [0.0, 0.2, 0.4]
    assert all(frame == arp.build_probe(OWN_MAC, VIP) for at, frame in network.socket.sent)
    assert network.clock.now - network.clock.start == pytest.approx(0.6)
    assert result['arp_probe']['sent'] == 3
    assert result['arp_probe']['timeout'] == 0.6


@pytest.mark.parametrize('error, text', [
    (OSError(100, 'Network is down'), 'cannot send an ARP probe on eth0: Network is down'),
])
def test_send_error_is_a_probe_error(monkeypatch, error, text):
    install_kernel(monkeypatch, node(holds_vip=True))
    network = PacketNetwork(monkeypatch, send_error=error)
    result, warnings = vip_check.check(params())
    assert result['arp_probe']['error'] == text
    assert result['arp_probe']['ran'] is False
    assert result['verdict'] == 'holder'
    assert network.socket.closed


def test_recv_error_is_a_probe_error(monkeypatch):
    install_kernel(monkeypatch, node())
    PacketNetwork(monkeypatch, recv_error=OSError(100, 'Network is down'))
    result, warnings = vip_check.check(params())
    assert result['arp_probe']['error'] == 'cannot receive on eth0: Network is down'
    assert result['verdict'] == 'standby'


# --- which interface ----------------------------------------------------------------------------

def test_interface_from_subnet_when_vip_not_held(monkeypatch):
    interfaces = [loopback(), link(2, 'eth0', '02:00:00:00:00:aa', [addr('192.0.2.10', 24, 'eth0')]),
                  link(3, 'eth1', OWN_MAC, [addr('198.51.100.226', 28, 'eth1')])]
    result, warnings, network = run(monkeypatch, interfaces, [(0.01, reply(PEER_MAC), PACKET_HOST)])
    assert result['interface'] == 'eth1'
    assert result['local_mac'] == OWN_MAC
    assert network.opened == ['eth1']
    assert result['verdict'] == 'standby'


def test_several_subnet_matches_warn_and_use_the_first(monkeypatch):
    interfaces = [loopback(), link(2, 'eth0', OWN_MAC, [addr('198.51.100.226', 28)]),
                  link(3, 'eth1', '02:00:00:00:00:bb', [addr('198.51.100.1', 24, 'eth1')])]
    result, warnings, network = run(monkeypatch, interfaces, [(0.01, reply(PEER_MAC), PACKET_HOST)])
    assert result['interface'] == 'eth0'
    assert warnings == ['several interfaces have a subnet that contains 198.51.100.230 (eth0, eth1); using eth0']


def test_no_interface_for_the_vip_fails_clearly(monkeypatch):
    interfaces = [loopback(), link(2, 'eth0', OWN_MAC, [addr('192.0.2.10', 24)]), link(3, 'eth1', '02:00:00:00:00:bb')]
    result, warnings, network = run(monkeypatch, interfaces)
    assert result['failed'] is True
    assert result['verdict'] is None and result['interface'] is None and result['local_mac'] is None
    assert result['msg'] == ('198.51.100.230 is not configured on this node and no interface has an IPv4 subnet that '
                             'contains it (IPv4 addresses: lo 127.0.0.1/8, eth0 192.0.2.10/24); '
                             'set the interface option')
    assert network.opened == []


def test_no_interface_fails_even_without_probe(monkeypatch):
    result, warnings, network = run(monkeypatch, [loopback()], arp_probe=False)
    assert result['failed'] is True and result['verdict'] is None


def test_interface_option_without_subnet(monkeypatch):
    interfaces = [loopback(), link(2, 'eth0', OWN_MAC, [addr('192.0.2.10', 24)])]
    result, warnings, network = run(monkeypatch, interfaces, [(0.01, reply(PEER_MAC), PACKET_HOST)], interface=' eth0 ')
    assert result['interface'] == 'eth0' and network.opened == ['eth0']
    assert result['verdict'] == 'standby'
    assert warnings == []


def test_interface_option_that_does_not_exist_fails(monkeypatch):
    result, warnings, network = run(monkeypatch, node(holds_vip=True), interface='eth7')
    assert result['failed'] is True
    assert result['msg'] == 'interface eth7 does not exist on this node (interfaces: eth0, lo)'
    assert result['holds_vip'] is True and result['verdict'] is None
    assert network.opened == []


def test_interface_option_with_a_label_gets_a_hint(monkeypatch):
    result, warnings, network = run(monkeypatch, node(holds_vip=True), interface='eth0:0')
    assert result['failed'] is True
    assert result['msg'] == ('interface eth0:0 does not exist on this node (interfaces: eth0, lo); '
                             'eth0:0 looks like an address label, the interface is eth0')


def test_interface_option_other_than_the_holder_warns(monkeypatch):
    interfaces = node(holds_vip=True) + [link(3, 'eth1', '02:00:00:00:00:bb', [addr('10.0.0.1', 24, 'eth1')])]
    result, warnings, network = run(monkeypatch, interfaces, interface='eth1')
    assert result['interface'] == 'eth0' and result['label'] == 'eth0:0'
    assert result['arp_probe']['interface'] == 'eth1' and result['local_mac'] == '02:00:00:00:00:bb'
    assert warnings == ['198.51.100.230 is configured on eth0 but the ARP probe runs on eth1 as requested']
    assert network.opened == ['eth1']


def test_vip_configured_twice_warns(monkeypatch):
    interfaces = node(holds_vip=True) + [link(3, 'eth1', '02:00:00:00:00:bb', [addr(VIP, 32, 'eth1')])]
    result, warnings, network = run(monkeypatch, interfaces, interface='eth1')
    assert (result['interface'], result['label'], result['prefixlen']) == ('eth1', 'eth1', 32)
    assert warnings == ['198.51.100.230 is configured more than once on this node: eth0 (label eth0:0), eth1 (label eth1)']


def test_vip_without_alias_label(monkeypatch):
    result, warnings, network = run(monkeypatch, node(holds_vip=True, label='eth0'))
    assert result['label'] == 'eth0' and result['verdict'] == 'holder'


@pytest.mark.parametrize('iface, error', [
    (link(2, 'eth0', OWN_MAC, [addr(VIP)], flags=0), 'interface eth0 is down'),
    (link(2, 'eth0', None, [addr(VIP)], link_type=65534), 'interface eth0 is not an Ethernet interface (link type 65534)'),
])
def test_interface_unsuitable_for_probe(monkeypatch, iface, error):
    result, warnings, network = run(monkeypatch, [loopback(), iface])
    assert result['arp_probe']['error'] == error
    assert network.opened == []
    assert result['verdict'] == 'holder'


def test_loopback_is_never_chosen_by_subnet(monkeypatch):
    lo = loopback()
    lo['addresses'].append(addr('198.51.100.225', 28, 'lo'))
    result, warnings, network = run(monkeypatch, [lo])
    assert result['failed'] is True
    assert 'no interface has an IPv4 subnet that contains it' in result['msg']


def test_kernel_read_error_fails(monkeypatch):
    def broken():
        raise kernel.KernelReadError('cannot open a netlink socket (Linux only): nope')

    monkeypatch.setattr(kernel, 'read_interfaces', broken)
    result, warnings = vip_check.check(params())
    assert result['failed'] is True
    assert result['msg'] == 'cannot read the local interfaces: cannot open a netlink socket (Linux only): nope'


# --- options -------------------------------------------------------------------------------------

@pytest.mark.parametrize('overrides, message', [
    (dict(vip='198.51.100.230/28'), "vip must be a single IPv4 address such as 198.51.100.230 (no prefix length); got '198.51.100.230/28'"),
    (dict(vip='vip.example.com'), "vip must be a single IPv4 address such as 198.51.100.230 (no prefix length); got 'vip.example.com'"),
    (dict(vip='2001:db8::1'), "vip must be a single IPv4 address such as 198.51.100.230 (no prefix length); got '2001:db8::1'"),
    (dict(vip='127.0.0.2'), 'vip must be a unicast IPv4 address usable as a service address; got 127.0.0.2'),
    (dict(vip='0.0.0.0'), 'vip must be a unicast IPv4 address usable as a service address; got 0.0.0.0'),
    (dict(vip='224.0.0.18'), 'vip must be a unicast IPv4 address usable as a service address; got 224.0.0.18'),
    (dict(vip='255.255.255.255'), 'vip must be a unicast IPv4 address usable as a service address; got 255.255.255.255'),
    (dict(timeout=0.0), 'timeout must be more than 0 and at most 60 seconds; got 0.0'),
    (dict(timeout=-1.0), 'timeout must be more than 0 and at most 60 seconds; got -1.0'),
    (dict(timeout=60.5), 'timeout must be more than 0 and at most 60 seconds; got 60.5'),
    (dict(interface='  '), 'interface must be an interface name such as eth0, or left out; got an empty string'),
])
def test_bad_options_fail_before_reading_anything(monkeypatch, overrides, message):
    def must_not_run():
        raise AssertionError('kernel read despite bad options')

    monkeypatch.setattr(kernel, 'read_interfaces', must_not_run)
    result, warnings = vip_check.check(params(**overrides))
    assert result['failed'] is True
    assert result['msg'] == message
    assert result['verdict'] is None


def test_vip_is_normalized(monkeypatch):
    result, warnings, network = run(monkeypatch, node(holds_vip=True), vip=' 198.51.100.230 ')
    assert result['vip'] == VIP and result['verdict'] == 'holder'


# --- the pure rules ------------------------------------------------------------------------------

@pytest.mark.parametrize('holds_vip, responders, ran, verdict', [
    (True, [], True, 'holder'),
    (True, [PEER_MAC], True, 'conflict'),
    (True, [PEER_MAC, THIRD_MAC], True, 'conflict'),
    (False, [], True, 'conflict'),
    (False, [PEER_MAC], True, 'standby'),
    (False, [PEER_MAC, THIRD_MAC], True, 'conflict'),
    (True, [], False, 'holder'),
    (False, [], False, 'standby'),
])
def test_judge(holds_vip, responders, ran, verdict):
    assert vip_check.judge(holds_vip, responders, ran) == verdict
    assert verdict in vip_check.VERDICTS


def test_results_are_stable(monkeypatch):
    events = [(0.001, reply(THIRD_MAC), PACKET_HOST), (0.002, reply(PEER_MAC), PACKET_HOST)]
    first = run(monkeypatch, node(), events)[0]
    second = run(monkeypatch, node(), list(reversed(events)))[0]
    assert first == second


def test_probe_real_socket_open_failure_without_af_packet(monkeypatch):
    monkeypatch.delattr(socket, 'AF_PACKET', raising=False)
    with pytest.raises(arp.ProbeError, match='AF_PACKET sockets are not available on this platform'):
        arp.open_socket('eth0')
