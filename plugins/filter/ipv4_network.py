# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ipv4_network filter, so the collection needs no netaddr."""

from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleFilterError


def ipv4_network(address, netmask):
    """Network of an interface address and its netmask or prefix length, as "a.b.c.d/nn"."""
    try:
        interface = ipaddress.IPv4Interface(f"{address}/{netmask}")
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"ipv4_network: {address!r} with netmask {netmask!r} is not an IPv4 interface: {exc}") from exc
    return str(interface.network)


class FilterModule:
    """IPv4 filters."""

    def filters(self):
        return {'ipv4_network': ipv4_network}
