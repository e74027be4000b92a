#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: maintenance_state
short_description: Put a node of a pair in maintenance or take it out, and wait until hapair-monitor has done it
version_added: 1.2.0
author:
  - hapair.loadbalancer developers (@hapair)
description:
  - Reads, writes or removes the node's maintenance state file (V(/var/lib/hapair/maintenance) by default), which
    C(hapair-monitor) reads at every check and the engine's unit before every start, so it survives a reboot.
  - With O(wait), waits until C(hapair-monitor) reports the node's maintenance done in its status file - in
    maintenance, the VIP handed over to the peer without a gap and the engine out of the pair (O(state=present)); out
    of it, the engine back in the pair and the VIP taken back where the node is preferred (O(state=absent)) - and fails
    with the monitor's own words when that does not happen in time (the peer cannot take the VIP, say). The state file
    stays as it was written, and the monitor goes on trying.
  - Also returns the monitor's status (its health page) as it was last, for the maintenance playbook's plan and the
    verify table.
options:
  state:
    description:
      - V(present) puts the node in maintenance, V(absent) takes it out, V(query) only reads.
    type: str
    choices: [present, absent, query]
    default: query
  reason:
    description: A note kept in the state file with V(present) (why, who to ask), shown by verify.
    type: str
    default: ""
  by:
    description: Who put the node in maintenance, kept in the state file with V(present).
    type: str
    default: ""
  path:
    description: The state file.
    type: path
    default: /var/lib/hapair/maintenance
  status_file:
    description: The status file of C(hapair-monitor) (its health page).
    type: path
    default: /run/hapair/health.json
  wait:
    description:
      - Seconds to wait for C(hapair-monitor) to finish; V(0) does not wait. Not in check mode.
    type: float
    default: 0
  monitor_interval:
    description: The monitor's check interval in seconds; a status file older than three intervals plus 5 seconds means
      the monitor does not run.
    type: float
    default: 1
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: linux
notes:
  - Needs root (the state file lives in V(/var/lib/hapair)).
"""

EXAMPLES = r"""
- name: Put loadb1 in maintenance and wait until the VIP is on its peer
  hapair.loadbalancer.maintenance_state:
    state: present
    reason: kernel upgrade
    wait: 120
  become: true

- name: Read whether a node is in maintenance, and its monitor's status
  hapair.loadbalancer.maintenance_state:
  register: maintenance
"""

RETURN = r"""
maintenance:
  description: Whether the node is in maintenance (after the change).
  returned: always
  type: bool
since:
  description: When the node went into maintenance, seconds since the epoch; V(null) when it is not in maintenance.
  returned: always
  type: float
reason:
  description: The note of the state file.
  returned: always
  type: str
by:
  description: Who put the node in maintenance, as the state file says.
  returned: always
  type: str
monitor_running:
  description: Whether the status file of C(hapair-monitor) is fresh.
  returned: always
  type: bool
phase:
  description:
    - What the monitor reports of the node's maintenance - V(normal), V(entering) (the peer asked to claim the VIP),
      V(blocked) (in maintenance, keeping the VIP because the peer cannot take it), V(in) (in maintenance, out of the pair),
      V(leaving) (rejoining), V(claiming) (holding a VIP claimed for the peer's maintenance) - or V(null) without a
      status file.
  returned: always
  type: str
detail:
  description: The monitor's words on the phase.
  returned: always
  type: str
holds_vip:
  description: Whether the node holds the VIP, as the monitor last saw it.
  returned: always
  type: bool
status:
  description: The monitor's status file (its health page) as last read, or V(null).
  returned: always
  type: dict
waited:
  description: Seconds waited for the monitor.
  returned: always
  type: float
"""

import json
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hapair.loadbalancer.plugins.module_utils import node_maintenance


def read_status(path):
    """The monitor's status file, or None."""
    try:
        with open(path, encoding='utf-8') as handle:
            doc = json.load(handle)
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def summary(state, status, now, interval):
    """The module's result fields from the state file and the status file."""
    ops = (status or {}).get('maintenance_state') or {}
    fresh = bool(status) and isinstance(status.get('time'), (int, float)) and now - status['time'] <= 3 * interval + 5
    return {'maintenance': state is not None, 'since': (state or {}).get('since'), 'reason': (state or {}).get('reason', ''),
            'by': (state or {}).get('by', ''), 'monitor_running': fresh, 'phase': ops.get('phase'),
            'detail': ops.get('detail', ''), 'holds_vip': bool((status or {}).get('holds_vip')), 'status': status}


def done(want, result):
    """Whether the monitor finished what `want` (present or absent) asks."""
    status = result['status'] or {}
    if not result['monitor_running']:
        return False
    if want == 'present':
        return bool(status.get('maintenance')) and result['phase'] == node_maintenance.IN
    return not status.get('maintenance') and result['phase'] == node_maintenance.NORMAL


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', choices=['present', 'absent', 'query'], default='query'),
            reason=dict(type='str', default=''),
            by=dict(type='str', default=''),
            path=dict(type='path', default=node_maintenance.STATE_FILE),
            status_file=dict(type='path', default='/run/hapair/health.json'),
            wait=dict(type='float', default=0),
            monitor_interval=dict(type='float', default=1),
        ),
        supports_check_mode=True,
    )
    params = module.params
    want = params['state']
    state = node_maintenance.read_state(params['path'])
    changed = False
    if want == 'present' and state is None:
        changed = True
        if not module.check_mode:
            try:
                state = node_maintenance.write_state(params['path'], reason=params['reason'], by=params['by'])
            except OSError as exc:
                module.fail_json(msg='cannot write %s: %s' % (params['path'], exc))
    elif want == 'absent' and state is not None:
        changed = True
        if not module.check_mode:
            try:
                node_maintenance.clear_state(params['path'])
            except OSError as exc:
                module.fail_json(msg='cannot remove %s: %s' % (params['path'], exc))
            state = None
    start = time.monotonic()
    result = summary(state, read_status(params['status_file']), time.time(), params['monitor_interval'])
    if want in ('present', 'absent') and params['wait'] > 0 and not module.check_mode:
        while not done(want, result) and time.monotonic() - start < params['wait']:
            time.sleep(0.25)
            result = summary(node_maintenance.read_state(params['path']), read_status(params['status_file']),
                             time.time(), params['monitor_interval'])
        result['waited'] = round(time.monotonic() - start, 2)
        if not done(want, result):
            if not result['monitor_running']:
                why = 'hapair-monitor does not run on this node (its status file %s is %s)' % (
                    params['status_file'], 'stale' if result['status'] else 'missing')
            else:
                why = 'hapair-monitor reports %s: %s' % (result['phase'], result['detail'] or 'no detail')
            module.fail_json(changed=changed, msg='The node is %s maintenance, but not done within %s s: %s.' % (
                'in' if want == 'present' else 'out of', params['wait'], why), **result)
    else:
        result['waited'] = 0.0
    module.exit_json(changed=changed, **result)


if __name__ == '__main__':
    main()
