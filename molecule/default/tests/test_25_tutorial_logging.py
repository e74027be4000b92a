# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tutorial's logging on the converged pair (issue 23): use_logd on, debugfile /var/log/ha-debug, logfile
/var/log/ha-log, logfacility local0 (with keepalive 2, deadtime 10, udpport 694 and auto_failback on, the test
bed's own).

The pair converges with them, idempotently; heartbeat logs through cluster-glue's logd (its lines reach the journal
from ha_logd, under heartbeat's own name, and the tutorial's files); the query hapair-monitor follows sees them; and
a network split that heals still reaches the monitor through logd ("returning after partition"), which keeps one
holder. Then the pair converges back to the bed's settings, and heartbeat logs by itself again. The ha.cf directives
line by line against the tutorial's are tests/integration/test_render.py's.
"""

from __future__ import annotations

import json
import os
import time

import pytest
import yaml

from conftest import HOSTVARS, NODES, ROOT, ansible_playbook, container, faults

# The tutorial's settings, one definition for this test and the render test.
with open(os.path.join(ROOT, 'tests', 'tutorial.yml'), encoding='utf-8') as _handle:
    TUTORIAL = yaml.safe_load(_handle)
# heartbeat -r, the daemon as its unit runs it (the heartbeat role's reload).
# heartbeat -r, with the daemon the unit runs with -f (under hapair-monitor's supervisor: not the unit's path=).
RELOAD = '"$(systemctl show --property=ExecStart --value heartbeat | grep -oE \'/[^ ;]+/heartbeat -f\' | cut -d \' \' -f 1)" -r'
# What the monitor follows (node_engine.HeartbeatNode.log_command), without --follow.
MONITOR_QUERY = 'journalctl --identifier=heartbeat --output=json --since=@%d'


def heartbeat_lines(host, since):
    """heartbeat's journal lines since a moment, as hapair-monitor's query finds them: [(_COMM, facility, text)]."""
    out = container(host).check_output(MONITOR_QUERY % int(since))
    lines = []
    for line in out.splitlines():
        entry = json.loads(line)
        message = entry.get('MESSAGE')
        if isinstance(message, list):
            message = bytes(message).decode('utf-8', 'replace')
        lines.append((entry.get('_COMM'), entry.get('SYSLOG_FACILITY'), message or ''))
    return lines


def directives(host, path):
    return [line for line in container(host).file(path).content_string.splitlines()
            if line.strip() and not line.startswith('#')]


@pytest.fixture(scope='module')
def tutorial(tmp_path_factory):
    """The pair converged with the tutorial's logging, then back to the bed's own settings, whatever happened."""
    overlay = tmp_path_factory.mktemp('tutorial') / 'tutorial.yml'
    overlay.write_text(yaml.safe_dump({'loadbalancers': {'vars': TUTORIAL}}))
    start = time.time()
    try:
        first = ansible_playbook('site.yml', inventories=[overlay])
        assert first.rc == 0, first.out[-5000:]
        again = ansible_playbook('site.yml', inventories=[overlay])
        yield {'first': first, 'again': again, 'start': start}
    finally:
        back = ansible_playbook('site.yml')
        assert back.rc == 0, back.out[-5000:]
        since = time.time()
        # The next lines of heartbeat come from heartbeat itself again (a reload, a status line).
        for host in NODES:
            container(host).run(RELOAD)
        time.sleep(3)
        for host in NODES:
            assert not container(host).file('/etc/ha.d/ha.cf').contains('^use_logd'), host
            comms = set(comm for comm, _facility, _text in heartbeat_lines(host, since))
            assert comms and 'ha_logd' not in comms, (host, comms)


def test_the_tutorials_logging_converges_and_a_second_run_changes_nothing(tutorial):
    for host in NODES:
        assert tutorial['again'].recap[host]['changed'] == 0 and tutorial['again'].recap[host]['failed'] == 0, \
            (host, tutorial['again'].recap[host])
    for host in NODES:
        lines = directives(host, '/etc/ha.d/ha.cf')
        assert lines[:4] == ['use_logd on', 'debugfile /var/log/ha-debug', 'logfile /var/log/ha-log',
                             'logfacility local0'], lines
        assert directives(host, '/etc/logd.cf') == ['debugfile /var/log/ha-debug', 'logfile /var/log/ha-log',
                                                    'logfacility local0']
        node = container(host)
        assert node.service('logd').is_running and node.service('logd').is_enabled, host
        assert node.package('cluster-glue').is_installed


def test_heartbeat_logs_through_logd_into_the_journal_and_the_tutorials_files(tutorial):
    since = time.time()
    # heartbeat -r: the new process says it enables the logging daemon, the running one that it reread ha.cf.
    for host in NODES:
        container(host).run(RELOAD)
    time.sleep(3)
    for host in NODES:
        lines = heartbeat_lines(host, since)
        # Every line of heartbeat came from logd, at the tutorial's facility (local0 is 16).
        assert lines and all(comm == 'ha_logd' and facility == '16' for comm, facility, _text in lines), (host, lines)
        assert any('Enabling logging daemon' in text for _comm, _facility, text in lines), (host, lines)
        assert any('Configuration unchanged' in text for _comm, _facility, text in lines), (host, lines)
        node = container(host)
        for path in ('/var/log/ha-log', '/var/log/ha-debug'):
            assert node.file(path).is_file and node.file(path).contains(' heartbeat: '), (host, path)


def test_a_healed_split_reaches_the_monitor_through_logd(tutorial, whole):
    """The monitor reads "returning after partition" from the journal to keep one holder through heartbeat's
    restart: with logd, the line still comes under heartbeat's name. (The split's bounds are test_60's.)"""
    since = time.time()
    result = faults.run_fault(whole, 'split')
    print('\n[logd] split with logd: %s' % json.dumps(dict((key, result.get(key)) for key in (
        'two_holders_max_s', 'moved_s', 'back_s', 'failed_fault', 'failed_undo', 'whole_end')), sort_keys=True))
    for host in NODES:
        heals = [(comm, text) for comm, _facility, text in heartbeat_lines(host, since) if 'returning after partition' in text]
        assert heals and all(comm == 'ha_logd' for comm, _text in heals), (host, heals)
        monitor = container(host).check_output('journalctl -u hapair-monitor --output=cat --since=@%d' % int(since))
        assert 'the engine reports a healed partition' in monitor, (host, monitor[-3000:])
    print('\n[logd] a healed split reached hapair-monitor through logd on %s' % ', '.join(
        HOSTVARS[host]['hapair_node_name'] for host in NODES))
