# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The vip_pair filter: judge a pair from both nodes' vip_check results."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


def _view(node, result):
    result = result or {}
    probe = result.get('arp_probe') or {}
    return {
        'node': node['name'],
        'host': node.get('host', node['name']),
        'holds': bool(result.get('holds_vip')),
        'mac': result.get('local_mac'),
        'probed': bool(probe.get('ran')),
        'responders': sorted(result.get('responders') or []),
        'error': (result.get('msg') or 'no result from vip_check') if result.get('verdict') is None else None,
        'verdict': result.get('verdict'),
    }


def vip_pair(nodes, results, cluster, vip):
    """Judge one pair: exactly one node holds the VIP and the nodes' ARP views agree.

    nodes: the pair's nodes, each a dict with its node name (name) and inventory name (host).
    results: what hapair.loadbalancer.vip_check returned on each node, in the same order.
    Returns {ok, holder, holder_host, msg}; msg says what is wrong, or where the VIP is.
    """
    if not isinstance(nodes, list) or not all(isinstance(n, dict) and 'name' in n for n in nodes):
        raise AnsibleFilterError('vip_pair expects a list of nodes, each a dict with a name')
    if not isinstance(results, list) or len(results) != len(nodes):
        raise AnsibleFilterError('vip_pair expects one vip_check result per node')
    views = [_view(node, result) for node, result in zip(nodes, results)]
    pair = "pair '%s'" % cluster
    failed = [v for v in views if v['error']]
    if failed:
        return {'ok': False, 'holder': None, 'holder_host': None,
                'msg': 'The VIP check of %s failed on %s.' % (
                    pair, '; '.join('%s: %s' % (v['node'], v['error']) for v in failed))}

    holders = [v for v in views if v['holds']]
    if not holders:
        others = sorted({mac for v in views for mac in v['responders']})
        msg = 'No node of %s holds VIP %s' % (pair, vip)
        if others:
            msg += '; another machine answers for it (%s)' % ', '.join(others)
        return {'ok': False, 'holder': None, 'holder_host': None, 'msg': msg + '.'}
    if len(holders) > 1:
        return {'ok': False, 'holder': None, 'holder_host': None,
                'msg': 'Split brain in %s: %s both hold VIP %s.' % (pair, ' and '.join(v['node'] for v in holders), vip)}

    holder = holders[0]
    disagreeing = []
    for view in views:
        if not view['probed']:
            continue
        expected = [] if view is holder else [holder['mac']]
        if view['responders'] != expected:
            disagreeing.append(view)
    if disagreeing:
        return {'ok': False, 'holder': holder['node'], 'holder_host': holder['host'],
                'msg': '%s holds VIP %s (MAC %s) in %s, but the views of the segment disagree: %s.' % (
                    holder['node'], vip, holder['mac'], pair,
                    '; '.join('%s sees it answered by [%s]' % (v['node'], ', '.join(v['responders']))
                              for v in disagreeing))}

    standby = [v for v in views if v is not holder]
    msg = 'VIP %s of %s is on %s (%s)' % (vip, pair, holder['node'], holder['host'])
    if standby:
        msg += '; %s stand%s by' % (' and '.join('%s (%s)' % (v['node'], v['host']) for v in standby),
                                    's' if len(standby) == 1 else '')
    unprobed = [v['node'] for v in views if not v['probed']]
    if unprobed:
        msg += ' (no ARP probe on %s: local state only)' % ', '.join(unprobed)
    return {'ok': True, 'holder': holder['node'], 'holder_host': holder['host'], 'msg': msg + '.'}


class FilterModule:
    """VIP filters."""

    def filters(self):
        return {'vip_pair': vip_pair}
