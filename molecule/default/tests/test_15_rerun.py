# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A second run of the site playbook on the converged pair: nothing changes, and nothing is even tried.

Each role reads its part of the node once (hapair.loadbalancer.node_state) and includes its converge step only
where the node differs; on a converged pair no role does, so the run is the fact gathering, one state read per
role, the input check on the controller and the VIP check, and no task that could change a node.
"""

from __future__ import annotations

import re

from conftest import ENGINE, NODES, ansible_playbook, snapshot

STATE_READS = (
    "hapair.loadbalancer.hostnames : Read the node name, /etc/hostname, the pair's block in /etc/hosts and cloud-init's settings",
    "hapair.loadbalancer.apache_balancer : Read the state of Apache's package, modules, files and service",
    {'heartbeat': "hapair.loadbalancer.heartbeat : Read the state of heartbeat's packages, files and service",
     'keepalived': "hapair.loadbalancer.keepalived : Read the state of keepalived's package, files, user and service"}[ENGINE],
)


def test_a_rerun_reads_each_role_once_and_includes_no_converge_step():
    before = snapshot()
    run = ansible_playbook('site.yml')
    assert run.rc == 0, run.out[-5000:]
    for host in NODES:
        assert run.recap[host]['changed'] == 0 and run.recap[host]['failed'] == 0, (host, run.recap[host])
    # No converge step of any role was included, on any node.
    assert not re.search(r'^included: .*/converge\.yml', run.out, re.M), run.out
    # The tasks that ran a module on the nodes (ok, not skipped): fact gathering, one state read per role, the VIP.
    ran = []
    for task, body in re.findall(r'^TASK \[(.+?)\] \*+\n(.*?)(?=^(?:TASK|PLAY|RUNNING HANDLER) )', run.out, re.M | re.S):
        if re.search(r'^ok: \[(%s)\]' % '|'.join(NODES), body, re.M):
            ran.append(task)
    for task in STATE_READS:
        assert ran.count(task) == 1, (task, ran)
    assert not [task for task in ran if re.search(r': (Write|Install|Enable|Create|Make|Set|Resolve|Keep|Disable|Move) ', task)], ran
    assert snapshot() == before
