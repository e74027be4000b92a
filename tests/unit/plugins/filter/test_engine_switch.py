# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The engine_switch filter: each node's plan from the pair and the nodes' engine facts, and what it refuses."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.hapair.loadbalancer.plugins.filter.engine_switch import engine_switch as switch_filter
from ansible_collections.hapair.loadbalancer.tests.unit.plugins.switch_fakes import facts, pair


def test_the_filter_pairs_the_results_with_the_nodes():
    results = [dict(facts({'heartbeat': ['active'], 'holds': True}), changed=False),
               dict(facts({'heartbeat': ['active']}), changed=False)]
    plans = switch_filter(pair('keepalived'), results)
    assert plans['herring']['role'] == 'holder' and plans['haddock']['role'] == 'standby'
    # A failed read counts as none: the pair is refused.
    plans = switch_filter(pair('keepalived'), [results[0], {'failed': True, 'msg': 'unreachable'}])
    assert plans['herring']['errors'] == ["Pair 'pair1': no engine facts from haddock."]


@pytest.mark.parametrize('value, results', [({'name': 'pair1'}, []), (pair('keepalived'), [{}]),
                                            (pair('keepalived'), 'x')])
def test_the_filter_refuses_what_is_no_pair(value, results):
    with pytest.raises(AnsibleFilterError):
        switch_filter(value, results)
