# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A drill interrupted right after its fault still undoes it (issue 18, class 9).

The drill (playbooks/failover.yml, method stop) runs until the engine is down on the VIP holder; then ansible-playbook
gets SIGINT, as from Ctrl-C (to its process group, as a terminal sends it). No task of the play runs after that, so
no `always` undoes the fault: the dead-man timer the drill armed on the holder before the fault must. The engine runs
again on both nodes within the drill's maximum - the dead-man timer's delay, as roles/drill/vars/main.yml computes it
from the drill's bounds (__drill_deadman_seconds, rendered here from the file with the bounds of the drill_bounds
filter) - plus 10 s; the delay the drill armed on the node (its journal) is that one.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time

import jinja2
import pytest
import yaml

from ansible_collections.hapair.loadbalancer.plugins.filter.drill_report import drill_bounds

from conftest import ANSIBLE_PLAYBOOK, INVENTORY, ROOT, container

LOCK = '/var/lib/hapair/lock'
MARGIN = 10  # seconds: the bound is the drill's maximum plus 10 s


def drill_vars():
    with open(os.path.join(ROOT, 'roles', 'drill', 'vars', 'main.yml'), encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def drill_margin():
    with open(os.path.join(ROOT, 'roles', 'drill', 'meta', 'argument_specs.yml'), encoding='utf-8') as handle:
        return yaml.safe_load(handle)['argument_specs']['main']['options']['hapair_drill_margin']['default']


def deadman_seconds(bed, method='stop'):
    """The dead-man timer's delay for a drill of this pair: the drill role's own expression, with the bounds the
    drill_bounds filter gives the drill."""
    pair = {'engine': {'name': bed.engine.name}, 'timers': dict(bed.timers._asdict()), 'auto_failback': True}
    settings = dict(bed.monitor, hapair_drill_margin=drill_margin())
    expression = drill_vars()['__drill_deadman_seconds']
    value = jinja2.Environment().from_string(expression).render(__drill_bounds=drill_bounds(method, pair, settings))
    return int(value.strip())


def engine_active(bed, host):
    return bed.sh(host, 'systemctl is-active %s' % bed.engine.service).stdout.strip() == 'active'


@pytest.fixture
def drill(whole):
    """The drill, started in a session of its own; after the test, the pair whole and the lock of the interrupted
    run gone (the next run from this controller would break it, naming the dead run)."""
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0', ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default')
    proc = subprocess.Popen([ANSIBLE_PLAYBOOK, '-i', INVENTORY, os.path.join(ROOT, 'playbooks', 'failover.yml')], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    yield whole, proc, lines
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    for host in whole.nodes:
        whole.sh(host, 'rm -f %s' % LOCK)
    whole.repair()


def test_a_drill_interrupted_right_after_its_fault_leaves_the_engine_running_on_both_nodes(drill):
    bed, proc, lines = drill
    holder = bed.preferred
    bound = deadman_seconds(bed) + MARGIN
    # The fault: the engine down on the holder (polled every 0.1 s).
    deadline = time.monotonic() + 300
    while engine_active(bed, holder):
        assert proc.poll() is None, ''.join(lines)[-5000:]
        assert time.monotonic() < deadline, 'no fault within 300 s:\n' + ''.join(lines)[-5000:]
        time.sleep(0.1)
    fault_at = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    interrupted = time.monotonic() - fault_at
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGINT)  # a second Ctrl-C, as an operator would press it
        proc.wait(timeout=60)
    stopped_at = time.monotonic()
    out = ''.join(lines)
    assert proc.returncode != 0, out[-5000:]
    # Nothing of the play ran after the interruption: no undo, no disarm by the play.
    assert 'TASK [hapair.loadbalancer.drill : Undo the fault on the former holder]' not in out, out[-5000:]
    assert not engine_active(bed, holder), 'the engine came back before the dead-man timer: not the case tested'

    while not all(engine_active(bed, host) for host in bed.nodes):
        assert time.monotonic() - fault_at < bound, (
            'the engine is not running on both nodes %s s after the fault (the drill\'s maximum %s s + %s s)'
            % (round(time.monotonic() - fault_at, 1), bound - MARGIN, MARGIN))
        time.sleep(0.2)
    back = time.monotonic() - fault_at
    # The delay the drill armed on the node is the one the drill's vars give.
    armed = container(holder).check_output(
        'journalctl -t ansible-hapair.loadbalancer.drill_fault --output=cat | grep "action=arm" | tail -n 1')
    seconds = re.search(r"\bseconds=([0-9.]+)", armed)
    assert seconds and int(float(seconds.group(1))) == bound - MARGIN, armed
    print('\n[drill] interrupted %.1f s after its fault (SIGINT; ansible-playbook ended %.1f s later): the engine ran '
          'on both nodes again %.1f s after the fault; the drill\'s maximum (dead-man timer) %d s, bound %d s'
          % (interrupted, stopped_at - fault_at, back, bound - MARGIN, bound))
