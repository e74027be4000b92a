# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.hapair.loadbalancer.plugins.test import ipv4


@pytest.mark.parametrize('value', ['198.51.100.10', '0.0.0.0', '255.255.255.255', '46.20.121.113'])
def test_ipv4_addresses(value):
    assert ipv4.ipv4_address(value)


@pytest.mark.parametrize('value', ['198.51.100.300', '198.51.100.10/24', '198.51.100', 'fe80::1', '', 'vip', None, 42,
                                   ['198.51.100.10']])
def test_not_ipv4_addresses(value):
    assert not ipv4.ipv4_address(value)


@pytest.mark.parametrize('value, network, expected', [
    ('198.51.100.10', '198.51.100.0/26', True),
    ('198.51.100.70', '198.51.100.0/26', False),
    ('198.51.100.70', '198.51.100.64/26', True),
    ('198.51.100.10', '198.51.100.11/26', True),
    ('198.51.100.10', 'not a network', False),
    ('not an address', '198.51.100.0/24', False),
    ('198.51.100.10', None, False),
])
def test_ipv4_in_network(value, network, expected):
    assert ipv4.ipv4_in_network(value, network) is expected


def test_are_registered():
    # TestModule is Ansible's name for the class of a test plugin, not a pytest class.
    tests = ipv4.TestModule().tests()
    assert tests['ipv4_address'] is ipv4.ipv4_address
    assert tests['ipv4_in_network'] is ipv4.ipv4_in_network
