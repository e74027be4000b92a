# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Jinja tests for IPv4 values, so the collection needs no netaddr."""

from __future__ import annotations

import ipaddress


def ipv4_address(value):
    """True when value is a single dotted-quad IPv4 address (no prefix)."""
    if not isinstance(value, str):
        return False
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def ipv4_in_network(value, network):
    """True when the IPv4 address value lies inside network ("a.b.c.d/nn")."""
    if not ipv4_address(value):
        return False
    try:
        return ipaddress.IPv4Address(value) in ipaddress.IPv4Network(network, strict=False)
    except (TypeError, ValueError):
        return False


class TestModule:
    """IPv4 tests."""

    def tests(self):
        return {
            'ipv4_address': ipv4_address,
            'ipv4_in_network': ipv4_in_network,
        }
