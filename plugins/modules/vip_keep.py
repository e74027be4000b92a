#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vip_keep
short_description: Stop the old HA engine on the VIP holder while the node keeps the VIP
version_added: 1.2.0
author:
  - hapair.loadbalancer developers (@hapair)
description:
  - The engine switch in place (the engine_switch role), once the new engine on the VIP holder holds the VIP as its
    own - stops the units in O(stop) (the old engine) and, each time the kernel reports the VIP gone while they stop
    (keepalived takes its VIPs off as it exits), puts it back at once with O(label), so the node keeps serving.
  - Waits until the units are inactive, and leaves the VIP on the node.
  - Needs root (CAP_NET_ADMIN).
options:
  vip:
    description: The VIP.
    type: str
    required: true
  prefix:
    description: The VIP's prefix length.
    type: int
    required: true
  interface:
    description: The interface that has the VIP.
    type: str
    required: true
  label:
    description: The VIP's label when it is put back; by default the interface's name with C(:0), as heartbeat's agent
      and keepalived label it.
    type: str
  stop:
    description: systemd units to stop (the old engine).
    type: list
    elements: str
    required: true
  timeout:
    description: Seconds the units may take to stop.
    type: float
    default: 120
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode nothing is stopped; the module says what it would do.
  diff_mode:
    support: none
  platform:
    platforms: linux
"""

EXAMPLES = r"""
- name: Stop keepalived on the holder, whose heartbeat holds the VIP now, keeping the VIP
  hapair.loadbalancer.vip_keep:
    vip: 198.51.100.10
    prefix: 26
    interface: eth0
    stop: [keepalived]
"""

RETURN = r"""
stopped:
  description: The units of O(stop) that are inactive now.
  returned: always
  type: list
  elements: str
readded:
  description: How many times the VIP was put back.
  returned: always
  type: int
longest_off_seconds:
  description: The longest time the VIP was off the node, from the kernel's report of its deletion to its return.
  returned: always
  type: float
"""

import select

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hapair.loadbalancer.plugins.module_utils import node_engine, vip_keep
from ansible_collections.hapair.loadbalancer.plugins.module_utils import vip_check_kernel as kernel


def main():
    module = AnsibleModule(
        argument_spec=dict(
            vip=dict(type='str', required=True),
            prefix=dict(type='int', required=True),
            interface=dict(type='str', required=True),
            label=dict(type='str'),
            stop=dict(type='list', elements='str', required=True),
            timeout=dict(type='float', default=vip_keep.TIMEOUT),
        ),
        supports_check_mode=True,
    )
    params = module.params
    vip = params['vip']
    if module.check_mode:
        module.exit_json(changed=True, stopped=params['stop'], readded=0, longest_off_seconds=0.0,
                         msg='would stop %s and keep %s on this node' % (', '.join(params['stop']), vip))

    def holds():
        return any(address['address'] == vip for interface in kernel.read_interfaces()
                   for address in interface['addresses'])

    try:
        sock = kernel.open_address_events()
    except kernel.KernelReadError as exc:
        module.fail_json(msg=str(exc))

    def events(seconds):
        if seconds > 0:
            select.select([sock], [], [], seconds)
        return kernel.address_events(sock)

    try:
        result = vip_keep.keep(
            vip, params['stop'],
            lambda: node_engine.add_vip(vip, params['prefix'], params['interface'], params['label']),
            holds, events, node_engine.unit_state, node_engine.run, timeout=params['timeout'])
    finally:
        sock.close()
    if result['errors']:
        module.fail_json(msg='; '.join(result['errors']), **dict((k, v) for k, v in result.items() if k != 'errors'))
    module.exit_json(changed=True, **dict((k, v) for k, v in result.items() if k != 'errors'))


if __name__ == '__main__':
    main()
