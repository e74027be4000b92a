# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Maintenance (playbooks/maintenance.yml, hapair-monitor's node_maintenance) on the converged pair, for its engine,
checked by instruments that are not the product's: the test bed's client (hey, a request every 100 ms) and the
nodes' kernels (ip monitor address).

- Enter on the VIP holder under the client: the VIP moves to the peer without a gap, and stays there - across the
  node's reboot, after which verify still shows the node in maintenance and its engine stays out of the pair - and the
  node comes back, taking the VIP back (auto_failback), again without a gap.
- A rolling upgrade of both nodes, one after the other (enter, reinstall the engine's and Apache's packages - the
  engine's postinst restarts it, which maintenance must hold -, reboot, verify, leave): at most one failed request in
  all (issue 21).
- Each move of the VIP on purpose is make before break: both nodes hold it for a moment, no longer than its bound
  (testbed/bounds.py's move_bounds).
- Refusals: an unknown node, both nodes of the pair, and the site playbook while a node is in maintenance.

Every test leaves the pair out of maintenance (in a finally), so the next test's `whole` finds it whole.
"""

from __future__ import annotations

import re
import time

import bounds  # testbed/bounds.py (conftest puts testbed/ on the path)
import ops
from conftest import ENGINE, MEASURED_AGAIN, ansible_playbook, log, record

# At most one failed request for a whole rolling upgrade of both nodes (issue 21); the same bound for one node's
# maintenance with its reboot (the same two moves of the VIP).
MAX_FAILED = 1
# The packages a rolling upgrade reinstalls: the engine's (its postinst restarts it, which maintenance must hold) and
# Apache's, each at the version installed (a newer one in the node's package lists, such as a Debian update published
# since the site run, would be an upgrade that needs other packages too: CI try s15b failed so on 2026-12-07). From
# apt's cache of the site run where it has that version (--no-download: nothing leaves the test bed's network), else
# from the test bed's Debian mirror.
PACKAGES = {'heartbeat': ['heartbeat', 'apache2'], 'keepalived': ['keepalived', 'apache2']}[ENGINE]


def reinstall(bed, host):
    """apt-get install --reinstall of PACKAGES at their installed versions on a node: how (from the cache or
    downloaded)."""
    versions = {}
    for package in PACKAGES:
        out = bed.sh(host, "dpkg-query -W -f '${Version}' %s" % package)
        assert out.returncode == 0 and out.stdout.strip(), (package, out.stdout, out.stderr)
        versions[package] = out.stdout.strip()
    # A .deb's file name holds the version with its epoch's colon written %3a.
    cached = [p for p, v in versions.items()
              if bed.sh(host, 'ls /var/cache/apt/archives/%s_%s_*.deb' % (p, v.replace(':', '%3a'))).returncode == 0]
    options = '-y -q -o Dpkg::Options::=--force-confold'
    wanted = ' '.join('%s=%s' % item for item in versions.items())
    if cached == PACKAGES:
        how, command = 'from the cache', 'apt-get install --reinstall --no-download %s %s' % (options, wanted)
    else:
        how, command = 'downloaded', 'apt-get install --reinstall %s %s' % (options, wanted)
    out = bed.sh(host, 'DEBIAN_FRONTEND=noninteractive ' + command, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return how


def maintenance(*extra):
    """The maintenance playbook with these extra vars (a value with a space as JSON: key=value splits on spaces)."""
    args = []
    for item in extra:
        args += ['-e', item]
    return ansible_playbook('maintenance.yml', *args)


def leave_whatever_happened(bed):
    """Every node out of maintenance, by the playbook, or by hand if it failed (the next test needs a whole pair)."""
    run = maintenance('hapair_maintenance=none')
    if run.rc != 0:
        for host in bed.nodes:
            bed.sh(host, 'rm -f /var/lib/hapair/maintenance; systemctl start %s' % bed.engine.service)


def engine_out(bed, host):
    """Whether the node's engine is out of the pair: heartbeat not running, keepalived in FAULT (its tracked file)."""
    if ENGINE == 'heartbeat':
        return bed.sh(host, 'systemctl is-active heartbeat').stdout.strip() != 'active'
    return bed.sh(host, 'cat /run/hapair-keepalived/track').stdout.strip() == '1'


def moves_within_bounds(bed, figures):
    """Every move of the VIP the test made (entering maintenance on the holder, leaving it) kept both nodes holding the
    VIP no longer than its bound (testbed/bounds.py's move_bounds: the design, bound by the suite's figures). Moves over
    their bounds, and only that, are measured once more (conftest.MEASURED_AGAIN, as a fault's figures are): one
    more enter and leave on the holder."""
    for attempt in range(MEASURED_AGAIN + 1):
        broken = []
        for move, figure in bounds.maintenance_moves(figures):
            limits = bounds.move_bounds(move, ENGINE, bed.profile, bed.timers, bed.monitor)
            broken += [item._replace(message='%s: %s' % (move, item.message))
                       for item in bounds.broken_bounds(dict(figure, whole_end=True), limits)]
        if not bounds.figures_over_only(broken) or attempt == MEASURED_AGAIN:
            break
        log('maintenance: over its bound (%s); measuring the moves once more' % '; '.join(i.message for i in broken))
        figures = enter_and_leave(bed)
    assert not broken, '\n  '.join(item.message for item in broken)


def enter_and_leave(bed):
    """Enter maintenance on the holder and leave it, under the instruments: the figures of those two moves."""
    holder = bed.preferred
    instruments = ops.Instruments(bed)
    figures = {'engine': ENGINE, 'profile': bed.profile}
    instruments.start()
    try:
        instruments.mark('enter')
        run = maintenance('hapair_maintenance=%s' % bed.names[holder])
        assert run.rc == 0, run.out[-5000:]
        assert bed.holders() == [bed.standby]
        time.sleep(3)
        instruments.mark('leave')
        run = maintenance('hapair_maintenance=none')
        assert run.rc == 0, run.out[-5000:]
        ops.wait_for(lambda: bed.holders() == [holder], 60, what='the VIP back on %s' % bed.names[holder])
        time.sleep(3)
    finally:
        instruments.stop()
        leave_whatever_happened(bed)
    figures.update(instruments.figures())
    record('maintenance %s moves measured again' % ENGINE, figures)
    return figures


def in_maintenance(bed, host):
    page = ops.fresh_status(bed, host)
    return bool(page and page.get('maintenance') and page['maintenance_state']['phase'] == 'in')


def table_row(run, pair):
    """verify's table row of a pair, from the run's output."""
    for line in run.out.splitlines():
        line = line.strip().strip('",')
        if line.startswith(pair + ' '):
            return line
    return None


def test_enter_on_the_holder_reboot_in_maintenance_and_leave(whole):
    bed = whole
    holder, peer = bed.preferred, bed.standby
    name = bed.names[holder]
    instruments = ops.Instruments(bed)
    figures = {'engine': ENGINE, 'profile': bed.profile}
    instruments.start()
    try:
        instruments.mark('enter')
        started = time.monotonic()
        run = maintenance('hapair_maintenance=%s' % name, '{"hapair_maintenance_reason": "test 85"}')
        figures['enter_run_s'] = round(time.monotonic() - started, 1)
        assert run.rc == 0, run.out[-5000:]
        assert bed.holders() == [peer]
        assert in_maintenance(bed, holder) and engine_out(bed, holder)
        # The table says so.
        row = table_row(run, bed.cluster)
        assert row and re.search(r'\b%s for \d+s: test 85' % name, row), run.out[-3000:]
        time.sleep(3)

        instruments.mark('reboot')
        figures['reboot_s'] = ops.reboot(bed, holder, instruments)
        figures['monitor_back_s'] = ops.wait_for(lambda: in_maintenance(bed, holder), 60,
                                                 what='the monitor reporting maintenance after the reboot')
        assert bed.holders() == [peer] and engine_out(bed, holder)
        run = ansible_playbook('verify.yml')
        assert run.rc == 0, run.out[-5000:]
        row = table_row(run, bed.cluster)
        assert row and re.search(r'\b%s for \d+[sm]: test 85' % name, row) and ' %s ' % bed.names[peer] in row, row
        time.sleep(3)

        instruments.mark('leave')
        started = time.monotonic()
        run = maintenance('hapair_maintenance=none')
        figures['leave_run_s'] = round(time.monotonic() - started, 1)
        assert run.rc == 0, run.out[-5000:]
        figures['vip_back_s'] = ops.wait_for(lambda: bed.holders() == [holder], 60, what='the VIP back on %s' % holder)
        time.sleep(3)
    finally:
        instruments.stop()
        leave_whatever_happened(bed)
    figures.update(instruments.figures())
    record('maintenance %s enter-reboot-leave' % ENGINE, figures)
    assert figures['enter']['vip_gained'] and figures['enter']['vip_gained'][0][1] == bed.names[peer], figures
    assert figures['reboot']['vip_gained'] == [], figures     # the VIP never came back to the node during its reboot
    assert figures['leave']['vip_gained'] and figures['leave']['vip_gained'][-1][1] == name, figures
    assert figures['total']['failed'] <= MAX_FAILED, figures
    moves_within_bounds(bed, figures)
    bed.wait_whole()


def test_a_rolling_upgrade_of_both_nodes_costs_at_most_one_request(whole):
    bed = whole
    instruments = ops.Instruments(bed)
    figures = {'engine': ENGINE, 'profile': bed.profile, 'packages': ' '.join(PACKAGES)}
    instruments.start()
    try:
        for host in (bed.preferred, bed.standby):
            name = bed.names[host]
            instruments.mark('%s enter' % name)
            run = maintenance('hapair_maintenance=%s' % name, '{"hapair_maintenance_reason": "rolling upgrade"}')
            assert run.rc == 0, run.out[-5000:]
            assert host not in bed.holders() and engine_out(bed, host)
            instruments.mark('%s upgrade' % name)
            figures['%s packages' % name] = reinstall(bed, host)
            assert host not in bed.holders() and engine_out(bed, host), 'the upgrade brought the engine back'
            instruments.mark('%s reboot' % name)
            figures['%s reboot_s' % name] = ops.reboot(bed, host, instruments)
            ops.wait_for(lambda h=host: in_maintenance(bed, h), 60, what='%s in maintenance after its reboot' % name)
            run = ansible_playbook('verify.yml')
            assert run.rc == 0, run.out[-5000:]
            instruments.mark('%s leave' % name)
            run = maintenance('hapair_maintenance=none')
            assert run.rc == 0, run.out[-5000:]
            ops.wait_for(lambda: bed.holders() == [bed.preferred], 60, what='the VIP on the preferred node')
            time.sleep(2)
    finally:
        instruments.stop()
        leave_whatever_happened(bed)
    figures.update(instruments.figures())
    record('maintenance %s rolling upgrade' % ENGINE, figures)
    assert figures['total']['failed'] <= MAX_FAILED, figures
    moves_within_bounds(bed, figures)
    bed.wait_whole()


def test_what_cannot_be_done_is_refused_before_anything_changes(whole):
    bed = whole
    run = maintenance('hapair_maintenance=loadb9')
    assert run.rc != 0 and run.has_message("hapair_maintenance names 'loadb9', which is no node of this play"), run.out[-3000:]
    both = ','.join(bed.names[h] for h in bed.nodes)
    run = maintenance('hapair_maintenance=%s' % both)
    assert run.rc != 0 and run.has_message('names both nodes of the pair'), run.out[-3000:]
    assert all(not ops.status(bed, h)['maintenance'] for h in bed.nodes)
    standby = bed.standby
    try:
        run = maintenance('hapair_maintenance=%s' % bed.names[standby])
        assert run.rc == 0, run.out[-5000:]
        assert bed.holders() == [bed.preferred]          # the standby held nothing: nothing moved
        run = maintenance('hapair_maintenance=%s' % bed.names[bed.preferred])
        assert run.rc != 0 and run.has_message('is in maintenance'), run.out[-3000:]
        run = ansible_playbook('site.yml')
        assert run.rc != 0 and run.has_message('in maintenance: this playbook restarts engines'), run.out[-3000:]
    finally:
        leave_whatever_happened(bed)
    bed.wait_whole()
