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
  - The failover drill's hands - stops or starts heartbeat or Apache, kills heartbeat, or reboots the node, and returns
    the moment it did so, read from the node's clock just before, so that the drill's figures are measured from where
    the fault happened.
  - O(action=reboot) schedules the reboot a second ahead with a transient systemd timer and returns at once (with the
    moment the reboot starts), so that the task ends before the connection goes.
  - O(action=now) changes nothing and only returns the node's time.
options:
  action:
    description:
      - V(stop_heartbeat) and V(start_heartbeat) (C(systemctl)); V(kill_heartbeat) sends SIGKILL to heartbeat's main
        process, as a crash of the daemon would (the node's own supervision must bring it back);
        V(stop_apache) and V(start_apache); V(reboot); V(now).
    type: str
    required: true
    choices: [stop_heartbeat, start_heartbeat, kill_heartbeat, stop_apache, start_apache, reboot, now]
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
- name: Stop heartbeat on the VIP holder
  hapair.loadbalancer.drill_fault:
    action: stop_heartbeat
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
import signal
import time

from ansible.module_utils.basic import AnsibleModule

UNITS = {'heartbeat': 'heartbeat', 'apache': 'apache2'}


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
            action=dict(type='str', required=True, choices=['stop_heartbeat', 'start_heartbeat', 'kill_heartbeat',
                                                            'stop_apache', 'start_apache', 'reboot', 'now']),
        ),
        supports_check_mode=True,
    )
    action = module.params['action']
    changed = action != 'now'
    at = time.time()
    if module.check_mode or action == 'now':
        module.exit_json(changed=changed, at=at, done_at=time.time(), boot_time=boot_time())
    systemctl = module.get_bin_path('systemctl', required=True)
    if action == 'reboot':
        # A transient timer a second ahead: systemd reboots the node after this module has answered.
        systemd_run = module.get_bin_path('systemd-run', required=True)
        at = time.time()
        rc, out, err = module.run_command([systemd_run, '--on-active=1', '--timer-property=AccuracySec=10ms', systemctl, 'reboot'])
        if rc != 0:
            module.fail_json(msg='could not schedule the reboot: %s' % (err or out).strip())
        module.exit_json(changed=True, at=at + 1.0, done_at=time.time(), boot_time=boot_time())
    verb, what = action.split('_', 1)
    unit = UNITS[what]
    if verb == 'kill':
        rc, out, err = module.run_command([systemctl, 'show', '--property=MainPID', '--value', unit])
        pid = int(out.strip() or 0) if rc == 0 else 0
        if pid <= 0:
            module.fail_json(msg='%s is not running, there is nothing to kill (%s)' % (unit, err.strip()))
        at = time.time()
        os.kill(pid, signal.SIGKILL)
    else:
        at = time.time()
        rc, out, err = module.run_command([systemctl, verb, unit])
        if rc != 0:
            module.fail_json(msg='systemctl %s %s failed: %s' % (verb, unit, (err or out).strip()), at=at)
    module.exit_json(changed=True, at=at, done_at=time.time(), boot_time=boot_time())


if __name__ == '__main__':
    main()
