# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""heartbeat's VIP agent (roles/heartbeat/files/hapair-vip), run with /bin/sh as heartbeat runs a resource script
(ADDRESS/PREFIX/INTERFACE ACTION), on a copy whose IPaddr is a fake that records its arguments and whose runtime
directory is a temporary one; `logger` is a fake on PATH that records the message. hapair-monitor's side (the lease,
and taking the VIP after a declined takeover) is in test_monitor.py."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..')
SCRIPT = os.path.join(ROOT, 'roles', 'heartbeat', 'files', 'hapair-vip')
IPADDR = 'ipaddr=/etc/ha.d/resource.d/IPaddr\n'
RUN = 'run=/run/hapair\n'
ARGS = '198.51.100.10/26/eth0'

pytestmark = pytest.mark.skipif(not os.path.exists('/bin/sh'), reason='no /bin/sh')


@pytest.fixture
def agent(tmp_path):
    """Run the copy: (returncode, IPaddr's arguments or None, the declined record or None, logger's arguments)."""
    with open(SCRIPT, encoding='utf-8') as handle:
        text = handle.read()
    assert text.count(IPADDR) == 1 and text.count(RUN) == 1
    run = tmp_path / 'run'
    run.mkdir()
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name in ('IPaddr', 'logger'):
        fake = bin_dir / name
        fake.write_text('#!/bin/sh\necho "$@" > "%s"\nexit 0\n' % (tmp_path / (name + '.args')))
        fake.chmod(0o755)
    # systemctl is-active heartbeat: the unit's state as the test set it (systemd's answer; `inactive` by default).
    unit_state = tmp_path / 'unit.state'
    unit_state.write_text('inactive\n')
    fake = bin_dir / 'systemctl'
    fake.write_text('#!/bin/sh\n[ "$*" = "is-active heartbeat" ] || exit 9\ncat "%s"\n' % unit_state)
    fake.chmod(0o755)
    script = tmp_path / 'hapair-vip'
    script.write_text(text.replace(IPADDR, 'ipaddr=%s\n' % (bin_dir / 'IPaddr')).replace(RUN, 'run=%s\n' % run))

    def read(path):
        return path.read_text().strip() if path.exists() else None

    def call(*args):
        for name in ('IPaddr.args', 'logger.args'):
            if (tmp_path / name).exists():
                (tmp_path / name).unlink()
        proc = subprocess.run(['/bin/sh', str(script)] + list(args), check=False, capture_output=True, text=True,
                              timeout=10, env=dict(os.environ, PATH='%s:%s' % (bin_dir, os.environ['PATH'])))
        return (proc.returncode, read(tmp_path / 'IPaddr.args'), read(run / 'declined'),
                read(tmp_path / 'logger.args'))

    call.lease = (run / 'defer-takeover').write_text
    call.keep = (run / 'keep-vip').write_text
    call.unit = unit_state.write_text
    call.declined = run / 'declined'
    return call


def now_ms():
    return int(time.time() * 1000)


def test_without_a_lease_every_action_is_ipaddr_s(agent):
    for action in ('start', 'stop', 'status'):
        assert agent(ARGS, action) == (0, ARGS + ' ' + action, None, None)


def test_a_start_under_a_lease_is_declined_and_recorded(agent):
    agent.lease('%d\n' % (now_ms() + 5000))
    rc, ipaddr, declined, logged = agent(ARGS, 'start')
    assert rc == 0 and ipaddr is None and declined.isdigit() and abs(int(declined) - now_ms()) < 5000
    assert logged.startswith('-t hapair-vip -p daemon.notice declined the takeover of %s' % ARGS)
    # Only a start is declined: a stop (heartbeat gives the VIP up, or the release after an unclean stop) is IPaddr's,
    # and ends the record.
    assert agent(ARGS, 'status')[:3] == (0, ARGS + ' status', declined)
    assert agent(ARGS, 'stop')[:3] == (0, ARGS + ' stop', None)


@pytest.mark.parametrize('lease', ['ended', '', 'soon\n', '-5\n', '12 34\n'])
def test_an_ended_or_unreadable_lease_declines_nothing(agent, lease):
    agent.lease('%d\n' % (now_ms() - 1) if lease == 'ended' else lease)
    assert agent(ARGS, 'start') == (0, ARGS + ' start', None, None)


def test_a_start_that_takes_the_vip_ends_the_record_of_an_earlier_decline(agent):
    """The preferred node died after a decline and its lease ended: heartbeat's takeover (after deadtime) starts the
    VIP for real, and nothing is declined any more (measured on the test bed: the record stayed, though this node
    held the VIP)."""
    agent.declined.write_text('1\n')
    assert agent(ARGS, 'start') == (0, ARGS + ' start', None, None)


# --- the preferred node's lease (keep-vip): heartbeat's own restart after a partition leaves the VIP on ----------

def test_a_stop_during_heartbeat_s_restart_under_the_preferred_node_s_lease_keeps_the_vip(agent):
    agent.keep('%d\n' % (now_ms() + 3000))
    agent.unit('active\n')
    rc, ipaddr, declined, logged = agent(ARGS, 'stop')
    assert (rc, ipaddr, declined) == (0, None, None)
    assert logged.startswith("-t hapair-vip -p daemon.notice kept %s through heartbeat's restart after a partition" % ARGS)
    # Only a stop: a start and a status are IPaddr's, with or without that lease.
    assert agent(ARGS, 'start') == (0, ARGS + ' start', None, None)
    assert agent(ARGS, 'status') == (0, ARGS + ' status', None, None)


@pytest.mark.parametrize('unit', [
    'deactivating\n',   # systemctl stop heartbeat (an operator, an upgrade), or the release after an unclean stop
    'inactive\n', 'failed\n', 'activating\n', '',
])
def test_a_stop_through_systemd_releases_the_vip_whatever_the_lease(agent, unit):
    agent.keep('%d\n' % (now_ms() + 3000))
    agent.unit(unit)
    assert agent(ARGS, 'stop') == (0, ARGS + ' stop', None, None)


@pytest.mark.parametrize('keep', ['ended', '', 'soon\n', '12 34\n'])
def test_without_a_running_lease_of_the_preferred_node_a_stop_is_ipaddr_s(agent, keep):
    agent.keep('%d\n' % (now_ms() - 1) if keep == 'ended' else keep)
    agent.unit('active\n')
    assert agent(ARGS, 'stop') == (0, ARGS + ' stop', None, None)


def test_the_other_node_s_lease_keeps_nothing_on_a_stop(agent):
    """The lease for declining a takeover (defer-takeover) is the other node's: its stops are IPaddr's."""
    agent.lease('%d\n' % (now_ms() + 5000))
    agent.unit('active\n')
    assert agent(ARGS, 'stop') == (0, ARGS + ' stop', None, None)
