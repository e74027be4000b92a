# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fast timer profile under the faults that depend on the timers: the pair converged with
`-e hapair_timers=fast` (a site run), then the crash, the engine killed (coming back by itself, and kept down),
Apache stopped, the public link lost, and two freezes and two splits, each with its fast-profile bounds
(testbed/bounds.py); then converged back to its inventory's timers, whatever happened. With test_60's freeze and split
(the standard timers), every run of the suite thaws and heals each engine's pair three times (issue 20); the benchmark
does each ten times per profile.
"""

from __future__ import annotations

import pytest

from conftest import INVENTORY, PROVISION_PLAY, ansible_playbook, faults, log, run_fault

# Every fault of the fast profile once (testbed/faults.py's PROFILE_FAULTS), the freeze and the split twice.
RUNS = list(faults.PROFILE_FAULTS['fast']) + ['freeze', 'split']


def _converge(*extra):
    run = ansible_playbook('site.yml', *extra)
    assert run.rc == 0 and PROVISION_PLAY in run.out, run.out[-5000:]


@pytest.fixture(scope='module')
def fast_bed():
    _converge('-e', 'hapair_timers=fast')
    try:
        yield faults.Bed(INVENTORY, profile='fast', log=log)
    finally:
        faults.Bed(INVENTORY, log=log).repair()
        _converge()


@pytest.fixture
def whole_fast(fast_bed):
    fast_bed.repair()
    return fast_bed


@pytest.mark.parametrize('name', RUNS, ids=['%s-%d' % (n, RUNS[:i + 1].count(n)) for i, n in enumerate(RUNS)])
def test_fault_with_the_fast_timers(whole_fast, name):
    run_fault(whole_fast, name)
