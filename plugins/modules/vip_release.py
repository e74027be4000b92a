#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vip_release
short_description: Let the VIP go once another node claims it, and stop the engine that held it
version_added: 1.2.0
author:
  - hapair.loadbalancer developers (@hapair)
description:
  - The holder's half of a hand-over between two HA engines that do not talk to each other (the engine switch of the
    engine_switch role - heartbeat on one node, keepalived on the other). Waits, listening on the VIP's segment, until
    another MAC address claims the VIP (a gratuitous ARP, or an answer to the ARP probes it sends meanwhile, sender
    0.0.0.0), then, O(drain) seconds later, takes the VIP off this node and stops the units in O(stop), so that the old
    engine cannot put it back.
  - This node keeps serving until the other node can, so clients see no gap; both nodes hold the VIP for O(drain) and
    the time to delete it. When no claim comes within O(timeout), nothing changes and the module fails.
  - Run it in the background (C(async), C(poll 0)) before the other node starts its engine, and wait for it with
    M(ansible.builtin.async_status).
  - Needs root (CAP_NET_RAW for the ARP socket, CAP_NET_ADMIN to delete the address).
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
  timeout:
    description: Seconds to wait for the claim.
    type: float
    default: 60
  drain:
    description: Seconds this node keeps the VIP after the claim, for the requests in flight to it.
    type: float
    default: 0.3
  stop:
    description: systemd units to stop once the VIP is off (the old engine).
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode nothing is waited for or changed; the module says what it would do.
  diff_mode:
    support: none
  platform:
    platforms: linux
"""

EXAMPLES = r"""
- name: Let the VIP go once the standby's new engine claims it, and stop heartbeat
  hapair.loadbalancer.vip_release:
    vip: 198.51.100.10
    prefix: 26
    interface: eth0
    timeout: 40
    stop: [heartbeat]
  async: 100
  poll: 0
  register: release_job
"""

RETURN = r"""
outcome:
  description: V(released) (claimed by another node, let go here), V(gone) (the VIP left this node by other means; the
    units were stopped all the same) or V(timeout).
  returned: always
  type: str
claimed_by:
  description: The MAC address that claimed the VIP.
  returned: when claimed
  type: str
waited_seconds:
  description: Seconds from the start of the wait to the claim.
  returned: always
  type: float
held_together_seconds:
  description: Seconds from seeing the claim to the VIP being off this node (both held it meanwhile).
  returned: when released
  type: float
released_at:
  description: When the VIP went off this node, in seconds since the epoch on its clock.
  returned: when released
  type: float
stopped:
  description: The units of O(stop) that were stopped.
  returned: always
  type: list
  elements: str
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hapair.loadbalancer.plugins.module_utils import vip_check_arp, vip_release
from ansible_collections.hapair.loadbalancer.plugins.module_utils import vip_check_kernel as kernel


def _interface(name):
    for interface in kernel.read_interfaces():
        if interface['name'] == name:
            return interface
    return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            vip=dict(type='str', required=True),
            prefix=dict(type='int', required=True),
            interface=dict(type='str', required=True),
            timeout=dict(type='float', default=60.0),
            drain=dict(type='float', default=vip_release.DRAIN),
            stop=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    vip, name = params['vip'], params['interface']

    def holds():
        found = _interface(name)
        return bool(found) and any(address['address'] == vip for address in found['addresses'])

    try:
        interface = _interface(name)
        if interface is None or not interface.get('mac'):
            module.fail_json(msg='%s: no such interface with a MAC address on this node' % name)
        if module.check_mode:
            module.exit_json(changed=True, outcome='released', waited_seconds=0.0, stopped=params['stop'],
                             msg='would wait until another node claims %s, then let it go here and stop %s'
                                 % (vip, ', '.join(params['stop']) or 'nothing'))
        sock = vip_check_arp.open_socket(name)
        try:
            outcome, mac, waited = vip_release.watch(sock, interface['mac'], vip, params['timeout'], holds)
        finally:
            sock.close()
    except (kernel.KernelReadError, vip_check_arp.ProbeError) as exc:
        module.fail_json(msg=str(exc))
    if outcome == 'timeout':
        module.fail_json(msg='No other node claimed %s within %s s: it stays on this node, and %s keeps running.'
                             % (vip, params['timeout'], ', '.join(params['stop']) or 'its engine'),
                         outcome=outcome, waited_seconds=round(waited, 3), stopped=[])
    claimed_at = time.time()
    result = vip_release.release(vip, params['prefix'], name, params['stop'], holds,
                                 drain=params['drain'] if outcome == 'claimed' else 0.0)
    if result['errors']:
        module.fail_json(msg='; '.join(result['errors']), outcome=outcome, claimed_by=mac,
                         waited_seconds=round(waited, 3), stopped=result['stopped'])
    answer = dict(changed=True, outcome='released' if outcome == 'claimed' else outcome,
                  waited_seconds=round(waited, 3), stopped=result['stopped'])
    if outcome == 'claimed':
        answer.update(claimed_by=mac, released_at=round(result['released_at'], 3),
                      held_together_seconds=round(result['released_at'] - claimed_at, 3))
    module.exit_json(**answer)


if __name__ == '__main__':
    main()
