#!/usr/bin/env python
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmarks of hapair.loadbalancer on the local container test bed.

Run through benchmarks/run.sh, which sets up the machine first. Every figure is the median of --runs runs
(at least 5), and every comparison is a ratio of two figures measured in the same run:

- provisioning: a pair from fresh containers (cold) and the idempotent second run, each against a baseline
  playbook that only gathers facts on the same pair;
- faults: every fault of testbed/faults.py on a pair of each engine (heartbeat, keepalived) with each timer profile
  (standard, fast), with the test bed's client (hey) asking for the site every 100 ms; the freeze and the split
  --heal-runs times (at least 10); the maxima and medians become benchmarks/reference.json (--reference), which the
  fault matrix's bounds are checked against (testbed/bounds.py);
- drill: the failover playbook (methods stop and apache) on a pair of each engine, its own figures against the test
  bed's client;
- soak: a keepalived pair with the fast profile under full CPU load (stress-ng on this machine, whose cores the
  nodes share) for --soak-minutes, the client asking all along: no VIP move, no failed request;
- scale: three pairs against one pair, both cold, in one run of the site playbook each;
- input_check: the site playbook's input check (its first play) for one pair and for three, on the controller
  alone: fake hosts whose facts come from a fact cache, so nothing is gathered or contacted; reported as the run
  minus an empty play on the same inventory (ansible-playbook's own start).

The results, with a description of the machine, go to benchmarks/results/<date>-<host>-<label>.json and .md.

--from-suite-logs turns the molecule lanes' logs of a whole suite run (scripts/test.sh: tests/output/molecule-*.log)
into a results file of the same form: every fault the fault matrix ran, its figures as the test printed them. The
suite's runs are measured under the suite's own load (three lanes, the controller's tests beside them), the load the
bounds are asserted under; such a file's runs are added to the benchmark's runs of the same fault (`"adds": true`),
where a benchmark file's runs replace older ones'.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
ONE_PAIR = os.path.join(ROOT, 'testbed', 'inventory', 'one-pair.yml')
THREE_PAIRS = os.path.join(ROOT, 'testbed', 'inventory', 'three-pairs.yml')
SITE = os.path.join(ROOT, 'playbooks', 'site.yml')
VERIFY = os.path.join(ROOT, 'playbooks', 'verify.yml')
FAILOVER = os.path.join(ROOT, 'playbooks', 'failover.yml')
FACTS = os.path.join(ROOT, 'benchmarks', 'facts.yml')
KEEPALIVED = os.path.join(ROOT, 'testbed', 'inventory', 'keepalived-pair')
# The bed the faults, drill and soak parts run on (--bed): one-pair.yml, or another bed's inventory so that two
# benchmarks can run at once.
BED = {'inventory': ONE_PAIR}


def engine_inventories(engine):
    return [BED['inventory']] + ([KEEPALIVED] if engine == 'keepalived' else [])


REFERENCE = os.path.join(ROOT, 'benchmarks', 'reference.json')
sys.path.insert(0, os.path.join(ROOT, 'testbed'))
import bounds  # noqa: E402  # pylint: disable=wrong-import-position  # testbed/bounds.py
import faults  # noqa: E402  # pylint: disable=wrong-import-position  # testbed/faults.py


def log(message):
    print('[%s] %s' % (time.strftime('%H:%M:%S'), message), flush=True)


def run(args, check=True, env=None):
    result = subprocess.run(args, capture_output=True, text=True, check=False, cwd=ROOT,
                            env=dict(os.environ, **(env or {})))
    if check and result.returncode != 0:
        sys.exit('failed (%s): %s\n%s\n%s' % (result.returncode, ' '.join(args), result.stdout[-4000:], result.stderr[-2000:]))
    return result


def playbook(inventory, path, *extra, env=None):
    """Seconds a playbook run takes, and the number of changed tasks in its recap."""
    return playbook_args(['-i', inventory, path, *extra], env=env)


def playbook_args(args, env=None):
    """Seconds an ansible-playbook run with these arguments takes, the changed tasks in its recap, its output."""
    start = time.monotonic()
    result = run(['ansible-playbook', *args], env=env)
    seconds = time.monotonic() - start
    changed = sum(int(n) for n in re.findall(r'changed=(\d+)', result.stdout))
    return seconds, changed, result.stdout


def fresh_testbed(inventory):
    """Remove every test bed container (of the largest inventory) and start those of this one afresh."""
    run(['ansible-playbook', '-i', THREE_PAIRS, os.path.join(ROOT, 'testbed', 'down.yml')])
    run(['ansible-playbook', '-i', inventory, os.path.join(ROOT, 'testbed', 'up.yml')])


def median(values):
    return round(statistics.median(values), 2)


def bench_provisioning(runs):
    rows = []
    for i in range(runs):
        log('provisioning %d/%d: fresh containers' % (i + 1, runs))
        fresh_testbed(ONE_PAIR)
        baseline, _changed, _out = playbook(ONE_PAIR, FACTS)
        cold, cold_changed, _out = playbook(ONE_PAIR, SITE)
        second, second_changed, _out = playbook(ONE_PAIR, SITE)
        if second_changed:
            sys.exit('the second run changed %d tasks' % second_changed)
        verify, _changed, _out = playbook(ONE_PAIR, VERIFY)
        rows.append({'baseline_s': round(baseline, 2), 'cold_s': round(cold, 2), 'cold_changed': cold_changed,
                     'second_s': round(second, 2), 'verify_s': round(verify, 2), 'cold_ratio': round(cold / baseline, 2),
                     'second_ratio': round(second / baseline, 2), 'verify_ratio': round(verify / baseline, 2)})
        log('  baseline %.1f s, cold %.1f s, second %.1f s, verify %.1f s' % (baseline, cold, second, verify))
    keys = ('baseline_s', 'cold_s', 'second_s', 'verify_s', 'cold_ratio', 'second_ratio', 'verify_ratio')
    return {'runs': rows, 'median': {key: median([r[key] for r in rows]) for key in keys}}


def profile_cold_run():
    """The slowest tasks of one cold run (ansible.posix.profile_tasks), to find the slow spots."""
    fresh_testbed(ONE_PAIR)
    _seconds, _changed, out = playbook(ONE_PAIR, SITE, env={'ANSIBLE_CALLBACKS_ENABLED': 'ansible.posix.profile_tasks',
                                                            'ANSIBLE_NOCOLOR': '1'})
    tasks = re.findall(r'^(.+?) -+ (\d+\.\d+)s$', out, re.M)
    return [{'task': name.strip(), 'seconds': float(seconds)} for name, seconds in tasks[:12]]


def inventory_args(engine):
    return [arg for path in engine_inventories(engine) for arg in ('-i', path)]


_CONVERGED = {}


def converge(engine, profile):
    """The one-pair test bed running `engine` with the timer profile `profile`; its faults.Bed. Fresh containers for
    the first pair of this run and for a change of engine."""
    if _CONVERGED.get('engine') != engine:
        run(['ansible-playbook', '-i', BED['inventory'], os.path.join(ROOT, 'testbed', 'down.yml')])
        run(['ansible-playbook', '-i', BED['inventory'], os.path.join(ROOT, 'testbed', 'up.yml')])
        _CONVERGED['engine'] = engine
    else:
        run(['ansible-playbook', '-i', BED['inventory'], os.path.join(ROOT, 'testbed', 'up.yml')])
    log('converging the pair: %s, %s timers' % (engine, profile))
    run(['ansible-playbook', *inventory_args(engine), SITE, '-e', 'hapair_timers=%s' % profile])
    bed = faults.Bed(engine_inventories(engine), profile=profile, log=log)
    bed.repair()
    return bed


def bench_faults(engine, profile, runs, heal_runs, names=None):
    """The faults of testbed/faults.py named (all of the profile's, faults.PROFILE_FAULTS, by default), `runs` times each (the freeze and the split
    `heal_runs` times), on a pair of `engine` with the timer profile `profile`: {fault: {runs: [figures]}}."""
    unknown = sorted(set(names or ()) - set(faults.FAULTS))
    if unknown:
        raise ValueError('no such fault in testbed/faults.py: %s' % ', '.join(unknown))
    bed = converge(engine, profile)
    result = {}
    for name in [n for n in faults.PROFILE_FAULTS[profile] if not names or n in names]:
        rows = []
        for i in range(heal_runs if name in ('freeze', 'split') else runs):
            bed.repair()
            row = faults.run_fault(bed, name, whole=True)
            rows.append(row)
            log('  %s %s %s %d: site back %s s, %s failed (%s after the undo), gap %s s, two holders %s s, back %s s' % (
                engine, profile, name, i + 1, row['site_back_s'], row['failed_fault'], row['failed_undo'],
                row['longest_gap_s'], row['two_holders_max_s'], row['back_s']))
        result[name] = {'runs': rows}
    return result


def bench_drill(engine, runs):
    """The failover playbook (methods stop and apache) on a converged pair of `engine`, the test bed's client asking
    all along: the drill's own figures against the client's."""
    bed = converge(engine, 'standard')
    work = os.path.join(ROOT, 'benchmarks', 'work')
    os.makedirs(work, exist_ok=True)
    result = {}
    for method in ('stop', 'apache'):
        rows = []
        for i in range(runs):
            bed.repair()
            report_file = os.path.join(work, 'drill-%s-%d.json' % (method, i))
            client = faults.Client(bed.url)
            client.start()
            try:
                time.sleep(1)
                seconds, _changed, _out = playbook_args(
                    [*inventory_args(engine), FAILOVER, '-e', 'hapair_drill_method=%s' % method,
                     '-e', 'hapair_drill_report=%s' % report_file])
                time.sleep(1)
            finally:
                client.stop()
            with open(report_file, encoding='utf-8') as handle:
                drill = json.load(handle)['pairs'][0]
            seen = faults.measure.client_figures(client.outages(), drill['fault_at'], drill['restored_at'],
                                                 client.started, client.stopped, interval=client.interval)
            rows.append({'drill_failover_s': drill['failover_seconds'],
                         'drill_client_back_s': drill['client']['site_back_seconds'],
                         'testbed_client_back_s': seen.site_back, 'testbed_failed': seen.failed_fault,
                         'difference_s': round(abs(drill['client']['site_back_seconds'] - (seen.site_back or 0)), 2),
                         'failback_s': drill['failback_seconds'], 'playbook_s': round(seconds, 2)})
            log('  drill %s %s %d/%d: failover %s s on the nodes; site back %s s (drill client) / %s s (test bed)' % (
                engine, method, i + 1, runs, drill['failover_seconds'], drill['client']['site_back_seconds'],
                seen.site_back))
        keys = ('drill_failover_s', 'drill_client_back_s', 'testbed_client_back_s', 'difference_s', 'failback_s',
                'playbook_s')
        result[method] = {'runs': rows, 'median': {key: median([r[key] or 0 for r in rows]) for key in keys},
                          'max': {key: max(r[key] or 0 for r in rows) for key in keys}}
    return result


def bench_soak(minutes):
    """A keepalived pair with the fast profile, stress-ng loading every core of this machine (which the nodes share)
    for `minutes`, the test bed's client asking every 100 ms all along: VIP moves and failed requests."""
    bed = converge('keepalived', 'fast')
    watchers = dict((h, faults.AddressWatcher(bed, h)) for h in bed.nodes)
    for watcher in watchers.values():
        watcher.start()
    client = faults.Client(bed.url)
    client.start()
    start = time.time()
    log('soak: stress-ng on every core for %d minutes' % minutes)
    stress = subprocess.run(['stress-ng', '--cpu', '0', '--cpu-load', '100', '--timeout', '%ds' % (minutes * 60),
                             '--metrics-brief'], capture_output=True, text=True, check=False)
    client.stop()
    for watcher in watchers.values():
        watcher.stop()
    moves = [(round(e['at'] - start, 2), h, e['holds']) for h in bed.nodes for e in watchers[h].events[1:]]
    seen = faults.measure.client_figures(client.outages(), start, None, client.started, client.stopped,
                                         interval=client.interval)
    result = {'minutes': minutes, 'stress_ng_rc': stress.returncode, 'requests': len(client.requests),
              'failed': seen.failed, 'vip_changes': moves, 'longest_gap_s': seen.longest_gap,
              'loadavg_end': faults.loadavg()}
    log('soak: %(requests)d requests, %(failed)d failed, VIP changes %(vip_changes)s' % result)
    return result


FIGURES = ('site_back_s', 'failed_fault', 'failed_undo', 'longest_gap_s', 'longest_gap_undo_s', 'two_holders_max_s',
           'moved_s', 'back_s', 'one_holder_s')


# The figures of a move on purpose (testbed/bounds.py's MOVES).
MOVE_FIGURES = ('two_holders_s',)


def summary(rows, figures=FIGURES):
    """{figure: {median, max, none}} over a fault's (or a move's) runs (none: the runs where it did not happen)."""
    result = {}
    for key in figures:
        values = [r.get(key) for r in rows if r.get(key) is not None]
        result[key] = {'median': median(values) if values else None, 'max': max(values) if values else None,
                       'none': len(rows) - len(values)}
    if figures is FIGURES:
        result['whole_end'] = sum(1 for r in rows if r.get('whole_end'))
    result['runs'] = len(rows)
    return result


def reference(paths):
    """benchmarks/reference.json from results files: for every engine, profile and fault, each figure's median and
    maximum over every run of every file (the newest file's runs of a fault replace older ones')."""
    found = {'faults': {}, 'moves': {}}
    sources = []
    for path in sorted(paths):
        with open(path, encoding='utf-8') as handle:
            results = json.load(handle)
        sources.append(os.path.basename(path))
        if not results.get('adds'):
            machine_of = results['machine']
        for key, data in results.items():
            # faults_<engine>/<profile>, moves_<engine>/<profile>; older results files (faults_standard, one engine)
            # are left out.
            kind, dummy_sep, engine_profile = key.partition('_')
            if kind not in found or '/' not in engine_profile:
                continue
            runs_of = found[kind]
            for name, runs in data.items():
                run_key = engine_profile + '/' + name
                if results.get('adds') and run_key in runs_of:
                    source, rows = runs_of[run_key]
                    runs_of[run_key] = ('%s + %s' % (source, os.path.basename(path)), rows + runs['runs'])
                else:
                    runs_of[run_key] = (os.path.basename(path), runs['runs'])
    faults_out = {}
    for key, (source, rows) in sorted(found['faults'].items()):
        faults_out[key] = dict(summary(rows), source=source)
        engine_profile, dummy_sep, name = key.rpartition('/')
        same = found['faults'].get('%s/%s' % (engine_profile, bounds.SAME_UNDO.get(name)))
        if same:
            # The undo's figures from both faults' runs (bounds.SAME_UNDO).
            faults_out[key].update(summary(rows + same[1], bounds.UNDO_FIGURES), runs=len(rows),
                                   undo_runs=len(rows) + len(same[1]))
    out = {'sources': sources, 'machine': machine_of,
           'faults': faults_out,
           'moves': dict((key, dict(summary(rows, MOVE_FIGURES), source=source))
                         for key, (source, rows) in sorted(found['moves'].items()))}
    with open(REFERENCE, 'w', encoding='utf-8') as handle:
        json.dump(out, handle, indent=1, sort_keys=True)
        handle.write('\n')
    log('wrote %s (%d faults)' % (REFERENCE, len(out['faults'])))


# How a fault test prints a fault's figures (molecule/default/tests/conftest.py's record()): one JSON object after it.
SUITE_FIGURES = re.compile(r'\[figures\] fault (\w+) (\w+) (\w+): ')
# How test_85 prints a maintenance test's figures: per stretch between its marks ('enter', 'loadb1 leave', ...).
SUITE_MOVES = re.compile(r'\[figures\] maintenance (\w+) [\w -]+: ')
# The lane log's decorations: colours, and molecule's frame before each (wrapped) line of the verifier's output.
LOG_DECORATION = re.compile(r'\x1b\[[0-9;]*m')
LOG_FRAME = re.compile(r'^[ \t]*\u2502[ \t]?', re.M)


def figures_from_suite_logs(paths, label):
    """A results file's content from the molecule lanes' logs of a suite run: faults_<engine>/<profile> ->
    {fault: {'runs': [figures...]}}, in the order they ran."""
    results = {'label': label, 'date': datetime.datetime.now().strftime('%Y-%m-%d %H:%M'), 'adds': True,
               'machine': machine(), 'logs': list(paths)}
    decoder = json.JSONDecoder()
    for path in paths:
        with open(path, encoding='utf-8', errors='replace') as handle:
            text = LOG_FRAME.sub('', LOG_DECORATION.sub('', handle.read()))
        # molecule wraps long lines at spaces: each wrap becomes one space again (JSON ignores it between tokens).
        text = re.sub(r'\n[ \t]*', ' ', text)
        for found in SUITE_FIGURES.finditer(text):
            engine, profile, name = found.groups()
            figures, dummy_end = decoder.raw_decode(text, found.end())
            runs = results.setdefault('faults_%s/%s' % (engine, profile), {}).setdefault(name, {'runs': []})['runs']
            runs.append(figures)
        for found in SUITE_MOVES.finditer(text):
            figures, dummy_end = decoder.raw_decode(text, found.end())
            for move, figure in bounds.maintenance_moves(figures):
                # test_85 names its timer profile since the moves have bounds; the lane ran the standard one before.
                key = 'moves_%s/%s' % (found.group(1), figures.get('profile', 'standard'))
                results.setdefault(key, {}).setdefault(move, {'runs': []})['runs'].append(figure)
    return results


def bench_scale(runs):
    rows = []
    for i in range(runs):
        log('scale %d/%d: one pair, cold' % (i + 1, runs))
        fresh_testbed(ONE_PAIR)
        one, _changed, _out = playbook(ONE_PAIR, SITE)
        log('scale %d/%d: three pairs, cold' % (i + 1, runs))
        fresh_testbed(THREE_PAIRS)
        three, _changed, _out = playbook(THREE_PAIRS, SITE)
        rows.append({'one_pair_s': round(one, 2), 'three_pairs_s': round(three, 2), 'ratio': round(three / one, 2)})
        log('  one pair %.1f s, three pairs %.1f s' % (one, three))
    return {'runs': rows, 'median': {key: median([r[key] for r in rows]) for key in ('one_pair_s', 'three_pairs_s', 'ratio')}}


INPUT_CHECK_PLAY = """---
- name: The site playbook's input check, alone
  hosts: loadbalancers
  gather_facts: false
  tasks:
    - name: Check the pair model and the input of every role
      ansible.builtin.include_role:
        name: hapair.loadbalancer.hapair
        tasks_from: check
"""
EMPTY_PLAY = """---
- name: Nothing, on the same hosts
  hosts: loadbalancers
  gather_facts: false
  tasks: []
"""
PRIME_PLAY = """---
- name: Put the fake hosts' facts into the fact cache
  hosts: all
  gather_facts: false
  tasks:
    - name: Cache the facts
      ansible.builtin.set_fact:
        cacheable: true
        ansible_distribution: Debian
        ansible_distribution_release: bookworm
        ansible_interfaces: [lo, eth0, eth1]
        ansible_eth0: {device: eth0, ipv4: {address: "{{ fake_links[0] }}", netmask: 255.255.255.192}}
        ansible_eth1: {device: eth1, ipv4: {address: "{{ fake_links[1] }}", netmask: 255.255.255.192}}
"""


def fake_pairs(pairs):
    """An inventory of `pairs` fake pairs that are all this machine (never contacted: facts come from the cache)."""
    hosts = {}
    for index in range(pairs):
        for side in (0, 1):
            number = 11 + 2 * index + side
            hosts['lb%d' % (2 * index + side + 1)] = {
                'hapair_cluster': 'pair%d' % (index + 1), 'hapair_vip': '198.51.100.%d' % (40 + index),
                'hapair_vip_prefix': 26, 'hapair_node_name': 'loadb%d' % (2 * index + side + 1),
                'hapair_links': [{'interface': 'eth0', 'address': '198.51.100.%d' % number},
                                 {'interface': 'eth1', 'address': '198.51.100.%d' % (number + 64)}],
                'fake_links': ['198.51.100.%d' % number, '198.51.100.%d' % (number + 64)],
            }
    return {'loadbalancers': {'hosts': hosts, 'vars': {
        'ansible_connection': 'local', 'ansible_python_interpreter': '/bin/false',
        'apache_balancer_members': ['http://198.51.100.51/', 'http://198.51.100.52/'],
        'heartbeat_auth_key': 'benchmark-only-%s' % uuid.uuid4().hex}}}


def bench_input_check(runs):
    work = os.path.join(ROOT, 'benchmarks', 'work', 'input-check')
    os.makedirs(work, exist_ok=True)
    files = {'check.yml': INPUT_CHECK_PLAY, 'empty.yml': EMPTY_PLAY, 'prime.yml': PRIME_PLAY}
    for name, text in files.items():
        with open(os.path.join(work, name), 'w', encoding='utf-8') as handle:
            handle.write(text)
    env = {'ANSIBLE_COLLECTIONS_PATH': os.path.join(ROOT, 'playbooks', 'collections'), 'ANSIBLE_GATHERING': 'explicit',
           'ANSIBLE_CACHE_PLUGIN': 'ansible.builtin.jsonfile', 'ANSIBLE_CACHE_PLUGIN_CONNECTION': os.path.join(work, 'cache')}
    result = {}
    for pairs in (1, 3):
        inventory = os.path.join(work, 'pairs-%d.json' % pairs)
        with open(inventory, 'w', encoding='utf-8') as handle:
            json.dump(fake_pairs(pairs), handle)
        run(['ansible-playbook', '-i', inventory, os.path.join(work, 'prime.yml')], env=env)
        rows = []
        for i in range(runs):
            empty, _changed, _out = playbook(inventory, os.path.join(work, 'empty.yml'), env=env)
            check, _changed, out = playbook(inventory, os.path.join(work, 'check.yml'), env=env)
            if 'is valid' not in out:
                sys.exit('the input check did not pass:\n' + out[-3000:])
            rows.append({'empty_s': round(empty, 2), 'check_s': round(check, 2), 'input_check_s': round(check - empty, 2)})
            log('  input check, %d pair(s) %d/%d: %.2f s (run %.2f s, empty play %.2f s)' % (
                pairs, i + 1, runs, check - empty, check, empty))
        result['%d_pair%s' % (pairs, 's' if pairs > 1 else '')] = {
            'runs': rows, 'median': {key: median([r[key] for r in rows]) for key in ('empty_s', 'check_s', 'input_check_s')}}
    return result


def machine():
    def first(path, pattern):
        try:
            with open(path, encoding='utf-8') as handle:
                match = re.search(pattern, handle.read(), re.M)
            return match.group(1).strip() if match else None
        except OSError:
            return None
    return {
        'host': socket.gethostname(),
        'cpu': first('/proc/cpuinfo', r'^model name\s*:\s*(.+)$'),
        'cores': os.cpu_count(),
        'memory_gib': round(int(first('/proc/meminfo', r'^MemTotal:\s*(\d+)') or 0) / 1024 / 1024, 1),
        'kernel': platform.release(),
        'os': first('/etc/os-release', r'^PRETTY_NAME="?([^"\n]+)'),
        'python': platform.python_version(),
        'ansible_core': run(['ansible', '--version']).stdout.split('\n')[0],
        'podman': run(['podman', '--version']).stdout.strip(),
    }


def markdown(results):
    m, lines = results['machine'], []
    lines.append('# Benchmark results: %s (%s)\n' % (results['label'], results['date']))
    lines.append('Machine: %s, %s cores, %s GiB, %s, kernel %s, %s, %s, Python %s. Median of %d runs each; '
                 'Ansible forks %s.\n' % (
                     m['cpu'], m['cores'], m['memory_gib'], m['os'], m['kernel'], m['podman'], m['ansible_core'],
                     m['python'], results['runs'], results.get('forks', 5)))
    if 'incomplete' in results:
        lines.append('**Incomplete**: %s.\n' % results['incomplete'])
    if 'provisioning' in results:
        p = results['provisioning']['median']
        lines += ['## Provisioning one pair\n', '| Run | Seconds | Ratio to the facts-only baseline |', '| --- | --- | --- |',
                  '| Baseline: gather facts only | %s | 1 |' % p['baseline_s'],
                  '| Cold: fresh containers, site playbook | %s | %s |' % (p['cold_s'], p['cold_ratio']),
                  '| Second run: nothing to change | %s | %s |' % (p['second_s'], p['second_ratio']),
                  '| verify on the settled pair | %s | %s |' % (p.get('verify_s'), p.get('verify_ratio')), '']
    if 'slowest_tasks' in results:
        lines += ['### Slowest tasks of a cold run\n', '| Task | Seconds |', '| --- | --- |']
        lines += ['| %s | %s |' % (t['task'].replace('|', '/'), t['seconds']) for t in results['slowest_tasks']] + ['']
    for key in sorted(k for k in results if k.startswith('faults_')):
        engine, profile = key[len('faults_'):].split('/')
        lines += ['## Faults on the VIP holder: %s, %s timers (testbed/faults.py)\n' % (engine, profile),
                  '| Fault | Runs | Site back (s), median / max | Failed requests, median / max | After the undo: failed, '
                  'longest gap (s), max | Longest gap (s), max | Two holders (s), max | VIP on the peer (s), median | '
                  'Failback (s), median / max | Ended whole |', '|' + ' --- |' * 10]
        for name, data in results[key].items():
            d = summary(data['runs'])

            def cell(figure, both=True, d=d):  # pylint: disable=dangerous-default-value  # this row's summary
                median_, max_ = d[figure]['median'], d[figure]['max']
                if median_ is None:
                    return '-'
                text = '%s / %s' % (median_, max_) if both else str(max_)
                return text + (' (%d never)' % d[figure]['none'] if d[figure]['none'] else '')
            lines.append('| %s | %s | %s | %s | %s, %s | %s | %s | %s | %s | %s of %s |' % (
                name, d['runs'], cell('site_back_s'), cell('failed_fault'), cell('failed_undo', False),
                cell('longest_gap_undo_s', False), cell('longest_gap_s', False), cell('two_holders_max_s', False),
                '-' if d['moved_s']['median'] is None else d['moved_s']['median'], cell('back_s'), d['whole_end'],
                d['runs']))
        lines.append('')
    for key in sorted(k for k in results if k.startswith('drill_')):
        lines += ['## The failover drill against the test bed\'s client: %s\n' % key[len('drill_'):],
                  '| Method | Failover on the nodes (s) | Site back, drill\'s client (s) | Site back, test bed client (s) | '
                  'Difference (s), median / max | Failback (s) | Playbook (s) |', '|' + ' --- |' * 7]
        for method, data in results[key].items():
            d, m = data['median'], data['max']
            lines.append('| %s | %s | %s | %s | %s / %s | %s | %s |' % (
                method, d['drill_failover_s'], d['drill_client_back_s'], d['testbed_client_back_s'], d['difference_s'],
                m['difference_s'], d['failback_s'], d['playbook_s']))
        lines.append('')
    if 'soak' in results:
        d = results['soak']
        lines += ['## Soak: keepalived, fast timers, every core loaded by stress-ng\n',
                  '| Minutes | Requests | Failed | VIP changes | Longest gap (s) |', '| --- | --- | --- | --- | --- |',
                  '| %s | %s | %s | %s | %s |' % (
                      d['minutes'], d['requests'], d['failed'], len(d['vip_changes']), round(d['longest_gap_s'], 2)),
                  '']
    if 'input_check' in results:
        lines += ['## Input check (the site playbook\'s first play), on the controller\n',
                  '| Pairs | Input check (s) | Whole run (s) | Empty play on the same hosts (s) |', '| --- | --- | --- | --- |']
        for key, label in (('1_pair', '1'), ('3_pairs', '3')):
            d = results['input_check'][key]['median']
            lines.append('| %s | %s | %s | %s |' % (label, d['input_check_s'], d['check_s'], d['empty_s']))
        lines.append('')
    if 'scale' in results:
        s = results['scale']['median']
        lines += ['## Scale: three pairs against one, cold\n', '| One pair (s) | Three pairs (s) | Ratio |',
                  '| --- | --- | --- |', '| %s | %s | %s |' % (s['one_pair_s'], s['three_pairs_s'], s['ratio']), '']
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--runs', type=int, default=5, help='runs per figure (median), at least 5 (default 5)')
    parser.add_argument('--heal-runs', type=int, default=10,
                        help='runs of the freeze and the split in the faults part, at least 10 (default 10)')
    parser.add_argument('--only', default='provisioning,faults,drill,soak,scale,input_check',
                        help='comma-separated: provisioning, profile, faults, drill, soak, scale, input_check')
    parser.add_argument('--engines', default='heartbeat,keepalived', help='engines for faults and drill')
    parser.add_argument('--profiles', default='standard,fast', help='timer profiles for faults')
    parser.add_argument('--faults', default=None,
                        help='comma-separated faults of testbed/faults.py for the faults part (default: every one)')
    parser.add_argument('--soak-minutes', type=int, default=10)
    parser.add_argument('--bed', default=ONE_PAIR,
                        help='the test bed inventory for the faults, drill and soak parts (default one-pair.yml)')
    parser.add_argument('--label', default='current', help='name of this measurement in the results file')
    parser.add_argument('--forks', type=int, default=None,
                        help="Ansible's forks for every run (default: Ansible's own, 5); recorded in the results")
    parser.add_argument('--reference', nargs='+', metavar='RESULTS_JSON',
                        help='only write benchmarks/reference.json from these results files, then stop')
    parser.add_argument('--from-suite-logs', nargs='+', metavar='MOLECULE_LOG',
                        help="only write a results file (labelled --label) from these molecule lane logs' fault "
                             'figures, then stop')
    args = parser.parse_args()
    if args.reference:
        reference(args.reference)
        return
    if args.from_suite_logs:
        results = figures_from_suite_logs(args.from_suite_logs, args.label)
        name = '%s-%s-%s' % (time.strftime('%Y%m%d-%H%M'), results['machine']['host'], args.label)
        base = os.path.join(ROOT, 'benchmarks', 'results', name)
        with open(base + '.json', 'w', encoding='utf-8') as handle:
            json.dump(results, handle, indent=2)
        count = sum(len(f['runs']) for key, data in results.items() if key.startswith('faults_') for f in data.values())
        log('results: %s.json (%d fault runs)' % (base, count))
        return
    if args.runs < 5:
        parser.error('--runs must be at least 5: every figure is a median of five or more runs')
    if args.heal_runs < 10:
        parser.error('--heal-runs must be at least 10')
    BED['inventory'] = os.path.abspath(args.bed)
    only = set(args.only.split(','))
    unknown = only - {'provisioning', 'profile', 'faults', 'drill', 'soak', 'scale', 'input_check'}
    if unknown:
        parser.error('no such part: %s' % ', '.join(sorted(unknown)))
    fault_names = args.faults.split(',') if args.faults else None
    engines = args.engines.split(',')
    if args.forks:
        os.environ['ANSIBLE_FORKS'] = str(args.forks)
    results = {'label': args.label, 'date': datetime.datetime.now().strftime('%Y-%m-%d %H:%M'), 'runs': args.runs,
               'forks': args.forks or 5, 'machine': machine()}
    started = time.monotonic()
    base = os.path.join(ROOT, 'benchmarks', 'results',
                        '%s-%s-%s' % (time.strftime('%Y%m%d-%H%M'), results['machine']['host'], args.label))
    # (key in the results, whether asked for, how): each part's figures are saved as soon as it ends.
    parts = [('provisioning', 'provisioning' in only, lambda: bench_provisioning(args.runs)),
             ('slowest_tasks', bool(only & {'profile', 'provisioning'}), profile_cold_run)]
    parts += [('faults_%s/%s' % (e, p), 'faults' in only,
               lambda e=e, p=p: bench_faults(e, p, args.runs, args.heal_runs, fault_names))
              for e in engines for p in args.profiles.split(',')]
    parts += [('drill_' + e, 'drill' in only, lambda e=e: bench_drill(e, args.runs)) for e in engines]
    parts += [('soak', 'soak' in only, lambda: bench_soak(args.soak_minutes)),
              ('scale', 'scale' in only, lambda: bench_scale(args.runs)),
              ('input_check', 'input_check' in only, lambda: bench_input_check(args.runs))]
    for key, wanted, measure in parts:
        if not wanted:
            continue
        try:
            results[key] = measure()
        except BaseException:
            results['incomplete'] = 'stopped in part %s; the figures of the parts before it stand' % key
            save(results, base, started)
            raise
        save(results, base, started)
    log('results: %s.json and .md' % base)
    print(markdown(results))


def save(results, base, started):
    results['total_minutes'] = round((time.monotonic() - started) / 60, 1)
    os.makedirs(os.path.dirname(base), exist_ok=True)
    with open(base + '.json', 'w', encoding='utf-8') as handle:
        json.dump(results, handle, indent=2)
    with open(base + '.md', 'w', encoding='utf-8') as handle:
        handle.write(markdown(results) + '\n')


if __name__ == '__main__':
    main()
