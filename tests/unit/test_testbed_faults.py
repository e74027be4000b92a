# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The test bed's own processes and faults (testbed/faults.py): the client's workers, each in a session of its own,
first in line for the CPU and gone when the process that started it is; the freeze, tried again when podman's pause
did not take, and the thaw, which unpauses only a paused node; the journals a run over its bound brings along."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'testbed'))
# pylint: disable=wrong-import-position
import faults  # noqa: E402  # testbed/faults.py

AUTOGROUP = os.path.exists('/proc/self/autogroup')


@pytest.fixture(autouse=True)
def _podman_exec_only(monkeypatch):
    """The tests here fake podman: commands in a node go through (the fake) podman exec, never nsenter."""
    monkeypatch.setattr(faults, 'ENTRIES', faults.nodeexec.Entries(lambda container: None))


def _gone(pid, within=10.0):
    """Whether process `pid` ended (gone, or a zombie) within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with open('/proc/%d/stat' % pid, encoding='ascii') as stat:
                if stat.read().rsplit(')', 1)[1].split()[0] == 'Z':
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_a_worker_leads_a_session_of_its_own():
    proc = subprocess.Popen(['sleep', '30'], preexec_fn=faults._own_session)  # pylint: disable=subprocess-popen-preexec-fn
    try:
        assert os.getsid(proc.pid) == proc.pid
        assert os.getsid(proc.pid) != os.getsid(0)
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.skipif(not AUTOGROUP, reason='a kernel without autogroup: first_in_line has nothing to set')
def test_first_in_line_gives_the_workers_group_its_nice():
    proc = subprocess.Popen(['sleep', '30'], preexec_fn=faults._own_session)  # pylint: disable=subprocess-popen-preexec-fn
    try:
        if not faults.first_in_line(proc.pid):
            pytest.skip('this user may not lower a nice value')
        with open('/proc/%d/autogroup' % proc.pid, encoding='ascii') as group:
            worker_group = group.read().split()
        with open('/proc/self/autogroup', encoding='ascii') as group:
            own_group = group.read().split()
        assert worker_group[0] != own_group[0]
        assert worker_group[-1] == str(faults.CLIENT_NICE)
    finally:
        proc.kill()
        proc.wait()


def test_first_in_line_of_a_process_that_is_gone_says_so():
    proc = subprocess.Popen(['true'])
    proc.wait()
    assert faults.first_in_line(proc.pid) is False


def test_a_worker_ends_with_the_process_that_started_it():
    # The harness (here a child Python) starts a worker and ends without stopping it: the worker must not stay. The
    # child finds faults.py and the collection where this test did (ansible-test units finds the collection with a
    # loader of its own, which a child does not inherit).
    collections = faults.engines.__file__.rsplit(os.sep + 'ansible_collections' + os.sep, 1)[0]
    code = ('import subprocess, sys\n'
            'sys.path[:0] = %r\n'
            'import faults\n'
            'proc = subprocess.Popen(["sleep", "60"], preexec_fn=faults._own_session)\n'
            'print(proc.pid, flush=True)\n') % [os.path.join(ROOT, 'testbed'), collections]
    harness = subprocess.run([sys.executable, '-c', code], check=True, stdout=subprocess.PIPE, text=True)
    worker = int(harness.stdout.split()[0])
    assert _gone(worker), 'the worker %d outlived its harness' % worker


class _Done:
    def __init__(self, returncode, stdout='', stderr=''):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


class _Bed:
    """The parts of faults.Bed a freeze uses: the holder's container, and its state as podman reports it."""

    container = {'herring': 'hapair-herring'}

    def __init__(self, state):
        self.state_now = state
        self.asked = 0

    def state(self, host):
        assert host == 'herring'
        self.asked += 1
        return self.state_now


