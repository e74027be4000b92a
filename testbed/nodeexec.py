# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Commands in a test bed node's container, as `podman exec` runs them but about 25 times cheaper: nsenter(1)
(util-linux) into the namespaces of the container's first process, with the container's root, working directory and
environment.

Why: the suite's machine has two cores, and the three molecule lanes kept both busy (3,321 CPU-seconds in 1,690 s,
2026-12-06). One `podman exec` cost 0.17 CPU-seconds (podman, conmon and runc exec; measured on an idle machine
over 20 calls), one nsenter 0.0065: the test bed's checks (testinfra's hosts, the harness's polls, the faults' own
commands) are thousands of them.

What podman exec would refuse is left to it (Entries.command returns None, and the caller runs podman exec, which
fails as before and says why): a container that does not run, a frozen one (nsenter would run the command beside
the frozen processes), one that podman cannot inspect. A container's first process is known by its PID and its start
time (/proc/PID/stat), read again before each command: a restarted container (a crash, a reboot) has another, and
a PID that the kernel gave to another process has another start time, so a command never enters the namespaces of
anything but the container's current first process.
"""

from __future__ import annotations

import json
import os
from typing import NamedTuple

# What podman inspect gives for one container: its first process, its cgroup (for the freezer), its environment.
INSPECT_FORMAT = '{{.State.Status}} {{.State.Pid}} {{.State.CgroupPath}} {{json .Config.Env}}'


class Entry(NamedTuple):
    """The container's first process (PID and its start time) and what a command in it gets."""
    pid: int
    start: str
    freezer: str
    env: dict


def freezer_state_file(cgroup_path, root='/sys/fs/cgroup'):
    """The file that says whether a container's processes are frozen, from its cgroup (podman's State.CgroupPath):
    cgroup v1's freezer.state (THAWED, FREEZING, FROZEN), else v2's cgroup.freeze (0 or 1)."""
    if os.path.isdir(os.path.join(root, 'freezer')):
        return os.path.join(root, 'freezer', cgroup_path.lstrip('/'), 'freezer.state')
    return os.path.join(root, cgroup_path.lstrip('/'), 'cgroup.freeze')


def read_state(path):
    """A kernel state file's value, or None when it cannot be read."""
    try:
        with open(path, encoding='ascii') as state:
            return state.read().strip()
    except OSError:
        return None


def process_start(pid, proc='/proc'):
    """The start time of a process (/proc/PID/stat's 22nd field, in clock ticks since boot), or None: no such process."""
    stat = read_state(os.path.join(proc, str(pid), 'stat'))
    if not stat or ')' not in stat:
        return None
    # The command name (field 2) may hold spaces and parentheses: the fields after it follow the last ')'.
    fields = stat.rsplit(')', 1)[1].split()
    return fields[19] if len(fields) > 19 else None


def parse_inspect(text):
    """(pid, cgroup path, env) from one line of INSPECT_FORMAT when the container runs; None otherwise."""
    parts = text.strip().split(' ', 3)
    if len(parts) != 4 or parts[0] != 'running' or not parts[1].isdigit() or int(parts[1]) <= 0:
        return None
    try:
        env = dict(item.split('=', 1) for item in json.loads(parts[3]) if '=' in item)
    except (ValueError, TypeError):
        return None
    return int(parts[1]), parts[2], env


class Entries:
    """Each container's Entry, looked up with inspect(container) -> INSPECT_FORMAT's line or None (podman inspect),
    kept while its process runs, and checked before each command."""

    def __init__(self, inspect, proc='/proc', thawed=('THAWED', '0')):
        self.inspect, self.proc, self.thawed = inspect, proc, thawed
        self.known: dict = {}

    def entry(self, container):
        """The container's Entry when a command can enter it now (it runs and is not frozen), else None."""
        entry = self.known.get(container)
        if entry is None or process_start(entry.pid, self.proc) != entry.start:
            entry = self._look_up(container)
        if entry is None or read_state(entry.freezer) not in self.thawed:
            return None
        return entry

    def _look_up(self, container):
        self.known.pop(container, None)
        text = self.inspect(container)
        found = parse_inspect(text) if text else None
        if found is None:
            return None
        pid, cgroup, env = found
        start = process_start(pid, self.proc)
        if start is None:
            return None
        self.known[container] = Entry(pid, start, freezer_state_file(cgroup), env)
        return self.known[container]

    def command(self, container, argv):
        """(argv, env) that run argv in the container as podman exec would (as root, in its root directory and
        with its environment), or None: leave it to podman exec."""
        entry = self.entry(container)
        if entry is None:
            return None
        return ['nsenter', '--target', str(entry.pid), '--mount', '--uts', '--ipc', '--net', '--pid', '--cgroup',
                '--root', '--wd', '--', *argv], dict(entry.env)
