# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hapair-monitor's operations: maintenance, metrics and notifications, wired into its checks (the world around it
faked as in test_monitor.py). The maintenance state machine itself is tested alone in
tests/unit/plugins/module_utils/test_node_maintenance.py, the metrics and the notifier in test_node_telemetry.py."""

from __future__ import annotations

import json

import pytest
from prometheus_client.parser import text_string_to_metric_families

from .test_monitor import HEALTHY_PEER, Node, monitor_module

nm = monitor_module.node_maintenance


class OpsNode(Node):
    """A Node whose engine also stays out and rejoins, whose maintenance file and metrics file are real files."""

    def __init__(self, monkeypatch, tmp_path, **cfg):
        cfg.setdefault('maintenance_file', str(tmp_path / 'maintenance'))
        cfg.setdefault('metrics_file', str(tmp_path / 'hapair.prom'))
        cfg.setdefault('pair', 'pair1')
        super().__init__(monkeypatch, tmp_path, **cfg)
        self.out = False
        engine = self.monitor.engine
        monkeypatch.setattr(engine, 'stay_out', lambda: (self.act('stay out'), setattr(self, 'out', True))[0])
        monkeypatch.setattr(engine, 'rejoin', lambda: (self.act('rejoin'), setattr(self, 'out', False))[0])
        monkeypatch.setattr(engine, 'staying_out', lambda: self.out)

    def enter(self):
        nm.write_state(self.monitor.cfg['maintenance_file'], reason='test')

    def leave(self):
        nm.clear_state(self.monitor.cfg['maintenance_file'])

    def page(self):
        with open(self.monitor.cfg['status_file'], encoding='utf-8') as handle:
            return json.load(handle)

    def metrics(self):
        with open(self.monitor.cfg['metrics_file'], encoding='utf-8') as handle:
            text = handle.read()
        found = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                found.setdefault(sample.name, []).append((sample.labels, sample.value))
        return found

    def ticks(self, count, seconds=1.0):
        for dummy in range(count):
            self.monitor.tick()
            self.monitor.report()
            self.now += seconds


@pytest.fixture
def ops(monkeypatch, tmp_path):
    return lambda **cfg: OpsNode(monkeypatch, tmp_path, **cfg)


def test_the_page_and_the_metrics_say_maintenance_and_the_holder_asks_its_peer(ops):
    n = ops()
    n.ticks(2)
    assert n.page()['maintenance'] is False and n.page()['maintenance_state']['phase'] == 'normal'
    n.enter()
    n.ticks(1)
    page = n.page()
    assert page['maintenance'] is True and page['maintenance_state']['phase'] == 'entering'
    assert page['handover']['to'] == 'loadb2' and page['pair'] == 'pair1'
    metrics = n.metrics()
    assert metrics['hapair_maintenance'][0][1] == 1 and metrics['hapair_maintenance_since_timestamp_seconds'][0][1] > 0
    assert n.actions == []


def test_in_maintenance_the_preferred_holder_stays_out_once_the_peer_claimed_and_never_fails_back(ops):
    n = ops()
    n.enter()
    n.ticks(1)
    request = n.page()['handover']
    n.peer = dict(HEALTHY_PEER, holds_vip=True, claim={'id': request['id'], 'purpose': 'peer_maintenance'})
    n.ticks(1)
    n.monitor.ops.due(n.now + 1)
    assert n.actions == ['stay out']
    # The engine let the VIP go; the kernel says so.
    n.holds = False
    n.monitor.on_address('del', {'address': '198.51.100.10'})
    n.hb = {'running': True, 'rsc': 'none', 'peer': 'active'}
    n.ticks(60)
    assert n.actions == ['stay out']          # no take-back, auto_failback notwithstanding
    assert n.page()['maintenance_state']['phase'] == 'in'
    lost = [labels for labels, value in n.metrics()['hapair_vip_transitions_total'] if value]
    assert lost == [{'pair': 'pair1', 'node': 'loadb1', 'direction': 'lost', 'reason': 'maintenance'}]


def test_a_preferred_node_in_maintenance_does_not_announce_over_its_peer(ops):
    n = ops()
    n.enter()
    n.ticks(1)
    n.monitor.arp.queued = {'52:54:00:00:00:02'}
    n.ticks(3)
    assert 'announce' not in n.actions


def test_the_vip_is_never_handed_to_a_peer_in_maintenance(ops):
    n = ops()
    n.peer = dict(HEALTHY_PEER, maintenance=True)
    n.apache = 'refused'
    n.ticks(10)
    assert n.actions == []
    decisions = dict((labels['decision'], value) for labels, value in n.metrics()['hapair_monitor_decisions_total'])
    assert decisions == {'keep': 1}
    info = n.metrics()['hapair_monitor_last_decision_info'][0][0]
    assert info['decision'] == 'keep' and info['reason'] == 'blocked'


def test_a_give_up_and_its_transition_are_counted_with_their_reason(ops):
    n = ops()
    n.ticks(2)
    n.apache = 'refused'
    n.ticks(3)
    assert n.actions == ['hb_standby all']
    n.holds = False
    n.monitor.on_address('del', {'address': '198.51.100.10'})
    n.ticks(1)
    metrics = n.metrics()
    transitions = [(labels['direction'], labels['reason']) for labels, value in metrics['hapair_vip_transitions_total']
                   if value]
    assert transitions == [('lost', 'apache_failed')]
    assert n.page()['last_transition']['reason'] == 'apache_failed'
    assert n.page()['last_decision']['decision'] == 'give_up'


def test_a_transition_nobody_here_decided_is_explained_by_the_peer_s_page(ops):
    n = ops(node='loadb2', preferred='loadb1')
    n.holds = False
    n.ticks(2)
    n.peer = dict(HEALTHY_PEER, age=0.5, last_decision={'decision': 'give_up', 'reason': 'apache_failed', 'age': 0.4})
    n.holds = True
    n.monitor.on_address('add', {'address': '198.51.100.10'})
    n.ticks(1)
    transitions = [(labels['direction'], labels['reason']) for labels, value in n.metrics()['hapair_vip_transitions_total']
                   if value]
    assert transitions == [('gained', 'peer_apache_failed')]


def test_the_peer_claims_for_a_node_in_maintenance(ops):
    n = ops(node='loadb2', preferred='loadb1')
    n.holds = False
    n.hb = {'running': True, 'rsc': 'none', 'peer': 'active'}
    n.peer = dict(HEALTHY_PEER, holds_vip=True, maintenance=True, handover={'id': 'loadb1-1-1', 'to': 'loadb2'})
    n.ticks(1)
    assert n.actions == ['add VIP', 'announce']
    assert n.page()['claim'] == {'id': 'loadb1-1-1', 'purpose': 'peer_maintenance'}
    n.hb = {'running': True, 'rsc': 'all', 'peer': 'active'}
    n.ticks(2)
    assert n.page()['claim'] is None and n.page()['maintenance_state']['phase'] == 'normal'
    gained = [(labels['direction'], labels['reason']) for labels, value in n.metrics()['hapair_vip_transitions_total']
              if value]
    assert gained == [('gained', 'peer_maintenance')]


@pytest.mark.parametrize('engine, maintenance, expected, track', [
    ('heartbeat', False, 0, None),
    ('heartbeat', True, 1, None),
    ('keepalived', False, 0, None),
    ('keepalived', True, 0, '1'),
])
def test_the_engine_gate(tmp_path, engine, maintenance, expected, track):
    settings = {'engine': engine}
    if engine == 'keepalived':
        settings.update(track_file=str(tmp_path / 'ka' / 'track'), state_file=str(tmp_path / 'ka' / 'state'))
    config = tmp_path / 'monitor.json'
    config.write_text(json.dumps({'node': 'loadb1', 'peer': 'loadb2', 'preferred': 'loadb1', 'vip': '198.51.100.10',
                                  'vip_interface': 'eth0', 'engine': settings,
                                  'maintenance_file': str(tmp_path / 'maintenance'),
                                  'status_file': str(tmp_path / 'run' / 'health.json')}))
    if maintenance:
        nm.write_state(str(tmp_path / 'maintenance'))
    assert monitor_module.engine_gate(str(config)) == expected
    assert nm.is_held(str(tmp_path / 'run' / 'health.json')) is maintenance
    if track:
        assert (tmp_path / 'ka' / 'track').read_text().strip() == track


def test_the_engine_gate_lets_the_engine_start_when_anything_is_wrong(tmp_path):
    assert monitor_module.engine_gate(str(tmp_path / 'missing.json')) == 0
    (tmp_path / 'bad.json').write_text('{"engine": {"engine": "carp"}, "node": "a", "peer": "b", "preferred": "a", '
                                       '"vip": "198.51.100.10", "vip_interface": "eth0"}')
    assert monitor_module.engine_gate(str(tmp_path / 'bad.json')) == 0
