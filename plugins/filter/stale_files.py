# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters over node_state's view of a node: which files differ from what they should be (stale_files), which Apache
modules are not enabled yet (missing_apache_modules)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


def stale_files(files, wanted):
    """Paths of `wanted` whose file in `files` (node_state's result) is missing, not a regular file, or differs in
    content, mode, owner or group, in the order of `wanted`.

    wanted: {path: {sha1 (omitted for a secret file, whose `matches` is read instead), mode, owner, group}}; a key
    left out of a path's entry is not compared.
    """
    if not isinstance(files, dict) or not isinstance(wanted, dict):
        raise AnsibleFilterError('stale_files expects the files of a node_state result and a dict of wanted files')
    stale = []
    for path, want in wanted.items():
        have = files.get(path) or {}
        if not have.get('exists') or have.get('type') != 'file':
            stale.append(path)
            continue
        if 'sha1' in want and have.get('sha1') != want['sha1']:
            stale.append(path)
            continue
        if 'sha1' not in want and have.get('matches') is False:
            stale.append(path)
            continue
        if any(key in want and str(have.get(key)) != str(want[key]) for key in ('mode', 'owner', 'group')):
            stale.append(path)
    return stale


def missing_apache_modules(listing, wanted):
    """The modules of `wanted` whose `<name>.load` is not in `listing` (the names in mods-enabled, as node_state
    read them; None when the directory does not exist yet), in the order of `wanted`.

    The order matters: the role enables them with one a2enmod whose `creates` is the last one's .load.
    """
    if listing is None:
        listing = []
    if not isinstance(listing, list) or not isinstance(wanted, list):
        raise AnsibleFilterError('missing_apache_modules expects the list of a directory and a list of module names')
    enabled = set(name[:-len('.load')] for name in listing if isinstance(name, str) and name.endswith('.load'))
    missing = []
    for module in wanted:
        if module not in enabled and module not in missing:
            missing.append(module)
    return missing


class FilterModule:
    """Node state filters."""

    def filters(self):
        return {'stale_files': stale_files, 'missing_apache_modules': missing_apache_modules}
