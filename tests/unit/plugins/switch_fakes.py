# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A pair and its nodes' engine facts for the engine switch's tests (module_utils/engine_switch.py and its filter)."""

from __future__ import annotations

from ansible_collections.hapair.loadbalancer.plugins.module_utils import engines

CATALOGUE = dict((name, {'role': engine.role, 'service': engine.service, 'adopts_vip': engine.adopts_vip})
                 for name, engine in engines.ENGINES.items())
NAMES = {'herring': 'loadb1', 'haddock': 'loadb2'}


def pair(engine, auto_failback=True):
    return {'name': 'pair1', 'vip': '198.51.100.10', 'engine': dict(CATALOGUE[engine], name=engine),
            'nodes': [{'host': host, 'name': name} for host, name in sorted(NAMES.items(), key=lambda item: item[1])],
            'preferred_host': 'herring', 'auto_failback': auto_failback}


def facts(spec):
    """engine_facts' result for a node of a case (see the case file's header)."""
    found = {}
    for name, engine in engines.ENGINES.items():
        marks = spec.get(name, [])
        found[name] = {'exists': bool(marks), 'active': 'active' in marks, 'enabled': 'enabled' in marks,
                       'installed': 'installed' in marks or 'active' in marks,
                       'markers': sorted(engine.markers) if 'marked' in marks else []}
    return {'engines': found, 'running': sorted(n for n, f in found.items() if f['active']),
            'holds_vip': bool(spec.get('holds')), 'monitor': {'exists': True, 'active': spec.get('monitor', True)}}
