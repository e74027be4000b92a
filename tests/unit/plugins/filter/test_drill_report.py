# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""drill_report: the figures of a drill from the watchers', the fault's and the client's records."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.hapair.loadbalancer.plugins.filter.drill_report import (
    FilterModule,
    drill_bounds,
    drill_report,
    drill_summary,
    drill_verdict,
)

PAIR = {'name': 'pair1', 'vip': '198.51.100.10', 'preferred_host': 'herring',
        'nodes': [{'host': 'herring', 'name': 'loadb1'}, {'host': 'haddock', 'name': 'loadb2'}]}
BOUNDS = {'failover_seconds': 20, 'failback_seconds': 30, 'two_holders_seconds': 2}


def watch(*events, stopped=1100.0):
    return {'events': [{'at': at, 'holds': holds} for at, holds in events], 'stopped_at': stopped, 'ntp_synchronized': True}


def graceful():
    """Stop at 1010: herring releases at 1010.05, haddock takes at 1010.12; return at 1030, back at 1033.5."""
    return {
        'herring': watch((1000, True), (1010.05, False), (1033.5, True)),
        'haddock': watch((1000, False), (1010.12, True), (1033.45, False)),
    }


def test_a_graceful_stop():
    client = {'url': 'http://198.51.100.10/', 'interval': 0.1, 'requests': 900, 'failed_requests': 2, 'longest_gap_seconds': 0.4,
              'timeout': 0.5, 'answers': {'backend web1': 898},
              'outages': [{'from': 1009.95, 'first_failure': 1010.05, 'to': 1010.35, 'answer_seconds': 0.01}]}
    report = drill_report(PAIR, graceful(), {'host': 'herring', 'method': 'stop', 'at': 1010.0}, {'at': 1030.0}, client, BOUNDS)
    assert report['holder_before'] == 'loadb1' and report['took_over'] == 'loadb2'
    assert report['failover_seconds'] == 0.12 and report['released_seconds'] == 0.05
    assert report['failback_seconds'] == 3.5
    assert report['two_holders_seconds'] == 0.0
    assert report['client']['site_back_seconds'] == 0.35 and report['client']['failed_requests'] == 2
    assert report['client']['timeout_seconds'] == 0.5 and report['client']['site_back_answer_seconds'] == 0.01
    assert report['client']['failed_during_failback'] is False
    assert 'clock' in report['clocks']
    assert drill_verdict(report) == []


def test_a_crash_with_a_split_brain_while_both_hold():
    watches = {
        'herring': watch((1000, True), (1030.5, False)),          # kept the VIP until it was taken away by hand
        'haddock': watch((1000, False), (1020.0, True)),
    }
    report = drill_report(PAIR, watches, {'host': 'herring', 'method': 'kill', 'at': 1010.0}, {'at': 1040.0}, None, BOUNDS)
    assert report['failover_seconds'] == 10.0 and report['released_seconds'] == 20.5
    assert report['two_holders_seconds'] == 10.5
    assert report['client'] is None
    assert 'both nodes held the VIP for 10.5 s (bound 2 s)' in drill_verdict(report)
    assert 'the VIP never came back to the preferred node' in drill_verdict(report)


def test_a_reboot_takes_the_failback_from_the_peer():
    watches = {'herring': None, 'haddock': watch((1000, False), (1012.0, True), (1041.0, False))}
    report = drill_report(PAIR, watches, {'host': 'herring', 'method': 'reboot', 'at': 1010.0}, {'at': 1038.0}, None, BOUNDS)
    assert report['failover_seconds'] == 2.0 and report['released_seconds'] is None
    assert report['failback_seconds'] == 3.0
    assert report['watchers']['loadb1']['lost'] is True and report['two_holders_seconds'] is None


