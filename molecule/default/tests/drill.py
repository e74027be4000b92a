# Copyright: (c) 2026, hapair.loadbalancer developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for the failover drills: poll the site from the client, watch the VIP (playbooks: conftest)."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid

from conftest import ANSIBLE_BIN, HOSTVARS, INVENTORY, ROOT

POLLER = os.path.join(ROOT, 'testbed', 'poll_site.py')
# The client itself: the collection's own, which poll_site.py imports as hapair_drill.
CLIENT_LIB = os.path.join(ROOT, 'plugins', 'module_utils', 'drill.py')


def vip_check(host, vip, expect):
    """Run the vip_check module on one node (ad hoc, over SSH); return its JSON result."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, 'playbooks', 'collections'),
               ANSIBLE_LOAD_CALLBACK_PLUGINS='1', ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json')
    out = subprocess.run([os.path.join(ANSIBLE_BIN, 'ansible'), '-i', INVENTORY, host, '-m', 'hapair.loadbalancer.vip_check',
                          '-a', 'vip=%s expect=%s' % (vip, expect)], capture_output=True, text=True, check=False, env=env)
    return json.loads(out.stdout)['plays'][0]['tasks'][0]['hosts'][host]


def podman(*args, check=True):
    return subprocess.run(['podman', *args], capture_output=True, text=True, check=check)


def holds_vip(host, vip):
    """Whether the node's kernel has the VIP on an interface (podman exec: works while SSH is down)."""
    out = podman('exec', HOSTVARS[host]['testbed_container'], 'ip', '-4', '-o', 'addr', 'show', 'to', vip, check=False)
    return out.returncode == 0 and bool(out.stdout.strip())


def wait_for(condition, timeout, step=0.2):
    """Seconds until condition() is true; AssertionError after timeout."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError('not within %s s' % timeout)
        time.sleep(step)
    return time.monotonic() - start


class SitePoller:
    """Requests a URL every 100 ms from the client container while in the with-block (testbed/poll_site.py)."""

    def __init__(self, client_container, url, interval=0.1):
        self.container = client_container
        self.url = url
        self.interval = interval
        tag = uuid.uuid4().hex[:8]
        self.result_path = '/tmp/poll-%s.json' % tag
        self.stop_path = '/tmp/poll-%s.stop' % tag
        self.result = None

    def __enter__(self):
        podman('cp', POLLER, '%s:/tmp/poll_site.py' % self.container)
        podman('cp', CLIENT_LIB, '%s:/tmp/hapair_drill.py' % self.container)
        podman('exec', '--detach', self.container, 'python3', '/tmp/poll_site.py', self.url, self.result_path,
               self.stop_path, str(self.interval))
        time.sleep(1)  # let it see the site up before anything happens
        return self

    def __exit__(self, *exc):
        podman('exec', self.container, 'touch', self.stop_path)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            out = podman('exec', self.container, 'cat', self.result_path, check=False)
            if out.returncode == 0:
                self.result = json.loads(out.stdout)
                break
            time.sleep(0.2)
        podman('exec', self.container, 'rm', '-f', self.result_path, self.stop_path, check=False)
        return False


def report(title, figures):
    """Print the drill's figures (molecule shows pytest's output with -s) and keep them for the summary."""
    print('\n[drill] %s: %s' % (title, json.dumps(figures, sort_keys=True)))
    path = os.environ.get('HAPAIR_DRILL_RESULTS')
    if path:
        with open(path, 'a', encoding='utf-8') as out:
            out.write(json.dumps({'drill': title, **figures}, sort_keys=True) + '\n')
