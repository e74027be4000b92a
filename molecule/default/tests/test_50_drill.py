# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The failover drill (playbooks/failover.yml, every method) against the converged pair, checked by instruments
that are not the drill's: the test bed's client (hey, testbed/faults.py) asks for the site every 100 ms and the
nodes' kernels report every VIP change (ip monitor address) while the drill runs. The drill's own figures - from its
watchers on the nodes and its client on the controller - must agree with theirs, and the drill must pass its own
bounds (module_utils/bounds.py). Also: verify names a split brain.
"""

from __future__ import annotations

import json
import os
import re
import tempfile

import pytest

from conftest import MEASURED_AGAIN, ansible_playbook, faults, log, record

# What two independent instruments may disagree by. Address changes: both read the same kernel's events on the same
# clock (the drill's vip_watch, the test bed's ip monitor), each within its own scheduling: 0.2 s. Site back: each
# client sees the site's return with its next request (both ask every 0.1 s), plus the answer's time, and each calls a
# slow answer a failure only past its own timeout: an answer that took 0.6 to 1 s (a hand-over under load) is a
# failure to the drill's client (0.5 s) and an answer to the test bed's (faults.TIMEOUT, 1 s). So they may disagree
# by the larger timeout, an interval and an answer: 1 + 0.1 + 0.1 s (0.88 s seen on Debian 13 with the three lanes
# running, where 0.7 s had been assumed) - when the slow answers last one request. They lasted longer once (the drill's
# client back after 1.27 s, the test bed's never out, trixie under the three lanes): so the drill's figure is also
# compared with the test bed's requests judged by the drill's own timeout (an answer slower than it a failure), and
# it must agree with one of the two readings.
ADDRESS_SLACK = 0.2
CLIENT_SLACK = faults.TIMEOUT + 2 * faults.INTERVAL


def _drill(bed, method):
    """Run the drill with `method` under the test bed's instruments: (the drill's report of the pair, the test bed's
    VIP figures and client figures for the drill's fault and undo)."""
    watchers = dict((h, faults.AddressWatcher(bed, h)) for h in bed.nodes)
    client = faults.Client(bed.url)
    with tempfile.TemporaryDirectory() as tmp:
        report_file = os.path.join(tmp, 'drill.json')
        for watcher in watchers.values():
            watcher.start()
        client.start()
        try:
            run = ansible_playbook('failover.yml', '-e', 'hapair_drill_method=%s' % method,
                                   '-e', 'hapair_drill_report=%s' % report_file)
        finally:
            client.stop()
            for watcher in watchers.values():
                watcher.stop()
        assert run.rc == 0, run.out[-5000:]
        with open(report_file, encoding='utf-8') as handle:
            report = json.load(handle)
    assert report['schema'] == 'hapair.loadbalancer/drill/1'
    drill = report['pairs'][0]
    events = dict((h, watchers[h].events) for h in bed.nodes)
    ends = dict((h, client.stopped) for h in bed.nodes)
    vip = faults.measure.vip_figures(events, ends, bed.preferred, bed.preferred, drill['fault_at'], drill['restored_at'])
    seen = faults.measure.client_figures(client.outages(), drill['fault_at'], drill['restored_at'], client.started,
                                         client.stopped, interval=client.interval)
    return drill, vip, seen, _site_back_by_timeout(client, drill, drill['client'].get('timeout_seconds'))


def _site_back_by_timeout(client, drill, timeout):
    """The test bed client's site back when an answer slower than `timeout` counts as a failure (None: no timeout)."""
    if not timeout:
        return None
    judged = [(sent, done, ok and done is not None and done - sent <= timeout) for sent, done, ok in client.requests]
    outages = faults.measure.outages_from_requests(judged, client.started + client.interval * client.workers)
    return faults.measure.client_figures(outages, drill['fault_at'], drill['restored_at'], client.started,
                                         client.stopped, interval=client.interval).site_back


def _agree(drill, vip, seen, strict_back=None):
    """The drill's figures against the test bed's."""
    if drill['failover_seconds'] is not None and vip.failover is not None:
        assert abs(drill['failover_seconds'] - vip.failover) <= ADDRESS_SLACK, (drill, vip)
    if drill['two_holders_seconds'] is not None and vip.two_holders is not None:
        assert abs(drill['two_holders_seconds'] - vip.two_holders) <= ADDRESS_SLACK, (drill, vip)
    mine = drill['client']['site_back_seconds']
    if seen.site_back is not None and mine is not None:
        readings = [seen.site_back] + ([strict_back] if strict_back is not None else [])
        assert min(abs(mine - theirs) for theirs in readings) <= CLIENT_SLACK, (drill['client'], seen, strict_back)


