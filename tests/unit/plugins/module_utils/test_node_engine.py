# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The engines as seen from a node (module_utils/node_engine.py), with their commands faked."""

from __future__ import annotations

import pytest

from ansible_collections.hapair.loadbalancer.plugins.module_utils import node_engine

SETTINGS = {'engine': 'heartbeat', 'cl_status': '/usr/bin/cl_status', 'hb_standby': '/usr/share/heartbeat/hb_standby',
            'hb_takeover': '/usr/share/heartbeat/hb_takeover'}
HARESOURCES = '''# comment
loadb1 IPaddr::198.51.100.10/26/eth0 \\
    apache2
loadb2 Filesystem::/dev/sdb::/data::ext4   # a second group
'''


def fake(monkeypatch, answers):
    ran = []

    def run(argv, timeout):
        ran.append(argv)
        return answers.get(tuple(argv[1:]), (0, ''))
    monkeypatch.setattr(node_engine, 'run', run)
    return ran


@pytest.mark.parametrize('answers, expected, whole', [
    ({('hbstatus',): (0, ''), ('rscstatus',): (0, 'all'), ('nodestatus', 'loadb2'): (0, 'active')},
     {'running': True, 'peer': 'active', 'transition': False, 'resources': 'all'}, True),
    ({('hbstatus',): (0, ''), ('rscstatus',): (0, 'transition'), ('nodestatus', 'loadb2'): (0, 'active')},
     {'running': True, 'peer': 'active', 'transition': True, 'resources': 'transition'}, False),
    ({('hbstatus',): (0, ''), ('rscstatus',): (0, 'none'), ('nodestatus', 'loadb2'): (0, 'dead')},
     {'running': True, 'peer': 'dead', 'transition': False, 'resources': 'none'}, False),
    ({('hbstatus',): (1, 'Heartbeat is stopped')}, {'running': False, 'peer': None, 'transition': False, 'resources': None},
     False),
])
def test_heartbeat_state_from_cl_status(monkeypatch, answers, expected, whole):
    fake(monkeypatch, answers)
    state = node_engine.adapter(SETTINGS).state('loadb2')
    assert dict(state) == expected and state.whole is whole


def test_heartbeat_hands_over_and_takes_back_with_its_own_commands(monkeypatch):
    ran = fake(monkeypatch, {})
    adapter = node_engine.adapter(SETTINGS)
    adapter.give_up()
    adapter.take_back()
    assert ran == [['/usr/share/heartbeat/hb_standby', 'all'], ['/usr/share/heartbeat/hb_takeover', 'local']]


def test_what_heartbeat_holds():
    adapter = node_engine.adapter(SETTINGS)
    assert adapter.holds_resources({'running': True, 'resources': 'all'}) is True
    assert adapter.holds_resources({'running': True, 'resources': 'none'}) is False
    assert adapter.holds_resources({'running': False}) is None


def test_haresources_lines_are_read_as_heartbeat_reads_them():
    assert node_engine.haresources_lines(HARESOURCES) == [
        ('loadb1', ['IPaddr::198.51.100.10/26/eth0', 'apache2']), ('loadb2', ['Filesystem::/dev/sdb::/data::ext4'])]


def test_release_stops_every_resource_in_reverse_order_with_heartbeats_agents(tmp_path):
    (tmp_path / 'IPaddr').write_text('')
    commands = node_engine.HeartbeatNode.release_commands(HARESOURCES, resource_dir=str(tmp_path), init_dir='/etc/init.d')
    assert commands == [
        ('apache2', ['/etc/init.d/apache2', 'stop']),
        ('IPaddr::198.51.100.10/26/eth0', [str(tmp_path / 'IPaddr'), '198.51.100.10/26/eth0', 'stop']),
        ('Filesystem::/dev/sdb::/data::ext4', ['/etc/init.d/Filesystem', '/dev/sdb', '/data', 'ext4', 'stop']),
    ]


def test_release_runs_the_agents_and_logs_each(monkeypatch, tmp_path):
    ran = fake(monkeypatch, {})
    haresources = tmp_path / 'haresources'
    haresources.write_text('loadb1 IPaddr::198.51.100.10/26/eth0\n')
    logged = []
    node_engine.adapter(SETTINGS).release(lambda level, message, **fields: logged.append(message), str(haresources))
    assert ran and ran[0][-2:] == ['198.51.100.10/26/eth0', 'stop'] and logged == ['stop IPaddr::198.51.100.10/26/eth0']


def test_an_unknown_engine_is_refused():
    with pytest.raises(ValueError, match='unknown engine'):
        node_engine.adapter({'engine': 'carp'})


def test_heartbeat_s_own_announcements_of_the_vip_are_stopped_after_a_release(monkeypatch):
    ran = fake(monkeypatch, {('-f', r'send_arp .*198\.51\.100\.10( |$)'): (0, '4711\n4712')})
    assert node_engine.HeartbeatNode(SETTINGS).silence('198.51.100.10') == 2
    assert ran == [['pgrep', '-f', r'send_arp .*198\.51\.100\.10( |$)'], ['pkill', '-f', r'send_arp .*198\.51\.100\.10( |$)']]


def test_nothing_to_stop_when_no_announcement_runs(monkeypatch):
    ran = fake(monkeypatch, {('-f', r'send_arp .*198\.51\.100\.10( |$)'): (1, '')})
    assert node_engine.HeartbeatNode(SETTINGS).silence('198.51.100.10') == 0
    assert [argv[0] for argv in ran] == ['pgrep']
    assert node_engine.KeepalivedNode({'engine': 'keepalived'}).silence('198.51.100.10') == 0


# --- maintenance ---------------------------------------------------------------------------------------------------

def test_heartbeat_in_maintenance_is_stopped_and_started_without_waiting_and_kept_from_starting(monkeypatch):
    ran = fake(monkeypatch, {('is-active', 'heartbeat'): (3, 'inactive')})
    adapter = node_engine.adapter(dict(SETTINGS, service='heartbeat'))
    adapter.stay_out()
    adapter.rejoin()
    assert ran[:2] == [['systemctl', 'stop', '--no-block', 'heartbeat'], ['systemctl', 'start', '--no-block', 'heartbeat']]
    assert adapter.staying_out() is True
    assert adapter.gate(True) is False and adapter.gate(False) is True
    assert adapter.rejoin_takes_over is False


def test_keepalived_in_maintenance_is_held_in_fault_by_its_tracked_file(tmp_path):
    settings = {'engine': 'keepalived', 'track_file': str(tmp_path / 'ka' / 'track'),
                'state_file': str(tmp_path / 'ka' / 'state')}
    adapter = node_engine.adapter(settings)
    assert adapter.staying_out() is False
    adapter.stay_out()
    assert (tmp_path / 'ka' / 'track').read_text() == '1\n' and adapter.staying_out() is True
    adapter.rejoin()
    assert (tmp_path / 'ka' / 'track').read_text() == '0\n' and adapter.staying_out() is False
    # Before every start: held in FAULT on a node in maintenance, and it always may start.
    assert adapter.gate(True) is True and adapter.staying_out() is True
    assert adapter.rejoin_takes_over is True
