# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a node looks like now, read in one go: files, packages, services, directory listings, marked blocks.

The roles read this first and run a task only where the node differs from what it should be, so a run on a node
that is as it should be costs one module call per role instead of one per task. Runs on the node: Python 3.8 and
the standard library only. Read-only. The digest of a secret file is never returned: the module compares it with
the expected one it is given and returns only whether they match.
"""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import stat

DPKG_STATUS = '/var/lib/dpkg/status'


def _sha1(path):
    digest = hashlib.sha1()
    with open(path, 'rb') as handle:
        for chunk in iter(lambda: handle.read(65536), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _owner(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def file_state(path, expected_sha1=None):
    """{exists, type, mode, owner, group, sha1 | matches, target}; with expected_sha1 (a secret file) the digest
    itself is left out and `matches` says whether the content has that digest."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return {'exists': False}
    result = {'exists': True, 'mode': '%04o' % stat.S_IMODE(info.st_mode), 'owner': _owner(info.st_uid),
              'group': _group(info.st_gid)}
    if stat.S_ISLNK(info.st_mode):
        result.update(type='link', target=os.readlink(path))
    elif stat.S_ISDIR(info.st_mode):
        result['type'] = 'directory'
    elif stat.S_ISREG(info.st_mode):
        result['type'] = 'file'
        digest = _sha1(path)
        if expected_sha1 is None:
            result['sha1'] = digest
        else:
            result['matches'] = digest == expected_sha1
    else:
        result['type'] = 'other'
    return result


def packages(names, status_path=DPKG_STATUS):
    """{name: installed version, or None} from dpkg's status file (no subprocess, no apt)."""
    wanted = set(names)
    found = dict.fromkeys(names)
    try:
        with open(status_path, encoding='utf-8', errors='replace') as handle:
            text = handle.read()
    except OSError:
        return found
    for stanza in text.split('\n\n'):
        fields = {}
        for line in stanza.splitlines():
            if line[:1] in (' ', '\t') or ':' not in line:
                continue
            key, _colon, value = line.partition(':')
            fields[key] = value.strip()
        name = fields.get('Package')
        if name in wanted and fields.get('Status', '').split()[-1:] == ['installed']:
            found[name] = fields.get('Version')
    return found


SERVICE_PROPERTIES = ('Id', 'LoadState', 'ActiveState', 'SubState', 'UnitFileState', 'MainPID', 'ExecStart',
                      'ActiveEnterTimestampMonotonic')


def _active_since(properties, clock):
    """When the unit last became active, in epoch seconds of this node (None: never, or no clock given). systemd
    keeps it on the monotonic clock (microseconds), which no change of the wall clock moves: `clock` is (time.time(),
    time.monotonic()) read together, the offset between the two."""
    try:
        monotonic = int(properties.get('ActiveEnterTimestampMonotonic') or 0)
    except ValueError:
        return None
    if not monotonic or clock is None:
        return None
    wall, now = clock
    return round(wall - (now - monotonic / 1e6), 3)


def parse_systemctl_show(text, names, clock=None):
    """`systemctl show --property=... UNIT...` output (one block per unit, in order) -> {name: {property: value}}.
    clock: (time.time(), time.monotonic()) read when the output was, to give active_since in epoch seconds."""
    blocks = text.strip('\n').split('\n\n')
    result = {}
    for name, block in zip(names, blocks + [''] * (len(names) - len(blocks))):
        properties = {}
        for line in block.splitlines():
            key, _equals, value = line.partition('=')
            properties[key] = value
        result[name] = {
            'exists': properties.get('LoadState') not in (None, '', 'not-found'),
            'active': properties.get('ActiveState') == 'active',
            'active_state': properties.get('ActiveState', ''),
            'enabled': properties.get('UnitFileState') in ('enabled', 'enabled-runtime', 'static', 'alias'),
            'unit_file_state': properties.get('UnitFileState', ''),
            'main_pid': int(properties.get('MainPID') or 0),
            'exec_start': properties.get('ExecStart', ''),
            'active_since': _active_since(properties, clock),
        }
    return result


def directories(paths):
    """{path: sorted entry names, or None when it does not exist}."""
    result = {}
    for path in paths:
        try:
            result[path] = sorted(os.listdir(path))
        except OSError:
            result[path] = None
    return result


def block(path, begin, end):
    """The lines between a begin and an end marker line (the blockinfile style), as one string, or None when the
    markers are not both there."""
    try:
        with open(path, encoding='utf-8', errors='replace') as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    if begin not in lines:
        return None
    start = lines.index(begin)
    if end not in lines[start + 1:]:
        return None
    stop = lines.index(end, start + 1)
    return '\n'.join(lines[start + 1:stop])


def users(names):
    """{name: whether the system has a user of that name}."""
    result = {}
    for name in names:
        try:
            pwd.getpwnam(name)
            result[name] = True
        except KeyError:
            result[name] = False
    return result
