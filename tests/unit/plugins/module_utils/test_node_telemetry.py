# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hapair-monitor's metrics and notifications (module_utils/node_telemetry.py). The metrics are read back with
Prometheus' own text-format parser (prometheus_client, pinned in requirements-dev.txt), not with our own."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ansible_collections.hapair.loadbalancer.plugins.module_utils import node_telemetry as nt

CFG = {'pair': 'pair1', 'node': 'loadb1', 'preferred': 'loadb1', 'vip': '198.51.100.10',
       'engine': {'engine': 'heartbeat'}, 'ping_nodes': ['198.51.100.1'], 'metrics_file': ''}
# Prometheus' naming conventions: snake case with the hapair_ prefix, base units, _total only on counters.
NAME = re.compile(r'^hapair_[a-z0-9_]+$')


class Clock:
    def __init__(self):
        self.now = 1000.0
        self.wall = 1800000000.0

    def advance(self, seconds):
        self.now += seconds
        self.wall += seconds


class Recorder:
    """A Notifier stand-in that keeps what it was sent."""

    def __init__(self):
        self.sent = []

    def send(self, env):
        self.sent.append(env)

    def counts(self):
        return 3, {'timeout': 1}

    def stop(self):
        pass


def families(text):
    """{name: {(label tuples): value}} by the reference parser (sample names, so counters keep their _total)."""
    result = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            result.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return result


def telemetry(tmp_path=None, notifier=None, **cfg):
    clock = Clock()
    config = dict(CFG, **cfg)
    if tmp_path is not None:
        config['metrics_file'] = str(tmp_path / 'hapair.prom')
    logged = []
    t = nt.Telemetry(config, lambda level, message, **fields: logged.append((level, message, fields)),
                     notifier=notifier or Recorder(), clock=lambda: clock.now, wall=lambda: clock.wall)
    return t, clock, logged


def test_every_metric_follows_the_conventions_and_parses_with_prometheus_own_parser():
    t, dummy, dummy_log = telemetry()
    t.observe(holds=True, engine_up=True, apache_ok=True, ping_ok=1, healthy=True, maintenance=False)
    text = t.render()
    parsed = list(text_string_to_metric_families(text))
    names = set(nt.HELP)
    assert {f.name if f.type != 'counter' else f.name + '_total' for f in parsed} == names
    for family in parsed:
        assert NAME.match(family.name) and family.documentation
        assert (family.type == 'counter') == (nt.HELP[family.name + ('_total' if family.type == 'counter' else '')][0]
                                              == 'counter')
        for sample in family.samples:
            assert sample.labels['pair'] == 'pair1' and sample.labels['node'] == 'loadb1'
    for name, (kind, dummy_help) in nt.HELP.items():
        assert name.endswith('_total') == (kind == 'counter'), name
        assert not re.search(r'_(ms|milliseconds|minutes|hours)\b', name)
    values = families(text)
    labels = (('node', 'loadb1'), ('pair', 'pair1'))
    assert values['hapair_vip_held'][labels] == 1 and values['hapair_engine_up'][(('engine', 'heartbeat'),) + labels] == 1
    assert values['hapair_ping_nodes_reachable'][labels] == 1 and values['hapair_ping_nodes'][labels] == 1
    assert values['hapair_maintenance'][labels] == 0
    assert values['hapair_node_info'][(('engine', 'heartbeat'),) + labels + (('preferred', 'true'),)] == 1
    assert values['hapair_notify_runs_total'][labels] == 3
    assert values['hapair_notify_failures_total'][labels + (('reason', 'timeout'),)] == 1


