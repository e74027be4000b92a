# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The stale_files filter: which files of a node differ from what they should be (node_state's view)."""

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


class FilterModule:
    """Node state filters."""

    def filters(self):
        return {'stale_files': stale_files}
