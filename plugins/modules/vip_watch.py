#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vip_watch
short_description: Record when this node's kernel gains or loses a virtual IP
version_added: 1.1.0
author:
  - hapair.loadbalancer developers (@hapair)
description:
  - Reads the node's IPv4 addresses from the kernel (rtnetlink) every O(interval) seconds and records each moment the
    VIP O(vip) appears or disappears, with the node's own clock, until the file O(stop_file) exists or O(max_seconds)
    have passed.
  - Meant to run in the background (C(async), with C(poll) set to 0) while something else happens, and to be ended by
    creating O(stop_file); C(ansible.builtin.async_status) then returns the record. The failover drill (the
    C(hapair.loadbalancer.drill) role) measures failover and failback with it, on both nodes.
  - Changes nothing (it removes O(stop_file) when it ends, if it exists).
options:
  vip:
    description: The virtual IP address to watch.
    type: str
    required: true
  interval:
    description: Seconds between two readings, from 0.005 to 1; the resolution of the record.
    type: float
    default: 0.02
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - hapair.loadbalancer.attributes.read_only
  - hapair.loadbalancer.attributes.background
attributes:
  platform:
    platforms: linux
seealso:
  - module: hapair.loadbalancer.site_poll
  - module: hapair.loadbalancer.vip_check
"""

EXAMPLES = r"""
- name: Watch the VIP in the background
  hapair.loadbalancer.vip_watch:
    vip: 198.51.100.10
    stop_file: /run/hapair-drill.stop
  async: 3600
  poll: 0
  register: watch
"""

RETURN = r"""
started_at:
  description: When the watcher started, seconds since the epoch on the node's clock.
  returned: always
  type: float
stopped_at:
  description: When it ended, on the node's clock.
  returned: always
  type: float
samples:
  description: How many readings it took.
  returned: always
  type: int
events:
  description: The state at the start, then every change - C(at) (the node's clock) and C(holds) (whether the node has the VIP).
  returned: always
  type: list
  elements: dict
  sample: [{"at": 1764590000.01, "holds": true}, {"at": 1764590003.12, "holds": false}]
ntp_synchronized:
  description: Whether systemd says the node's clock is synchronized (C(timedatectl show)), V(null) if it cannot tell.
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hapair.loadbalancer.plugins.module_utils import drill
from ansible_collections.hapair.loadbalancer.plugins.module_utils.vip_check import find_vip
from ansible_collections.hapair.loadbalancer.plugins.module_utils.vip_check_kernel import (
    KernelReadError,
    read_interfaces,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            vip=dict(type='str', required=True),
            interval=dict(type='float', default=0.02),
            **drill.BACKGROUND_ARGUMENT_SPEC
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not 0.005 <= params['interval'] <= 1:
        module.fail_json(msg='interval must be from 0.005 to 1 second, got %s' % params['interval'])

    def holds():
        return bool(find_vip(read_interfaces(), params['vip']))

    synchronized = None
    timedatectl = module.get_bin_path('timedatectl')
    if timedatectl:
        rc, out, _err = module.run_command([timedatectl, 'show', '--property=NTPSynchronized', '--value'])
        if rc == 0 and out.strip() in ('yes', 'no'):
            synchronized = out.strip() == 'yes'
    try:
        record = drill.watch_vip(holds, params['stop_file'], params['interval'], params['max_seconds'])
    except KernelReadError as exc:
        module.fail_json(msg='cannot read the addresses from the kernel: %s' % exc)
    drill.remove_stop_file(params['stop_file'])
    module.exit_json(changed=False, ntp_synchronized=synchronized, **record)


if __name__ == '__main__':
    main()
