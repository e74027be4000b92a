# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The maintenance playbook's plan, on the controller: which nodes go into maintenance, which come out, and what is
refused before any node changes.

The input check (role_input.rules_maintenance, pair_model.check_maintenance) has made sure that every name of
hapair_maintenance is a node of the play and that one pair's two nodes are named together only with
hapair_maintenance_force. What depends on the nodes' state is decided here, from what each node's
maintenance_state module read (the state file and hapair-monitor's status file):

- a node enters only where hapair-monitor runs (it does the hand-over) - always refused otherwise, even forced;
- a node whose peer is (and stays) in maintenance does not enter unless forced: the pair would have no node left;
- a node that holds the VIP enters only when its peer can take it (its monitor runs, its Apache answers, it reaches
  a ping node, its engine runs), unless forced - then it keeps the VIP until the peer can (the monitor says
  `blocked`);
- `none` takes every node of the play out of maintenance; leaving needs the node's monitor too (it rejoins the engine).

Pure Python and the standard library.
"""

from __future__ import annotations

import time

from ansible_collections.hapair.loadbalancer.plugins.module_utils import node_maintenance

NONE = 'none'


def _peer_view(result):
    """A node's maintenance_state result as the peer's page looks to node_maintenance.peer_can_take()."""
    status = result.get('status') or {}
    return {'reachable': bool(status), 'fresh': bool(result.get('monitor_running')), 'errors': ['no status file'],
            'maintenance': bool(result.get('maintenance')), 'apache_ok': bool(status.get('apache_ok')),
            'ping_ok': int(status.get('ping_ok') or 0), 'engine': status.get('engine')}


def when(epoch):
    """A time for people: 2026-12-05 10:31 UTC."""
    return time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(epoch))


def _since(result):
    since = result.get('since')
    return ' (since %s)' % when(since) if isinstance(since, (int, float)) and not isinstance(since, bool) else ''


def plan(request, force, nodes):
    """What the maintenance playbook does.

    request: the typed hapair_maintenance - a list of node or inventory names, ['none'], or None (report only).
    force: hapair_maintenance_force.
    nodes: [{'host', 'name', 'pair', 'peer' (the peer's inventory name), 'state' (maintenance_state's result)}] for
      every node of the play.
    Returns {'enter': [hosts], 'leave': [hosts], 'refused': [sentences], 'notes': [sentences]}.
    """
    by_host = dict((node['host'], node) for node in nodes)
    result = {'enter': [], 'leave': [], 'refused': [], 'notes': []}
    if request is None:
        return result
    names = [str(name) for name in request]
    if [name.lower() for name in names] == [NONE]:
        for node in nodes:
            state = node.get('state') or {}
            if not state.get('maintenance'):
                continue
            if not state.get('monitor_running'):
                result['refused'].append('%s (%s) cannot leave maintenance: hapair-monitor does not run there, and it is '
                                         'what brings the node back into the pair.' % (node['name'], node['host']))
                continue
            result['leave'].append(node['host'])
        if not result['leave'] and not result['refused']:
            result['notes'].append('No node of the play is in maintenance.')
        return result
    lookup = {}
    for node in nodes:
        lookup[node['host'].lower()] = node
        lookup[node['name'].lower()] = node
    chosen = []
    for name in names:
        node = lookup.get(name.lower())
        if node is not None and node not in chosen:
            chosen.append(node)  # unknown names are refused by the input check already
    chosen_hosts = [node['host'] for node in chosen]
    for node in chosen:
        state = node.get('state') or {}
        label = '%s (%s)' % (node['name'], node['host'])
        if state.get('maintenance'):
            result['notes'].append('%s is in maintenance already%s.' % (label, _since(state)))
            continue
        if not state.get('monitor_running'):
            result['refused'].append('%s cannot go into maintenance: hapair-monitor does not run there (hapair_monitor '
                                     'must be true), and it is what moves the VIP off the node and keeps it off.' % label)
            continue
        peer = by_host.get(node.get('peer'))
        peer_state = (peer or {}).get('state') or {}
        if peer is not None and (peer_state.get('maintenance') or peer['host'] in chosen_hosts) and not force:
            result['refused'].append('%s cannot go into maintenance: its peer %s (%s) is %s, and the pair would have no '
                                     'node to serve the site. Take the peer out first (-e hapair_maintenance=none), '
                                     'or set hapair_maintenance_force: true.' % (
                                         label, peer['name'], peer['host'], 'in maintenance%s' % _since(peer_state)
                                         if peer_state.get('maintenance') else 'named too'))
            continue
        if state.get('holds_vip') and peer is not None:
            ok, why = node_maintenance.peer_can_take(_peer_view(peer_state), 1 if (peer_state.get('status') or {}).get(
                'ping_total') else 0)
            if not ok and not force:
                result['refused'].append('%s holds the VIP and cannot hand it over: %s. Put the peer right first, or set '
                                         'hapair_maintenance_force: true (the node then keeps the VIP until its peer '
                                         'can take it).' % (label, why.replace('the peer', 'its peer %s' % peer['name'])))
                continue
            if not ok:
                result['notes'].append('%s goes into maintenance but keeps the VIP until its peer can take it: %s.'
                                       % (label, why))
        result['enter'].append(node['host'])
    return result
