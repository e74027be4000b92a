# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run lock of a pair: one run at a time changes a pair, and every other run is told who holds it.

A lock is a small JSON file on each node of the pair (DEFAULT_PATH), written by the module pair_lock on the node
(acquire(), release()), with its owner (the controller's user and host, the pid of ansible-playbook, the playbook,
a run id), when it was taken and when it expires. The controller's half (owner(), dead_holder()) runs in the
action plugin of the same name: only the controller knows who runs and whether a run of its own is still alive.

Why a file, and where:
- The lock must outlive the module that takes it (a run holds it for minutes; a module lives a second), so it
  cannot be a flock or a process; it is a file that says who holds it.
- /var/lib, not /run: /run is emptied at boot, and the reboot drill reboots a node while its run holds the pair.
  A lock of a run that died is broken when it expires (stale), or at once by the next run from the same
  controller, which can see that the process is gone (dead_holder()); never by a reboot alone.
- Readable by anyone (0644), written by root: it holds no secret, and an operator can `cat` it.

Why atomic in two ways:
- Taking a lock is read, judge, write (a stale lock broken, a re-entry counted): not one system call. An flock on
  the lock's directory serialises every pair_lock module on the node (guarded()); the kernel drops it when a
  module dies, so it can never go stale itself.
- A new lock is created with link(2) of a complete temporary file, which fails when the lock exists: even a writer
  that takes no flock cannot be overwritten, and no reader ever sees half a file. A lock that is renewed or
  replaced (a stale one broken) is replaced with rename(2), under the flock. File and directory are fsync'ed, so
  a lock survives a power cut as it survives a reboot.

The same run may take the lock again (a role that takes it inside a playbook that took it): it is counted
(`entries`), and only the last release removes it.

Python 3.8 and the standard library only: it runs on the nodes.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import socket
import time

SCHEMA = 'hapair.loadbalancer/lock/1'
DEFAULT_PATH = '/var/lib/hapair/lock'
# The documented default of hapair_lock_timeout (roles/hapair/meta/argument_specs.yml is the source of truth).
DEFAULT_TIMEOUT = 3600
# How long a module waits for another pair_lock module on the same node (they hold the flock for milliseconds).
GUARD_SECONDS = 10.0


class LockError(Exception):
    """The lock could not be read or written at all (not: it is held by another run)."""


# --- The controller's half ------------------------------------------------------------------------------------

def _read_text(path):
    try:
        with open(path, encoding='ascii', errors='replace') as handle:
            return handle.read().strip()
    except OSError:
        return None


