#!/usr/bin/env python
# Copyright: (c) 2026, hapair.loadbalancer developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmarks of hapair.loadbalancer on the local container test bed.

Run through benchmarks/run.sh, which sets up the machine first. Every figure is the median of --runs runs
(at least 5), and every comparison is a ratio of two figures measured in the same run:

- provisioning: a pair from fresh containers (cold) and the idempotent second run, each against a baseline
  playbook that only gathers facts on the same pair;
- failover: a crash of the active node (podman kill) and a graceful stop of heartbeat on it, and the failback,
  with a client asking for the site every 100 ms, for the standard and the fast timer profile;
- scale: three pairs against one pair, both cold, in one run of the site playbook each;
- input_check: the site playbook's input check (its first play) for one pair and for three, on the controller
  alone: fake hosts whose facts come from a fact cache, so nothing is gathered or contacted; reported as the run
  minus an empty play on the same inventory (ansible-playbook's own start).

The results, with a description of the machine, go to benchmarks/results/<date>-<host>-<label>.json and .md.
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
POLLER = os.path.join(ROOT, 'testbed', 'poll_site.py')
CLIENT_LIB = os.path.join(ROOT, 'plugins', 'module_utils', 'drill.py')
# The one-pair test bed: herring (loadb1, preferred) and haddock (loadb2), VIP 198.51.100.10.
PREFERRED, STANDBY, CLIENT = 'hapair-herring', 'hapair-haddock', 'hapair-client'
VIP = '198.51.100.10'


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
    start = time.monotonic()
    result = run(['ansible-playbook', '-i', inventory, path, *extra], env=env)
    seconds = time.monotonic() - start
    changed = sum(int(n) for n in re.findall(r'changed=(\d+)', result.stdout))
    return seconds, changed, result.stdout


def fresh_testbed(inventory):
    """Remove every test bed container (of the largest inventory) and start those of this one afresh."""
    run(['ansible-playbook', '-i', THREE_PAIRS, os.path.join(ROOT, 'testbed', 'down.yml')])
    run(['ansible-playbook', '-i', inventory, os.path.join(ROOT, 'testbed', 'up.yml')])


def holds_vip(container):
    out = run(['podman', 'exec', container, 'ip', '-4', '-o', 'addr', 'show', 'to', VIP], check=False)
    return out.returncode == 0 and bool(out.stdout.strip())


def wait_for(condition, timeout=120, step=0.1):
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            sys.exit('timed out after %s s' % timeout)
        time.sleep(step)
    return time.monotonic() - start


class Poller:
    """testbed/poll_site.py in the client container: a request to the VIP every 100 ms."""

    def __init__(self):
        tag = uuid.uuid4().hex[:8]
        self.result_path, self.stop_path = '/tmp/bench-%s.json' % tag, '/tmp/bench-%s.stop' % tag
        self.result = None

    def __enter__(self):
        run(['podman', 'cp', POLLER, CLIENT + ':/tmp/poll_site.py'])
        run(['podman', 'cp', CLIENT_LIB, CLIENT + ':/tmp/hapair_drill.py'])
        run(['podman', 'exec', '--detach', CLIENT, 'python3', '/tmp/poll_site.py', 'http://%s/' % VIP,
             self.result_path, self.stop_path, '0.1'])
        time.sleep(1)
        return self

    def __exit__(self, *exc):
        run(['podman', 'exec', CLIENT, 'touch', self.stop_path])
        for _attempt in range(100):
            out = run(['podman', 'exec', CLIENT, 'cat', self.result_path], check=False)
            if out.returncode == 0:
                self.result = json.loads(out.stdout)
                break
            time.sleep(0.1)
        run(['podman', 'exec', CLIENT, 'rm', '-f', self.result_path, self.stop_path], check=False)
        return False


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


def drill(stop, start):
    """One failover and failback of the preferred node; what the client saw during each."""
    wait_for(lambda: holds_vip(PREFERRED) and not holds_vip(STANDBY))
    with Poller() as over:
        down_at = time.time()
        stop()
        moved = wait_for(lambda: holds_vip(STANDBY))
        time.sleep(3)
    with Poller() as back:
        up_at = time.time()
        start()
        returned = wait_for(lambda: holds_vip(PREFERRED) and not holds_vip(STANDBY))
        time.sleep(3)
    o, b = over.result, back.result
    site_back = (o['outages'][0]['to'] - down_at) if o['outages'] and o['outages'][0]['to'] else 0.0
    return {'vip_moved_s': round(moved, 2), 'site_answers_again_s': round(site_back, 2),
            'failed_requests': o['failed'], 'requests': o['requests'], 'longest_gap_s': o['longest_gap_seconds'],
            'failback_s': round(returned, 2), 'failback_failed_requests': b['failed'],
            'failback_longest_gap_s': b['longest_gap_seconds'], 'down_at': down_at, 'up_at': up_at}


def bench_failover(runs, profile):
    log('failover, %s timers: converging the pair' % profile)
    fresh_testbed(ONE_PAIR)
    playbook(ONE_PAIR, SITE, '-e', 'heartbeat_timers=%s' % profile)
    kinds = {
        'crash': (lambda: run(['podman', 'kill', PREFERRED]), lambda: run(['podman', 'start', PREFERRED])),
        'graceful': (lambda: run(['podman', 'exec', PREFERRED, 'systemctl', 'stop', 'heartbeat']),
                     lambda: run(['podman', 'exec', PREFERRED, 'systemctl', 'start', 'heartbeat'])),
    }
    result = {}
    for kind, (stop, start) in kinds.items():
        rows = []
        for i in range(runs):
            row = drill(stop, start)
            rows.append(row)
            log('  %s %d/%d: VIP moved in %.1f s, site back after %.1f s, %d requests failed, gap %.1f s, '
                'failback %.1f s' % (kind, i + 1, runs, row['vip_moved_s'], row['site_answers_again_s'],
                                     row['failed_requests'], row['longest_gap_s'], row['failback_s']))
        keys = ('vip_moved_s', 'site_answers_again_s', 'failed_requests', 'longest_gap_s', 'failback_s',
                'failback_failed_requests', 'failback_longest_gap_s')
        result[kind] = {'runs': rows, 'median': {key: median([r[key] for r in rows]) for key in keys}}
    return result


def bench_drill(runs):
    """The failover playbook (method stop) on a converged pair, against the test bed's own client in its container."""
    log('drill: converging the pair')
    fresh_testbed(ONE_PAIR)
    playbook(ONE_PAIR, SITE)
    work = os.path.join(ROOT, 'benchmarks', 'work')
    os.makedirs(work, exist_ok=True)
    rows = []
    for i in range(runs):
        wait_for(lambda: holds_vip(PREFERRED) and not holds_vip(STANDBY))
        report_file = os.path.join(work, 'drill-%d.json' % i)
        with Poller() as poller:
            seconds, _changed, _out = playbook(ONE_PAIR, FAILOVER, '-e', 'heartbeat_failover_report=%s' % report_file)
        with open(report_file, encoding='utf-8') as handle:
            drill = json.load(handle)['pairs'][0]
        lost = poller.result
        during = [o for o in lost['outages'] if drill['fault_at'] - 1 <= o['first_failure'] < drill['restored_at']]
        theirs = (during[0]['to'] - drill['fault_at']) if during else 0.0
        rows.append({
            'drill_failover_s': drill['failover_seconds'], 'drill_client_back_s': drill['client']['site_back_seconds'],
            'testbed_client_back_s': round(theirs, 2), 'testbed_client_failed': lost['failed'],
            'difference_s': round(abs(drill['client']['site_back_seconds'] - theirs), 2),
            'failover_vs_client_s': round(abs(drill['failover_seconds'] - theirs), 2),
            'failback_s': drill['failback_seconds'], 'playbook_s': round(seconds, 2)})
        log('  drill %d/%d: failover %.2f s on the nodes; site back %.2f s (drill client) / %.2f s (test bed client)' % (
            i + 1, runs, drill['failover_seconds'], drill['client']['site_back_seconds'], theirs))
    keys = ('drill_failover_s', 'drill_client_back_s', 'testbed_client_back_s', 'difference_s', 'failover_vs_client_s',
            'failback_s', 'playbook_s')
    return {'runs': rows, 'median': {key: median([r[key] for r in rows]) for key in keys},
            'max': {key: max(r[key] for r in rows) for key in ('difference_s', 'failover_vs_client_s')}}


FAULT_KEYS = ('site_back_s', 'failed', 'longest_gap_s', 'two_holders_max_s', 'moved_s', 'pair_ok_s', 'back_s')


def bench_faults(runs, profile, names=None):
    """The faults of testbed/faults.py named (all of them by default), `runs` times each, on a pair converged
    with a timer profile."""
    sys.path.insert(0, os.path.join(ROOT, 'testbed'))
    import faults  # pylint: disable=import-outside-toplevel  # testbed/faults.py, only here
    log('faults, %s timers: converging the pair' % profile)
    fresh_testbed(ONE_PAIR)
    playbook(ONE_PAIR, SITE, '-e', 'heartbeat_timers=%s' % profile)
    pair = faults.Pair(ONE_PAIR, timers=faults.PROFILES[profile], log=log)
    result = {}
    unknown = sorted(set(names or ()) - set(faults.FAULTS))
    if unknown:
        raise ValueError('no such fault in testbed/faults.py: %s' % ', '.join(unknown))
    for name in [n for n in faults.FAULTS if not names or n in names]:
        rows = []
        for i in range(runs):
            row = faults.FAULTS[name](pair)
            rows.append({key: row.get(key) for key in FAULT_KEYS + ('holders_end', 'heartbeat_active_end', 'loadavg')})
            log('  %s %s %d/%d: site back %s s, %s failed, gap %s s, two holders %s s' % (
                profile, name, i + 1, runs, row.get('site_back_s'), row.get('failed'), row.get('longest_gap_s'),
                row.get('two_holders_max_s')))
        medians = {}
        for key in FAULT_KEYS:
            values = [r[key] for r in rows if r[key] is not None]
            medians[key] = median(values) if len(values) == len(rows) else (median(values) if values else None)
            medians[key + '_none'] = len(rows) - len(values)
        medians['site_back_max'] = max((r['site_back_s'] for r in rows if r['site_back_s'] is not None), default=None)
        medians['ended_whole'] = sum(1 for r in rows if len(r['holders_end']) == 1 and all(r['heartbeat_active_end'].values()))
        result[name] = {'runs': rows, 'median': medians}
    return result


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
    for profile in ('standard', 'fast'):
        key = 'failover_' + profile
        if key not in results:
            continue
        lines += ['## Failover, %s timers\n' % profile,
                  '| Event | VIP on the other node (s) | Site answers again (s) | Failed requests | Longest gap (s) |'
                  ' Failback (s) | Failed requests in failback | Longest gap in failback (s) |',
                  '| --- | --- | --- | --- | --- | --- | --- | --- |']
        for kind in ('crash', 'graceful'):
            d = results[key][kind]['median']
            lines.append('| %s | %s | %s | %s | %s | %s | %s | %s |' % (
                kind, d['vip_moved_s'], d['site_answers_again_s'], d['failed_requests'], d['longest_gap_s'],
                d['failback_s'], d['failback_failed_requests'], d['failback_longest_gap_s']))
        lines.append('')
    for profile in ('standard', 'fast'):
        key = 'faults_' + profile
        if key not in results:
            continue
        lines += ['## Faults on the VIP holder, %s timers (testbed/faults.py)\n' % profile,
                  '| Fault | Site answers again (s), median / max | Failed requests | Longest gap (s) | Two holders (s) |'
                  ' VIP on the peer (s) | Failback (s) | Ended whole |', '| --- | --- | --- | --- | --- | --- | --- | --- |']
        for name, data in results[key].items():
            d = data['median']
            lines.append('| %s | %s / %s | %s | %s | %s | %s | %s | %s of %s |' % (
                name, d['site_back_s'], d['site_back_max'], d['failed'], d['longest_gap_s'], d['two_holders_max_s'],
                d['moved_s'] if d['moved_s_none'] == 0 else ('-' if d['moved_s'] is None else '%s (%d never)' % (d['moved_s'], d['moved_s_none'])),
                d['back_s'], d['ended_whole'], len(data['runs'])))
        lines.append('')
    if 'drill' in results:
        d, m = results['drill']['median'], results['drill']['max']
        lines += ['## The failover drill against a client in the test bed (method stop)\n',
                  '| Failover on the nodes (s) | Site back, drill\'s client (s) | Site back, test bed client (s) | '
                  'Difference (s), median / max | Failover vs test bed client (s), median / max | Failback (s) | Playbook (s) |',
                  '| --- | --- | --- | --- | --- | --- | --- |',
                  '| %s | %s | %s | %s / %s | %s / %s | %s | %s |' % (
                      d['drill_failover_s'], d['drill_client_back_s'], d['testbed_client_back_s'], d['difference_s'],
                      m['difference_s'], d['failover_vs_client_s'], m['failover_vs_client_s'], d['failback_s'], d['playbook_s']), '']
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
    parser.add_argument('--only', default='provisioning,failover,drill,faults,scale,input_check',
                        help='comma-separated: provisioning, profile, failover, drill, faults, scale, input_check')
    parser.add_argument('--faults', default=None,
                        help='comma-separated faults of testbed/faults.py for the faults part (default: every one)')
    parser.add_argument('--label', default='current', help='name of this measurement in the results file')
    parser.add_argument('--forks', type=int, default=None,
                        help="Ansible's forks for every run (default: Ansible's own, 5); recorded in the results")
    args = parser.parse_args()
    if args.runs < 5:
        parser.error('--runs must be at least 5: every figure is a median of five or more runs')
    only = set(args.only.split(','))
    fault_names = args.faults.split(',') if args.faults else None
    if args.forks:
        os.environ['ANSIBLE_FORKS'] = str(args.forks)
    results = {'label': args.label, 'date': datetime.datetime.now().strftime('%Y-%m-%d %H:%M'), 'runs': args.runs,
               'forks': args.forks or 5, 'machine': machine()}
    if 'faults' in only:
        results['faults_run'] = fault_names or 'all'
    started = time.monotonic()
    base = os.path.join(ROOT, 'benchmarks', 'results',
                        '%s-%s-%s' % (time.strftime('%Y%m%d-%H%M'), results['machine']['host'], args.label))
    # (key in the results, whether asked for, how): each part's figures are saved as soon as it ends.
    parts = [('provisioning', 'provisioning' in only, lambda: bench_provisioning(args.runs)),
             ('slowest_tasks', bool(only & {'profile', 'provisioning'}), profile_cold_run)]
    parts += [('failover_' + p, 'failover' in only, lambda p=p: bench_failover(args.runs, p)) for p in ('standard', 'fast')]
    parts += [('drill', 'drill' in only, lambda: bench_drill(args.runs))]
    parts += [('faults_' + p, 'faults' in only, lambda p=p: bench_faults(args.runs, p, fault_names)) for p in ('standard', 'fast')]
    parts += [('scale', 'scale' in only, lambda: bench_scale(args.runs)),
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
