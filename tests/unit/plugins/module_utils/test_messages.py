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


def _errors(case, rule):
    model, _records = run(dict(case, name='message'))
    return [render(e) for e in model.errors if e.rule == rule]


@pytest.mark.parametrize('case, network', [
    ({'every': {'hapair_engine': 'keepalived', 'keepalived_virtual_router_id': 7}}, '198.51.100.0/26'),
    ({'every': {'hapair_engine': 'keepalived', 'keepalived_virtual_router_id': 7},
      'set': {h: {'hapair_vip_prefix': 24} for h in ('cod', 'ling')},
      'facts': {'cod': {'interfaces': [['eth0', '198.51.100.21'], ['eth1', '198.51.100.85']], 'prefix': 24},
                'ling': {'interfaces': [['eth0', '198.51.100.22'], ['eth1', '198.51.100.86']], 'prefix': 24}}},
     '198.51.100.0/24'),
])
def test_a_shared_virtual_router_id_names_both_pairs_the_network_and_the_way_out(case, network):
    """The error belongs to no single pair (its fields name neither): the words must name both."""
    errors = _errors(dict(case, hosts=['herring', 'haddock', 'cod', 'ling']), 'segment-id')
    assert len(errors) == 1, errors
    assert "pairs 'pair1' and 'pair2'" in errors[0] and ' id 7 ' in errors[0], errors
    assert '(%s)' % network in errors[0] and 'Set keepalived_virtual_router_id' in errors[0], errors


def test_a_pair_with_two_engines_names_the_pair_and_each_nodes_engine():
    errors = _errors({'set': {'haddock': {'hapair_engine': 'keepalived'}}}, 'pair-agree')
    assert len(errors) == 1 and errors[0].startswith("Pair 'pair1': hapair_engine differs"), errors
    assert "herring: 'heartbeat', haddock: 'keepalived'" in errors[0], errors


def test_an_advert_interval_out_of_range_says_what_vrrp_can_carry():
    errors = _errors({'every': {'hapair_engine': 'keepalived', 'keepalived_advert_int': '15ms'}}, 'range')
    assert len(errors) == 2 and all('10ms to 40950ms in steps of 10ms' in e for e in errors), errors
