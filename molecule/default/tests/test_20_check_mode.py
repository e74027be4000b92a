# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""--check --diff against the converged pair: nothing to change, nothing changed.

(Check mode against fresh nodes, where it must report the changes and make none, is the check_mode scenario.)
"""

from __future__ import annotations

import re

from conftest import NODES, PROVISION_PLAY, ansible_playbook, snapshot, vip_holders


def test_check_diff_on_the_converged_pair_reports_no_change_and_changes_nothing():
    before = snapshot()
    assert len(vip_holders(before)) == 1, before

    run = ansible_playbook('site.yml', '--check', '--diff')

    assert run.rc == 0, run.out[-5000:]
    assert PROVISION_PLAY in run.out
    assert sorted(run.recap) == sorted(NODES), run.out[-3000:]
    for host, recap in run.recap.items():
        assert recap['changed'] == 0 and recap['failed'] == 0 and recap['unreachable'] == 0, (host, recap)
    # No diff at all: nothing would be different.
    assert not re.search(r'^(---|\+\+\+) ', run.out, re.M), run.out
    # The verify play at the end still checked the VIP (the engine runs, so check mode does not skip it).
    assert re.search(r'TASK \[hapair\.loadbalancer\.verify : Check that the VIP of the pair is on exactly one node', run.out)
    assert 'there is no VIP to check' not in run.out
    assert snapshot() == before
