# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""testbed/nodeexec.py: a command enters only a running, thawed container's current first process; anything else
is left to podman exec (and faults.node_exec runs it that way)."""

from __future__ import annotations

import json
import os
import sys

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'testbed'))
# pylint: disable=wrong-import-position
import nodeexec  # noqa: E402  # testbed/nodeexec.py

import faults  # noqa: E402  # testbed/faults.py

ENV = ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'container=podman', 'HOME=/root']


def _stat(pid, start, name='systemd'):
    # /proc/PID/stat: pid (comm) state ppid ... with the start time as the 22nd field.
    rest = ['S', '0'] + ['0'] * 17 + [str(start), '0']
    return '%d (%s) %s\n' % (pid, name, ' '.join(rest))


class Bed:
    """A fake /proc and cgroup tree, and a fake podman inspect that counts its calls."""

    def __init__(self, tmp_path):
        self.root = tmp_path
        self.proc = tmp_path / 'proc'
        self.proc.mkdir()
        self.inspected = []
        self.line = None

    def process(self, pid, start, name='systemd'):
        (self.proc / str(pid)).mkdir(exist_ok=True)
        (self.proc / str(pid) / 'stat').write_text(_stat(pid, start, name))

    def gone(self, pid):
        (self.proc / str(pid) / 'stat').unlink()

    def container(self, status, pid, freezer='THAWED'):
        cgroup = '/libpod_parent/libpod-abc'
        state = self.root / 'freezer' / cgroup.lstrip('/') / 'freezer.state'
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(freezer + '\n')
        self.line = '%s %d %s %s\n' % (status, pid, cgroup, json.dumps(ENV))

    def inspect(self, container):
        self.inspected.append(container)
        return self.line

    def entries(self, monkeypatch):
        real = nodeexec.freezer_state_file
        monkeypatch.setattr(nodeexec, 'freezer_state_file', lambda cgroup: real(cgroup, root=str(self.root)))
        return nodeexec.Entries(self.inspect, proc=str(self.proc))


def test_a_running_thawed_container_is_entered_with_its_root_directory_and_environment(tmp_path, monkeypatch):
    bed = Bed(tmp_path)
    bed.process(4242, 9000)
    bed.container('running', 4242)
    argv, env = bed.entries(monkeypatch).command('hapair-herring', ['sh', '-c', 'ip -4 -o addr'])
    assert argv == ['nsenter', '--target', '4242', '--mount', '--uts', '--ipc', '--net', '--pid', '--cgroup', '--root',
                    '--wd', '--', 'sh', '-c', 'ip -4 -o addr']
    assert env == {'PATH': '/usr/sbin:/usr/bin:/sbin:/bin', 'container': 'podman', 'HOME': '/root'}


def test_the_container_is_inspected_once_while_its_first_process_runs(tmp_path, monkeypatch):
    bed = Bed(tmp_path)
    bed.process(4242, 9000)
    bed.container('running', 4242)
    entries = bed.entries(monkeypatch)
    for _try in range(3):
        assert entries.command('hapair-herring', ['true']) is not None
    assert bed.inspected == ['hapair-herring']


def test_a_restarted_container_is_looked_up_again(tmp_path, monkeypatch):
    bed = Bed(tmp_path)
    bed.process(4242, 9000)
    bed.container('running', 4242)
    entries = bed.entries(monkeypatch)
    assert entries.command('hapair-herring', ['true'])[0][2] == '4242'
    # The container crashed and started again: its first process has another PID.
    bed.gone(4242)
    bed.process(5151, 9500)
    bed.container('running', 5151)
    assert entries.command('hapair-herring', ['true'])[0][2] == '5151'
    assert bed.inspected == ['hapair-herring', 'hapair-herring']


def test_a_pid_the_kernel_gave_to_another_process_is_not_entered(tmp_path, monkeypatch):
    bed = Bed(tmp_path)
    bed.process(4242, 9000)
    bed.container('running', 4242)
    entries = bed.entries(monkeypatch)
    assert entries.command('hapair-herring', ['true']) is not None
    # The container ended; another process got PID 4242 (another start time); podman says exited.
    bed.process(4242, 9700, name='bash')
    bed.container('exited', 0)
    assert entries.command('hapair-herring', ['true']) is None
    assert len(bed.inspected) == 2


def test_a_frozen_or_stopped_or_unknown_container_is_left_to_podman_exec(tmp_path, monkeypatch):
    bed = Bed(tmp_path)
    bed.process(4242, 9000)
    bed.container('running', 4242, freezer='FROZEN')
    entries = bed.entries(monkeypatch)
    assert entries.command('hapair-herring', ['true']) is None
    bed.container('running', 4242, freezer='FREEZING')
    assert entries.command('hapair-herring', ['true']) is None
    bed.container('running', 4242, freezer='THAWED')
    assert entries.command('hapair-herring', ['true']) is not None
    for line in ('paused 4242 /libpod_parent/libpod-abc []', 'exited 0 /libpod_parent/libpod-abc []', '', None,
                 'running 4242 /x not-json'):
        bed.line = line
        entries.known.clear()
        assert entries.command('hapair-herring', ['true']) is None, line
    # Running, but its first process is already gone (a race with a crash).
    bed.container('running', 4343)
    assert entries.command('hapair-herring', ['true']) is None


def test_the_start_time_is_read_after_a_command_name_with_spaces_and_parentheses(tmp_path):
    (tmp_path / '77').mkdir()
    (tmp_path / '77' / 'stat').write_text(_stat(77, 12345, name='a (b) c'))
    assert nodeexec.process_start(77, proc=str(tmp_path)) == '12345'
    assert nodeexec.process_start(78, proc=str(tmp_path)) is None


def test_node_exec_runs_nsenter_where_it_can_and_podman_exec_otherwise(monkeypatch):
    runs, podmans = [], []
    monkeypatch.setattr(faults.subprocess, 'run', lambda argv, **kwargs: runs.append((argv, kwargs['env'])) or 'ran')
    monkeypatch.setattr(faults, 'podman', lambda *args, **kwargs: podmans.append(args) or 'podman ran')
    monkeypatch.setattr(faults, 'ENTRIES', nodeexec.Entries(lambda container: None))
    assert faults.node_exec('hapair-herring', ['sh', '-c', 'true']) == 'podman ran'
    assert podmans == [('exec', 'hapair-herring', 'sh', '-c', 'true')] and runs == []

    class Known:
        @staticmethod
        def command(container, argv):
            return ['nsenter', '--target', '1', '--', *argv], {'PATH': '/bin'}
    monkeypatch.setattr(faults, 'ENTRIES', Known)
    assert faults.node_exec('hapair-herring', ['sh', '-c', 'true']) == 'ran'
    assert runs == [(['nsenter', '--target', '1', '--', 'sh', '-c', 'true'], {'PATH': '/bin'})]
    assert len(podmans) == 1


def test_the_states_of_containers_entries_knows_to_run_need_no_podman_call(monkeypatch):
    bed = faults.Bed.__new__(faults.Bed)
    bed.container = {'herring': 'hapair-herring', 'haddock': 'hapair-haddock'}
    calls = []

    def podman(*args, **kwargs):
        calls.append(args)
        return type('Done', (), {'returncode': 0, 'stdout': 'hapair-haddock paused\n'})()

    class Known:
        @staticmethod
        def entry(container):
            return object() if container == 'hapair-herring' else None
    monkeypatch.setattr(faults, 'podman', podman)
    monkeypatch.setattr(faults, 'ENTRIES', Known)
    assert bed.states(['herring', 'haddock']) == {'herring': 'running', 'haddock': 'paused'}
    assert calls == [('inspect', '--format', '{{.Name}} {{.State.Status}}', 'hapair-haddock')]
    calls.clear()
    assert bed.states(['herring']) == {'herring': 'running'} and calls == []
