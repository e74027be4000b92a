# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Maintenance on the node (module_utils/node_maintenance.py): the state file, and the controller that moves the VIP
on purpose without a gap, with the monitor around it faked - its checks, the peer's page, the engine, the clock."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.hapair.loadbalancer.plugins.module_utils import node_maintenance as nm

PEER = {'reachable': True, 'fresh': True, 'apache_ok': True, 'ping_ok': 1, 'engine': 'running', 'maintenance': False,
        'holds_vip': False, 'handover': None, 'claim': None}


# --- the state file ----------------------------------------------------------------------------------------------

def test_the_state_file_is_written_atomically_read_back_and_removed(tmp_path):
    path = str(tmp_path / 'lib' / 'maintenance')
    assert nm.read_state(path) is None
    written = nm.write_state(path, reason='kernel upgrade', by='ops', now=1000.5)
    assert written == {'since': 1000.5, 'reason': 'kernel upgrade', 'by': 'ops'}
    assert nm.read_state(path) == written
    assert oct(os.stat(path).st_mode & 0o777) == '0o644'
    assert json.load(open(path, encoding='utf-8'))['schema'] == nm.SCHEMA
    assert os.listdir(os.path.dirname(path)) == ['maintenance']  # no temporary file left
    assert nm.clear_state(path) is True and nm.clear_state(path) is False and nm.read_state(path) is None


@pytest.mark.parametrize('content', ['', 'not json', '[1, 2]', '{"since": "yesterday"}'])
def test_a_state_file_that_cannot_be_parsed_still_means_maintenance(tmp_path, content):
    path = tmp_path / 'maintenance'
    path.write_text(content)
    state = nm.read_state(str(path))
    assert state is not None and state['since'] == pytest.approx(os.stat(str(path)).st_mtime)


def test_the_held_marker_lives_next_to_the_status_file(tmp_path):
    status = str(tmp_path / 'health.json')
    assert not nm.is_held(status)
    nm.mark_held(status, True)
    assert nm.is_held(status) and os.path.exists(str(tmp_path / nm.HELD_MARKER))
    nm.mark_held(status, False)
    assert not nm.is_held(status)


@pytest.mark.parametrize('change, reason', [
    ({'reachable': False, 'errors': ['198.51.100.76: timed out']}, 'cannot be reached (198.51.100.76: timed out)'),
    ({'fresh': False}, 'stale'),
    ({'maintenance': True}, 'maintenance'),
    ({'apache_ok': False}, 'Apache'),
    ({'ping_ok': 0}, 'ping nodes'),
    ({'engine': 'stopped'}, 'engine is stopped'),
])
def test_the_peer_can_take_the_vip_only_when_it_can_serve(change, reason):
    ok, why = nm.peer_can_take(dict(PEER, **change), 1)
    assert not ok and reason in why
    assert nm.peer_can_take(PEER, 1) == (True, 'the peer is healthy')
    assert nm.peer_can_take(dict(PEER, ping_ok=0), 0)[0]


# --- the controller ------------------------------------------------------------------------------------------------

class Engine:
    """A node_engine adapter: what the engine would say and do."""

    def __init__(self, rejoin_takes_over=False):
        self.running = True
        self.out = False
        self.holds = True
        self.peer = 'active'
        self.rejoin_takes_over = rejoin_takes_over
        self.calls = []

    def state(self, peer):
        return {'running': self.running and not self.out, 'peer': self.peer, 'transition': False,
                'resources': 'all' if self.holds else 'none'}

    def holds_resources(self, state):
        return state['resources'] == 'all' if state['running'] else None

    def stay_out(self):
        self.calls.append('stay_out')
        self.out = True
        return 0, ''

    def rejoin(self):
        self.calls.append('rejoin')
        self.out = False
        return 0, ''

    def staying_out(self):
        return self.out


