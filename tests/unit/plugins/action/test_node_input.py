# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The node_input action plugin's helpers: the facts it passes on, template errors that never show a secret, and
inline-vaulted values as plain text."""

from __future__ import annotations

import pytest

from ansible_collections.hapair.loadbalancer.plugins.action.node_input import (
    INTERNAL_ROLES,
    PUBLISHED,
    connection_facts,
    decrypted,
    interface_facts,
    load_specs,
    refused_extra_vars,
    template_failure,
)
from ansible_collections.hapair.loadbalancer.plugins.module_utils.role_input import ROLES
from ansible_collections.hapair.loadbalancer.tests.unit.plugins.role_specs import role_specs


def test_interface_facts_list_primary_and_secondary_addresses_with_networks():
    facts = {
        'interfaces': ['lo', 'eth0', 'br-lan'],
        'eth0': {'ipv4': {'address': '198.51.100.11', 'netmask': '255.255.255.192'},
                 'ipv4_secondaries': [{'address': '198.51.100.10', 'netmask': '255.255.255.192'}]},
        'br_lan': {'ipv4': {'address': '10.1.2.3', 'netmask': '255.255.0.0'}},
        'lo': {'ipv4': {'address': '127.0.0.1', 'netmask': '255.0.0.0'}},
        'default_ipv4': {'interface': 'eth0', 'address': '198.51.100.11', 'gateway': '198.51.100.1', 'mtu': 1500},
        'distribution': 'Debian', 'distribution_release': 'bookworm',
    }
    result = interface_facts(facts)
    assert result['interfaces'] == ['lo', 'eth0', 'br-lan']
    assert result['ipv4']['eth0'] == [{'address': '198.51.100.11', 'network': '198.51.100.0/26', 'secondary': False},
                                      {'address': '198.51.100.10', 'network': '198.51.100.0/26', 'secondary': True}]
    assert result['ipv4']['br-lan'] == [{'address': '10.1.2.3', 'network': '10.1.0.0/16', 'secondary': False}]
    assert result['default_ipv4'] == {'interface': 'eth0', 'address': '198.51.100.11', 'gateway': '198.51.100.1'}
    assert (result['distribution'], result['distribution_release']) == ('Debian', 'bookworm')


def test_interface_facts_list_mac_addresses_and_the_machine_id():
    facts = {
        'interfaces': ['lo', 'eth0', 'eth1', 'tun0', 'br-lan'],
        'lo': {'macaddress': '00:00:00:00:00:00', 'ipv4': {'address': '127.0.0.1', 'netmask': '255.0.0.0'}},
        'eth0': {'macaddress': '52:54:00:AB:CD:EF'}, 'eth1': {'macaddress': '52:54:00:12:34:56'},
        'tun0': {}, 'br_lan': {'macaddress': 'not-a-mac'},
        'machine_id': '5f3c9a1e5b2d4c68a1e5b2d4c68f3c9a',
    }
    result = interface_facts(facts)
    assert result['macs'] == {'eth0': '52:54:00:ab:cd:ef', 'eth1': '52:54:00:12:34:56'}
    assert result['machine_id'] == '5f3c9a1e5b2d4c68a1e5b2d4c68f3c9a'


def test_interface_facts_carry_how_ansible_reaches_the_host():
    connection = connection_facts('herring', {'ansible_host': '198.51.100.11', 'ansible_port': '2222'})
    assert connection == {'ansible_host': '198.51.100.11', 'ansible_connection': 'ssh', 'ansible_port': 2222}
    assert interface_facts({}, connection)['ansible_port'] == 2222


@pytest.mark.parametrize('variables, expected', [
    ({}, {'ansible_host': 'herring', 'ansible_connection': 'ssh', 'ansible_port': 22}),
    ({'ansible_ssh_port': 2200}, {'ansible_host': 'herring', 'ansible_connection': 'ssh', 'ansible_port': 2200}),
    ({'ansible_connection': 'paramiko', 'ansible_host': 'lb1.example.com'},
     {'ansible_host': 'lb1.example.com', 'ansible_connection': 'paramiko', 'ansible_port': 22}),
    ({'ansible_connection': 'containers.podman.podman', 'ansible_host': 'hapair-herring', 'ansible_port': 22},
     {'ansible_host': 'hapair-herring', 'ansible_connection': 'containers.podman.podman', 'ansible_port': None}),
    ({'ansible_connection': 'local'}, {'ansible_host': 'herring', 'ansible_connection': 'local', 'ansible_port': None}),
    ({'ansible_port': 'twenty-two'}, {'ansible_host': 'herring', 'ansible_connection': 'ssh', 'ansible_port': None}),
])
def test_connection_facts(variables, expected):
    assert connection_facts('herring', variables) == expected


def test_interface_facts_without_facts():
    assert interface_facts({}) == {'interfaces': [], 'ipv4': {}, 'macs': {}, 'default_ipv4': {}, 'distribution': '',
                                   'distribution_release': '', 'machine_id': ''}


def test_template_failures_name_an_undefined_variable():
    error = Exception("'vault_heartbeat_auth_key' is undefined. 'vault_heartbeat_auth_key' is undefined")
    assert template_failure(error, secret=True) == 'it refers to vault_heartbeat_auth_key, which is not defined'


def test_template_failures_of_a_secret_never_quote_it():
    error = Exception("template error while templating string: unexpected '}'. String: abc{{def}}ghi-secret-part")
    reason = template_failure(error, secret=True)
    assert 'secret-part' not in reason and 'abc' not in reason and 'value is secret' in reason
    assert "Jinja2 syntax ('{{', '{%', '{#') must not be given literally" in reason, reason


def test_template_failures_of_other_variables_say_why():
    error = Exception("template error while templating string: unexpected '}'. String: {{ x }}}\nmore lines")
    assert template_failure(error, secret=False) == "template error while templating string: unexpected '}'. String: {{ x }}}"


def test_every_role_has_a_spec_with_a_main_entry_point():
    specs = load_specs(ROLES)
    assert all('main' in specs[role]['argument_specs'] for role in ROLES)
    # verify and failover: the old entry points, kept for this major version; retire: for the engine switch.
    assert set(specs['heartbeat']['argument_specs']) == {'main', 'verify', 'failover', 'retire'}
    assert set(specs['keepalived']['argument_specs']) == {'main', 'retire'}
    assert set(specs['monitor']['argument_specs']) == {'main', 'tools'}


def test_the_module_utils_tests_read_the_same_specs():
    assert role_specs(ROLES) == load_specs(ROLES)


@pytest.mark.parametrize('name', PUBLISHED + ('__heartbeat_conf_dir', '__monitor_program', '__hapair_model', '__drill_holder',
                                              '__engine_switch_hold'))
def test_extra_vars_may_not_set_what_the_check_publishes_nor_internal_variables(name):
    errors = refused_extra_vars({name: 'x', 'hapair_timers': 'fast', 'heartbeat_auth_key': 'k'}, INTERNAL_ROLES)
    assert [(e.rule, e.variable) for e in errors] == [('reserved', name)]


def test_extra_vars_of_the_roles_own_input_are_fine():
    assert refused_extra_vars({'hapair_drill_method': 'kill', '__other_thing': 1}, ROLES) == []


class AnsibleVaultEncryptedUnicode:  # pylint: disable=too-few-public-methods
    """Stands for ansible-core 2.16 to 2.18's class of an inline-vaulted value: no str, its str() the plain text."""

    def __init__(self, plaintext):
        self._plaintext = plaintext

    def __str__(self):
        return self._plaintext


def test_inline_vaulted_values_are_plain_text_wherever_they_are():
    value = {'key': AnsibleVaultEncryptedUnicode('k3y'), 'list': [AnsibleVaultEncryptedUnicode('a'), 1, None], 'n': 5}
    assert decrypted(value) == {'key': 'k3y', 'list': ['a', 1, None], 'n': 5}
    assert decrypted(AnsibleVaultEncryptedUnicode('lb_2!')) == 'lb_2!' and isinstance(decrypted(AnsibleVaultEncryptedUnicode('x')), str)
    assert decrypted('plain') == 'plain' and decrypted(True) is True
