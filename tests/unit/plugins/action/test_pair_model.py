# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pair_model action plugin's reading of the hosts outside the play, from their inventory data."""

from __future__ import annotations

from ansible_collections.hapair.loadbalancer.plugins.action.pair_model import plain, read_outside
from ansible_collections.hapair.loadbalancer.plugins.module_utils.pair_model import OutsideHost

INVENTORY = {
    'herring': {'hapair_cluster': 'pair1', 'hapair_vip': '198.51.100.10'},
    'cod': {'hapair_cluster': 'pair2', 'hapair_vip': '{{ pair2_vip }}',
            'hapair_links': [{'interface': 'eth0', 'address': '198.51.100.21'}]},
    'ling': {'hapair_cluster': 'pair2', 'hapair_vip': '{{ undefined_vip }}'},
    'web1': {'testbed_address': '198.51.100.51'},
    'broken': {},
}
TEMPLATED = {('cod', 'hapair_vip'): '198.51.100.20'}


def _raw_get(host):
    if host == 'broken':
        raise KeyError(host)
    return INVENTORY[host]


def _template(host, name):
    if '{{ undefined_vip }}' == INVENTORY[host][name]:
        raise Exception("'undefined_vip' is undefined")  # pylint: disable=broad-exception-raised
    return TEMPLATED.get((host, name), INVENTORY[host][name])


def test_hosts_outside_the_play_that_name_a_vip_or_links_are_read():
    result = read_outside(['herring', 'cod', 'ling', 'web1', 'broken'], ['herring'], _raw_get, _template, set())
    assert result == [
        OutsideHost('cod', 'pair2', '198.51.100.20', ('198.51.100.21',), ()),
        OutsideHost('ling', 'pair2', '', (), (
            ('hapair_vip', 'it refers to undefined_vip, which is not defined'),
            ('hapair_links', 'not set, so its links come from its facts, which a run without it does not gather'))),
    ]


def test_an_extra_var_hides_the_inventory_value():
    result = read_outside(['cod'], [], _raw_get, _template, {'hapair_vip'})
    assert result[0].vip == '' and result[0].unreadable[0][0] == 'hapair_vip'
    assert 'extra var' in result[0].unreadable[0][1]


def test_an_extra_var_alone_marks_no_host_as_a_node():
    assert read_outside(['herring'], [], _raw_get, _template, {'hapair_vip'}) == []


def test_plain_turns_any_mapping_and_sequence_into_dicts_and_lists():
    assert plain(({'a': ('b',)}, 'c', 1)) == [{'a': ['b']}, 'c', 1]
