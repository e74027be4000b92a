# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fault injection against a pair of the podman test bed, measured with instruments that are not the product's.

For one pair of an inventory (testbed/inventory/*.yml: testbed_container per host, `backends`), each fault of
FAULTS is injected on the VIP holder, held, undone (always: in a `finally`), and the pair is left to settle.
Meanwhile three independent instruments record what happens:

  * the client: `hey` (Debian's package, a Go HTTP load tool) on this machine asks http://VIP/ every 100 ms: ten
    hey processes started 0.1 s apart, each asking once a second with a new connection and a 1 s timeout, so that a
    request hanging until its timeout holds up none of the others; each writes one CSV line per answered request
    (its start and its duration), and the requests missing from its schedule got no answer. An outage is a run of
    failed requests, from the last good answer to the next;
  * an address watcher per node: `ip -ts -o monitor address` inside the node (iproute2), which prints every address
    the node's kernel gains or loses, with the time it saw it;
  * a service watcher per node: `systemctl is-active` of the engine, apache2 and hapair-monitor every 0.25 s in
    the node (a frozen or dead node's silence counts as nothing active).

The figures come from module_utils/measure.py (the one place that turns records into figures, which the failover
drill and the benchmarks use too); what the pair runs (its engine, timers and monitor settings) comes from the
inventory and the engine contract (module_utils/engines.py). Nothing here asks the product's own modules what
happened.

Python API (molecule tests, benchmarks):
    from faults import Bed, FAULTS, run_fault
    bed = Bed('testbed/inventory/one-pair.yml')
    bed.repair()                                   # the pair as it should be, whatever the last test left
    figures = run_fault(bed, 'apache_stop')
CLI:
    CONTAINERS_CONF=testbed/containers.conf python3 testbed/faults.py -i INVENTORY [--repeat N] [--json FILE] [FAULT ...]
Needs ansible-inventory, podman, nft and hey on PATH, and root (podman, nft).
"""

from __future__ import annotations

import argparse
import csv
import ctypes
import datetime
import io
import ipaddress
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
COLLECTIONS = os.path.join(ROOT, 'playbooks', 'collections')
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)

# pylint: disable=wrong-import-position
import nodeexec  # noqa: E402  # testbed/nodeexec.py
from nodeexec import freezer_state_file, read_state  # noqa: E402

from ansible_collections.hapair.loadbalancer.plugins.module_utils import engines, measure  # noqa: E402

# The client asks every INTERVAL seconds, from WORKERS hey processes in turn; a request gets TIMEOUT seconds (hey's
# -t takes whole seconds: WORKERS * INTERVAL must be at least TIMEOUT, so that a hung request holds up no other).
INTERVAL = 0.1
# The longest a watcher runs in a node (seconds), should its reader never close: the longest fault with its settling.
WATCH_LIMIT = 900
TIMEOUT = 1
WORKERS = 10
# A node whose service watcher has not reported for this long counts as running nothing (frozen, or gone).
SERVICE_REPORT_STALE = 2.0
# The nftables table that splits a bed's pair (family bridge, on this machine: the nodes' links are bridges); one per
# test bed (its testbed_name), so that two beds can run at once.
SPLIT_TABLE = 'hapair_split_%s'
# How much of each node's journal a figure over its bound brings along (Bed.journals), and the lines it leaves out:
# heartbeat logs about a dozen lines each time it restarts a link's processes, and a heal that went wrong restarted
# them over and over (683 lines in 3.5 minutes, 2026-12-06). The first lines are kept: what went wrong comes first,
# its consequences after.
JOURNAL_LINES = 300
JOURNAL_NOISE = ('glib: ucast:', 'Unable to set scheduler parameters')
# How the engines' own tools say that a node sees its peer and nothing moves (the test bed's knowledge of the
# engines, not the product's code): a shell snippet with PEER for the peer's node name, exit 0 when whole.
ENGINE_WHOLE = {
    # heartbeat: and one heartbeat on the node (a stop that timed out has left heartbeat running outside systemd's view,
    # and the unit's restart started a second one beside it: a node of two generations; roles/heartbeat's drop-in).
    'heartbeat': "[ \"$(cl_status nodestatus PEER 2>/dev/null)\" = active ] && "
                 "[ \"$(cl_status rscstatus 2>/dev/null)\" != transition ] && "
                 "[ \"$(pgrep -c -f '^heartbeat: master control process')\" = 1 ]",
    # keepalived keeps no view of its peer: its own log's last word on the instance, MASTER or BACKUP.
    'keepalived': "journalctl -u keepalived -o cat -n 500 --no-pager | grep -oE 'Entering (MASTER|BACKUP|FAULT) STATE' "
                  "| tail -1 | grep -qE 'MASTER|BACKUP'",
}


def podman(*args, check=True, timeout=60):
    return subprocess.run(['podman', *args], capture_output=True, text=True, check=check, timeout=timeout)


def _inspect_entry(container):
    out = podman('inspect', '--format', nodeexec.INSPECT_FORMAT, container, check=False)
    return out.stdout if out.returncode == 0 else None


# The nodes' first processes, for commands in them without podman exec (testbed/nodeexec.py: 25 times cheaper).
ENTRIES = nodeexec.Entries(_inspect_entry)


def node_exec(container, argv, check=False, timeout=60):
    """argv in the container, as `podman exec CONTAINER ARGV...` runs it (its CompletedProcess, text); through
    nsenter where it can (ENTRIES), else podman exec itself (a container that does not run or is frozen)."""
    entered = ENTRIES.command(container, argv)
    if entered is None:
        return podman('exec', container, *argv, check=check, timeout=timeout)
    return subprocess.run(entered[0], env=entered[1], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          check=check, timeout=timeout)


def monitor_defaults():
    """The monitor's settings as its argument spec defaults them (roles/monitor/meta/argument_specs.yml)."""
    with open(os.path.join(ROOT, 'roles', 'monitor', 'meta', 'argument_specs.yml'), encoding='utf-8') as handle:
        options = yaml.safe_load(handle)['argument_specs']['main']['options']
    return dict((name, option['default']) for name, option in options.items() if 'default' in option)


def loadavg():
    try:
        with open('/proc/loadavg', encoding='ascii') as handle:
            return float(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# -- the test bed -----------------------------------------------------------------------------------------------

class Bed:
    """One pair of the test bed: its containers, links, VIP, backends, engine, timers and monitor settings."""

    def __init__(self, inventory, cluster=None, profile=None, log=None):
        inventories = [inventory] if isinstance(inventory, str) else list(inventory)
        command = ['ansible-inventory', '--list']
        for path in inventories:
            command += ['-i', path]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        inv = json.loads(out)
        hostvars = inv['_meta']['hostvars']

        def group(name):
            hosts = list(inv.get(name, {}).get('hosts', []))
            for child in inv.get(name, {}).get('children', []):
                hosts.extend(group(child))
            return hosts
        nodes = [h for h in group('loadbalancers')
                 if cluster is None or hostvars[h].get('hapair_cluster', 'default') == cluster]
        self.cluster = hostvars[nodes[0]].get('hapair_cluster', 'default')
        nodes = [h for h in nodes if hostvars[h].get('hapair_cluster', 'default') == self.cluster]
        if len(nodes) != 2:
            raise ValueError('pair %s has %d nodes' % (self.cluster, len(nodes)))
        self.inventories = inventories
        self.hostvars = hostvars
        self.names = dict((h, hostvars[h].get('hapair_node_name', h)) for h in nodes)
        first = hostvars[nodes[0]]
        preferred_name = first.get('hapair_preferred_node') or self.names[nodes[0]]
        self.preferred = next(h for h in nodes if self.names[h] == preferred_name)
        self.standby = next(h for h in nodes if h != self.preferred)
        self.nodes = [self.preferred, self.standby]
        self.container = dict((h, hostvars[h]['testbed_container']) for h in nodes)
        self.links = dict((h, hostvars[h]['hapair_links']) for h in nodes)
        self.vip = first['hapair_vip']
        self.vip_interface = first.get('hapair_vip_interface', self.links[nodes[0]][0]['interface'])
        self.backends = dict((hostvars[h]['testbed_container'], hostvars[h]['testbed_address'])
                             for h in group('backends'))
        self.url = 'http://%s/' % self.vip
        self.split_table = SPLIT_TABLE % re.sub(r'\W', '_', first.get('testbed_name', 'hapair'))
        self.log = log or (lambda message: None)
        # {host: (the engine unit's MainPID, NRestarts)} as problems() last read them.
        self.engine_seen = {}
        self.engine = engines.get(first.get('hapair_engine', engines.DEFAULT))
        self.profile = profile or first.get('hapair_timers', 'standard')
        values = dict(self.engine.profile(self.profile))
        values.update((name, first[name]) for name in self.engine.timer_variables if name in first)
        self.timers = self.engine.timers(values)
        monitor = monitor_defaults()
        monitor.update((name, first[name]) for name in monitor if name in first)
        self.monitor = monitor
        self.services = (self.engine.service, 'apache2', 'hapair-monitor')

    def peer_of(self, host):
        return self.standby if host == self.preferred else self.preferred

    # -- reading the pair ----------------------------------------------------------------------------------------

    def sh(self, host, command, check=False, timeout=60):
        return node_exec(self.container[host], ['sh', '-c', command], check=check, timeout=timeout)

    def state(self, host):
        """The container's state: running, paused, exited, ..., or missing."""
        return self.states([host])[host]

    def states(self, hosts):
        """{host: the state of its container}: `running` for a container whose first process ENTRIES knows to run
        thawed (read in /proc and its freezer, no podman call), the others' in one podman call (each costs a podman
        process, about 0.06 CPU-seconds: the test bed's polls are much of what it takes from the machine the nodes
        share)."""
        result = dict((h, 'running') for h in hosts if ENTRIES.entry(self.container[h]) is not None)
        asked = [h for h in hosts if h not in result]
        if asked:
            out = podman('inspect', '--format', '{{.Name}} {{.State.Status}}', *[self.container[h] for h in asked],
                         check=False)
            found = dict(line.split(' ', 1) for line in out.stdout.splitlines() if ' ' in line)
            result.update((h, found.get(self.container[h], 'missing').strip()) for h in asked)
        return dict((h, result[h]) for h in hosts)

    def holds(self, host):
        if self.state(host) != 'running':
            return False
        return bool(self.sh(host, 'ip -4 -o addr show to %s/32' % self.vip).stdout.strip())

    def holders(self):
        return [h for h in self.nodes if self.holds(h)]

    def finished_at(self, host):
        """When the node's container last ended (seconds since the epoch; podman's record), or None."""
        out = podman('inspect', '--format', '{{.State.FinishedAt}}', self.container[host], check=False)
        return podman_time(out.stdout) if out.returncode == 0 else None

    def unit_started(self, host, unit):
        """When systemd last started the unit's main process on the node (seconds since the epoch), or None."""
        out = self.sh(host, 'systemctl show -P ExecMainStartTimestamp --timestamp=us+utc %s' % unit, check=False)
        return systemd_time(out.stdout)

    def active(self, host, unit):
        if self.state(host) != 'running':
            return False
        return self.sh(host, 'systemctl is-active %s' % unit).stdout.strip() == 'active'

    def answers(self, url=None, timeout=1.0):
        """The first line of an answer from url (the VIP by default), or None."""
        try:
            with urllib.request.urlopen(url or self.url, timeout=timeout) as response:
                return response.read(200).decode(errors='replace').strip()
        except OSError:
            return None

    def problems(self):
        """What keeps the pair from being whole: [] when the preferred node alone holds the VIP, both nodes run the
        engine, Apache and the monitor, the engine sees its peer and nothing moves, both have their default route,
        the site answers through the VIP and every backend answers. One podman exec per node, which also reads the
        engine unit's main PID and restart count into engine_seen ({host: (MainPID, NRestarts)}: what a fault that
        must not restart the engine compares before and after, engine_restarted)."""
        found = []
        states = self.states(self.nodes)
        for host, state in states.items():
            if state != 'running':
                found.append('%s is %s' % (host, state))
        if found:
            return found
        holders = []
        for host in self.nodes:
            peer = self.names[self.peer_of(host)]
            script = ('ip -4 -o addr show to %s/32 | grep -q . && echo holds; echo "services $(systemctl is-active %s '
                      '| tr "\\n" " ")"; ip -4 route show default | grep -q . && echo route; %s && echo whole; '
                      'echo "engine $(systemctl show -p MainPID -p NRestarts --value %s | tr "\\n" " ")"; true') % (
                          self.vip, ' '.join(self.services), ENGINE_WHOLE[self.engine.name].replace('PEER', peer),
                          self.engine.service)
            lines = self.sh(host, script).stdout.split('\n')
            engine = next((line.split()[1:] for line in lines if line.startswith('engine ')), [])
            self.engine_seen[host] = tuple(engine) if len(engine) == 2 else None
            if 'holds' in lines:
                holders.append(host)
            status = next((line for line in lines if line.startswith('services ')), 'services')
            for unit, value in zip(self.services, status.split()[1:], strict=False):
                if value != 'active':
                    found.append('%s: %s is %s' % (host, unit, value))
            if 'route' not in lines:
                found.append('%s has no default route' % host)
            if 'whole' not in lines:
                found.append("%s: the engine does not see its peer, something moves, or it runs twice" % host)
        if holders != [self.preferred]:
            found.append('the VIP is on %s, not on %s alone' % (holders or 'no node', self.preferred))
        if self.answers() is None:
            found.append('the site does not answer through the VIP')
        for container, address in self.backends.items():
            if self.answers('http://%s/' % address) is None:
                found.append('backend %s does not answer' % container)
        return found

    def wait_whole(self, timeout=None, quiet=2.0):
        """Seconds until problems() was empty for `quiet` seconds; TimeoutError naming the problems."""
        timeout = timeout or self.timers.startup + self.timers.detect + 60
        start = time.monotonic()
        since = None
        problems = []
        while time.monotonic() - start < timeout:
            problems = self.problems()
            if not problems:
                since = since or time.monotonic()
                if time.monotonic() - since >= quiet:
                    return time.monotonic() - start
            else:
                since = None
            # A poll costs about a CPU-second (podman's inspect and an exec per node): once a second is enough.
            time.sleep(1.0)
        raise TimeoutError('pair %s not whole within %s s: %s' % (self.cluster, timeout, '; '.join(problems)))

    def journals(self, since, lines=JOURNAL_LINES):
        """{host: the first `lines` lines of the engine's and the monitor's journal since `since` (seconds since the
        epoch), each with its microseconds, without JOURNAL_NOISE} for the nodes that run: what a figure over its
        bound came from (the engines restart, decline or claim in there; the harness's figures only show the result)."""
        found = {}
        for host, state in self.states(self.nodes).items():
            if state != 'running':
                found[host] = '(%s)' % state
                continue
            command = 'journalctl -u %s -u hapair-monitor --since @%d -o short-precise --no-pager | grep -v%s ' \
                      '| head -n %d' % (self.engine.service, int(since),
                                        ''.join(" -e '%s'" % noise for noise in JOURNAL_NOISE), lines)
            found[host] = self.sh(host, command).stdout.rstrip()
        return found

    # -- putting it right --------------------------------------------------------------------------------------

    def default_routes(self, host):
        return [line.strip() for line in self.sh(host, 'ip -4 route show default').stdout.splitlines() if line.strip()]

    def gateway(self, host):
        """The address of the bridge of the host's first link (podman's gateway, the first host of its network)."""
        network = ipaddress.IPv4Network(self.network_of(self.links[host][0]['address'])['subnet'])
        return str(network.network_address + 1)

    def repair(self):
        """Put right whatever a fault or an earlier test left, then wait until the pair is whole; returns what was
        done. Used before every test: no test depends on the state another left."""
        done = []
        if subprocess.run(['nft', 'list', 'table', 'bridge', self.split_table], capture_output=True,
                          check=False).returncode == 0:
            subprocess.run(['nft', 'delete', 'table', 'bridge', self.split_table], check=True)
            done.append('removed the split')
        for host in self.nodes:
            state = self.state(host)
            if state == 'paused':
                podman('unpause', self.container[host])
                done.append('unpaused %s' % host)
            elif state != 'running':
                podman('start', self.container[host])
                done.append('started %s' % host)
                self.sh(host, 'systemctl is-system-running --wait', timeout=120)
        # Both backends in one podman call: their states and their networks.
        seen = json.loads(podman('inspect', *self.backends, check=False).stdout or '[]')
        seen = dict((item['Name'].lstrip('/'), item) for item in seen)
        for container, address in self.backends.items():
            if seen.get(container, {}).get('State', {}).get('Status') != 'running':
                podman('start', container)
                done.append('started %s' % container)
                seen[container] = json.loads(podman('inspect', container).stdout)[0]
            networks = seen[container]['NetworkSettings']['Networks']
            if not any(n.get('IPAddress') == address for n in networks.values()):
                podman('network', 'connect', '--ip', address, self.network_of(address)['name'], container)
                done.append('reconnected %s' % container)
        for host in self.nodes:
            # One exec puts the links up, thaws Apache and says what else is missing (a podman call per check cost
            # about 20 of them per repair, before every test).
            script = ''.join("ip -o link show %(i)s | grep -q 'state DOWN' && ip link set %(i)s up && echo 'up %(i)s'; "
                             % {'i': link['interface']} for link in self.links[host])
            # A kept-down kill's delay of the engine's restart (engine_kill_down) whose undo did not run to its end.
            script += ('for f in %s; do [ -e "$f" ] && rm -f "$f" && systemctl daemon-reload && echo "dropin $f"; done; '
                       % (KEPT_DOWN_DROPIN % '*'))
            script += ('ip -4 route show default | grep -q . || echo noroute; pkill -CONT -x apache2; '
                       'for u in %s; do systemctl is-active -q "$u" || echo "inactive $u"; done; true'
                       % ' '.join(self.services))
            found = self.sh(host, script).stdout.split('\n')
            done += ['%s: %s up' % (host, line.split()[1]) for line in found if line.startswith('up ')]
            done += ['%s: removed %s' % (host, line.split()[1]) for line in found if line.startswith('dropin ')]
            if 'noroute' in found:
                self.sh(host, 'ip route replace default via %s dev %s' % (self.gateway(host), self.links[host][0]['interface']))
                done.append('%s: default route' % host)
            for unit in self.services:
                if 'inactive %s' % unit in found:
                    # A start that hangs (heartbeat has wedged in its start after a healed partition: "Message hist
                    # queue is filling up", its API never answering) is killed and started once more.
                    restart = ('systemctl reset-failed %(u)s; timeout 60 systemctl start %(u)s || { systemctl kill '
                               '--signal=KILL %(u)s; sleep 1; systemctl reset-failed %(u)s; systemctl start %(u)s; }')
                    self.sh(host, restart % {'u': unit}, timeout=150)
                    done.append('%s: started %s' % (host, unit))
        if done:
            self.log('repaired: %s' % '; '.join(done))
        self.wait_whole()
        return done

    def network_of(self, address):
        """The test bed network ({name, subnet}) whose subnet holds an address."""
        for host in self.hostvars.values():
            for network in host.get('testbed_networks', []):
                if ipaddress.IPv4Address(address) in ipaddress.IPv4Network(network['subnet']):
                    return network
        raise ValueError('no test bed network holds %s' % address)


# -- the instruments ---------------------------------------------------------------------------------------------

_MONITOR_LINE = re.compile(r'^\[(?P<ts>[0-9T:.-]+)\]\s+(?P<deleted>Deleted\s+)?\d+:\s+\S+\s+inet\s+(?P<address>[0-9.]+)/')


def _node_time(text):
    """`ip -ts` prints the node's local time (UTC in the test bed) with microseconds."""
    return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%S.%f').replace(tzinfo=datetime.timezone.utc).timestamp()


_PODMAN_TIME = re.compile(r'^(?P<when>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.(?P<fraction>\d+))? (?P<offset>[+-]\d{4})')


def node_clock(text):
    """The first line of a command's output as `date +%s.%N` printed it, in seconds since the epoch; None if it is not."""
    first = (text or '').split('\n', 1)[0].strip()
    return float(first) if re.match(r'^\d+\.\d+$', first) else None


def systemd_time(text):
    """A time as `systemctl show --timestamp=us+utc` prints it (`Sun 2026-12-06 18:13:41.462842 UTC`) in seconds since
    the epoch; None for anything else (an empty value: it never happened)."""
    match = re.match(r'^\w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}) UTC$', (text or '').strip())
    if not match:
        return None
    return datetime.datetime.strptime(match.group(1), '%Y-%m-%d %H:%M:%S.%f').replace(
        tzinfo=datetime.timezone.utc).timestamp()


def podman_time(text):
    """A time of `podman inspect` (`2026-12-05 12:46:09.799501096 +0000 UTC`) in seconds since the epoch; None for
    anything else (podman's zero time for a container that never ended included)."""
    match = _PODMAN_TIME.match(text.strip())
    if not match or match.group('when').startswith('0001-'):
        return None
    when = datetime.datetime.strptime('%s %s' % (match.group('when'), match.group('offset')), '%Y-%m-%d %H:%M:%S %z')
    return when.timestamp() + float('0.' + (match.group('fraction') or '0'))


class AddressWatcher:
    """Every moment a node's kernel gains or loses the VIP, from `ip -ts -o monitor address` in the node."""

    def __init__(self, bed, host):
        self.bed, self.host = bed, host
        self.events = []          # [{'at', 'holds'}], the state at the start first
        self.proc = None
        self.thread = None
        self.expect_end = False

    def start(self):
        self.expect_end = False
        # The monitor ends with its reader, as the ServiceWatcher's loop (its note says why).
        script = ('exec 3<&0; ip -4 -o addr show to %s/32; echo ---; timeout %d ip -ts -o monitor address & monitor=$!; '
                  '(cat <&3 > /dev/null; kill $monitor) & wait $monitor' % (self.bed.vip, WATCH_LIMIT))
        self.proc = subprocess.Popen(['podman', 'exec', '-i', self.bed.container[self.host], 'sh', '-c', script],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, bufsize=1)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        started = time.time()
        initial = []
        for line in self.proc.stdout:
            if line.strip() == '---':
                self.events.append({'at': started, 'holds': bool(initial)})
                break
            initial.append(line)
        for line in self.proc.stdout:
            match = _MONITOR_LINE.match(line)
            if match and match.group('address') == self.bed.vip:
                self.events.append({'at': _node_time(match.group('ts')), 'holds': not match.group('deleted')})
        # The stream ended: the container died (a crash) or was stopped. A dead node holds nothing, from the moment
        # its container ended (podman's FinishedAt: its runtime's record of the last process's exit, with which the
        # node's network went), not from the moment this reader noticed the end: that came up to 0.4 s later on the
        # suite's loaded machine, two holders for that long after a crash whose truth is none.
        if not self.expect_end and self.events and self.events[-1]['holds']:
            noticed = time.time()
            ended = self.bed.finished_at(self.host)
            at = ended if ended is not None and self.events[-1]['at'] <= ended <= noticed else noticed
            self.events.append({'at': at, 'holds': False})

    def holds(self):
        return bool(self.events and self.events[-1]['holds'])

    def stop(self):
        self.expect_end = True
        if self.proc and self.proc.poll() is None:
            self.proc.stdin.close()  # the monitor in the node ends with its reader
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.thread:
            self.thread.join(5)

    def restart(self):
        """After the container came back (a crash, a reboot): a new watcher process, the record goes on."""
        self.stop()
        self.start()


class ServiceWatcher:
    """The node's services (engine, Apache, monitor) every 0.25 s, from systemctl in the node."""

    def __init__(self, bed, host):
        self.bed, self.host = bed, host
        self.latest = None        # (time, {unit: state})
        self.proc = None

    def start(self):
        units = ' '.join(self.bed.services)
        # The loop ends when this side closes the pipe: the wait between two readings is bash's `read -t` on it, which
        # then returns 1 (a timeout returns more than 128). A podman exec whose client is gone leaves its process
        # running in the container (conmon keeps its output open), and every fault had left one loop of systemctl
        # calls behind: the nodes' load grew to 60 in an hour of benchmark. Only systemctl is a process of its own
        # (bash's clock and read are builtins): a reading was six processes (date twice, a subshell, tr, sleep), some
        # 44,000 in a suite run (process accounting, 2026-12-07).
        script = ('end=$((EPOCHSECONDS + %d)); while [ "$EPOCHSECONDS" -lt "$end" ]; do '
                  'states=$(systemctl is-active %s); echo "$EPOCHREALTIME ${states//$\'\\n\'/ }"; '
                  'read -r -t 0.25 _; [ "$?" -gt 128 ] || break; done' % (WATCH_LIMIT, units))
        self.proc = subprocess.Popen(['podman', 'exec', '-i', '-e', 'LC_ALL=C', self.bed.container[self.host],
                                      'bash', '-c', script],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, bufsize=1)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            fields = line.split()
            try:
                self.latest = (float(fields[0]), dict(zip(self.bed.services, fields[1:], strict=False)))
            except (ValueError, IndexError):
                continue
        self.latest = None

    def active(self, unit):
        latest = self.latest
        return bool(latest and latest[1].get(unit) == 'active' and time.time() - latest[0] <= SERVICE_REPORT_STALE)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.stdin.close()  # the loop in the node ends with its reader
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def restart(self):
        self.stop()
        self.start()


# The client's scheduling group gets this nice value (-10: about nine times the weight of a group at 0).
CLIENT_NICE = -10


def _own_session():
    """In a child before it runs its program: a session of its own (so a scheduling group of its own), and SIGTERM
    when the process that started it ends (a session of its own no longer gets the terminal's Ctrl-C, and a client
    left behind would ask the site for up to an hour). The kernel sends it when the thread that started the child
    ends: start clients from a thread that outlives them (every caller uses its main thread)."""
    os.setsid()
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def first_in_line(pid, nice=CLIENT_NICE):
    """Put process `pid`, the leader of a session of its own, first in line for the CPU: the kernel weighs each
    session of this machine as one group (autogroup), so a client in the caller's session shared one group's CPU with
    everything the caller's session runs (in the suite, three lanes' ansible-playbook and pytest: the client's
    requests then went out, or their answers were read, late, and counted as failures that did not happen). Its own
    group at `nice` keeps the instrument's clock true on a loaded machine; it uses little CPU, so it takes little.
    Returns whether it was set (a kernel without autogroup, or a user who may not lower a nice value: not)."""
    try:
        with open('/proc/%d/autogroup' % pid, 'w', encoding='ascii') as group:
            group.write('%d\n' % nice)
        return True
    except OSError:
        return False


class Client:
    """hey on this machine, WORKERS processes started INTERVAL seconds apart, each asking for the site once every
    WORKERS * INTERVAL seconds (one request at a time, a new connection each, TIMEOUT seconds each): together a request
    every INTERVAL seconds, and a request that hangs until its timeout holds up none of the others, so the site's
    return is seen to within INTERVAL. Each writes, when it ends, one CSV line per answered request (its start offset,
    duration, status); the requests it does not list got no answer (measure.worker_requests finds them). Each runs in
    a session of its own, first in line for the CPU (first_in_line)."""

    def __init__(self, url, interval=INTERVAL, timeout=TIMEOUT, workers=WORKERS):
        self.url, self.interval, self.timeout, self.workers = url, interval, timeout, workers
        self.procs = []
        self.started = self.stopped = None
        self.requests = []

    def start(self, max_seconds=3600):
        self.started = time.time()
        period = self.interval * self.workers
        for index in range(self.workers):
            if index:
                time.sleep(max(0.0, self.started + index * self.interval - time.time()))
            command = ['hey', '-z', '%ds' % max_seconds, '-q', '%g' % (1 / period), '-c', '1', '-t', str(self.timeout),
                       '-disable-keepalive', '-o', 'csv', self.url]
            proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                    preexec_fn=_own_session)  # pylint: disable=subprocess-popen-preexec-fn
            first_in_line(proc.pid)
            self.procs.append((time.time(), proc))

    def stop(self):
        """End the workers (SIGINT: each writes its CSV) and read every request they made: [(sent, answered, ok)]."""
        self.stopped = time.time()
        for _started, proc in self.procs:
            proc.send_signal(signal.SIGINT)
        self.requests = []
        for started, proc in self.procs:
            out, dummy = proc.communicate(timeout=30)
            answers = []
            for row in csv.DictReader(io.StringIO(out)):
                try:
                    sent = started + float(row['offset'])
                    answers.append((sent, sent + float(row['response-time']), row['status-code'] == '200'))
                except (KeyError, TypeError, ValueError):
                    continue
            self.requests += measure.worker_requests(answers, started, self.stopped, self.interval * self.workers,
                                                     self.timeout)
        return self.requests

    @property
    def answered(self):
        return len([request for request in self.requests if request[2]])

    def outages(self):
        return measure.outages_from_requests(self.requests, self.started + self.interval * self.workers)


# -- a fault and its figures ---------------------------------------------------------------------------------------

class Context:
    """What a fault's inject, hold and undo act on."""

    def __init__(self, bed, holder, watchers, services):
        self.bed, self.holder, self.peer = bed, holder, bed.peer_of(holder)
        self.watchers, self.services = watchers, services
        self.samples = []          # (time, [holders], engine active on both)
        self.state = {}
        self.phase = None          # 'inject' or 'undo' while run_fault calls them
        self.took_effect = {}      # {phase: when it took effect, where it happened}
        self.instruments = []      # what a fault's prepare started, stopped with the watchers

    def mark(self, at):
        """The moment the inject or undo under way took effect, read where it happened (the node's clock, the node's
        freezer, nft's transaction). The first mark of a phase counts."""
        if at is not None:
            self.took_effect.setdefault(self.phase, at)

    def sh_timed(self, host, command):
        """command in the node, its moment marked by the node's clock as the command starts there: podman exec's own
        start (0.05 s idle, up to 0.5 s on the suite's loaded machine) is not part of the fault."""
        result = self.bed.sh(host, 'date +%%s.%%N; %s' % command)
        self.mark(node_clock(result.stdout))
        return result

    def sample(self):
        holders = [h for h in self.bed.nodes if self.watchers[h].holds()]
        engine = all(self.services[h].active(self.bed.engine.service) for h in self.bed.nodes)
        self.samples.append((time.time(), holders, engine))
        return holders, engine

    def moved(self, after):
        """Whether the peer has held the VIP since `after`."""
        events = self.watchers[self.peer].events
        return bool(events and events[-1]['holds'] and events[-1]['at'] >= after)

    def restart_instruments(self, host):
        self.watchers[host].restart()
        self.services[host].restart()


def run_fault(bed, name, verbose=False, settle_timeout=None, whole=False):
    """Inject one fault on the VIP holder, hold it, undo it (whatever happens), let the pair settle; the figures.
    whole: the caller has just seen the pair whole (Bed.repair), so it is not waited for again."""
    fault = FAULTS[name]
    if not whole:
        bed.log('%s: waiting for a whole pair' % name)
        bed.wait_whole()
    holder = bed.holders()[0]
    watchers = dict((h, AddressWatcher(bed, h)) for h in bed.nodes)
    services = dict((h, ServiceWatcher(bed, h)) for h in bed.nodes)
    client = Client(bed.url)
    context = Context(bed, holder, watchers, services)
    load_before = loadavg()
    for instrument in list(watchers.values()) + list(services.values()):
        instrument.start()
    client.start()
    try:
        fault.prepare(context)
        # As the pair was last seen whole (by the caller's repair, or the wait above).
        engine_before = dict(bed.engine_seen)
        time.sleep(1)  # the client and the watchers see the pair whole first
        bed.log('%s: injecting on %s' % (name, holder))
        t_inject = time.time()
        try:
            context.phase = 'inject'
            fault.inject(context)
            t_inject = context.took_effect.get('inject', t_inject)
            fault.hold(context, t_inject)
        finally:
            bed.log('%s: undoing' % name)
            t_undo = time.time()
            context.phase = 'undo'
            fault.undo(context)
            # Where the undo marked when it took effect, the figures count from then (Context.mark).
            t_undo = context.took_effect.get('undo', t_undo)
        settle_timeout = settle_timeout or bed.timers.startup + bed.timers.detect + 60
        deadline = time.monotonic() + settle_timeout
        while time.monotonic() < deadline:
            holders, engine = context.sample()
            if holders == [bed.preferred] and engine and all(services[h].active(u) for h in bed.nodes for u in bed.services):
                break
            time.sleep(0.25)
        problems = []
        try:
            bed.wait_whole(timeout=settle_timeout, quiet=1.0)
        except TimeoutError as exc:
            problems = [str(exc)]
        context.state.setdefault('figures', {})['engine_restarted'] = engine_restarted(
            bed, engine_before, {} if problems else bed.engine_seen)
    finally:
        client.stop()
        t_end = time.time()
        for instrument in list(watchers.values()) + list(services.values()) + context.instruments:
            instrument.stop()
    return figures(bed, name, context, client, t_inject, t_undo, t_end, problems, load_before, verbose)


# The faults that leave the engine alone (they neither stop nor kill it nor restart its node): systemd must not start
# it anew during them - also not when heartbeat restarts itself by exec after a heal (its drop-in's supervisor, issue
# 20). The figure engine_restarted says which node's engine it started anew; molecule's run_fault asserts None.
ENGINE_UNTOUCHED = ('freeze', 'split', 'apache_stop', 'apache_hang', 'apache_kill', 'apache_stop_both', 'public_link',
                    'private_link', 'backend_down', 'backend_stop')


def engine_restarted(bed, before, after):
    """The node names whose engine systemd started anew during the fault (another main process, or its restart
    count grown), or None: none did. A node missing from either reading counts as restarted."""
    restarted = sorted(bed.names[host] for host in bed.nodes if before.get(host) is None or before.get(host) != after.get(host))
    return restarted or None


def _pair_ok(context, t_inject, t_undo):
    """Seconds from the fault until exactly one holder and the engine active on both, for the rest of the fault
    (0.0: never otherwise; None: not before the undo)."""
    during = [(t, len(holders) == 1 and engine) for t, holders, engine in context.samples if t < t_undo]
    bad = [t for t, ok in during if not ok]
    if not bad:
        return 0.0
    after = [t for t, ok in during if ok and t > bad[-1]]
    return round(after[0] - t_inject, 2) if after else None


def figures(bed, name, context, client, t_inject, t_undo, t_end, problems, load_before, verbose):
    events = dict((h, context.watchers[h].events) for h in bed.nodes)
    vip = measure.vip_figures(events, dict((h, t_end) for h in bed.nodes), context.holder, bed.preferred, t_inject,
                              t_undo)
    outages = client.outages()
    seen = measure.client_figures(outages, t_inject, t_undo, client.started, client.stopped, interval=client.interval)
    result = {
        'fault': name,
        'engine': bed.engine.name,
        'profile': bed.profile,
        'holder': bed.names[context.holder],
        'site_back_s': seen.site_back,
        'failed_fault': seen.failed_fault,
        'failed_undo': seen.failed_undo,
        'outages_fault': seen.outages_fault,
        'outages_undo': seen.outages_undo,
        'longest_gap_s': seen.longest_gap,
        'longest_gap_fault_s': seen.longest_gap_fault,
        'longest_gap_undo_s': seen.longest_gap_undo,
        'requests': len(client.requests),
        'answers': client.answered,
        'two_holders_max_s': vip.two_holders_longest,
        'two_holders_total_s': vip.two_holders,
        'moved_s': vip.failover,
        'released_s': vip.released,
        'back_s': vip.failback,
        'one_holder_s': vip.one_holder,
        'pair_ok_s': _pair_ok(context, t_inject, t_undo),
        'fault_held_s': round(t_undo - t_inject, 2),
        'whole_end': not problems,
        'problems_end': problems,
        'loadavg': [load_before, loadavg()],
    }
    result.update(context.state.get('figures', {}))
    if verbose:
        timeline = [(e['at'], bed.names[h], 'gains VIP' if e['holds'] else 'loses VIP') for h in bed.nodes
                    for e in events[h]]
        timeline += [(t_inject, '-', 'inject'), (t_undo, '-', 'undo')]
        timeline += [(o['from'], 'client', 'no answer until %s' % (o['to'] and round(o['to'] - t_inject, 2)))
                     for o in outages]
        result['events'] = [(round(t - t_inject, 2), who, what) for t, who, what in sorted(timeline)]
    bed.log('%s: %s' % (name, json.dumps(dict((k, v) for k, v in result.items() if k != 'events'))))
    return result


# -- how long a fault is held -------------------------------------------------------------------------------------

def until_moved(extra=3.0, limit=None):
    """Hold until the peer holds the VIP, then `extra` seconds more (at most `limit` seconds in all)."""
    def hold(context, t_inject):
        end = t_inject + (limit or context.bed.timers.detect + 15)
        while time.time() < end:
            context.sample()
            if context.moved(t_inject):
                end = min(end, time.time() + extra)
            time.sleep(0.25)
    return hold


def for_seconds(seconds):
    """Hold for seconds(bed) seconds."""
    def hold(context, t_inject):
        end = t_inject + seconds(context.bed)
        while time.time() < end:
            context.sample()
            time.sleep(0.25)
    return hold


# -- the faults ------------------------------------------------------------------------------------------------------

class Fault:
    """A fault: what it does to the holder (inject), how long it lasts (hold), how it is undone (undo), and what it
    looks up before (prepare: not timed, so that the fault's moment is when it takes effect)."""

    def __init__(self, name, title, doc, inject, hold, undo, prepare=None):
        self.name, self.title, self.__doc__ = name, title, doc
        self.inject, self.hold, self.undo = inject, hold, undo
        self.prepare = prepare or (lambda context: None)


def _crash_undo(context):
    podman('start', context.bed.container[context.holder])
    context.restart_instruments(context.holder)


def _reboot_inject(context):
    context.state['started'] = podman('inspect', '--format', '{{.State.StartedAt}}',
                                      context.bed.container[context.holder]).stdout
    context.bed.sh(context.holder, 'shutdown -r now')


def _reboot_hold(context, t_inject, limit=180.0):
    host = context.holder
    end = t_inject + limit
    while time.time() < end:
        context.sample()
        out = podman('inspect', '--format', '{{.State.Status}} {{.State.StartedAt}}', context.bed.container[host],
                     check=False).stdout
        if out.startswith('running') and out.split(' ', 1)[1] != context.state['started']:
            context.restart_instruments(host)
            return
        time.sleep(0.5)


def _kill_prepare(context):
    """The engine's start limit (its drop-in: 5 starts in 2 minutes, so an engine that keeps dying stays down) counts
    from here: the faults before this one (a benchmark's repeated kills) must not use it up."""
    context.bed.sh(context.holder, 'systemctl reset-failed %s' % context.bed.engine.service)


def _kill_undo(context):
    """The engine must come back by itself: systemd starts it again K after it died (the drop-in's RestartSec). That
    start ends the fault, read on the node (the unit's new main process), so the outage the kill caused is the
    fault's figures and the hand-back of the VIP that follows, the undo's (as for a stopped engine started again).
    If it did not come back, start it, so the next fault finds a whole pair (and the figures say it did not:
    engine_came_back)."""
    unit = context.bed.engine.service
    back = context.bed.active(context.holder, unit)
    context.state['figures'] = {'engine_came_back': back}
    if back:
        started = context.bed.unit_started(context.holder, unit)
        if started is not None and started > context.took_effect.get('inject', started):
            context.mark(started)
    else:
        context.bed.sh(context.holder, 'systemctl reset-failed %s; systemctl start %s' % (unit, unit))


# Where the kept-down fault delays systemd's restart of the killed engine: a runtime drop-in, read after the
# engine's own (hapair.conf: its RestartSec and its ExecStopPost release, which stay as they are).
KEPT_DOWN_DROPIN = '/run/systemd/system/%s.service.d/zz-hapair-testbed-kept-down.conf'
KEPT_DOWN_RESTART_SEC = 600


def _kept_down_inject(context):
    """The engine killed where it cannot come back (a start that fails, its start limit reached, a broken package):
    systemd's restart delayed past the fault, the engine's own drop-in left as it is. What keeps the pair whole is that
    drop-in's ExecStopPost release: the node lets the VIP go at once, and the peer takes it over once it hears
    nothing for its detection time."""
    unit = context.bed.engine.service
    dropin = KEPT_DOWN_DROPIN % unit
    context.bed.sh(context.holder, 'mkdir -p %s && printf "[Service]\\nRestartSec=%d\\n" > %s && systemctl daemon-reload'
                   % (os.path.dirname(dropin), KEPT_DOWN_RESTART_SEC, dropin), check=True)
    context.sh_timed(context.holder, 'pkill -KILL -x %s' % context.bed.engine.process)


def _kept_down_undo(context):
    """The delay goes and the engine is started: it takes the VIP back as after a stop."""
    unit = context.bed.engine.service
    context.sh_timed(context.holder, 'rm -f %s; systemctl daemon-reload; systemctl reset-failed %s; systemctl start %s'
                     % (KEPT_DOWN_DROPIN % unit, unit, unit))


def _link(index):
    def prepare(context):
        context.state['interface'] = context.bed.links[context.holder][index]['interface']
        context.state['routes'] = context.bed.default_routes(context.holder)

    def inject(context):
        context.sh_timed(context.holder, 'ip link set %s down' % context.state['interface'])

    def undo(context):
        context.sh_timed(context.holder, 'ip link set %s up' % context.state['interface'])
        time.sleep(0.2)
        have = context.bed.default_routes(context.holder)
        for route in context.state['routes']:
            if route not in have:
                context.bed.sh(context.holder, 'ip route append %s' % route.replace(' linkdown', ''))
    return prepare, inject, undo


def host_ports(bed, host):
    """The names of this machine's ends (veth) of a node's links: the bridge ports its frames come in by."""
    names = []
    links = subprocess.run(['ip', '-o', 'link', 'show'], capture_output=True, text=True, check=True).stdout
    for link in bed.links[host]:
        index = bed.sh(host, 'cat /sys/class/net/%s/iflink' % link['interface'], check=True).stdout.strip()
        match = re.search(r'^%s: ([^:@]+)[@:]' % re.escape(index), links, re.M)
        if not match:
            raise RuntimeError('no port of %s %s on this machine' % (host, link['interface']))
        names.append(match.group(1))
    return names


class Nft:
    """nft in interactive mode, started before the fault: each command line is one transaction, committed as soon as
    nft reads it, so the moment the line is written is the moment the split or its heal takes effect (an `nft`
    process per change took 0.01 s idle to start and read its rules, more on a loaded machine, and the pair's own
    answer to a heal, keepalived's advert, comes within milliseconds)."""

    def __init__(self):
        self.errors = tempfile.TemporaryFile('w+')
        self.proc = subprocess.Popen(['nft', '-i'], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=self.errors, text=True)

    def said(self):
        """What nft has written to its standard error so far."""
        self.errors.seek(0)
        return self.errors.read().strip()

    def run(self, command):
        """The moment command was handed to nft (it is committed right after)."""
        at = time.time()
        self.proc.stdin.write(command + '\n')
        self.proc.stdin.flush()
        return at

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.errors.close()


def table_present(family, name):
    return subprocess.run(['nft', 'list', 'table', family, name], capture_output=True, check=False).returncode == 0


def _until(check, timeout=5.0):
    """Whether check() became true within timeout seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _split_prepare(context):
    context.state['ports'] = [', '.join(host_ports(context.bed, h)) for h in context.bed.nodes]
    context.state['nft'] = Nft()
    context.instruments.append(context.state['nft'])


def _split_inject(context):
    """Every frame between the two nodes dropped on this machine's bridges (nftables, family bridge, by bridge
    port: IP and ARP, on every link), as when the switch between them fails: both still reach the clients (this
    machine), the backends and the router, not each other."""
    one, other = context.state['ports']
    table = context.bed.split_table
    rules = ('table bridge %s { chain forward { type filter hook forward priority 0; policy accept; '
             'iifname { %s } oifname { %s } drop; iifname { %s } oifname { %s } drop; }; }') % (
                 table, one, other, other, one)
    context.mark(context.state['nft'].run(rules))
    if not _until(lambda: table_present('bridge', table)):
        raise RuntimeError('the split (nft table bridge %s) did not take: %s' % (table, context.state['nft'].said()))


def _split_undo(context):
    table = context.bed.split_table
    nft = context.state.get('nft')
    if nft and nft.proc.poll() is None:
        context.mark(nft.run('delete table bridge %s' % table))
        if _until(lambda: not table_present('bridge', table)):
            return
    # No nft of its own left, or the heal did not take: delete the table anyway (the figures then count from the
    # call before it).
    subprocess.run(['nft', 'delete', 'table', 'bridge', table], check=False)


def _announce(bed, backend):
    """podman gives a reconnected or restarted container a new MAC address, which the nodes' neighbour caches do not
    know yet (a real server keeps its MAC): have the backend talk to every node first."""
    podman('exec', backend, 'python3', '-c', 'import socket, sys\nfor a in sys.argv[1:]:\n'
           '    socket.create_connection((a, 80), 2).close()',
           *[bed.links[host][0]['address'] for host in bed.nodes], check=False)


def _backend_down_prepare(context):
    backend = sorted(context.bed.backends)[0]
    networks = json.loads(podman('inspect', backend).stdout)[0]['NetworkSettings']['Networks']
    context.state['backend'] = (backend, next(iter(networks)), context.bed.backends[backend])


def _backend_down_inject(context):
    backend, network, dummy = context.state['backend']
    podman('network', 'disconnect', network, backend)


def _backend_down_undo(context):
    backend, network, address = context.state['backend']
    podman('network', 'connect', '--ip', address, network, backend)
    _announce(context.bed, backend)


def _backend_stop_inject(context):
    context.state['backend'] = sorted(context.bed.backends)[0]
    podman('stop', '-t', '1', context.state['backend'])


def _backend_stop_undo(context):
    podman('start', context.state['backend'])
    _announce(context.bed, context.state['backend'])


class StateChange:
    """The moment a kernel file (a node's freezer state) leaves a value while a call runs: it is read every POLL
    seconds from a thread, and the moment is that of the last reading that still had the old value, so a figure
    counted from it is never less than the truth (by at most one poll and this thread's scheduling delay). podman's
    pause and unpause took up to 0.4 s on the suite's loaded machine from the call to runc's write to the freezer:
    counted from the call, keepalived's fast thaw (bound 0.21 s) had counted that wait as its own (0.23 and 0.34 s to
    one holder, CI 2026-12-06); counted from a ticker in the node, the first tick came after keepalived had already
    answered (one holder before the thaw)."""

    POLL = 0.001

    def __init__(self, path, old):
        self.path, self.old = path, old
        self.at = self.last_old = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        while not self.stop.is_set():
            before = time.time()
            value = read_state(self.path)
            if value == self.old:
                self.last_old = before
            elif value is not None and self.last_old is not None:
                self.at = self.last_old
                return
            self.stop.wait(self.POLL)

    def during(self, call):
        """call() with the file watched; returns (call's result, the moment or None: no change seen)."""
        started = time.time()
        if read_state(self.path) == self.old:
            self.last_old = started
        self.thread.start()
        try:
            result = call()
        finally:
            self.stop.set()
            self.thread.join(1.0)
        # The change came as the call ended, after the thread's last reading: the call's writes are done by now.
        if self.at is None and self.last_old is not None and read_state(self.path) not in (None, self.old):
            self.at = self.last_old
        return result, self.at


def _freeze_prepare(context):
    cgroup = podman('inspect', '--format', '{{.State.CgroupPath}}', context.bed.container[context.holder]).stdout
    context.state['freezer'] = freezer_state_file(cgroup.strip())
    context.state['thawed'] = read_state(context.state['freezer'])


# `podman pause` (runc, cgroup v1's freezer) failed at once with exit 125 on a loaded machine (load 13, 2026-12-06:
# the suite's lane A failed on the harness, not on the pair): a pause that did not take is tried again, and if it never
# takes, the error says what podman said.
PAUSE_ATTEMPTS = 3


def _podman_on_freezer(context, action, old):
    """podman pause or unpause (action) of the holder, its moment marked where it takes effect: the holder's freezer
    leaving the value old (StateChange). podman's result."""
    result, at = StateChange(context.state['freezer'], old).during(
        lambda: podman(action, context.bed.container[context.holder], check=False))
    context.mark(at)
    return result


def _freeze(context):
    container = context.bed.container[context.holder]
    for attempt in range(1, PAUSE_ATTEMPTS + 1):
        result = _podman_on_freezer(context, 'pause', context.state['thawed'])
        if result.returncode == 0 or context.bed.state(context.holder) == 'paused':
            return
        if attempt < PAUSE_ATTEMPTS:
            time.sleep(0.5)
    raise RuntimeError('podman pause %s failed %d times (exit %d): %s' % (
        container, PAUSE_ATTEMPTS, result.returncode, result.stderr.strip()))


def _thaw(context):
    if context.bed.state(context.holder) == 'paused':
        result = _podman_on_freezer(context, 'unpause', read_state(context.state['freezer']))
        if result.returncode != 0:
            raise RuntimeError('podman unpause %s failed (exit %d): %s' % (
                context.bed.container[context.holder], result.returncode, result.stderr.strip()))


def _on_holder(command):
    return lambda context: context.sh_timed(context.holder, command.replace('ENGINE', context.bed.engine.service)
                                            .replace('PROCESS', context.bed.engine.process))


def _on_both(command):
    return lambda context: [context.sh_timed(h, command) for h in (context.holder, context.peer)]


_public = _link(0)
_private = _link(-1)

# Every fault of the matrix, once: the molecule tests, the benchmarks and the CLI pick from here.
FAULTS = dict((fault.name, fault) for fault in (
    Fault('crash', 'Node crash (`podman kill`), then started again',
          'podman kill of the holder; podman start after the peer took over.',
          lambda c: podman('kill', c.bed.container[c.holder]), until_moved(), _crash_undo),
    Fault('reboot', 'Node rebooted (`shutdown -r now`)',
          'shutdown -r now on the holder (graceful); its restart policy brings it back.',
          _reboot_inject, _reboot_hold, lambda c: None),
    Fault('freeze', 'Node frozen past the detection time (`podman pause`), then thawed',
          'podman pause of the holder for the detection time + 3 s, then unpause (a stalled VM).',
          _freeze, for_seconds(lambda b: b.timers.detect + 3), _thaw, _freeze_prepare),
    Fault('split', 'Network split between the nodes, then healed',
          'every packet between the nodes dropped (nftables on the bridges) for the detection time + 3 s, '
          'both still reaching the clients; then healed.',
          _split_inject, for_seconds(lambda b: b.timers.detect + 3), _split_undo, _split_prepare),
    Fault('engine_stop', 'Engine stopped, then started',
          'systemctl stop of the engine on the holder; started again after the peer took over.',
          _on_holder('systemctl stop ENGINE'), until_moved(limit=30), _on_holder('systemctl start ENGINE')),
    Fault('engine_kill', 'Engine killed (SIGKILL)',
          'pkill -KILL of the engine on the holder; it must come back by itself (systemd), which ends the fault.',
          _on_holder('pkill -KILL -x PROCESS'), for_seconds(lambda b: b.timers.detect + 5), _kill_undo,
          _kill_prepare),
    Fault('engine_kill_down', 'Engine killed (SIGKILL) and kept down, then started',
          'pkill -KILL of the engine on the holder, with its restart delayed (a runtime drop-in: RestartSec=%d) until '
          'the peer took over; then started.' % KEPT_DOWN_RESTART_SEC,
          _kept_down_inject, until_moved(limit=30), _kept_down_undo, _kill_prepare),
    Fault('apache_stop', 'Apache stopped, then started',
          'systemctl stop apache2 on the holder; started again once the peer serves.',
          _on_holder('systemctl stop apache2'), until_moved(limit=20), _on_holder('systemctl start apache2')),
    Fault('apache_hang', 'Apache hung (SIGSTOP), then resumed',
          'kill -STOP of every apache2 process of the holder (hung, port open); -CONT later.',
          _on_holder('pkill -STOP -x apache2'), until_moved(limit=20), _on_holder('pkill -CONT -x apache2')),
    Fault('apache_kill', 'Apache killed (SIGKILL)',
          'kill -KILL of every apache2 process of the holder: systemd restarts it.',
          _on_holder('pkill -KILL -x apache2'), for_seconds(lambda b: 10),
          _on_holder('systemctl is-active -q apache2 || systemctl start apache2')),
    Fault('apache_stop_both', 'Apache stopped on both nodes for 12 s',
          'systemctl stop apache2 on both nodes for 12 s: nothing may move.',
          _on_both('systemctl stop apache2'), for_seconds(lambda b: 12), _on_both('systemctl start apache2')),
    Fault('public_link', 'Public link down, then up',
          'ip link set <first link> down on the holder; up again, default routes restored.',
          _public[1], until_moved(limit=30), _public[2], _public[0]),
    Fault('private_link', 'Private link down, then up',
          'ip link set <last link> down on the holder for the detection time + 5 s: nothing moves.',
          _private[1], for_seconds(lambda b: b.timers.detect + 5), _private[2], _private[0]),
    Fault('backend_down', 'One backend unplugged, then back',
          'the first backend unplugged (podman network disconnect) for 10 s: nothing moves.',
          _backend_down_inject, for_seconds(lambda b: 10), _backend_down_undo, _backend_down_prepare),
    Fault('backend_stop', 'One backend stopped, then started',
          'podman stop of the first backend for 10 s: nothing moves.',
          _backend_stop_inject, for_seconds(lambda b: 10), _backend_stop_undo),
))
# The faults whose figures depend on the engine's timers: the ones the fast profile is measured (benchmarks/run.py) and
# tested (molecule test_70) under; the others' figures are Apache's, the backends' or the monitor's, the same on
# either profile, and the standard profile's stand for both.
PROFILE_FAULTS = {
    'standard': tuple(FAULTS),
    'fast': ('crash', 'engine_kill', 'engine_kill_down', 'apache_stop', 'public_link', 'freeze', 'split'),
}

COLUMNS = ('fault', 'site_back_s', 'failed_fault', 'failed_undo', 'longest_gap_s', 'longest_gap_undo_s',
           'two_holders_max_s', 'moved_s', 'back_s', 'one_holder_s', 'pair_ok_s', 'whole_end')


def table(results):
    def cell(value):
        return '-' if value is None else str(value)
    lines = ['| ' + ' | '.join(COLUMNS) + ' |', '|' + '---|' * len(COLUMNS)]
    for result in results:
        lines.append('| ' + ' | '.join(cell(result.get(name)) for name in COLUMNS) + ' |')
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description='Inject faults into a hapair test-bed pair and measure.')
    parser.add_argument('-i', '--inventory', required=True, action='append',
                        help='an inventory (again for an overlay, as with ansible-playbook)')
    parser.add_argument('--cluster')
    parser.add_argument('--profile', choices=['standard', 'fast'],
                        help='the timer profile the pair runs with, when the inventory does not say it')
    parser.add_argument('--repeat', type=int, default=1)
    parser.add_argument('--json', help='append one JSON line per fault to this file')
    parser.add_argument('--label', default='', help='a label stored with every result')
    parser.add_argument('--verbose', action='store_true', help='keep the timeline in the results')
    parser.add_argument('faults', nargs='*', help='default: all of %s' % ', '.join(FAULTS))
    args = parser.parse_args()
    names = args.faults or list(FAULTS)
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        parser.error('unknown faults: %s' % ', '.join(unknown))

    def log(message):
        print('[%s] %s' % (time.strftime('%H:%M:%S'), message), file=sys.stderr, flush=True)
    bed = Bed(args.inventory, args.cluster, profile=args.profile, log=log)
    log('pair %s: preferred %s, VIP %s, %s %s timers %s' % (bed.cluster, bed.preferred, bed.vip, bed.engine.name,
                                                            bed.profile, dict(bed.timers._asdict())))
    results = []
    for run in range(args.repeat):
        for name in names:
            bed.repair()
            try:
                result = run_fault(bed, name, verbose=args.verbose, whole=True)
            except Exception as exc:  # pylint: disable=broad-exception-caught  # report and go on
                result = {'fault': name, 'error': '%s: %s' % (type(exc).__name__, exc)}
                log('%s failed: %s' % (name, result['error']))
            result.update(run=run + 1, label=args.label)
            results.append(result)
            if args.json:
                with open(args.json, 'a', encoding='utf-8') as out:
                    out.write(json.dumps(result) + '\n')
    print(table(results))
    return 0


if __name__ == '__main__':
    sys.exit(main())
