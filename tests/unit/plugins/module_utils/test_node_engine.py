# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The engines as seen from a node (module_utils/node_engine.py), with their commands faked: heartbeat's cl_status,
hb_standby and agents; keepalived's unit, notify script's state file, track file, `ip addr del` and --config-test."""

from __future__ import annotations

import os
import stat
import subprocess

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
    ({('hbstatus',): (0, ''), ('rscstatus',): (0, 'none'), ('nodestatus', 'loadb2'): (1, 'dead')},
     {'running': True, 'peer': 'dead', 'transition': False, 'resources': 'none'}, False),
    ({('hbstatus',): (1, 'Heartbeat is stopped')}, {'running': False, 'peer': None, 'transition': False, 'resources': None},
     False),
])
def test_heartbeat_state_from_cl_status(monkeypatch, answers, expected, whole):
    fake(monkeypatch, answers)
    state = node_engine.adapter(SETTINGS).state('loadb2')
    assert dict(state) == expected and state.whole is whole


# What cl_status 3.0.6 answers (tools/cl_status.c, nodestatus): the status on stdout, exit 0 for active, up and ping,
# 1 (NORMAL_FAIL) for any other status, dead among them; 1 with only an error on stderr when heartbeat does not answer.
# The monitor once took (0, 'dead') for heartbeat's word on a dead peer, which cl_status never gives: no holder ever
# saw its peer declared dead, and a healed split waited for heartbeat's restart to lose its second holder (issue 20).
@pytest.mark.parametrize('answer, dead', [
    ((1, 'dead'), True),
    ((0, 'active'), False),
    ((0, 'up'), False),
    ((0, 'ping'), False),
    ((1, 'Cannot signon with heartbeat'), False),   # its API does not answer: nothing declared
    ((13, 'dead'), False),                          # an error of cl_status itself
    ((None, 'timed out after 5.0 s'), False),
])
def test_heartbeat_s_word_on_a_dead_peer_is_one_cl_status(monkeypatch, answer, dead):
    ran = fake(monkeypatch, {('nodestatus', 'loadb2'): answer})
    assert node_engine.adapter(SETTINGS).peer_declared_dead('loadb2') is dead
    assert ran == [['/usr/bin/cl_status', 'nodestatus', 'loadb2']]


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


# --- keepalived ---------------------------------------------------------------------------------------------------

VIP_SHOW = ('-4', '-o', 'addr', 'show', 'to', '198.51.100.10/32')
IS_ACTIVE = ('is-active', 'keepalived')
HOLDS_VIP = '2: eth0    inet 198.51.100.10/26 scope global secondary eth0:0'


@pytest.fixture
def keepalived(tmp_path):
    """A KeepalivedNode whose runtime directory is tmp_path/run (made by the test where it should exist)."""
    run_dir = tmp_path / 'run'
    settings = {'engine': 'keepalived', 'service': 'keepalived', 'vip': '198.51.100.10',
                'track_file': str(run_dir / 'track'), 'state_file': str(run_dir / 'state')}
    return node_engine.adapter(settings)


def _said(adapter, text):
    """What keepalived's notify script would have written."""
    path = adapter.settings['state_file']
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='ascii') as handle:
        handle.write(text)


def test_the_keepalived_adapter_is_picked_by_the_engines_name(keepalived):
    assert isinstance(keepalived, node_engine.KeepalivedNode)
    assert keepalived.restarts_after_partition is False
    assert keepalived.log_command() is None and keepalived.heal_event('Cluster node x returning after partition') is False


@pytest.mark.parametrize('unit, status', [((0, 'active'), 'running'), ((3, 'inactive'), 'stopped'),
                                          ((3, 'failed'), 'stopped'), ((3, 'activating'), 'stopped'),
                                          ((None, 'timed out after 5.0 s'), 'stopped')])
