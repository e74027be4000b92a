# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The heartbeat key never leaks, not even from a --diff -vvv run that rewrites authkeys.

A run on a converged pair writes nothing, so this test makes the key matter: it rotates the key to a new one
(and changes warntime, so that ha.cf does show a diff), with --diff -vvv, which must rewrite authkeys on both
nodes and reload heartbeat; then rotates back the same way. Neither run's output (stdout and stderr) may hold
either key, any obvious encoding of it, or any 12 characters of its random part; the authkeys task must show
no diff while the ha.cf task does. Afterwards the pair is as before and its VIP on exactly one node.

The new key lives in a vars file (-e @FILE), never on a command line.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import subprocess
import time
import urllib.parse

import pytest

from conftest import ENGINE, HOSTVARS, NODES, ansible_playbook, snapshot, vip_holders

# heartbeat's authkeys is the pair's one secret; keepalived's VRRP has none (the README says what protects it).
pytestmark = pytest.mark.skipif(ENGINE != 'heartbeat', reason='the pair runs %s, which has no shared secret' % ENGINE)

KEY = HOSTVARS[NODES[0]]['heartbeat_auth_key']
NEW_KEY = 'rotated-' + secrets.token_hex(16)
AUTHKEYS = 'file /etc/ha.d/authkeys'
HA_CF = 'file /etc/ha.d/ha.cf'


def leaks(key):
    """Strings whose presence in output would give the key away: the key, obvious encodings and digests of it,
    and every 12-character piece of it (a truncated or wrapped key)."""
    raw = key.encode()
    forms = {
        key, key[::-1], urllib.parse.quote(key, safe=''), raw.hex(), raw.hex().upper(),
        base64.b64encode(raw).decode(), base64.b64encode(raw).decode().rstrip('='),
        base64.urlsafe_b64encode(raw).decode().rstrip('='), json.dumps(key)[1:-1],
    }
    forms.update(hashlib.new(name, raw).hexdigest() for name in ('md5', 'sha1', 'sha256', 'sha512'))
    forms.update(key[i:i + 12] for i in range(len(key) - 11))
    return forms


def assert_no_leak(out, *keys):
    for key in keys:
        found = [form for form in leaks(key) if form in out]
        # Never print the forms themselves: say where, not what.
        assert not found, '%d form(s) of a heartbeat key in the output, first at offset %d' % (len(found), out.find(found[0]))


def authkeys_contents():
    """{host: authkeys}, read as root inside each container (for comparing only; never printed)."""
    return {host: subprocess.run(['podman', 'exec', HOSTVARS[host]['testbed_container'], 'cat', '/etc/ha.d/authkeys'],
                                 check=True, capture_output=True, text=True).stdout for host in NODES}


def task_output(out, task):
    """The output of a task, from its TASK line to the next TASK, HANDLER or PLAY line."""
    match = re.search(r'^TASK \[[^\]]*: %s\] \**\n(.*?)(?=^(?:TASK|RUNNING HANDLER|PLAY) )' % re.escape(task), out, re.M | re.S)
    assert match, 'no task %r in the output' % task
    return match.group(1)


@pytest.fixture(scope='module')
def rotation(tmp_path_factory):
    """Rotate the key to NEW_KEY and back; the runs' outputs and the snapshots of each stage."""
    tmp = tmp_path_factory.mktemp('secrets')
    vars_file = tmp / 'new-key.json'
    vars_file.write_text(json.dumps({'heartbeat_auth_key': NEW_KEY, 'heartbeat_warntime': 6}))
    os.chmod(str(vars_file), 0o600)
    before = snapshot()
    stages = {'before': before, 'authkeys before': authkeys_contents()}
    stages['rotate'] = ansible_playbook('site.yml', '--diff', '-vvv', '-e', '@%s' % vars_file)
    stages['rotated'] = snapshot()
    stages['authkeys rotated'] = authkeys_contents()
    stages['rotate back'] = ansible_playbook('site.yml', '--diff', '-vvv')
    stages['after'] = snapshot()
    stages['authkeys after'] = authkeys_contents()
    stages['verify'] = ansible_playbook('verify.yml')
    # For a look afterwards; they hold no key (test_no_run_output_holds_either_key).
    for stage in ('rotate', 'rotate back', 'verify'):
        (tmp / (stage.replace(' ', '-') + '.log')).write_text(stages[stage].out)
    return stages


