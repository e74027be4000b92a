# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Module tests run as on a managed node, whatever controller code other tests imported."""

from __future__ import annotations

import pytest

from ansible_collections.hapair.loadbalancer.tests.unit.plugins.module_harness import as_managed_node


@pytest.fixture(autouse=True)
def _as_on_a_managed_node(monkeypatch):
    # Importing controller code (a filter plugin's test, say) sets a process-wide flag on ansible-core 2.19 and
    # later, and then module warnings go to the controller's display instead of the module's result.
    as_managed_node(monkeypatch)
