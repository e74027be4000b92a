#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: drill_fault
short_description: Inject a fault into a load-balancer node, or undo it, and say when on the node's clock
version_added: 1.1.0
author:
  - hapair.loadbalancer developers (@hapair)
description:
  - The failover drill's hands - stops or starts the HA engine or Apache, kills the engine, or reboots the node, and
    returns the moment it did so, read from the node's clock just before, so that the drill's figures are measured
    from where the fault happened.
  - O(action=reboot) schedules the reboot a second ahead with a transient systemd timer and returns at once (with the
    moment the reboot starts), so that the task ends before the connection goes.
  - O(action=arm) arms a dead-man timer on the node before a fault - a transient systemd timer that starts O(unit)
    after O(seconds) unless O(action=disarm) stops it first - so that a drill that never gets to undo its fault (a
    failed task, Ctrl-C, SIGTERM, the controller's connection lost) still leaves the service running.
  - O(action=now) changes nothing and only returns the node's time.
options:
  action:
    description:
      - V(stop_engine) and V(start_engine) (C(systemctl) on O(unit)); V(kill_engine) sends SIGKILL to O(unit)'s main
        process (the engine's own process where the main process is hapair-monitor's supervisor), as a crash of the
        daemon would (the node's own supervision must bring it back); V(stop_apache) and
        V(start_apache); V(reboot); V(arm) and V(disarm) (the dead-man timer); V(now).
      - V(stop_heartbeat), V(start_heartbeat) and V(kill_heartbeat) are the engine actions with O(unit=heartbeat), kept
        for playbooks written for version 1.1.
    type: str
    required: true
    choices: [stop_engine, start_engine, kill_engine, stop_apache, start_apache, reboot, arm, disarm, now,
              stop_heartbeat, start_heartbeat, kill_heartbeat]
  unit:
    description:
      - The engine's systemd unit for the engine actions; for V(arm), the unit the dead-man timer starts.
    type: str
    default: heartbeat
  seconds:
    description: For V(arm), after how many seconds the dead-man timer starts O(unit).
    type: float
    default: 300
  name:
    description: For V(arm) and V(disarm), the name of the dead-man timer's transient unit (letters, digits, C(-), C(_)).
    type: str
    default: hapair-drill-restore
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode nothing is done; the time is returned.
  diff_mode:
    support: none
  platform:
    platforms: linux
"""

EXAMPLES = r"""
- name: Arm the dead-man timer, then stop the engine on the VIP holder
  hapair.loadbalancer.drill_fault:
    action: arm
    unit: heartbeat
    seconds: 60

- name: Stop heartbeat on the VIP holder
  hapair.loadbalancer.drill_fault:
    action: stop_engine
    unit: heartbeat
  register: fault
"""

RETURN = r"""
at:
  description: When the action started (for a reboot, when it is scheduled to start), seconds since the epoch on the node's clock.
  returned: always
  type: float
done_at:
  description: When the module returned, on the node's clock.
  returned: always
  type: float
boot_time:
  description:
    - When the node's init process (PID 1) started, seconds since the epoch - the boot of a server, the start of a
      container (whose kernel's own boot time is the host's).
  returned: always
  type: float
"""

import os
import re
import signal
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hapair.loadbalancer.plugins.module_utils.node_supervise import supervised_pid

OLD_ACTIONS = {'stop_heartbeat': 'stop_engine', 'start_heartbeat': 'start_engine', 'kill_heartbeat': 'kill_engine'}
APACHE = 'apache2'


def boot_time():
    """When PID 1 started: the kernel's boot time plus PID 1's start, in clock ticks after it."""
    btime = 0.0
    with open('/proc/stat', encoding='ascii') as handle:
        for line in handle:
            if line.startswith('btime '):
                btime = float(line.split()[1])
    with open('/proc/1/stat', encoding='ascii', errors='replace') as handle:
        fields = handle.read().rsplit(')', 1)[1].split()
    # Field 22 of /proc/PID/stat (starttime); fields[0] here is field 3.
    return btime + int(fields[19]) / os.sysconf('SC_CLK_TCK')


def main():
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(type='str', required=True, choices=['stop_engine', 'start_engine', 'kill_engine', 'stop_apache',
                                                            'start_apache', 'reboot', 'arm', 'disarm', 'now']
                        + sorted(OLD_ACTIONS)),
            unit=dict(type='str', default='heartbeat'),
            seconds=dict(type='float', default=300.0),
            name=dict(type='str', default='hapair-drill-restore'),
        ),
        supports_check_mode=True,
    )
    action = OLD_ACTIONS.get(module.params['action'], module.params['action'])
    unit, name = module.params['unit'], module.params['name']
    for value, what in ((unit, 'unit'), (name, 'name')):
        if not re.match(r'^[A-Za-z0-9_.@-]{1,200}\Z', value):
            module.fail_json(msg='%s must be a systemd unit name, got %r' % (what, value))
    if not 1 <= module.params['seconds'] <= 86400:
        module.fail_json(msg='seconds must be from 1 to 86400, got %s' % module.params['seconds'])
    changed = action != 'now'
    at = time.time()
    if module.check_mode or action == 'now':
        module.exit_json(changed=changed, at=at, done_at=time.time(), boot_time=boot_time())
    systemctl = module.get_bin_path('systemctl', required=True)
    if action in ('reboot', 'arm'):
        # A transient timer: systemd acts after this module has answered (a reboot), or later unless disarmed.
        systemd_run = module.get_bin_path('systemd-run', required=True)
        if action == 'arm':
            module.run_command([systemctl, 'stop', name + '.timer'])
            module.run_command([systemctl, 'reset-failed', name + '.service', name + '.timer'])
            argv = [systemd_run, '--unit', name, '--on-active=%d' % int(round(module.params['seconds'])),
                    '--timer-property=AccuracySec=100ms', systemctl, 'start', unit]
        else:
            argv = [systemd_run, '--on-active=1', '--timer-property=AccuracySec=10ms', systemctl, 'reboot']
        at = time.time()
        rc, out, err = module.run_command(argv)
        if rc != 0:
            module.fail_json(msg='could not schedule the %s: %s' % (action, (err or out).strip()))
        module.exit_json(changed=True, at=at + (1.0 if action == 'reboot' else 0.0), done_at=time.time(),
                         boot_time=boot_time())
    if action == 'disarm':
        rc, out, err = module.run_command([systemctl, 'stop', name + '.timer'])
        module.run_command([systemctl, 'reset-failed', name + '.service', name + '.timer'])
        module.exit_json(changed=True, at=at, done_at=time.time(), boot_time=boot_time())
    verb, what = action.split('_', 1)
    target = APACHE if what == 'apache' else unit
    if verb == 'kill':
        rc, out, err = module.run_command([systemctl, 'show', '--property=MainPID', '--value', target])
        pid = int(out.strip() or 0) if rc == 0 else 0
        if pid <= 0:
            module.fail_json(msg='%s is not running, there is nothing to kill (%s)' % (target, err.strip()))
        # Under hapair-monitor's supervisor (heartbeat's drop-in), the engine is the supervisor's child.
        pid = supervised_pid(pid)
        at = time.time()
        os.kill(pid, signal.SIGKILL)
    else:
        at = time.time()
        rc, out, err = module.run_command([systemctl, verb, target])
        if rc != 0:
            module.fail_json(msg='systemctl %s %s failed: %s' % (verb, target, (err or out).strip()), at=at)
    module.exit_json(changed=True, at=at, done_at=time.time(), boot_time=boot_time())


if __name__ == '__main__':
    main()
