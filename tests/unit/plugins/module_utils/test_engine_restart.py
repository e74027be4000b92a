# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Engine.restart_seconds says what the engine role's systemd drop-in says (RestartSec): the fault matrix's bound of a
killed engine reads the contract, the node runs the drop-in."""

from __future__ import annotations

import os
import re

import pytest

from ansible_collections.hapair.loadbalancer.plugins.module_utils import engines

ROLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'roles')
DROP_INS = {'heartbeat': 'heartbeat/files/heartbeat-hapair.conf',
            'keepalived': 'keepalived/templates/keepalived-hapair.conf.j2'}


@pytest.mark.parametrize('name', sorted(engines.ENGINES))
def test_the_contract_s_restart_delay_is_the_drop_in_s(name):
    with open(os.path.join(ROLES, DROP_INS[name]), encoding='utf-8') as handle:
        found = re.findall(r'^RestartSec=(\d+(?:\.\d+)?)$', handle.read(), re.M)
    assert found == [str(int(engines.get(name).restart_seconds))], found


@pytest.mark.parametrize('name, on_vip_link', [('heartbeat', False), ('keepalived', True)])
def test_which_engine_talks_over_the_vip_s_link_only(name, on_vip_link):
    assert engines.get(name).adverts_on_vip_link is on_vip_link
