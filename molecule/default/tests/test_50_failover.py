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
# The drill report's seconds have two decimals.
ROUNDING = 0.01


@pytest.fixture(autouse=True)
def pair_is_whole_before_and_after():
    """Every drill starts and ends with the VIP on the preferred node only."""
    assert holds_vip(PREFERRED, VIP) and not holds_vip(STANDBY, VIP)
    yield
    wait_for(lambda: holds_vip(PREFERRED, VIP) and not holds_vip(STANDBY, VIP), 60)
    result = playbook('verify.yml')
    assert result.rc == 0, result.out[-3000:]


def _drill(*extra):
    """Run the failover playbook while the test bed's own client polls the site; (drill report of the pair, poller)."""
    with tempfile.TemporaryDirectory() as tmp:
        report_file = os.path.join(tmp, 'drill.json')
        with SitePoller(CLIENT_CONTAINER, 'http://%s/' % VIP) as poller:
            result = playbook('failover.yml', '-e', 'heartbeat_failover_report=%s' % report_file, *extra)
        assert result.rc == 0, result.out[-3000:]
        with open(report_file, encoding='utf-8') as handle:
            report = json.load(handle)
    assert report['schema'] == 'hapair.loadbalancer/drill/1'
    return report['pairs'][0], poller.result


def _compare_with_the_test_bed_client(drill, lost):
    """The drill's own figures (its watchers, its client on the controller) against the test bed's client."""
    mine = drill['client']
    # One lost request costs a client its timeout (5 intervals) plus the interval to its next request.
    one_request = 6 * mine['interval_seconds']
    during = [o for o in lost['outages'] if o['first_failure'] >= drill['fault_at'] - 1 and o['first_failure'] < drill['restored_at']]
    theirs_back = (during[0]['to'] - drill['fault_at']) if during else 0.0
    if during and mine['site_back_seconds'] > 0:
        # Both clients saw the outage and saw the site answer again at about the same time after the fault. Each
        # client's first answer comes after the site's return, at the latest one request timeout (its request in
        # flight at the return) plus that answer's own time later: the two figures differ by no more than that.
        later = mine['site_back_seconds'] - theirs_back
        assert later <= mine['timeout_seconds'] + mine['site_back_answer_seconds'] + ROUNDING, (mine, lost)
        assert -later <= lost['timeout_seconds'] + during[0]['answer_seconds'] + ROUNDING, (mine, lost)
    elif during:
        # Only the test bed's client lost answers (0 is the drill client's "nothing failed", no time): the hand-over
        # was shorter than one interval, so its one request that fell into it was all it lost.
        assert during[0]['to'] - during[0]['first_failure'] <= one_request, (mine, lost)
    # Each client's longest gap runs from an answer to the next: two clients polling independently can differ by
    # one lost request, never more (this also bounds what the drill's client lost when the test bed's lost nothing).
    assert abs(mine['longest_gap_seconds'] - lost['longest_gap_seconds']) <= one_request, (mine, lost)
    # When the client lost answers, the VIP was on the peer before the site answered through it again: the drill's
    # figure is no mere poll. (A graceful hand-over can be quick enough for no request to fail at all.)
    if mine['site_back_seconds'] > 0:
        assert drill['failover_seconds'] <= mine['site_back_seconds'] + 0.3, drill
    return theirs_back


def test_graceful_stop_drill_with_the_failover_playbook():
    drill, lost = _drill()
    assert drill['holder_before'] == NAMES[PREFERRED] and drill['took_over'] == NAMES[STANDBY]
    assert drill['holder_after'] == NAMES[PREFERRED]
    assert 0 < drill['failover_seconds'] <= drill['bounds']['failover_seconds']
    assert 0 <= drill['failback_seconds'] <= drill['bounds']['failback_seconds']
    # A graceful stop hands the VIP over at once, never to two holders.
    assert drill['two_holders_seconds'] == 0, drill
    theirs_back = _compare_with_the_test_bed_client(drill, lost)
    report('graceful stop', {'failover_s': drill['failover_seconds'], 'released_s': drill['released_seconds'],
                             'failback_s': drill['failback_seconds'], 'drill_client_back_s': drill['client']['site_back_seconds'],
                             'testbed_client_back_s': round(theirs_back, 2), 'requests': lost['requests'],
                             'failed': lost['failed'], 'longest_gap_s': lost['longest_gap_seconds']})
    assert lost['longest_gap_seconds'] < 5, lost
    assert set(lost['backends']) == {'web1', 'web2'}, lost


def test_reboot_drill_with_the_failover_playbook():
    drill, lost = _drill('-e', 'heartbeat_failover_method=reboot')
    assert drill['method'] == 'reboot' and drill['took_over'] == NAMES[STANDBY] and drill['holder_after'] == NAMES[PREFERRED]
    # The rebooted node's watcher ends with the reboot; its peer's record gives the failback.
    assert drill['watchers'][NAMES[PREFERRED]]['lost'] and not drill['watchers'][NAMES[STANDBY]]['lost']
    assert drill['failback_seconds'] is not None
    theirs_back = _compare_with_the_test_bed_client(drill, lost)
    report('reboot', {'failover_s': drill['failover_seconds'], 'failback_s': drill['failback_seconds'],
                      'drill_client_back_s': drill['client']['site_back_seconds'], 'testbed_client_back_s': round(theirs_back, 2),
                      'requests': lost['requests'], 'failed': lost['failed'], 'longest_gap_s': lost['longest_gap_seconds']})
    assert lost['longest_gap_seconds'] < 5, lost


def test_drill_stopping_apache_on_the_holder():
    """Opt-in: the monitor hands the VIP over, and brings it back once Apache runs again."""
    drill, lost = _drill('-e', 'heartbeat_failover_method=apache')
    assert drill['took_over'] == NAMES[STANDBY] and drill['holder_after'] == NAMES[PREFERRED], drill
    assert drill['failover_seconds'] <= drill['bounds']['failover_seconds'], drill
    assert drill['failback_seconds'] <= drill['bounds']['failback_seconds'], drill
    theirs_back = _compare_with_the_test_bed_client(drill, lost)
    report('drill apache', {'failover_s': drill['failover_seconds'], 'failback_s': drill['failback_seconds'],
                            'drill_client_back_s': drill['client']['site_back_seconds'],
                            'testbed_client_back_s': round(theirs_back, 2), 'failed': lost['failed']})


def test_drill_killing_heartbeat_on_the_holder():
    """Opt-in: the node releases the VIP at once, heartbeat comes back by itself, never two holders."""
    drill, lost = _drill('-e', 'heartbeat_failover_method=kill')
    assert drill['released_seconds'] is not None and drill['released_seconds'] < 2, drill
    assert drill['vip_back_seconds'] <= drill['bounds']['vip_back_seconds'], drill
    assert drill['two_holders_seconds'] == 0, drill
    assert drill['holder_after'] == NAMES[PREFERRED], drill
    report('drill kill', {'released_s': drill['released_seconds'], 'vip_back_s': drill['vip_back_seconds'],
                          'drill_client_back_s': drill['client']['site_back_seconds'], 'failed': lost['failed'],
                          'longest_gap_s': lost['longest_gap_seconds']})


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
