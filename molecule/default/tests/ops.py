# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the operations tests (maintenance, metrics, notifications): the test bed's instruments around a
stretch of work, a node's reboot, and what hapair-monitor says on a node (its status file, its metrics, read with
Prometheus' own parser). Built on testbed/faults.py (Bed, AddressWatcher, Client) and module_utils/measure.py."""

from __future__ import annotations

import json
import time

from prometheus_client.parser import text_string_to_metric_families

from conftest import faults

# The one place that computes a figure (module_utils/measure.py), as the fault harness imports it.
measure = faults.measure

METRICS_FILE = '/var/lib/prometheus/node-exporter/hapair.prom'
STATUS_FILE = '/run/hapair/health.json'


def wait_for(predicate, timeout, step=0.5, what='the condition'):
    """Seconds until predicate() was true; TimeoutError naming `what`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return round(time.monotonic() - start, 2)
        time.sleep(step)
    raise TimeoutError('%s not within %s s' % (what, timeout))


def status(bed, host):
    """hapair-monitor's status file on a node (its health page), or None."""
    out = bed.sh(host, 'cat %s' % STATUS_FILE)
    try:
        return json.loads(out.stdout) if out.returncode == 0 else None
    except ValueError:
        return None


def fresh_status(bed, host, seconds=10.0):
    """The status file when the monitor wrote it in the last `seconds` (its clock is the test machine's), else None."""
    doc = status(bed, host)
    return doc if doc and time.time() - doc.get('time', 0) <= seconds else None


def metrics(bed, host, path=METRICS_FILE):
    """{sample name: [(labels, value)]} of a node's metrics file, read by Prometheus' own parser."""
    text = bed.sh(host, 'cat %s' % path, check=True).stdout
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return found


def transitions(found):
    """{(direction, reason): count} of hapair_vip_transitions_total in parsed metrics."""
    return dict(((labels['direction'], labels['reason']), value)
                for labels, value in found.get('hapair_vip_transitions_total', []) if value)


def reboot(bed, host, instruments=None, timeout=180.0):
    """`shutdown -r now` in a node (graceful; podman's restart policy brings the container back), then wait until
    systemd has booted; the node's address watcher is restarted. Returns the seconds until it booted."""
    started = faults.podman('inspect', '--format', '{{.State.StartedAt}}', bed.container[host]).stdout
    begin = time.monotonic()
    bed.sh(host, 'shutdown -r now')

    def back():
        out = faults.podman('inspect', '--format', '{{.State.Status}} {{.State.StartedAt}}', bed.container[host],
                            check=False).stdout
        return out.startswith('running') and out.split(' ', 1)[1] != started
    wait_for(back, timeout, what='%s back after its reboot' % host)
    bed.sh(host, 'systemctl is-system-running --wait', timeout=timeout)
    if instruments is not None:
        instruments.watchers[host].restart()
    return round(time.monotonic() - begin, 1)


class Instruments:
    """The test bed's own instruments over a stretch of work: an address watcher per node (ip monitor in the node) and
    the client (hey, a request every 100 ms). marks[name] = time notes the moments that split the figures."""

    def __init__(self, bed):
        self.bed = bed
        self.watchers = dict((h, faults.AddressWatcher(bed, h)) for h in bed.nodes)
        self.client = faults.Client(bed.url)
        self.marks = []

    def start(self):
        for watcher in self.watchers.values():
            watcher.start()
        self.client.start()
        time.sleep(1.5)  # every worker has made its first request

    def mark(self, name):
        self.marks.append((name, time.time()))

    def stop(self):
        self.client.stop()
        for watcher in self.watchers.values():
            watcher.stop()

    def figures(self):
        """Per stretch between marks: requests, failed, the longest outage (s), and what the kernels did - the VIP's
        moves (node gained, seconds after the stretch began) and how long both nodes held it."""
        requests = self.client.requests
        outages = self.client.outages()
        ends = dict((h, self.client.stopped) for h in self.bed.nodes)
        holding = dict((h, measure.intervals(self.watchers[h].events, ends[h])) for h in self.bed.nodes)
        bounds = self.marks + [('end', self.client.stopped)]
        result = {}
        for (name, begin), (dummy, end) in zip(bounds, bounds[1:], strict=False):
            inside = [r for r in requests if begin <= r[0] < end]
            gaps = [(o['to'] or end) - o['from'] for o in outages if begin <= o['first_failure'] < end]
            moves = sorted((round(e['at'] - begin, 2), self.bed.names[h]) for h in self.bed.nodes
                           for e in self.watchers[h].events[1:] if e['holds'] and begin <= e['at'] < end)
            one, other = (holding[h] for h in self.bed.nodes)
            both = sum(max(0.0, min(b, d, end) - max(a, c, begin)) for a, b in one for c, d in other)
            result[name] = {'requests': len(inside), 'failed': len([r for r in inside if not r[2]]),
                            'longest_outage_s': round(max(gaps), 2) if gaps else 0.0, 'vip_gained': moves,
                            'two_holders_s': round(both, 2)}
        result['total'] = {'requests': len(requests), 'failed': len([r for r in requests if not r[2]]),
                           'longest_outage_s': round(max([(o['to'] or self.client.stopped) - o['from']
                                                          for o in outages] or [0.0]), 2)}
        return result
