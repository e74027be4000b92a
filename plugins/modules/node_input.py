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
  - Computes the defaults that depend on the host (C(hapair_node_name), C(hapair_links), C(hapair_vip_interface),
    C(hapair_ping_nodes), an engine's timers of the O(ignore:hapair_timers) profile, the apt release) and checks every
    value against its grammar (no control or invisible format characters anywhere, host names, interface names, URLs,
    paths, ports, timers) and its role's rules; an engine's rules come from the engine (O(ignore:hapair_engine)).
  - Reads an old name of a renamed variable (such as C(heartbeat_timers)) for its new name and notes it, for one
    deprecation warning per old name from M(hapair.loadbalancer.pair_model).
  - Refuses, as an error of the host, what the input check publishes (C(hapair_input), C(hapair_pair), C(hapair_node),
    C(hapair_peer), C(hapair_checked_roles), and C(engine_switch_plan), which the engine_switch role publishes) and the roles'
    internal variables (C(__ROLE_...)) when they are given as extra vars, which would outrank the checked values.
  - Templates every variable on its own, so that one that cannot be templated is named without being printed.
  - Runs on the controller only and changes nothing. Its result holds no secret (only which ones are set); pass it to
    M(hapair.loadbalancer.pair_model), which reports the errors.
options:
  roles:
    description:
      - The entry points to check, as C(ROLE) (its C(main) entry point) or C(ROLE:ENTRY_POINT). The roles are those of
        this collection; V(engine) stands for the engine role of the host's pair, V(engine:timers) for its timers only.
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
    roles: [hapair, engine, monitor]
  register: __input
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
  description: The names of the options marked C(no_log) that are set and of the right type; never their values.
  returned: always
  type: list
  elements: str
errors:
  description:
    - What is wrong, one error per problem - C(rule), C(variable), C(host), C(pair), C(value) (V(null) for a secret),
      C(secret), C(level) and C(message) (with C({variable}) and C({value}) to fill in).
  returned: always
  type: list
  elements: dict
messages:
  description:
    - 'The same errors as the sentences users read (C(Host HOST: ...)), in the same order; a role that checks its input
      alone, without M(hapair.loadbalancer.pair_model), fails with them.'
  returned: always
  type: list
  elements: str
warnings_found:
  description: What is valid but worth a word, such as no ping node for the monitor, as C(errors).
  returned: always
  type: list
  elements: dict
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
  description: The variables that both nodes of a pair must share (the pair's, the monitor's and the engine's).
  returned: always
  type: list
  elements: str
deprecated:
  description: The old names set for this host, each with its new name.
  returned: always
  type: list
  elements: list
"""
