# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fault matrix on the pair as converged (its inventory's engine and timers): every fault of testbed/faults.py
injected on the VIP holder and undone, while the test bed's own client (hey) asks for the site every 100 ms and
the nodes' kernels report every VIP change (ip monitor address). Every figure has its bound (testbed/bounds.py: the
design's formula of the timers and the monitor's settings, within 1.5 times the benchmark's largest value), and
every fault ends, with no manual step, with the pair whole: the preferred node alone holding the VIP, every service
of both nodes running, the engine seeing its peer, the routes and both backends there.

Each fault runs once here; the freeze and the split run twice more each with the fast timers (test_70: issue
20, no second outage after a thaw or a heal, on every run). On a heartbeat pair two of the faults where nothing may
move (IN_LANE_C: Apache killed, the private link) run in the operations scenario (lane C of scripts/test.sh, a heartbeat
pair too) and the others in the default scenario (lane A), so that the lanes take about as long; keepalived's scenario
runs them all. Each test
starts from a whole pair (the `whole` fixture repairs what an earlier test left).
"""

from __future__ import annotations

import pytest

from conftest import faults, run_fault

# The faults of a heartbeat pair that the operations scenario runs (lane C), not the default one (lane A): two after
# which nothing may move. Their test ids hold these names (`-k` selects them in both scenarios' molecule.yml).
IN_LANE_C = ('apache_kill', 'private_link')


@pytest.mark.parametrize('name', list(faults.FAULTS))
def test_fault(whole, name):
    run_fault(whole, name)
