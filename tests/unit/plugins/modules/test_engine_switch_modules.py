# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The engine switch's modules as Ansible runs them: engine_facts (what a node has of each engine), vip_release (the
holder lets the VIP go once another node claims it) and vip_keep (the holder stops its old engine keeping the VIP), with
systemctl, dpkg, the kernel and the segment faked."""

from __future__ import annotations

import json

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hapair.loadbalancer.plugins.module_utils import node_state, vip_release
from ansible_collections.hapair.loadbalancer.plugins.modules import engine_facts
from ansible_collections.hapair.loadbalancer.plugins.modules import vip_keep as vip_keep_module
from ansible_collections.hapair.loadbalancer.plugins.modules import vip_release as vip_release_module
from ansible_collections.hapair.loadbalancer.tests.unit.plugins.module_harness import patch_module_args
from ansible_collections.hapair.loadbalancer.tests.unit.plugins.vip_check_fakes import (
    OWN_MAC,
    PACKET_BROADCAST,
    PEER_MAC,
    VIP,
    PacketNetwork,
    gratuitous,
    install_kernel,
    node,
)

SHOW = '''Id=heartbeat.service
LoadState=loaded
ActiveState=active
SubState=running
UnitFileState=enabled
MainPID=812
ExecStart={ path=/usr/libexec/heartbeat/heartbeat }

Id=keepalived.service
LoadState=loaded
ActiveState=inactive
SubState=dead
UnitFileState=disabled
MainPID=0
ExecStart=

Id=hapair-monitor.service
LoadState=loaded
ActiveState=active
SubState=running
UnitFileState=enabled
MainPID=900
ExecStart=
'''


def run(module, monkeypatch, capsys, args):
    with patch_module_args(args), pytest.raises(SystemExit) as exit_info:
        module.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


def test_engine_facts_reads_units_packages_markers_and_the_vip(monkeypatch, capsys, tmp_path):
    ran = []

    def run_command(self, argv, **kwargs):
        ran.append(argv)
        return 0, SHOW, ''
    monkeypatch.setattr(AnsibleModule, 'get_bin_path', lambda self, name, *a, **k: '/usr/bin/' + name)
    monkeypatch.setattr(AnsibleModule, 'run_command', run_command)
    monkeypatch.setattr(node_state, 'packages', lambda names: dict((n, None if n == 'keepalived' else '1') for n in names))
    monkeypatch.setattr(node_state, 'directories',
                        lambda paths: dict((p, ['heartbeat-reload', 'heartbeat-restart', 'monitor']) for p in paths))
    install_kernel(monkeypatch, node(holds_vip=True))
    code, out = run(engine_facts, monkeypatch, capsys, {'vip': VIP})
    assert code == 0 and out['changed'] is False
    assert ran[0][-4:] == ['--', 'heartbeat', 'keepalived', 'hapair-monitor']
    assert out['engines']['heartbeat'] == {'exists': True, 'active': True, 'enabled': True, 'installed': True,
                                           'markers': ['heartbeat-reload', 'heartbeat-restart']}
    assert out['engines']['keepalived'] == {'exists': True, 'active': False, 'enabled': False, 'installed': False,
                                            'markers': []}
    assert out['running'] == ['heartbeat'] and out['holds_vip'] is True
    assert out['monitor'] == {'exists': True, 'active': True}


def test_vip_release_in_check_mode_waits_for_nothing(monkeypatch, capsys):
    install_kernel(monkeypatch, node(holds_vip=True))
    network = PacketNetwork(monkeypatch)
    code, out = run(vip_release_module, monkeypatch, capsys,
                    {'vip': VIP, 'prefix': 28, 'interface': 'eth0', 'stop': ['heartbeat'], '_ansible_check_mode': True})
    assert code == 0 and out['changed'] is True and network.opened == []
    assert out['msg'] == 'would wait until another node claims %s, then let it go here and stop heartbeat' % VIP


def test_vip_release_lets_go_after_the_claim(monkeypatch, capsys):
    install_kernel(monkeypatch, node(holds_vip=True))
    network = PacketNetwork(monkeypatch, [(1.2, gratuitous(PEER_MAC), PACKET_BROADCAST)])
    monkeypatch.setattr(vip_release_module.vip_release, 'watch', _on_fake_clock(network))
    released = []

    def release(vip, prefix, interface, units, holds, drain):
        released.append((vip, prefix, interface, units, drain))
        return {'released_at': 1000.5, 'stopped': units, 'errors': []}
    monkeypatch.setattr(vip_release_module.vip_release, 'release', release)
    code, out = run(vip_release_module, monkeypatch, capsys,
                    {'vip': VIP, 'prefix': 28, 'interface': 'eth0', 'stop': ['heartbeat'], 'timeout': 20})
    assert code == 0, out
    assert network.opened == ['eth0'] and network.socket.closed
    assert released == [(VIP, 28, 'eth0', ['heartbeat'], 0.3)]
    expected = ('released', PEER_MAC, 1.2, ['heartbeat'])
    assert (out['outcome'], out['claimed_by'], out['waited_seconds'], out['stopped']) == expected


def test_vip_release_without_a_claim_fails_and_changes_nothing(monkeypatch, capsys):
    install_kernel(monkeypatch, node(holds_vip=True))
    network = PacketNetwork(monkeypatch, [])
    monkeypatch.setattr(vip_release_module.vip_release, 'watch', _on_fake_clock(network))
    monkeypatch.setattr(vip_release_module.vip_release, 'release', lambda *a, **k: pytest.fail('released'))
    code, out = run(vip_release_module, monkeypatch, capsys,
                    {'vip': VIP, 'prefix': 28, 'interface': 'eth0', 'stop': ['keepalived'], 'timeout': 5})
    assert code == 1 and out['failed'] and out['outcome'] == 'timeout' and out['stopped'] == []
    assert out['msg'] == 'No other node claimed %s within 5.0 s: it stays on this node, and keepalived keeps running.' % VIP


def test_vip_release_needs_the_interface(monkeypatch, capsys):
    install_kernel(monkeypatch, node(holds_vip=True))
    code, out = run(vip_release_module, monkeypatch, capsys, {'vip': VIP, 'prefix': 28, 'interface': 'eth9'})
    assert code == 1 and out['msg'] == 'eth9: no such interface with a MAC address on this node'


def _on_fake_clock(network):
    real = vip_release.watch

    def watch(sock, own_mac, vip, timeout, holds):
        assert own_mac == OWN_MAC
        return real(sock, own_mac, vip, timeout, holds, clock=network.clock.monotonic)
    return watch


def test_vip_keep_in_check_mode_stops_nothing(monkeypatch, capsys):
    monkeypatch.setattr(vip_keep_module.vip_keep, 'keep', lambda *a, **k: pytest.fail('stopped'))
    code, out = run(vip_keep_module, monkeypatch, capsys, {'vip': VIP, 'prefix': 28, 'interface': 'eth0',
                                                           'stop': ['keepalived'], '_ansible_check_mode': True})
    assert code == 0 and out['changed'] is True
    assert out['msg'] == 'would stop keepalived and keep %s on this node' % VIP


def test_vip_keep_reports_what_it_did(monkeypatch, capsys):
    class Socket:
        closed = False

        def close(self):
            Socket.closed = True
    monkeypatch.setattr(vip_keep_module.kernel, 'open_address_events', Socket)
    seen = {}

    def keep(vip, units, readd, holds, events, unit_state, run, timeout):
        seen.update(vip=vip, units=units, timeout=timeout)
        return {'stopped': units, 'readded': 1, 'longest_off_seconds': 0.003, 'errors': []}
    monkeypatch.setattr(vip_keep_module.vip_keep, 'keep', keep)
    code, out = run(vip_keep_module, monkeypatch, capsys, {'vip': VIP, 'prefix': 28, 'interface': 'eth0',
                                                           'stop': ['keepalived']})
    assert code == 0 and Socket.closed
    assert seen == {'vip': VIP, 'units': ['keepalived'], 'timeout': 120.0}
    assert (out['changed'], out['stopped'], out['readded'], out['longest_off_seconds']) == (True, ['keepalived'], 1, 0.003)
