# Copyright: (c) 2026, hapair.loadbalancer developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the test bed should look like, read from its inventory, and fast podman:// hosts to check it.

testinfra's ansible backend costs about 5 s a check; podman exec about 0.5 s.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import testinfra

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
INVENTORY = os.environ.get('HAPAIR_TESTBED_INVENTORY', os.path.join(ROOT, 'testbed', 'inventory', 'one-pair.yml'))


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


def container(host):
    return testinfra.get_host('podman://' + HOSTVARS[host]['testbed_container'])


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


def http_get(client_host, url):
    """Body of a GET from the client container, or fail with what went wrong."""
    code = ('import sys, urllib.request\n'
            'print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode().strip())')
    return client_host.check_output('python3 -c %s %s', code, url)
