# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hapair-monitor's supervisor of an engine that restarts itself by exec (module_utils/node_supervise.py), run for real:
a stand-in daemon that does what heartbeat does (a restart by exec that forks into the background and writes its PID
file late, a clean stop, a death by SIGKILL), under the supervisor in a process of its own (a child subreaper)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from ansible_collections.hapair.loadbalancer.plugins.module_utils import node_supervise

# The stand-in engine: MODE PIDFILE.
#   restart: writes its PID, then execs itself as `background` (heartbeat's restart drops -f);
#   background: forks, the parent exits 0 at once, the child writes its PID only 0.5 s later (the race systemd lost),
#     lives a second, removes the file and exits 3;
#   clean: exits 0 after removing its PID file (heartbeat -k); killed: SIGKILL to itself;
#   term: waits for SIGTERM, then exits 5; orphan: like background, but the child never writes the PID file (it writes
#     its PID to PIDFILE.orphan) and lives 10 s.
DAEMON = textwrap.dedent('''
    import os, signal, sys, time
    mode, pid_file = sys.argv[1], sys.argv[2]
    def write():
        with open(pid_file, 'w') as handle:
            handle.write('%d\\n' % os.getpid())
    if mode == 'restart':
        write()
        time.sleep(0.2)
        os.execv(sys.executable, [sys.executable, __file__, 'background', pid_file])
    if mode in ('background', 'orphan'):
        if os.fork() > 0:
            os._exit(0)
        if mode == 'orphan':
            with open(pid_file + '.orphan', 'w') as handle:
                handle.write('%d\\n' % os.getpid())
            time.sleep(10)
            os._exit(0)
        time.sleep(0.5)
        write()
        time.sleep(1)
        os.unlink(pid_file)
        os._exit(3)
    write()
    if mode == 'clean':
        os.unlink(pid_file)
        sys.exit(0)
    if mode == 'killed':
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == 'term':
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(5))
        while True:
            time.sleep(0.1)
''')

# The supervisor as hapair-monitor runs it: its log lines on stdout, then it ends as the engine ended.
RUNNER = textwrap.dedent('''
    import sys
    from ansible_collections.hapair.loadbalancer.plugins.module_utils import node_supervise
    def log(level, message, **fields):
        print(level, message, sorted(fields.items()), flush=True)
    handover = float(sys.argv[1])
    status = node_supervise.Supervisor(sys.argv[3:], sys.argv[2], log, handover=handover).run()
    sys.exit(node_supervise.exit_like(status))
''')


def _supervise(tmp_path, mode, handover=5.0):
    daemon = tmp_path / 'daemon.py'
    daemon.write_text(DAEMON)
    pid_file = str(tmp_path / 'engine.pid')
    return subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, '-c', RUNNER, str(handover), pid_file, sys.executable, str(daemon), mode, pid_file],
        stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))


def test_a_restart_by_exec_that_forks_and_writes_its_pid_file_late_is_followed_to_its_end(tmp_path):
    proc = _supervise(tmp_path, 'restart')
    out, _err = proc.communicate(timeout=30)
    # The supervisor ended with the forked daemon's exit code, not with its exec'd parent's 0.
    assert proc.returncode == 3, out
    lines = out.splitlines()
    assert len(lines) == 1 and lines[0].startswith('notice the engine restarted itself by exec'), out


def test_a_clean_stop_ends_the_supervisor_at_once_with_exit_0(tmp_path):
    proc = _supervise(tmp_path, 'clean')
    out, _err = proc.communicate(timeout=30)
    # Nothing logged: it did not wait out the hand-over time for a successor (that says so).
    assert proc.returncode == 0 and out == ''


def test_an_engine_killed_by_a_signal_ends_the_supervisor_by_the_same_signal(tmp_path):
    proc = _supervise(tmp_path, 'killed')
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def test_systemds_sigterm_reaches_the_engine_and_its_exit_code_comes_back(tmp_path):
    proc = _supervise(tmp_path, 'term')
    pid_file = tmp_path / 'engine.pid'
    deadline = time.monotonic() + 10
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == 5


def test_an_engine_that_leaves_no_successor_in_its_pid_file_ends_the_supervisor_after_the_handover_time(tmp_path):
    proc = _supervise(tmp_path, 'orphan', handover=1.0)
    out, _err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert out.startswith('warning the engine exited and no process took its place'), out
    # It gave up on the hand-over time, not on the orphan's end (which systemd's stop then kills with the unit).
    orphan = int((tmp_path / 'engine.pid.orphan').read_text())
    assert node_supervise.alive(orphan)
    os.kill(orphan, signal.SIGKILL)


def _proc(tmp_path, processes):
    """A /proc of {pid: (ppid, cmdline args)}."""
    for pid, (ppid, args) in processes.items():
        directory = tmp_path / str(pid)
        directory.mkdir()
        (directory / 'cmdline').write_bytes(b'\0'.join(arg.encode() for arg in args) + b'\0')
        (directory / 'stat').write_text('%d (%s) S %d 1 1 0 -1\n' % (pid, os.path.basename(args[0])[:15], ppid))
    (tmp_path / 'self').mkdir()
    return str(tmp_path)


@pytest.mark.parametrize('main_pid, expected', [
    # The supervisor: its child, the engine.
    (100, 101),
    # heartbeat itself as the main process (Debian's unit): itself.
    (200, 200),
    # A process that is gone: itself (the caller's kill says so).
    (999, 999),
])
def test_supervised_pid_is_the_engine_under_the_supervisor_and_the_main_process_otherwise(tmp_path, main_pid, expected):
    proc = _proc(tmp_path, {
        100: (1, ['/usr/bin/python3', '-I', '/usr/local/sbin/hapair-monitor', 'supervise', '--pid-file', '/run/x.pid',
                  '--', '/usr/libexec/heartbeat/heartbeat', '-f']),
        101: (100, ['heartbeat: master control process']),
        102: (101, ['heartbeat: FIFO reader']),
        200: (1, ['/usr/libexec/heartbeat/heartbeat', '-f']),
        201: (200, ['heartbeat: FIFO reader']),
    })
    assert node_supervise.supervised_pid(main_pid, proc=proc) == expected


@pytest.mark.parametrize('text, expected', [('123\n', 123), ('', None), ('x1', None), ('0', None)])
def test_read_pid(tmp_path, text, expected):
    path = tmp_path / 'pid'
    path.write_text(text)
    assert node_supervise.read_pid(str(path)) == expected
    assert node_supervise.read_pid(str(tmp_path / 'missing')) is None
