# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hapair-monitor (roles/monitor/files/hapair_monitor.py): its decisions, with the node faked around it.

The program runs on the nodes, next to its library (the collection's vip_check_kernel.py, vip_check_arp.py and
node_engine.py, which it imports by name: here from plugins/module_utils). Its checks (Apache, ping nodes, the
kernel's view of the VIP), the peer's page, the engine and the clock are replaced, so that each rule of when to hand
the VIP over, when to take it back and when to leave it is tested alone: with heartbeat's commands faked (Node), and
with keepalived's real adapter writing its track file in a temporary directory (KeepalivedNode), where a node held
back by its own give-up takes part again (consider_lift), and keepalived's config test (engine-config-test). The
molecule fault matrix tests it on real nodes.
"""

from __future__ import annotations

import http.server
import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..')
PATH = os.path.join(ROOT, 'roles', 'monitor', 'files', 'hapair_monitor.py')
# The node library, as the monitor role installs it next to the program.
sys.path.insert(0, os.path.join(ROOT, 'plugins', 'module_utils'))
SPEC = importlib.util.spec_from_file_location('hapair_monitor', PATH)
monitor_module = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(monitor_module)

HEALTHY_PEER = {'reachable': True, 'via': '198.51.100.76', 'apache_ok': True, 'ping_ok': 1, 'age': 0.5, 'fresh': True,
                'recent': True, 'holds_vip': False, 'engine': 'running', 'healing': False}


class FakeArp:
    """Records the gratuitous ARPs; claims() returns what the test queued."""

    def __init__(self, node):
        self.node = node
        self.queued = set()

    def claims(self):
        found, self.queued = self.queued, set()
        return found

    def announce(self):
        self.node.actions.append('announce')


class Node:
    """The world around one monitor: what its checks find, what heartbeat says, the clock, what it did."""

    def __init__(self, monkeypatch, tmp_path, **cfg):
        config = dict(monitor_module.DEFAULTS, node='loadb1', peer='loadb2', preferred='loadb1', vip='198.51.100.10',
                      vip_interface='eth0', peer_addresses=['198.51.100.76'], ping_nodes=['198.51.100.1'],
                      status_file=str(tmp_path / 'health.json'), heal_window=40.0,
                      defer_file=str(tmp_path / 'defer-takeover'), declined_file=str(tmp_path / 'declined'),
                      keep_file=str(tmp_path / 'keep-vip'), maintenance_file=str(tmp_path / 'maintenance'))
        config.update(cfg)
        self.apache = 'ok'
        self.pings = len(config['ping_nodes'])
        self.holds = True
        self.peer = dict(HEALTHY_PEER)
        self.hb = {'running': True, 'rsc': 'all', 'peer': 'active'}
        self.releases = []
        self.now = 1000.0
        self.actions = []
        monkeypatch.setattr(monitor_module.time, 'monotonic', lambda: self.now)
        monkeypatch.setattr(monitor_module, 'holds_vip', lambda vip: self.holds)
        self.monitor = monitor_module.Monitor(config)
        monkeypatch.setattr(self.monitor, 'check_local', lambda: (self.apache, 0.001))
        monkeypatch.setattr(self.monitor.pinger, 'send', lambda: None)
        monkeypatch.setattr(self.monitor.pinger, 'collect', lambda timeout: self.pings)
        monkeypatch.setattr(self.monitor, 'peer', self.read_peer)
        self.peer_reads = []
        monkeypatch.setattr(self.monitor.engine, 'state', self.engine_state)
        monkeypatch.setattr(self.monitor.engine, 'peer_declared_dead',
                            lambda peer: self.engine_state(peer).get('running') and self.hb['peer'] == 'dead')
        monkeypatch.setattr(self.monitor.engine, 'status', lambda: 'running' if self.hb['running'] else 'stopped')
        monkeypatch.setattr(monitor_module.node_engine, 'add_vip', lambda *a, **k: self.vip('add'))
        monkeypatch.setattr(monitor_module.node_engine, 'delete_vip', lambda *a, **k: self.vip('delete'))
        self.monitor.arp = FakeArp(self)
        monkeypatch.setattr(self.monitor.engine, 'give_up', lambda: self.act('hb_standby all'))
        monkeypatch.setattr(self.monitor.engine, 'take_back', lambda: self.act('hb_takeover local'))
        monkeypatch.setattr(self.monitor.engine, 'silence', lambda vip: self.act('silence send_arp') and 1)

    def read_peer(self, timeout=None):
        self.peer_reads.append(timeout)
        return dict(self.peer)

    def engine_state(self, peer):
        """What the heartbeat adapter's state() makes of cl_status's answers (self.hb)."""
        return monitor_module.node_engine.EngineState(running=self.hb['running'], peer=self.hb['peer'],
                                                      transition=self.hb['rsc'] == 'transition', resources=self.hb['rsc'])

    def act(self, what):
        self.actions.append(what)
        return 0, ''

    def vip(self, what):
        self.actions.append(what + ' VIP')
        self.holds = what == 'add'
        return 0, ''

    def ticks(self, count, seconds=1.0):
        for _tick in range(count):
            self.monitor.tick()
            self.now += seconds


@pytest.fixture
def node(monkeypatch, tmp_path):
    return lambda **cfg: Node(monkeypatch, tmp_path, **cfg)


def test_a_healthy_holder_keeps_the_vip_and_publishes_its_state(node):
    n = node()
    n.ticks(10)
    assert n.actions == []
    page = json.loads(open(n.monitor.cfg['status_file'], encoding='utf-8').read())
    assert page['apache_ok'] is True and page['ping_ok'] == 1 and page['holds_vip'] is True and page['node'] == 'loadb1'


def test_the_holder_gives_up_after_fails_checks_when_the_peer_is_healthy(node):
    n = node()
    n.apache = 'ConnectionRefusedError: refused'
    n.ticks(2)
    assert n.actions == []
    n.ticks(1)
    assert n.actions == ['hb_standby all']


@pytest.mark.parametrize('peer, hb', [
    (dict(HEALTHY_PEER, apache_ok=False), None),           # both unhealthy: nothing moves
    (dict(HEALTHY_PEER, fresh=False), None),               # the peer's monitor is not running
    ({'reachable': False, 'errors': ['timeout'], 'apache_ok': False, 'ping_ok': 0}, None),
    (dict(HEALTHY_PEER, ping_ok=0), None),                 # the peer reaches no ping node either
    (HEALTHY_PEER, {'running': False, 'rsc': None, 'peer': None}),
    (HEALTHY_PEER, {'running': True, 'rsc': 'all', 'peer': 'dead'}),
    (HEALTHY_PEER, {'running': True, 'rsc': 'transition', 'peer': 'active'}),
    (dict(HEALTHY_PEER, healthy_checks=2), None),          # the peer's Apache has only just come back (rises: 3)
])
def test_nothing_moves_unless_the_peer_can_take_over(node, peer, hb):
    n = node()
    n.apache = 'timeout'
    n.peer = peer
    if hb:
        n.hb = hb
    n.ticks(10)
    assert n.actions == []


def test_a_peer_is_handed_the_vip_once_healthy_for_rises_checks(node):
    # Apache down on both nodes, then started on both: the peer's comes back first. This node's own Apache gets
    # the peer's `rises` checks to come back, and then nothing has to move.
    n = node()
    n.apache = 'ConnectionRefusedError: refused'
    n.peer = dict(HEALTHY_PEER, apache_ok=False, healthy_checks=0)
    n.ticks(10)
    n.peer = dict(HEALTHY_PEER, healthy_checks=1)
    n.ticks(1)
    n.peer = dict(HEALTHY_PEER, healthy_checks=2)
    n.ticks(1)
    assert n.actions == []
    n.apache = 'ok'
    n.ticks(3)
    assert n.actions == []
    # A peer healthy for long enough is handed the VIP at once, as before; so is one whose monitor does not say.
    n.apache = 'ConnectionRefusedError: refused'
    n.peer = dict(HEALTHY_PEER, healthy_checks=3)
    n.ticks(3)
    assert n.actions == ['hb_standby all']


def test_a_lost_link_moves_the_vip_to_a_peer_that_reaches_more_ping_nodes(node):
    n = node()
    n.pings = 0
    n.ticks(3)
    assert n.actions == ['hb_standby all']


def test_a_lost_link_moves_nothing_when_the_peer_reaches_no_more(node):
    n = node()
    n.pings = 0
    n.peer = dict(HEALTHY_PEER, ping_ok=0)
    n.ticks(10)
    assert n.actions == []


def test_without_ping_nodes_only_apache_counts(node):
    n = node(ping_nodes=[])
    n.peer = dict(HEALTHY_PEER, ping_ok=0)
    n.ticks(5)
    assert n.actions == []
    n.apache = 'HTTP 503'
    n.ticks(3)
    assert n.actions == ['hb_standby all']


def test_one_hand_over_at_a_time(node):
    n = node()
    n.apache = 'refused'
    n.ticks(3)
    # heartbeat has not moved the VIP yet: no second hb_standby within the action timeout
    n.ticks(5)
    assert n.actions == ['hb_standby all']


def test_the_preferred_node_takes_the_vip_back_after_rises_delay_and_holddown(node):
    n = node(failback_delay=5, holddown=10)
    n.apache = 'refused'
    n.ticks(3)
    assert n.actions == ['hb_standby all']
    n.holds = False
    n.hb = {'running': True, 'rsc': 'none', 'peer': 'active'}
    n.apache = 'ok'
    # Given up at t=1002. Healthy from 1003: rises (3) checks, but no action within action_timeout (10 s) of the
    # last one; from 1012 the conditions hold, and failback_delay (5 s) later, at 1017, it takes the VIP back.
    n.ticks(14)
    assert n.actions == ['hb_standby all']
    n.ticks(1)
    assert n.actions == ['hb_standby all', 'hb_takeover local']


@pytest.mark.parametrize('cfg', [{'preferred': 'loadb2'}, {'auto_failback': False}])
def test_only_the_preferred_node_with_auto_failback_takes_it_back(node, cfg):
    n = node(**cfg)
    n.holds = False
    n.hb = {'running': True, 'rsc': 'none', 'peer': 'active'}
    n.ticks(30)
    assert n.actions == []


def test_no_take_back_while_the_peer_reaches_more_ping_nodes(node):
    n = node(ping_nodes=['198.51.100.1', '198.51.100.2'])
    n.holds = False
    n.pings = 1
    n.peer = dict(HEALTHY_PEER, ping_ok=2)
    n.hb = {'running': True, 'rsc': 'none', 'peer': 'active'}
    n.ticks(30)
    assert n.actions == []


def test_no_take_back_while_heartbeat_holds_something_or_the_peer_is_away(node):
    # The take-back alone: no node holds the VIP here for a minute, which the rescue ends (its own tests below).
    n = node(rescue_after=1000.0)
    n.holds = False
    for state in ({'running': True, 'rsc': 'local', 'peer': 'active'}, {'running': True, 'rsc': 'none', 'peer': 'dead'}):
        n.hb = state
        n.ticks(30)
    assert n.actions == []


def test_release_after_a_clean_stop_does_nothing(monkeypatch, tmp_path):
    released = []
    keep = tmp_path / 'keep-vip'
    monkeypatch.setattr(monitor_module.node_engine.HeartbeatNode, 'release',
                        lambda self, log, **vip: released.append((vip, keep.exists())))
    cfg = dict(monitor_module.DEFAULTS, engine={'engine': 'heartbeat'}, keep_file=str(keep))
    keep.write_text('%d\n' % int((time.time() + 3) * 1000))
    assert monitor_module.release('success', cfg) == 0 and released == [] and keep.exists()
    # After an unclean stop the preferred node's lease (keep_through_restart) ends first: the VIP agent's stop
    # releases the VIP whatever the lease said.
    assert monitor_module.release('signal', cfg) == 0
    assert released == [({'vip': None, 'prefix': 32, 'interface': None}, False)]


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802  # pylint: disable=invalid-name
        if self.path == '/slow':
            time.sleep(15)
        body = b'{"apache_ok": true}'
        self.send_response(200)
        self.send_header('Last-Modified', self.date_time_string(time.time() - 3))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()


def test_http_get_reads_status_headers_body_and_the_page_age(server):
    status, headers, body = monitor_module.http_get('127.0.0.1', server, '/hapair-health', 1.0)
    assert status == 200 and json.loads(body) == {'apache_ok': True}
    assert 2 <= monitor_module.page_age(headers) <= 4


def test_http_get_counts_a_hung_server_as_failed_within_its_deadline(server):
    started = time.monotonic()
    with pytest.raises(OSError):
        monitor_module.http_get('127.0.0.1', server, '/slow', 0.3)
    assert time.monotonic() - started < 5.0     # long before the 15 s answer, with room for a busy machine


def test_http_get_refused():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    with pytest.raises(OSError):
        monitor_module.http_get('127.0.0.1', port, '/', 0.5)


def test_the_peer_s_links_are_read_at_once_and_the_first_answer_counts():
    """A split or a link down: the answer of the other link is taken while the read of the first still waits (for
    its timeout on a real link; here until the test lets it go)."""
    hold_a, a_ended = threading.Event(), threading.Event()

    def read(address):
        if address == 'a':
            hold_a.wait(10)
            a_ended.set()
            raise OSError('a: timed out')
        return {'via': address}
    try:
        assert monitor_module.first_answer(['a', 'b'], read) == ('b', {'via': 'b'}, [])
        assert not a_ended.is_set()    # the first link's read was not waited for
    finally:
        hold_a.set()


def test_when_no_link_answers_every_error_is_told_in_the_links_order():
    """Every link is read at once: each read starts before any other has ended (one read at a time would leave the
    first waiting for the others' start until its own deadline)."""
    started = {name: threading.Event() for name in 'abc'}

    def read(address):
        started[address].set()
        if not all(event.wait(10) for event in started.values()):
            raise OSError('%s: the links were read one after the other' % address)
        if address == 'a':
            raise OSError('a: timed out')
        if address == 'b':
            raise OSError('b: [Errno 111] Connection refused')
        raise ValueError('what a bug')
    assert monitor_module.first_answer(['a', 'b', 'c'], read) == (
        None, None, ['a: timed out', 'b: [Errno 111] Connection refused', 'c: ValueError: what a bug'])


def test_one_link_is_read_without_a_thread(monkeypatch):
    def refused(address):
        raise OSError('%s: refused' % address)
    monkeypatch.setattr(monitor_module.threading, 'Thread', None)
    assert monitor_module.first_answer(['a'], lambda address: 42) == ('a', 42, [])
    assert monitor_module.first_answer(['a'], refused) == (None, None, ['a: refused'])


def test_the_peer_s_page_over_a_link_that_answers(server, tmp_path):
    cfg = dict(monitor_module.DEFAULTS, node='loadb1', peer='loadb2', preferred='loadb1', vip='198.51.100.10',
               vip_interface='eth0', peer_addresses=['127.0.0.1'], port=server, status_file=str(tmp_path / 'h.json'))
    monitor = monitor_module.Monitor(cfg)
    page = monitor.peer(timeout=10.0)
    assert page['reachable'] and page['via'] == '127.0.0.1' and 2 <= page['age'] <= 4
    monitor.cfg['health_path'] = '/slow'
    page = monitor.peer(timeout=0.3)
    assert not page['reachable'] and page['errors'][0].startswith('127.0.0.1: ')


def test_the_configuration_is_checked_and_underscore_keys_are_notes(tmp_path):
    path = tmp_path / 'monitor.json'
    path.write_text(json.dumps({'_managed': 'Ansible managed', 'node': 'loadb1', 'peer': 'loadb2', 'preferred': 'loadb1',
                                'vip': '198.51.100.10', 'vip_interface': 'eth0', 'interval': 2, 'fails': '4'}))
    cfg = monitor_module.load(str(path))
    assert cfg['interval'] == 2.0 and cfg['fails'] == 4 and '_managed' not in cfg and cfg['rises'] == 3
    path.write_text(json.dumps({'node': 'loadb1'}))
    with pytest.raises(SystemExit, match='missing peer, preferred, vip, vip_interface'):
        monitor_module.load(str(path))


# --- a healed partition (issue 20): one holder through heartbeat's restart ------------------------------------

def announcements(n):
    return [a for a in n.actions if a == 'announce']


def test_on_a_heal_the_preferred_holder_keeps_the_vip_and_announces_it(node):
    n = node()
    n.peer = dict(HEALTHY_PEER, holds_vip=True)
    n.ticks(1)
    n.monitor.on_heal()
    assert n.actions == ['announce'] and n.monitor.healing()
    # Two more, half a second apart.
    for _turn in range(4):
        n.now += 0.5
        n.monitor.announce_due(n.now)
    assert n.actions == ['announce'] * 3


def test_on_a_heal_the_other_node_lets_go_after_the_preferred_announced_and_a_drain(node):
    n = node(node='loadb2', peer='loadb1', release_drain=0.3, release_wait=3.0)
    n.peer = dict(HEALTHY_PEER, holds_vip=True)
    n.monitor.on_heal()
    # Not at once: clients still send here until the preferred node's announcement moves them.
    n.now += 1.0
    n.monitor.release_due(n.now)
    assert n.actions == [] and n.holds is True
    n.monitor.arp.queued = {'62:62:65:96:ba:7d'}
    n.monitor.watch_claims(True, n.now)
    n.now += 0.2
    n.monitor.release_due(n.now)
    assert n.actions == []
    n.now += 0.1
    n.monitor.release_due(n.now)
    assert n.actions == ['delete VIP', 'silence send_arp'] and n.holds is False


def test_without_the_preferred_node_s_announcement_the_other_lets_go_after_the_wait(node):
    n = node(node='loadb2', peer='loadb1', release_drain=0.3, release_wait=3.0)
    n.peer = dict(HEALTHY_PEER, holds_vip=True)
    n.monitor.on_heal()
    n.now += 3.0
    n.monitor.release_due(n.now)
    assert n.actions == ['delete VIP', 'silence send_arp']


def test_the_other_node_keeps_the_vip_if_the_preferred_lost_it_during_the_wait(node):
    n = node(node='loadb2', peer='loadb1', release_drain=0.3, release_wait=3.0)
    n.peer = dict(HEALTHY_PEER, holds_vip=True)
    n.monitor.on_heal()
    n.peer = dict(HEALTHY_PEER, holds_vip=False)
    n.now += 3.0
    n.monitor.release_due(n.now)
    assert n.actions == [] and n.holds is True


@pytest.mark.parametrize('peer', [
    dict(HEALTHY_PEER, holds_vip=True, apache_ok=False),       # the preferred node cannot serve: keep it
    dict(HEALTHY_PEER, holds_vip=True, recent=False),          # its page is old (its monitor was frozen too)
    dict(HEALTHY_PEER, holds_vip=False),                       # it does not hold it: this node is the one left
    {'reachable': False, 'errors': ['timeout'], 'apache_ok': False, 'ping_ok': 0, 'fresh': False, 'recent': False},
])
def test_on_a_heal_the_other_node_keeps_the_vip_unless_the_preferred_one_holds_it_and_serves(node, peer):
    n = node(node='loadb2', peer='loadb1')
    n.peer = peer
    n.monitor.on_heal()
    n.now += 4.0
    n.monitor.release_due(n.now)
    assert 'delete VIP' not in n.actions and n.holds is True


def test_when_the_engine_drops_the_vip_in_the_heal_window_the_preferred_node_claims_it_back(node):
    n = node()
    n.ticks(1)
    n.monitor.on_heal()
    n.peer = dict(HEALTHY_PEER, holds_vip=False, healing=True, engine='running')
    n.holds = False
    n.monitor.on_address('del', {'address': '198.51.100.10'})
    # Announced on the heal, then claimed and announced again.
    assert n.actions == ['announce', 'add VIP', 'announce'] and n.holds is True


def test_in_the_heal_window_a_node_whose_engine_systemd_stops_claims_nothing(node):
    """An operator stops heartbeat on the preferred node within the heal window of a partition that healed before: its
    hand-over goes through (the CI run of 2026-12-06 where the monitor took the VIP back 20 ms after heartbeat's stop
    released it)."""
    n = node()
    n.ticks(1)
    n.monitor.on_heal()
    n.peer = dict(HEALTHY_PEER, holds_vip=False, healing=True, engine='running')
    n.hb['running'] = False
    n.holds = False
    n.monitor.on_address('del', {'address': '198.51.100.10'})
    # Its page says so as the VIP leaves, not at the next check: the peer's lease for its VIP agent ends with it.
    page = json.loads(open(n.monitor.cfg['status_file'], encoding='utf-8').read())
    assert page['engine'] == 'stopped' and page['holds_vip'] is False
    n.ticks(3)
    assert 'add VIP' not in n.actions and n.holds is False


@pytest.mark.parametrize('peer', [
    dict(HEALTHY_PEER, holds_vip=True, healing=True),                        # the peer has it
    dict(HEALTHY_PEER, holds_vip=False, healing=False, engine='running'),   # its engine runs and may take it over
    dict(HEALTHY_PEER, holds_vip=False, healing=True, recent=False),         # its page is too old to trust
])
def test_the_preferred_node_claims_nothing_the_peer_might_hold(node, peer):
    n = node()
    n.ticks(1)
    n.monitor.on_heal()
    n.peer = peer
    n.holds = False
    n.monitor.on_address('del', {'address': '198.51.100.10'})
    assert 'add VIP' not in n.actions


def test_the_preferred_node_claims_when_the_peer_s_engine_restarts_too(node):
    n = node()
    n.ticks(1)
    n.monitor.on_heal()
    n.peer = dict(HEALTHY_PEER, holds_vip=False, healing=False, engine='restarting')
    n.holds = False
    n.monitor.on_address('del', {'address': '198.51.100.10'})
    assert 'add VIP' in n.actions


def test_in_the_heal_window_the_preferred_node_without_the_vip_probes_and_claims_once_the_peer_drops_it(node):
    """heartbeat's restart after a partition took the VIP off the preferred node while the peer still held it: the
    preferred node reads the peer's page every probe_interval and claims the VIP within one probe of the peer's
    engine giving it up, not at its next check."""
    n = node()
    n.ticks(1)
    n.monitor.on_heal()
    n.peer = dict(HEALTHY_PEER, holds_vip=True, healing=True)
    n.holds = False
    n.monitor.on_address('del', {'address': '198.51.100.10'})
    assert n.monitor.probing() and 'add VIP' not in n.actions
    n.monitor.probe(n.now)
    assert 'add VIP' not in n.actions and n.monitor.next_probe == n.now + 0.25
    n.peer = dict(HEALTHY_PEER, holds_vip=False, healing=True, engine='restarting')
    n.monitor.probe(n.now + 0.25)
    assert n.actions[-2:] == ['add VIP', 'announce'] and n.holds is True
    assert not n.monitor.probing()


def test_no_heal_probing_on_the_other_node_of_an_engine_without_a_restart_or_after_the_window(node, monkeypatch):
    other = node(node='loadb2', peer='loadb1')
    monkeypatch.setattr(other.monitor.engine, 'restarts_after_partition', False)
    other.ticks(1)
    other.monitor.on_heal()
    other.holds = False
    other.monitor.on_address('del', {'address': '198.51.100.10'})
    assert not other.monitor.probing()
    other.monitor.healing_until = 0.0
    n = node()
    n.ticks(1)
    n.monitor.on_heal()
    n.holds = False
    n.monitor.healing_until = 0.0
    assert not n.monitor.probing()


# --- a takeover declined (issue 20): heartbeat's VIP agent, hapair-vip, and the monitor's lease -------------------

def lease_end(n, key='defer_file'):
    """The end of a lease the monitor writes for heartbeat's VIP agent (milliseconds since the epoch), None without
    one: the other node's (defer_file) or the preferred node's (keep_file)."""
    try:
        return int(open(n.monitor.cfg[key], encoding='utf-8').read())
    except FileNotFoundError:
        return None


def lease_ms(n):
    """The end of the other node's lease (defer_takeover)."""
    return lease_end(n)


def other_after_release(node):
    """The other node after it let the VIP go in a healed partition's window, the preferred node holding it."""
    other = node(node='loadb2', peer='loadb1')
    other.peer = dict(HEALTHY_PEER, holds_vip=True, healing=True)
    other.ticks(1)
    other.monitor.on_heal()
    other.now += 3.0
    other.monitor.release_due(other.now)
    assert other.actions == ['delete VIP', 'silence send_arp'] and other.holds is False
    return other


def test_in_the_heal_window_the_other_node_probes_and_keeps_a_one_second_lease_while_the_preferred_holds_and_serves(node):
    other = other_after_release(node)
    assert other.monitor.probing()
    before = time.time()
    other.monitor.probe(other.now)
    assert other.monitor.next_probe == other.now + 0.25
    assert int(before * 1000) + 1000 <= lease_ms(other) <= time.time() * 1000 + 1000
    # Not renewed while the preferred node does not serve, or does not hold the VIP, or cannot be read.
    for peer in (dict(HEALTHY_PEER, holds_vip=True, apache_ok=False), dict(HEALTHY_PEER, holds_vip=False),
                 dict(HEALTHY_PEER, holds_vip=True, recent=False),
                 {'reachable': False, 'errors': ['timeout'], 'apache_ok': False, 'ping_ok': 0, 'fresh': False,
                  'recent': False}):
        if lease_ms(other) is not None:
            os.remove(other.monitor.cfg['defer_file'])
        other.peer = peer
        other.now += 0.25
        other.monitor.probe(other.now)
        other.ticks(1)
        assert lease_ms(other) is None, peer
    # After the window: no lease, no probing.
    other.peer = dict(HEALTHY_PEER, holds_vip=True)
    other.monitor.healing_until = other.now - 1
    other.ticks(1)
    assert lease_ms(other) is None and not other.monitor.probing()


def keep_ms(n):
    """The end of the preferred node's lease (keep_through_restart)."""
    return lease_end(n, 'keep_file')


def test_in_the_heal_window_the_preferred_holder_keeps_a_lease_through_the_engine_s_restart(node):
    """heartbeat's restart after a partition gives the VIP up on the preferred node first: 20-30 ms without a holder
    in every heal, until the monitor claimed it back. The lease lets heartbeat's VIP agent decline that stop."""
    n = node()
    n.ticks(3)
    assert keep_ms(n) is None
    before = time.time()
    n.monitor.on_heal()
    assert int(before * 1000) + 3000 <= keep_ms(n) <= time.time() * 1000 + 3000
    first = keep_ms(n)
    n.ticks(1)
    assert keep_ms(n) >= first     # renewed at every check
    # Apache fails one check: the lease ends at once, so a hand-over goes through (here once the window is over).
    n.apache = 'ConnectionRefusedError: refused'
    n.ticks(1)
    assert keep_ms(n) is None
    n.monitor.healing_until = n.now
    n.ticks(3)
    assert keep_ms(n) is None and n.actions[-1] == 'hb_standby all'


@pytest.mark.parametrize('change', ['not_preferred', 'no_restart', 'not_holding', 'engine_stopped', 'maintenance',
                                    'window_over', 'ping_nodes_lost'])
def test_no_lease_to_keep_the_vip_unless_the_preferred_healthy_holder_is_in_the_window(node, monkeypatch, change):
    n = node(node='loadb2', peer='loadb1') if change == 'not_preferred' else node()
    if change == 'no_restart':
        monkeypatch.setattr(n.monitor.engine, 'restarts_after_partition', False)
    n.ticks(1)
    n.monitor.on_heal()
    assert (keep_ms(n) is None) == (change in ('not_preferred', 'no_restart'))
    if change == 'not_holding':
        n.holds = False
    elif change == 'engine_stopped':       # systemctl stop heartbeat: the unit is deactivating
        n.hb['running'] = False
    elif change == 'maintenance':          # the file is there before the check that reads it for the hand-over
        with open(n.monitor.cfg['maintenance_file'], 'w', encoding='utf-8') as handle:
            handle.write('{"since": 1, "reason": "test", "by": "test"}\n')
    elif change == 'window_over':
        n.now = n.monitor.healing_until
    elif change == 'ping_nodes_lost':
        n.pings = 0
    n.ticks(1)
    assert keep_ms(n) is None, change


def test_a_monitor_that_stops_keeps_nothing(node):
    n = node()
    n.ticks(1)
    n.monitor.on_heal()
    assert keep_ms(n) is not None
    n.monitor.end_keep()
    assert keep_ms(n) is None


def test_the_lease_ends_at_the_first_probe_that_reads_the_preferred_node_s_engine_stopped(node):
    """An operator stops heartbeat on the preferred node within the heal window: its engine hands the VIP over, and this
    node's engine must take it then, not be declined by a lease written while the preferred node held it (CI run of
    2026-12-06: declined, then taken by the monitor 2.0 s later, 2.8 s without an answer)."""
    other = other_after_release(node)
    other.monitor.probe(other.now)
    assert lease_ms(other) is not None
    # Its engine restarting after the partition (unit active): the lease stays, it is what the lease is for.
    other.peer = dict(HEALTHY_PEER, holds_vip=False, healing=True, engine='restarting')
    other.now += 0.25
    other.monitor.probe(other.now)
    assert lease_ms(other) is not None
    # A page too old to trust, or one that still shows the VIP there: nothing ends early either.
    for peer in (dict(HEALTHY_PEER, holds_vip=False, healing=True, engine='stopped', recent=False),
                 dict(HEALTHY_PEER, holds_vip=True, healing=True, engine='stopped', apache_ok=False)):
        other.peer = peer
        other.now += 0.25
        other.monitor.probe(other.now)
        assert lease_ms(other) is not None, peer
    other.peer = dict(HEALTHY_PEER, holds_vip=False, healing=True, engine='stopped')
    other.now += 0.25
    other.monitor.probe(other.now)
    assert lease_ms(other) is None
    assert 'add VIP' not in other.actions   # taking it is the engine's business now


def test_after_a_declined_takeover_the_other_node_takes_the_vip_at_once_when_the_preferred_node_s_engine_stopped(node):
    other = other_after_release(node)
    declined(other)
    other.monitor.probe(other.now)
    other.peer = dict(HEALTHY_PEER, holds_vip=False, healing=True, engine='stopped')
    other.now += 0.25
    other.monitor.probe(other.now)
    assert other.actions[-2:] == ['add VIP', 'announce'] and other.holds is True
    assert not os.path.exists(other.monitor.cfg['declined_file'])


def test_no_lease_on_the_preferred_node_or_on_an_engine_without_a_restart_after_a_partition(node, monkeypatch):
    n = node()
    n.peer = dict(HEALTHY_PEER, holds_vip=True, healing=True)
    n.ticks(1)
    n.monitor.on_heal()
    n.ticks(3)
    assert lease_ms(n) is None
    other = node(node='loadb2', peer='loadb1')
    monkeypatch.setattr(other.monitor.engine, 'restarts_after_partition', False)
    other.peer = dict(HEALTHY_PEER, holds_vip=True, healing=True)
    other.monitor.on_heal()
    other.holds = False
    other.ticks(3)
    assert lease_ms(other) is None


def declined(n):
    with open(n.monitor.cfg['declined_file'], 'w', encoding='utf-8') as out:
        out.write('1\n')


def test_after_a_declined_takeover_the_other_node_takes_the_vip_once_the_preferred_node_stopped_holding_for_the_grace(
        node):
    other = other_after_release(node)
    declined(other)
    assert other.monitor.probing()
    other.monitor.probe(other.now)
    assert 'add VIP' not in other.actions
    # The preferred node dies: its page cannot be read any more.
    other.peer = {'reachable': False, 'errors': ['timeout'], 'apache_ok': False, 'ping_ok': 0, 'fresh': False,
                  'recent': False}
    for _probe in range(7):          # 1.75 s
        other.now += 0.25
        other.monitor.probe(other.now)
    assert 'add VIP' not in other.actions
    other.now += 0.25                # 2.0 s
    other.monitor.probe(other.now)
    assert other.actions[-2:] == ['add VIP', 'announce'] and other.holds is True
    assert not os.path.exists(other.monitor.cfg['declined_file'])
    page = json.loads(open(other.monitor.cfg['status_file'], encoding='utf-8').read())
    assert page['holds_vip'] is True and page['last_decision']['reason'] == 'declined_takeover'


def test_after_a_declined_takeover_a_preferred_node_that_holds_again_within_the_grace_keeps_the_vip(node):
    other = other_after_release(node)
    declined(other)
    # Its engine's restart took the VIP off the preferred node; its monitor claimed it back 0.5 s later.
    other.peer = dict(HEALTHY_PEER, holds_vip=False, healing=True, engine='restarting')
    for _probe in range(2):
        other.now += 0.25
        other.monitor.probe(other.now)
    other.peer = dict(HEALTHY_PEER, holds_vip=True, healing=True)
    other.now += 0.25
    other.monitor.probe(other.now)
    # Its Apache fails later, for less than the grace each time: the grace counts from the last page that served.
    other.peer = dict(HEALTHY_PEER, holds_vip=True, healing=True, apache_ok=False)
    for _probe in range(7):
        other.now += 0.25
        other.monitor.probe(other.now)
    other.ticks(1, seconds=0.0)
    assert 'add VIP' not in other.actions and other.holds is False
    assert os.path.exists(other.monitor.cfg['declined_file'])
    # The window over, a check still guards the declined takeover.
    other.monitor.healing_until = other.now - 1
    other.now += 0.5
    other.ticks(1)
    assert other.actions[-2:] == ['add VIP', 'announce']


def test_a_declined_takeover_the_engine_gave_up_since_is_not_guarded(node):
    other = other_after_release(node)
    other.monitor.healing_until = other.now - 1
    other.peer = {'reachable': False, 'errors': ['timeout'], 'apache_ok': False, 'ping_ok': 0, 'fresh': False,
                  'recent': False}
    other.ticks(5)
    assert 'add VIP' not in other.actions and not other.monitor.probing()


def test_without_a_heal_a_vip_that_leaves_is_the_engine_s_business(node):
    n = node()
    n.ticks(1)
    n.peer = dict(HEALTHY_PEER, holds_vip=False, healing=True, engine='restarting')
    n.holds = False
    n.monitor.on_address('del', {'address': '198.51.100.10'})
    n.ticks(5)
    assert 'add VIP' not in n.actions


def test_an_unhealthy_preferred_node_claims_nothing(node):
    n = node()
    n.apache = 'refused'
    n.ticks(1)
    n.monitor.on_heal()
    n.peer = dict(HEALTHY_PEER, holds_vip=False, healing=True, engine='restarting')
    n.holds = False
    n.monitor.on_address('del', {'address': '198.51.100.10'})
    assert 'add VIP' not in n.actions


def test_the_heal_window_ends_and_the_usual_rules_come_back(node):
    n = node(heal_window=5.0)
    n.monitor.on_heal()
    n.ticks(6)
    assert not n.monitor.healing()
    n.apache = 'refused'
    n.ticks(3)
    assert n.actions[-1] == 'hb_standby all'


def test_the_page_says_what_the_peer_needs_to_know(node):
    n = node()
    n.ticks(1)
    n.monitor.on_heal()
    page = json.loads(open(n.monitor.cfg['status_file'], encoding='utf-8').read())
    assert page['healing'] is True and page['engine'] == 'running' and page['holds_vip'] is True and page['healthy']


def test_the_watchdog_covers_the_slowest_turn():
    cfg = dict(monitor_module.DEFAULTS, interval=60.0, timeout=30.0, peer_addresses=['a', 'b'])
    monitor = monitor_module.Monitor.__new__(monitor_module.Monitor)
    monitor.cfg = cfg
    # 60 + 0.5 + 30 * 3 + 3 * 10 / 2 = 165.5, three times
    assert monitor.watchdog_seconds() == 3 * 165.5
    monitor.cfg = dict(monitor_module.DEFAULTS, peer_addresses=['a'])
    assert monitor.watchdog_seconds() == 60.0


def test_a_preferred_healthy_holder_announces_at_once_when_another_node_claims_the_vip(node):
    n = node()
    n.ticks(1)
    n.peer = dict(HEALTHY_PEER, holds_vip=True)
    n.monitor.arp.queued = {'ee:e5:7f:2a:ac:45'}
    n.monitor.watch_claims(True, n.now)
    assert n.actions == ['announce']
    # Not again within two seconds.
    n.monitor.arp.queued = {'ee:e5:7f:2a:ac:45'}
    n.monitor.watch_claims(True, n.now + 1.0)
    assert n.actions == ['announce']


def claimed_over(n):
    """The preferred holder saw another node claim the VIP a moment after it announced it; the peer's page (version 7)
    says the peer holds it too."""
    n.ticks(1)
    n.monitor.last_claim_announce = n.now    # announced over the claim a moment ago
    n.peer = dict(HEALTHY_PEER, holds_vip=True, seq=7)
    n.monitor.arp.queued = {'ee:e5:7f:2a:ac:45'}
    n.monitor.watch_claims(True, n.now)


def test_an_open_claim_is_followed_between_the_checks_and_the_vip_re_announced_within_a_fifth_of_a_second(node):
    # The other node lets the VIP go without a frame on the wire: nothing wakes this node but the follow-up.
    n = node()
    claimed_over(n)
    assert n.monitor.claim_open() and n.peer_reads[-1] == n.monitor.cfg['probe_timeout']
    reads = len(n.peer_reads)
    n.monitor.claims_due(n.now + 0.1)        # not yet: five reads a second at most
    assert len(n.peer_reads) == reads
    n.peer = dict(HEALTHY_PEER, holds_vip=False, seq=8)
    n.monitor.claims_due(n.now + 0.2)
    assert n.actions == ['announce'] and not n.monitor.claim_open()
    n.monitor.claims_due(n.now + 0.4)        # closed: no more reads
    assert len(n.peer_reads) == reads + 1


def test_a_claim_is_no_longer_followed_once_the_vip_left_this_node(node):
    n = node()
    claimed_over(n)
    assert n.monitor.claim_open()
    n.holds = False
    n.monitor.on_address('delete', {'address': n.monitor.cfg['vip']})   # the VIP left: nothing to re-announce
    assert not n.monitor.claim_open()
    reads = len(n.peer_reads)
    n.monitor.claims_due(n.now + 1.0)
    assert len(n.peer_reads) == reads and n.actions == []


def test_the_other_node_does_not_announce_what_it_should_give_up(node):
    n = node(node='loadb2', peer='loadb1')
    n.peer = dict(HEALTHY_PEER, holds_vip=True)
    n.ticks(1)
    n.monitor.arp.queued = {'62:62:65:96:ba:7d'}
    n.monitor.watch_claims(True, n.now)
    assert n.actions == []


def test_a_holder_does_not_take_a_page_written_before_the_claim_for_a_release(node):
    # Leaving maintenance: the preferred node claims the VIP (its gratuitous ARP), then publishes its page. The holder
    # reads that page at once: the version written before the claim still says it holds nothing.
    n = node(node='loadb2', peer='loadb1', preferred='loadb1')
    n.ticks(1)
    n.peer = dict(HEALTHY_PEER, holds_vip=False, seq=41)
    n.monitor.arp.queued = {'62:62:65:96:ba:7d'}
    n.monitor.watch_claims(True, n.now)
    assert n.actions == []
    # The next version says it holds the VIP it claimed: still nothing to re-announce.
    n.peer = dict(HEALTHY_PEER, holds_vip=True, seq=42, claim={'id': 'x', 'purpose': 'maintenance_left'})
    n.monitor.watch_claims(True, n.now + 0.5)
    assert n.actions == []


def test_a_holder_re_announces_once_a_page_written_after_the_claim_says_the_peer_let_go(node):
    n = node()
    claimed_over(n)
    n.monitor.watch_claims(True, n.now + 0.5)
    assert n.actions == []
    # The peer let go and published at once: the next read re-announces.
    n.peer = dict(HEALTHY_PEER, holds_vip=False, seq=8)
    n.monitor.watch_claims(True, n.now + 1.0)
    assert n.actions == ['announce']


def test_a_page_without_a_version_is_taken_as_it_is(node):
    n = node(node='loadb2', peer='loadb1', preferred='loadb1')
    n.ticks(1)
    n.peer = dict(HEALTHY_PEER, holds_vip=False)
    n.monitor.arp.queued = {'62:62:65:96:ba:7d'}
    n.monitor.watch_claims(True, n.now)
    assert n.actions == ['announce']


def test_the_other_node_lets_go_of_a_second_holding_when_its_engine_declared_the_preferred_dead(node):
    n = node(node='loadb2', peer='loadb1', release_drain=0.2, release_wait=3.0)
    n.peer = dict(HEALTHY_PEER, holds_vip=True)
    n.hb = {'running': True, 'rsc': 'all', 'peer': 'dead'}
    n.ticks(1, seconds=0.25)
    assert n.actions == []
    n.monitor.arp.queued = {'62:62:65:96:ba:7d'}
    n.monitor.watch_claims(True, n.now)
    n.monitor.release_due(n.now + 0.2)
    assert n.actions == ['delete VIP', 'silence send_arp']


def test_the_preferred_node_announces_when_the_peer_holds_the_vip_too(node):
    n = node()
    n.peer = dict(HEALTHY_PEER, holds_vip=True)
    n.ticks(2)
    assert n.actions == ['announce']
    # Again every two seconds while the peer holds it.
    n.ticks(1)
    assert n.actions == ['announce', 'announce']


@pytest.mark.parametrize('cfg, peer, hb', [
    ({}, dict(HEALTHY_PEER, holds_vip=True), {'running': True, 'rsc': 'all', 'peer': 'dead'}),    # it is preferred
    ({'node': 'loadb2', 'peer': 'loadb1'}, dict(HEALTHY_PEER, holds_vip=True),
     {'running': True, 'rsc': 'all', 'peer': 'active'}),                                       # the engine decides
    ({'node': 'loadb2', 'peer': 'loadb1'}, dict(HEALTHY_PEER, holds_vip=True, apache_ok=False),
     {'running': True, 'rsc': 'all', 'peer': 'dead'}),                                          # it cannot serve
    ({'node': 'loadb2', 'peer': 'loadb1'}, dict(HEALTHY_PEER, holds_vip=False),
     {'running': True, 'rsc': 'all', 'peer': 'dead'}),                                          # one holder
])
def test_a_second_holding_is_left_alone_otherwise(node, cfg, peer, hb):
    n = node(release_drain=0.2, release_wait=3.0, **cfg)
    n.peer, n.hb = peer, hb
    n.ticks(3, seconds=0.25)
    n.monitor.release_due(n.now + 4)
    assert 'delete VIP' not in n.actions


# --- the heal within a probe (issue 20): one holder within about a second, not when the engine notices ------------

UNREACHABLE_PEER = {'reachable': False, 'errors': ['timeout'], 'apache_ok': False, 'ping_ok': 0, 'fresh': False,
                    'recent': False}


@pytest.mark.parametrize('engine', [{'engine': 'keepalived'}, None])
def test_the_preferred_holder_announces_the_vip_when_the_peer_comes_back_after_a_split(node, engine):
    """While the nodes could not reach each other the peer took the VIP over and announced it; when they hear each
    other again the peer lets it go silently: the preferred node, which kept it, announces it at its next check."""
    n = node(engine=engine) if engine else node()
    n.ticks(2)
    assert n.actions == []
    n.peer = UNREACHABLE_PEER
    n.ticks(3)
    assert n.actions == []
    n.peer = HEALTHY_PEER
    n.ticks(1)
    assert n.actions == ['announce']
    n.ticks(2)
    assert n.actions == ['announce']


@pytest.mark.parametrize('engine', [{'engine': 'keepalived'}, None])
def test_the_preferred_holder_probes_a_peer_out_of_reach_and_announces_within_a_probe_of_its_return(node, engine):
    """Between the checks: at the check alone the clients came back up to a check after the heal (keepalived's fast
    timers: the peer went back to BACKUP within 20 ms of the heal, 1.1 s without an answer)."""
    n = node(engine=engine) if engine else node()
    n.ticks(1)
    assert not n.monitor.probing()
    n.peer = UNREACHABLE_PEER
    n.ticks(1)
    assert n.monitor.probing()
    n.monitor.probe(n.now + 0.25)
    assert n.actions == [] and n.monitor.next_probe == n.now + 0.5
    assert n.peer_reads[-1] == n.monitor.cfg['probe_timeout']
    n.peer = HEALTHY_PEER
    n.monitor.probe(n.now + 0.5)
    assert n.actions == ['announce']
    assert not n.monitor.probing()
    n.ticks(2)
    assert n.actions == ['announce']


def test_the_other_node_never_announces_when_the_peer_comes_back(node):
    n = node(node='loadb2', peer='loadb1', engine={'engine': 'keepalived'})
    n.ticks(1)
    n.peer = UNREACHABLE_PEER
    n.ticks(2)
    n.peer = HEALTHY_PEER
    n.ticks(2)
    assert 'announce' not in n.actions


def test_a_holder_whose_engine_declared_the_peer_dead_probes_the_peer_between_checks(node):
    n = node()
    n.hb = {'running': True, 'rsc': 'all', 'peer': 'dead'}
    n.ticks(1)
    assert n.monitor.probing()
    n.monitor.probe(n.now)
    assert n.peer_reads[-1] == n.monitor.cfg['probe_timeout'] and n.monitor.next_probe == n.now + 0.25
    assert n.actions == []
    # The partition heals: the peer's page says it holds the VIP too; the preferred node announces at once.
    n.peer = dict(HEALTHY_PEER, holds_vip=True)
    n.monitor.probe(n.now + 0.25)
    assert n.actions == ['announce']


def test_no_probing_while_the_engine_sees_the_peer_or_this_node_holds_nothing(node):
    n = node()
    n.ticks(1)
    assert not n.monitor.probing()
    n.holds = False
    n.hb = {'running': True, 'rsc': 'none', 'peer': 'dead'}
    n.ticks(1)
    assert not n.monitor.probing()


def test_keepalived_needs_no_probing(node):
    n = node(engine={'engine': 'keepalived'})
    n.hb = {'running': True, 'rsc': 'all', 'peer': 'dead'}
    n.ticks(1)
    assert not n.monitor.probing()


def test_the_other_node_lets_go_a_drain_after_a_probe_when_the_preferred_node_announced_just_before(node):
    n = node(node='loadb2', peer='loadb1', release_drain=0.3, release_wait=3.0)
    n.hb = {'running': True, 'rsc': 'all', 'peer': 'dead'}
    n.ticks(1)
    # The preferred node's gratuitous ARP arrives; its page says it holds the VIP and serves.
    n.peer = dict(HEALTHY_PEER, holds_vip=True)
    n.monitor.arp.queued = {'62:62:65:96:ba:7d'}
    n.monitor.watch_claims(True, n.now)
    assert n.monitor.release_at == n.now + 0.3
    n.monitor.release_due(n.now + 0.3)
    assert n.actions == ['delete VIP', 'silence send_arp']


def test_a_probe_that_finds_both_holding_lets_go_at_once_after_a_fresh_claim(node):
    n = node(node='loadb2', peer='loadb1', release_drain=0.3, release_wait=3.0)
    n.hb = {'running': True, 'rsc': 'all', 'peer': 'dead'}
    n.ticks(1)
    n.monitor.claimed = (n.now - 0.5, {'62:62:65:96:ba:7d'})
    n.peer = dict(HEALTHY_PEER, holds_vip=True)
    n.monitor.probe(n.now)
    assert n.monitor.release_at == n.now + 0.3


@pytest.mark.parametrize('me, peer_name', [('loadb1', 'loadb2'), ('loadb2', 'loadb1')], ids=['preferred', 'other'])
def test_a_holder_whose_engine_declared_the_peer_dead_reads_the_peer_once_a_check_within_the_probe_timeout(
        node, me, peer_name):
    # While the nodes cannot reach each other, a read with the check's timeout held the loop for that long per link
    # at every check: the probes and a healed split's release waited behind it.
    n = node(node=me, peer=peer_name)
    n.hb = {'running': True, 'rsc': 'all', 'peer': 'dead'}
    n.peer = {'reachable': False, 'errors': ['timeout'], 'apache_ok': False, 'ping_ok': 0, 'fresh': False,
              'recent': False}
    n.ticks(3)
    assert n.peer_reads == [n.monitor.cfg['probe_timeout']] * 3
    assert n.actions == []


def test_the_preferred_holder_decides_on_the_page_its_check_read_when_the_split_heals(node):
    n = node()
    n.hb = {'running': True, 'rsc': 'all', 'peer': 'dead'}
    n.peer = {'reachable': False, 'errors': ['timeout'], 'apache_ok': False, 'ping_ok': 0, 'fresh': False,
              'recent': False}
    n.ticks(1)
    n.peer = dict(HEALTHY_PEER, holds_vip=True)
    n.ticks(1)
    # One read a check: the peer is back (announce, for the clients that learnt its MAC) and holds the VIP too (the
    # preferred node keeps it and announces it).
    assert n.peer_reads == [n.monitor.cfg['probe_timeout']] * 2
    assert n.actions and set(n.actions) == {'announce'}


def test_a_release_that_comes_due_while_the_check_waits_for_the_ping_nodes_is_not_held_up_by_the_rest_of_it(
        node, monkeypatch):
    n = node(node='loadb2', peer='loadb1', release_drain=0.3, release_wait=3.0)
    n.hb = {'running': True, 'rsc': 'all', 'peer': 'dead'}
    n.ticks(1)
    n.peer = dict(HEALTHY_PEER, holds_vip=True)
    n.monitor.schedule_release(n.now, 'a test')
    assert n.monitor.release_at == n.now + 3.0

    def slow_pings(timeout):
        n.now += 3.1  # the check waited this long for Apache and the ping nodes: the release came due meanwhile
        return n.pings
    monkeypatch.setattr(n.monitor.pinger, 'collect', slow_pings)
    n.monitor.tick()
    assert n.actions == ['delete VIP', 'silence send_arp']
    # The rest of the check reads what the node holds after the release.
    assert n.monitor.holds is False
    page = json.loads(open(n.monitor.cfg['status_file'], encoding='utf-8').read())
    assert page['holds_vip'] is False


# --- keepalived: the hand-over through the track file, taking part again, the config test ---------------------

class KeepalivedNode:
    """The world around a monitor of a keepalived node: the real adapter (node_engine.KeepalivedNode) with its track
    file and the notify script's state file in tmp_path, keepalived's unit and the kernel faked. By default the
    other node (loadb2) of a pair whose preferred node is loadb1."""

    def __init__(self, monkeypatch, tmp_path, **cfg):
        run_dir = tmp_path / 'hapair-keepalived'
        run_dir.mkdir()
        engine = {'engine': 'keepalived', 'service': 'keepalived', 'track_file': str(run_dir / 'track'),
                  'state_file': str(run_dir / 'state'), 'writes': [str(run_dir)], 'vip': '198.51.100.10'}
        config = dict(monitor_module.DEFAULTS, node='loadb2', peer='loadb1', preferred='loadb1', vip='198.51.100.10',
                      vip_interface='eth0', peer_addresses=['198.51.100.75'], ping_nodes=['198.51.100.1'],
                      status_file=str(tmp_path / 'health.json'), engine=engine, keep_file=str(tmp_path / 'keep-vip'))
        config.update(cfg)
        self.track_file, self.state_file = engine['track_file'], engine['state_file']
        self.apache = 'ok'
        self.pings = len(config['ping_nodes'])
        self.holds = False
        self.running = True
        self.peer = dict(HEALTHY_PEER, holds_vip=True)
        self.now = 1000.0
        self.logged = []
        self.commands = []
        monkeypatch.setattr(monitor_module.time, 'monotonic', lambda: self.now)
        monkeypatch.setattr(monitor_module, 'holds_vip', lambda vip: self.holds)
        monkeypatch.setattr(monitor_module, 'log', lambda level, message, **fields: self.logged.append(message))
        monkeypatch.setattr(monitor_module.node_engine, 'unit_state',
                            lambda unit, timeout=5.0: 'active' if self.running else 'inactive')
        monkeypatch.setattr(monitor_module.node_engine, 'holds_address', lambda address, timeout=5.0: self.holds)
        monkeypatch.setattr(monitor_module.node_engine, 'run', lambda argv, timeout: self.commands.append(argv) or (0, ''))
        self.monitor = monitor_module.Monitor(config)
        monkeypatch.setattr(self.monitor, 'check_local', lambda: (self.apache, 0.001))
        monkeypatch.setattr(self.monitor.pinger, 'send', lambda: None)
        monkeypatch.setattr(self.monitor.pinger, 'collect', lambda timeout: self.pings)
        monkeypatch.setattr(self.monitor, 'peer', lambda timeout=None: dict(self.peer))
        self.monitor.arp = FakeArp(self)
        self.actions = []

    def vrrp(self, state, holds='as keepalived says'):
        """keepalived's state, as its notify script writes it, and the VIP in the kernel (MASTER holds it; None: the
        kernel cannot be read)."""
        with open(self.state_file, 'w', encoding='ascii') as handle:
            handle.write(state + '\n')
        self.holds = state == 'MASTER' if holds == 'as keepalived says' else holds

    def track(self):
        try:
            with open(self.track_file, encoding='ascii') as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def keepalived_reads_the_track_file(self):
        """What keepalived does with the file (weight 0): anything but 0 is FAULT, which releases the VIP; 0 lifts
        it, to BACKUP (the peer is master)."""
        self.vrrp('BACKUP' if self.track() in (None, '0\n') else 'FAULT')

    def ticks(self, count, seconds=1.0):
        for _tick in range(count):
            self.monitor.tick()
            self.now += seconds

    def decisions(self):
        return [m for m in self.logged if m.startswith('decision: ') and not m.startswith('decision: keep as is')]


@pytest.fixture
def keepalived(monkeypatch, tmp_path):
    return lambda **cfg: KeepalivedNode(monkeypatch, tmp_path, **cfg)


def test_a_keepalived_holder_hands_over_by_writing_1_to_the_track_file(keepalived):
    k = keepalived(node='loadb1', peer='loadb2', peer_addresses=['198.51.100.76'])
    k.vrrp('MASTER')
    k.peer = dict(HEALTHY_PEER, holds_vip=False)
    k.ticks(5)
    assert k.track() is None and k.decisions() == []
    k.apache = 'ConnectionRefusedError: refused'
    k.ticks(2)
    assert k.track() is None
    k.ticks(1)
    assert k.track() == '1\n' and [d.split(':')[1] for d in k.decisions()] == [' give up the VIP']
    # Written whole: no temporary file is left beside it; and no command ran (keepalived reads the file).
    assert sorted(os.listdir(os.path.dirname(k.track_file))) == ['state', 'track'] and k.commands == []
    k.keepalived_reads_the_track_file()
    assert k.holds is False and k.monitor.engine.vrrp_state() == 'FAULT'


@pytest.mark.parametrize('state', ['FAULT', 'STOP'])
def test_a_keepalived_holder_that_does_not_take_part_hands_nothing_over(keepalived, state):
    """The kernel still has the VIP but keepalived is in FAULT or stopping: it takes no part, so the engine does not
    see the peer active (VRRP keeps no view of the peer) and nothing is handed over."""
    k = keepalived(node='loadb1', peer='loadb2')
    k.vrrp(state, holds=True)
    k.apache = 'refused'
    k.peer = dict(HEALTHY_PEER, holds_vip=False)
    k.ticks(5)
    assert k.track() is None and k.decisions() == []


def test_a_stopped_keepalived_is_not_asked_to_hand_over(keepalived):
    k = keepalived(node='loadb1', peer='loadb2')
    k.vrrp('MASTER')
    k.running = False
    k.apache = 'refused'
    k.peer = dict(HEALTHY_PEER, holds_vip=False)
    k.ticks(5)
    assert k.track() is None
    page = json.loads(open(k.monitor.cfg['status_file'], encoding='utf-8').read())
    assert page['engine'] == 'stopped' and page['holds_vip'] is True


# One tick of a node that holds nothing, its Apache, ping nodes and track file as given, `good` healthy checks in a
# row before it, `since_giveup` seconds since it gave the VIP up and `since_action` since its last action (rises 3,
# holddown 10, action_timeout 10 by default) -> what it decided and what the track file holds after it.
LIFT = 'decision: take part again'
OTHER, PREFERRED = {}, {'node': 'loadb1', 'peer': 'loadb2', 'peer_addresses': ['198.51.100.76']}
# (name, cfg, apache, pings, holds, track, good, since_giveup, since_action, decisions, track after)
LIFT_TABLE = [
    ('healthy long enough: takes part again', OTHER, 'ok', 1, False, '1\n', 2, 30, 30, [LIFT], '0\n'),
    ('healthy for fewer than rises checks', OTHER, 'ok', 1, False, '1\n', 1, 30, 30, [], '1\n'),
    ('within the holddown since giving up', OTHER, 'ok', 1, False, '1\n', 2, 9.5, 30, [], '1\n'),
    ('within the action timeout of its last action', OTHER, 'ok', 1, False, '1\n', 2, 30, 9.5, [], '1\n'),
    ('Apache still fails', OTHER, 'HTTP 503', 1, False, '1\n', 2, 30, 30, [], '1\n'),
    ('the public link is still down', OTHER, 'ok', 0, False, '1\n', 2, 30, 30, [], '1\n'),
    ('it holds the VIP (a holder gives up, it does not lift)', OTHER, 'ok', 1, True, '1\n', 2, 30, 30, [], '1\n'),
    ('the kernel cannot be read', OTHER, 'ok', 1, None, '1\n', 2, 30, 30, [], '1\n'),
    ('nothing held back: nothing to lift', OTHER, 'ok', 1, False, '0\n', 2, 30, 30, [], '0\n'),
    ('no track file: nothing to lift, none written', OTHER, 'ok', 1, False, None, 2, 30, 30, [], None),
    ('anything but 0 holds back, and is lifted', OTHER, 'ok', 1, False, '2\n', 2, 30, 30, [LIFT], '0\n'),
    ('a monitor that restarted since the give-up lifts once healthy', OTHER, 'ok', 1, False, '1\n', 2, 1e9, 1e9,
     [LIFT], '0\n'),
    ('the preferred node without auto_failback takes part again', dict(PREFERRED, auto_failback=False), 'ok', 1,
     False, '1\n', 2, 30, 30, [LIFT], '0\n'),
    ('the preferred node with auto_failback waits for its failback instead', PREFERRED, 'ok', 1, False, '1\n', 2, 30,
     30, [], '1\n'),
    ('without ping nodes Apache alone counts', dict(OTHER, ping_nodes=[]), 'ok', 0, False, '1\n', 2, 30, 30, [LIFT],
     '0\n'),
    ('the holddown can be set', dict(OTHER, holddown=60.0), 'ok', 1, False, '1\n', 2, 30, 30, [], '1\n'),
    ('so can rises', dict(OTHER, rises=1), 'ok', 1, False, '1\n', 0, 30, 30, [LIFT], '0\n'),
]


@pytest.mark.parametrize('name, cfg, apache, pings, holds, track, good, since_giveup, since_action, decisions, after',
                         LIFT_TABLE, ids=[row[0] for row in LIFT_TABLE])
def test_consider_lift(keepalived, name, cfg, apache, pings, holds, track, good, since_giveup, since_action,
                       decisions, after):
    k = keepalived(**cfg)
    k.vrrp('FAULT' if track not in (None, '0\n') else 'BACKUP', holds=holds)
    if track is not None:
        with open(k.track_file, 'w', encoding='ascii') as handle:
            handle.write(track)
    k.peer = dict(HEALTHY_PEER, holds_vip=True)
    k.apache, k.pings = apache, pings
    k.monitor.good = good
    k.monitor.last_giveup = k.now - since_giveup
    k.monitor.last_action = k.now - since_action
    k.monitor.tick()
    assert [d.split(':')[0] + ': ' + d.split(':')[1].strip() for d in k.decisions()] == decisions, name
    assert k.track() == after, name


def test_the_other_node_gives_up_then_takes_part_again_after_the_holddown(keepalived):
    """The whole round on the node that is not to take the VIP back: FAULT while it cannot serve, BACKUP again once
    it has been healthy for rises checks and the holddown has passed since its give-up."""
    k = keepalived(holddown=10.0, rises=3)
    k.vrrp('MASTER')
    k.peer = dict(HEALTHY_PEER, holds_vip=False)
    k.apache = 'refused'
    k.ticks(3)
    assert k.track() == '1\n'
    k.keepalived_reads_the_track_file()
    k.peer = dict(HEALTHY_PEER, holds_vip=True)
    k.apache = 'ok'
    # Given up at 1002; healthy from 1003: three checks by 1005, but the holddown lasts until 1012.
    k.ticks(9)
    assert k.track() == '1\n' and k.monitor.engine.given_up()
    k.ticks(1)
    assert k.track() == '0\n' and k.decisions()[-1].startswith(LIFT)
    k.keepalived_reads_the_track_file()
    assert k.monitor.engine.vrrp_state() == 'BACKUP' and not k.monitor.engine.given_up()
    k.ticks(30)
    assert len([d for d in k.decisions() if d.startswith(LIFT)]) == 1 and k.track() == '0\n'


def test_the_preferred_keepalived_node_takes_the_vip_back_by_lifting_its_fault(keepalived):
    """With auto_failback the preferred node, held back by its own give-up, takes part again through its failback
    (failback_delay, the peer's ping nodes): keepalived's preemption then brings the VIP back."""
    k = keepalived(node='loadb1', peer='loadb2', peer_addresses=['198.51.100.76'], failback_delay=5.0, holddown=10.0)
    k.vrrp('MASTER')
    k.peer = dict(HEALTHY_PEER, holds_vip=False)
    k.apache = 'refused'
    k.ticks(3)
    assert k.track() == '1\n'
    k.keepalived_reads_the_track_file()
    k.peer = dict(HEALTHY_PEER, holds_vip=True)
    k.apache = 'ok'
    # As heartbeat's take-back (test_the_preferred_node_takes_the_vip_back_after_rises_delay_and_holddown): at 1017.
    k.ticks(14)
    assert k.track() == '1\n'
    k.ticks(1)
    assert k.track() == '0\n' and k.decisions()[-1].startswith('decision: take the VIP back (auto_failback)')
    assert not any(d.startswith(LIFT) for d in k.decisions())


def test_the_preferred_keepalived_node_stays_held_back_while_the_peer_reaches_more(keepalived):
    k = keepalived(node='loadb1', peer='loadb2', peer_addresses=['198.51.100.76'],
                   ping_nodes=['198.51.100.1', '198.51.100.2'])
    k.vrrp('FAULT')
    with open(k.track_file, 'w', encoding='ascii') as handle:
        handle.write('1\n')
    k.pings = 1
    k.peer = dict(HEALTHY_PEER, holds_vip=True, ping_ok=2)
    k.ticks(30)
    assert k.track() == '1\n' and k.decisions() == []


def test_keepalived_two_holders_are_left_to_vrrp(keepalived):
    """keepalived does not restart after a partition (restarts_after_partition false): VRRP keeps the higher
    priority, so the other node never lets a second holding go itself."""
    k = keepalived(release_drain=0.2, release_wait=3.0)
    k.vrrp('MASTER')
    k.peer = dict(HEALTHY_PEER, holds_vip=True)
    k.ticks(5)
    k.monitor.release_due(k.now + 4)
    assert k.commands == [] and k.holds is True and k.decisions() == []


def test_keepalived_s_release_after_an_unclean_stop_takes_the_vip_off(monkeypatch, tmp_path):
    ran = []
    monkeypatch.setattr(monitor_module.node_engine, 'run', lambda argv, timeout: ran.append(argv) or (0, ''))
    monkeypatch.setattr(monitor_module, 'log', lambda level, message, **fields: None)
    cfg = dict(monitor_module.DEFAULTS, engine={'engine': 'keepalived'}, vip='198.51.100.10', vip_prefix=26,
               vip_interface='eth0', keep_file=str(tmp_path / 'keep-vip'))
    assert monitor_module.release('success', cfg) == 0 and ran == []
    assert monitor_module.release('signal', cfg) == 0
    assert ran == [['ip', '-4', 'addr', 'del', '198.51.100.10/26', 'dev', 'eth0']]


class _KeepalivedConfigTest:
    """keepalived 2.2.7's --config-test: writes what it found to the log file its option names, then kills its
    process group, so it exits 143 (or dies of SIGTERM) whatever it found."""

    def __init__(self, monkeypatch, returncode, logged):
        self.argv = None

        def run(argv, **kwargs):
            self.argv = argv
            with open(argv[1].split('=', 1)[1], 'w', encoding='utf-8') as handle:
                handle.write(logged)
            return subprocess.CompletedProcess(argv, returncode, stdout='')
        monkeypatch.setattr(monitor_module.node_engine.subprocess, 'run', run)


@pytest.mark.parametrize('returncode, logged, status, printed', [
    (143, '', 0, ''),                                         # killed its group as always, logged nothing: valid
    (-15, '', 0, ''),
    (143, "Unknown keyword 'vrrp_instanse'\n", 1, "Unknown keyword 'vrrp_instanse'\n"),
    (-15, 'bad ip\nno interface\n', 1, 'bad ip\nno interface\n'),
    (2, '', 1, 'keepalived --config-test exited 2: \n'),
])
def test_engine_config_test_takes_keepalived_s_log_as_the_verdict(
        monkeypatch, capsys, returncode, logged, status, printed):
    test = _KeepalivedConfigTest(monkeypatch, returncode, logged)
    monkeypatch.setattr(sys, 'argv', ['hapair-monitor', '--engine', 'keepalived', 'engine-config-test', '/tmp/k.conf'])
    assert monitor_module.main() == status
    assert test.argv[2:] == ['-f', '/tmp/k.conf'] and capsys.readouterr().out == printed


def test_engine_config_test_checks_keepalived_by_default_and_reads_no_settings(monkeypatch, capsys, tmp_path):
    """The template's validate: runs it before the monitor's settings exist on a fresh node."""
    test = _KeepalivedConfigTest(monkeypatch, 143, '')
    monkeypatch.setattr(sys, 'argv', ['hapair-monitor', '--config', str(tmp_path / 'none.json'), 'engine-config-test',
                                      '/tmp/k.conf'])
    assert monitor_module.main() == 0 and test.argv[0] == 'keepalived'


def test_heartbeat_has_no_config_test_of_its_own(capsys):
    assert monitor_module.engine_config_test('heartbeat', '/etc/ha.d/ha.cf') == 0
    assert capsys.readouterr().out == 'heartbeat has no check of its own; nothing to do\n'


@pytest.mark.parametrize('argv', [['engine-config-test'], ['--engine', 'carp', 'engine-config-test', '/tmp/k.conf']])
def test_engine_config_test_refuses_a_call_it_cannot_answer_with_a_usage_error(monkeypatch, capsys, argv):
    """A missing file or an unknown engine is the caller's mistake: a usage message and status 2, not a traceback."""
    monkeypatch.setattr(monitor_module.node_engine.subprocess, 'run', lambda *a, **k: pytest.fail('keepalived ran'))
    monkeypatch.setattr(sys, 'argv', ['hapair-monitor'] + argv)
    with pytest.raises(SystemExit) as raised:
        monitor_module.main()
    assert raised.value.code == 2 and 'engine-config-test' in capsys.readouterr().err


# --- the event loop ------------------------------------------------------------------------------------------

class FakeSources:
    """Stands in for Sources: records each wait (the clock then, the timeout)."""

    waits = []

    def __init__(self, monitor):
        self.monitor = monitor

    def wait(self, timeout):
        FakeSources.waits.append((self.monitor.clock(), timeout))

    def close(self):
        pass


def test_the_loop_looks_at_its_sources_between_two_checks_that_each_take_the_whole_interval(node, monkeypatch):
    """A check can take as long as the interval (in a split every read of the peer waits for its timeout, and heartbeat's
    cl_status answers slowly while it handles the heal). The checks then ran back to back, and the engine's log line of
    a healed partition and the preferred node's announcement waited behind them: the other node let the VIP go up to
    2.1 s after the heal. After every check the loop looks at its sources, at once if the next check is due."""
    n = node()
    n.monitor.clock = lambda: n.now
    checks = []

    def slow_check():
        checks.append(n.now)
        n.now += 1.2                         # longer than the interval (1 s)
        if len(checks) == 3:
            n.monitor.stopping = True

    monkeypatch.setattr(n.monitor, 'tick', slow_check)
    monkeypatch.setattr(n.monitor, 'report', lambda: None)
    monkeypatch.setattr(monitor_module, 'sd_notify', lambda message: None)
    monkeypatch.setattr(monitor_module, 'Sources', FakeSources)
    FakeSources.waits = []
    n.monitor.run()
    assert checks == pytest.approx([1000.0, 1001.2, 1002.4])
    # A look after each check, each at once: the next check was due.
    assert [when for when, timeout in FakeSources.waits] == pytest.approx([1001.2, 1002.4, 1003.6])
    assert [timeout for when, timeout in FakeSources.waits] == [0.0, 0.0, 0.0]


# --- no node holds the VIP: the rescue (a hung heartbeat restart) --------------------------------------------

def test_the_preferred_node_takes_the_vip_when_no_node_has_held_it_for_rescue_after(node):
    n = node(rescue_after=15.0)
    n.holds = False
    n.hb = {'running': False, 'rsc': None, 'peer': None}      # heartbeat hung in its restart and was killed
    n.ticks(15)
    assert n.actions == []
    n.ticks(2)
    assert n.actions == ['add VIP', 'announce'] and n.holds is True
    page = json.loads(open(n.monitor.cfg['status_file'], encoding='utf-8').read())
    assert page['last_decision']['reason'] == 'no_holder'
    # It holds the VIP now: nothing more.
    n.ticks(20)
    assert n.actions == ['add VIP', 'announce']


@pytest.mark.parametrize('change', [
    {'peer': dict(HEALTHY_PEER, holds_vip=True)},                     # the peer holds it: the engine moved it there
    {'peer': dict(HEALTHY_PEER, holds_vip=False, recent=False)},      # the peer's page is too old to say
    {'peer': {'reachable': False, 'errors': ['timeout'], 'apache_ok': False, 'ping_ok': 0, 'fresh': False,
              'recent': False}},                                      # a split: the peer may hold it
    {'peer': dict(HEALTHY_PEER, holds_vip=False, maintenance=True)},  # a move on purpose
    {'peer': dict(HEALTHY_PEER, holds_vip=False, claim={'since': 1})},
    {'apache': 'ConnectionRefusedError: refused'},                    # this node cannot serve the site
    {'cfg': {'node': 'loadb2', 'peer': 'loadb1'}},                    # not the preferred node
    {'engine': 'keepalived'},                                         # VRRP elects a master by itself
])
def test_no_rescue_unless_the_preferred_node_is_healthy_and_the_peer_says_it_holds_nothing(node, monkeypatch, change):
    n = node(rescue_after=15.0, **change.get('cfg', {}))
    n.holds = False
    n.hb = {'running': False, 'rsc': None, 'peer': None}
    n.peer = change.get('peer', n.peer)
    n.apache = change.get('apache', n.apache)
    if change.get('engine'):
        monkeypatch.setattr(n.monitor.engine, 'restarts_after_partition', False)
    n.ticks(40)
    assert 'add VIP' not in n.actions


def test_the_rescue_waits_for_rescue_after_without_a_holder_in_a_row(node):
    n = node(rescue_after=15.0)
    n.holds = False
    n.hb = {'running': False, 'rsc': None, 'peer': None}
    n.ticks(10)
    n.peer = dict(HEALTHY_PEER, holds_vip=True)       # the engine moved it to the peer meanwhile
    n.ticks(1)
    n.peer = dict(HEALTHY_PEER, holds_vip=False)      # and it left the peer again
    n.ticks(15)
    assert n.actions == []
    n.ticks(2)
    assert n.actions == ['add VIP', 'announce']


def test_the_rescue_adds_no_read_of_the_peer_to_a_check(node, monkeypatch):
    # The rescue and the take-back both look at the peer's page: one read serves both, so no check reads the peer more
    # often than the take-back's checks on an engine without the rescue (the maintenance controller's own read, once
    # a check, is the other); the rescue reads it in the checks before the take-back would (rises, action_timeout).
    def reads_per_check(rescue):
        n = node(failback_delay=5, holddown=10)
        if not rescue:
            monkeypatch.setattr(n.monitor.engine, 'restarts_after_partition', False)
        n.holds = False
        n.hb = {'running': True, 'rsc': 'none', 'peer': 'active'}
        n.peer = dict(HEALTHY_PEER, holds_vip=True)
        counts = []
        for _tick in range(20):
            before = len(n.peer_reads)
            n.ticks(1)
            counts.append(len(n.peer_reads) - before)
        assert 'hb_takeover local' in n.actions
        return counts
    with_rescue, without = reads_per_check(rescue=True), reads_per_check(rescue=False)
    assert max(with_rescue) == max(without) == 2, (with_rescue, without)
