# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What hapair-monitor tells the world about its node: Prometheus metrics and notifications.

Telemetry keeps the node's state as the monitor saw it at its last check, every decision of the monitor and every
time the VIP came to or left this node, with its reason; it writes them in Prometheus' text exposition format to a
file for node_exporter's textfile collector (write(): a temporary file in the same directory, renamed, so the
collector never reads half a file), and hands every decision and VIP transition to a Notifier, which runs the
operator's command (hapair_notify_command) in a thread of its own: the monitor never waits for it.

Why a transition's reason is worked out a check later (resolve()): the kernel reports the VIP coming or going at once,
but why it moved is known to whoever decided - this node's monitor (its decision in the last EXPLAIN_WINDOW seconds),
the peer's monitor (its page's last decision, aged on the peer's own clock), or the engine alone (the peer died, the
engine was stopped). The peer's page is read for that only when this node made no decision that explains it.

Metric names follow Prometheus' conventions: the hapair_ prefix, base units (seconds), _total for counters, every
series labelled with the pair and the node (the README lists them, with example alert rules).

Python 3.8 and the standard library only; imports nothing from the collection (installed as a plain file next to
hapair-monitor).
"""

from __future__ import annotations

import os
import queue
import subprocess
import tempfile
import threading
import time

# How long a decision explains a VIP transition that follows it.
EXPLAIN_WINDOW = 30.0
# A VIP that came while the peer's page could not be read waits this long for that page before its reason is
# peer_unreachable: Apache serves the page, and a stopped Apache (the very fault that moved the VIP) is often started
# again within seconds, its page then telling why the peer let the VIP go. Each check reads the page again meanwhile;
# a transition's count and notification come this much later at most.
PEER_PATIENCE = 10.0
# The metrics file is written when something changed, and at least this often (its check timestamp moves on).
METRICS_REFRESH = 15.0
# Notifications waiting for the command; beyond this many the newest are dropped (and counted).
NOTIFY_QUEUE = 64
# The longest output of the notify command kept for the log.
NOTIFY_OUTPUT = 300
NOTIFY_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

# Which way each decision moves the VIP on the node that makes it.
MOVES = {'give_up': 'lose', 'stay_out': 'lose', 'release': 'lose', 'take_back': 'gain', 'claim': 'gain'}

HELP = {
    'hapair_node_info': ('gauge', "Always 1; the node's engine and whether it is the pair's preferred node, as labels."),
    'hapair_vip_held': ('gauge', 'Whether this node holds the VIP (1) or not (0), as its kernel says.'),
    'hapair_engine_up': ('gauge', "Whether the pair's HA engine runs on this node (1) or not (0)."),
    'hapair_apache_healthy': ('gauge', "Whether this node's Apache answered its health page at the last check."),
    'hapair_ping_nodes_reachable': ('gauge', 'How many ping nodes answered at the last check.'),
    'hapair_ping_nodes': ('gauge', 'How many ping nodes the monitor pings.'),
    'hapair_healthy': ('gauge', 'Whether this node can serve the site: Apache healthy and every ping node reached.'),
    'hapair_maintenance': ('gauge', 'Whether this node is in maintenance (1) or not (0).'),
    'hapair_maintenance_since_timestamp_seconds': ('gauge', 'When this node went into maintenance (0: not in '
                                                            'maintenance), seconds since the epoch.'),
    'hapair_monitor_last_decision_info': ('gauge', "Always 1; the monitor's last decision and its reason, as labels."),
    'hapair_monitor_last_decision_timestamp_seconds': ('gauge', "When the monitor made its last decision, seconds "
                                                                'since the epoch (0: none since it started).'),
    'hapair_monitor_decisions_total': ('counter', "The monitor's decisions since it started, by decision and reason."),
    'hapair_vip_transitions_total': ('counter', 'How often the VIP came to (gained) or left (lost) this node since '
                                                'the monitor started, by reason.'),
    'hapair_vip_last_transition_timestamp_seconds': ('gauge', 'When the VIP last came to or left this node, seconds '
                                                              'since the epoch (0: not since the monitor started).'),
    'hapair_notify_runs_total': ('counter', 'How often the notify command was run.'),
    'hapair_notify_failures_total': ('counter', 'Notifications that failed, by reason: exit (a non-zero exit), '
                                                'timeout, error (it could not run), dropped (too many waiting).'),
    'hapair_monitor_last_check_timestamp_seconds': ('gauge', "When the monitor last checked this node, seconds since "
                                                             'the epoch.'),
    'hapair_monitor_start_time_seconds': ('gauge', 'When the monitor started, seconds since the epoch.'),
}


def escape(value):
    """A label value in Prometheus' text format: backslash, double quote and line feed escaped."""
    return str(value).replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')


