#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: node_input
short_description: Type and check one host's input to the collection's roles
version_added: 1.1.0
author:
  - hapair.loadbalancer developers (@hapair)
description:
  - Reads, for the entry points given in O(roles), every variable their argument specs
    (C(roles/ROLE/meta/argument_specs.yml)) document, from the host's own variables, and types it the way Ansible types role
    arguments, stricter where Ansible's conversion would hide a mistake (a boolean where a number belongs).
  - Computes the defaults that depend on the host (C(hapair_node_name), C(hapair_links), C(hapair_vip_interface), the
    timers of O(ignore:heartbeat_timers), the apt release) and checks every value against its grammar (no control
    characters anywhere, host names, interface names, URLs, paths, ports, timers).
  - Templates every variable on its own, so that one that cannot be templated is named without being printed.
  - Runs on the controller only and changes nothing. Its result holds secrets (the heartbeat key), so register it with
    C(no_log) and pass it to M(hapair.loadbalancer.pair_model), which reports the errors.
options:
  roles:
    description:
      - The entry points to check, as C(ROLE) (its C(main) entry point) or C(ROLE:ENTRY_POINT), for example
        V(heartbeat:verify). The roles are those of this collection.
    type: list
    elements: str
    required: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - hapair.loadbalancer.attributes.controller
seealso:
  - module: hapair.loadbalancer.pair_model
"""

EXAMPLES = r"""
- name: Read and type this host's input
  hapair.loadbalancer.node_input:
    roles: [hapair, heartbeat]
  register: __input
  no_log: true
"""

RETURN = r"""
host:
  description: The inventory name of the host.
  returned: always
  type: str
entry_points:
  description: The entry points checked, as C(ROLE) or C(ROLE:ENTRY_POINT).
  returned: always
  type: list
  elements: str
typed:
  description: Every variable of the entry points, typed, with computed defaults; secrets are left out.
  returned: always
  type: dict
secrets:
  description: The values of the options marked C(no_log), typed. Never print them.
  returned: always
  type: dict
errors:
  description: What is wrong, one message per problem, each naming the host, the variable and the value (never a secret).
  returned: always
  type: list
  elements: str
warnings:
  description: What is valid but worth a word, such as no ping node for the monitor.
  returned: always
  type: list
  elements: str
invalid:
  description: The variables that have an error.
  returned: always
  type: list
  elements: str
facts:
  description: The host's interfaces, their IPv4 addresses and networks, its default route and distribution, from its facts.
  returned: always
  type: dict
shared:
  description: The heartbeat variables that both nodes of a pair must share.
  returned: always
  type: list
  elements: str
"""
