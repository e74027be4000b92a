#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Break the product on purpose and show that the fault matrix's bounds catch it (a bound must bind).

Each mutation is a broken build of one piece of the product - a setting twice as slow, a line of a unit, a line of
hapair-monitor - with the fault of testbed/faults.py that exercises that piece. On a converged pair of the test bed
(-i, as for testbed/faults.py; the pair must run the engine the mutation is for), the mutation is applied, the fault
injected with the test bed's instruments, its figures checked against testbed/bounds.py (the bounds molecule asserts,
capped by benchmarks/reference.json), and the pair converged back with the site playbook. A mutation passes when the
figures break at least one bound: the matrix would have failed that build.

    CONTAINERS_CONF=testbed/containers.conf python3 benchmarks/mutations.py -i testbed/inventory/one-pair.yml \\
        ping_nodes_ignored slow_heal
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import NamedTuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'testbed'))
# pylint: disable=wrong-import-position
import bounds  # noqa: E402  # testbed/bounds.py
import faults  # noqa: E402  # testbed/faults.py

SITE = os.path.join(ROOT, 'playbooks', 'site.yml')
MONITOR = '/usr/local/sbin/hapair-monitor'
# A 20 s pause where a node's monitor decides to let the VIP go that both nodes hold after a thaw or a heal (once per
# decision, not in every loop): the one holder after it comes 20 s late.
SLOW_HEAL = ("import sys; p = sys.argv[1]; t = open(p).read(); "
             "old = '        self.release_requested = now\\n'; assert t.count(old) == 1; "
             "open(p, 'w').write(t.replace(old, '        time.sleep(20)\\n' + old, 1))")


class Mutation(NamedTuple):
    name: str
    title: str
    fault: str
    engines: tuple
    site_extra: tuple = ()        # extra arguments of the site run that builds the mutant
    node_command: tuple = ()      # a command run on both nodes after it (argv; {service} is the engine's unit)


MUTATIONS = dict((m.name, m) for m in (
    Mutation('monitor_fails_doubled', 'hapair-monitor acts after twice its failures (hapair_monitor_fails 6, not 3)',
             'apache_stop', ('heartbeat', 'keepalived'), site_extra=('-e', 'hapair_monitor_fails=6')),
    # On the kill that keeps the engine down: heartbeat restarted by systemd 2 s after engine_kill's kill finds its VIP
    # configured and keeps it, so that fault never needs the release (2026-12-06's run).
    Mutation('no_release_on_kill', "the engine's drop-in without its ExecStopPost release", 'engine_kill_down',
             ('heartbeat', 'keepalived'),
             node_command=('sh', '-c', "sed -i '/^ExecStopPost=/d' /etc/systemd/system/{service}.service.d/hapair.conf"
                                       " && systemctl daemon-reload")),
    Mutation('ping_nodes_ignored', 'hapair-monitor without ping nodes (hapair_ping_nodes [])', 'public_link',
             ('heartbeat', 'keepalived'), site_extra=('-e', '{"hapair_ping_nodes": []}')),
    Mutation('slow_heal', 'a 20 s sleep in hapair-monitor where a node decides to let the VIP go after a thaw or a heal', 'freeze',
             ('heartbeat',),
             node_command=('sh', '-c', "python3 -c \"%s\" %s && systemctl restart hapair-monitor" % (SLOW_HEAL, MONITOR))),
))


def log(message):
    print('[%s] %s' % (time.strftime('%H:%M:%S'), message), file=sys.stderr, flush=True)


def site(inventories, *extra):
    here = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    command = [here if os.path.exists(here) else 'ansible-playbook']
    for inventory in inventories:
        command += ['-i', inventory]
    proc = subprocess.run(command + [SITE, *extra], cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit('the site run failed (%s): %s' % (' '.join(extra), proc.stdout[-3000:]))


def try_mutation(inventories, mutation, profile):
    bed = faults.Bed(inventories, profile=profile, log=log)
    if bed.engine.name not in mutation.engines:
        return {'mutation': mutation.name, 'skipped': 'not for %s' % bed.engine.name}
    extra = ('-e', 'hapair_timers=%s' % bed.profile)
    log('%s: building the mutant (%s)' % (mutation.name, mutation.title))
    try:
        if mutation.site_extra:
            site(inventories, *extra, *mutation.site_extra)
        if mutation.node_command:
            for host in bed.nodes:
                argv = [part.replace('{service}', bed.engine.service) for part in mutation.node_command]
                faults.podman('exec', bed.container[host], *argv)
        bed.repair()
        result = faults.run_fault(bed, mutation.fault, whole=True)
        limits = bounds.bounds(mutation.fault, bed.engine.name, bed.profile, bed.timers, bed.monitor)
        broken = bounds.check(result, limits)
    finally:
        log('%s: converging the pair back' % mutation.name)
        site(inventories, *extra)
        bed.repair()
    return {'mutation': mutation.name, 'engine': bed.engine.name, 'profile': bed.profile, 'fault': mutation.fault,
            'caught': bool(broken), 'broken': broken}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('-i', '--inventory', required=True, action='append')
    parser.add_argument('--profile', choices=['standard', 'fast'], default='standard')
    parser.add_argument('--json', help='append one JSON line per mutation to this file')
    parser.add_argument('mutations', nargs='*', help='default: all of %s' % ', '.join(MUTATIONS))
    args = parser.parse_args()
    unknown = [name for name in args.mutations if name not in MUTATIONS]
    if unknown:
        parser.error('unknown mutations: %s' % ', '.join(unknown))
    status = 0
    for name in args.mutations or list(MUTATIONS):
        outcome = try_mutation(args.inventory, MUTATIONS[name], args.profile)
        print(json.dumps(outcome), flush=True)
        if args.json:
            with open(args.json, 'a', encoding='utf-8') as out:
                out.write(json.dumps(outcome) + '\n')
        if outcome.get('caught') is False:
            status = 1
    return status


if __name__ == '__main__':
    sys.exit(main())
