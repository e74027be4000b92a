# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pair_lock action plugin: the owner it names from the controller (an action plugin's test lives here, not
with the modules': ansible-test runs module tests with module_utils only on the path)."""

from __future__ import annotations

import os

from ansible_collections.hapair.loadbalancer.plugins.action.pair_lock import run_owner
from ansible_collections.hapair.loadbalancer.plugins.module_utils import pair_lock

IDENTITY = {'host': 'ctl', 'boot_id': 'b00t', 'pid_ns': '4026531836'}


def test_the_action_plugin_names_the_run_from_the_controller():
    record = run_owner({'ansible_play_name': 'Provision the load-balancer pairs', 'awx_job_id': 31}, pid=os.getpid(),
                       argv0='/usr/bin/ansible-playbook', cliargs={'args': ('/srv/ops/playbooks/site.yml',)},
                       identity=IDENTITY)
    assert (record['pid'], record['program'], record['playbook'], record['play'], record['job']) == (
        os.getpid(), 'ansible-playbook', 'site.yml', 'Provision the load-balancer pairs', '31')
    assert record['host'] == 'ctl' and record['user']
    assert record['run_id'] == pair_lock.run_id(IDENTITY, os.getpid(), pair_lock.process_start(os.getpid()))
    # An ad hoc command is named by its program.
    assert run_owner({}, pid=1, argv0='ansible', cliargs={'args': ('loadbalancers',)}, identity=IDENTITY)['playbook'] == 'ansible'
