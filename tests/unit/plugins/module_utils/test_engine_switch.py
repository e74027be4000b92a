# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The engine switch (module_utils/engine_switch.py): what a node shows of each engine, and what a pair does to run
its hapair_engine - every case of switch_cases/engine_switch.yml (the engine_switch filter around it: filter/)."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.hapair.loadbalancer.plugins.module_utils import engine_switch, engines
from ansible_collections.hapair.loadbalancer.tests.unit.plugins.switch_fakes import CATALOGUE, NAMES, facts, pair

HERE = os.path.dirname(os.path.abspath(__file__))
ROLES = os.path.join(HERE, '..', '..', '..', '..', 'roles')
with open(os.path.join(HERE, 'switch_cases', 'engine_switch.yml'), encoding='utf-8') as handle:
    CASES = yaml.safe_load(handle)


@pytest.mark.parametrize('case', CASES, ids=[case['name'] for case in CASES])
def test_switch_case(case):
    plans = engine_switch.plan(pair(case['engine'], case.get('auto_failback', True)),
                               dict((host, facts(spec or {})) for host, spec in case['nodes'].items()), CATALOGUE)
    expect = case['expect']
    assert sorted(plans) == sorted(NAMES)
    for host, plan in plans.items():
        assert plan['pair'] == 'pair1' and plan['engine'] == case['engine']
        errors = expect.get('errors', [])
        assert len(plan['errors']) == len(errors), plan['errors']
        for message, part in zip(plan['errors'], errors, strict=True):
            assert part in message, (message, part)
        if 'old' in expect:
            assert plan['old'] == expect['old']
        if 'summary' in expect:
            if expect['summary'] == '':
                assert plan['summary'] == ''
            else:
                assert expect['summary'] in plan['summary'], plan['summary']
        for field, value in (expect.get(host) or {}).items():
            assert plan[field] == value, (host, field, plan[field])


def test_both_nodes_get_the_same_pair_level_view():
    plans = engine_switch.plan(pair('keepalived'), {'herring': facts({'heartbeat': ['active'], 'holds': True}),
                                                    'haddock': facts({'heartbeat': ['active']})}, CATALOGUE)
    for field in ('old', 'handover', 'summary', 'errors', 'hold'):
        assert plans['herring'][field] == plans['haddock'][field]
    assert (plans['herring']['peer'], plans['haddock']['peer']) == ('haddock', 'herring')


def test_node_facts_from_what_the_node_says():
    services = {'heartbeat': {'exists': True, 'active': True, 'enabled': True, 'unit_file_state': 'enabled'},
                'keepalived': {'exists': True, 'active': False, 'enabled': True, 'unit_file_state': 'static'},
                'hapair-monitor': {'exists': True, 'active': True}}
    packages = {'heartbeat': '1:3.0.6-13', 'net-tools': '2.10', 'keepalived': None}
    found = engine_switch.node_facts(engines.ENGINES.values(), services, packages,
                                     ['apache_balancer', 'heartbeat-reload', 'heartbeat-restart', 'monitor'], True)
    assert found == {
        'engines': {
            'heartbeat': {'exists': True, 'active': True, 'enabled': True, 'installed': True,
                          'markers': ['heartbeat-reload', 'heartbeat-restart']},
            # A static unit starts with whatever wants it, never by itself at boot: not an engine enabled here.
            'keepalived': {'exists': True, 'active': False, 'enabled': False, 'installed': False, 'markers': []},
        },
        'running': ['heartbeat'], 'holds_vip': True, 'monitor': {'exists': True, 'active': True}}


def test_node_facts_of_a_fresh_node():
    found = engine_switch.node_facts(engines.ENGINES.values(), {}, {}, None, False)
    assert found['running'] == [] and found['holds_vip'] is False and found['monitor'] == {'exists': False, 'active': False}
    assert all(not any(f[k] for k in ('exists', 'active', 'enabled', 'installed', 'markers'))
               for f in found['engines'].values())


@pytest.mark.parametrize('role, variable', [('heartbeat', '__heartbeat_retire_markers'),
                                            ('keepalived', '__keepalived_retire_files')])
def test_the_roles_retire_the_markers_the_contract_names(role, variable):
    """engine_facts reads Engine.markers; the role's `retire` entry point removes the same files."""
    with open(os.path.join(ROLES, role, 'vars', 'main.yml'), encoding='utf-8') as handle:
        paths = yaml.safe_load(handle)[variable]
    applied = [os.path.basename(p) for p in paths if os.path.dirname(p) == '/var/lib/hapair/applied']
    assert sorted(applied) == sorted(engines.get(role).markers)
