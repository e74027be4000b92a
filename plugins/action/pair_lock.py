# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin: the controller's half of the run lock (module pair_lock; logic in module_utils/pair_lock.py).

Fills in who runs - the controller's user and host, the pid of ansible-playbook (the parent of the worker this
runs in: Ansible forks its workers from its main process), the playbooks and play, an AWX or Automation Controller
job id, a run id that is the same for every task, play and host of the run - and runs the module on the node.
When the node refuses because a run of this very controller holds the lock and that run is dead (its process is
gone: module_utils/pair_lock.dead_holder()), it asks the node again to break that run's lock; in check mode it
only says it would.
"""

from __future__ import annotations

import os
import pwd
import sys
import time

from ansible import context
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.hapair.loadbalancer.plugins.module_utils import pair_lock

display = Display()

MODULE = 'hapair.loadbalancer.pair_lock'


def controller_user():
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


def run_owner(task_vars, pid=None, argv0=None, cliargs=None, identity=None):
    """The owner record of the run this task belongs to."""
    pid = os.getppid() if pid is None else pid
    program = os.path.basename(argv0 if argv0 is not None else (sys.argv[0] if sys.argv else 'ansible'))
    cliargs = context.CLIARGS if cliargs is None else cliargs
    playbooks = []
    if 'playbook' in program:
        playbooks = [os.path.basename(str(path)) for path in (cliargs.get('args') or ())]
    job = task_vars.get('awx_job_id') or task_vars.get('tower_job_id')
    return pair_lock.owner(controller_user(), pid, program, playbooks, play=task_vars.get('ansible_play_name'),
                           job=str(job) if job else None, identity=identity)


class ActionModule(ActionBase):
    """Take or give back the run lock of a pair on a node; see the module documentation."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('pair', 'node', 'state', 'timeout', 'path', 'force', 'owner', 'break_run', 'break_reason'))

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        if not args.get('owner'):
            args['owner'] = run_owner(task_vars)
        answer = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
        held = answer.get('held_by') if answer.get('refused') else None
        why = pair_lock.dead_holder(held.get('owner')) if isinstance(held, dict) and not held.get('foreign') else None
        if why and args.get('state', 'present') == 'present':
            if self._play_context.check_mode:
                display.warning(pair_lock.broken_warning(args.get('pair'), args.get('node') or '?', held, why, time.time())
                                .replace(': broke ', ': would break ', 1))
                answer = dict(answer, failed=False, refused=False, acquired=True, msg='')
            else:
                answer = self._execute_module(module_name=MODULE, task_vars=task_vars,
                                              module_args=dict(args, break_run=held['owner']['run_id'], break_reason=why))
        result.update(answer)
        return result