def number(value):
    if isinstance(value, bool):
        return '1' if value else '0'
    if isinstance(value, int):
        return str(value)
    text = repr(float(value))
    return text[:-2] if text.endswith('.0') else text


def render(samples):
    """Prometheus text format of [(name, {label: value}, number)], grouped by name in HELP's order, each family with
    its HELP and TYPE lines (also a counter without samples yet, so its name is always there)."""
    lines = []
    by_name = {}
    for name, labels, value in samples:
        by_name.setdefault(name, []).append((labels, value))
    for name, (kind, text) in HELP.items():
        lines.append('# HELP %s %s' % (name, text))
        lines.append('# TYPE %s %s' % (name, kind))
        for labels, value in by_name.get(name, []):
            label_text = ','.join('%s="%s"' % (key, escape(labels[key])) for key in labels)
            lines.append('%s{%s} %s' % (name, label_text, number(value)))
    return '\n'.join(lines) + '\n'


def write_atomically(path, text):
    """Write a file the way node_exporter's textfile collector needs it: a temporary file in the same directory (its
    name not ending in .prom, so the collector skips it), mode 0644, renamed over the old one."""
    directory = os.path.dirname(path) or '.'
    handle, tmp = tempfile.mkstemp(prefix='.hapair-', suffix='.tmp', dir=directory)
    try:
        with os.fdopen(handle, 'w', encoding='utf-8') as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def explain(gained, decisions, now, peer=None, engine_up=True, after=None):
    """Why the VIP came to (gained) or left this node, as a reason label:

    - this node's last decision within EXPLAIN_WINDOW seconds that moves the VIP that way (its reason:
      apache_failed, ping_nodes_lost, failback, maintenance, peer_maintenance, maintenance_left, ...);
    - else the peer's last decision, as its page tells it (age on the peer's clock), that moved it the other way:
      'peer_' + its reason;
    - else the engine alone: peer_unreachable (gained while the peer's page cannot be read), engine_stopped (lost
      while this node's engine does not run), engine.

    decisions: [{'decision', 'reason', 'at' (monotonic)}], newest last; peer: the monitor's view of the peer's page
    (its last_move: the last decision that moved the VIP), or None when it was not read. after: when this node last
    counted a transition the same way (monotonic), or None: a decision from before it, of this node or of the peer,
    explained that transition and explains no other (an engine stop 20 s after Apache's failover was counted as
    apache_failed, CI 2026-12-06)."""
    way = 'gain' if gained else 'lose'
    for decision in reversed(decisions):
        if now - decision['at'] > EXPLAIN_WINDOW or (after is not None and decision['at'] <= after):
            break
        if MOVES.get(decision['decision']) == way:
            return decision['reason']
    if peer is not None:
        last = peer.get('last_move') or peer.get('last_decision') or {}
        age = last.get('age')
        page_age = peer.get('age') or 0.0
        if isinstance(age, (int, float)) and age + page_age <= EXPLAIN_WINDOW \
                and (after is None or now - (age + page_age) > after) \
                and MOVES.get(last.get('decision')) == ('lose' if gained else 'gain') and last.get('reason'):
            reason = str(last['reason'])
            return reason if reason.startswith('peer_') else 'peer_' + reason
        if gained and not peer.get('reachable'):
            return 'peer_unreachable'
    if not gained and not engine_up:
        return 'engine_stopped'
    return 'engine'


