# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The filters behind verify's table of all pairs (pair_status, status_table) and the maintenance playbook's plan
(maintenance_plan): data shaping only, from what the nodes returned."""

from __future__ import annotations

import base64
import re
import time

from ansible.errors import AnsibleFilterError

from ansible_collections.hapair.loadbalancer.plugins.module_utils import maintenance

# A sample line of Prometheus' text format: name, optional {labels}, value (a timestamp after it is ignored).
_SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)(?:\s+\S+)?\s*$')
_LABEL = re.compile(r'\s*(?P<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?P<value>(?:[^"\\]|\\.)*)"\s*,?')
COLUMNS = ('pair', 'engine', 'holder', 'health', 'maintenance', 'last transition', 'moves')


def parse_metrics(text):
    """[(name, {label: value}, float)] of the samples in Prometheus' text format; lines it cannot read are skipped."""
    samples = []
    for line in (text or '').splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        match = _SAMPLE.match(line)
        if not match:
            continue
        labels = {}
        for label in _LABEL.finditer(match.group('labels') or ''):
            labels[label.group('key')] = re.sub(r'\\(.)', lambda m: '\n' if m.group(1) == 'n' else m.group(1),
                                                label.group('value'))
        try:
            value = float(match.group('value'))
        except ValueError:
            continue
        samples.append((match.group('name'), labels, value))
    return samples


def _clock(epoch):
    return time.strftime('%H:%M:%S', time.gmtime(epoch))