def test_heartbeat_killed_and_back_before_deadtime_needs_no_takeover():
    watches = {'herring': watch((1000, True), (1010.3, False), (1015.8, True)), 'haddock': watch((1000, False))}
    # The VIP never left the node: no failback to ask for, though it has a bound.
    bounds = {'takeover': False, 'vip_back_seconds': 15, 'two_holders_seconds': 2, 'failback_seconds': 30}
    report = drill_report(PAIR, watches, {'host': 'herring', 'method': 'kill', 'at': 1010.0}, {'at': 1012.1}, None, bounds)
    assert report['took_over'] is None and report['released_seconds'] == 0.3 and report['vip_back_seconds'] == 5.8
    assert drill_verdict(report) == []
    late = drill_report(PAIR, watches, {'host': 'herring', 'method': 'kill', 'at': 1010.0}, {'at': 1012.1}, None,
                        dict(bounds, vip_back_seconds=5))
    assert drill_verdict(late) == ['the VIP was back on a node 5.8 s after the fault (bound 5 s)']
    never = drill_report(PAIR, {'herring': watch((1000, True), (1010.3, False)), 'haddock': watch((1000, False))},
                         {'host': 'herring', 'method': 'kill', 'at': 1010.0}, {'at': 1012.1}, None, bounds)
    assert drill_verdict(never) == ['no node held the VIP again']


def test_keepalived_killed_the_peer_takes_over_and_the_failback_follows_the_engine_s_return():
    """Killed at 1010: herring releases at 1010.1, haddock takes at 1010.6; systemd has keepalived running again at
    1011.2 (the drill's return), herring preempts at 1016.2. A request lost in the failback's hand-over is the
    failback's, not the takeover's: the site was back 0.7 s after the fault."""
    watches = {'herring': watch((1000, True), (1010.1, False), (1016.2, True)),
               'haddock': watch((1000, False), (1010.6, True), (1016.25, False))}
    client = {'interval': 0.1, 'requests': 300, 'failed_requests': 7, 'timeout': 0.5,
              'outages': [{'from': 1010.05, 'first_failure': 1010.12, 'to': 1010.7, 'answer_seconds': 0.01},
                          {'from': 1016.2, 'first_failure': 1016.22, 'to': 1016.4, 'answer_seconds': 0.01}]}
    bounds = {'takeover': False, 'vip_back_seconds': 13, 'two_holders_seconds': 2, 'failback_seconds': 13}
    report = drill_report(PAIR, watches, {'host': 'herring', 'method': 'kill', 'at': 1010.0}, {'at': 1011.2}, client,
                          bounds)
    assert report['took_over'] == 'loadb2' and report['failover_seconds'] == 0.6 and report['vip_back_seconds'] == 0.6
    assert report['failback_seconds'] == 5.05 and report['two_holders_seconds'] == 0.05
    assert report['client']['site_back_seconds'] == 0.7 and report['client']['failed_during_failback'] is True
    assert drill_verdict(report) == []
    slow = drill_report(PAIR, watches, {'host': 'herring', 'method': 'kill', 'at': 1010.0}, {'at': 1011.2}, client,
                        dict(bounds, failback_seconds=4))
    assert drill_verdict(slow) == ['failback took 5.05 s (bound 4 s)']
    stuck = drill_report(PAIR, {'herring': watch((1000, True), (1010.1, False)), 'haddock': watch((1000, False), (1010.6, True))},
                         {'host': 'herring', 'method': 'kill', 'at': 1010.0}, {'at': 1011.2}, None, bounds)
    assert drill_verdict(stuck) == ['the VIP never came back to the preferred node']


def test_no_takeover_is_a_failure():
    watches = {'herring': watch((1000, True), (1010.1, False)), 'haddock': watch((1000, False))}
    report = drill_report(PAIR, watches, {'host': 'herring', 'method': 'stop', 'at': 1010.0}, {'at': 1030.0}, None, BOUNDS)
    assert report['took_over'] is None and drill_verdict(report)[0] == 'the peer never took the VIP over'