def test_keepalived_runs_when_its_unit_is_active(monkeypatch, keepalived, unit, status):
    ran = fake(monkeypatch, {IS_ACTIVE: unit})
    assert keepalived.status() == status
    assert ran == [['systemctl', 'is-active', 'keepalived']]


# (what the notify script wrote, what the track file holds, whether the kernel has the VIP) -> the VRRP state
@pytest.mark.parametrize('said, track, kernel, expected', [
    ('MASTER\n', None, False, 'MASTER'),
    ('BACKUP\n', None, True, 'BACKUP'),           # keepalived's word wins over the kernel's
    ('FAULT\n', '0', False, 'FAULT'),
    ('STOP\n', None, False, 'STOP'),
    (None, None, True, 'MASTER'),                 # no word: the VIP in the kernel
    (None, '1', False, 'FAULT'),                  # no word, held back by the track file
    (None, '0', False, 'BACKUP'),
    (None, None, False, 'BACKUP'),
    ('garbage\n', None, False, 'BACKUP'),         # no state keepalived writes
    ('', '1', True, 'MASTER'),
    ('master\n', None, False, 'BACKUP'),          # the script writes upper case only
])
def test_the_vrrp_state_is_keepalived_s_word_else_the_kernel_and_the_track_file(
        monkeypatch, keepalived, said, track, kernel, expected):
    fake(monkeypatch, {VIP_SHOW: (0, HOLDS_VIP if kernel else '')})
    if said is not None:
        _said(keepalived, said)
    if track is not None:
        os.makedirs(os.path.dirname(keepalived.settings['track_file']), exist_ok=True)
        with open(keepalived.settings['track_file'], 'w', encoding='ascii') as handle:
            handle.write(track + '\n')
    assert keepalived.vrrp_state() == expected


def test_without_a_vip_in_the_settings_the_kernel_is_not_asked(monkeypatch, keepalived):
    ran = fake(monkeypatch, {})
    del keepalived.settings['vip']
    assert keepalived.vrrp_state() == 'BACKUP' and ran == []


@pytest.mark.parametrize('said, expected, whole, holds', [
    ('MASTER', {'running': True, 'peer': 'active', 'transition': False, 'resources': 'MASTER'}, True, True),
    ('BACKUP', {'running': True, 'peer': 'active', 'transition': False, 'resources': 'BACKUP'}, True, False),
    ('FAULT', {'running': True, 'peer': 'fault', 'transition': False, 'resources': 'FAULT'}, False, False),
    ('STOP', {'running': True, 'peer': 'stop', 'transition': False, 'resources': 'STOP'}, False, False),
])
def test_keepalived_s_view_of_the_pair(monkeypatch, keepalived, said, expected, whole, holds):
    """VRRP keeps no view of the peer: 'active' while this node takes part (MASTER or BACKUP)."""
    fake(monkeypatch, {IS_ACTIVE: (0, 'active')})
    _said(keepalived, said + '\n')
    state = keepalived.state('loadb2')
    assert dict(state) == expected and state.whole is whole
    assert keepalived.holds_resources(state) is holds


def test_a_stopped_keepalived_says_nothing_of_the_pair(monkeypatch, keepalived):
    ran = fake(monkeypatch, {IS_ACTIVE: (3, 'inactive')})
    _said(keepalived, 'MASTER\n')
    state = keepalived.state('loadb2')
    assert dict(state) == {'running': False, 'peer': None, 'transition': False, 'resources': None}
    assert not state.whole and keepalived.holds_resources(state) is None
    assert ran == [['systemctl', 'is-active', 'keepalived']]


def _track(adapter):
    with open(adapter.settings['track_file'], encoding='ascii') as handle:
        return handle.read()


def test_keepalived_hands_over_and_takes_back_through_the_track_file(monkeypatch, keepalived):
    """give_up: 1, the instance goes to FAULT (weight 0); take_back: 0. No command runs: keepalived reads the file."""
    ran = fake(monkeypatch, {})
    assert keepalived.given_up() is False                         # no file: nothing held back
    assert keepalived.give_up() == (0, '')
    assert _track(keepalived) == '1\n' and keepalived.given_up() is True
    assert keepalived.take_back() == (0, '')
    assert _track(keepalived) == '0\n' and keepalived.given_up() is False
    assert ran == []


