# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""README.md's tables of public variables and of renamed variables cannot drift from the roles'
meta/argument_specs.yml and the engines' old names (plugins/module_utils/engines.py).

scripts/gen-variables-table.py writes both tables; ``--check`` fails when README.md differs from what the
argument specs and the engines give now. Run ``.venv/bin/python scripts/gen-variables-table.py`` after changing a
spec or renaming a variable. Takes about a second.
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
                          stderr=subprocess.STDOUT, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout


def _section(name):
    """The generated section of README.md between <!-- BEGIN NAME ... --> and <!-- END NAME -->."""
    with open(os.path.join(REPO, 'README.md')) as handle:
        readme = handle.read()
    return readme[readme.index('<!-- BEGIN %s ' % name):readme.index('<!-- END %s -->' % name)]


def test_every_documented_variable_has_one_row():
    generated = _section('VARIABLES TABLE')
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


def test_every_renamed_variable_has_one_row_with_its_new_name_and_release():
    engines = _load_script().engines_of_checkout(REPO)
    renamed = engines.renamed()
    assert renamed and engines.RENAMED_REMOVED_IN == '2.0.0'
    rows = re.findall(r'^\| `([a-z0-9_]+)` \| `([a-z0-9_]+)` \| (\S+) \|$', _section('RENAMED VARIABLES TABLE'), re.M)
    assert rows == [(old, new, '2.0.0') for old, new in sorted(renamed.items())]
    # The monitor's, verify's and the drill's old names are among them.
    assert ('heartbeat_failover_method', 'hapair_drill_method', '2.0.0') in rows
    assert ('heartbeat_verify_probe_timeout', 'hapair_verify_probe_timeout', '2.0.0') in rows
    assert ('heartbeat_monitor_fails', 'hapair_monitor_fails', '2.0.0') in rows
    # Every new name is in the variables table, no old name is.
    documented = set(re.findall(r'^\| `([a-z0-9_]+)` \|', _section('VARIABLES TABLE'), re.M))
    assert set(renamed.values()) <= documented
    assert not set(renamed) & documented


def test_the_new_roles_are_in_the_variables_table():
    generated = _section('VARIABLES TABLE')
    for variable, role in (('hapair_monitor_fails', 'monitor'), ('hapair_ping_nodes', 'monitor'),
                           ('hapair_verify_probe_timeout', 'verify'), ('hapair_drill_method', 'drill'),
                           ('hapair_drill_report', 'drill'), ('hapair_timers', 'hapair'), ('hapair_engine', 'hapair')):
        assert re.search(r'^\| `%s` \| %s \|' % (variable, role), generated, re.M), variable


def test_a_renamed_variable_whose_new_name_is_undocumented_fails(tmp_path):
    script = _load_script()
    _write_spec(tmp_path, 'a', {'a_new': {'type': 'int', 'default': 1, 'description': 'New.'}})
    table = script.renamed_table(str(tmp_path), {'a_old': 'a_new'}, '9.0.0')
    assert '| `a_old` | `a_new` | 9.0.0 |' in table
    with pytest.raises(SystemExit, match='whose new name no argument spec documents: b_new'):
        script.renamed_table(str(tmp_path), {'a_old': 'a_new', 'b_old': 'b_new'}, '9.0.0')
    with pytest.raises(SystemExit, match='that an argument spec still documents: a_new'):
        script.renamed_table(str(tmp_path), {'a_new': 'a_new'}, '9.0.0')


def test_an_option_of_another_role_is_shown_by_its_name():
    script = _load_script()
    assert script.markdown('the O(ignore:hapair_timers) profile, O(hapair_vip)') == 'the `hapair_timers` profile, `hapair_vip`'