class _Context:
    """A fault's context: the holder's freezer is a file here, which the fake podman writes as runc would."""
    holder = 'herring'
    freezer = None

    def __init__(self, state):
        self.bed = _Bed(state)
        _Context.freezer.write_text('FROZEN\n' if state == 'paused' else 'THAWED\n')
        self.state = {'freezer': str(_Context.freezer), 'thawed': 'THAWED'}
        self.marks = []

    def mark(self, at):
        self.marks.append(at)


def _fake_podman(monkeypatch, pause_results, tmp_path):
    calls, sleeps = [], []
    _Context.freezer = tmp_path / 'freezer.state'

    def podman(*args, **kwargs):
        calls.append(args)
        if args[0] == 'pause':
            result = pause_results.pop(0)
            if result.returncode == 0:
                _Context.freezer.write_text('FROZEN\n')
            return result
        if args[0] == 'unpause':
            _Context.freezer.write_text('THAWED\n')
        return _Done(0)
    monkeypatch.setattr(faults, 'podman', podman)
    monkeypatch.setattr(faults.time, 'sleep', sleeps.append)
    return calls, sleeps


def test_a_freeze_that_did_not_take_is_tried_again(monkeypatch, tmp_path):
    calls, sleeps = _fake_podman(monkeypatch, [_Done(125, stderr='unable to freeze'), _Done(0)], tmp_path)
    context = _Context('running')
    before = time.time()
    faults._freeze(context)
    assert calls == [('pause', 'hapair-herring'), ('pause', 'hapair-herring')]
    assert context.bed.asked == 1
    assert sleeps == [0.5]
    # The moment is the second attempt's, the one whose write reached the freezer.
    assert len(context.marks) == 2
    assert context.marks[0] is None and before <= context.marks[1] <= time.time()


def test_a_refused_pause_of_a_paused_node_is_a_freeze(monkeypatch, tmp_path):
    calls, dummy = _fake_podman(monkeypatch, [_Done(125, stderr='already paused')], tmp_path)
    faults._freeze(_Context('paused'))
    assert calls == [('pause', 'hapair-herring')]


def test_a_freeze_that_never_takes_says_what_podman_said(monkeypatch, tmp_path):
    calls, sleeps = _fake_podman(monkeypatch, [_Done(125, stderr='unable to freeze')] * faults.PAUSE_ATTEMPTS,
                                 tmp_path)
    with pytest.raises(RuntimeError) as error:
        faults._freeze(_Context('running'))
    assert str(error.value) == 'podman pause hapair-herring failed %d times (exit 125): unable to freeze' % (
        faults.PAUSE_ATTEMPTS)
    assert len(calls) == faults.PAUSE_ATTEMPTS
    assert len(sleeps) == faults.PAUSE_ATTEMPTS - 1


def test_a_thaw_unpauses_only_a_paused_node_and_marks_the_moment(monkeypatch, tmp_path):
    calls, dummy = _fake_podman(monkeypatch, [], tmp_path)
    context = _Context('running')
    faults._thaw(context)
    assert not calls and not context.marks
    context = _Context('paused')
    before = time.time()
    faults._thaw(context)
    assert calls == [('unpause', 'hapair-herring')]
    assert len(context.marks) == 1 and before <= context.marks[0] <= time.time()


def test_a_thaw_that_fails_says_what_podman_said(monkeypatch, tmp_path):
    calls, dummy = _fake_podman(monkeypatch, [], tmp_path)
    context = _Context('paused')
    monkeypatch.setattr(faults, 'podman', lambda *args, **kwargs: calls.append(args) or _Done(125, stderr='no such'))
    with pytest.raises(RuntimeError) as error:
        faults._thaw(context)
    assert str(error.value) == 'podman unpause hapair-herring failed (exit 125): no such'
    assert calls == [('unpause', 'hapair-herring')]


