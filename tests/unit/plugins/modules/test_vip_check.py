# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests for the vip_check module as Ansible runs it: options in, JSON out. The netlink socket
and the AF_PACKET socket are replaced through monkeypatch."""

from __future__ import annotations

import json

import pytest

from ansible_collections.hapair.loadbalancer.plugins.module_utils import vip_check_kernel as kernel
from ansible_collections.hapair.loadbalancer.plugins.modules import vip_check
from ansible_collections.hapair.loadbalancer.tests.unit.plugins.module_harness import (
    ASK_FOR_INVOCATION,
    STR_TYPE_IN_MESSAGES,
    as_managed_node,
    patch_module_args,
)
from ansible_collections.hapair.loadbalancer.tests.unit.plugins.vip_check_fakes import (
    OWN_MAC,
    PACKET_HOST,
    PEER_MAC,
    THIRD_MAC,
    VIP,
    FakeNetlinkSocket,
    PacketNetwork,
    node,
    reply,
)


def run_module(monkeypatch, capsys, args, interfaces=None, events=()):
    """Run main() with args; return (exit code, parsed JSON output, fake packet network)."""
    netlink = FakeNetlinkSocket(node() if interfaces is None else interfaces)
    monkeypatch.setattr(kernel, '_netlink_socket', lambda: netlink)
    network = PacketNetwork(monkeypatch, events)
    # warnings are collected process-wide; start each run with none (ansible-test forks per test, pytest does not)
    as_managed_node(monkeypatch)
    with patch_module_args(args), pytest.raises(SystemExit) as exit_info:
        vip_check.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out), network


def warning_texts(out):
    """The warnings' texts: plain strings before ansible-core 2.19, WarningSummary objects since."""
    return [w if isinstance(w, str) else w['event']['msg'] for w in out.get('warnings', [])]


def test_holder(monkeypatch, capsys):
    # ASK_FOR_INVOCATION: ansible-core 2.21 and later add `invocation` only when the controller asks for it.
    code, out, network = run_module(monkeypatch, capsys, dict({'vip': VIP}, **ASK_FOR_INVOCATION), node(holds_vip=True))
    assert code == 0
    assert out['changed'] is False and 'failed' not in out
    assert out['verdict'] == 'holder'
    assert out['holds_vip'] is True
    assert (out['interface'], out['label'], out['prefixlen'], out['local_mac']) == ('eth0', 'eth0:0', 28, OWN_MAC)
    assert out['responders'] == []
    assert out['arp_probe'] == {'enabled': True, 'ran': True, 'error': None, 'interface': 'eth0', 'sent': 3, 'timeout': 1.0}
    assert out['expect'] == 'any'
    assert out['invocation']['module_args'] == {'vip': VIP, 'interface': None, 'expect': 'any', 'arp_probe': True, 'timeout': 1.0}
    assert 'warnings' not in out


def test_standby(monkeypatch, capsys):
    code, out, network = run_module(monkeypatch, capsys, {'vip': VIP, 'expect': 'standby'}, node(),
                                    [(0.001, reply(PEER_MAC), PACKET_HOST)])
    assert code == 0
    assert out['verdict'] == 'standby' and out['responders'] == [PEER_MAC]
    assert out['interface'] == 'eth0' and out['label'] is None and out['prefixlen'] is None


def test_conflict_two_claimants_fails_with_every_key(monkeypatch, capsys):
    code, out, network = run_module(monkeypatch, capsys, {'vip': VIP}, node(holds_vip=True),
                                    [(0.001, reply(PEER_MAC), PACKET_HOST), (0.002, reply(THIRD_MAC), PACKET_HOST)])
    assert code == 1
    assert out['failed'] is True and out['changed'] is False
    assert out['verdict'] == 'conflict'
    assert out['responders'] == [PEER_MAC, THIRD_MAC]
    assert out['msg'].startswith('conflict: 198.51.100.230 is claimed by more than one machine: this node holds')
    assert out['local_mac'] == OWN_MAC


def test_conflict_nobody(monkeypatch, capsys):
    code, out, network = run_module(monkeypatch, capsys, {'vip': VIP}, node())
    assert code == 1
    assert out['verdict'] == 'conflict'
    assert out['msg'].startswith('conflict: nobody holds 198.51.100.230')


def test_probe_unavailable_warns(monkeypatch, capsys):
    interfaces = node(holds_vip=True)
    interfaces[1]['flags'] = 0
    code, out, network = run_module(monkeypatch, capsys, {'vip': VIP, 'expect': 'holder'}, interfaces)
    assert code == 0
    assert out['verdict'] == 'holder'
    assert out['arp_probe']['ran'] is False and out['arp_probe']['error'] == 'interface eth0 is down'
    assert warning_texts(out) == ['the ARP probe for 198.51.100.230 did not run: interface eth0 is down; '
                                  'the verdict (holder) rests on the local state only']


def test_expect_holder_fails_on_standby(monkeypatch, capsys):
    code, out, network = run_module(monkeypatch, capsys, {'vip': VIP, 'expect': 'holder'}, node(),
                                    [(0.001, reply(PEER_MAC), PACKET_HOST)])
    assert code == 1
    assert out['verdict'] == 'standby'
    assert out['msg'].endswith('(expected verdict holder)')


def test_check_mode_gives_the_same_answer(monkeypatch, capsys):
    args = {'vip': VIP, 'timeout': '0.3', 'arp_probe': 'yes', 'interface': 'eth0'}
    code, normal, network = run_module(monkeypatch, capsys, dict(args), node(holds_vip=True))
    code_check, checked, network_check = run_module(monkeypatch, capsys, dict(args, _ansible_check_mode=True), node(holds_vip=True))
    assert code == code_check == 0
    for key in ('changed', 'verdict', 'holds_vip', 'interface', 'label', 'local_mac', 'responders', 'arp_probe', 'msg'):
        assert normal[key] == checked[key]
    assert checked['changed'] is False
    assert checked['arp_probe']['timeout'] == 0.3
    assert len(network_check.socket.sent) == 3


def test_arp_probe_false(monkeypatch, capsys):
    code, out, network = run_module(monkeypatch, capsys, {'vip': VIP, 'arp_probe': False}, node())
    assert code == 0
    assert out['verdict'] == 'standby'
    assert out['arp_probe']['enabled'] is False
    assert network.opened == []
    assert 'warnings' not in out


@pytest.mark.parametrize('args, text', [
    ({}, 'missing required arguments: vip'),
    ({'vip': VIP, 'expect': 'master'}, 'value of expect must be one of: holder, standby, any, got: master'),
    ({'vip': VIP, 'timeout': 'soon'}, "argument 'timeout' is of type %s and we were unable to convert to float" % STR_TYPE_IN_MESSAGES),
    ({'vip': VIP, 'bogus': 1}, 'Unsupported parameters for'),
    ({'vip': '198.51.100.230/28'}, 'vip must be a single IPv4 address'),
    ({'vip': VIP, 'timeout': 0}, 'timeout must be more than 0'),
])
def test_bad_options(monkeypatch, capsys, args, text):
    code, out, network = run_module(monkeypatch, capsys, args)
    assert code == 1
    assert out['failed'] is True
    assert text in out['msg']


def test_missing_interface_fails(monkeypatch, capsys):
    code, out, network = run_module(monkeypatch, capsys, {'vip': VIP, 'interface': 'bond0'})
    assert code == 1
    assert out['msg'] == 'interface bond0 does not exist on this node (interfaces: eth0, lo)'
    assert out['verdict'] is None and out['holds_vip'] is False
