# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the test bed should look like, read from its inventory, and fast podman:// hosts to check it.

testinfra's ansible backend costs about 5 s a check; podman exec about 0.5 s (0.17 CPU-seconds); nsenter into the
container (testbed/nodeexec.py, faults.node_exec) 0.0065 CPU-seconds, which the hosts here use.

Also: ansible_playbook() runs a playbook of the collection against the test bed, and snapshot() records, with
one command per node, everything of a node the site playbook could change, so that tests can show that a
run changed nothing. The `whole` fixture gives a test the pair as it should be (testbed/faults.py's Bed, repaired
first: no test depends on what another left), and record() keeps a test's figures for the run's summary.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import time

import pytest
from testinfra.backend.podman import PodmanBackend
from testinfra.host import Host

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
INVENTORY = os.environ.get('HAPAIR_TESTBED_INVENTORY', os.path.join(ROOT, 'testbed', 'inventory', 'one-pair.yml'))
sys.path.insert(0, os.path.join(ROOT, 'testbed'))
# pylint: disable=wrong-import-position
import bounds  # noqa: E402  # testbed/bounds.py
import faults  # noqa: E402  # testbed/faults.py


def _inventory():
    out = subprocess.run(['ansible-inventory', '-i', INVENTORY, '--list'], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


INV = _inventory()
HOSTVARS = INV['_meta']['hostvars']


def _group(name):
    """Hosts of a group, its children's included, in inventory order."""
    group = INV.get(name, {})
    hosts = list(group.get('hosts', []))
    for child in group.get('children', []):
        hosts.extend(_group(child))
    return hosts


NODES = _group('loadbalancers')
BACKENDS = _group('backends')
CLIENT = _group('clients')[0]
# The engine the scenario's pair runs (its inventory's hapair_engine).
ENGINE = HOSTVARS[NODES[0]].get('hapair_engine', 'heartbeat')


class NodeBackend(PodmanBackend):
    """testinfra's podman backend, its commands run by faults.node_exec (nsenter, else podman exec)."""

    def run(self, command, *args, **kwargs):
        if self.user is not None:
            return super().run(command, *args, **kwargs)
        cmd = self.get_command(command, *args)
        out = faults.node_exec(self.name, ['/bin/sh', '-c', cmd])
        return self.result(out.returncode, self.encode(cmd), out.stdout, out.stderr)


_HOSTS = {}


def container(host):
    name = HOSTVARS[host]['testbed_container']
    if name not in _HOSTS:
        _HOSTS[name] = Host(NodeBackend(name))
    return _HOSTS[name]


def pairs():
    """{cluster: [hosts]} in inventory order."""
    result = {}
    for host in NODES:
        result.setdefault(HOSTVARS[host]['hapair_cluster'], []).append(host)
    return result


@pytest.fixture(params=NODES)
def node(request):
    """(inventory name, its variables, a podman:// host) for every load-balancer node."""
    return request.param, HOSTVARS[request.param], container(request.param)


@pytest.fixture(params=sorted(pairs()))
def pair(request):
    """(cluster, [(inventory name, variables, podman:// host)]) for every pair."""
    return request.param, [(h, HOSTVARS[h], container(h)) for h in pairs()[request.param]]


@pytest.fixture(scope='session')
def client():
    return container(CLIENT)


def log(message):
    print('[%s] %s' % (time.strftime('%H:%M:%S'), message), flush=True)


@pytest.fixture(scope='session')
def bed():
    """The first pair of the test bed as testbed/faults.py sees it (with the timers of its inventory)."""
    return faults.Bed(INVENTORY, log=log)


@pytest.fixture
def whole(bed):
    """The pair whole before the test (Bed.repair puts right whatever an earlier test left, and says what)."""
    bed.repair()
    return bed


# --- The CPU each test costs, for balancing the lanes and finding what to cut (scripts/test.sh) ------------------

# The CPU of a test: this pytest and the processes it waited for (ansible-playbook, podman, the client), and the test
# bed's containers (their cgroups' cpuacct, cgroup v1; a container started anew in the test counts from its start).
# The tests of CPU_SHOWN CPU-seconds or more are listed at the end of the scenario's log.
CPU_SHOWN = 5.0
CPU_USED = []
CPUACCT = '/sys/fs/cgroup/cpuacct'


def _controller_cpu():
    return sum(usage.ru_utime + usage.ru_stime for usage in (resource.getrusage(resource.RUSAGE_SELF),
                                                             resource.getrusage(resource.RUSAGE_CHILDREN)))


_CGROUPS = {}  # {container: its cgroup's path}, and '' once asked


def _containers_cpu():
    """{container: CPU-seconds since it started} of the test bed's containers whose cgroup can be read. Their cgroups
    are asked of podman once: a container started anew keeps its id, and so its cgroup's path."""
    if '' not in _CGROUPS:
        _CGROUPS[''] = ''
        names = [HOSTVARS[host]['testbed_container'] for host in NODES + BACKENDS + [CLIENT]]
        out = subprocess.run(['podman', 'inspect', '--format', '{{.Name}} {{.State.CgroupPath}}'] + names,
                             capture_output=True, text=True, check=False).stdout
        _CGROUPS.update(line.split(' ', 1) for line in out.splitlines() if ' /' in line)
    found = {}
    for name, path in _CGROUPS.items():
        if not name:
            continue
        try:
            with open(CPUACCT + path.strip() + '/cpuacct.usage', encoding='ascii') as usage:
                found[name] = int(usage.read()) / 1e9
        except (OSError, ValueError):
            continue
    return found


_NODES_SEEN = {'last': None, 'total': 0.0}


def _nodes_cpu():
    """The test bed's containers' CPU-seconds since the session began, summed reading by reading: a container started
    anew between two readings (a crash, a reboot) counts from that start."""
    reading = _containers_cpu()
    last = _NODES_SEEN['last']
    if last is not None:
        for name, value in reading.items():
            then = last.get(name)
            _NODES_SEEN['total'] += value - then if then is not None and then <= value else value
    _NODES_SEEN['last'] = reading
    return _NODES_SEEN['total']


@pytest.fixture(autouse=True)
def cpu_used(request):
    controller, nodes = _controller_cpu(), _nodes_cpu()
    yield
    CPU_USED.append((request.node.nodeid.split('/tests/')[-1], _controller_cpu() - controller, _nodes_cpu() - nodes))


def pytest_sessionstart(session):
    session.config.hapair_cpu_start = (_controller_cpu(), _nodes_cpu())


def pytest_terminal_summary(terminalreporter):
    shown = sorted((item for item in CPU_USED if item[1] + item[2] >= CPU_SHOWN), key=lambda item: -(item[1] + item[2]))
    if not CPU_USED:
        return
    terminalreporter.section('CPU-seconds per test (controller: pytest and its children; nodes: the bed\'s containers)')
    controller, nodes = terminalreporter.config.hapair_cpu_start
    terminalreporter.write_line('the whole session: controller %.0f, nodes %.0f (with the fixtures of a module, which no '
                                'test counts)' % (_controller_cpu() - controller, _nodes_cpu() - nodes))
    terminalreporter.write_line('the %d tests: controller %.0f, nodes %.0f' % (
        len(CPU_USED), sum(item[1] for item in CPU_USED), sum(item[2] for item in CPU_USED)))
    for nodeid, controller, nodes in shown:
        terminalreporter.write_line('%7.1f %7.1f  %s' % (controller, nodes, nodeid))


def record(title, figures):
    """Print a test's figures (molecule shows pytest's output with -s) and keep them for the run's summary
    (HAPAIR_RESULTS: one JSON line each)."""
    print('\n[figures] %s: %s' % (title, json.dumps(figures, sort_keys=True)), flush=True)
    path = os.environ.get('HAPAIR_RESULTS')
    if path:
        with open(path, 'a', encoding='utf-8') as out:
            out.write(json.dumps({'test': title, **figures}, sort_keys=True) + '\n')


# How often a measurement that broke a bound by its figure is taken again (MEASURED_AGAIN): a regression breaks its
# bound every time, while the machine's load, shared by three lanes of pairs and the controller's tests, pushed a
# figure over its bound about once in 150 checks (2 to 3 of about 400 in each of four suite runs, 2026-12-05, each by
# less than a fifth but one). Every run's figures are printed (`[figures]`), the first too: benchmarks/run.py
# --from-suite-logs adds them to the benchmark, so a bound widens only by what was measured. A pair left broken, or an
# event that must not happen, fails at once.
MEASURED_AGAIN = 1


def run_fault(bed, name):
    """Inject one fault of the matrix with the test bed's instruments; assert every bound of testbed/bounds.py. The
    pair must have been repaired just before (the `whole` fixture). A figure over its bound is measured again
    (MEASURED_AGAIN), after a repair; it must hold then."""
    limits = bounds.bounds(name, bed.engine.name, bed.profile, bed.timers, bed.monitor)
    for attempt in range(MEASURED_AGAIN + 1):
        started = time.time()
        result = faults.run_fault(bed, name, verbose=True, whole=True)
        record('fault %s %s %s' % (bed.engine.name, bed.profile, name),
               dict((key, value) for key, value in result.items() if key not in ('events', 'problems_end')))
        broken = bounds.broken_bounds(result, limits)
        if broken:
            show_why(bed, name, result, started)
        if not bounds.figures_over_only(broken) or attempt == MEASURED_AGAIN:
            break
        log('%s: over its bound (%s); measuring it once more' % (name, '; '.join(item.message for item in broken)))
        bed.repair()
    assert not broken, '%s on %s (%s timers) broke its bounds:\n  %s\ntimeline (s after the fault): %s' % (
        name, bed.engine.name, bed.profile, '\n  '.join(item.message for item in broken), result.get('events'))
    if name in faults.ENGINE_UNTOUCHED:
        assert result['engine_restarted'] is None, '%s on %s: systemd started the engine anew on %s' % (
            name, bed.engine.name, result['engine_restarted'])
    return result


def show_why(bed, name, result, started):
    """What a run over its bound came from: its timeline and the nodes' journals (engine and monitor) since it began,
    printed so that the lane's log keeps them."""
    log('%s: timeline (s after the fault): %s' % (name, result.get('events')))
    for host, text in bed.journals(started).items():
        log('%s: journal of %s (%s and hapair-monitor) since the fault began:\n%s' % (
            name, host, bed.engine.service, text))


def http_get(client_host, url):
    """Body of a GET from the client container, or fail with what went wrong."""
    code = ('import sys, urllib.request\n'
            'print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode().strip())')
    return client_host.check_output('python3 -c %s %s', code, url)


# --- Running playbooks against the test bed, and snapshots of what they could change ---------------------

# The ansible-core the scenario tests: HAPAIR_ANSIBLE_BIN (the trixie and mixed scenarios set it to the oldest and
# the newest release), else the one of the Python running pytest (.venv).
ANSIBLE_BIN = os.environ.get('HAPAIR_ANSIBLE_BIN') or os.path.dirname(sys.executable)
_PLAYBOOK_BIN = os.path.join(ANSIBLE_BIN, 'ansible-playbook')
ANSIBLE_PLAYBOOK = _PLAYBOOK_BIN if os.path.exists(_PLAYBOOK_BIN) else 'ansible-playbook'
PROVISION_PLAY = 'PLAY [Provision the load-balancer pairs]'
_RECAP_RE = re.compile(r'^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)'
                       r'\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)', re.M)
# A failed task or loop item: the host it ran on, then its result as JSON (on one line, or indented over several).
_FAILED_RE = re.compile(r'^(?:fatal|failed): \[(?P<host>[^\]]+)\](?:: FAILED!)?(?: \(item=.*?\))? => ', re.M)


class PlaybookRun:
    """One ansible-playbook run: rc, out (stdout and stderr), recap {host: {ok, changed, ...}}, failures [(host, msg)]."""

    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.recap = {m.group('host'): {key: int(value) for key, value in m.groupdict().items() if key != 'host'}
                      for m in _RECAP_RE.finditer(self.out)}
        self.failures = []
        for match in _FAILED_RE.finditer(self.out):
            try:
                result, _end = json.JSONDecoder().raw_decode(self.out, match.end())
            except ValueError:
                self.failures.append((match.group('host'), self.out[match.end():].split('\n', 1)[0]))
                continue
            message = result.get('msg', '') if isinstance(result, dict) else result
            # The pair model's check fails with a list: every error of every host and pair.
            for item in message if isinstance(message, list) else [message]:
                self.failures.append((match.group('host'), str(item)))

    @property
    def messages(self):
        return [message for _host, message in self.failures]

    def has_message(self, phrase):
        return any(phrase in message for message in self.messages)


def ansible_playbook(playbook, *args, inventories=(), timeout=1200):
    """Run playbooks/<playbook> against the test bed inventory (plus `inventories`, whose host variables win),
    with the environment pytest runs in (under molecule: its ansible.cfg), in plain uncoloured output."""
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0', ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default')
    command = [ANSIBLE_PLAYBOOK, '-i', INVENTORY]
    for extra in inventories:
        command += ['-i', str(extra)]
    command += [os.path.join(ROOT, 'playbooks', playbook)] + list(args)
    proc = subprocess.run(command, cwd=ROOT, env=env, check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)
    return PlaybookRun(proc)