def test_the_journals_of_a_run_over_its_bound_come_from_the_nodes_that_run(monkeypatch):
    bed = faults.Bed.__new__(faults.Bed)
    bed.nodes = ['herring', 'haddock']
    bed.container = {'herring': 'hapair-herring', 'haddock': 'hapair-haddock'}
    bed.engine = faults.engines.get('heartbeat')
    states = {'hapair-herring': 'running', 'hapair-haddock': 'paused'}
    calls = []

    def podman(*args, **kwargs):
        calls.append(args)
        if args[0] == 'inspect':
            return _Done(0, stdout=''.join('%s %s\n' % (name, states[name]) for name in args[3:]))
        return _Done(0, stdout='Dec 06 07:14:01.123456 loadb1 heartbeat[123]: info: ...\n')
    monkeypatch.setattr(faults, 'podman', podman)
    found = bed.journals(1796541241.7)
    assert found == {'herring': 'Dec 06 07:14:01.123456 loadb1 heartbeat[123]: info: ...', 'haddock': '(paused)'}
    # Both nodes' states in one podman call.
    assert [call[3:] for call in calls if call[0] == 'inspect'] == [('hapair-herring', 'hapair-haddock')]
    execs = [call for call in calls if call[0] == 'exec']
    assert execs == [('exec', 'hapair-herring', 'sh', '-c',
                      "journalctl -u heartbeat -u hapair-monitor --since @1796541241 -o short-precise --no-pager "
                      "| grep -v -e 'glib: ucast:' -e 'Unable to set scheduler parameters' | head -n %d"
                      % faults.JOURNAL_LINES)]


def test_the_engine_restarted_names_the_nodes_whose_engine_systemd_started_anew(monkeypatch):
    bed = faults.Bed.__new__(faults.Bed)
    bed.nodes = ['herring', 'haddock']
    bed.names = {'herring': 'loadb1', 'haddock': 'loadb2'}
    bed.container = {'herring': 'hapair-herring', 'haddock': 'hapair-haddock'}
    bed.peer_of = {'herring': 'haddock', 'haddock': 'herring'}.get
    bed.engine = faults.engines.get('heartbeat')
    bed.services = ['heartbeat', 'apache2', 'hapair-monitor']
    bed.vip, bed.preferred, bed.backends, bed.engine_seen = '198.51.100.10', 'herring', {}, {}
    bed.answers = lambda url=None, timeout=1.0: 'ok'
    shows = {'hapair-herring': ['holds', 'services active active active', 'route', 'whole', 'engine 100 0 '],
             'hapair-haddock': ['services active active active', 'route', 'whole', 'engine 200 3 ']}
    calls = []

    def podman(*args, **kwargs):
        calls.append(args)
        if args[0] == 'inspect':
            return _Done(0, stdout=''.join('%s running\n' % name for name in args[3:]))
        return _Done(0, stdout='\n'.join(shows[args[1]]) + '\n')
    monkeypatch.setattr(faults, 'podman', podman)
    # The one exec per node of problems() reads the engine unit's main PID and restart count too.
    assert bed.problems() == []
    assert bed.engine_seen == {'herring': ('100', '0'), 'haddock': ('200', '3')}
    script = [call for call in calls if call[:2] == ('exec', 'hapair-herring')][0][4]
    assert 'systemctl show -p MainPID -p NRestarts --value heartbeat' in script
    before = dict(bed.engine_seen)
    # haddock's restart count grew (systemd restarted heartbeat, whose main process it then followed): named.
    assert faults.engine_restarted(bed, before, {'herring': ('100', '0'), 'haddock': ('200', '4')}) == ['loadb2']
    # Another main process, or a node missing from a reading (not read, or its line unreadable), counts too.
    assert faults.engine_restarted(bed, before, {'herring': ('101', '0'), 'haddock': ('200', '3')}) == ['loadb1']
    assert faults.engine_restarted(bed, before, {'herring': ('100', '0'), 'haddock': None}) == ['loadb2']
    assert faults.engine_restarted(bed, before, {}) == ['loadb1', 'loadb2']
    # Nothing started anew: None.
    assert faults.engine_restarted(bed, before, dict(before)) is None


