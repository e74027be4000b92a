# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The live engine switch (issue 19): hapair_engine changed on the running pair, one site run, and back.

On the converged pair of the bed (conftest.INVENTORY), whatever engine it runs now: a check-mode run of the switch
says what it would do and changes nothing; the switch to the other engine and the switch back each run while the
test bed's own instruments watch (testbed/faults.py: a client asking http://VIP/ every 0.1 s from this machine, `ip
monitor address` in both nodes); each must keep the site answering (no gap of more than 1.0 s, to the client's
resolution of 0.1 s: it asks every 0.1 s, so a gap is known to within 0.1 s), never leave the VIP on both nodes for
more than 1.0 s (the watchers' stamps are the nodes' kernel events, to the microsecond), end with the old engine
stopped and disabled on both nodes, the new one and hapair-monitor running with the new engine's settings, and the VIP
on the preferred node alone; a second run then changes nothing. The pair ends on the engine it was found on, also
when a test fails (the module fixture switches it back).

keepalived comes from the test bed's overlay (testbed/inventory/keepalived-pair), as the README's procedure sets it in
the inventory; heartbeat, over an inventory that says keepalived, from -e hapair_engine=heartbeat.
"""

from __future__ import annotations

import json
import os
import sys
import time

import pytest

from conftest import HOSTVARS, INVENTORY, NODES, ROOT, ansible_playbook, snapshot

sys.path.insert(0, os.path.join(ROOT, 'testbed'))
from ansible_collections.hapair.loadbalancer.plugins.module_utils import engines, measure  # noqa: E402

import faults  # noqa: E402  # pylint: disable=wrong-import-position  # testbed/faults.py

OVERLAY = os.path.join(ROOT, 'testbed', 'inventory', 'keepalived-pair')
INVENTORY_ENGINE = HOSTVARS[NODES[0]].get('hapair_engine', engines.DEFAULT)
# The targets of issue 19, and the client's resolution.
MAX_GAP = 1.0
MAX_TWO_HOLDERS = 1.0
CLIENT_RESOLUTION = faults.INTERVAL
# How long the instruments watch before the run starts and after it ends (the pair settles, the VIP back home).
LEAD, TAIL = 2.0, 3.0


def site(engine, *args, **kwargs):
    """A site run that gives the pair `engine`: the inventory as it is when it says so; keepalived from the overlay;
    heartbeat over an inventory that says keepalived, from -e."""
    if engine == INVENTORY_ENGINE:
        return ansible_playbook('site.yml', *args, **kwargs)
    if engine == 'keepalived':
        return ansible_playbook('site.yml', *args, inventories=[OVERLAY], **kwargs)
    return ansible_playbook('site.yml', '-e', 'hapair_engine=%s' % engine, *args, **kwargs)


def node_sh(host, script):
    return faults.node_exec(HOSTVARS[host]['testbed_container'], ['sh', '-c', script]).stdout


def units(host):
    """{unit: (is-active, is-enabled)} of both engines and hapair-monitor on a node, and the monitor's engine."""
    names = [engine.service for engine in engines.ENGINES.values()] + ['hapair-monitor']
    out = node_sh(host, 'for u in %s; do e=$(systemctl is-enabled $u 2>/dev/null); echo "$u $(systemctl is-active $u) '
                        '${e:-none}"; done; python3 -c "import json; print(json.load(open(\'/etc/hapair/monitor.json\'))'
                        '[\'engine\'][\'engine\'])"' % ' '.join(names))
    lines = out.split('\n')
    found = dict((line.split()[0], tuple(line.split()[1:3])) for line in lines if len(line.split()) == 3)
    found['monitor.json'] = lines[len(names)].strip() if len(lines) > len(names) else None
    return found


def engine_running():
    """The engine both nodes run, or None when they do not run one and the same engine."""
    running = []
    for host in NODES:
        state = units(host)
        running.append(tuple(name for name, engine in engines.ENGINES.items()
                             if state.get(engine.service, ('',))[0] == 'active'))
    return running[0][0] if len(set(running)) == 1 and len(running[0]) == 1 else None


def watched_switch(bed, engine):
    """Switch the pair to `engine` with one site run while the client and the address watchers record; the figures."""
    watchers = dict((host, faults.AddressWatcher(bed, host)) for host in bed.nodes)
    client = faults.Client(bed.url)
    for watcher in watchers.values():
        watcher.start()
    client.start()
    try:
        time.sleep(LEAD)
        holder = [host for host in bed.nodes if watchers[host].holds()]
        started = time.time()
        run = site(engine)
        ended = time.time()
        time.sleep(TAIL)
    finally:
        client.stop()
        for watcher in watchers.values():
            watcher.stop()
    stopped = time.time()
    events = dict((host, watchers[host].events) for host in bed.nodes)
    vip = measure.vip_figures(events, dict((host, stopped) for host in bed.nodes), holder[0] if holder else bed.preferred,
                              bed.preferred, started)
    seen = measure.client_figures(client.outages(), started, None, client.started, client.stopped,
                                  interval=client.interval)
    figures = {
        'to': engine, 'rc': run.rc, 'run_seconds': round(ended - started, 1), 'holder_before': holder,
        'requests': len(client.requests), 'failed': seen.failed, 'longest_gap_s': seen.longest_gap,
        'client_resolution_s': CLIENT_RESOLUTION, 'two_holders_longest_s': vip.two_holders_longest,
        'two_holders_total_s': vip.two_holders, 'holders_at_end': list(vip.holders_at_end),
        'vip_events': sorted((round(e['at'] - started, 2), bed.names[host], 'gains' if e['holds'] else 'loses')
                             for host in bed.nodes for e in events[host][1:]),
    }
    print('\nengine switch to %s: %s' % (engine, json.dumps(figures)))
    path = os.environ.get('HAPAIR_SWITCH_RESULTS')
    if path:
        with open(path, 'a', encoding='utf-8') as out:
            out.write(json.dumps(figures) + '\n')
    return run, figures


@pytest.fixture(scope='module')
def bed():
    return faults.Bed(INVENTORY)


@pytest.fixture(scope='module')
def found():
    """The engine the pair runs now; it runs it again when the module ends, whatever happened."""
    engine = engine_running()
    assert engine is not None, 'the nodes do not run one engine: %s' % dict((host, units(host)) for host in NODES)
    yield engine
    if engine_running() != engine:
        run = site(engine)
        assert run.rc == 0, run.out[-5000:]


def other(engine):
    return [name for name in engines.NAMES if name != engine][0]


def assert_switched(bed, run, figures, old, new):
    assert run.rc == 0, run.out[-5000:]
    assert "switches from %s to %s" % (old, new) in run.out, run.out[-5000:]
    assert figures['longest_gap_s'] <= MAX_GAP, figures
    assert figures['two_holders_longest_s'] is not None and figures['two_holders_longest_s'] <= MAX_TWO_HOLDERS, figures
    for host in NODES:
        state = units(host)
        assert state[engines.get(old).service] == ('inactive', 'disabled'), (host, state)
        assert state[engines.get(new).service] == ('active', 'enabled'), (host, state)
        assert state['hapair-monitor'] == ('active', 'enabled') and state['monitor.json'] == new, (host, state)
    assert figures['holders_at_end'] == [bed.preferred], figures


def assert_second_run_changes_nothing(engine):
    run = site(engine)
    assert run.rc == 0, run.out[-5000:]
    for host in NODES:
        assert run.recap[host]['changed'] == 0 and run.recap[host]['failed'] == 0, (host, run.recap[host])


def test_a_switch_in_check_mode_says_what_it_would_do_and_changes_nothing(bed, found):
    before = snapshot()
    state = dict((host, units(host)) for host in NODES)
    run = site(other(found), '--check', '--diff')
    assert run.rc == 0, run.out[-5000:]
    assert "switches from %s to %s" % (found, other(found)) in run.out, run.out[-5000:]
    assert all(run.recap[host]['changed'] > 0 for host in NODES), run.recap
    assert snapshot() == before
    assert dict((host, units(host)) for host in NODES) == state


def test_the_switch_to_the_other_engine_keeps_the_site_up(bed, found):
    run, figures = watched_switch(bed, other(found))
    assert_switched(bed, run, figures, found, other(found))


def test_a_second_run_on_the_other_engine_changes_nothing(found):
    assert_second_run_changes_nothing(other(found))


def test_the_switch_back_keeps_the_site_up(bed, found):
    run, figures = watched_switch(bed, found)
    assert_switched(bed, run, figures, other(found), found)


def test_a_second_run_on_the_engine_it_found_changes_nothing(found):
    assert_second_run_changes_nothing(found)