def test_slow_failover_and_failback_break_their_bounds():
    watches = {'herring': watch((1000, True), (1010.0, False), (1080.0, True)), 'haddock': watch((1000, False), (1035.0, True), (1080.0, False))}
    report = drill_report(PAIR, watches, {'host': 'herring', 'method': 'stop', 'at': 1010.0}, {'at': 1040.0}, None, BOUNDS)
    assert drill_verdict(report) == ['failover took 25.0 s (bound 20 s)', 'failback took 40.0 s (bound 30 s)']


def test_no_failback_is_expected_without_auto_failback():
    report = drill_report(PAIR, graceful(), {'host': 'herring', 'method': 'stop', 'at': 1010.0}, {'at': 1030.0}, None,
                          dict(BOUNDS, failback_seconds=None), auto_failback=False)
    assert report['failback_seconds'] is None and drill_verdict(report) == []


def test_a_client_that_never_failed_says_zero():
    client = {'requests': 300, 'failed_requests': 0, 'longest_gap_seconds': 0.11, 'outages': []}
    report = drill_report(PAIR, graceful(), {'host': 'herring', 'method': 'stop', 'at': 1010.0}, {'at': 1030.0}, client, BOUNDS)
    assert report['client']['site_back_seconds'] == 0.0


def test_bad_input():
    with pytest.raises(AnsibleFilterError):
        drill_report(PAIR, {}, {'host': 'cod', 'at': 1}, None)
    with pytest.raises(AnsibleFilterError):
        drill_report(PAIR, {}, {}, None)
    assert set(FilterModule().filters()) == {'drill_report', 'drill_verdict', 'drill_bounds', 'drill_summary'}


PAIR_WITH_ENGINE = dict(PAIR, engine={'name': 'heartbeat'}, auto_failback=True,
                        timers={'advert': 2.0, 'detect': 10.0, 'startup': 20.0, 'handover': 5.0})
SETTINGS = {'hapair_drill_margin': 10.0, 'hapair_monitor_interval': 1.0, 'hapair_monitor_timeout': 1.0,
            'hapair_monitor_fails': 3, 'hapair_monitor_rises': 3, 'hapair_monitor_failback_delay': 5.0,
            'hapair_monitor_holddown': 10.0}


def test_bounds_of_the_pair_s_engine_and_method():
    # The formulas are tested in tests/unit/plugins/module_utils/test_bounds.py; here, that the filter picks the
    # method's kind from the engine and the pair's timers and auto_failback.
    assert drill_bounds('stop', PAIR_WITH_ENGINE, SETTINGS) == {
        'failover_seconds': 20.0, 'failback_seconds': 30.0, 'takeover': True, 'vip_back_seconds': None,
        'two_holders_seconds': 2.0}
    assert drill_bounds('kill', PAIR_WITH_ENGINE, SETTINGS)['vip_back_seconds'] == 20.0
    assert drill_bounds('stop', dict(PAIR_WITH_ENGINE, auto_failback=False), SETTINGS)['failback_seconds'] is None
    with pytest.raises(AnsibleFilterError):
        drill_bounds('unplug', PAIR_WITH_ENGINE, SETTINGS)
    with pytest.raises(AnsibleFilterError):
        drill_bounds('stop', PAIR_WITH_ENGINE, {})


def test_the_summary_names_every_figure_and_bound():
    client = {'url': 'http://198.51.100.10/', 'interval': 0.1, 'requests': 900, 'failed_requests': 2,
              'longest_gap_seconds': 0.4, 'timeout': 0.5, 'answers': {}, 'outages': []}
    report = drill_report(PAIR, graceful(), {'host': 'herring', 'method': 'stop', 'at': 1010.0}, {'at': 1030.0}, client,
                          BOUNDS)
    text = drill_summary(dict(report, holder_after='loadb1'))
    assert text.startswith("Pair 'pair1' (None, stop): VIP 198.51.100.10 went from loadb1 to loadb2 0.12 s after the "
                           'fault (bound 20 s) and came back 3.5 s after the return (bound 30 s); both nodes held it 0.0 s;'
                           ' now on loadb1.'), text
    assert '2 of 900 requests failed' in text