def process_start(pid):
    """When a process started, in clock ticks after boot (field 22 of /proc/PID/stat), or None."""
    text = _read_text('/proc/%d/stat' % pid)
    if not text:
        return None
    try:
        return int(text.rsplit(')', 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


def controller_identity():
    """What tells this controller's processes apart: its host name, the boot (boot_id) and the pid namespace.

    Two controllers can share a host name (CI runners, containers); two containers on one machine share the boot but
    not the pid namespace. A pid means the same process only when all three agree."""
    try:
        pid_ns = str(os.stat('/proc/self/ns/pid').st_ino)
    except OSError:
        pid_ns = None
    return {'host': socket.gethostname(), 'boot_id': _read_text('/proc/sys/kernel/random/boot_id'),
            'pid_ns': pid_ns}


def run_id(identity, pid, start):
    """One run's id: the same for every task, play and host of the run, another for every other run."""
    text = '%s|%s|%s|%s|%s' % (identity['host'], identity['boot_id'], identity['pid_ns'], pid, start)
    return hashlib.sha1(text.encode('utf-8')).hexdigest()[:16]


def owner(user, pid, program, playbooks, play=None, job=None, identity=None):
    """The owner record of the run of ansible-playbook (or ansible) `pid` on this controller."""
    identity = identity or controller_identity()
    record = {'user': user, 'host': identity['host'], 'pid': pid, 'program': program,
              'playbook': ', '.join(playbooks) if playbooks else program,
              'run_id': run_id(identity, pid, process_start(pid)),
              'boot_id': identity['boot_id'], 'pid_ns': identity['pid_ns']}
    if play:
        record['play'] = play
    if job:
        record['job'] = job
    return record


def dead_holder(holder, identity=None, start_of=process_start):
    """Why the run that holds a lock is known to be dead, or None when it may be alive.

    Only a run of this very controller can be known dead: the same host, boot and pid namespace, and its pid either
    gone or a process that started at another time (a pid used again). A run of another controller lives until its
    lock expires."""
    identity = identity or controller_identity()
    if not isinstance(holder, dict) or not identity.get('boot_id') or not identity.get('pid_ns'):
        return None
    if (holder.get('host'), holder.get('boot_id'), holder.get('pid_ns')) != (identity['host'], identity['boot_id'],
                                                                             identity['pid_ns']):
        return None
    pid = holder.get('pid')
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return None
    start = start_of(pid)
    if start is None:
        return 'its process %d is gone' % pid
    if run_id(identity, pid, start) != holder.get('run_id'):
        return 'its process %d is gone (the pid is another process now)' % pid
    return None


# --- The node's half ------------------------------------------------------------------------------------------

class guarded:
    """An exclusive flock on a directory, for one read-judge-write of the lock in it; waits at most `seconds`."""

    def __init__(self, directory, seconds=GUARD_SECONDS):
        self.directory = directory
        self.seconds = seconds
        self.fd = None

    def __enter__(self):
        self.fd = os.open(self.directory, os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0))
        deadline = time.monotonic() + self.seconds
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    os.close(self.fd)
                    raise
            if time.monotonic() >= deadline:
                os.close(self.fd)
                raise LockError('another pair_lock on this node kept %s locked for %s s' % (self.directory, self.seconds))
            time.sleep(0.02)

    def __exit__(self, *exc):
        os.close(self.fd)  # drops the flock
        return False


def read(path):
    """The lock at path: its record, None when there is none, or a record of an unknown owner for a file this
    collection did not write (an operator's `touch`, a truncated file), which counts as held until it expires."""
    try:
        with open(path, 'rb') as handle:
            data = handle.read(65536)
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise LockError('cannot read %s: %s' % (path, exc.strerror)) from exc
    try:
        record = json.loads(data.decode('utf-8'))
        if isinstance(record, dict) and record.get('schema') == SCHEMA and isinstance(record.get('owner'), dict) \
                and isinstance(record.get('expires_at'), (int, float)):
            return record
        why = 'it is not a lock of this collection'
    except ValueError:
        why = 'it is empty' if not data.strip() else 'it is not JSON'
    return {'schema': SCHEMA, 'foreign': why, 'owner': {'user': None, 'host': None, 'pid': None,
                                                        'playbook': 'unknown (%s, %s)' % (path, why), 'run_id': None},
            'taken_at': stat.st_mtime, 'expires_at': stat.st_mtime + DEFAULT_TIMEOUT, 'entries': 1}


def _fsync_dir(directory):
    fd = os.open(directory, os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temporary(path, record):
    """A complete copy of the record next to path, fsync'ed; its name."""
    tmp = '%s.%d.%s.tmp' % (path, os.getpid(), os.urandom(4).hex())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.fchmod(fd, 0o644)  # whatever the umask
        os.write(fd, (json.dumps(record, sort_keys=True, indent=1) + '\n').encode('utf-8'))
        os.fsync(fd)
    finally:
        os.close(fd)
    return tmp


def _create(path, record):
    """Create the lock, failing with FileExistsError when one exists (link(2) never replaces)."""
    tmp = _temporary(path, record)
    try:
        os.link(tmp, path)
    finally:
        os.unlink(tmp)
    _fsync_dir(os.path.dirname(path))


def _replace(path, record):
    tmp = _temporary(path, record)
    try:
        os.rename(tmp, path)
    except OSError:
        os.unlink(tmp)
        raise
    _fsync_dir(os.path.dirname(path))


def _holder_run(record):
    return (record or {}).get('owner', {}).get('run_id')


def acquire(path, pair, node, owner_record, timeout, check_mode=False, break_run=None, break_reason=None, now=None):
    """Take the lock at path for the run owner_record['run_id'], or say who holds it.

    Returns {acquired, changed, lock (the record now, or the one this run would write), held_by (another run's
    record, when refused), broken (the record of a run whose lock was broken), broken_why ('expired', or why the
    run is dead: break_reason), reentered (this run held it already)}. A lock whose run is break_run (the controller
    found it dead: dead_holder()) is broken like an expired one. In check mode nothing is written: the result says
    what a run would do."""
    now = time.time() if now is None else now
    run = owner_record['run_id']
    directory = os.path.dirname(path)
    result = {'acquired': False, 'changed': False, 'lock': None, 'held_by': None, 'broken': None, 'broken_why': None,
              'reentered': False}
    if check_mode and not os.path.isdir(directory):
        result.update(acquired=True, lock=_new(pair, node, owner_record, timeout, now))
        return result
    if not check_mode:
        os.makedirs(directory, mode=0o755, exist_ok=True)
    with guarded(directory):
        current = read(path)
        if current is not None and _holder_run(current) == run:
            record = dict(current, renewed_at=now, entries=int(current.get('entries', 1)) + 1,
                          expires_at=max(current['expires_at'], now + timeout))
            result.update(acquired=True, reentered=True, lock=record)
            if not check_mode:
                _replace(path, record)
                result['changed'] = True
            return result
        if current is not None:
            why = None
            if current['expires_at'] <= now:
                why = 'expired'
            elif break_run and _holder_run(current) == break_run:
                why = break_reason or 'its run is dead'
            if why is None:
                result['held_by'] = current
                return result
            result.update(broken=current, broken_why=why)
        record = _new(pair, node, owner_record, timeout, now)
        result.update(acquired=True, lock=record)
        if check_mode:
            return result
        if current is None:
            try:
                _create(path, record)
            except FileExistsError:
                # Written since we read, by a writer that took no flock: it holds the pair.
                result.update(acquired=False, lock=None, held_by=read(path))
                return result
        else:
            _replace(path, record)
        result['changed'] = True
        return result


def _new(pair, node, owner_record, timeout, now):
    return {'schema': SCHEMA, 'pair': pair, 'node': node, 'owner': owner_record, 'taken_at': now, 'renewed_at': now,
            'expires_at': now + timeout, 'timeout': timeout, 'entries': 1}


def release(path, run, force=False, check_mode=False):
    """Give the lock of run back: one entry of it, and the file with its last. Another run's lock is left alone
    (and returned as held_by), unless force. Returns {released, changed, entries (left), held_by, removed (the
    record that force removed)}."""
    result = {'released': False, 'changed': False, 'entries': 0, 'held_by': None, 'removed': None}
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        return result
    with guarded(directory):
        current = read(path)
        if current is None:
            return result
        if _holder_run(current) != run and not force:
            result['held_by'] = current
            return result
        entries = int(current.get('entries', 1)) - 1 if _holder_run(current) == run and not force else 0
        result.update(released=True, changed=True, entries=max(entries, 0))
        if force and _holder_run(current) != run:
            result['removed'] = current
        if check_mode:
            return result
        if entries > 0:
            _replace(path, dict(current, entries=entries))
        else:
            os.unlink(path)
            _fsync_dir(directory)
        return result


# --- What the records say -------------------------------------------------------------------------------------

def _utc(moment):
    return time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(moment))


def _span(seconds):
    seconds = int(round(abs(seconds)))
    if seconds < 120:
        return '%d s' % seconds
    if seconds < 3600:
        return '%d min %d s' % divmod(seconds, 60)
    return '%d h %d min' % (seconds // 3600, seconds % 3600 // 60)


def who(record):
    """The owner of a lock in words: root@ctl (pid 4242, site.yml, run 3f2a9c1b0d4e5f60)."""
    holder = record.get('owner') or {}
    if record.get('foreign'):
        return 'an unknown owner (%s)' % holder.get('playbook')
    details = ['pid %s' % holder.get('pid'), str(holder.get('playbook'))]
    if holder.get('job'):
        details.append('job %s' % holder['job'])
    details.append('run %s' % holder.get('run_id'))
    return '%s@%s (%s)' % (holder.get('user'), holder.get('host'), ', '.join(details))


def since(record, now):
    """Since when and until when a lock is held, on the node's clock."""
    taken, expires = record.get('taken_at', now), record.get('expires_at', now)
    until = 'expires at %s (in %s)' % (_utc(expires), _span(expires - now)) if expires > now else \
        'expired at %s (%s ago)' % (_utc(expires), _span(now - expires))
    return 'since %s (%s ago); it %s' % (_utc(taken), _span(now - taken), until)


def refusal(pair, node, record, path, now):
    """Why this run stops: who holds the pair, on which node, since when; and what the operator can do."""
    return ("Pair '%s' is locked by another run: %s holds its run lock on %s %s. Run again once that run has "
            'ended. If it died, the next run from its controller breaks its lock at once, and any run does once it '
            'has expired; to break it now, remove %s on both nodes of the pair (or run the module '
            'hapair.loadbalancer.pair_lock with state=absent and force=true on them).'
            % (record.get('pair') or pair, who(record), record.get('node') or node, since(record, now), path))


def broken_warning(pair, node, record, why, now):
    """The warning of a lock broken by this run."""
    reason = 'it expired' if why == 'expired' else why
    return ("Pair '%s': broke the run lock of %s on %s, held %s, because %s."
            % (pair, who(record), record.get('node') or node, since(record, now), reason))
