#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pair_lock
short_description: Take or give back the run lock of a load-balancer pair on one of its nodes
version_added: 1.2.0
author:
  - hapair.loadbalancer developers (@hapair)
description:
  - One run at a time changes a pair. The run lock is a file on each node of the pair (O(path)) that names the run
    holding it - the controller's user and host, the pid of C(ansible-playbook), the playbook, a run id - since when,
    and until when. The C(hapair) role's C(lock) and C(unlock) entry points take it on both nodes of every pair before
    any host changes and give it back at the end, whatever happened; the site playbook and the drill do.
  - O(state=present) takes the lock, or fails naming the run that holds it, the node and since when. The run that holds
    it already may take it again (counted; only its last O(state=absent) removes it). A lock that has expired is broken,
    with a warning naming its old owner; so is a lock of a run of this very controller whose process is gone (the
    action plugin checks that on the controller).
  - O(state=absent) gives this run's lock back; a lock of another run is left alone (with a warning), unless
    O(force=true), which removes whichever lock there is - for an operator who knows its run is dead.
  - An action plugin of the same name fills in the owner from the controller; the module itself runs on the node.
  - The lock is taken atomically (C(link) of a complete file, which never replaces one) under an C(flock) of its
    directory that serialises every read and write of it on the node.
options:
  pair:
    description: The name of the pair (its C(hapair_cluster)), recorded in the lock and named in messages.
    type: str
  node:
    description: The node's name for messages; the node's own name (C(uname -n)) when not given.
    type: str
  state:
    description: V(present) takes the lock, V(absent) gives it back.
    type: str
    choices: [present, absent]
    default: present
  timeout:
    description:
      - Seconds after which the lock expires if its run never gives it back, 60 to 604800 (renewed when the run takes
        it again). The roles pass C(hapair_lock_timeout).
    type: int
    default: 3600
  path:
    description: The lock file. Its directory is created (0755) when missing.
    type: path
    default: /var/lib/hapair/lock
  force:
    description: With O(state=absent), remove the lock whoever holds it.
    type: bool
    default: false
  owner:
    description:
      - Who runs - C(user), C(host), C(pid), C(program), C(playbook), C(run_id), C(boot_id), C(pid_ns), optionally
        C(play) and C(job). Filled in on the controller by the action plugin; give it only to act for another run.
    type: dict
  break_run:
    description:
      - With O(state=present), the run id of a run the controller knows to be dead - its lock is broken like an expired
        one. Set by the action plugin.
    type: str
  break_reason:
    description: Why the run of O(break_run) is dead, for the warning. Set by the action plugin.
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
    details: The action plugin fills in O(owner) on the controller and breaks the lock of a run of its own that is dead.
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details:
      - In check mode nothing is written - no lock is taken, renewed, broken or given back. A lock of another run that
        is alive still refuses the run, so that C(--check) never reports, as what it would change, a pair that another
        run is changing.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - The lock lives in C(/var/lib) so that it survives a reboot of the node in the middle of a run (the reboot drill).
  - The role R(hapair.loadbalancer.hapair, ansible_collections.hapair.loadbalancer.hapair_role) takes and gives back
    the lock of every pair of a play with this module (its entry points C(lock) and C(unlock)).
"""

EXAMPLES = r"""
- name: Take the run lock of pair1 on this node
  hapair.loadbalancer.pair_lock:
    pair: pair1
    timeout: 3600

- name: Give it back
  hapair.loadbalancer.pair_lock:
    pair: pair1
    state: absent

# ansible loadbalancers -b -m hapair.loadbalancer.pair_lock -a 'state=absent force=true'
- name: Break the lock of a run that is known to be dead
  hapair.loadbalancer.pair_lock:
    state: absent
    force: true
"""

RETURN = r"""
acquired:
  description: With O(state=present), whether this run holds the lock now (in check mode - would hold it).
  returned: always
  type: bool
refused:
  description: Whether another run holds the lock (the module then fails).
  returned: always
  type: bool
reentered:
  description: Whether this run held the lock already.
  returned: always
  type: bool
