#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: node_state
short_description: Read what a node looks like now, in one call
version_added: 1.1.0
author:
  - hapair.loadbalancer developers (@hapair)
description:
  - Reads, in one module call, the state of the files, packages, services, directories and marked blocks a role
    manages, so that the role runs a task only where the node differs from what it should be. A run on a node that
    needs no change then costs one module call per role instead of one per task.
  - Files are read with C(lstat) (links are not followed) and hashed with SHA-1. For a secret file the digest is never
    returned; the module compares it with the expected digest (O(secret_files), itself never shown) and returns only
    whether they match.
  - Packages come from dpkg's status file, services from one C(systemctl show).
  - Changes nothing, in check mode or not.
options:
  files:
    description: Paths of files (or links) to describe.
    type: list
    elements: path
    default: []
  secret_files:
    description:
      - Secret files and the SHA-1 their content should have; the result says whether it does, never the digest.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The file.
        type: path
        required: true
      sha1:
        description: The SHA-1 (hex) its content should have. Never shown.
        type: str
        required: true
  packages:
    description: Debian package names whose installed version to report.
    type: list
    elements: str
    default: []
  services:
    description: systemd units (C(apache2), C(heartbeat)) whose state to report.
    type: list
    elements: str
    default: []
  directories:
    description: Directories whose entries to list.
    type: list
    elements: path
    default: []
  users:
    description: User names whose existence to check.
    type: list
    elements: str
    default: []
    version_added: 1.2.0
  blocks:
    description: Marked blocks to read, each the lines between a begin and an end marker line of a file.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The file.
        type: path
        required: true
      begin:
        description: The begin marker line, whole.
        type: str
        required: true
      end:
        description: The end marker line, whole.
        type: str
        required: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - hapair.loadbalancer.attributes.read_only
attributes:
  check_mode:
    support: full
    details: The module never changes anything.
  platform:
    platforms: debian
"""

EXAMPLES = r"""
- name: Read the state of heartbeat's files, package and service
  hapair.loadbalancer.node_state:
    files: [/etc/ha.d/ha.cf, /etc/ha.d/haresources]
    secret_files:
      - path: /etc/ha.d/authkeys
        sha1: "{{ lookup('ansible.builtin.template', 'authkeys.j2') | hash('sha1') }}"
    packages: [heartbeat, net-tools]
    services: [heartbeat]
  register: state
"""

RETURN = r"""
node_name:
  description: The node's name as the kernel reports it (C(uname -n)).
  returned: always
  type: str
  sample: loadb1
files:
  description:
    - Per path of O(files) and O(secret_files) - C(exists); when it exists, C(type) (C(file), C(link), C(directory),
      C(other)), C(mode) (such as C(0644)), C(owner), C(group); C(sha1) for a file of O(files), C(matches) for one of
      O(secret_files); C(target) for a link.
  returned: always
  type: dict
packages:
  description: Per package, its installed version, or V(null) when it is not installed.
  returned: always
  type: dict
services:
  description:
    - Per unit - C(exists), C(active), C(active_state), C(enabled), C(unit_file_state), C(main_pid), C(exec_start),
      C(active_since) (when the unit last became active, in epoch seconds of the node's clock, from systemd's
      monotonic timestamp; V(null) if it never did).
  returned: always
  type: dict
directories:
  description: Per directory, its entries sorted, or V(null) when it does not exist.
  returned: always
  type: dict
users:
  description: Per user name of O(users), whether the system has that user.
  returned: always
  type: dict
blocks:
  description: The text between the markers of each block (lines joined with newlines), or V(null) when they are missing, in the order of O(blocks).
  returned: always
  type: list
  elements: str
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hapair.loadbalancer.plugins.module_utils import node_state


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type='list', elements='path', default=[]),
            # Not a secret itself: the paths are shown; each expected digest is (sha1, no_log).
            secret_files=dict(type='list', elements='dict', default=[], no_log=False, options=dict(
                path=dict(type='path', required=True),
                sha1=dict(type='str', required=True, no_log=True),
            )),
            packages=dict(type='list', elements='str', default=[]),
            services=dict(type='list', elements='str', default=[]),
            directories=dict(type='list', elements='path', default=[]),
            users=dict(type='list', elements='str', default=[]),
            blocks=dict(type='list', elements='dict', default=[], options=dict(
                path=dict(type='path', required=True),
                begin=dict(type='str', required=True),
                end=dict(type='str', required=True),
            )),
        ),
        supports_check_mode=True,
    )
    params = module.params
    files = {path: node_state.file_state(path) for path in params['files']}
    for secret in params['secret_files']:
        files[secret['path']] = node_state.file_state(secret['path'], expected_sha1=secret['sha1'])
    services = {}
    if params['services']:
        systemctl = module.get_bin_path('systemctl')
        if systemctl:
            _rc, out, _err = module.run_command(
                [systemctl, 'show', '--property=' + ','.join(node_state.SERVICE_PROPERTIES), '--'] + params['services'])
            services = node_state.parse_systemctl_show(out, params['services'], (time.time(), time.monotonic()))
        else:
            services = node_state.parse_systemctl_show('', params['services'])
    module.exit_json(
        changed=False,
        node_name=os.uname()[1],
        files=files,
        packages=node_state.packages(params['packages']),
        services=services,
        directories=node_state.directories(params['directories']),
        users=node_state.users(params['users']),
        blocks=[node_state.block(b['path'], b['begin'], b['end']) for b in params['blocks']],
    )


if __name__ == '__main__':
    main()
