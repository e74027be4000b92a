# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a few messages say, where the reason is in the words rather than in the fields the cases compare."""

from __future__ import annotations

import pytest

from ansible_collections.hapair.loadbalancer.plugins.module_utils.errors import render
from ansible_collections.hapair.loadbalancer.tests.unit.plugins.module_utils.test_input_cases import run


def _warnings(case):
    model, _records = run(dict(case, name='message'))
    return [render(w) for w in model.warnings if w.rule == 'no-ping-nodes']


@pytest.mark.parametrize('case, reason', [
    ({'every': {'hapair_ping_nodes': '__missing__'}}, 'the host has no default gateway, which would be the default'),
    ({'every': {'hapair_ping_nodes': '__missing__'},
      'facts': {h: {'gateway': '198.51.100.65', 'default_interface': 'eth1'} for h in ('herring', 'haddock')}},
     "the default gateway 198.51.100.65 is outside the VIP's network 198.51.100.0/26"),
    # The old wording said the gateway was outside the VIP's network here, where it is inside.
    ({'every': {'hapair_ping_nodes': []}, 'facts': {h: {'gateway': '198.51.100.1'} for h in ('herring', 'haddock')}},
     'it is set to []'),
    ({'every': {'hapair_ping_nodes': '__missing__', 'hapair_vip': ''}, 'entry_points': ['monitor'],
      'facts': {h: {'gateway': '198.51.100.1'} for h in ('herring', 'haddock')}},
     "the default gateway 198.51.100.1 is not matched to the VIP's network, as hapair_vip is not set or not valid"),
])
def test_the_no_ping_nodes_warning_says_why(case, reason):
    warnings = _warnings(case)
    assert len(warnings) == 2 and all('hapair_ping_nodes is empty (%s)' % reason in w for w in warnings), warnings


def test_the_gateway_in_the_vips_network_is_the_default_ping_node_without_a_word():
    assert _warnings({'every': {'hapair_ping_nodes': '__missing__'},
                      'facts': {h: {'gateway': '198.51.100.1'} for h in ('herring', 'haddock')}}) == []
