#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: engine_facts
short_description: Which HA engines a node has, runs and starts at boot, and whether it holds the VIP
version_added: 1.2.0
author:
  - hapair.loadbalancer developers (@hapair)
description:
  - Reads, in one call, what the node has of every HA engine the collection knows (heartbeat, keepalived) - whether
    its unit is loaded, active and enabled, whether its packages are installed, which of the markers its role writes
    in C(/var/lib/hapair/applied) are there - whether the node's kernel holds the VIP, and whether hapair-monitor
    runs.
  - The engine_switch role reads both nodes of a pair with it and works out on the controller whether the pair has
    to switch engines, and how (the filter P(hapair.loadbalancer.engine_switch#filter)).
  - Changes nothing.
options:
  vip:
    description: The pair's VIP.
    type: str
    required: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - hapair.loadbalancer.attributes.read_only
attributes:
  platform:
    platforms: debian
"""

EXAMPLES = r"""
- name: Read which engine each node runs
  hapair.loadbalancer.engine_facts:
    vip: "{{ hapair_pair['vip'] }}"
  register: engines_here
"""

RETURN = r"""
engines:
  description:
    - Per engine name - C(exists) (its unit is loaded), C(active), C(enabled) (starts at boot), C(installed) (all its
      packages are), C(markers) (the markers of its role that the node has).
  returned: always
  type: dict
  sample: {"heartbeat": {"exists": true, "active": true, "enabled": true, "installed": true,
           "markers": ["heartbeat-reload", "heartbeat-restart"]},
           "keepalived": {"exists": false, "active": false, "enabled": false, "installed": false, "markers": []}}
running:
  description: The engines whose unit is active.
  returned: always
  type: list
  elements: str
holds_vip:
  description: Whether an interface of the node has the VIP (the kernel's view).
  returned: always
  type: bool
monitor:
  description: Whether hapair-monitor's unit is loaded (C(exists)) and C(active).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hapair.loadbalancer.plugins.module_utils import engine_switch, engines, node_state
from ansible_collections.hapair.loadbalancer.plugins.module_utils import vip_check_kernel as kernel
from ansible_collections.hapair.loadbalancer.plugins.module_utils.engine import APPLIED_DIR


def main():
    module = AnsibleModule(argument_spec=dict(vip=dict(type='str', required=True)), supports_check_mode=True)
    known = list(engines.ENGINES.values())
    units = [engine.service for engine in known] + [engine_switch.MONITOR_UNIT]
    systemctl = module.get_bin_path('systemctl')
    out = ''
    if systemctl:
        rc, out, err = module.run_command(
            [systemctl, 'show', '--property=' + ','.join(node_state.SERVICE_PROPERTIES), '--'] + units)
        if rc != 0:
            module.fail_json(msg='systemctl show failed: %s' % (err.strip() or out.strip()))
    packages = node_state.packages(sorted(set(name for engine in known for name in engine.packages)))
    applied = node_state.directories([APPLIED_DIR])[APPLIED_DIR]
    try:
        holds = any(address['address'] == module.params['vip']
                    for interface in kernel.read_interfaces() for address in interface['addresses'])
    except kernel.KernelReadError as exc:
        module.fail_json(msg=str(exc))
    found = engine_switch.node_facts(known, node_state.parse_systemctl_show(out, units), packages, applied, holds)
    module.exit_json(changed=False, **found)


if __name__ == '__main__':
    main()
