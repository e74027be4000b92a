# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""--check --diff against fresh nodes: every change reported and shown, none made.

The nodes come straight from testbed/up.yml: no heartbeat, no Apache, the container name as hostname. The
site playbook in check mode must exit 0, report changes on both nodes, show the diffs of the files it would
write (never of authkeys), skip the VIP check because heartbeat is not running yet, and leave the nodes exactly
as they were (conftest.snapshot: files, packages, services, hostname, /etc/hosts, VIP).
"""

from __future__ import annotations

import os
import re

import pytest
import yaml

from conftest import HOSTVARS, NODES, PROVISION_PLAY, ROOT, ansible_playbook, pairs, snapshot

MISSING = 'missing'


def _role_default(role, name):
    """A role's default value, from its defaults/main.yml."""
    with open(os.path.join(ROOT, 'roles', role, 'defaults', 'main.yml'), encoding='utf-8') as handle:
        return yaml.safe_load(handle)[name]


def task_output(out, task):
    """The output of a task, from its TASK line to the next TASK, HANDLER or PLAY line."""
    match = re.search(r'^TASK \[[^\]]*: %s\] \**\n(.*?)(?=^(?:TASK|RUNNING HANDLER|PLAY) )' % re.escape(task), out, re.M | re.S)
    assert match, 'no task %r in the output' % task
    return match.group(1)


def added_lines(section):
    """The lines a diff in a task's output adds, without the '+'."""
    return {line[1:] for line in section.splitlines() if line.startswith('+') and not line.startswith('+++')}


@pytest.fixture(scope='module')
def fresh():
    state = snapshot()
    for host in NODES:
        assert state[host]['file /etc/ha.d/ha.cf'] == MISSING, (host, 'not a fresh node')
        assert not state[host]['package heartbeat'].endswith(' installed'), (host, 'not a fresh node')
        assert not state[host]['package apache2'].endswith(' installed'), (host, 'not a fresh node')
        assert state[host]['uname'] != HOSTVARS[host]['hapair_node_name'], (host, 'not a fresh node')
    return state


@pytest.fixture(scope='module')
def check_run(fresh):
    return ansible_playbook('site.yml', '--check', '--diff')


def test_check_diff_on_fresh_nodes_succeeds_and_reports_changes(check_run):
    run = check_run
    assert run.rc == 0, run.out[-5000:]
    assert PROVISION_PLAY in run.out
    assert sorted(run.recap) == sorted(NODES), run.recap
    for host, recap in run.recap.items():
        assert recap['changed'] > 0 and recap['failed'] == 0 and recap['unreachable'] == 0, (host, recap)


def test_check_diff_shows_the_files_it_would_write(check_run):
    out = check_run.out
    for _cluster, hosts in pairs().items():
        names = [HOSTVARS[host]['hapair_node_name'] for host in hosts]
        vip = HOSTVARS[hosts[0]]
        ha_cf = added_lines(task_output(out, 'Write ha.cf'))
        assert {'node %s' % name for name in names} <= ha_cf, ha_cf
        for host in hosts:
            for link in HOSTVARS[host]['hapair_links']:
                assert any(re.fullmatch(r'ucast \S+ %s' % re.escape(link['address']), line) for line in ha_cf), (link, ha_cf)
        haresources = added_lines(task_output(out, 'Write haresources'))
        assert '%s hapair-vip::%s/%s/eth0' % (names[0], vip['hapair_vip'], vip['hapair_vip_prefix']) in haresources, haresources
        hostname = added_lines(task_output(out, 'Write the node name to /etc/hostname'))
        assert set(names) <= hostname, hostname
        hosts_file = added_lines(task_output(out, "Resolve the pair's node names to their first heartbeat address"))
        for host in hosts:
            assert '%s %s' % (HOSTVARS[host]['hapair_links'][0]['address'], HOSTVARS[host]['hapair_node_name']) in hosts_file, hosts_file
    site = added_lines(task_output(out, 'Write the balancer site'))
    timeout = HOSTVARS[NODES[0]].get('apache_balancer_connect_timeout', _role_default('apache_balancer', 'apache_balancer_connect_timeout'))
    for member in HOSTVARS[NODES[0]]['apache_balancer_members']:
        assert '        BalancerMember "%s" connectiontimeout=%s' % (member.rstrip('/'), timeout) in site, site
    for task in ('Install Apache', 'Install heartbeat and the tools its IPaddr agent needs'):
        assert len(re.findall(r'^changed: \[', task_output(out, task), re.M)) == len(NODES), task


def test_check_diff_never_shows_authkeys(check_run):
    authkeys = task_output(check_run.out, 'Write authkeys')
    assert len(re.findall(r'^changed: \[', authkeys, re.M)) == len(NODES), authkeys
    assert not re.search(r'^(---|\+\+\+|@@|\+|-)', authkeys, re.M), authkeys
    for host in NODES:
        assert HOSTVARS[host]['heartbeat_auth_key'] not in check_run.out


def test_the_vip_check_is_skipped_while_heartbeat_does_not_run(check_run):
    out = check_run.out
    for host in NODES:
        assert 'Check mode: heartbeat is not running on %s yet, so there is no VIP to check.' % host in out
    waited = task_output(out, 'Wait until this node sees the VIP settled, on itself alone or on exactly one other machine')
    assert sorted(re.findall(r'^skipping: \[(\S+)\]$', waited, re.M)) == sorted(NODES), waited


def test_check_diff_changed_nothing_on_the_nodes(fresh, check_run):
    assert check_run.rc == 0
    assert snapshot() == fresh


def test_verify_playbook_in_check_mode_on_fresh_nodes(fresh, check_run):
    run = ansible_playbook('verify.yml', '--check')
    assert run.rc == 0, run.out[-5000:]
    for host in NODES:
        assert 'Check mode: heartbeat is not running on %s yet, so there is no VIP to check.' % host in run.out
        assert run.recap[host]['failed'] == 0 and run.recap[host]['changed'] == 0, run.recap
    assert snapshot() == fresh