class Notifier:
    """Runs the notify command for each event, one at a time, in a thread of its own, with a timeout: send() never
    waits. Failures are logged and counted; so are events dropped because too many were waiting."""

    def __init__(self, command, timeout, log, base_env=None, queue_size=NOTIFY_QUEUE, runner=subprocess.run):
        self.command = command
        self.timeout = timeout
        self.log = log
        self.base_env = dict(base_env or {})
        self.runner = runner
        self.queue = queue.Queue(maxsize=queue_size)
        self.lock = threading.Lock()
        self.runs = 0
        self.failures = {}
        self.thread = None

    def send(self, env):
        if not self.command:
            return
        try:
            self.queue.put_nowait(env)
        except queue.Full:
            self._failed('dropped', 'too many notifications waiting; dropped', env)
            return
        if self.thread is None:
            self.thread = threading.Thread(target=self._work, name='hapair-notify', daemon=True)
            self.thread.start()

    def _failed(self, reason, message, env, **fields):
        with self.lock:
            self.failures[reason] = self.failures.get(reason, 0) + 1
        self.log('warning', 'notify command failed: %s' % message, command=self.command,
                 notify_event=env.get('HAPAIR_EVENT', ''), **fields)

    def _work(self):
        while True:
            env = self.queue.get()
            if env is None:
                return
            self.run_one(env)

    def run_one(self, env):
        full = {'PATH': NOTIFY_PATH, 'LANG': 'C.UTF-8'}
        full.update(self.base_env)
        full.update(env)
        with self.lock:
            self.runs += 1
        try:
            # hapair-monitor's node library runs no AnsibleModule (so no run_command): ansible-test's check is for modules
            done = self.runner([self.command], env=full, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,  # pylint: disable=ansible-bad-function
                               stderr=subprocess.STDOUT, timeout=self.timeout, check=False, close_fds=True)
        except subprocess.TimeoutExpired:
            self._failed('timeout', 'no end within %s s: killed' % self.timeout, env)
            return
        except OSError as exc:
            self._failed('error', str(exc), env)
            return
        output = (done.stdout or b'')
        output = (output.decode('utf-8', 'replace') if isinstance(output, bytes) else str(output)).strip()
        if done.returncode != 0:
            self._failed('exit', 'exit %s' % done.returncode, env, output=output[-NOTIFY_OUTPUT:])
        elif output:
            self.log('debug', 'notify command output', output=output[-NOTIFY_OUTPUT:])

    def counts(self):
        with self.lock:
            return self.runs, dict(self.failures)

    def stop(self, wait=1.0):
        """Let the thread end after what is queued (at most `wait` seconds)."""
        if self.thread is not None:
            try:
                self.queue.put_nowait(None)
            except queue.Full:
                return
            self.thread.join(wait)


