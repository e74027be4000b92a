# Copyright: (c) 2026, hapair.loadbalancer developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failover drills against the converged pair, with a client asking for the site every 100 ms.

Each drill leaves the pair as it found it: the VIP on the preferred node, exactly one holder.
"""

from __future__ import annotations

import json
import os
import tempfile
import time

import pytest

from conftest import CLIENT, HOSTVARS, ansible_playbook as playbook, pairs
from drill import SitePoller, holds_vip, podman, report, vip_check, wait_for

CLUSTER = sorted(pairs())[0]
PREFERRED, STANDBY = pairs()[CLUSTER]
VIP = HOSTVARS[PREFERRED]['hapair_vip']
NAMES = {host: HOSTVARS[host]['hapair_node_name'] for host in (PREFERRED, STANDBY)}
CLIENT_CONTAINER = HOSTVARS[CLIENT]['testbed_container']
# deadtime 10 s plus a margin, as the failover playbook's own bound
BOUND = 20


@pytest.fixture(autouse=True)
def pair_is_whole_before_and_after():
    """Every drill starts and ends with the VIP on the preferred node only."""
    assert holds_vip(PREFERRED, VIP) and not holds_vip(STANDBY, VIP)
    yield
    wait_for(lambda: holds_vip(PREFERRED, VIP) and not holds_vip(STANDBY, VIP), 60)
    result = playbook('verify.yml')
    assert result.rc == 0, result.out[-3000:]


def test_graceful_stop_drill_with_the_failover_playbook():
    with tempfile.TemporaryDirectory() as tmp:
        report_file = os.path.join(tmp, 'drill.json')
        with SitePoller(CLIENT_CONTAINER, 'http://%s/' % VIP) as poller:
            result = playbook('failover.yml', '-e', 'heartbeat_failover_report=%s' % report_file)
        assert result.rc == 0, result.out[-3000:]
        with open(report_file, encoding='utf-8') as handle:
            drill = json.load(handle)['pairs'][0]
    assert drill['holder_before'] == NAMES[PREFERRED] and drill['took_over'] == NAMES[STANDBY]
    assert drill['site_status'] == 200
    assert 0 < drill['failover_seconds'] <= drill['failover_bound_seconds']
    assert 0 <= drill['failback_seconds'] <= drill['failback_bound_seconds']
    lost = poller.result
    report('graceful stop', {'failover_s': drill['failover_seconds'], 'failback_s': drill['failback_seconds'],
                             'requests': lost['requests'], 'failed': lost['failed'],
                             'longest_gap_s': lost['longest_gap_seconds']})
    # A graceful stop hands the VIP over at once: far less than deadtime without answers.
    assert lost['longest_gap_seconds'] < 5, lost
    assert set(lost['backends']) == {'web1', 'web2'}, lost


def test_reboot_drill_with_the_failover_playbook():
    with tempfile.TemporaryDirectory() as tmp:
        report_file = os.path.join(tmp, 'drill.json')
        with SitePoller(CLIENT_CONTAINER, 'http://%s/' % VIP) as poller:
            result = playbook('failover.yml', '-e', 'heartbeat_failover_method=reboot',
                              '-e', 'heartbeat_failover_report=%s' % report_file)
        assert result.rc == 0, result.out[-3000:]
        with open(report_file, encoding='utf-8') as handle:
            drill = json.load(handle)['pairs'][0]
    assert drill['method'] == 'reboot' and drill['took_over'] == NAMES[STANDBY] and drill['site_status'] == 200
    report('reboot', {'failover_s': drill['failover_seconds'], 'failback_s': drill['failback_seconds'],
                      'requests': poller.result['requests'], 'failed': poller.result['failed'],
                      'longest_gap_s': poller.result['longest_gap_seconds']})
    assert poller.result['longest_gap_seconds'] < 5, poller.result


def test_crash_of_the_active_node_and_its_return():
    preferred_container = HOSTVARS[PREFERRED]['testbed_container']
    with SitePoller(CLIENT_CONTAINER, 'http://%s/' % VIP) as poller:
        podman('kill', preferred_container)
        failover = wait_for(lambda: holds_vip(STANDBY, VIP), BOUND)
        # The survivor is the only holder: it has the VIP and its ARP probe finds nobody else answering.
        survivor = vip_check(STANDBY, VIP, 'holder')
        assert survivor['verdict'] == 'holder' and survivor['responders'] == [], survivor
        time.sleep(2)  # the site through the survivor for a moment
        podman('start', preferred_container)
        failback = wait_for(lambda: holds_vip(PREFERRED, VIP) and not holds_vip(STANDBY, VIP), 60)
        time.sleep(1)
    lost = poller.result
    report('crash (podman kill)', {'failover_s': round(failover, 1), 'failback_s': round(failback, 1),
                                   'requests': lost['requests'], 'failed': lost['failed'],
                                   'longest_gap_s': lost['longest_gap_seconds']})
    assert failover <= BOUND
    # Users lose the site for about deadtime at most, then it answers again from the survivor.
    assert lost['longest_gap_seconds'] <= BOUND, lost
    assert lost['failed'] < lost['requests'], lost


def test_split_brain_is_found_and_named():
    standby_container = HOSTVARS[STANDBY]['testbed_container']
    prefix = HOSTVARS[PREFERRED].get('hapair_vip_prefix', 24)
    podman('exec', standby_container, 'ip', 'addr', 'add', '%s/%s' % (VIP, prefix), 'dev', 'eth0', 'label', 'eth0:9')
    try:
        result = playbook('verify.yml')
        assert result.rc == 2, result.out[-3000:]
        expected = "Split brain in pair '%s': %s and %s both hold VIP %s." % (
            CLUSTER, NAMES[PREFERRED], NAMES[STANDBY], VIP)
        assert expected in result.out, result.out[-3000:]
    finally:
        podman('exec', standby_container, 'ip', 'addr', 'del', '%s/%s' % (VIP, prefix), 'dev', 'eth0')
    result = playbook('verify.yml')
    assert result.rc == 0, result.out[-3000:]