def ago(seconds):
    """12s, 4m, 3h, 2d."""
    seconds = max(0, int(seconds))
    for unit, size in (('d', 86400), ('h', 3600), ('m', 60)):
        if seconds >= size:
            return '%d%s' % (seconds // size, unit)
    return '%ds' % seconds


def _health(view, now):
    """One node's health in a few words."""
    state = view.get('state') or {}
    status = state.get('status')
    if not status:
        return 'no monitor'
    if not state.get('monitor_running'):
        return 'monitor down (%s old)' % ago(now - status.get('time', 0))
    problems = []
    if not status.get('apache_ok'):
        problems.append('Apache failed')
    total = status.get('ping_total') or 0
    if total and (status.get('ping_ok') or 0) < total:
        problems.append('pings %d/%d' % (status.get('ping_ok') or 0, total))
    if status.get('engine') != 'running' and not status.get('maintenance'):
        problems.append('engine %s' % (status.get('engine') or 'unknown'))
    return ', '.join(problems) or 'ok'


def pair_status(views, now=None):
    """One row per pair, in the order of the pairs' first nodes.

    views: one per node - {host, name, pair, engine, preferred, vip (vip_check's result, or None when it did not run),
      state (maintenance_state's result: maintenance, since, reason, monitor_running, phase, status), metrics (the
      metrics file's text, or None)}.
    Returns [{pair, engine, holder, health, maintenance, last_transition, moves, ok}] with every cell a string (ok: a
    bool, whether the pair looks as it should: one holder, every node healthy, nobody in maintenance).
    """
    if not isinstance(views, list) or not all(isinstance(v, dict) and 'pair' in v for v in views):
        raise AnsibleFilterError('pair_status expects a list of node views, each a dict with its pair')
    now = time.time() if now is None else now
    pairs = {}
    for view in views:
        pairs.setdefault(view['pair'], []).append(view)
    rows = []
    for name, nodes in pairs.items():
        nodes = sorted(nodes, key=lambda v: v['name'])
        holders = []
        for view in nodes:
            vip = view.get('vip') or {}
            status = (view.get('state') or {}).get('status') or {}
            holds = vip.get('holds_vip') if 'holds_vip' in vip else status.get('holds_vip')
            if holds:
                holders.append(view['name'])
        holder = holders[0] if len(holders) == 1 else ('none' if not holders else 'BOTH: ' + ', '.join(holders))
        health = '; '.join('%s %s' % (v['name'], _health(v, now)) for v in nodes)
        in_maintenance = []
        for view in nodes:
            state = view.get('state') or {}
            if not state.get('maintenance'):
                continue
            text = view['name']
            if isinstance(state.get('since'), (int, float)):
                text += ' for %s' % ago(now - state['since'])
            if state.get('phase') and state['phase'] != 'in':
                text += ' (%s)' % state['phase']
            if state.get('reason'):
                text += ': %s' % state['reason']
            in_maintenance.append(text)
        last = None
        for view in nodes:
            transition = ((view.get('state') or {}).get('status') or {}).get('last_transition') or {}
            if isinstance(transition.get('time'), (int, float)) and (last is None or transition['time'] > last[1]['time']):
                last = (view['name'], transition)
        moves = 0
        counted = False
        for view in nodes:
            if view.get('metrics'):
                counted = True
                moves += int(sum(value for metric, labels, value in parse_metrics(view['metrics'])
                                 if metric == 'hapair_vip_transitions_total' and labels.get('direction') == 'gained'))
        engine = nodes[0].get('engine') or '?'
        rows.append({
            'pair': name, 'engine': engine, 'holder': holder, 'health': health,
            'maintenance': ', '.join(in_maintenance) or '-',
            'last_transition': '%s %s %s (%s ago): %s' % (last[0], last[1].get('direction', '?'), _clock(last[1]['time']),
                                                          ago(now - last[1]['time']), last[1].get('reason', '?'))
            if last else '-',
            'moves': str(moves) if counted else '-',
            'ok': len(holders) == 1 and all(_health(v, now) == 'ok' for v in nodes) and not in_maintenance,
        })
    return rows


def status_table(rows):
    """The rows of pair_status as lines of a table, columns padded to their widest cell."""
    if not isinstance(rows, list):
        raise AnsibleFilterError('status_table expects the rows of pair_status')
    keys = ('pair', 'engine', 'holder', 'health', 'maintenance', 'last_transition', 'moves')
    table = [list(COLUMNS)] + [[str(row.get(key, '')) for key in keys] for row in rows]
    widths = [max(len(line[index]) for line in table) for index in range(len(keys))]
    lines = ['  '.join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in table]
    lines.insert(1, '  '.join('-' * width for width in widths))
    return lines


def _get(mapping, key, default=None):
    try:
        value = mapping[key]
    except (KeyError, TypeError):
        return default
    return default if value is None else value


def node_views(hosts, state=None, vip=None, metrics=None):
    """One view per node of the play, for pair_status and maintenance_plan, from the hosts' variables (`ansible_play_hosts |
    map('extract', hostvars)`): host, name, pair, peer (the peer's inventory name), engine, preferred, and from the
    variables named by `state` (a maintenance_state result), `vip` (a vip_check result) and `metrics` (a slurp of the
    metrics file): state, vip, metrics (its text). Hosts without a pair (hapair_pair) are left out."""
    views = []
    for host in hosts:
        pair = _get(host, 'hapair_pair')
        node = _get(host, 'hapair_node')
        if not isinstance(pair, dict) or not isinstance(node, dict):
            continue
        view = {'host': _get(host, 'inventory_hostname', node.get('host')), 'name': node.get('name'),
                'pair': pair.get('name'), 'peer': (_get(host, 'hapair_peer', {}) or {}).get('host'),
                'engine': (pair.get('engine') or {}).get('name'),
                'preferred': pair.get('preferred_node') == node.get('name'),
                'state': dict(_get(host, state, {})) if state else {},
                'vip': None, 'metrics': None}
        if vip:
            result = _get(host, vip, {})
            if isinstance(result, dict) and result.get('verdict') is not None:
                view['vip'] = dict(result)
        if metrics:
            result = _get(host, metrics, {})
            if isinstance(result, dict) and result.get('content'):
                try:
                    view['metrics'] = base64.b64decode(result['content']).decode('utf-8', 'replace')
                except (ValueError, TypeError):
                    view['metrics'] = None
        views.append(view)
    return views


def maintenance_plan(views, request, force=False):
    """The maintenance playbook's plan (module_utils/maintenance.py: plan()) from one view per node: {host, name, pair,
    peer (the peer's inventory name), state (maintenance_state's result)}."""
    if not isinstance(views, list) or not all(isinstance(v, dict) and 'host' in v for v in views):
        raise AnsibleFilterError('maintenance_plan expects a list of node views, each a dict with its host')
    if request is not None and not isinstance(request, (list, tuple)):
        raise AnsibleFilterError('maintenance_plan expects the typed hapair_maintenance, a list or null')
    return maintenance.plan(request, bool(force), views)


class FilterModule:
    """Status and maintenance filters."""

    def filters(self):
        return {'pair_status': pair_status, 'status_table': status_table, 'maintenance_plan': maintenance_plan,
                'node_views': node_views}
