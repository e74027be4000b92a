#!/usr/bin/env python
# Copyright: (c) 2026, hapair.loadbalancer developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault injection against a hapair pair in the podman test bed, with a client polling the VIP.

For one pair of an inventory (testbed/inventory/*.yml: testbed_container per host, a `clients` group),
each fault is injected on the VIP holder, held, undone, and the pair is left to settle. Meanwhile

  * the client asks http://VIP/ every 100 ms (like testbed/poll_site.py, and it also keeps every outage);
  * a watcher on each node reads the node kernel's addresses every 20 ms (rtnetlink, in the node) and
    reports when the node gains or loses the VIP, by the node's clock (containers share the host's);
  * the same watcher asks systemd on its node whether heartbeat is active every 0.25 s and reports it (a node
    whose reports stop, frozen or dead, counts as not active): the harness samples those reports, with no
    process started per sample (a `podman exec` costs about 0.23 s of CPU, which the pair under test would
    feel).

Every fault returns a dict:
  site_back_s        seconds from the injection until the site answered again (0.0: it never failed;
                     None: still failing when the fault was undone)
  failed, requests   failed and made requests over the whole run (fault, undo and settling)
  outages_fault, outages_undo   the client's outages before / after the undo
  longest_gap_s      the longest time without an answer
  two_holders_max_s  the longest time both nodes' kernels held the VIP at once (two_holders_total_s: sum)
  moved_s            seconds from the injection until the peer held the VIP (None: it never did)
  pair_ok_s          seconds from the injection until exactly one holder and heartbeat active on both
                     again, for the rest of the fault (sampled about every 0.5 s; 0.0: never otherwise;
                     None: not before the undo)
  back_s             seconds from the undo until the preferred node alone held the VIP again
  holders_end, heartbeat_active_end, steady_end   the state at the end
Plus `events` (VIP gains/losses, injection, undo) with verbose=True.

Python API (pytest, benchmarks):
    from faults import Pair, FAULTS
    pair = Pair('testbed/inventory/one-pair.yml')
    result = FAULTS['apache_stop'](pair)          # or faults.apache_stop(pair)
CLI:
    CONTAINERS_CONF=testbed/containers.conf testbed/faults.py -i INVENTORY [--repeat N] [--json FILE] [FAULT ...]
Needs ansible-inventory (to read the inventory) and podman on PATH; stdlib only. The client is the test bed's
(testbed/poll_site.py with the collection's plugins/module_utils/drill.py), the watchers read the kernel with the
collection's plugins/module_utils/vip_check_kernel.py: all three are copied into the containers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
# Copied into the containers: the test bed's client and the collection's own client and netlink reader.
POLL_SITE = os.path.join(ROOT, 'testbed', 'poll_site.py')
CLIENT_LIB = os.path.join(ROOT, 'plugins', 'module_utils', 'drill.py')
KERNEL_LIB = os.path.join(ROOT, 'plugins', 'module_utils', 'vip_check_kernel.py')

# ------------------------------------------------------------------------------------------------
# Code run inside the containers (python3 -c)

WATCHER = r'''
import select, subprocess, sys, threading, time
import vip_check_kernel  # the collection's own reader (plugins/module_utils/vip_check_kernel.py), copied next to it
vip = sys.argv[1]
lock = threading.Lock()


def say(line):
    with lock:
        sys.stdout.write(line); sys.stdout.flush()


def units():
    # In a thread of its own, so that the 20 ms VIP loop never waits for systemctl.
    while True:
        active = subprocess.run(['systemctl', 'is-active', '--quiet', 'heartbeat']).returncode == 0
        say('%.3f heartbeat %d\n' % (time.time(), int(active)))
        time.sleep(0.25)


threading.Thread(target=units, daemon=True).start()
held = None
while True:
    now = any(a['address'] == vip for i in vip_check_kernel.read_interfaces() for a in i['addresses'])
    if now != held:
        held = now
        say('%.3f %d\n' % (time.time(), int(now)))
    ready = select.select([sys.stdin], [], [], 0.02)[0]
    if ready and not sys.stdin.read(1):
        break
'''
# Between the VIP part and the heartbeat part of Pair.view()'s output.
VIEW_SEPARATOR = '--hapair-view--'
# A node whose watcher has not reported heartbeat's state for this long counts as not active (frozen, or gone).
HEARTBEAT_REPORT_STALE_S = 2.0


# ------------------------------------------------------------------------------------------------

def podman(*args, check=True, timeout=60):
    return subprocess.run(['podman', *args], capture_output=True, text=True, check=check, timeout=timeout)


def timer_ms(value):
    """heartbeat time ('10', 10, '1500ms') in milliseconds."""
    text = str(value).strip()
    if text.endswith('ms'):
        return float(text[:-2])
    if text.endswith('s'):
        text = text[:-1]
    return float(text) * 1000


PROFILES = {'standard': {'keepalive': 2, 'deadtime': 10, 'warntime': 5, 'initdead': 20},
            'fast': {'keepalive': '200ms', 'deadtime': '1500ms', 'warntime': '800ms', 'initdead': 10}}


class Pair:
    """One pair of the test bed: its containers, VIP, links, client, backends and heartbeat timers."""

    def __init__(self, inventory, cluster=None, timers=None, log=None):
        out = subprocess.run(['ansible-inventory', '-i', inventory, '--list'], check=True, capture_output=True,
                             text=True).stdout
        inv = json.loads(out)
        hostvars = inv['_meta']['hostvars']

        def group(name):
            hosts = list(inv.get(name, {}).get('hosts', []))
            for child in inv.get(name, {}).get('children', []):
                hosts.extend(group(child))
            return hosts
        nodes = [h for h in group('loadbalancers') if cluster is None
                 or hostvars[h].get('hapair_cluster', 'default') == cluster]
        self.cluster = hostvars[nodes[0]].get('hapair_cluster', 'default')
        nodes = [h for h in nodes if hostvars[h].get('hapair_cluster', 'default') == self.cluster]
        if len(nodes) != 2:
            raise ValueError('pair %s has %d nodes' % (self.cluster, len(nodes)))
        self.hostvars = hostvars
        self.names = {h: hostvars[h].get('hapair_node_name', h) for h in nodes}
        preferred_name = hostvars[nodes[0]].get('hapair_preferred_node') or self.names[nodes[0]]
        self.preferred = next(h for h in nodes if self.names[h] == preferred_name)
        self.standby = next(h for h in nodes if h != self.preferred)
        self.nodes = [self.preferred, self.standby]
        self.container = {h: hostvars[h]['testbed_container'] for h in nodes}
        self.links = {h: hostvars[h]['hapair_links'] for h in nodes}
        first = hostvars[nodes[0]]
        self.vip = first['hapair_vip']
        self.vip_interface = first.get('hapair_vip_interface', self.links[nodes[0]][0]['interface'])
        self.client = hostvars[group('clients')[0]]['testbed_container']
        self.backends = [hostvars[h]['testbed_container'] for h in group('backends')]
        profile = dict(PROFILES[first.get('heartbeat_timers', 'standard')])
        for key in profile:
            if 'heartbeat_' + key in first:
                profile[key] = first['heartbeat_' + key]
        profile.update(timers or {})
        self.timers = {key: timer_ms(value) / 1000 for key, value in profile.items()}
        self.url = 'http://%s/' % self.vip
        self.log = log or (lambda message: None)
        podman('cp', POLL_SITE, '%s:/tmp/poll_site.py' % self.client)
        podman('cp', CLIENT_LIB, '%s:/tmp/hapair_drill.py' % self.client)
        for host in nodes:
            podman('cp', KERNEL_LIB, '%s:/var/tmp/vip_check_kernel.py' % self.container[host])

    # -- helpers ---------------------------------------------------------------------------------
    def sh(self, host, command, check=False, timeout=60):
        return podman('exec', self.container[host], 'sh', '-c', command, check=check, timeout=timeout)

    def running(self, host):
        out = podman('inspect', '--format', '{{.State.Status}}', self.container[host], check=False)
        return out.stdout.strip() == 'running'

    def holds(self, host):
        if not self.running(host):
            return False
        out = self.sh(host, 'ip -4 -o addr show to %s/32' % self.vip)
        return bool(out.stdout.strip())

    def holders(self):
        return [h for h in self.nodes if self.holds(h)]

    def active(self, host, unit='heartbeat'):
        if not self.running(host):
            return False
        return self.sh(host, 'systemctl is-active %s' % unit).stdout.strip() == 'active'

    def site_ok(self):
        out = podman('exec', self.client, 'python3', '-c',
                     'import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1).read()', self.url,
                     check=False)
        return out.returncode == 0

    def view(self, host):
        """(whether the node holds the VIP, whether heartbeat is active there and sees its peer active with no
        resource in transition), with one podman exec; (False, False) when the container is not running."""
        peer = self.names[self.standby if host == self.preferred else self.preferred]
        out = self.sh(host, 'ip -4 -o addr show to %s/32; echo %s; systemctl is-active heartbeat >/dev/null && '
                            'cl_status nodestatus %s && cl_status rscstatus' % (self.vip, VIEW_SEPARATOR, peer))
        addresses, separator, status = out.stdout.partition(VIEW_SEPARATOR)
        if not separator:
            return False, False
        return bool(addresses.strip()), out.returncode == 0 and 'active' in status and 'transition' not in status

    def steady(self):
        """The pair as it should be: preferred node alone holds the VIP, heartbeat active on both and each
        sees the other active, the site answers (three podman execs)."""
        views = {host: self.view(host) for host in self.nodes}
        if [host for host in self.nodes if views[host][0]] != [self.preferred]:
            return False
        if not all(ok for _holds, ok in views.values()):
            return False
        return self.site_ok()

    def wait_steady(self, timeout=None, quiet=3.0):
        """Seconds until steady() held for `quiet` seconds, checked every second; raises TimeoutError."""
        timeout = timeout or self.timers['initdead'] + self.timers['deadtime'] + 60
        start = time.monotonic()
        since = None
        while time.monotonic() - start < timeout:
            if self.steady():
                since = since or time.monotonic()
                if time.monotonic() - since >= quiet:
                    return time.monotonic() - start
            else:
                since = None
            time.sleep(1.0)
        raise TimeoutError('pair %s not steady within %s s: holders %s' % (self.cluster, timeout, self.holders()))

    def default_routes(self, host):
        return [line.strip() for line in self.sh(host, 'ip -4 route show default').stdout.splitlines() if line.strip()]

    def restore_routes(self, host, routes):
        have = self.default_routes(host)
        for route in routes:
            if route not in have:
                self.sh(host, 'ip route append %s' % route.replace(' linkdown', ''))


class VipWatcher:
    """Streams a node's VIP gains and losses (node clock) from a watcher process inside the node, and whether
    heartbeat is active there (heartbeat_active())."""

    def __init__(self, pair, host):
        self.pair, self.host = pair, host
        self.events = []          # (time, held)
        self.heartbeat = None     # (time, active): the latest report
        self.proc = None
        self.thread = None
        self.expect_end = False

    def start(self):
        self.expect_end = False
        self.proc = subprocess.Popen(['podman', 'exec', '-i', '--workdir', '/var/tmp', self.pair.container[self.host], 'python3',
                                      '-u', '-c', WATCHER, self.pair.vip], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                fields = line.split()
                if len(fields) == 3 and fields[1] == 'heartbeat':
                    self.heartbeat = (float(fields[0]), fields[2] == '1')
                else:
                    stamp, held = fields
                    self.events.append((float(stamp), bool(int(held))))
            except ValueError:
                pass
        # The stream ended: the container died (crash) or we stopped it. A dead container holds nothing and runs
        # nothing.
        self.heartbeat = None
        if not self.expect_end:
            self.events.append((time.time(), False))

    def heartbeat_active(self):
        """Whether the node's latest report, at most HEARTBEAT_REPORT_STALE_S old, says heartbeat is active."""
        report = self.heartbeat
        return bool(report and report[1] and time.time() - report[0] <= HEARTBEAT_REPORT_STALE_S)

    def stop(self):
        self.expect_end = True
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.thread:
            self.thread.join(5)


class Poller:
    """The client asks the VIP every interval seconds while active (stop() returns its result)."""

    def __init__(self, pair, interval=0.1):
        self.pair, self.interval = pair, interval
        tag = uuid.uuid4().hex[:8]
        self.result_path, self.stop_path = '/tmp/poll-%s.json' % tag, '/tmp/poll-%s.stop' % tag

    def start(self):
        podman('exec', '--detach', '--workdir', '/tmp', self.pair.client, 'python3', '/tmp/poll_site.py', self.pair.url,
               self.result_path, self.stop_path, str(self.interval))

    def stop(self):
        podman('exec', self.pair.client, 'touch', self.stop_path)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            out = podman('exec', self.pair.client, 'cat', self.result_path, check=False)
            if out.returncode == 0:
                podman('exec', self.pair.client, 'rm', '-f', self.result_path, self.stop_path, check=False)
                return json.loads(out.stdout)
            time.sleep(0.2)
        raise TimeoutError('poller gave no result')


# ------------------------------------------------------------------------------------------------

def _loadavg():
    try:
        with open('/proc/loadavg', encoding='ascii') as handle:
            return float(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _intervals_both(pair, watchers, t_end):
    """[(start, end)] where both nodes held the VIP, from the watchers' events."""
    events = sorted((t, host, held) for host in pair.nodes for t, held in watchers[host].events)
    state = {host: False for host in pair.nodes}
    spans, since = [], None
    for t, host, held in events:
        state[host] = held
        both = all(state.values())
        if both and since is None:
            since = t
        elif not both and since is not None:
            spans.append((since, t))
            since = None
    if since is not None:
        spans.append((since, t_end))
    return spans


def run_fault(pair, name, inject, hold, undo, after_undo=None, verbose=False, settle_timeout=None):
    """Inject a fault on the VIP holder, hold it, undo it, let the pair settle; return the figures."""
    pair.log('%s: waiting for a steady pair' % name)
    pair.wait_steady()
    holder = pair.holders()[0]
    peer = pair.standby if holder == pair.preferred else pair.preferred
    watchers = {host: VipWatcher(pair, host) for host in pair.nodes}
    for watcher in watchers.values():
        watcher.start()
    poller = Poller(pair)
    poller.start()
    time.sleep(2)
    samples = []                       # (time, holders, heartbeat active on both)

    def sample():
        holders = [h for h in pair.nodes if watchers[h].events and watchers[h].events[-1][1]]
        actives = {h: watchers[h].heartbeat_active() for h in pair.nodes}
        samples.append((time.time(), holders, actives))
        return holders, actives

    context = {'pair': pair, 'holder': holder, 'peer': peer, 'watchers': watchers, 'sample': sample}
    pair.log('%s: injecting on %s' % (name, holder))
    load_before = _loadavg()
    t_inject = time.time()
    inject(context)
    hold(context, t_inject)
    pair.log('%s: undoing' % name)
    t_undo = time.time()
    undo(context)
    if after_undo:
        after_undo(context)
    settle_timeout = settle_timeout or pair.timers['initdead'] + pair.timers['deadtime'] + 60
    steady = True
    deadline = time.monotonic() + settle_timeout
    while time.monotonic() < deadline:
        holders, actives = sample()
        if holders == [pair.preferred] and all(actives.values()):
            break
        time.sleep(0.5)
    try:
        pair.wait_steady(timeout=settle_timeout)
    except TimeoutError:
        steady = False
    sample()
    time.sleep(1)
    result = poller.stop()
    t_end = time.time()
    for watcher in watchers.values():
        watcher.stop()

    # Every outage the client saw: (first failed request, first answer after it or None).
    outages = [(o['first_failure'], o['to']) for o in result['outages']]
    fault_outages = [o for o in outages if t_inject - 0.2 <= o[0] < t_undo]
    if not fault_outages:
        site_back = 0.0
    elif any(o[1] is None for o in fault_outages):
        site_back = None
    else:
        site_back = round(max(o[1] for o in fault_outages) - t_inject, 2)
    spans = _intervals_both(pair, watchers, t_end)
    moved = next((t for t, held in watchers[peer].events if held and t >= t_inject), None)
    pref = sorted(watchers[pair.preferred].events)
    lost = [t for t, held in pref if not held and t >= t_inject]
    gained = [t for t, held in pref if held and t >= t_inject]
    if holder == pair.preferred and not lost:
        back = 0.0       # never left
    elif gained and pair.preferred in pair.holders():
        back = round(max(0.0, gained[-1] - t_undo), 2)
    else:
        back = None
    # Recovery during the fault: the first sample after the last one (before the undo) that did not show
    # exactly one holder with heartbeat active on both nodes.
    during = [(t, len(holders) == 1 and all(actives.values())) for t, holders, actives in samples if t < t_undo]
    bad = [t for t, ok in during if not ok]
    if not bad:
        pair_ok = 0.0
    else:
        after = [t for t, ok in during if ok and t > bad[-1]]
        pair_ok = round(after[0] - t_inject, 2) if after else None
    figures = {
        'fault': name,
        'site_back_s': site_back,
        'site_back_during_fault': site_back is not None and t_inject + site_back <= t_undo,
        'failed': result['failed'],
        'requests': result['requests'],
        'outages_fault': sum(1 for o in outages if o[0] < t_undo),
        'outages_undo': sum(1 for o in outages if o[0] >= t_undo),
        'longest_gap_s': result['longest_gap_seconds'],
        'two_holders_max_s': round(max((e - s for s, e in spans), default=0.0), 2),
        'two_holders_total_s': round(sum(e - s for s, e in spans), 2),
        'moved_s': None if moved is None else round(moved - t_inject, 2),
        'pair_ok_s': pair_ok,
        'back_s': back,
        'fault_held_s': round(t_undo - t_inject, 2),
        'holders_end': [pair.names[h] for h in pair.holders()],
        'heartbeat_active_end': {pair.names[h]: pair.active(h) for h in pair.nodes},
        'steady_end': steady,
        'backends': result['backends'],
        # The host's 1-minute load average before and after: figures taken under contention are noisy.
        'loadavg': [load_before, _loadavg()],
    }
    if verbose:
        events = [(t, pair.names[h], 'gains VIP' if held else 'loses VIP') for h in pair.nodes
                  for t, held in watchers[h].events]
        events += [(t_inject, '-', 'inject'), (t_undo, '-', 'undo')]
        events += [(o[0], 'client', 'outage, back at %s' % o[1]) for o in outages]
        figures['events'] = [(round(t - t_inject, 2), who, what) for t, who, what in sorted(events)]
    pair.log('%s: %s' % (name, json.dumps({k: v for k, v in figures.items() if k != 'events'})))
    return figures


# -- hold strategies -------------------------------------------------------------------------------

def _hold_until_moved(extra=3.0, limit=None):
    """Hold until the peer holds the VIP, then `extra` seconds more (at most `limit` seconds in all)."""
    def hold(ctx, t_inject):
        pair = ctx['pair']
        end = t_inject + (limit or pair.timers['deadtime'] + 15)
        while time.time() < end:
            ctx['sample']()
            events = ctx['watchers'][ctx['peer']].events
            if events and events[-1][1] and events[-1][0] >= t_inject:
                end = min(end, time.time() + extra)
            time.sleep(0.25)
    return hold


def _hold_for(seconds_of_timers):
    def hold(ctx, t_inject):
        end = t_inject + seconds_of_timers(ctx['pair'])
        while time.time() < end:
            ctx['sample']()
            time.sleep(0.25)
    return hold


def _restart_watcher(ctx, host):
    ctx['watchers'][host].stop()
    ctx['watchers'][host].expect_end = False
    ctx['watchers'][host].start()


# -- the faults -------------------------------------------------------------------------------------

def crash(pair, **kw):
    """podman kill of the holder, podman start after the peer took over."""
    def undo(ctx):
        podman('start', pair.container[ctx['holder']])
        _restart_watcher(ctx, ctx['holder'])
    return run_fault(pair, 'crash', lambda ctx: podman('kill', pair.container[ctx['holder']]),
                     _hold_until_moved(), undo, **kw)


def reboot(pair, limit=180.0, **kw):
    """shutdown -r now on the holder (graceful: heartbeat hands the VIP over on the way down); the
    container's restart policy brings it back, and the pair must fail back by itself."""
    state = {}

    def inject(ctx):
        state['started'] = podman('inspect', '--format', '{{.State.StartedAt}}', pair.container[ctx['holder']]).stdout
        pair.sh(ctx['holder'], 'shutdown -r now')

    def hold(ctx, t_inject):
        host = ctx['holder']
        end = t_inject + limit
        while time.time() < end:
            ctx['sample']()
            out = podman('inspect', '--format', '{{.State.Status}} {{.State.StartedAt}}', pair.container[host],
                         check=False).stdout
            if out.startswith('running') and out.split(' ', 1)[1] != state['started']:
                _restart_watcher(ctx, host)
                return
            time.sleep(0.5)
    return run_fault(pair, 'reboot', inject, hold, lambda ctx: None, **kw)


def freeze(pair, extra=3.0, **kw):
    """podman pause of the holder for deadtime + extra seconds, then unpause."""
    return run_fault(pair, 'freeze', lambda ctx: podman('pause', pair.container[ctx['holder']]),
                     _hold_for(lambda p: p.timers['deadtime'] + extra),
                     lambda ctx: podman('unpause', pair.container[ctx['holder']]), **kw)


def heartbeat_stop(pair, **kw):
    """systemctl stop heartbeat on the holder, start again after the peer took over."""
    return run_fault(pair, 'heartbeat_stop', lambda ctx: pair.sh(ctx['holder'], 'systemctl stop heartbeat'),
                     _hold_until_moved(limit=30), lambda ctx: pair.sh(ctx['holder'], 'systemctl start heartbeat'),
                     **kw)


def heartbeat_kill(pair, extra=5.0, **kw):
    """pkill -KILL -x heartbeat on the holder; nothing is undone (it must come back by itself). If it did
    not, the harness starts it after deadtime + extra s, so that the next fault finds a whole pair."""
    state = {}

    def undo(ctx):
        state['came_back'] = pair.active(ctx['holder'])
        if not state['came_back']:
            pair.sh(ctx['holder'], 'systemctl reset-failed heartbeat; systemctl start heartbeat')
    result = run_fault(pair, 'heartbeat_kill', lambda ctx: pair.sh(ctx['holder'], 'pkill -KILL -x heartbeat'),
                       _hold_for(lambda p: p.timers['deadtime'] + extra), undo, **kw)
    result['heartbeat_came_back'] = state.get('came_back')
    return result


def apache_stop(pair, **kw):
    """systemctl stop apache2 on the holder; start it again once the site answers from the peer."""
    return run_fault(pair, 'apache_stop', lambda ctx: pair.sh(ctx['holder'], 'systemctl stop apache2'),
                     _hold_until_moved(limit=20), lambda ctx: pair.sh(ctx['holder'], 'systemctl start apache2'),
                     **kw)


def apache_hang(pair, **kw):
    """kill -STOP of every apache2 process of the holder (hung, port still open); -CONT later."""
    return run_fault(pair, 'apache_hang', lambda ctx: pair.sh(ctx['holder'], 'pkill -STOP -x apache2'),
                     _hold_until_moved(limit=20), lambda ctx: pair.sh(ctx['holder'], 'pkill -CONT -x apache2'),
                     **kw)


def apache_kill(pair, **kw):
    """kill -KILL of every apache2 process of the holder: systemd restarts it (Restart=on-abort)."""
    def undo(ctx):
        if not pair.active(ctx['holder'], 'apache2'):
            pair.sh(ctx['holder'], 'systemctl start apache2')
    return run_fault(pair, 'apache_kill', lambda ctx: pair.sh(ctx['holder'], 'pkill -KILL -x apache2'),
                     _hold_for(lambda p: 10), undo, **kw)


def apache_stop_both(pair, seconds=12.0, **kw):
    """systemctl stop apache2 on both nodes for `seconds`: the site is down whatever happens, and the VIP
    must not move (no node is better than the other)."""
    both = 'systemctl %s apache2'
    return run_fault(pair, 'apache_stop_both',
                     lambda ctx: [pair.sh(h, both % 'stop') for h in (ctx['holder'], ctx['peer'])],
                     _hold_for(lambda p: seconds),
                     lambda ctx: [pair.sh(h, both % 'start') for h in (ctx['peer'], ctx['holder'])], **kw)


def _link(index, hold_kind):
    def fault(pair, **kw):
        state = {}

        def inject(ctx):
            iface = pair.links[ctx['holder']][index]['interface']
            state['iface'] = iface
            state['routes'] = pair.default_routes(ctx['holder'])
            pair.sh(ctx['holder'], 'ip link set %s down' % iface)

        def undo(ctx):
            pair.sh(ctx['holder'], 'ip link set %s up' % state['iface'])
            time.sleep(0.2)
            pair.restore_routes(ctx['holder'], state['routes'])
        hold = (_hold_until_moved(limit=pair.timers['deadtime'] + 15) if hold_kind == 'moved'
                else _hold_for(lambda p: p.timers['deadtime'] + 5))
        return run_fault(pair, fault.__name__, inject, hold, undo, **kw)
    return fault


public_link = _link(0, 'moved')
public_link.__name__ = 'public_link'
public_link.__doc__ = 'ip link set <first link> down on the holder; up again (default routes restored).'
private_link = _link(-1, 'fixed')
private_link.__name__ = 'private_link'
private_link.__doc__ = 'ip link set <last link> down on the holder for deadtime + 5 s; must move nothing.'


def _announce(pair, backend):
    """podman gives a reconnected or restarted container a new MAC address, which the nodes' neighbour
    caches do not know yet (a real server keeps its MAC): have the backend talk to every node first."""
    podman('exec', backend, 'python3', '-c', 'import socket, sys\nfor a in sys.argv[1:]:\n'
           '    socket.create_connection((a, 80), 2).close()',
           *[pair.links[host][0]['address'] for host in pair.nodes], check=False)


def backend_down(pair, seconds=10.0, **kw):
    """The first backend unreachable for `seconds` (its network unplugged: podman network disconnect, as
    a crashed host or a pulled cable: connects to it hang); must move nothing and lose nothing."""
    backend = pair.backends[0]
    info = json.loads(podman('inspect', backend).stdout)[0]['NetworkSettings']['Networks']
    network, settings = next(iter(info.items()))

    def undo(ctx):
        podman('network', 'connect', '--ip', settings['IPAddress'], network, backend)
        _announce(pair, backend)
    return run_fault(pair, 'backend_down', lambda ctx: podman('network', 'disconnect', network, backend),
                     _hold_for(lambda p: seconds), undo, **kw)


def backend_stop(pair, seconds=10.0, **kw):
    """podman stop of the first backend for `seconds` (its port refuses, then its address is gone); must
    move nothing and lose nothing."""
    backend = pair.backends[0]

    def undo(ctx):
        podman('start', backend)
        _announce(pair, backend)
    return run_fault(pair, 'backend_stop', lambda ctx: podman('stop', '-t', '1', backend),
                     _hold_for(lambda p: seconds), undo, **kw)


FAULTS = {f.__name__: f for f in (crash, reboot, freeze, heartbeat_stop, heartbeat_kill, apache_stop, apache_hang,
                                  apache_kill, apache_stop_both, public_link, private_link, backend_down, backend_stop)}

COLUMNS = [('fault', 15), ('site_back_s', 11), ('failed', 6), ('longest_gap_s', 13), ('two_holders_max_s', 17),
           ('moved_s', 7), ('pair_ok_s', 9), ('back_s', 6), ('holders_end', 11), ('heartbeat_active_end', 20)]


def table(results):
    def cell(value):
        if isinstance(value, dict):
            return ','.join('%s' % ('y' if v else 'n') for v in value.values())
        if isinstance(value, list):
            return ','.join(value) or '-'
        return '-' if value is None else str(value)
    names = [name for name, dummy_width in COLUMNS]
    lines = ['| ' + ' | '.join(names) + ' |', '|' + '---|' * len(COLUMNS)]
    for result in results:
        lines.append('| ' + ' | '.join(cell(result.get(name)) for name in names) + ' |')
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description='Inject faults into a hapair test-bed pair and measure.')
    parser.add_argument('-i', '--inventory', required=True)
    parser.add_argument('--cluster')
    parser.add_argument('--timers', choices=sorted(PROFILES),
                        help="heartbeat's timer profile, when the inventory does not say what the pair runs with")
    parser.add_argument('--repeat', type=int, default=1)
    parser.add_argument('--json', help='append one JSON line per fault to this file')
    parser.add_argument('--label', default='', help='a label stored with every result (e.g. the timer profile)')
    parser.add_argument('--verbose', action='store_true', help='keep the event timeline in the results')
    parser.add_argument('faults', nargs='*', help='default: all of %s' % ', '.join(FAULTS))
    args = parser.parse_args()
    names = args.faults or list(FAULTS)
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        parser.error('unknown faults: %s' % ', '.join(unknown))

    def log(message):
        print('[%s] %s' % (time.strftime('%H:%M:%S'), message), file=sys.stderr, flush=True)
    pair = Pair(args.inventory, args.cluster, timers=PROFILES[args.timers] if args.timers else None, log=log)
    log('pair %s: preferred %s, VIP %s, timers %s' % (pair.cluster, pair.preferred, pair.vip, pair.timers))
    results = []
    for run in range(args.repeat):
        for name in names:
            try:
                result = FAULTS[name](pair, verbose=args.verbose)
            except Exception as exc:  # pylint: disable=broad-exception-caught  # report and go on
                result = {'fault': name, 'error': '%s: %s' % (type(exc).__name__, exc)}
                log('%s failed: %s' % (name, result['error']))
            result.update(run=run + 1, label=args.label, timers=pair.timers)
            results.append(result)
            if args.json:
                with open(args.json, 'a', encoding='utf-8') as out:
                    out.write(json.dumps(result) + '\n')
    print(table(results))
    return 0


if __name__ == '__main__':
    sys.exit(main())
