# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The argument specs are the single source of the defaults: every role's defaults/main.yml says the same.

A role's defaults/main.yml may leave out a variable whose default the input check computes (the node name, the
links, the timers of a profile ...: the spec says "Defaults to ..." instead), but may not set one that its spec
does not document, nor give one another value than the spec's default. It must leave out every variable that has an
old name (an engine's `renamed`): a role default would outrank the old name, which keeps working for this major
version.
"""

from __future__ import annotations

import glob
import os

import pytest
import yaml

from ansible_collections.hapair.loadbalancer.plugins.module_utils import engines

ROLES = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'roles')


def _roles():
    return sorted(os.path.basename(os.path.dirname(os.path.dirname(path)))
                  for path in glob.glob(os.path.join(ROLES, '*', 'meta', 'argument_specs.yml')))


@pytest.mark.parametrize('role', _roles())
def test_defaults_match_the_argument_spec(role):
    with open(os.path.join(ROLES, role, 'meta', 'argument_specs.yml'), encoding='utf-8') as handle:
        specs = yaml.safe_load(handle)['argument_specs']
    documented = {}
    for entry_point in specs.values():
        documented.update(entry_point.get('options') or {})
    path = os.path.join(ROLES, role, 'defaults', 'main.yml')
    with open(path, encoding='utf-8') as handle:
        defaults = yaml.safe_load(handle) or {}
    for name, value in defaults.items():
        assert name in documented, '%s: %s is set in defaults/main.yml but not documented in the spec' % (role, name)
        assert 'default' in documented[name], '%s: %s has a default in defaults/main.yml only' % (role, name)
        assert value == documented[name]['default'], '%s: %s is %r in defaults/main.yml but %r in the spec' % (
            role, name, value, documented[name]['default'])
    renamed = set(engines.renamed().values())
    shadowing = sorted(name for name in defaults if name in renamed)
    assert not shadowing, '%s: %s have an old name, which a default in defaults/main.yml would outrank' % (role, shadowing)
    # A static default of the role's own variables is in defaults/main.yml too, for plays that read them directly.
    missing = sorted(name for name, option in documented.items()
                     if 'default' in option and name.startswith(role + '_') and name not in defaults
                     and name not in renamed)
    assert not missing, '%s: %s have a default in the spec but none in defaults/main.yml' % (role, missing)