def test_rotating_the_key_rewrites_authkeys_on_both_nodes_and_reloads_heartbeat(rotation):
    run = rotation['rotate']
    assert run.rc == 0, run.out[-5000:]
    before, rotated = rotation['before'], rotation['rotated']
    for host in NODES:
        assert rotated[host][AUTHKEYS] != before[host][AUTHKEYS], host
        assert rotated[host][HA_CF] != before[host][HA_CF], host
        assert ('1 sha1 %s' % NEW_KEY) in rotation['authkeys rotated'][host].splitlines(), '%s: authkeys lacks the new key' % host
        assert run.recap[host]['changed'] > 0 and run.recap[host]['failed'] == 0, (host, run.recap[host])
    assert len({rotated[host][AUTHKEYS] for host in NODES}) == 1
    assert 'RUNNING HANDLER [hapair.loadbalancer.heartbeat : Reload heartbeat]' in run.out
    # Reloaded, not restarted: haresources did not change.
    assert 'RUNNING HANDLER [hapair.loadbalancer.heartbeat : Restart heartbeat]' not in run.out
    assert len(vip_holders(rotated)) == 1, rotated


def test_authkeys_never_shows_a_diff_while_other_files_do(rotation):
    for stage in ('rotate', 'rotate back'):
        out = rotation[stage].out
        authkeys = task_output(out, 'Write authkeys')
        assert len(re.findall(r'^changed: \[', authkeys, re.M)) == len(NODES), authkeys
        assert not re.search(r'^(---|\+\+\+|@@) ', authkeys, re.M), authkeys
        assert "'no_log: true' was specified for this result" in authkeys, authkeys
        # --diff was on: the ha.cf change is shown.
        ha_cf = task_output(out, 'Write ha.cf')
        assert re.search(r'^\+warntime 6$', ha_cf, re.M) if stage == 'rotate' else re.search(r'^\+warntime 5$', ha_cf, re.M), ha_cf


def test_no_run_output_holds_either_key(rotation):
    for stage in ('rotate', 'rotate back', 'verify'):
        out = rotation[stage].out
        # -vvv was on for the rotations: connections and every module's arguments were printed.
        if stage != 'verify':
            assert 'ESTABLISH SSH CONNECTION' in out and '"module_args": {' in out, out[:3000]
        assert_no_leak(out, KEY, NEW_KEY)


def test_rotating_back_restores_the_pair(rotation):
    run = rotation['rotate back']
    assert run.rc == 0, run.out[-5000:]
    assert 'RUNNING HANDLER [hapair.loadbalancer.heartbeat : Reload heartbeat]' in run.out
    before, after = rotation['before'], rotation['after']
    for host in NODES:
        for item in before[host]:
            if not item.startswith('pid '):
                assert after[host][item] == before[host][item], (host, item)
    assert rotation['authkeys after'] == rotation['authkeys before']
    assert vip_holders(after) == vip_holders(before)
    verify = rotation['verify']
    assert verify.rc == 0, verify.out[-5000:]
    assert all(recap['failed'] == 0 for recap in verify.recap.values()), verify.recap


# --- authkeys is never readable by anyone but root, not even while it is written fresh --------------------

# Runs as `nobody` on a node: reads authkeys as fast as it can whenever its directory changes, until the stop file
# appears, then writes how often it tried, how often it could open the file, how often what it read held the key
# line (the key itself is never written anywhere by the watcher: it compares a SHA-256 it is given) and how many
# changes of the directory it saw. The reads run for BURST seconds after each change the kernel reports (inotify:
# a file made, written, renamed into place, its mode changed), so they cover every moment the file is new; between
# changes the watcher sleeps. Spinning for the whole site run instead took two nodes' cores for 70 s (43 of the
# lane's CPU-seconds in the CI try of 8474292) from the machine the other lanes' timings share. Where inotify cannot
# be had, it spins all the time, as it did.
_WATCHER = r'''
import ctypes, hashlib, json, os, select, sys, time
path, digest, stop, out = sys.argv[1:5]
BURST = 1.0
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(os.O_NONBLOCK)
# IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE, on the file's directory
if fd < 0 or libc.inotify_add_watch(fd, os.path.dirname(path).encode(), 0x2 | 0x4 | 0x8 | 0x80 | 0x100) < 0:
    fd = None
tries = opened = leaked = changes = 0
until = float('inf') if fd is None else 0.0
while not os.path.exists(stop):
    if fd is not None:
        ready = select.select([fd], [], [], 0 if time.monotonic() < until else 0.2)[0]
        if ready:
            os.read(fd, 65536)
            changes += 1
            until = time.monotonic() + BURST
        if time.monotonic() >= until:
            continue
    tries += 1
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except OSError:
        continue
    opened += 1
    if any(hashlib.sha256(line.strip()).hexdigest() == digest for line in data.splitlines()):
        leaked += 1
with open(out, 'w') as handle:
    json.dump({'tries': tries, 'opened': opened, 'leaked': leaked, 'changes': changes, 'inotify': fd is not None},
              handle)
'''


