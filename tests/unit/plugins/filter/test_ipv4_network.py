# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.hapair.loadbalancer.plugins.filter.ipv4_network import FilterModule, ipv4_network


@pytest.mark.parametrize('address, netmask, expected', [
    ('198.51.100.11', '255.255.255.192', '198.51.100.0/26'),
    ('198.51.100.75', '255.255.255.192', '198.51.100.64/26'),
    ('46.20.121.121', 24, '46.20.121.0/24'),
    ('10.0.0.5', '8', '10.0.0.0/8'),
    ('192.0.2.7', 32, '192.0.2.7/32'),
])
def test_network_of_an_interface(address, netmask, expected):
    assert ipv4_network(address, netmask) == expected


@pytest.mark.parametrize('address, netmask', [
    ('198.51.100.300', 24),
    ('198.51.100.1', 33),
    ('fe80::1', 64),
    ('', 24),
    ('198.51.100.1', '255.0.255.0'),
])
def test_bad_input_is_a_clear_error(address, netmask):
    with pytest.raises(AnsibleFilterError, match='is not an IPv4 interface'):
        ipv4_network(address, netmask)


def test_is_registered():
    assert FilterModule().filters()['ipv4_network'] is ipv4_network