@pytest.mark.parametrize('method', ['stop', 'reboot', 'apache', 'kill'])
def test_drill(whole, method):
    bed = whole
    for attempt in range(MEASURED_AGAIN + 1):
        drill, vip, seen, strict_back = _drill(bed, method)
        _check_outcome(bed, method, drill, vip)
        try:
            _check_figures(bed, method, drill, vip, seen, strict_back)
            return
        except AssertionError as exc:
            # The instruments' figures (not what the drill did) are measured once more, as a figure over its bound
            # is (conftest.MEASURED_AGAIN).
            if attempt == MEASURED_AGAIN:
                raise
            log('drill %s: %s; measuring it once more' % (method, str(exc).splitlines()[0][:300]))
            bed.repair()


def _check_outcome(bed, method, drill, vip):
    """What the drill did: the VIP away and back, and never on both nodes longer than the engine's design allows."""
    names = bed.names
    assert drill['method'] == method and drill['holder_before'] == names[bed.preferred], drill
    assert drill['holder_after'] == names[bed.preferred], drill
    if method != 'kill':
        assert drill['took_over'] == names[bed.standby], drill
    # The drill asserts its own bounds and fails the run when one breaks (the run passed). Two holders: no longer
    # than the engine's hand-overs overlap by design (heartbeat none, VRRP's preemption at most one advert). A reboot
    # ends the rebooted node's watchers (the drill's and the test bed's): None, nothing to compare.
    if method != 'reboot':
        assert drill['two_holders_seconds'] <= bed.timers.overlap, drill
        assert vip.two_holders_longest <= bed.timers.overlap, vip


def _check_figures(bed, method, drill, vip, seen, strict_back):
    """The drill's figures against the test bed's, and a graceful drill's one outage."""
    record('drill %s %s' % (bed.engine.name, method), {
        'failover_s': drill['failover_seconds'], 'failback_s': drill['failback_seconds'],
        'drill_client_back_s': drill['client']['site_back_seconds'], 'testbed_client_back_s': seen.site_back,
        'drill_failed_during_failback': drill['client']['failed_during_failback'],
        'testbed_client_back_by_drill_timeout_s': strict_back,
        'testbed_moved_s': vip.failover, 'testbed_failed': seen.failed_fault, 'testbed_failed_undo': seen.failed_undo,
        'testbed_longest_gap_s': seen.longest_gap})
    _agree(drill, vip, seen, strict_back)
    # A graceful drill (stop, reboot) hands the VIP over: one outage of at most the hand-over, none at the failback.
    if method in ('stop', 'reboot'):
        assert seen.longest_gap <= bed.timers.handover + faults.INTERVAL, seen


def test_verify_names_a_split_brain(whole):
    bed = whole
    prefix = bed.hostvars[bed.preferred].get('hapair_vip_prefix', 24)
    bed.sh(bed.standby, 'ip addr add %s/%s dev %s label %s:9' % (bed.vip, prefix, bed.vip_interface, bed.vip_interface),
           check=True)
    try:
        # A split brain that lasts is judged once the wait for a settling VIP is over: by default the pair's settle
        # time (80 s for heartbeat's standard timers), here 3 s, which is also how an operator makes verify answer in
        # seconds. Each node tries once a second: the first try and three more, each of those announced by a
        # RETRYING line (ansible-core 2.21 puts the role's name before the task's, and counts the retries left from
        # one less).
        run = ansible_playbook('verify.yml', '-e', '{"hapair_verify_wait": 3}')
        assert run.rc == 2, run.out[-3000:]
        expected = "Split brain in pair '%s': %s and %s both hold VIP %s." % (
            bed.cluster, bed.names[bed.preferred], bed.names[bed.standby], bed.vip)
        assert expected in run.out, run.out[-3000:]
        retried = re.findall(r'FAILED - RETRYING: \[(\S+)\]: (?:\S+ : )?Wait until this node sees the VIP settled',
                             run.out)
        assert sorted(retried) == sorted([bed.preferred, bed.standby] * 3), retried
    finally:
        bed.sh(bed.standby, 'ip addr del %s/%s dev %s' % (bed.vip, prefix, bed.vip_interface))
    run = ansible_playbook('verify.yml')
    assert run.rc == 0, run.out[-3000:]
