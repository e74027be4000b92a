# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles' real argument specs for the module_utils tests.

ansible-test runs the tests under tests/unit/plugins/module_utils where only ansible.module_utils can be
imported, so they cannot use the node_input action plugin's load_specs; this reads the same files, and
tests/unit/plugins/action/test_node_input.py checks that both give the same."""

from __future__ import annotations

import os

import yaml

ROLES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'roles')


def role_specs(roles):
    """{role: the parsed roles/ROLE/meta/argument_specs.yml}."""
    specs = {}
    for role in roles:
        with open(os.path.join(ROLES_DIR, role, 'meta', 'argument_specs.yml'), encoding='utf-8') as handle:
            specs[role] = yaml.safe_load(handle)
    return specs
