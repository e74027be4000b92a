# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The heartbeat fault matrix is split between two lanes by the -k expressions of two molecule scenarios (default:
lane A, operations: lane C; scripts/test.sh): every fault of testbed/faults.py runs in exactly one of them, and lane C
runs exactly test_60's IN_LANE_C, so an edit of one expression that forgets the other fails here, not by a fault that
silently runs nowhere."""

from __future__ import annotations

import ast
import os
import sys

import yaml
from _pytest.mark.expression import Expression

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'testbed'))
import faults  # noqa: E402  # pylint: disable=wrong-import-position  # testbed/faults.py


def _selects(scenario, name):
    """Whether the scenario's -k picks test_60's test of fault `name` (pytest's rule: a word matches a keyword of
    the test - its name with the parameter, its module - that holds it, ignoring case)."""
    with open(os.path.join(ROOT, 'molecule', scenario, 'molecule.yml'), encoding='utf-8') as handle:
        expression = yaml.safe_load(handle)['verifier']['options']['k']
    keywords = ('test_60_faults.py', 'test_fault[%s]' % name, 'test_fault')
    return Expression.compile(expression).evaluate(lambda word: any(word.lower() in k.lower() for k in keywords))


def _in_lane_c():
    with open(os.path.join(ROOT, 'molecule', 'default', 'tests', 'test_60_faults.py'), encoding='utf-8') as handle:
        tree = ast.parse(handle.read())
    return next(ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
                and any(getattr(target, 'id', None) == 'IN_LANE_C' for target in node.targets))


def test_every_heartbeat_fault_runs_in_exactly_one_lane_and_lane_c_runs_in_lane_c():
    in_lane_c = set(_in_lane_c())
    assert in_lane_c and in_lane_c <= set(faults.FAULTS)
    for name in faults.FAULTS:
        picked = [scenario for scenario in ('default', 'operations') if _selects(scenario, name)]
        assert picked == (['operations'] if name in in_lane_c else ['default']), (name, picked)
