#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pair_model
short_description: Group the hosts of the play into pairs and check every rule across hosts and pairs
version_added: 1.1.0
author:
  - hapair.loadbalancer developers (@hapair)
description:
  - Reads what M(hapair.loadbalancer.node_input) returned on every host of the play (the variable named by O(input)) and
    groups the hosts into pairs by C(hapair_cluster), case-sensitively; two pair names that differ only in letter case
    are refused.
  - Checks every rule that spans hosts or pairs, for all of them at once - exactly two nodes per pair; node names unique
    in the play without regard to case; links matched across the pair (as many, link N of both nodes on one subnet,
    each address on the interface it is listed with, no address twice); the pair settings, the monitor's and the engine's
    the same on both nodes (one engine per pair; the engine's secrets read from the hosts' variables and compared, never
    shown nor kept); the preferred node a node of the pair; the VIP inside its interface's subnet, not its network or
    broadcast address, with the prefix of that subnet, and no host's, backend's, default gateway's or other pair's
    address; no backend that is a balancer itself; no machine that is two hosts of the play (one address and port to
    Ansible, a MAC address on the links of both, one machine id).
  - Checks the play's VIPs and link addresses against the hosts of the inventory outside the play (a run with
    C(--limit), or other groups' pairs) whose inventory data sets C(hapair_vip) or C(hapair_links) - another pair's VIP,
    another host's link address - from their C(hapair_cluster), C(hapair_vip) and C(hapair_links) alone (they have no
    facts in this run), and says in a warning which of them could not be read (links that come from facts, a template
    that fails, a value given as an extra var).
  - Says, once per old name, that a renamed variable is deprecated (a deprecation warning naming the new name).
  - Returns every host's node, peer and pair, and every error of every host and pair. It does not fail by itself; the
    play checks that RV(errors) is empty (the hapair role does, once for the play).
  - Run it once for the play (C(run_once)). It runs on the controller only and changes nothing.
options:
  input:
    description: The name of the variable that M(hapair.loadbalancer.node_input) was registered as on every host.
    type: str
    required: true
  hosts:
    description: The hosts to group. By default every host of the play (C(ansible_play_hosts_all)).
    type: list
    elements: str
  outside:
    description:
      - The hosts outside the play to check the play against, from their inventory data. By default every host of the
        inventory (C(groups['all'])); those in O(hosts) and those that set neither C(hapair_vip) nor C(hapair_links) are
        left out.
    type: list
    elements: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - hapair.loadbalancer.attributes.controller
seealso:
  - module: hapair.loadbalancer.node_input
"""

EXAMPLES = r"""
- name: Work out the pairs and check every host and pair of the play
  hapair.loadbalancer.pair_model:
    input: __input
  register: __model
  run_once: true

- name: Stop when anything is wrong
  ansible.builtin.assert:
    that: __model['errors'] | length == 0
    fail_msg: "{{ __model['errors'] }}"
  run_once: true
"""

RETURN = r"""
hosts:
  description:
    - For every host of a pair, C(node) (this host - C(host), C(name), C(cluster), C(links)), C(peer) (the other node,
      the same keys) and C(pair) (C(name), C(engine) (the engine contract's C(name), C(role), C(service), C(process),
      C(packages), C(monitor) settings and C(fault_methods)), C(timers) (the engine's C(advert), C(detect), C(startup),
      C(handover) and C(settle) times, in seconds), C(vip), C(vip_prefix), C(vip_interface), C(preferred_node),
      C(preferred_host), C(auto_failback), and C(nodes), both nodes sorted by name).
  returned: always
  type: dict
errors:
  description: Every error of every host and pair, each naming the host or pair, the variable and the value (never a secret).
  returned: always
  type: list
  elements: str
errors_detail:
  description: The same errors as fields - C(rule), C(variable), C(host), C(pair), C(value), C(secret), C(level), C(message).
  returned: always
  type: list
  elements: dict
warnings_found:
  description:
    - What is valid but worth a word, such as no ping node for the monitor; each names the host and the variable.
    - Also which hosts outside the play could not be checked against it, and why.
  returned: always
  type: list
  elements: str
msg:
  description: How many errors there are, or that the input is valid.
  returned: always
  type: str
"""