def test_the_track_file_is_replaced_whole_and_readable_by_keepalived(monkeypatch, keepalived):
    """keepalived reads the file whenever it changes (inotify): it must never see it half written."""
    os.makedirs(os.path.dirname(keepalived.settings['track_file']))
    replaced = []
    real_replace = node_engine.os.replace

    def replace(source, target):
        with open(source, encoding='ascii') as handle:
            replaced.append((source, target, handle.read()))
        real_replace(source, target)
    monkeypatch.setattr(node_engine.os, 'replace', replace)
    keepalived.give_up()
    path = keepalived.settings['track_file']
    assert replaced == [(path + '.tmp', path, '1\n')]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert os.listdir(os.path.dirname(path)) == ['track']


def test_the_track_file_s_directory_is_made_when_missing(keepalived):
    keepalived.settings['track_file'] = os.path.join(os.path.dirname(keepalived.settings['track_file']), 'a', 'track')
    assert keepalived.give_up() == (0, '') and _track(keepalived) == '1\n'


def test_a_track_file_that_cannot_be_written_is_an_error_not_an_exception(keepalived, tmp_path):
    os.makedirs(keepalived.settings['track_file'])            # a directory where the file should be
    rc, out = keepalived.give_up()
    assert rc == 1 and out


@pytest.mark.parametrize('content, held', [('1\n', True), ('0\n', False), ('0', False), ('', False), ('\n', False),
                                           ('2\n', True), ('maintenance\n', True)])
def test_anything_but_0_in_the_track_file_holds_the_node_back(keepalived, content, held):
    os.makedirs(os.path.dirname(keepalived.settings['track_file']))
    with open(keepalived.settings['track_file'], 'w', encoding='ascii') as handle:
        handle.write(content)
    assert keepalived.given_up() is held


def test_keepalived_s_release_takes_the_vip_off_its_interface(monkeypatch, keepalived):
    ran = fake(monkeypatch, {})
    logged = []
    keepalived.release(lambda level, message, **fields: logged.append((level, message, fields)),
                       vip='198.51.100.10', prefix=26, interface='eth0')
    assert ran == [['ip', '-4', 'addr', 'del', '198.51.100.10/26', 'dev', 'eth0']]
    assert logged == [('notice', 'release the VIP', {'rc': 0, 'output': ''})]


def test_keepalived_s_release_of_a_vip_already_gone_is_no_error(monkeypatch, keepalived):
    """After a clean stop keepalived took the VIP off itself: `ip addr del` fails, and that is fine."""
    fake(monkeypatch, {('-4', 'addr', 'del', '198.51.100.10/26', 'dev', 'eth0'):
                       (2, 'RTNETLINK answers: Cannot assign requested address')})
    logged = []
    keepalived.release(lambda level, message, **fields: logged.append(level), vip='198.51.100.10', prefix=26,
                       interface='eth0')
    assert logged == ['info']


@pytest.mark.parametrize('vip, interface', [(None, 'eth0'), ('198.51.100.10', None), ('', '')])
def test_keepalived_s_release_without_the_vip_in_the_settings_runs_nothing(monkeypatch, keepalived, vip, interface):
    ran = fake(monkeypatch, {})
    logged = []
    keepalived.release(lambda level, message, **fields: logged.append(level), vip=vip, prefix=26, interface=interface)
    assert ran == [] and logged == ['error']


