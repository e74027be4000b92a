# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One run per pair at a time (issue 18, class 10), on the converged pair.

Two site runs started together: one proceeds, the other is refused at the run lock, naming the run that holds the
pair (its controller's user and host, its pid, its playbook), the node and since when, and changes nothing (its
recap, the nodes' snapshot, the winner's lock untouched); so with a site run and a drill started together. A lock
that expired is broken with a warning naming its old owner; so is, at once, the lock of a run of this controller
that was killed. --check takes no lock and is refused by a run that holds the pair. After every run, no lock is
left on any node.

The runs are started here with subprocess, as conftest.ansible_playbook() runs them (its helpers wait for the end;
these tests need the pid and the moment of each line), and judged with conftest's PlaybookRun and snapshot().
"""

from __future__ import annotations

import getpass
import json
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import (
    ANSIBLE_PLAYBOOK,
    HOSTVARS,
    INVENTORY,
    PROVISION_PLAY,
    ROOT,
    PlaybookRun,
    ansible_playbook,
    pairs,
    snapshot,
)

LOCK = '/var/lib/hapair/lock'
LOCK_PLAY = 'PLAY [Take the run lock of every pair before any host changes]'
REFUSED = 'is locked by another run'
CLUSTER = sorted(pairs())[0]
HOSTS = pairs()[CLUSTER]
NAMES = {host: HOSTVARS[host]['hapair_node_name'] for host in HOSTS}
# The pair's first node by name: every run takes the lock there first.
FIRST = min(HOSTS, key=lambda host: NAMES[host])
ME = '%s@%s' % (getpass.getuser(), socket.gethostname())


class Started:
    """A playbook started in the background, as conftest.ansible_playbook() runs it; each output line is kept with
    the moment it came (seconds after the start)."""

    def __init__(self, playbook, *args):
        env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0',
                   ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default')
        self.command = [ANSIBLE_PLAYBOOK, '-i', INVENTORY, os.path.join(ROOT, 'playbooks', playbook)] + list(args)
        self.start = time.monotonic()
        # A session of its own: a kill reaches its workers too.
        self.proc = subprocess.Popen(self.command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, start_new_session=True)
        self.pid = self.proc.pid
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append((time.monotonic() - self.start, line))
        # Its output ends when it does.
        self.duration = time.monotonic() - self.start

    def seen(self, phrase):
        """When the first line holding phrase came, or None."""
        return next((at for at, line in list(self.lines) if phrase in line), None)

    def finished(self):
        return self.proc.poll() is not None

    def wait(self, timeout=1200):
        self.proc.wait(timeout=timeout)
        self.reader.join(10)
        return PlaybookRun(subprocess.CompletedProcess(self.command, self.proc.returncode,
                                                       ''.join(line for _at, line in self.lines)))

    def kill(self):
        os.killpg(self.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.reader.join(10)


def podman(*args, **kwargs):
    return subprocess.run(['podman', *args], capture_output=True, text=True, check=False, **kwargs)


def locks():
    """{host: the run lock on the node, as its JSON record, or None}."""
    result = {}
    for host in HOSTS:
        out = podman('exec', HOSTVARS[host]['testbed_container'], 'cat', LOCK)
        result[host] = json.loads(out.stdout) if out.returncode == 0 else None
    return result


def write_lock(host, record):
    out = podman('exec', '-i', HOSTVARS[host]['testbed_container'], 'sh', '-c',
                 'mkdir -p "${1%/*}" && cat > "$1"', 'sh', LOCK, input=json.dumps(record))
    assert out.returncode == 0, out.stderr


def foreign_lock(host, taken, expires, user='jdoe', controller='old-controller', pid=999, playbook='failover.yml'):
    """A lock of a run of another controller, as the module writes it."""
    return {'schema': 'hapair.loadbalancer/lock/1', 'pair': CLUSTER, 'node': NAMES[host], 'taken_at': taken,
            'renewed_at': taken, 'expires_at': expires, 'timeout': int(expires - taken), 'entries': 1,
            'owner': {'user': user, 'host': controller, 'pid': pid, 'program': 'ansible-playbook',
                      'playbook': playbook, 'run_id': 'feedfacecafe0001', 'boot_id': 'another-boot',
                      'pid_ns': '4026531836'}}


def wait_until(condition, timeout, step=0.5, what='the condition'):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, 'no %s within %s s' % (what, timeout)
        time.sleep(step)


def flat(text):
    """Output with its line wrapping undone (Ansible wraps warnings)."""
    return ' '.join(text.split())


def assert_refused_before_any_change(run, holder):
    """Refused at the lock, on every node of the pair, naming the holder; nothing changed, nothing provisioned."""
    assert run.rc == 2, run.out[-5000:]
    assert PROVISION_PLAY not in run.out, run.out[-5000:]
    for host in HOSTS:
        assert run.recap[host]['changed'] == 0 and run.recap[host]['failed'] == 1, (host, run.recap)
        messages = [message for failed, message in run.failures if failed == host]
        assert len(messages) == 1, run.failures
        assert messages[0].startswith("Pair '%s' is locked by another run: %s" % (CLUSTER, holder)), messages[0]
        assert 'holds its run lock on %s since ' % NAMES[FIRST] in messages[0], messages[0]
        assert "This run stops here for pair '%s', before any of its hosts changes." % CLUSTER in messages[0]


@pytest.fixture(autouse=True)
def no_lock_before_and_after():
    """Every test starts with no lock on the pair, and leaves none, whatever happened."""
    assert locks() == dict.fromkeys(HOSTS), locks()
    yield
    for host in HOSTS:
        podman('exec', HOSTVARS[host]['testbed_container'], 'rm', '-f', LOCK)


def test_two_site_runs_started_together_one_proceeds_and_the_other_is_refused_and_changes_nothing():
    before = snapshot()
    runs = [Started('site.yml'), Started('site.yml')]
    wait_until(lambda: any(run.seen(REFUSED) for run in runs) or all(run.finished() for run in runs), 600,
               what='refusal')
    refused = next(run for run in runs if run.seen(REFUSED))
    winner = next(run for run in runs if run is not refused)
    # The winner goes on to take the second node too, and keeps both as it wrote them: the refused run touched
    # neither (it took the first node first, as every run does, and gave nothing back that was not its own).
    held = {}

    def winner_holds_both():
        held.update(locks())
        return winner.finished() or all((lock or {}).get('owner', {}).get('pid') == winner.pid for lock in held.values())

    wait_until(winner_holds_both, 60, step=0.2, what="winner's lock on both nodes")
    if not winner.finished():
        assert all(lock['entries'] == 1 and lock['owner']['playbook'] == 'site.yml' for lock in held.values()), held

    results = {id(run): run.wait() for run in runs}
    won, lost = results[id(winner)], results[id(refused)]
    assert won.rc == 0, won.out[-5000:]
    assert PROVISION_PLAY in won.out
    assert_refused_before_any_change(lost, '%s (pid %d, site.yml, run ' % (ME, winner.pid))
    # Refused within seconds of reaching the lock, while the winner still ran.
    at_lock, at_refusal = refused.seen(LOCK_PLAY), refused.seen(REFUSED)
    assert at_refusal - at_lock < 15, (at_lock, at_refusal)
    assert refused.duration < winner.duration
    print('\n[lock] started together: the winner (pid %d) ran %.1f s; the other (pid %d) reached the lock after %.1f s '
          'and was refused %.1f s later, %.1f s after its start; it ended after %.1f s'
          % (winner.pid, winner.duration, refused.pid, at_lock, at_refusal - at_lock, at_refusal, refused.duration))
    print('[lock] the refusal: %s' % [message for _host, message in lost.failures][0])
    # The converged pair is as it was (the winner had nothing to change either), and no lock is left.
    assert snapshot() == before
    assert locks() == dict.fromkeys(HOSTS)


def test_an_expired_lock_is_broken_with_a_warning_naming_its_old_owner():
    now = time.time()
    for host in HOSTS:
        write_lock(host, foreign_lock(host, now - 4200, now - 600))
    run = ansible_playbook('site.yml')
    assert run.rc == 0, run.out[-5000:]
    text = flat(run.out)
    for host in HOSTS:
        warning = ("Pair '%s': broke the run lock of jdoe@old-controller (pid 999, failover.yml, run feedfacecafe0001) "
                   'on %s, held since ' % (CLUSTER, NAMES[host]))
        assert warning in text, text[-5000:]
    assert text.count('ago), because it expired.') == len(HOSTS), text[-5000:]
    assert locks() == dict.fromkeys(HOSTS)


def test_the_lock_of_a_run_of_this_controller_that_was_killed_is_broken_at_once():
    dead = Started('site.yml')
    wait_until(lambda: all((lock or {}).get('owner', {}).get('pid') == dead.pid for lock in locks().values()), 300,
               what='lock of the first run')
    dead.kill()
    # It died holding the pair, an hour before its lock expires.
    assert all(lock['owner']['pid'] == dead.pid for lock in locks().values())
    run = ansible_playbook('site.yml')
    assert run.rc == 0, run.out[-5000:]
    text = flat(run.out)
    assert text.count('because its process %d is gone.' % dead.pid) == len(HOSTS), text[-5000:]
    assert locks() == dict.fromkeys(HOSTS)


def test_a_site_run_and_a_drill_started_together_one_proceeds_and_the_other_is_refused():
    """Whichever takes the pair first: the other is refused before its first change (no provisioning, no fault)."""
    runs = {'site.yml': Started('site.yml'), 'failover.yml': Started('failover.yml')}
    results = {playbook: run.wait() for playbook, run in runs.items()}
    refused = [playbook for playbook, result in results.items() if result.rc != 0]
    assert len(refused) == 1, {playbook: (result.rc, result.out[-3000:]) for playbook, result in results.items()}
    loser = refused[0]
    winner = 'failover.yml' if loser == 'site.yml' else 'site.yml'
    assert results[winner].rc == 0, results[winner].out[-5000:]
    assert_refused_before_any_change(results[loser], '%s (pid %d, %s, run ' % (ME, runs[winner].pid, winner))
    # Nor did a refused drill take the holder down.
    assert 'Take the VIP holder down' not in results[loser].out
    print('\n[lock] a site run and a drill started together: %s (%.1f s) proceeded, %s was refused after %.1f s'
          % (winner, runs[winner].duration, loser, runs[loser].duration))
    assert locks() == dict.fromkeys(HOSTS)


def test_check_mode_takes_no_lock_and_is_refused_by_a_run_that_holds_the_pair():
    run = ansible_playbook('site.yml', '--check')
    assert run.rc == 0, run.out[-5000:]
    assert 'TASK [hapair.loadbalancer.hapair : Take the run lock of this pair on its first node]' in run.out
    assert locks() == dict.fromkeys(HOSTS)

    now = time.time()
    for host in HOSTS:
        write_lock(host, foreign_lock(host, now - 30, now + 3600, user='ci', controller='ci-runner-7', pid=31337,
                                      playbook='site.yml'))
    held = locks()
    run = ansible_playbook('site.yml', '--check')
    assert_refused_before_any_change(run, 'ci@ci-runner-7 (pid 31337, site.yml, run feedfacecafe0001)')
    assert locks() == held
