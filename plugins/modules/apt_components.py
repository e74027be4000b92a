#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: apt_components
short_description: Enable apt components for the host's Ubuntu release in existing sources entries
version_added: 1.0.0
description:
  - Makes sure the given components (by default C(universe) and C(multiverse)) are enabled for one
    Ubuntu release in the sources apt already has, in whichever format each file uses.
  - Reads C(sources.list) and the C(*.list) (one-line style) and C(*.sources) (deb822 style) files
    in C(sources.list.d), in apt's order.
  - Edits only active entries (not commented out, not in a stanza whose C(Enabled) field is C(no)) whose URIs
    all match O(archive_uris) and whose suites all belong to O(release) (C(jammy), C(jammy-updates),
    ...). Third-party repositories that share the code name, such as PPAs or Ubuntu Pro (ESM)
    sources, and entries for other releases are never touched.
  - A component counts as enabled for a (type, URI, suite, architectures) target when any active
    entry in any file provides it, so the module never adds a duplicate entry. A missing component is
    appended to the component list of the existing entry; comments, order, spacing and options stay
    as they are.
  - When a deb822 stanza lists several suites and only some of them get a component from another
    entry, adding it to the stanza would duplicate it; then a stanza with just the missing suites and
    components (and the other fields of the original) is added right after it, marked with a comment.
  - Fails, changing nothing, when there is no active C(deb) entry for the release pocket of
    O(release) from the archive, naming the files it read. It never invents an archive entry; a host
    whose archive is a private mirror names it in O(archive_uris).
  - Reports C(changed) only when a file changes. Does not refresh the package cache; run
    M(ansible.builtin.apt) with C(update_cache=true) when this module reports a change, as the role
    C(hapair.loadbalancer.apt_sources) does.
author:
  - hapair.loadbalancer developers (!UNKNOWN)
