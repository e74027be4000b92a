# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""keepalived's notify script (roles/keepalived/files/keepalived-notify), run with /bin/sh as keepalived runs it
(TYPE NAME STATE PRIORITY), on a copy that writes into a temporary directory instead of /run/hapair-keepalived: the
state file hapair-monitor and the engine_state module read (node_engine.KeepalivedNode.vrrp_state)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..')
SCRIPT = os.path.join(ROOT, 'roles', 'keepalived', 'files', 'keepalived-notify')
STATE_DIR = 'state_dir=/run/hapair-keepalived\n'

pytestmark = pytest.mark.skipif(not os.path.exists('/bin/sh'), reason='no /bin/sh')


@pytest.fixture
def notify(tmp_path):
    """Run a copy of the script whose state directory is tmp_path/run; (returncode, the state file or None)."""
    with open(SCRIPT, encoding='utf-8') as handle:
        text = handle.read()
    assert text.count(STATE_DIR) == 1
    state_dir = tmp_path / 'run'
    state_dir.mkdir()
    script = tmp_path / 'keepalived-notify'
    script.write_text(text.replace(STATE_DIR, 'state_dir=%s\n' % state_dir))

    def run(*args, umask=0o022):
        proc = subprocess.run(['/bin/sh', '-c', 'umask %03o; exec /bin/sh "$0" "$@"' % umask, str(script)] + list(args),
                              check=False, capture_output=True, text=True, timeout=10)
        state = state_dir / 'state'
        return proc.returncode, state.read_text() if state.exists() else None
    run.state_dir = state_dir
    return run


@pytest.mark.parametrize('state', ['MASTER', 'BACKUP', 'FAULT', 'STOP'])
def test_each_vrrp_state_is_written_as_a_line(notify, state):
    assert notify('INSTANCE', 'hapair_pair1', state, '150') == (0, state + '\n')
    assert sorted(os.listdir(notify.state_dir)) == ['state']


def test_the_last_state_change_is_what_the_file_says(notify):
    notify('INSTANCE', 'hapair_pair1', 'BACKUP', '100')
    assert notify('INSTANCE', 'hapair_pair1', 'MASTER', '100') == (0, 'MASTER\n')


@pytest.mark.parametrize('args', [(), ('INSTANCE', 'hapair_pair1'), ('INSTANCE', 'hapair_pair1', 'DELETED', '100'),
                                  ('INSTANCE', 'hapair_pair1', 'master', '100'),
                                  ('INSTANCE', 'hapair_pair1', 'MASTER; touch x', '100')])
def test_anything_else_is_left_alone(notify, args):
    notify('INSTANCE', 'hapair_pair1', 'BACKUP', '100')
    assert notify(*args) == (0, 'BACKUP\n')
    assert sorted(os.listdir(notify.state_dir)) == ['state']


def test_the_state_file_is_readable_by_the_monitor_whatever_umask_keepalived_runs_it_with(notify):
    notify('INSTANCE', 'hapair_pair1', 'MASTER', '150', umask=0o077)
    assert stat.S_IMODE(os.stat(notify.state_dir / 'state').st_mode) == 0o644


def test_the_script_is_posix_sh():
    """keepalived runs it with the script's interpreter, /bin/sh (dash on Debian): no bashisms."""
    with open(SCRIPT, encoding='utf-8') as handle:
        assert handle.readline() == '#!/bin/sh\n'
    checkbashisms = shutil.which('checkbashisms')
    if checkbashisms:
        assert subprocess.run([checkbashisms, SCRIPT], check=False).returncode == 0
