#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: engine_state
short_description: What a node's HA engine says about the pair, for every engine
version_added: 1.2.0
author:
  - hapair.loadbalancer developers (@hapair)
description:
  - Reads the state of the pair's HA engine on a node with the engine's own means (heartbeat - C(cl_status);
    keepalived - its unit and the state its notify script wrote), through the node-side half of the engine contract
    (the same code hapair-monitor runs) - whether the engine runs, how it sees the peer, whether something is moving -
    and says whether the pair is whole from this node's view.
  - Changes nothing. The keepalived role and the drill role wait with it until a pair is whole, whatever its engine
    (the verify role judges the VIP itself, with M(hapair.loadbalancer.vip_check)).
options:
  engine:
    description: The engine's settings, as the pair model publishes them (C(hapair_pair['engine']['monitor'])).
    type: dict
    required: true
  peer:
    description: The peer's node name.
    type: str
    required: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: linux
"""

EXAMPLES = r"""
- name: Wait until this node's engine sees its peer and nothing moves
  hapair.loadbalancer.engine_state:
    engine: "{{ hapair_pair['engine']['monitor'] }}"
    peer: "{{ hapair_peer['name'] }}"
  register: state
  until: state['whole']
  retries: 30
  delay: 1
"""

RETURN = r"""
running:
  description: Whether the engine runs on this node.
  returned: always
  type: bool
peer:
  description:
    - How the engine sees the peer (heartbeat - V(active), V(dead), ...; keepalived, which keeps no view of the peer -
      V(active) while this node is MASTER or BACKUP, else its VRRP state in lower case), V(null) when it does not run.
  returned: always
  type: str
transition:
  description: Whether something is moving (heartbeat - resources in transition; never with keepalived).
  returned: always
  type: bool
whole:
  description: The engine runs, sees its peer alive and nothing is moving.
  returned: always
  type: bool
holds:
  description:
    - Whether the engine thinks this node holds the VIP (heartbeat - its resources are local, foreign or all;
      keepalived - MASTER); V(null) when it does not run. The engine switch waits with it until heartbeat, started on
      the node that holds the VIP, has taken the VIP as its own.
  returned: always
  type: bool
  version_added: 1.2.0
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hapair.loadbalancer.plugins.module_utils import node_engine


def main():
    module = AnsibleModule(
        argument_spec=dict(engine=dict(type='dict', required=True), peer=dict(type='str', required=True)),
        supports_check_mode=True,
    )
    try:
        adapter = node_engine.adapter(module.params['engine'])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    state = adapter.state(module.params['peer'])
    module.exit_json(changed=False, running=bool(state.get('running')), peer=state.get('peer'),
                     transition=bool(state.get('transition')), whole=state.whole, holds=adapter.holds_resources(state))


if __name__ == '__main__':
    main()
