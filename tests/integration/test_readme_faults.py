# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""README.md's tables of what the pair survives cannot drift from the benchmark (benchmarks/reference.json) or from
the bounds the molecule tests assert (testbed/bounds.py).

scripts/gen-fault-tables.py writes them; ``--check`` fails when README.md differs from what the reference and the
bounds give now. Run ``.venv/bin/python scripts/gen-fault-tables.py`` after a new benchmark reference.
"""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import REPO

SCRIPT = os.path.join(REPO, 'scripts', 'gen-fault-tables.py')


def test_readme_fault_tables_are_up_to_date():
    proc = subprocess.run([sys.executable, SCRIPT, '--check'], cwd=REPO, check=False, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout
