# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pair_lock module as Ansible runs it, on a lock file in a temporary directory; and the owner that its action
plugin fills in on the controller."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.hapair.loadbalancer.plugins.module_utils import pair_lock
from ansible_collections.hapair.loadbalancer.plugins.modules import pair_lock as module
from ansible_collections.hapair.loadbalancer.tests.unit.plugins.module_harness import as_managed_node, patch_module_args

IDENTITY = {'host': 'ctl', 'boot_id': 'b00t', 'pid_ns': '4026531836'}


def owner(pid, playbook='site.yml'):
    return {'user': 'ops', 'host': 'ctl', 'pid': pid, 'program': 'ansible-playbook', 'playbook': playbook,
            'run_id': pair_lock.run_id(IDENTITY, pid, pid), 'boot_id': 'b00t', 'pid_ns': '4026531836'}


def run(monkeypatch, capsys, **args):
    as_managed_node(monkeypatch)
    with patch_module_args(args), pytest.raises(SystemExit) as exit_info:
        module.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


def warnings(out):
    """The warnings' texts: plain strings before ansible-core 2.19, WarningSummary objects since."""
    return [w if isinstance(w, str) else w['event']['msg'] for w in out.get('warnings', [])]


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / 'lock')


def test_take_refuse_and_give_back(monkeypatch, capsys, path):
    code, out = run(monkeypatch, capsys, pair='pair1', node='loadb1', owner=owner(1), path=path)
    assert code == 0 and out['acquired'] and out['changed'] and out['entries'] == 1
    assert out['lock']['owner']['pid'] == 1

    code, out = run(monkeypatch, capsys, pair='pair1', node='loadb1', owner=owner(2, 'failover.yml'), path=path)
    assert code == 1 and out['failed'] and out['refused'] and not out['acquired']
    assert out['held_by']['owner']['pid'] == 1
    assert out['msg'].startswith("Pair 'pair1' is locked by another run: ops@ctl (pid 1, site.yml, run ")

    # The refused run's release leaves the holder's lock, and says so.
    code, out = run(monkeypatch, capsys, pair='pair1', node='loadb1', owner=owner(2), path=path, state='absent')
    assert code == 0 and not out['changed'] and not out['released'] and out['held_by']['owner']['pid'] == 1
    assert any("is not this run's, and is left alone" in warning for warning in warnings(out))

    code, out = run(monkeypatch, capsys, pair='pair1', node='loadb1', owner=owner(1), path=path, state='absent')
    assert code == 0 and out['changed'] and out['released'] and out['entries'] == 0
    assert not os.path.exists(path)


def test_an_expired_lock_is_broken_with_a_warning_naming_its_owner(monkeypatch, capsys, path):
    pair_lock.acquire(path, 'pair1', 'loadb1', owner(7, 'failover.yml'), 60, now=pair_lock.time.time() - 120)
    code, out = run(monkeypatch, capsys, pair='pair1', node='loadb1', owner=owner(1), path=path)
    assert code == 0 and out['acquired'] and out['broken_why'] == 'expired'
    assert out['broken']['owner']['pid'] == 7
    [warning] = warnings(out)
    assert warning.startswith("Pair 'pair1': broke the run lock of ops@ctl (pid 7, failover.yml, run ")
    assert 'because it expired' in warning


def test_check_mode_takes_nothing(monkeypatch, capsys, path):
    code, out = run(monkeypatch, capsys, pair='pair1', node='loadb1', owner=owner(1), path=path, _ansible_check_mode=True)
    assert code == 0 and out['acquired'] and not out['changed']
    assert not os.path.exists(path)


def test_force_removes_whoever_holds_it(monkeypatch, capsys, path):
    pair_lock.acquire(path, 'pair1', 'loadb1', owner(7), 3600)
    code, out = run(monkeypatch, capsys, path=path, state='absent', force=True)
    assert code == 0 and out['changed'] and out['released']
    assert any(warning.startswith('removed the run lock of ops@ctl (pid 7') for warning in warnings(out))
    assert not os.path.exists(path)


@pytest.mark.parametrize('args, message', [
    ({'pair': 'pair1'}, 'state is present but all of the following are missing: owner'),
    ({'pair': 'pair1', 'owner': {'user': 'ops'}}, 'owner needs a run_id'),
    ({'pair': 'pair1', 'owner': owner(1), 'timeout': 5}, 'timeout must be from 60 to 604800 seconds'),
])
def test_bad_arguments(monkeypatch, capsys, path, args, message):
    code, out = run(monkeypatch, capsys, path=path, **args)
    assert code == 1 and message in out['msg']
    assert not os.path.exists(path)
