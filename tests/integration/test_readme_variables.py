# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""README.md's table of public variables cannot drift from the roles' meta/argument_specs.yml.

scripts/gen-variables-table.py writes the table; ``--check`` fails when README.md differs from what the
argument specs give now. Run ``.venv/bin/python scripts/gen-variables-table.py`` after changing a spec.
Takes about a second.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import subprocess
import sys

import pytest
import yaml

from conftest import REPO

SCRIPT = os.path.join(REPO, 'scripts', 'gen-variables-table.py')


def _load_script():
    spec = importlib.util.spec_from_file_location('gen_variables_table', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_table_is_up_to_date():
    proc = subprocess.run([sys.executable, SCRIPT, '--check'], cwd=REPO, check=False, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=60)
    assert proc.returncode == 0, proc.stdout


def test_every_documented_variable_has_one_row():
    with open(os.path.join(REPO, 'README.md')) as handle:
        readme = handle.read()
    generated = readme[readme.index('<!-- BEGIN VARIABLES TABLE'):readme.index('<!-- END VARIABLES TABLE -->')]
    rows = re.findall(r'^\| `([a-z0-9_]+)` \|', generated, re.M)
    documented = set()
    for path in glob.glob(os.path.join(REPO, 'roles', '*', 'meta', 'argument_specs.yml')):
        with open(path) as handle:
            for entry_point in (yaml.safe_load(handle) or {}).get('argument_specs', {}).values():
                documented |= set((entry_point or {}).get('options') or {})
    assert sorted(rows) == sorted(documented)
    assert len(rows) == len(set(rows)), 'a variable appears twice'


def _write_spec(root, role, options):
    path = os.path.join(str(root), 'roles', role, 'meta')
    os.makedirs(path)
    with open(os.path.join(path, 'argument_specs.yml'), 'w') as handle:
        yaml.safe_dump({'argument_specs': {'main': {'short_description': role, 'options': options}}}, handle)


def test_variable_of_two_roles_appears_once_naming_both(tmp_path):
    script = _load_script()
    shared = {'type': 'str', 'default': 'x', 'description': ['Shared by C(a) and C(b). More text.']}
    _write_spec(tmp_path, 'a', {'a_only': {'type': 'int', 'default': 1, 'description': 'Only a.'}, 'shared': shared})
    _write_spec(tmp_path, 'b', {'shared': shared, 'b_list': {'type': 'list', 'elements': 'str', 'required': True,
                                                             'description': 'V(one) | V(two).'}})
    table = script.table(str(tmp_path))
    assert table.count('| `shared` |') == 1
    assert '| `shared` | a, b | str | `x` | Shared by `a` and `b`. More text. |' in table
    assert '| `b_list` | b | list of str | **required** | `one` \\| `two`. |' in table


def test_conflicting_documentation_of_one_variable_fails(tmp_path):
    script = _load_script()
    _write_spec(tmp_path, 'a', {'shared': {'type': 'str', 'default': 'x', 'description': 'One.'}})
    _write_spec(tmp_path, 'b', {'shared': {'type': 'int', 'default': 1, 'description': 'Other.'}})
    with pytest.raises(SystemExit, match='shared is documented with type'):
        script.table(str(tmp_path))
