# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The engine_switch filter: what a pair does to run its hapair_engine, from both nodes' engine_facts."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.hapair.loadbalancer.plugins.module_utils import engine_switch as switch
from ansible_collections.hapair.loadbalancer.plugins.module_utils import engines


def engine_switch(pair, results):
    """{host: plan} of a pair (module_utils/engine_switch.py: plan()).

    pair: the published hapair_pair; results: what hapair.loadbalancer.engine_facts returned on each node of
    pair['nodes'], in that order.
    """
    if not isinstance(pair, dict) or not isinstance(pair.get('engine'), dict) or 'nodes' not in pair:
        raise AnsibleFilterError('engine_switch expects the published hapair_pair')
    nodes = list(pair['nodes'])
    if not isinstance(results, list) or len(results) != len(nodes):
        raise AnsibleFilterError('engine_switch expects one engine_facts result per node of the pair')
    facts = dict((node['host'], result) for node, result in zip(nodes, results)
                 if isinstance(result, dict) and not result.get('failed') and 'engines' in result)
    catalogue = dict((name, {'role': engine.role, 'service': engine.service, 'adopts_vip': engine.adopts_vip})
                     for name, engine in engines.ENGINES.items())
    return switch.plan(pair, facts, catalogue)


class FilterModule:
    def filters(self):
        return {'engine_switch': engine_switch}
