# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The filters behind verify's table (pair_status, status_table, node_views) and the maintenance plan
(maintenance_plan, module_utils/maintenance.py)."""

from __future__ import annotations

import base64

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ansible.errors import AnsibleFilterError

from ansible_collections.hapair.loadbalancer.plugins.filter import pair_status as ps
from ansible_collections.hapair.loadbalancer.plugins.module_utils import node_telemetry

NOW = 1800000000.0


def status(**change):
    doc = {'node': 'loadb1', 'apache_ok': True, 'ping_ok': 1, 'ping_total': 1, 'holds_vip': False,
           'engine': 'running', 'time': NOW - 1, 'maintenance': False,
           'maintenance_state': {'phase': 'normal', 'detail': ''}, 'last_transition': None}
    doc.update(change)
    return doc


def state(maintenance=False, running=True, since=None, reason='', phase=None, **page):
    doc = status(maintenance=maintenance, **page)
    return {'maintenance': maintenance, 'since': since, 'reason': reason, 'monitor_running': running,
            'phase': phase or ('in' if maintenance else 'normal'), 'holds_vip': doc['holds_vip'], 'status': doc}


def view(name, host, pair='pair1', peer=None, engine='heartbeat', holds=False, st=None, metrics=None):
    return {'host': host, 'name': name, 'pair': pair, 'peer': peer, 'engine': engine, 'preferred': name == 'loadb1',
            'vip': {'holds_vip': holds, 'verdict': 'holder' if holds else 'standby'}, 'state': st or state(),
            'metrics': metrics}


def test_a_whole_pair_is_one_row_and_the_table_lines_up():
    rows = ps.pair_status([view('loadb1', 'herring', holds=True), view('loadb2', 'haddock')], now=NOW)
    assert rows == [{'pair': 'pair1', 'engine': 'heartbeat', 'holder': 'loadb1', 'health': 'loadb1 ok; loadb2 ok',
                     'maintenance': '-', 'last_transition': '-', 'moves': '-', 'ok': True}]
    lines = ps.status_table(rows)
    assert lines[0].split() == ['pair', 'engine', 'holder', 'health', 'maintenance', 'last', 'transition', 'moves']
    assert set(lines[1]) == {'-', ' '}
    assert lines[2].startswith('pair1  heartbeat  loadb1  loadb1 ok; loadb2 ok')
    assert len({len(line.rstrip()) <= len(lines[1]) for line in lines}) == 1


def test_maintenance_health_and_the_last_transition_of_either_node():
    last = {'direction': 'gained', 'reason': 'peer_maintenance', 'time': NOW - 125}
    older = {'direction': 'lost', 'reason': 'maintenance', 'time': NOW - 126}
    rows = ps.pair_status([
        view('loadb1', 'herring', st=state(maintenance=True, since=NOW - 7200, reason='kernel upgrade', engine='stopped',
                                           last_transition=older)),
        view('loadb2', 'haddock', holds=True, st=state(last_transition=last, apache_ok=False, ping_ok=0)),
    ], now=NOW)
    row = rows[0]
    assert row['holder'] == 'loadb2' and row['ok'] is False
    assert row['maintenance'] == 'loadb1 for 2h: kernel upgrade'
    assert row['health'] == 'loadb1 ok; loadb2 Apache failed, pings 0/1'
    assert row['last_transition'] == 'loadb2 gained %s (2m ago): peer_maintenance' % ps._clock(NOW - 125)


@pytest.mark.parametrize('views, holder', [
    ([view('loadb1', 'herring'), view('loadb2', 'haddock')], 'none'),
    ([view('loadb1', 'herring', holds=True), view('loadb2', 'haddock', holds=True)], 'BOTH: loadb1, loadb2'),
])
def test_no_holder_and_two_holders_are_named(views, holder):
    row = ps.pair_status(views, now=NOW)[0]
    assert row['holder'] == holder and row['ok'] is False


def test_a_monitor_that_does_not_run_and_a_phase_under_way_are_shown():
    rows = ps.pair_status([
        view('loadb1', 'herring', holds=True, st=state(maintenance=True, phase='blocked', since=NOW - 30)),
        view('loadb2', 'haddock', st=state(running=False, time=NOW - 600)),
        view('loadc1', 'cod', pair='pair2', st={'maintenance': False, 'status': None}),
        view('loadc2', 'ling', pair='pair2', holds=True),
    ], now=NOW)
    assert rows[0]['maintenance'] == 'loadb1 for 30s (blocked)'
    assert rows[0]['health'] == 'loadb1 ok; loadb2 monitor down (10m old)'
    assert rows[1]['pair'] == 'pair2' and rows[1]['health'] == 'loadc1 no monitor; loadc2 ok'


def test_moves_are_counted_from_the_metrics_parsed_as_prometheus_parses_them():
    t = node_telemetry.Telemetry({'pair': 'pair1', 'node': 'loadb1', 'preferred': 'loadb1', 'engine': {'engine': 'x'}},
                                 lambda *a, **k: None, notifier=node_telemetry.Notifier('', 1, None))
    t.observe(holds=False)
    for holds in (True, False, True):
        t.vip_changed(holds)
        t.resolve({'reachable': True})
    text = t.render()
    ours = ps.parse_metrics(text)
    reference = [(s.name, s.labels, s.value) for f in text_string_to_metric_families(text) for s in f.samples]
    assert ours == reference
    row = ps.pair_status([view('loadb1', 'herring', holds=True, metrics=text), view('loadb2', 'haddock')], now=NOW)[0]
    assert row['moves'] == '2'


def test_parse_metrics_reads_escapes_and_skips_what_it_cannot_read():
    text = '# HELP x y\nx{a="q\\"uote",b="back\\\\slash",c="new\\nline"} 1.5 1700000000\nbroken line\ny 2\n'
    assert ps.parse_metrics(text) == [('x', {'a': 'q"uote', 'b': 'back\\slash', 'c': 'new\nline'}, 1.5), ('y', {}, 2.0)]


def test_node_views_from_hostvars():
    metrics = base64.b64encode(b'hapair_vip_held{pair="pair1",node="loadb1"} 1\n').decode()
    hosts = [
        {'inventory_hostname': 'herring', 'hapair_node': {'name': 'loadb1', 'host': 'herring'},
         'hapair_peer': {'name': 'loadb2', 'host': 'haddock'},
         'hapair_pair': {'name': 'pair1', 'engine': {'name': 'keepalived'}, 'preferred_node': 'loadb1'},
         '__state': state(), '__vip': {'verdict': 'holder', 'holds_vip': True}, '__metrics': {'content': metrics}},
        {'inventory_hostname': 'web1'},
    ]
    views = ps.node_views(hosts, state='__state', vip='__vip', metrics='__metrics')
    assert len(views) == 1
    assert views[0]['host'] == 'herring' and views[0]['peer'] == 'haddock' and views[0]['engine'] == 'keepalived'
    assert views[0]['preferred'] is True and views[0]['vip']['holds_vip'] is True
    assert views[0]['metrics'].startswith('hapair_vip_held')


def test_the_filters_refuse_what_they_cannot_read():
    with pytest.raises(AnsibleFilterError):
        ps.pair_status('nope')
    with pytest.raises(AnsibleFilterError):
        ps.status_table({})
    with pytest.raises(AnsibleFilterError):
        ps.maintenance_plan([{'host': 'a'}], 'loadb1')


# --- the maintenance plan ----------------------------------------------------------------------------------------

def pair(a=None, b=None, c=None, d=None):
    """Two pairs: herring/haddock (loadb1 preferred, holding), cod/ling."""
    return [
        {'host': 'herring', 'name': 'loadb1', 'pair': 'pair1', 'peer': 'haddock', 'state': a or state(holds_vip=True)},
        {'host': 'haddock', 'name': 'loadb2', 'pair': 'pair1', 'peer': 'herring', 'state': b or state()},
        {'host': 'cod', 'name': 'loadc1', 'pair': 'pair2', 'peer': 'ling', 'state': c or state(holds_vip=True)},
        {'host': 'ling', 'name': 'loadc2', 'pair': 'pair2', 'peer': 'cod', 'state': d or state()},
    ]


def test_no_request_changes_nothing():
    assert ps.maintenance_plan(pair(), None) == {'enter': [], 'leave': [], 'refused': [], 'notes': []}


def test_a_node_enters_by_node_name_or_inventory_name():
    assert ps.maintenance_plan(pair(), ['loadb1'])['enter'] == ['herring']
    assert ps.maintenance_plan(pair(), ['HADDOCK', 'loadc1'])['enter'] == ['haddock', 'cod']


def test_a_node_in_maintenance_already_is_a_note():
    plan = ps.maintenance_plan(pair(b=state(maintenance=True, since=NOW)), ['loadb2'])
    assert plan['enter'] == [] and 'already' in plan['notes'][0]


def test_none_takes_every_node_out():
    plan = ps.maintenance_plan(pair(b=state(maintenance=True), c=state(maintenance=True)), ['none'])
    assert plan['leave'] == ['haddock', 'cod'] and plan['refused'] == []
    assert ps.maintenance_plan(pair(), ['None'])['notes'] == ['No node of the play is in maintenance.']


def test_a_node_whose_peer_is_in_maintenance_is_refused_unless_forced():
    plan = ps.maintenance_plan(pair(b=state(maintenance=True, since=NOW)), ['loadb1'])
    assert plan['enter'] == [] and 'its peer loadb2 (haddock) is in maintenance (since' in plan['refused'][0]
    plan = ps.maintenance_plan(pair(b=state(maintenance=True, since=NOW)), ['loadb1'], True)
    assert plan['enter'] == ['herring'] and plan['refused'] == []


def test_both_nodes_named_with_force_enter_both():
    assert ps.maintenance_plan(pair(), ['loadb1', 'loadb2'], True)['enter'] == ['herring', 'haddock']
    assert len(ps.maintenance_plan(pair(), ['loadb1', 'loadb2'])['refused']) == 2


@pytest.mark.parametrize('peer_state, why', [
    (state(apache_ok=False), "Apache"),
    (state(running=False), 'stale'),
    (state(engine='stopped'), 'engine'),
    (state(ping_ok=0), 'ping nodes'),
])
def test_a_holder_whose_peer_cannot_take_the_vip_is_refused_unless_forced(peer_state, why):
    plan = ps.maintenance_plan(pair(b=peer_state), ['loadb1'])
    assert plan['enter'] == [] and 'holds the VIP and cannot hand it over' in plan['refused'][0]
    assert why in plan['refused'][0] and 'its peer loadb2' in plan['refused'][0]
    forced = ps.maintenance_plan(pair(b=peer_state), ['loadb1'], True)
    assert forced['enter'] == ['herring'] and 'keeps the VIP' in forced['notes'][0]
    # The standby node is not concerned by its peer's health: it holds nothing.
    assert ps.maintenance_plan(pair(a=peer_state, b=state()), ['loadb2'])['enter'] == ['haddock']


def test_a_node_without_a_running_monitor_is_always_refused():
    for force in (False, True):
        plan = ps.maintenance_plan(pair(a=state(running=False, holds_vip=True)), ['loadb1'], force)
        assert plan['enter'] == [] and 'hapair-monitor does not run there' in plan['refused'][0]
    plan = ps.maintenance_plan(pair(b=state(maintenance=True, running=False)), ['none'])
    assert plan['leave'] == [] and 'cannot leave maintenance' in plan['refused'][0]