def test_label_values_are_escaped():
    assert nt.escape('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    t, dummy, dummy_log = telemetry(pair='we"ird\\pair')
    values = families(t.render())
    assert any(dict(labels)['pair'] == 'we"ird\\pair' for labels in values['hapair_vip_held'])


def test_transitions_are_counted_by_direction_and_reason_and_the_last_one_is_timed():
    t, clock, dummy = telemetry()
    t.observe(holds=True)                      # the state at the start is no transition
    assert t.pending == []
    t.decision('give_up', 'apache_failed', 'Apache failed 3 checks in a row')
    clock.advance(0.4)
    t.vip_changed(False)
    t.vip_changed(False)                       # the same again is nothing new
    t.resolve()
    clock.advance(20)
    t.decision('take_back', 'failback')
    t.vip_changed(True)
    t.resolve()
    values = families(t.render())
    labels = (('node', 'loadb1'), ('pair', 'pair1'))
    transitions = values['hapair_vip_transitions_total']
    assert transitions[(('direction', 'lost'),) + labels + (('reason', 'apache_failed'),)] == 1
    assert transitions[(('direction', 'gained'),) + labels + (('reason', 'failback'),)] == 1
    assert values['hapair_vip_last_transition_timestamp_seconds'][labels] == pytest.approx(clock.wall)
    assert values['hapair_monitor_last_decision_info'][(('decision', 'take_back'),) + labels
                                                       + (('reason', 'failback'),)] == 1
    assert values['hapair_monitor_decisions_total'][(('decision', 'give_up'),) + labels
                                                    + (('reason', 'apache_failed'),)] == 1
    page = t.page()
    assert page['last_transition']['direction'] == 'gained' and page['last_transition']['reason'] == 'failback'
    assert page['last_decision']['decision'] == 'take_back' and page['transitions'] == 2
    t.decision('keep', 'blocked')
    assert t.page()['last_decision']['decision'] == 'keep' and t.page()['last_move']['decision'] == 'take_back'


@pytest.mark.parametrize('gained, decisions, peer, engine_up, reason', [
    # This node's own decision, recent enough, that moves the VIP that way.
    (False, [('give_up', 'ping_nodes_lost', 1)], None, True, 'ping_nodes_lost'),
    (True, [('claim', 'peer_maintenance', 1)], None, True, 'peer_maintenance'),
    (False, [('stay_out', 'maintenance', 1)], None, True, 'maintenance'),
    # A decision the other way, or too old, explains nothing.
    (False, [('take_back', 'failback', 1)], None, True, 'engine'),
    (False, [('give_up', 'apache_failed', 31)], None, False, 'engine_stopped'),
    # The peer's decision, aged on its own clock (its page's age added).
    (True, [], {'reachable': True, 'age': 0.5,
                'last_decision': {'decision': 'give_up', 'reason': 'apache_failed', 'age': 1.0}},
     True, 'peer_apache_failed'),
    (False, [], {'reachable': True, 'age': 0.5,
                 'last_decision': {'decision': 'claim', 'reason': 'maintenance_left', 'age': 2.0}},
     True, 'peer_maintenance_left'),
    (False, [], {'reachable': True, 'age': 0.5,
                 'last_decision': {'decision': 'claim', 'reason': 'peer_maintenance', 'age': 2.0}},
     True, 'peer_maintenance'),
    (True, [], {'reachable': True, 'age': 0.5,
                'last_decision': {'decision': 'give_up', 'reason': 'apache_failed', 'age': 40.0}},
     True, 'engine'),
    # The peer's last decision that moved the VIP, even when a decision to keep things came after it.
    (False, [], {'reachable': True, 'age': 0.5,
                 'last_decision': {'decision': 'keep', 'reason': 'blocked', 'age': 1.0},
                 'last_move': {'decision': 'take_back', 'reason': 'failback', 'age': 3.5}},
     True, 'peer_failback'),
    # The engine alone.
    (True, [], {'reachable': False}, True, 'peer_unreachable'),
    (False, [], {'reachable': True}, False, 'engine_stopped'),
    (True, [], {'reachable': True}, True, 'engine'),
])
def test_why_the_vip_moved(gained, decisions, peer, engine_up, reason):
    now = 1000.0
    made = [{'decision': d, 'reason': r, 'at': now - ago} for d, r, ago in decisions]
    assert nt.explain(gained, made, now, peer, engine_up) == reason


def test_the_peer_is_read_only_when_no_decision_here_explains_a_transition():
    t, clock, dummy = telemetry()
    t.observe(holds=False)
    t.vip_changed(True)
    assert t.needs_peer()
    clock.advance(nt.PEER_PATIENCE)
    t.resolve({'reachable': False})
    assert t.pending == []
    t.decision('give_up', 'apache_failed')
    t.vip_changed(False)
    assert not t.needs_peer()


def test_a_vip_gained_while_the_peers_page_is_unreadable_waits_for_the_page_then_says_unreachable():
    recorder = Recorder()
    t, clock, dummy = telemetry(notifier=recorder)
    t.observe(holds=False, engine_up=True)
    t.vip_changed(True)
    t.resolve({'reachable': False})                 # the peer's Apache (its page) is down: no reason yet
    clock.advance(nt.PEER_PATIENCE / 2)
    t.vip_changed(False)                            # what follows waits behind it, in order
    t.resolve({'reachable': False})
    assert len(t.pending) == 2 and recorder.sent == []
    clock.advance(1.0)                              # the page answers again: the peer's own decision names the reason
    t.resolve({'reachable': True, 'age': 0.5, 'last_move': {'decision': 'give_up', 'reason': 'apache_failed',
                                                            'age': nt.PEER_PATIENCE / 2 + 1.5}})
    assert [(e['HAPAIR_EVENT'], e['HAPAIR_REASON']) for e in recorder.sent] == [
        ('vip_gained', 'peer_apache_failed'), ('vip_lost', 'engine')]
    # A peer that stays silent: unreachable once the patience is over, not before.
    t.vip_changed(True)
    clock.advance(nt.PEER_PATIENCE - 0.1)
    t.resolve({'reachable': False})
    assert len(t.pending) == 1
    clock.advance(0.1)
    t.resolve({'reachable': False})
    assert t.pending == [] and recorder.sent[-1]['HAPAIR_REASON'] == 'peer_unreachable'
    assert t.transition_counts[('gained', 'peer_unreachable')] == 1


def test_every_decision_and_transition_is_notified_with_its_environment():
    recorder = Recorder()
    t, clock, dummy = telemetry(notifier=recorder)
    t.observe(holds=True, maintenance=True)
    t.decision('stay_out', 'maintenance', 'in maintenance')
    t.vip_changed(False)
    t.resolve()
    assert [(e['HAPAIR_KIND'], e['HAPAIR_EVENT'], e['HAPAIR_REASON']) for e in recorder.sent] == [
        ('decision', 'stay_out', 'maintenance'), ('transition', 'vip_lost', 'maintenance')]
    env = recorder.sent[-1]
    assert env['HAPAIR_PAIR'] == 'pair1' and env['HAPAIR_NODE'] == 'loadb1' and env['HAPAIR_ENGINE'] == 'heartbeat'
    assert env['HAPAIR_VIP'] == '198.51.100.10' and env['HAPAIR_HOLDS_VIP'] == '0' and env['HAPAIR_MAINTENANCE'] == '1'
    assert float(env['HAPAIR_TIME']) == pytest.approx(clock.wall)


def test_the_metrics_file_is_written_atomically_only_on_change_or_every_refresh(tmp_path, monkeypatch):
    t, clock, dummy = telemetry(tmp_path)
    path = tmp_path / 'hapair.prom'
    replaced = []
    real_replace = os.replace
    monkeypatch.setattr(nt.os, 'replace', lambda src, dst: (replaced.append((src, dst)), real_replace(src, dst)))
    t.observe(holds=True, engine_up=True)
    assert t.write() is True and path.exists()
    assert oct(stat.S_IMODE(os.stat(str(path)).st_mode)) == '0o644'
    src, dst = replaced[0]
    assert os.path.dirname(src) == str(tmp_path) and not src.endswith('.prom') and dst == str(path)
    assert sorted(os.listdir(str(tmp_path))) == ['hapair.prom']
    clock.advance(1)
    t.observe(holds=True, engine_up=True)
    assert t.write() is False                   # only the check time moved
    t.observe(holds=True, engine_up=False)
    assert t.write() is True                    # something changed
    clock.advance(nt.METRICS_REFRESH)
    t.observe(holds=True, engine_up=False)
    assert t.write() is True                    # the refresh
    assert families(path.read_text())['hapair_engine_up'][(('engine', 'heartbeat'), ('node', 'loadb1'),
                                                           ('pair', 'pair1'))] == 0


def test_a_metrics_file_that_cannot_be_written_is_logged_once_and_retried(tmp_path):
    t, clock, logged = telemetry(metrics_file=str(tmp_path / 'missing' / 'hapair.prom'))
    assert t.write() is False and t.write() is False
    assert [m for level, m, dummy in logged if level == 'error'] == ['cannot write the metrics file']
    (tmp_path / 'missing').mkdir()
    assert t.write() is True


def test_no_metrics_file_no_write(tmp_path):
    t, dummy, dummy_log = telemetry()
    assert t.write() is False


# --- the notifier: a real command, in its own thread ---------------------------------------------------------------

def script(tmp_path, body):
    path = tmp_path / 'notify'
    path.write_text('#!%s\n%s' % (sys.executable, body))
    path.chmod(0o755)
    return str(path)


def wait_for(predicate, seconds=10.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_the_notify_command_gets_the_event_in_its_environment_and_never_blocks(tmp_path):
    out = tmp_path / 'events'
    gate = tmp_path / 'gate'
    # The command waits for the gate, which opens only after both send() calls returned: a send() that waited for
    # the command would wait until the notifier's timeout killed it, and no line would ever be written.
    command = script(tmp_path, 'import os, time\nwhile not os.path.exists(%r):\n    time.sleep(0.02)\n'
                               'open(%r, "a").write(" ".join(os.environ.get(k, "-") '
                               'for k in ("HAPAIR_EVENT", "HAPAIR_REASON", "HAPAIR_NODE", "PATH", "NOTIFY_SOCKET")) + '
                               '"\\n")\n' % (str(gate), str(out)))
    logged = []
    notifier = nt.Notifier(command, 20.0, lambda level, message, **fields: logged.append(message))
    notifier.send({'HAPAIR_EVENT': 'vip_lost', 'HAPAIR_REASON': 'maintenance', 'HAPAIR_NODE': 'loadb1'})
    notifier.send({'HAPAIR_EVENT': 'stay_out', 'HAPAIR_REASON': 'maintenance', 'HAPAIR_NODE': 'loadb1'})
    gate.write_text('')
    assert wait_for(lambda: out.exists() and len(out.read_text().splitlines()) == 2, seconds=40.0)
    lines = out.read_text().splitlines()
    assert lines[0].split()[:3] == ['vip_lost', 'maintenance', 'loadb1'] and lines[1].startswith('stay_out ')
    assert lines[0].split()[3] == nt.NOTIFY_PATH and lines[0].split()[4] == '-'   # nothing of the monitor's environment
    assert notifier.counts() == (2, {}) and logged == []
    notifier.stop()


# The exit case's timeout is far above what a busy machine takes to start Python (CI saw over 0.5 s), so that only
# the timeout case can time out; that case sleeps far longer than its timeout.
@pytest.mark.parametrize('body, timeout, reason', [
    ('import sys\nsys.exit(3)\n', 30.0, 'exit'),
    ('import time\ntime.sleep(60)\n', 0.5, 'timeout'),
])
def test_a_failing_notify_command_is_logged_and_counted(tmp_path, body, timeout, reason):
    logged = []
    notifier = nt.Notifier(script(tmp_path, body), timeout, lambda level, message, **fields: logged.append(message))
    notifier.send({'HAPAIR_EVENT': 'vip_gained'})
    assert wait_for(lambda: notifier.counts()[1].get(reason) == 1, seconds=40.0)
    assert notifier.counts() == (1, {reason: 1})
    assert logged and logged[0].startswith('notify command failed')


def test_a_notify_command_that_cannot_run_is_counted(tmp_path):
    notifier = nt.Notifier(str(tmp_path / 'missing'), 1.0, lambda *a, **k: None)
    notifier.send({'HAPAIR_EVENT': 'vip_gained'})
    assert wait_for(lambda: notifier.counts()[1].get('error') == 1)


def test_too_many_waiting_notifications_are_dropped_and_counted():
    def slow(*args, **kwargs):
        time.sleep(0.5)
        return subprocess.CompletedProcess(args, 0, b'')
    notifier = nt.Notifier('/bin/true', 5.0, lambda *a, **k: None, queue_size=2, runner=slow)
    for dummy in range(6):
        notifier.send({'HAPAIR_EVENT': 'vip_gained'})
    assert notifier.counts()[1].get('dropped', 0) >= 3


def test_without_a_command_nothing_runs():
    notifier = nt.Notifier('', 1.0, lambda *a, **k: None)
    notifier.send({'HAPAIR_EVENT': 'vip_gained'})
    assert notifier.thread is None and notifier.counts() == (0, {})


def test_a_decision_explains_one_transition_and_no_later_one():
    """CI 2026-12-06: an engine stop 20 s after Apache's failover and failback was counted as apache_failed on the
    holder, and the peer's gain as peer_apache_failed: both decisions were within EXPLAIN_WINDOW."""
    recorder = Recorder()
    t, clock, dummy = telemetry(notifier=recorder)
    t.observe(holds=True, engine_up=True)
    t.decision('give_up', 'apache_failed')
    t.vip_changed(False)
    t.resolve()
    clock.advance(8.0)
    t.decision('take_back', 'failback')
    t.vip_changed(True)
    t.resolve()
    clock.advance(10.0)
    # The engine stopped: no new decision; the old ones are used up.
    t.observe(engine_up=False)
    t.vip_changed(False)
    assert t.needs_peer()
    t.resolve({'reachable': True})
    clock.advance(5.0)
    t.observe(engine_up=True)
    t.vip_changed(True)
    t.resolve({'reachable': True, 'age': 0.5,
               'last_move': {'decision': 'give_up', 'reason': 'apache_failed', 'age': 23.0}})
    assert [(e['HAPAIR_EVENT'], e['HAPAIR_REASON']) for e in recorder.sent if e['HAPAIR_KIND'] == 'transition'] == [
        ('vip_lost', 'apache_failed'), ('vip_gained', 'failback'), ('vip_lost', 'engine_stopped'),
        ('vip_gained', 'engine')]


def test_the_peers_decision_from_before_the_last_transition_that_way_explains_no_later_one():
    now = 1000.0
    peer = {'reachable': True, 'age': 0.5, 'last_move': {'decision': 'give_up', 'reason': 'apache_failed', 'age': 20.0}}
    # The peer's give_up, 20.5 s ago, explained a gain here 19 s ago; a gain now is the engine's.
    assert nt.explain(True, [], now, peer, True, after=now - 19.0) == 'engine'
    # Without a counted gain since, it explains this one.
    assert nt.explain(True, [], now, peer, True, after=now - 25.0) == 'peer_apache_failed'
    assert nt.explain(True, [], now, peer, True) == 'peer_apache_failed'
