# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The maintenance_state module (plugins/modules/maintenance_state.py), run as Ansible runs it, on files in a temporary
directory; the monitor's status file is written by the test, as hapair-monitor would."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from ansible.module_utils import basic

from ansible_collections.hapair.loadbalancer.plugins.module_utils import node_maintenance
from ansible_collections.hapair.loadbalancer.plugins.modules import maintenance_state
from ansible_collections.hapair.loadbalancer.tests.unit.plugins.module_harness import patch_module_args


class ModuleExit(Exception):
    def __init__(self, result, failed):
        super().__init__(result)
        self.result = result
        self.failed = failed


@pytest.fixture(autouse=True)
def exits(monkeypatch):
    def exit_json(self, **kwargs):
        raise ModuleExit(kwargs, False)

    def fail_json(self, **kwargs):
        kwargs['failed'] = True
        raise ModuleExit(kwargs, True)

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)


@pytest.fixture
def files(tmp_path):
    return {'path': str(tmp_path / 'lib' / 'maintenance'), 'status_file': str(tmp_path / 'health.json')}


def page(files, maintenance, phase, holds=False, age=0.0):
    with open(files['status_file'], 'w', encoding='utf-8') as out:
        json.dump({'node': 'loadb1', 'time': time.time() - age, 'maintenance': maintenance, 'holds_vip': holds,
                   'maintenance_state': {'phase': phase, 'detail': 'words of the monitor'}}, out)


def run(args, check_mode=False):
    args = dict(args, _ansible_check_mode=check_mode)
    with patch_module_args(args):
        with pytest.raises(ModuleExit) as caught:
            maintenance_state.main()
    return caught.value


def test_query_reads_the_state_and_the_monitor(files):
    page(files, False, 'normal', holds=True)
    result = run(dict(files))
    assert not result.failed and result.result['changed'] is False and result.result['maintenance'] is False
    assert result.result['monitor_running'] is True and result.result['holds_vip'] is True
    assert result.result['phase'] == 'normal' and result.result['status']['node'] == 'loadb1'


def test_present_writes_the_state_once_and_waits_for_the_monitor(files):
    page(files, False, 'normal', holds=True)

    def monitor():
        # The monitor answers only once the module wrote the state file: a module that did not wait for it would
        # report the page from before (phase normal). No stopwatch: the CI machine's load made one (waited > 0.4 s
        # after a 0.6 s sleep begun before the module started) fail.
        end = time.monotonic() + 20
        while not os.path.exists(files['path']) and time.monotonic() < end:
            time.sleep(0.01)
        time.sleep(0.2)
        page(files, True, 'in')
    thread = threading.Thread(target=monitor)
    thread.start()
    result = run(dict(files, state='present', reason='kernel upgrade', by='ops', wait=30))
    thread.join()
    assert not result.failed and result.result['changed'] is True and result.result['phase'] == 'in'
    assert 0 < result.result['waited'] < 30
    assert node_maintenance.read_state(files['path'])['reason'] == 'kernel upgrade'
    again = run(dict(files, state='present', wait=1))
    assert again.result['changed'] is False and again.result['by'] == 'ops'


def test_absent_removes_the_state_and_waits_for_normal(files):
    node_maintenance.write_state(files['path'])
    page(files, False, 'normal')
    result = run(dict(files, state='absent', wait=5))
    assert not result.failed and result.result['changed'] is True and result.result['maintenance'] is False
    assert node_maintenance.read_state(files['path']) is None


def test_a_monitor_that_does_not_finish_fails_with_its_words_and_the_state_stays(files):
    page(files, True, 'blocked', holds=True)
    result = run(dict(files, state='present', wait=0.5))
    assert result.failed and 'hapair-monitor reports blocked: words of the monitor' in result.result['msg']
    assert node_maintenance.read_state(files['path']) is not None


def test_a_monitor_that_does_not_run_is_named(files):
    page(files, False, 'normal', age=60)
    result = run(dict(files, state='present', wait=0.3))
    assert result.failed and 'does not run on this node' in result.result['msg'] and 'stale' in result.result['msg']


def test_check_mode_changes_nothing_and_waits_for_nothing(files):
    result = run(dict(files, state='present', wait=30), check_mode=True)
    assert result.result['changed'] is True and result.result['waited'] == 0
    assert node_maintenance.read_state(files['path']) is None