options:
  release:
    description:
      - The Ubuntu release code name whose suites to edit, such as V(jammy) or V(noble).
      - Take it from the host's facts (C(ansible_facts['distribution_release'])), never hard-code it.
    type: str
    required: true
  components:
    description:
      - Components to enable, in the order they are appended.
    type: list
    elements: str
    default: [universe, multiverse]
  pockets:
    description:
      - Suffixes that, appended to O(release), name the suites to enable the components for.
      - The empty string is the release pocket itself and must be in the list.
      - Pockets the host has no entries for are ignored; the module does not add suites.
    type: list
    elements: str
    default: ["", "-updates", "-security", "-backports", "-proposed"]
  archive_uris:
    description:
      - Patterns for the URIs of the Ubuntu archive and its mirrors.
      - A pattern with a scheme (V(https://mirror.example.com/ubuntu), V(file:/srv/mirror/ubuntu))
        must match the whole URI; one without (V(mirror.example.com/ubuntu)) matches with any scheme.
      - V(*) and V(?) are wildcards that never match C(/). Case, user information and trailing slashes
        are ignored.
      - The default covers the primary archive, its country and cloud mirrors
        (C(de.archive.ubuntu.com), C(us-east-1.ec2.archive.ubuntu.com)), the security archive and the
        ports archive. Add the URI of a private mirror of the archive here; do not add mirrors of PPAs.
    type: list
    elements: str
    default:
      - archive.ubuntu.com/ubuntu
      - "*.archive.ubuntu.com/ubuntu"
      - security.ubuntu.com/ubuntu
      - ports.ubuntu.com/ubuntu-ports
      - "*.ports.ubuntu.com/ubuntu-ports"
  apt_dir:
    description:
      - The apt configuration directory holding C(sources.list) and C(sources.list.d).
      - Only tests should need to change it.
    type: path
    default: /etc/apt
  backup:
    description:
      - Keep a time-stamped copy of each file before changing it.
      - The copy is written next to the original under a name apt ignores.
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: One diff per changed file.
  platform:
    platforms: debian
notes:
  - The one-line format is C(deb [options] URI suite component...); text after C(#) is a comment.
    Architecture restrictions (C([arch=amd64]) or C(Architectures:)) are part of the target, so an
    entry for C(arm64) only does not count as providing a component for all architectures.
  - Files in C(sources.list.d) whose names apt ignores (C(*.save), C(*.distUpgrade), ...) are not read.
seealso:
  - module: ansible.builtin.apt
  - module: ansible.builtin.deb822_repository
"""

EXAMPLES = r"""
- name: Enable universe and multiverse for the host's own release
  hapair.loadbalancer.apt_components:
    release: "{{ ansible_facts['distribution_release'] }}"
  register: apt_components_result

- name: Refresh the package cache when the sources changed
  ansible.builtin.apt:
    update_cache: true
  when: apt_components_result is changed

- name: Host whose archive is a private mirror, without the proposed pocket
  hapair.loadbalancer.apt_components:
    release: "{{ ansible_facts['distribution_release'] }}"
    components: [universe]
    pockets: ["", "-updates", "-security"]
    archive_uris:
      - archive.ubuntu.com/ubuntu
      - security.ubuntu.com/ubuntu
      - https://mirror.example.com/ubuntu
"""

RETURN = r"""
files_examined:
  description: The sources files read, in apt's order.
  returned: always
  type: list
  elements: str
  sample: [/etc/apt/sources.list, /etc/apt/sources.list.d/ubuntu.sources]
files_changed:
  description: The files changed (in check mode, the files that would change).
  returned: always
  type: list
  elements: str
  sample: [/etc/apt/sources.list.d/ubuntu.sources]
changes:
  description: One item per edit.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file.
      type: str
      sample: /etc/apt/sources.list.d/ubuntu.sources
    line:
      description: The line of the entry (for a stanza, of its first field), counted from 1, before the edit.
      type: int
      sample: 1
    action:
      description: V(components_added) to an existing entry, or V(stanza_added) after one.
      type: str
      sample: components_added
    components:
      description: The components added.
      type: list
      elements: str
      sample: [universe, multiverse]
    entry:
      description: The entry as it was (for V(stanza_added), the new stanza), on one line.
      type: str
      sample: "Types: deb; URIs: http://archive.ubuntu.com/ubuntu/; Suites: noble noble-updates; Components: main restricted"
entries:
  description: The entries of O(release) from the archive that were considered, before any edit.
  returned: always
  type: list
  elements: str
  sample: ["deb http://archive.ubuntu.com/ubuntu/ jammy main restricted"]
backup_files:
  description: Backup copy of each changed file, when O(backup=true).
  returned: when O(backup=true) and a file changed outside check mode
  type: dict
  sample: {/etc/apt/sources.list: /etc/apt/sources.list.12345.2024-05-01@10:00:00~}
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.hapair.loadbalancer.plugins.module_utils.apt_sources import (
    DEFAULT_ARCHIVE_URIS,
    DEFAULT_POCKETS,
    AptSourcesError,
    plan,
    read_sources,
)


def _printable(text):
    """Text safe to return as JSON (undecodable bytes shown as U+FFFD)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _write(module, path, text):
    # Replace the file a symbolic link points to, not the link.
    path = os.path.realpath(path)
    directory = os.path.dirname(path) or "."
    handle, tmp = tempfile.mkstemp(prefix=".apt_components.", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(text.encode("utf-8", "surrogateescape"))
        # atomic_move keeps the owner, mode and SELinux context of the file it replaces.
        module.atomic_move(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            release=dict(type="str", required=True),
            components=dict(type="list", elements="str", default=["universe", "multiverse"]),
            pockets=dict(type="list", elements="str", default=list(DEFAULT_POCKETS)),
            archive_uris=dict(type="list", elements="str", default=list(DEFAULT_ARCHIVE_URIS)),
            apt_dir=dict(type="path", default="/etc/apt"),
            backup=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    result = dict(changed=False, files_examined=[], files_changed=[], changes=[], entries=[])

    try:
        sources = read_sources(params["apt_dir"])
        result["files_examined"] = [path for path, _text in sources]
        outcome = plan(sources, params["release"], params["components"], params["pockets"], params["archive_uris"])
    except AptSourcesError as exc:
        module.fail_json(msg=to_native(exc), **result)
    except OSError as exc:
        module.fail_json(msg="cannot read the apt sources in %s: %s" % (params["apt_dir"], to_native(exc)), **result)

    for warning in outcome.warnings:
        module.warn(warning)

    result["entries"] = [_printable(entry.describe()) for entry in outcome.matched]
    result["changes"] = [dict(change, entry=_printable(change["entry"])) for change in outcome.changes]
    result["files_changed"] = outcome.changed_files
    result["changed"] = outcome.changed

    diffs = []
    backups = {}
    for path, before, after in outcome.files:
        if before == after:
            continue
        diffs.append(dict(before=_printable(before), after=_printable(after), before_header=path, after_header=path))
        if module.check_mode:
            continue
        try:
            if params["backup"]:
                backups[path] = module.backup_local(path)
            _write(module, path, after)
        except OSError as exc:
            module.fail_json(msg="cannot write %s: %s" % (path, to_native(exc)), **result)
    if params["backup"] and backups:
        result["backup_files"] = backups
    if module._diff and diffs:
        result["diff"] = diffs

    if result["changed"]:
        result["msg"] = "%s the missing ones of %s for %s in %s" % (
            "would enable" if module.check_mode else "enabled",
            ", ".join(params["components"]), params["release"], ", ".join(result["files_changed"]))
    else:
        result["msg"] = "%s already enabled for %s" % (", ".join(params["components"]), params["release"])
    module.exit_json(**result)


def main():
    run_module()


if __name__ == "__main__":
    main()