def test_the_faults_that_leave_the_engine_alone_are_faults_of_the_matrix():
    assert set(faults.ENGINE_UNTOUCHED) < set(faults.FAULTS)
    assert not set(faults.ENGINE_UNTOUCHED) & {'crash', 'reboot', 'engine_stop', 'engine_kill'}


def test_a_state_change_is_the_last_moment_the_old_value_was_read(tmp_path, monkeypatch):
    """The moment is a reading of the old value, so it is never after the change (a lower bound: no figure counted
    from it is less than the truth) and never before the call began."""
    state = tmp_path / 'freezer.state'
    state.write_text('THAWED\n')
    written = []
    seen_old = threading.Event()

    def pause():
        watcher_read = seen_old.wait(10)   # the watcher has been reading meanwhile (no sleep-based timing here)
        written.append(time.time())
        state.write_text('FROZEN\n')
        return watcher_read
    original = faults.read_state

    def read_and_tell(path):
        value = original(path)
        if value == 'THAWED':
            seen_old.set()
        return value
    monkeypatch.setattr(faults, 'read_state', read_and_tell)
    began = time.time()
    result, at = faults.StateChange(str(state), 'THAWED').during(pause)
    assert result is True
    assert began <= at <= written[0]


def test_a_change_as_the_call_ends_is_seen_too(tmp_path):
    """The write comes last in the call: the change is found after it returned, and the moment is still a reading of
    the old value from before the write."""
    state = tmp_path / 'freezer.state'
    state.write_text('FROZEN\n')
    written = []

    def unpause():
        written.append(time.time())
        state.write_text('THAWED\n')
    began = time.time()
    dummy, at = faults.StateChange(str(state), 'FROZEN').during(unpause)
    assert at is not None and began <= at <= written[0]


def test_no_change_no_moment(tmp_path):
    state = tmp_path / 'freezer.state'
    state.write_text('THAWED\n')
    assert faults.StateChange(str(state), 'THAWED').during(lambda: None) == (None, None)
    assert faults.StateChange(str(tmp_path / 'gone'), 'THAWED').during(lambda: None) == (None, None)


@pytest.mark.parametrize('v1, path', [
    (True, '/sys/fs/cgroup/freezer/libpod_parent/libpod-ab12/freezer.state'),
    (False, '/sys/fs/cgroup/libpod_parent/libpod-ab12/cgroup.freeze'),
])
def test_the_freezer_file_of_a_container(monkeypatch, v1, path):
    monkeypatch.setattr(faults.os.path, 'isdir', lambda name: v1 and name == '/sys/fs/cgroup/freezer')
    assert faults.freezer_state_file('/libpod_parent/libpod-ab12') == path


@pytest.mark.parametrize('out, at', [
    ('1765000000.123456789\n', 1765000000.123456789),
    ('1765000000.5\nsome output\n', 1765000000.5),
    ('OCI runtime exec failed\n', None),
    ('', None),
    (None, None),
])
def test_the_node_clock_is_the_first_line_of_date(out, at):
    assert faults.node_clock(out) == at


class _Result:
    def __init__(self, stdout):
        self.stdout = stdout


class _ShellBed:
    def __init__(self, outputs):
        self.outputs, self.commands = outputs, []

    def peer_of(self, host):
        return 'haddock'

    def sh(self, host, command, check=False):  # pylint: disable=unused-argument  # Bed.sh's signature
        self.commands.append((host, command))
        return _Result(self.outputs.pop(0))


def test_a_command_in_a_node_counts_from_when_it_started_there():
    bed = _ShellBed(['1765000000.5\n', '1765000001.75\n', '1765000009.0\n'])
    context = faults.Context(bed, 'herring', {}, {})
    context.phase = 'inject'
    context.sh_timed('herring', 'systemctl stop apache2')
    context.sh_timed('haddock', 'systemctl stop apache2')   # a second part of the same inject: the first counts
    context.phase = 'undo'
    context.sh_timed('herring', 'systemctl start apache2')
    assert bed.commands[0] == ('herring', 'date +%s.%N; systemctl stop apache2')
    assert context.took_effect == {'inject': 1765000000.5, 'undo': 1765000009.0}