class Telemetry:
    """The node's metrics and notifications (see the module's docstring)."""

    def __init__(self, cfg, log, notifier=None, clock=time.monotonic, wall=time.time):
        self.cfg = cfg
        self.log = log
        self.clock = clock
        self.wall = wall
        self.pair = cfg.get('pair') or 'default'
        self.node = cfg['node']
        self.engine = (cfg.get('engine') or {}).get('engine', '')
        self.preferred = cfg.get('node') == cfg.get('preferred')
        self.metrics_file = cfg.get('metrics_file') or ''
        self.notifier = notifier if notifier is not None else Notifier(
            cfg.get('notify_command') or '', float(cfg.get('notify_timeout') or 10.0), log)
        self.started = wall()
        self.state = {'holds': None, 'engine_up': False, 'apache_ok': False, 'ping_ok': 0,
                      'ping_total': len(cfg.get('ping_nodes') or []), 'healthy': False, 'maintenance': False,
                      'maintenance_since': None, 'checked': None}
        self.decisions = []            # [{'decision', 'reason', 'detail', 'at', 'time'}], the last few
        self.decision_counts = {}      # {(decision, reason): n}
        self.transition_counts = {}    # {(direction, reason): n}
        self.last_transition = None    # {'direction', 'reason', 'at', 'time'}
        self.pending = []              # [(gained, at, time)] transitions whose reason is not known yet
        self.explained = {}            # {gained: when the last transition that way was counted (monotonic)}
        self.known_holds = None        # what the last transition (or the first check) said
        self.written = None            # (text without the check time, monotonic time written)
        self.write_error = None

    # -- what happened ----------------------------------------------------------------------------------------------

    def decision(self, decision, reason, detail=''):
        """A decision of the monitor: remembered (it explains the transitions that follow), counted, notified."""
        now, wall = self.clock(), self.wall()
        self.decisions.append({'decision': decision, 'reason': reason, 'detail': detail, 'at': now, 'time': wall})
        del self.decisions[:-20]
        key = (decision, reason)
        self.decision_counts[key] = self.decision_counts.get(key, 0) + 1
        self._notify(decision, reason, detail, wall, kind='decision')

    def vip_changed(self, holds, at=None):
        """The kernel said the VIP came (True) or left (False); a repeat of the known state is ignored."""
        if holds is None or holds == self.known_holds:
            return
        first = self.known_holds is None
        self.known_holds = holds
        if first:
            return  # the state when the monitor started is no transition
        self.pending.append((holds, self.clock() if at is None else at, self.wall()))

    def needs_peer(self):
        """Whether a pending transition needs the peer's page for its reason (no decision of this node explains it)."""
        now = self.clock()
        return any(explain(gained, self.decisions, now, None, True, self.explained.get(gained))
                   in ('engine', 'engine_stopped') for gained, dummy_at, dummy_wall in self.pending)

    def resolve(self, peer=None):
        """Count and notify the pending transitions, in order, with their reasons (explain()); a VIP gained while the
        peer's page cannot be read stays pending (and the ones after it) until the page answers or PEER_PATIENCE is
        over."""
        now = self.clock()
        while self.pending:
            gained, at, wall = self.pending[0]
            reason = explain(gained, self.decisions, now, peer, self.state['engine_up'], self.explained.get(gained))
            if reason == 'peer_unreachable' and now - at < PEER_PATIENCE:
                return
            del self.pending[0]
            self.explained[gained] = now
            direction = 'gained' if gained else 'lost'
            key = (direction, reason)
            self.transition_counts[key] = self.transition_counts.get(key, 0) + 1
            self.last_transition = {'direction': direction, 'reason': reason, 'at': now, 'time': wall}
            self.log('notice', 'the VIP %s this node' % ('came to' if gained else 'left'), reason=reason)
            self._notify('vip_' + direction, reason, 'the VIP %s this node' % ('came to' if gained else 'left'), wall,
                         kind='transition')

    def observe(self, **state):
        """The node's state at a check: holds, engine_up, apache_ok, ping_ok, healthy, maintenance,
        maintenance_since."""
        self.state.update(state)
        self.state['checked'] = self.wall()
        if 'holds' in state:
            self.vip_changed(state['holds'])

    def _notify(self, event, reason, detail, wall, kind):
        self.notifier.send({
            'HAPAIR_PAIR': self.pair, 'HAPAIR_NODE': self.node, 'HAPAIR_EVENT': event, 'HAPAIR_REASON': reason,
            'HAPAIR_TIME': '%.3f' % wall, 'HAPAIR_KIND': kind, 'HAPAIR_DETAIL': detail[:500],
            'HAPAIR_VIP': str(self.cfg.get('vip') or ''), 'HAPAIR_ENGINE': self.engine,
            'HAPAIR_HOLDS_VIP': '1' if self.known_holds else '0',
            'HAPAIR_MAINTENANCE': '1' if self.state.get('maintenance') else '0'})

    # -- what is told -----------------------------------------------------------------------------------------------

    def page(self):
        """For the health page: the last decision and the last transition, with their ages (this node's clock)."""
        now = self.clock()

        def told(decision):
            if decision is None:
                return None
            return {'decision': decision['decision'], 'reason': decision['reason'], 'detail': decision['detail'][:300],
                    'time': round(decision['time'], 3), 'age': round(now - decision['at'], 3)}
        moves = [d for d in self.decisions if d['decision'] in MOVES]
        return {
            'pair': self.pair,
            'engine_name': self.engine,
            'last_decision': told(self.decisions[-1] if self.decisions else None),
            # The peer explains the VIP's transitions on its side with it (explain()).
            'last_move': told(moves[-1] if moves else None),
            'last_transition': dict((k, v) for k, v in self.last_transition.items() if k != 'at') if
            self.last_transition else None,
            'transitions': sum(self.transition_counts.values()),
        }

    def samples(self):
        labels = {'pair': self.pair, 'node': self.node}
        state = self.state

        def with_labels(**extra):
            result = dict(labels)
            result.update(extra)
            return result
        result = [
            ('hapair_node_info', with_labels(engine=self.engine, preferred='true' if self.preferred else 'false'), 1),
            ('hapair_vip_held', labels, 1 if state['holds'] else 0),
            ('hapair_engine_up', with_labels(engine=self.engine), 1 if state['engine_up'] else 0),
            ('hapair_apache_healthy', labels, 1 if state['apache_ok'] else 0),
            ('hapair_ping_nodes_reachable', labels, int(state['ping_ok'] or 0)),
            ('hapair_ping_nodes', labels, int(state['ping_total'] or 0)),
            ('hapair_healthy', labels, 1 if state['healthy'] else 0),
            ('hapair_maintenance', labels, 1 if state['maintenance'] else 0),
            ('hapair_maintenance_since_timestamp_seconds', labels,
             round(state['maintenance_since'], 3) if state['maintenance'] and state['maintenance_since'] else 0),
        ]
        last = self.decisions[-1] if self.decisions else None
        if last:
            result.append(('hapair_monitor_last_decision_info',
                           with_labels(decision=last['decision'], reason=last['reason']), 1))
        result.append(('hapair_monitor_last_decision_timestamp_seconds', labels, round(last['time'], 3) if last else 0))
        for (decision, reason), count in sorted(self.decision_counts.items()):
            result.append(('hapair_monitor_decisions_total', with_labels(decision=decision, reason=reason), count))
        for (direction, reason), count in sorted(self.transition_counts.items()):
            result.append(('hapair_vip_transitions_total', with_labels(direction=direction, reason=reason), count))
        result.append(('hapair_vip_last_transition_timestamp_seconds', labels,
                       round(self.last_transition['time'], 3) if self.last_transition else 0))
        runs, failures = self.notifier.counts()
        result.append(('hapair_notify_runs_total', labels, runs))
        for reason in ('exit', 'timeout', 'error', 'dropped'):
            result.append(('hapair_notify_failures_total', with_labels(reason=reason), failures.get(reason, 0)))
        result.append(('hapair_monitor_start_time_seconds', labels, round(self.started, 3)))
        return result

    def render(self, with_check_time=True):
        samples = self.samples()
        if with_check_time and self.state['checked']:
            samples.append(('hapair_monitor_last_check_timestamp_seconds', {'pair': self.pair, 'node': self.node},
                            round(self.state['checked'], 3)))
        return render(samples)

    def write(self, force=False):
        """Write the metrics file when something changed, or METRICS_REFRESH seconds after the last write; an error is
        logged once per kind and retried at the next check."""
        if not self.metrics_file:
            return False
        now = self.clock()
        steady = self.render(with_check_time=False)
        if not force and self.written and self.written[0] == steady and now - self.written[1] < METRICS_REFRESH:
            return False
        try:
            write_atomically(self.metrics_file, self.render())
        except OSError as exc:
            # Without the temporary file's name, which differs at every try.
            message = '%s: %s' % (type(exc).__name__, exc.strerror or exc)
            if message != self.write_error:
                self.log('error', 'cannot write the metrics file', path=self.metrics_file, error=message)
                self.write_error = message
            return False
        self.write_error = None
        self.written = (steady, now)
        return True