lock:
  description: The lock this run holds now (or would, in check mode) - C(pair), C(node), C(owner), C(taken_at),
    C(expires_at) (seconds since the epoch on the node's clock), C(timeout), C(entries).
  returned: when acquired
  type: dict
held_by:
  description: The lock of another run, which refused this one (or which O(state=absent) left alone).
  returned: when another run holds the lock
  type: dict
broken:
  description: The lock of another run that this run broke (expired, or its run is dead), and C(broken_why).
  returned: when a lock was broken
  type: dict
broken_why:
  description: V(expired), or why the run that held it is dead.
  returned: when a lock was broken
  type: str
released:
  description: With O(state=absent), whether this run gave back an entry of its lock (or O(force) removed one).
  returned: always
  type: bool
entries:
  description: How many times this run holds the lock now (0 - not at all).
  returned: always
  type: int
"""

import platform
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hapair.loadbalancer.plugins.module_utils import pair_lock

OWNER_KEYS = ('user', 'host', 'pid', 'program', 'playbook', 'run_id', 'boot_id', 'pid_ns', 'play', 'job')


def main():
    module = AnsibleModule(
        argument_spec=dict(
            pair=dict(type='str'),
            node=dict(type='str'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            timeout=dict(type='int', default=pair_lock.DEFAULT_TIMEOUT),
            path=dict(type='path', default=pair_lock.DEFAULT_PATH),
            force=dict(type='bool', default=False),
            owner=dict(type='dict'),
            break_run=dict(type='str'),
            break_reason=dict(type='str'),
        ),
        required_if=[('state', 'present', ('pair', 'owner'))],
        supports_check_mode=True,
    )
    params = module.params
    path, node = params['path'], params['node'] or platform.node()
    pair = params['pair'] or '?'
    owner = dict((key, value) for key, value in (params['owner'] or {}).items() if key in OWNER_KEYS)
    if params['state'] == 'present' and not owner.get('run_id'):
        module.fail_json(msg='owner needs a run_id (the action plugin fills it in)', refused=False)
    if not 60 <= params['timeout'] <= 604800:
        module.fail_json(msg='timeout must be from 60 to 604800 seconds, got %s' % params['timeout'], refused=False)
    now = time.time()
    base = dict(acquired=False, refused=False, reentered=False, released=False, entries=0)

    def outcome(**changes):
        # base's fields with these changed: every result carries every field
        values = dict(base)
        values.update(changes)
        return values
    try:
        if params['state'] == 'present':
            result = pair_lock.acquire(path, pair, node, owner, params['timeout'], check_mode=module.check_mode,
                                       break_run=params['break_run'], break_reason=params['break_reason'], now=now)
        else:
            result = pair_lock.release(path, owner.get('run_id'), force=params['force'], check_mode=module.check_mode)
    except (OSError, pair_lock.LockError) as exc:
        module.fail_json(msg='the run lock %s on %s could not be %s: %s' % (
            path, node, 'taken' if params['state'] == 'present' else 'given back', exc), **base)
    if params['state'] == 'present':
        if not result['acquired']:
            module.fail_json(msg=pair_lock.refusal(pair, node, result['held_by'], path, now),
                             **outcome(refused=True, held_by=result['held_by']))
        if result['broken']:
            verb = 'would break' if module.check_mode else 'broke'
            module.warn(pair_lock.broken_warning(pair, node, result['broken'], result['broken_why'], now)
                        .replace(': broke ', ': %s ' % verb, 1))
        extra = dict((key, result[key]) for key in ('broken', 'broken_why') if result[key])
        fields = dict(acquired=True, reentered=result['reentered'], lock=result['lock'],
                      entries=result['lock']['entries'], **extra)
        module.exit_json(changed=result['changed'], **outcome(**fields))
    if result['held_by']:
        module.warn("the run lock on %s is not this run's, and is left alone: %s holds it %s. This run's own lock was "
                    'broken while it ran (it expired: hapair_lock_timeout is shorter than this run), or removed by hand.'
                    % (node, pair_lock.who(result['held_by']), pair_lock.since(result['held_by'], now)))
        module.exit_json(changed=False, **outcome(held_by=result['held_by']))
    if result['removed']:
        module.warn('removed the run lock of %s on %s, held %s.' % (
            pair_lock.who(result['removed']), node, pair_lock.since(result['removed'], now)))
    module.exit_json(changed=result['changed'], **outcome(released=result['released'], entries=result['entries']))


if __name__ == '__main__':
    main()
