# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hapair-monitor's metrics and notifications on the converged pair, while faults of the fault matrix
(testbed/faults.py) move the VIP: the metrics file of each node, read with Prometheus' own text-format parser, follows
the faults (the holder changes, the transitions count up, each with its reason named); a notify command that appends
its environment to a file records every transition, on the node where it happens.

The notify command is installed on the nodes by the test and set with one site run (hapair_notify_command), and
taken away again in a finally.
"""

from __future__ import annotations

import ops
from conftest import ENGINE, ansible_playbook, faults, record

NOTIFY = '/usr/local/bin/hapair-notify-test'
NOTIFY_LOG = '/run/hapair/notify-test.log'
# Appends one line per event. /run/hapair is writable inside hapair-monitor's sandbox (its runtime directory).
NOTIFY_SCRIPT = '''#!/bin/sh
echo "$HAPAIR_TIME $HAPAIR_PAIR $HAPAIR_NODE $HAPAIR_KIND $HAPAIR_EVENT $HAPAIR_REASON" >> %s
''' % NOTIFY_LOG

# What each fault's transitions are, per node, in order: (event, the reasons it may have). The holder is the
# preferred node. After the engine is started again, the VIP comes back by whichever is first: the engine's own
# failback (heartbeat's auto_failback, keepalived's preemption: 'engine', and the peer's page names no decision) or
# the monitor's take-back once its failback delay is over ('failback', which the peer reads as 'peer_failback'); the
# test bed saw both.
EXPECTED = {
    'apache_stop': {'holder': [('vip_lost', ('apache_failed',)), ('vip_gained', ('failback',))],
                    'peer': [('vip_gained', ('peer_apache_failed',)), ('vip_lost', ('peer_failback',))]},
    'engine_stop': {'holder': [('vip_lost', ('engine_stopped',)), ('vip_gained', ('engine', 'failback'))],
                    'peer': [('vip_gained', ('engine',)), ('vip_lost', ('engine', 'peer_failback'))]},
}


def as_expected(seen, expected):
    """Whether the transitions seen, [(event, reason)] in order, are the expected ones: each event in turn, each with
    one of its reasons."""
    return len(seen) == len(expected) and all(
        event == want and reason in reasons for (event, reason), (want, reasons) in zip(seen, expected, strict=False))


def notify_events(bed, host):
    """[(kind, event, reason)] the notify command recorded on a node."""
    out = bed.sh(host, 'cat %s 2>/dev/null' % NOTIFY_LOG).stdout
    return [tuple(line.split()[3:6]) for line in out.splitlines() if len(line.split()) >= 6]


def transitions(bed, host):
    return ops.transitions(ops.metrics(bed, host))


def held(bed, host):
    return dict(ops.metrics(bed, host))['hapair_vip_held'][0][1]


def test_metrics_and_notifications_follow_the_faults(whole):
    bed = whole
    holder, peer = bed.preferred, bed.standby
    for host in bed.nodes:
        bed.sh(host, "cat > %s <<'EOF'\n%sEOF\nchmod 0755 %s; rm -f %s" % (NOTIFY, NOTIFY_SCRIPT, NOTIFY, NOTIFY_LOG),
               check=True)
    figures = {'engine': ENGINE}
    try:
        run = ansible_playbook('site.yml', '-e', 'hapair_notify_command=%s' % NOTIFY)
        assert run.rc == 0, run.out[-5000:]
        bed.wait_whole()
        assert held(bed, holder) == 1 and held(bed, peer) == 0
        for name, expected in EXPECTED.items():
            before = dict((h, transitions(bed, h)) for h in bed.nodes)
            marks = dict((h, len(notify_events(bed, h))) for h in bed.nodes)
            result = faults.run_fault(bed, name)
            bed.wait_whole()
            ops.wait_for(lambda: all(ops.fresh_status(bed, h) for h in bed.nodes), 30, what='fresh pages')
            for role, host in (('holder', holder), ('peer', peer)):
                after = transitions(bed, host)
                grown = dict((key, after[key] - before[host].get(key, 0)) for key in after
                             if after[key] > before[host].get(key, 0))
                recorded = [(event, reason) for kind, event, reason in notify_events(bed, host)[marks[host]:]
                            if kind == 'transition']
                figures['%s %s' % (name, role)] = {'metrics': dict(('%s %s' % k, v) for k, v in grown.items()),
                                                   'notified': recorded}
                # The metrics count what was notified: the same transitions, by direction and reason.
                assert sum(grown.values()) == len(recorded) and all(
                    grown.get(('gained' if e == 'vip_gained' else 'lost', r), 0) == recorded.count((e, r))
                    for e, r in recorded), (name, role, grown, recorded)
                assert as_expected(recorded, expected[role]), (name, role, recorded, expected[role], result.get('events'))
            assert held(bed, holder) == 1 and held(bed, peer) == 0
            # Every decision was notified too, and nothing failed.
            decisions = [e for h in bed.nodes for k, e, r in notify_events(bed, h) if k == 'decision']
            figures['%s decisions notified' % name] = decisions
        for host in bed.nodes:
            found = ops.metrics(bed, host)
            failures = sum(value for labels, value in found['hapair_notify_failures_total'])
            runs = found['hapair_notify_runs_total'][0][1]
            figures['notify %s' % bed.names[host]] = {'runs': runs, 'failures': failures}
            assert failures == 0 and runs >= 2
    finally:
        record('metrics and notifications %s' % ENGINE, figures)
        run = ansible_playbook('site.yml')
        for host in bed.nodes:
            bed.sh(host, 'rm -f %s %s' % (NOTIFY, NOTIFY_LOG))
    assert run.rc == 0, run.out[-5000:]