def _podman(*args, check=True):
    return subprocess.run(['podman', *args], check=check, capture_output=True, text=True)


def test_authkeys_written_fresh_is_never_readable_by_an_unprivileged_process(tmp_path):
    """Remove authkeys on both nodes, watch it as `nobody` while the site playbook writes it anew (_WATCHER)."""
    line_digest = hashlib.sha256(('1 sha1 %s' % KEY).encode()).hexdigest()
    totals = {'tries': 0, 'opened': 0, 'leaked': 0, 'changes': 0, 'fresh_writes': 0, 'with_inotify': 0}
    for host in NODES:
        container = HOSTVARS[host]['testbed_container']
        _podman('exec', container, 'rm', '-f', '/etc/ha.d/authkeys', '/tmp/authkeys-watch.stop', '/tmp/authkeys-watch.json')
        _podman('cp', str(_write(tmp_path / 'watch.py', _WATCHER)), '%s:/tmp/authkeys-watch.py' % container)
        _podman('exec', '--detach', '--user', 'nobody', container, 'python3', '/tmp/authkeys-watch.py',
                '/etc/ha.d/authkeys', line_digest, '/tmp/authkeys-watch.stop', '/tmp/authkeys-watch.json')
    try:
        run = ansible_playbook('site.yml')
    finally:
        # The watchers end whatever the run did (each stops at its stop file, and writes its result).
        for host in NODES:
            _podman('exec', HOSTVARS[host]['testbed_container'], 'touch', '/tmp/authkeys-watch.stop', check=False)
    assert run.rc == 0, run.out[-5000:]
    assert_no_leak(run.out, KEY)
    for host in NODES:
        container = HOSTVARS[host]['testbed_container']
        result = None
        for _attempt in range(50):
            out = _podman('exec', container, 'cat', '/tmp/authkeys-watch.json', check=False)
            if out.returncode == 0:
                result = json.loads(out.stdout)
                break
            time.sleep(0.2)
        assert result is not None, '%s: the watcher wrote no result' % host
        # The kernel told the watcher of the directory's changes: it read while the file was written.
        assert result['inotify'] is False or result['changes'] > 0, (host, result)
        for key in ('tries', 'opened', 'leaked', 'changes'):
            totals[key] += result[key]
        totals['fresh_writes'] += 1
        totals['with_inotify'] += int(result['inotify'])
        stat = _podman('exec', container, 'stat', '-c', '%a %U %G', '/etc/ha.d/authkeys').stdout.split()
        assert stat == ['600', 'root', 'root'], (host, stat)
    print('\n[authkeys watcher] %s' % json.dumps(totals, sort_keys=True))
    # The watcher really read through the writes (tens of thousands of tries), and never got the key.
    assert totals['tries'] > 10000, totals
    assert totals['leaked'] == 0 and totals['opened'] == 0, totals
    assert len(vip_holders(snapshot())) == 1


def _write(path, text):
    path.write_text(text)
    return path


# --- failing runs at -vvv never show a key either ---------------------------------------------------------------

def test_failing_runs_at_vvv_never_show_the_key(tmp_path):
    """Two runs that fail in the input check at -vvv: a key with template syntax, and a pair with two keys."""
    template_key = 'leak-' + secrets.token_hex(12) + '{{-' + secrets.token_hex(6)
    other_key = 'leak-other-' + secrets.token_hex(16)
    bad = tmp_path / 'template-key.json'
    bad.write_text(json.dumps({'heartbeat_auth_key': template_key}))
    override = tmp_path / 'other-key.json'
    override.write_text(json.dumps({'all': {'hosts': {NODES[1]: {'heartbeat_auth_key': other_key}}}}))
    before = snapshot()
    runs = {
        'template syntax': ansible_playbook('site.yml', '-vvv', '-e', '@%s' % bad),
        'two keys': ansible_playbook('site.yml', '-vvv', inventories=[override]),
    }
    assert runs['template syntax'].has_message('Host %s: heartbeat_auth_key could not be templated' % NODES[0]), runs['template syntax'].messages
    assert runs['two keys'].has_message("heartbeat_auth_key differs between %s and %s (values not shown)" % tuple(NODES)), runs['two keys'].messages
    for name, run in runs.items():
        assert run.rc == 2, (name, run.out[-3000:])
        assert 'ESTABLISH' in run.out or 'task path' in run.out.lower(), name
        assert_no_leak(run.out, KEY, other_key)
        # The template key in full, and its random parts.
        for form in (template_key, template_key.split('{{')[0], template_key.split('{{-')[1]):
            assert form not in run.out, '%s: a part of the key is in the output' % name
    assert snapshot() == before