class _ConfigTest:
    """keepalived --config-test as 2.2.7 behaves: it writes what it found to the log file its option names, kills its
    process group and so exits 143 (or, run directly, dies of SIGTERM: -15) whatever it found."""

    def __init__(self, monkeypatch, returncode=-15, logged='', output='', raises=None):
        self.calls = []
        self.log_files = []

        def run(argv, **kwargs):
            self.calls.append((argv, kwargs))
            if raises is not None:
                raise raises
            log_file = argv[1].split('=', 1)[1]
            self.log_files.append(log_file)
            with open(log_file, 'w', encoding='utf-8') as handle:
                handle.write(logged)
            return subprocess.CompletedProcess(argv, returncode, stdout=output)
        monkeypatch.setattr(node_engine.subprocess, 'run', run)


# (exit status, what it logged, what it printed) -> (verdict, messages)
@pytest.mark.parametrize('returncode, logged, output, ok, messages', [
    (-15, '', '', True, []),                                   # killed itself, nothing logged: good
    (143, '', '', True, []),                                   # the same through a shell
    (0, '', '', True, []),                                     # a keepalived that exits cleanly
    (143, '\n  \n', '', True, []),                             # blank lines are nothing
    (-15, 'Unknown keyword \'vrrp_instanse\'\n', '', False, ["Unknown keyword 'vrrp_instanse'"]),
    (143, 'line 12: bad ip\n(hapair_pair1) Unknown VRRP version\n', '', False,
     ['line 12: bad ip', '(hapair_pair1) Unknown VRRP version']),
    (1, '', 'Unrecognized option', False, ['keepalived --config-test exited 1: Unrecognized option']),
    (-9, 'killed\n', '', False, ['killed', 'keepalived --config-test exited -9: ']),
])
def test_keepalived_s_config_test_is_what_it_logged(monkeypatch, returncode, logged, output, ok, messages):
    test = _ConfigTest(monkeypatch, returncode, logged, output)
    assert node_engine.KeepalivedNode.config_test('/tmp/keepalived.conf.new') == (ok, messages)
    (argv, kwargs), = test.calls
    assert argv == ['keepalived', '--config-test=%s' % test.log_files[0], '-f', '/tmp/keepalived.conf.new']
    # A session of its own: the process group keepalived kills is its own, not the caller's (Ansible's).
    assert kwargs['start_new_session'] is True and kwargs['timeout'] == 30.0
    assert not os.path.exists(test.log_files[0])


@pytest.mark.parametrize('error', [OSError(2, 'No such file or directory: keepalived'),
                                   subprocess.TimeoutExpired(['keepalived'], 30.0)])
def test_a_config_test_that_cannot_run_fails(monkeypatch, error):
    _ConfigTest(monkeypatch, raises=error)
    ok, messages = node_engine.KeepalivedNode.config_test('/tmp/keepalived.conf.new')
    assert ok is False and messages == [str(error)]


@pytest.mark.parametrize('error, expected', [
    (subprocess.TimeoutExpired(['hb_standby'], 5), (None, 'timed out after 5 s')),
    (OSError(2, 'No such file or directory'), (None, '[Errno 2] No such file or directory')),
])
def test_a_command_that_cannot_finish_is_no_exception(monkeypatch, error, expected):
    def run(*args, **kwargs):
        raise error
    monkeypatch.setattr(node_engine.subprocess, 'run', run)
    assert node_engine.run(['hb_standby', 'all'], 5) == expected


def test_a_command_s_output_is_its_stdout_else_its_stderr(monkeypatch):
    answers = iter([subprocess.CompletedProcess([], 0, stdout='active\n', stderr=''),
                    subprocess.CompletedProcess([], 4, stdout='', stderr='Unit x.service could not be found.\n'),
                    subprocess.CompletedProcess([], 3, stdout='', stderr='')])
    monkeypatch.setattr(node_engine.subprocess, 'run', lambda *args, **kwargs: next(answers))
    assert node_engine.unit_state('keepalived') == 'active'
    assert node_engine.run(['systemctl', 'is-active', 'x'], 5) == (4, 'Unit x.service could not be found.')
    assert node_engine.unit_state('keepalived') is None


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
