#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vip_check
short_description: Report who holds a virtual IP on the segment, from one node's point of view
version_added: 1.0.0
author:
  - hapair.loadbalancer developers (!UNKNOWN)
description:
  - Reads from the kernel (rtnetlink) whether the virtual IP O(vip) is configured on a local interface, on which
    interface and with which address label (heartbeat's C(IPaddr) agent adds it with C(ifconfig eth0:0), so the label
    is V(eth0:0)). Heartbeat's own state files are not read.
  - Sends RFC 5227 ARP probes for O(vip) (sender IP V(0.0.0.0), so no ARP cache changes) over a raw C(AF_PACKET)
    socket and lists the MAC addresses that claim O(vip) on the segment within O(timeout) seconds. Every ARP request
    or reply with O(vip) as sender address counts, including the gratuitous ARPs heartbeat sends on takeover. Frames
    this node sends itself are ignored, so the list holds other machines only.
  - "Gives a verdict from this node's point of view: V(holder) (this node holds O(vip) and no other MAC claims it),
    V(standby) (this node does not hold it and exactly one other MAC claims it) or V(conflict) (two or more claimants,
    or none at all)."
  - "When the probe is disabled (O(arp_probe=false)) or cannot run (no C(CAP_NET_RAW), interface down or not Ethernet,
    socket error), the verdict rests on the local state only: V(holder) when this node holds O(vip), V(standby) when
    it does not. RV(arp_probe.ran) is then V(false), RV(arp_probe.error) says why, and a warning is shown when the
    probe could not run (not when it was disabled). Such a verdict is never V(conflict)."
  - Changes nothing on the node, in check mode or not. RV(changed) is always V(false).
  - The interface used for the probe is O(interface) if set; else the interface that holds O(vip); else the interface
    with an IPv4 subnet that contains O(vip). If none of these exists the module fails.
options:
  vip:
    description:
      - The virtual IP address to check, a single IPv4 address without prefix length.
    type: str
    required: true
  interface:
    description:
      - The interface on the VIP's segment to send the ARP probe on, for example V(eth0) (a label such as V(eth0:0)
        is not an interface).
      - If not set, the interface that holds O(vip); else the interface with an IPv4 subnet that contains O(vip);
        else the module fails.
      - The module fails if the interface does not exist.
    type: str
  expect:
    description:
      - Which verdict makes the module succeed.
      - V(holder) fails unless the verdict is V(holder); V(standby) fails unless it is V(standby); V(any) fails only on
        V(conflict).
      - "A failed result still carries every return value, so a play can run the module with C(failed_when: false) and
        judge the results of both nodes of a pair together."
    type: str
    choices: [holder, standby, any]
    default: any
  arp_probe:
    description:
      - Whether to send the ARP probe. With V(false) the verdict rests on the local state only (see above).
    type: bool
    default: true
  timeout:
    description:
      - How long to listen for claims, in seconds (more than 0, at most 60). Three probes are sent, spread over this
        time.
      - The module always listens for the whole time, because a second claimant may answer after the first, so a run
        with the probe takes at least this long.
    type: float
    default: 1.0
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - hapair.loadbalancer.attributes.read_only
attributes:
  check_mode:
    support: full
    details: The module never changes anything; in check mode it runs exactly as without, including the ARP probe.
  platform:
    platforms: linux
requirements:
  - Linux (rtnetlink and C(AF_PACKET) sockets); the Python standard library only, no C(ip) or C(arping) binary
  - Root or C(CAP_NET_RAW) for the ARP probe
notes:
  - Heartbeat's IPaddr agent brings O(vip) up as an alias such as V(eth0:0); RV(label) shows it, RV(interface) shows
    the device (V(eth0)).
  - "An ARP probe gets no answer from the node that sends it: a node never lists itself in RV(responders). Two nodes
    of a pair agree when one says V(holder), the other V(standby), and the standby's RV(responders) is the holder's
    RV(local_mac)."
  - Several nodes can probe at the same time; their probes (sender IP V(0.0.0.0)) claim nothing and are not counted.
seealso:
  - name: RFC 5227, IPv4 Address Conflict Detection
    description: The ARP probe the module sends.
    link: https://www.rfc-editor.org/rfc/rfc5227
"""

EXAMPLES = r"""
- name: Check the VIP from this node (fails only on a conflict)
  hapair.loadbalancer.vip_check:
    vip: 198.51.100.230

- name: This node must hold the VIP
  hapair.loadbalancer.vip_check:
    vip: 198.51.100.230
    expect: holder

- name: Check both nodes of the pair and judge them together
  hapair.loadbalancer.vip_check:
    vip: "{{ hapair_vip }}"
    interface: eth0
    timeout: 0.5
  register: vip_state
  failed_when: false