# Everything of a node the site playbook could change, read with one podman exec: the checksums of every file the
# roles write (both engines', the monitor's, Apache's, the host name files); the enabled sites; which interface
# holds the VIP; the main PIDs of the services (a restart changes them) and whether they start at boot; the packages;
# uname -n.
_SNAPSHOT_SCRIPT = r'''
for f in /etc/ha.d/ha.cf /etc/ha.d/haresources /etc/ha.d/authkeys /etc/keepalived/keepalived.conf \
         /etc/hapair/monitor.json /etc/systemd/system/hapair-monitor.service \
         /etc/systemd/system/keepalived.service.d/hapair.conf /etc/systemd/system/heartbeat.service.d/hapair.conf \
         /etc/apache2/ports.conf /etc/apache2/sites-available/*.conf /etc/hostname /etc/hosts; do
  if [ -f "$f" ]; then echo "file $f $(sha256sum < "$f" | cut -d ' ' -f 1)"; else echo "file $f missing"; fi
done
for f in /etc/apache2/sites-enabled/*; do
  if [ -L "$f" ]; then echo "link $f $(readlink "$f")"; fi
done
echo "vip $(ip -4 -o addr show to "$1" | awk '{print $2}' | tr '\n' ' ')"
for s in heartbeat keepalived apache2 hapair-monitor; do
  echo "pid $s $(systemctl show -p MainPID --value "$s" 2>/dev/null)"
  echo "enabled $s $(systemctl is-enabled "$s" 2>/dev/null)"
done
for p in heartbeat keepalived apache2; do echo "package $p $(dpkg-query -W -f '${Status}' "$p" 2>/dev/null)"; done
echo "uname $(uname -n)"
'''


def snapshot(hosts=None):
    """{host: {item: value}} for the load-balancer nodes (all of them by default); see _SNAPSHOT_SCRIPT."""
    result = {}
    for host in hosts or NODES:
        out = faults.node_exec(HOSTVARS[host]['testbed_container'], ['sh', '-c', _SNAPSHOT_SCRIPT, 'sh',
                                                                     HOSTVARS[host]['hapair_vip']], check=True).stdout
        state = {}
        for line in out.splitlines():
            kind, _space, rest = line.partition(' ')
            if kind in ('file', 'link', 'pid', 'enabled', 'package'):
                name, _space, value = rest.partition(' ')
                state['%s %s' % (kind, name)] = value
            else:
                state[kind] = rest.strip()
        result[host] = state
    return result


def vip_holders(state):
    """Inventory names of the nodes that hold the VIP in a snapshot."""
    return sorted(host for host, items in state.items() if items['vip'])
