# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The default scenario's helpers (molecule/default/tests/conftest.py), loaded under another module name.

Both scenarios use the same test bed inventory (HAPAIR_TESTBED_INVENTORY overrides it for both).
"""

from __future__ import annotations

import importlib.util
import os

_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'default', 'tests', 'conftest.py')
_SPEC = importlib.util.spec_from_file_location('hapair_default_scenario_conftest', _PATH)
_DEFAULT = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_DEFAULT)

HOSTVARS = _DEFAULT.HOSTVARS
INVENTORY = _DEFAULT.INVENTORY
NODES = _DEFAULT.NODES
ROOT = _DEFAULT.ROOT
PROVISION_PLAY = _DEFAULT.PROVISION_PLAY
ansible_playbook = _DEFAULT.ansible_playbook
pairs = _DEFAULT.pairs
snapshot = _DEFAULT.snapshot