class Monitor:
    """The members of hapair-monitor the controller uses."""

    def __init__(self, tmp_path, node='loadb1', preferred='loadb1', engine=None):
        self.cfg = {'node': node, 'peer': 'loadb2' if node == 'loadb1' else 'loadb1', 'preferred': preferred,
                    'auto_failback': True, 'ping_nodes': ['198.51.100.1'], 'rises': 3, 'interval': 1.0,
                    'release_drain': 0.3, 'heal_window': 40.0, 'status_file': str(tmp_path / 'health.json'),
                    'maintenance_file': str(tmp_path / 'maintenance')}
        self.engine = engine or Engine()
        self.good = 10
        self.is_healthy = True
        self.peer_page = dict(PEER)
        self.peer_reads = 0
        self.decisions = []
        self.actions = []
        self.logged = []
        self.published = 0

    def healthy(self):
        return self.is_healthy

    def peer(self):
        self.peer_reads += 1
        return dict(self.peer_page)

    def claim_vip(self, why):
        self.actions.append('claim VIP')
        self.engine.holds = False  # in the kernel, not yet the engine's
        return True

    def drop_vip(self, why):
        self.actions.append('drop VIP')

    def publish(self):
        self.published += 1

    def log(self, level, message, **fields):
        self.logged.append((level, message))

    def decided(self, decision, reason, detail='', moves=None):
        self.decisions.append((decision, reason))


@pytest.fixture
def world(tmp_path):
    def make(**kwargs):
        monitor = Monitor(tmp_path, **kwargs)
        clock = {'now': 1000.0}
        controller = nm.Controller(monitor, clock=lambda: clock['now'])
        return monitor, controller, clock
    return make


def enter(monitor):
    nm.write_state(monitor.cfg['maintenance_file'], reason='test')


def test_out_of_maintenance_nothing_is_done_and_the_monitor_decides(world):
    monitor, controller, dummy = world()
    assert controller.tick(True, 1000.0) is False
    assert controller.tick(False, 1001.0) is False  # not holding: the peer's page is watched for a request
    assert monitor.peer_reads == 1 and monitor.decisions == [] and controller.phase == nm.NORMAL


def test_the_holder_in_maintenance_asks_its_peer_to_claim_then_stays_out_a_drain_after_the_claim(world):
    monitor, controller, clock = world()
    enter(monitor)
    assert controller.tick(True, 1000.0) is True
    assert controller.phase == nm.ENTERING and monitor.decisions == [('handover', 'maintenance')]
    request = controller.page()['handover']
    assert request['to'] == 'loadb2' and controller.page()['maintenance'] is True
    # Nothing until the peer claims.
    assert controller.tick(True, 1001.0) is True and monitor.engine.calls == []
    # The peer claimed (its page says so): stay out a drain later, between checks.
    monitor.peer_page = dict(PEER, holds_vip=True, claim={'id': request['id'], 'purpose': 'peer_maintenance'})
    controller.tick(True, 1002.0)
    assert controller.next_due() == pytest.approx(1002.3)
    controller.due(1002.1)
    assert monitor.engine.calls == []
    controller.due(1002.3)
    assert monitor.engine.calls == ['stay_out'] and monitor.decisions[-1] == ('stay_out', 'maintenance')
    assert nm.is_held(monitor.cfg['status_file'])
    # The VIP is gone: in maintenance, out of the pair.
    controller.tick(False, 1003.0)
    assert controller.phase == nm.IN and controller.page()['handover'] is None


def test_a_claim_seen_on_the_wire_starts_the_drain_at_once(world):
    monitor, controller, dummy = world()
    enter(monitor)
    controller.tick(True, 1000.0)
    controller.on_claim_seen(1000.4)
    assert controller.next_due() == pytest.approx(1000.7)
    controller.due(1000.7)
    assert monitor.engine.calls == ['stay_out']


