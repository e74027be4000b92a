# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Keep an engine that restarts itself by exec under systemd's eye: the supervisor hapair-monitor runs as the
engine's ExecStart (`hapair-monitor supervise --pid-file FILE -- COMMAND...`).

heartbeat restarts itself after a healed partition by exec, without its -f, so the exec'd daemon forks into the
background and its parent - systemd's main process - exits. systemd then follows the new daemon through heartbeat's
PID file only if it is already written; when it is not (a race the daemon loses more often under load), systemd takes
the exit for the end of the service, stops the new daemon and starts heartbeat afresh: the preferred node loses the
VIP for a whole start-up. The supervisor stays the unit's main process instead. It is a child subreaper
(PR_SET_CHILD_SUBREAPER), so the forked daemon becomes its child when the exec'd parent exits; it then waits until the
PID file names a live process, follows that one, and exits only when the engine is gone for good - with the engine's
own exit status or signal, so that systemd's Restart= and ExecStopPost= see what they would have seen.

Pure Python and the standard library (Python 3.8 and later); Linux only.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time

PR_SET_CHILD_SUBREAPER = 36
# The signals passed on to the engine: systemd's stop (TERM), a reload (HUP), and the rest an operator may send.
FORWARDED = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2)
# How long the supervisor waits, after the engine's process exited cleanly, for the PID file to name its successor.
HANDOVER_SECONDS = 30.0
POLL_SECONDS = 0.05
# The arguments by which a unit's main process shows that it is this supervisor (supervised_pid).
MARKERS = ('hapair-monitor', 'supervise')


def become_subreaper():
    """Adopt the orphans of our descendants (the daemon its exec'd parent leaves behind)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), 'prctl(PR_SET_CHILD_SUBREAPER) failed')


def read_pid(path):
    """The PID a PID file names, or None (missing, empty, not a number)."""
    try:
        with open(path, encoding='ascii') as handle:
            text = handle.read().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() and int(text) > 0 else None


def alive(pid):
    """Whether a process with this PID exists (a zombie counts until it is reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap(block):
    """(pid, status) of a child that ended, (0, 0) if none has yet (block False), or None when there is no child."""
    try:
        return os.waitpid(-1, 0 if block else os.WNOHANG)
    except ChildProcessError:
        return None


def spawn(argv):
    """Start the engine's command in a session of its own, as systemd starts a service (heartbeat's restart signals
    its own process group), with the default signal dispositions; returns its PID."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child, replaced by exec
        try:
            os.setsid()
            for signum in FORWARDED:
                signal.signal(signum, signal.SIG_DFL)
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    return pid


class Supervisor:
    """Runs the engine's command and follows it across its restarts by exec (see the module's doc)."""

    def __init__(self, argv, pid_file, log, handover=HANDOVER_SECONDS, poll=POLL_SECONDS):
        self.argv = list(argv)
        self.pid_file = pid_file
        self.log = log
        self.handover = handover
        self.poll = poll
        self.master = None
        self.stopping = False

    def _forward(self, signum, _frame):
        if signum in (signal.SIGTERM, signal.SIGINT):
            self.stopping = True
        if self.master is not None:
            try:
                os.kill(self.master, signum)
            except ProcessLookupError:
                pass

    def successor(self, old):
        """After the engine's process `old` exited cleanly: the live process its PID file names (the daemon its
        exec'd self forked), or None when the engine is gone (no child left, a stop asked, or none within the
        hand-over time)."""
        deadline = time.monotonic() + self.handover
        while not self.stopping and time.monotonic() < deadline:
            pid = read_pid(self.pid_file)
            if pid is not None and pid != old and alive(pid):
                return pid
            if reap(block=False) is None:
                return None
            time.sleep(self.poll)
        if not self.stopping:
            self.log('warning', 'the engine exited and no process took its place', pid_file=self.pid_file,
                     seconds=self.handover)
        return None

    def run(self):
        """Supervise until the engine is gone; returns its last wait status (os.waitpid's)."""
        become_subreaper()
        for signum in FORWARDED:
            signal.signal(signum, self._forward)
        self.master = spawn(self.argv)
        while True:
            ended = reap(block=True)
            if ended is None:
                return 0
            pid, status = ended
            if pid != self.master:
                continue
            if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
                return status
            successor = self.successor(pid)
            if successor is None:
                return status
            self.log('notice', 'the engine restarted itself by exec: supervising its new process', old_pid=pid,
                     pid=successor)
            self.master = successor


def exit_like(status):
    """End this process as the engine's process ended: with its exit code, or killed by its signal."""
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        if signum not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        # A signal that does not end a process by default: say so by the shell's convention.
        return 128 + signum
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1


def supervised_pid(main_pid, proc='/proc'):
    """The engine's process when a unit's main process `main_pid` is this supervisor (its child), else main_pid."""
    try:
        with open(os.path.join(proc, str(main_pid), 'cmdline'), 'rb') as handle:
            args = handle.read().decode('utf-8', 'replace').split('\0')
    except OSError:
        return main_pid
    if not all(any(marker in arg for arg in args) for marker in MARKERS):
        return main_pid
    children = []
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            with open(os.path.join(proc, entry, 'stat'), encoding='utf-8', errors='replace') as handle:
                stat = handle.read()
        except OSError:
            continue
        # The fields after the command name (which may hold spaces and parentheses): state, ppid, ...
        fields = stat[stat.rfind(')') + 2:].split()
        if len(fields) > 1 and fields[1] == str(main_pid):
            children.append(int(entry))
    return min(children) if children else main_pid