@pytest.mark.parametrize('out, at', [
    ('Sun 2026-12-06 18:13:41.462842 UTC\n', 1796580821.462842),
    ('Sun 2026-12-06 18:13:41 UTC\n', None),      # without --timestamp=us+utc: not precise enough to count
    ('\n', None),                                 # never started
    ('Failed to connect to bus\n', None),
    (None, None),
])
def test_a_systemd_time_in_microseconds(out, at):
    found = faults.systemd_time(out)
    assert (found is None and at is None) or found == pytest.approx(at, abs=1e-6)


class _EngineBed:
    class engine:   # pylint: disable=invalid-name,too-few-public-methods  # the Engine record's one field used here
        service = 'heartbeat'

    def __init__(self, active, started):
        self.is_active, self.started, self.commands = active, started, []

    def peer_of(self, host):
        return 'haddock'

    def active(self, host, unit):
        return self.is_active

    def unit_started(self, host, unit):
        return self.started

    def sh(self, host, command):
        self.commands.append((host, command))


@pytest.mark.parametrize('active, started, undo, commands', [
    (True, 1765000002.1, 1765000002.1, []),            # systemd started it again: that ends the fault
    (True, 1764999990.0, None, []),                    # a start from before the kill is not its return
    (True, None, None, []),
    (False, None, None, [('herring', 'systemctl reset-failed heartbeat; systemctl start heartbeat')]),
])
def test_a_killed_engine_s_fault_ends_when_systemd_starts_it_again(active, started, undo, commands):
    bed = _EngineBed(active, started)
    context = faults.Context(bed, 'herring', {}, {})
    context.took_effect['inject'] = 1765000000.0
    context.phase = 'undo'
    faults.FAULTS['engine_kill'].undo(context)
    assert context.took_effect.get('undo') == undo
    assert context.state['figures'] == {'engine_came_back': active}
    assert bed.commands == commands


class _KeptDownBed(_ShellBed):
    class engine:   # pylint: disable=invalid-name,too-few-public-methods  # the Engine record's fields used here
        service = 'keepalived'
        process = 'keepalived'


def test_a_kept_down_engine_is_killed_with_its_restart_delayed_and_started_again_by_the_undo():
    bed = _KeptDownBed(['', '1765000000.5\n', '1765000020.25\n'])
    context = faults.Context(bed, 'herring', {}, {})
    fault = faults.FAULTS['engine_kill_down']
    context.phase = 'inject'
    fault.inject(context)
    context.phase = 'undo'
    fault.undo(context)
    dropin = '/run/systemd/system/keepalived.service.d/zz-hapair-testbed-kept-down.conf'
    assert bed.commands == [
        # The delay first, the engine's own drop-in (its ExecStopPost release) left as it is; then the kill, timed.
        ('herring', 'mkdir -p /run/systemd/system/keepalived.service.d && printf "[Service]\\nRestartSec=600\\n" > %s'
                    ' && systemctl daemon-reload' % dropin),
        ('herring', 'date +%s.%N; pkill -KILL -x keepalived'),
        ('herring', 'date +%%s.%%N; rm -f %s; systemctl daemon-reload; systemctl reset-failed keepalived; '
                    'systemctl start keepalived' % dropin),
    ]
    # The fault counts from the kill, its undo from the start, both by the node's clock.
    assert context.took_effect == {'inject': 1765000000.5, 'undo': 1765000020.25}
    # The matrix's other kill comes back by itself; this one must not: not one of ENGINE_UNTOUCHED either.
    assert 'engine_kill_down' not in faults.ENGINE_UNTOUCHED