def test_the_holder_in_maintenance_keeps_the_vip_while_its_peer_cannot_take_it(world):
    monitor, controller, dummy = world()
    enter(monitor)
    monitor.peer_page = dict(PEER, apache_ok=False)
    assert controller.tick(True, 1000.0) is True
    assert controller.phase == nm.BLOCKED and "Apache" in controller.detail
    assert monitor.decisions == [('keep', 'maintenance_blocked')] and monitor.engine.calls == []
    assert controller.page()['handover'] is None
    # The peer recovers: the hand-over starts.
    monitor.peer_page = dict(PEER)
    controller.tick(True, 1001.0)
    assert controller.phase == nm.ENTERING


def test_a_request_nobody_claims_is_asked_again_after_the_budget(world):
    monitor, controller, dummy = world()
    enter(monitor)
    controller.tick(True, 1000.0)
    first = controller.page()['handover']['id']
    controller.tick(True, 1030.0)
    assert controller.page()['handover']['id'] == first
    controller.tick(True, 1041.0)
    assert controller.page()['handover']['id'] != first


def test_a_standby_in_maintenance_just_stays_out(world):
    monitor, controller, dummy = world(node='loadb2')
    enter(monitor)
    monitor.engine.holds = False
    assert controller.tick(False, 1000.0) is True
    assert monitor.engine.calls == ['stay_out'] and monitor.decisions == [('stay_out', 'maintenance')]
    controller.tick(False, 1001.0)
    assert controller.phase == nm.IN


def test_the_peer_claims_the_vip_when_asked_and_done_once_its_engine_holds_it(world):
    monitor, controller, dummy = world(node='loadb2')
    monitor.engine.holds = False
    monitor.peer_page = dict(PEER, holds_vip=True, maintenance=True, handover={'id': 'loadb1-1-1', 'to': 'loadb2'})
    assert controller.tick(False, 1000.0) is True
    assert monitor.actions == ['claim VIP'] and monitor.decisions == [('claim', 'peer_maintenance')]
    assert controller.page()['claim'] == {'id': 'loadb1-1-1', 'purpose': 'peer_maintenance'}
    assert controller.phase == nm.CLAIMING
    # The engine has not taken it over yet: the monitor's own decisions stay skipped.
    assert controller.tick(True, 1001.0) is True
    monitor.engine.holds = True
    assert controller.tick(True, 1002.0) is False
    assert controller.phase == nm.NORMAL and controller.page()['claim'] is None
    # The same request is not claimed twice.
    monitor.engine.holds = False
    assert controller.tick(False, 1003.0) is False and monitor.actions == ['claim VIP']


@pytest.mark.parametrize('problem', ['unhealthy', 'engine stopped', 'engine does not see the peer'])
def test_the_peer_does_not_claim_when_it_cannot_serve(world, problem):
    monitor, controller, dummy = world(node='loadb2')
    monitor.engine.holds = False
    if problem == 'unhealthy':
        monitor.is_healthy = False
    elif problem == 'engine stopped':
        monitor.engine.running = False
    else:
        monitor.engine.peer = 'dead'
    monitor.peer_page = dict(PEER, holds_vip=True, maintenance=True, handover={'id': 'x', 'to': 'loadb2'})
    assert controller.tick(False, 1000.0) is False and monitor.actions == []
    assert monitor.logged and 'claim' in monitor.logged[-1][1]


def test_a_request_for_another_node_is_left_alone(world):
    monitor, controller, dummy = world(node='loadb2')
    monitor.peer_page = dict(PEER, handover={'id': 'x', 'to': 'loadb9'})
    assert controller.tick(False, 1000.0) is False and monitor.actions == []


def test_a_claim_is_taken_back_when_the_engine_does_not_follow_and_the_peer_still_holds(world):
    monitor, controller, dummy = world(node='loadb2')
    monitor.engine.holds = False
    request = {'id': 'loadb1-1-1', 'to': 'loadb2'}
    monitor.peer_page = dict(PEER, holds_vip=True, maintenance=True, handover=request)
    controller.tick(False, 1000.0)
    assert controller.tick(True, 1039.0) is True
    assert controller.tick(True, 1041.0) is False
    assert monitor.actions == ['claim VIP', 'drop VIP'] and monitor.decisions[-1] == ('release', 'claim_aborted')


