# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The live engine switch: which engine each node of a pair runs now, and what the pair does to run its hapair_engine.

Two halves. On each node the engine_facts module reads, with node_facts(), what the node has of every engine of the
contract (engines.py): its unit (loaded, active, enabled), its packages, the markers its role writes (Engine.markers,
the proof that the collection deployed it there), and whether the node holds the VIP. On the controller, plan() turns
both nodes' facts and the pair's engine into one plan per node, which the engine_switch role follows step by step.

Why the hand-over is made this way (docs/design.md, "The engine switch", has the longer story): heartbeat and
keepalived do not talk to each other, so while the pair's nodes run different engines neither engine can hand the VIP
over by itself. The switch goes one node at a time, the standby first: the new engine is installed and configured on
both nodes without starting; the standby retires its old engine and starts the new one, which, hearing no peer of its
kind, claims the VIP after its own start-up time; the holder keeps the VIP (and serves) until it sees that claim on
the wire, and only then lets the VIP go and stops its old engine (vip_release.py): make before break, so the site
is never without a holder, and both hold it only for the moment between the claim and the release. Then the former
holder retires its old engine and starts the new one, which takes the VIP back by its own means when the pair has
auto_failback (keepalived: preemption by priority; heartbeat: auto_failback).

Pure Python and the standard library (Python 3.8 and later): node_facts() runs on the nodes too.
"""

from __future__ import annotations

# hapair-monitor's unit (roles/monitor), which the switch stops while the VIP moves between engines.
MONITOR_UNIT = 'hapair-monitor'


def node_facts(engines, services, packages, applied, holds_vip):
    """What one node has of each engine: {'engines': {name: {exists, active, enabled, installed, markers}}, 'running':
    [names of the engines whose unit is active], 'holds_vip', 'monitor': {exists, active}}.

    engines: the Engine objects (engines.ENGINES.values()); services: {unit: node_state.parse_systemctl_show()'s
    record} of their units and MONITOR_UNIT; packages: {package: version or None}; applied: the names in the markers'
    directory (None: no directory); holds_vip: whether the node's kernel has the VIP.
    """
    result = {}
    for engine in engines:
        unit = services.get(engine.service) or {}
        result[engine.name] = {
            'exists': bool(unit.get('exists')),
            'active': bool(unit.get('active')),
            'enabled': bool(unit.get('enabled')) and unit.get('unit_file_state') != 'static',
            'installed': all(packages.get(name) for name in engine.packages),
            'markers': sorted(name for name in (applied or ()) if name in engine.markers),
        }
    monitor = services.get(MONITOR_UNIT) or {}
    return {'engines': result, 'running': sorted(name for name, found in result.items() if found['active']),
            'holds_vip': bool(holds_vip),
            'monitor': {'exists': bool(monitor.get('exists')), 'active': bool(monitor.get('active'))}}


def _traces(found):
    """Whether a node shows an engine: it runs, starts at boot, or carries the markers of its role."""
    return bool(found.get('active') or found.get('enabled') or found.get('markers'))


def _label(node):
    return '%s (%s)' % (node['name'], node['host']) if node['name'] != node['host'] else node['name']


def _words(names):
    names = list(names)
    return names[0] if len(names) == 1 else ', '.join(names[:-1]) + ' and ' + names[-1]


def _empty(pair, wanted, peer):
    return {
        'pair': pair['name'], 'engine': wanted['name'], 'service': wanted['service'], 'peer': peer,
        'old': [], 'handover': False, 'mode': None, 'role': None, 'hold': False, 'stop_monitor': False,
        'retire_first': [], 'take': False, 'release': False, 'stop': [], 'adopt': False, 'keep': [], 'restore': [],
        'retire_after': [], 'start_after': False, 'summary': '', 'errors': [],
    }


def plan(pair, facts, catalogue):
    """{host: plan of that node} for one pair.

    pair: the published hapair_pair (name, engine: {name, service, role}, nodes: [{host, name}], preferred_host,
      auto_failback); facts: {host: what engine_facts returned there (node_facts())}; catalogue: {engine name:
      {'role', 'service', 'adopts_vip'}} of every engine the collection knows.

    The VIP passes make before break, one of two ways:
      'handover' (keepalived, which starts every instance as BACKUP and takes its VIPs off first): the standby starts
        the new engine alone, which, hearing no peer of its kind, claims the VIP; the holder lets it go once it sees
        the claim (vip_release.py). Then the former holder starts the new engine, which takes the VIP back by its own
        means if it is the preferred node (keepalived's preemption: the new master announces before the old one lets
        go).
      'joint' (Engine.adopts_vip: heartbeat, whose IPaddr agent finds a configured VIP running): the new engine starts
        on both nodes at once, so that it never starts alone (heartbeat alone takes the dead peer's resources over in
        two processes that report through one FIFO at the same moment, and under load it lost one report and stayed
        in transition for good), and the preferred node, its VIP's owner, acquires it: where the holder is the
        preferred node, the new engine takes the VIP over in place and the holder then stops its old engine keeping
        the VIP (vip_keep.py); where it is not, the preferred node claims it and the holder lets it go on the claim.
        Either way the VIP moves at most once, to the preferred node: a hand-over to the standby and heartbeat's own
        auto_failback would leave it on no node for a moment (0.37 to 1.17 s measured).

    A node's plan:
      old: the engines other than the pair's that the pair shows (running, enabled or marked), on either node;
      handover: whether the VIP passes from an old engine to the new one (the holder does not run the pair's engine
        alone); mode: 'handover' or 'joint' then, else None; role: 'standby' or 'holder' then, else None;
      hold: install and configure the pair's engine without starting it (both nodes, before the VIP passes);
      stop_monitor: stop hapair-monitor until the monitor role starts it again with the new engine's settings (it
        would act on the old engine's view of the pair, and re-announce the VIP the standby claims);
      retire_first: the roles of the old engines to retire (stop, disable, markers removed) before the VIP passes: the
        standby's, or, without a hand-over, every node's; restore: the standby's old engines' units, to start again if
        the switch fails while the holder still holds the VIP with its old engine;
      take: start the pair's engine when the VIP is to pass (the standby in a hand-over, both nodes in a joint start);
      release, stop (the holder, unless it adopts): wait until the new engine claims the VIP, then let it go and stop
        the old engines' units;
      adopt, keep (the holder in a joint start when it is the preferred node): wait until the new engine holds the VIP,
        then stop the old engines' units (keep), keeping the VIP;
      retire_after: the roles of the holder's old engines, retired once the VIP passed;
      start_after: start the pair's engine once the VIP passed (the holder in a hand-over);
      summary: one sentence for the pair, '' when nothing is to be done; errors: what keeps the pair from switching
        safely (nothing is changed then).
    """
    wanted = pair['engine']
    nodes = list(pair['nodes'])
    hosts = [node['host'] for node in nodes]
    plans = {}
    for node in nodes:
        peer = [other['host'] for other in nodes if other['host'] != node['host']]
        plans[node['host']] = _empty(pair, wanted, peer[0] if peer else None)
    if len(nodes) != 2 or any(host not in facts or not isinstance(facts[host], dict) for host in hosts):
        missing = [host for host in hosts if host not in facts or not isinstance(facts[host], dict)]
        error = "Pair '%s': no engine facts from %s." % (pair['name'], _words(missing or hosts))
        for item in plans.values():
            item['errors'] = [error]
        return plans

    def found(host, name):
        return (facts[host].get('engines') or {}).get(name) or {}

    others = sorted(name for name in catalogue if name != wanted['name'])
    old = dict((host, [name for name in others if _traces(found(host, name))]) for host in hosts)
    running_old = dict((host, [name for name in others if found(host, name).get('active')]) for host in hosts)
    runs_new = dict((host, bool(found(host, wanted['name']).get('active'))) for host in hosts)
    holders = [host for host in hosts if facts[host].get('holds_vip')]
    pair_old = sorted(set(name for host in hosts for name in old[host]))
    label = dict((node['host'], _label(node)) for node in nodes)

    adopts = bool(catalogue[wanted['name']].get('adopts_vip'))
    errors = []
    for host in hosts:
        running = sorted(set(running_old[host] + ([wanted['name']] if runs_new[host] else [])))
        # The preferred node holding the VIP in the middle of a joint start (a run cut short after the new engine took
        # the VIP over, before the old one stopped) goes on from there.
        resumes = adopts and runs_new[host] and holders == [host] and host == pair.get('preferred_host')
        if len(running) > 1 and not resumes:
            errors.append("Pair '%s': %s runs %s at once, each keeping the VIP on its own; stop the one that is not "
                          "hapair_engine's (systemctl disable --now UNIT) and run again." % (
                              pair['name'], label[host], _words(running)))
    if len(holders) > 1 and pair_old:
        errors.append("Pair '%s': both nodes hold VIP %s; the switch to %s needs one holder to hand it over: let the "
                      "pair settle (the verify playbook says more) and run again." % (
                          pair['name'], pair.get('vip'), wanted['name']))
    for item in plans.values():
        item['old'] = pair_old
        item['errors'] = errors
    if errors or not pair_old:
        return plans

    holder = holders[0] if len(holders) == 1 else None
    if holder is not None and (not runs_new[holder] or running_old[holder]):
        standby = [host for host in hosts if host != holder][0]
        s_plan, h_plan = plans[standby], plans[holder]
        joint = adopts
        for host, item in ((standby, s_plan), (holder, h_plan)):
            item.update(handover=True, mode='joint' if joint else 'handover', hold=True,
                        stop_monitor=bool((facts[host].get('monitor') or {}).get('active')))
        s_plan.update(role='standby', take=True, retire_first=[catalogue[name]['role'] for name in old[standby]],
                      restore=[catalogue[name]['service'] for name in running_old[standby]])
        h_plan.update(role='holder', retire_after=[catalogue[name]['role'] for name in old[holder]])
        old_units = [catalogue[name]['service'] for name in running_old[holder]]
        old_here = _words(running_old[holder] or old[holder] or ['nothing'])
        stops = ('stops %s and ' % _words(running_old[standby])) if running_old[standby] else ''
        if joint and holder == pair.get('preferred_host'):
            h_plan.update(take=True, adopt=True, keep=old_units)
            summary = ("Pair '%s' switches from %s to %s, the VIP staying where it is: %s, which stands by, %sstarts %s "
                       "at the same time as %s, which holds the VIP; there %s takes the VIP over as it is, and then %s "
                       "stops, the VIP kept." % (
                           pair['name'], _words(pair_old), wanted['name'], label[standby], stops, wanted['name'],
                           label[holder], wanted['name'], old_here))
        elif joint:
            h_plan.update(take=True, release=True, stop=old_units)
            summary = ("Pair '%s' switches from %s to %s: %s, which stands by, %sstarts %s at the same time as %s, which "
                       "holds the VIP; %s on %s, the preferred node, claims the VIP, and %s lets it go once that claim is "
                       "seen and stops %s." % (
                           pair['name'], _words(pair_old), wanted['name'], label[standby], stops, wanted['name'],
                           label[holder], wanted['name'], label[standby], label[holder], old_here))
        else:
            h_plan.update(release=True, start_after=True, stop=old_units)
            back = (', and takes the VIP back by %s\'s own means' % wanted['name']
                    if pair.get('auto_failback') and holder == pair.get('preferred_host') else '')
            summary = ("Pair '%s' switches from %s to %s, one node at a time: %s, which stands by, %sstarts %s and "
                       "claims the VIP; %s, which holds it, lets it go once that claim is seen, stops %s and starts "
                       "%s%s." % (pair['name'], _words(pair_old), wanted['name'], label[standby], stops, wanted['name'],
                                  label[holder], old_here, wanted['name'], back))
    else:
        for host in hosts:
            plans[host]['retire_first'] = [catalogue[name]['role'] for name in old[host]]
        retired = ['%s on %s' % (_words(old[host]), label[host]) for host in hosts if old[host]]
        summary = ("Pair '%s' runs %s: %s retired (stopped, disabled, its markers removed); no VIP to hand over%s." % (
            pair['name'], wanted['name'], '; '.join(retired),
            ' (%s holds it with %s)' % (label[holder], wanted['name']) if holder else ' (no node holds it)'))
    for item in plans.values():
        item['summary'] = summary
    return plans