- name: Poll until this node holds the VIP (failover drill)
  hapair.loadbalancer.vip_check:
    vip: 198.51.100.230
    expect: holder
  register: vip_state
  until: vip_state.verdict == 'holder'
  retries: 30
  delay: 1

- name: Local state only, no raw socket needed
  hapair.loadbalancer.vip_check:
    vip: 198.51.100.230
    arp_probe: false
"""

RETURN = r"""
changed:
  description: Always V(false), the module changes nothing.
  returned: always
  type: bool
  sample: false
vip:
  description: The checked VIP, normalized (as given if it is not a valid IPv4 address).
  returned: always
  type: str
  sample: 198.51.100.230
expect:
  description: The O(expect) option.
  returned: always
  type: str
  sample: any
holds_vip:
  description: Whether the VIP is configured on a local interface (read from the kernel).
  returned: always
  type: bool
  sample: true
interface:
  description:
    - The interface that holds the VIP when RV(holds_vip=true); otherwise the interface on the VIP's segment that was
      probed (RV(arp_probe.interface)).
    - V(null) when the module failed before it found one (bad options, no such interface, no interface on the VIP's
      subnet).
  returned: always
  type: str
  sample: eth0
label:
  description:
    - The address label of the VIP, for example V(eth0:0) when heartbeat's IPaddr agent added it, or the interface
      name when it was added without a label.
    - V(null) when RV(holds_vip=false).
  returned: always
  type: str
  sample: "eth0:0"
prefixlen:
  description: The prefix length the VIP is configured with; V(null) when RV(holds_vip=false).
  returned: always
  type: int
  sample: 24
local_mac:
  description:
    - This node's own MAC address on the VIP's segment (the MAC of RV(arp_probe.interface)), lower case.
    - V(null) when no interface was found or it is not an Ethernet interface.
  returned: always
  type: str
  sample: "02:42:c6:33:64:e2"
responders:
  description:
    - The MAC addresses other than this node's that claimed the VIP during the ARP probe (answered the probe or
      sent ARP with the VIP as sender address), lower case, sorted, each once.
    - Empty when the probe did not run.
  returned: always
  type: list
  elements: str
  sample: ["02:42:c6:33:64:e3"]
arp_probe:
  description: What happened to the ARP probe.
  returned: always
  type: dict
  contains:
    enabled:
      description: The O(arp_probe) option.
      type: bool
      returned: always
      sample: true
    ran:
      description:
        - Whether the probe ran to the end. When V(false), RV(verdict) rests on the local state only.
      type: bool
      returned: always
      sample: true
    error:
      description:
        - Why the probe could not run (for example no permission to open a raw socket), else V(null).
        - V(null) too when the probe was disabled or the module failed before the probe.
      type: str
      returned: always
      sample: null
    interface:
      description: The interface the probe runs on; V(null) when the module failed before it found one.
      type: str
      returned: always
      sample: eth0
    sent:
      description: How many ARP probe frames were sent (V(0) when the probe did not run).
      type: int
      returned: always
      sample: 3
    timeout:
      description: How long the probe listened, in seconds (the O(timeout) option).
      type: float
      returned: always
      sample: 1.0
verdict:
  description:
    - V(holder) - this node holds the VIP and no other MAC claims it (or the probe did not run and this node holds it).
    - V(standby) - this node does not hold the VIP and exactly one other MAC claims it (or the probe did not run and
      this node does not hold it).
    - V(conflict) - the probe ran and the VIP has two or more claimants (this node and another, or two others) or
      none at all.
    - V(null) only when the module failed before it could judge (bad options, no interface, kernel read error).
  returned: always
  type: str
  sample: holder
msg:
  description:
    - One line with the verdict and what this node saw (interfaces, label, MACs, probe result), and the expectation
      when it was not met.
  returned: always
  type: str
  sample: >-
    holder: this node holds 198.51.100.230 on eth0 (label eth0:0, MAC 02:42:c6:33:64:e2); no other MAC claimed it
    (ARP probe on eth0, 1.0 s)
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hapair.loadbalancer.plugins.module_utils.vip_check import check


def main():
    module = AnsibleModule(
        argument_spec=dict(
            vip=dict(type='str', required=True),
            interface=dict(type='str'),
            expect=dict(type='str', default='any', choices=['holder', 'standby', 'any']),
            arp_probe=dict(type='bool', default=True),
            timeout=dict(type='float', default=1.0),
        ),
        supports_check_mode=True,
    )
    result, warnings = check(module.params)
    for warning in warnings:
        module.warn(warning)
    if result.pop('failed', False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