def test_a_claim_is_taken_back_when_the_peer_withdraws_its_request(world):
    monitor, controller, dummy = world(node='loadb2')
    monitor.engine.holds = False
    monitor.peer_page = dict(PEER, holds_vip=True, maintenance=True, handover={'id': 'a', 'to': 'loadb2'})
    controller.tick(False, 1000.0)
    monitor.peer_page = dict(PEER, holds_vip=True, maintenance=False, handover=None)
    assert controller.tick(True, 1001.0) is False
    assert monitor.actions == ['claim VIP', 'drop VIP']


def test_leaving_on_the_preferred_node_claims_first_then_rejoins_heartbeat_style(world, tmp_path):
    monitor, controller, dummy = world()
    enter(monitor)
    monitor.engine.holds = False
    controller.tick(False, 1000.0)   # stays out
    controller.tick(False, 1001.0)
    assert controller.phase == nm.IN
    nm.clear_state(monitor.cfg['maintenance_file'])
    monitor.peer_page = dict(PEER, holds_vip=True)
    monitor.good = 1
    assert controller.tick(False, 1002.0) is True
    assert controller.phase == nm.LEAVING and 'healthy' in controller.detail and monitor.actions == []
    monitor.good = 3
    assert controller.tick(False, 1003.0) is True
    assert monitor.actions == ['claim VIP'] and monitor.decisions[-1] == ('claim', 'maintenance_left')
    # The engine rejoins a drain later (heartbeat: started; the peer's heartbeat gives the VIP back).
    assert controller.next_due() == pytest.approx(1003.3)
    controller.due(1003.3)
    assert monitor.engine.calls[-1] == 'rejoin' and monitor.decisions[-1] == ('rejoin', 'maintenance_left')
    assert controller.tick(True, 1004.0) is True
    monitor.engine.holds = True
    assert controller.tick(True, 1005.0) is False
    assert controller.phase == nm.NORMAL and not nm.is_held(monitor.cfg['status_file'])


def test_leaving_where_the_engine_takes_the_vip_back_by_itself_needs_no_claim(world):
    monitor, controller, dummy = world(engine=Engine(rejoin_takes_over=True))
    enter(monitor)
    monitor.engine.holds = False
    controller.tick(False, 1000.0)
    nm.clear_state(monitor.cfg['maintenance_file'])
    monitor.peer_page = dict(PEER, holds_vip=True)
    controller.tick(False, 1001.0)
    assert monitor.actions == [] and monitor.engine.calls == ['stay_out', 'rejoin']
    # Waits until the VIP is back (VRRP preemption), then normal.
    assert controller.tick(False, 1002.0) is True and controller.phase == nm.LEAVING
    assert controller.tick(True, 1005.0) is False and controller.phase == nm.NORMAL


def test_leaving_on_the_other_node_rejoins_and_nothing_moves(world):
    monitor, controller, dummy = world(node='loadb2')
    enter(monitor)
    monitor.engine.holds = False
    controller.tick(False, 1000.0)
    nm.clear_state(monitor.cfg['maintenance_file'])
    monitor.peer_page = dict(PEER, holds_vip=True)
    controller.tick(False, 1001.0)
    assert monitor.engine.calls == ['stay_out', 'rejoin'] and monitor.actions == []
    assert controller.tick(False, 1002.0) is False and controller.phase == nm.NORMAL


def test_a_node_whose_engine_was_held_at_boot_rejoins_when_it_leaves(world):
    """After a reboot in maintenance the monitor starts afresh; the engine's gate left the marker."""
    monitor, controller, dummy = world(node='loadb2')
    monitor.engine.out = True
    monitor.engine.holds = False
    nm.mark_held(monitor.cfg['status_file'], True)
    monitor.peer_page = dict(PEER, holds_vip=True)
    assert controller.tick(False, 1000.0) is True
    assert monitor.engine.calls == ['rejoin']
