# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run lock of a pair (module_utils/pair_lock.py): taken once, refused to another run with its owner, counted for
the same run, broken when expired or dead, written atomically under races, and never written in check mode."""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
import stat

import pytest

from ansible_collections.hapair.loadbalancer.plugins.module_utils import pair_lock

NOW = 1796132420.0
IDENTITY = {'host': 'ctl', 'boot_id': 'b00t', 'pid_ns': '4026531836'}


def owner(pid=4242, start=777, playbook='site.yml', identity=None):
    identity = identity or IDENTITY
    return {'user': 'ops', 'host': identity['host'], 'pid': pid, 'program': 'ansible-playbook', 'playbook': playbook,
            'run_id': pair_lock.run_id(identity, pid, start), 'boot_id': identity['boot_id'],
            'pid_ns': identity['pid_ns']}


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / 'hapair' / 'lock')


def take(path, who, now=NOW, timeout=3600, **kwargs):
    return pair_lock.acquire(path, 'pair1', 'loadb1', who, timeout, now=now, **kwargs)


def on_disk(path):
    with open(path, encoding='utf-8') as handle:
        return json.load(handle)


def test_a_lock_is_a_complete_record_readable_by_all(path):
    result = take(path, owner())
    assert result['acquired'] and result['changed'] and not result['reentered']
    record = on_disk(path)
    assert record == result['lock']
    assert record['schema'] == pair_lock.SCHEMA
    assert (record['pair'], record['node'], record['entries'], record['timeout']) == ('pair1', 'loadb1', 1, 3600)
    assert (record['taken_at'], record['expires_at']) == (NOW, NOW + 3600)
    assert record['owner']['user'] == 'ops' and record['owner']['playbook'] == 'site.yml'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    # No temporary file is left next to it.
    assert os.listdir(os.path.dirname(path)) == ['lock']


def test_another_run_is_refused_with_the_holder_and_the_lock_is_unchanged(path):
    take(path, owner())
    before = on_disk(path)
    result = take(path, owner(pid=5151, start=888, playbook='failover.yml'), now=NOW + 12)
    assert not result['acquired'] and not result['changed']
    assert result['held_by'] == before
    assert on_disk(path) == before


def test_the_same_run_takes_it_again_counted_and_only_its_last_release_removes_it(path):
    me = owner()
    take(path, me)
    again = take(path, me, now=NOW + 100, timeout=7200)
    assert again['acquired'] and again['reentered']
    assert on_disk(path)['entries'] == 2
    # Renewed: the later of the two expiries.
    assert on_disk(path)['expires_at'] == NOW + 100 + 7200
    assert on_disk(path)['taken_at'] == NOW
    first = pair_lock.release(path, me['run_id'])
    assert first['released'] and first['entries'] == 1 and os.path.exists(path)
    last = pair_lock.release(path, me['run_id'])
    assert last['released'] and last['entries'] == 0 and not os.path.exists(path)
    # Nothing left to give back.
    assert pair_lock.release(path, me['run_id'])['released'] is False


def test_an_expired_lock_is_broken_and_named(path):
    old = owner(pid=1111, start=1, playbook='failover.yml')
    take(path, old, now=NOW - 4000)
    result = take(path, owner(), now=NOW)
    assert result['acquired'] and result['changed']
    assert result['broken']['owner'] == old and result['broken_why'] == 'expired'
    assert on_disk(path)['owner']['pid'] == 4242
    warning = pair_lock.broken_warning('pair1', 'loadb1', result['broken'], 'expired', NOW)
    assert 'ops@ctl (pid 1111, failover.yml' in warning and 'it expired' in warning


def test_a_lock_of_a_dead_run_is_broken_only_when_the_caller_names_that_run(path):
    dead = owner(pid=1111, start=1)
    take(path, dead)
    other = owner(pid=2222, start=2)
    # Another run id named: the holder is not the one found dead; refused.
    assert not take(path, owner(), break_run=other['run_id'])['acquired']
    result = take(path, owner(), break_run=dead['run_id'], break_reason='its process 1111 is gone')
    assert result['acquired'] and result['broken']['owner'] == dead
    assert result['broken_why'] == 'its process 1111 is gone'
    assert pair_lock.broken_warning('pair1', 'loadb1', result['broken'], result['broken_why'], NOW).endswith(
        'because its process 1111 is gone.')


def test_check_mode_writes_nothing_and_still_refuses(path):
    # No directory yet: nothing to read, nothing made.
    assert take(path, owner(), check_mode=True)['acquired']
    assert not os.path.exists(os.path.dirname(path))
    take(path, owner(pid=1, start=1))
    before = on_disk(path)
    refused = take(path, owner(), check_mode=True)
    assert not refused['acquired'] and refused['held_by'] == before
    # An expired lock: would be broken, is not.
    stale = take(path, owner(), now=NOW + 4000, check_mode=True)
    assert stale['acquired'] and stale['broken_why'] == 'expired' and not stale['changed']
    assert on_disk(path) == before
    # Nor is a release written.
    assert pair_lock.release(path, before['owner']['run_id'], check_mode=True)['released']
    assert on_disk(path) == before


def test_another_runs_lock_is_left_alone_on_release_unless_forced(path):
    holder = owner(pid=1, start=1)
    take(path, holder)
    result = pair_lock.release(path, owner()['run_id'])
    assert not result['released'] and result['held_by']['owner'] == holder and os.path.exists(path)
    forced = pair_lock.release(path, None, force=True)
    assert forced['released'] and forced['removed']['owner'] == holder and not os.path.exists(path)


@pytest.mark.parametrize('content', [b'', b'maintenance by jdoe\n', b'{"schema": "other"}'])
def test_a_file_the_collection_did_not_write_holds_the_pair_until_it_expires(path, content):
    os.makedirs(os.path.dirname(path))
    with open(path, 'wb') as handle:
        handle.write(content)
    os.utime(path, (NOW, NOW))
    refused = take(path, owner(), now=NOW + 60)
    assert not refused['acquired'] and refused['held_by']['foreign']
    assert 'an unknown owner' in pair_lock.who(refused['held_by'])
    assert take(path, owner(), now=NOW + pair_lock.DEFAULT_TIMEOUT + 1)['broken_why'] == 'expired'


def test_the_refusal_names_the_pair_the_node_the_owner_and_since_when(path):
    take(path, owner(playbook='failover.yml'), now=NOW)
    record = take(path, owner(pid=1), now=NOW + 75)['held_by']
    message = pair_lock.refusal('pair1', 'loadb1', record, path, NOW + 75)
    assert message.startswith("Pair 'pair1' is locked by another run: ops@ctl (pid 4242, failover.yml, run %s) holds "
                              'its run lock on loadb1 since 2026-12-01 ' % record['owner']['run_id'])
    assert '(75 s ago)' in message and 'expires at' in message and '(in 58 min 45 s)' in message
    assert '(in 1 h 0 min)' in pair_lock.since(dict(record, taken_at=NOW, expires_at=NOW + 3600), NOW)
    assert path in message


def _contend(args):
    path, pid, start_at = args
    while pair_lock.time.time() < start_at:
        pass
    return pair_lock.acquire(path, 'pair1', 'loadb1', owner(pid=pid, start=pid), 3600)['acquired']


@pytest.mark.parametrize('stale', [False, True], ids=['free', 'stale'])
def test_of_runs_racing_for_the_lock_exactly_one_wins(path, stale):
    if stale:
        take(path, owner(pid=1, start=1), now=pair_lock.time.time() - 7200)
    else:
        os.makedirs(os.path.dirname(path))
    start_at = pair_lock.time.time() + 0.3
    context = multiprocessing.get_context('fork')
    with context.Pool(8) as pool:
        won = pool.map(_contend, [(path, 100 + index, start_at) for index in range(8)])
    assert won.count(True) == 1, won
    assert on_disk(path)['owner']['pid'] == 100 + won.index(True)
    assert os.listdir(os.path.dirname(path)) == ['lock']


def test_link_never_replaces_a_lock_written_behind_the_flock(path, monkeypatch):
    """A writer that takes no flock: the lock it wrote between our read and our write stays."""
    os.makedirs(os.path.dirname(path))
    real_read = pair_lock.read

    def read_then_someone_writes(lock_path):
        seen = real_read(lock_path)
        with open(lock_path, 'w', encoding='utf-8') as handle:
            json.dump(pair_lock._new('pair1', 'loadb1', owner(pid=9), 3600, NOW), handle)
        return seen

    monkeypatch.setattr(pair_lock, 'read', read_then_someone_writes)
    result = take(path, owner())
    assert not result['acquired'] and not result['changed']
    assert on_disk(path)['owner']['pid'] == 9


def test_a_module_that_holds_the_flock_too_long_makes_the_next_one_give_up(path):
    os.makedirs(os.path.dirname(path))
    fd = os.open(os.path.dirname(path), os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(pair_lock.LockError, match='kept .* locked'):
            with pair_lock.guarded(os.path.dirname(path), seconds=0.2):
                pass
    finally:
        os.close(fd)


# --- The controller's half ------------------------------------------------------------------------------------

def test_a_run_id_is_one_per_process_and_start():
    assert pair_lock.run_id(IDENTITY, 42, 1000) == pair_lock.run_id(dict(IDENTITY), 42, 1000)
    assert pair_lock.run_id(IDENTITY, 42, 1000) != pair_lock.run_id(IDENTITY, 42, 1001)
    assert pair_lock.run_id(IDENTITY, 42, 1000) != pair_lock.run_id(dict(IDENTITY, host='other'), 42, 1000)


def test_this_process_is_alive_and_its_owner_record_says_so():
    record = pair_lock.owner('ops', os.getpid(), 'ansible-playbook', ['site.yml'], play='Provision', job='17')
    assert (record['user'], record['pid'], record['playbook'], record['play'], record['job']) == (
        'ops', os.getpid(), 'site.yml', 'Provision', '17')
    assert pair_lock.dead_holder(record) is None


@pytest.mark.parametrize('holder, start, dead', [
    (owner(pid=42, start=1000), 1000, False),
    (owner(pid=42, start=1000), None, True),
    (owner(pid=42, start=1000), 2000, True),
    # Another controller, another boot, another pid namespace: alive until its lock expires, whatever its pid here.
    (owner(pid=42, start=1000, identity=dict(IDENTITY, host='other')), None, False),
    (owner(pid=42, start=1000, identity=dict(IDENTITY, boot_id='other')), None, False),
    (owner(pid=42, start=1000, identity=dict(IDENTITY, pid_ns='other')), None, False),
    (dict(owner(pid=42, start=1000), pid=None), None, False),
], ids=['alive', 'gone', 'pid-reused', 'other-host', 'other-boot', 'other-pid-namespace', 'no-pid'])
def test_only_a_run_of_this_controller_can_be_known_dead(holder, start, dead):
    why = pair_lock.dead_holder(holder, identity=IDENTITY, start_of=lambda pid: start)
    assert bool(why) is dead
    if dead:
        assert 'process 42 is gone' in why


def test_without_proc_no_run_is_known_dead():
    assert pair_lock.dead_holder(owner(), identity=dict(IDENTITY, boot_id=None), start_of=lambda pid: None) is None
