# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.hapair.loadbalancer.plugins.filter.stale_files import (
    FilterModule,
    missing_apache_modules,
    stale_files,
)

GOOD = {'exists': True, 'type': 'file', 'mode': '0644', 'owner': 'root', 'group': 'root', 'sha1': 'a' * 40}
WANT = {'sha1': 'a' * 40, 'mode': '0644', 'owner': 'root', 'group': 'root'}


def test_a_file_as_it_should_be_is_not_stale():
    assert stale_files({'/f': GOOD}, {'/f': WANT}) == []


@pytest.mark.parametrize('have', [
    {'exists': False}, dict(GOOD, type='link'), dict(GOOD, sha1='b' * 40), dict(GOOD, mode='0600'),
    dict(GOOD, owner='www-data'), dict(GOOD, group='adm'),
])
def test_missing_or_different_files_are_stale(have):
    assert stale_files({'/f': have}, {'/f': WANT}) == ['/f']


def test_a_path_the_node_did_not_report_is_stale():
    assert stale_files({}, {'/f': WANT}) == ['/f']


def test_secret_files_are_judged_by_matches():
    secret = {'exists': True, 'type': 'file', 'mode': '0600', 'owner': 'root', 'group': 'root', 'matches': True}
    want = {'mode': '0600', 'owner': 'root', 'group': 'root'}
    assert stale_files({'/k': secret}, {'/k': want}) == []
    assert stale_files({'/k': dict(secret, matches=False)}, {'/k': want}) == ['/k']
    assert stale_files({'/k': dict(secret, mode='0644')}, {'/k': want}) == ['/k']


def test_keys_left_out_are_not_compared_and_order_is_kept():
    files = {'/a': dict(GOOD, mode='0600'), '/b': dict(GOOD, sha1='c' * 40)}
    assert stale_files(files, {'/b': {'sha1': 'a' * 40}, '/a': {'sha1': 'a' * 40}}) == ['/b']
    assert stale_files(files, {'/b': WANT, '/a': WANT}) == ['/b', '/a']


def test_bad_arguments():
    with pytest.raises(AnsibleFilterError):
        stale_files([], {})
    assert FilterModule().filters()['stale_files'] is stale_files


WANTED_MODULES = ['alias', 'setenvif', 'proxy', 'proxy_http', 'slotmem_shm', 'proxy_balancer', 'lbmethod_byrequests',
                  'headers']


def test_on_a_node_without_apache_every_module_is_missing_in_the_order_given():
    # Before Apache is installed the directory does not exist; the install then enables alias and setenvif, so the
    # last of the list (the a2enmod task's `creates`) must stay one that Debian does not enable.
    assert missing_apache_modules(None, WANTED_MODULES) == WANTED_MODULES


def test_only_modules_without_a_load_file_are_missing_in_the_order_given():
    listing = ['alias.conf', 'alias.load', 'headers.load', 'proxy.conf', 'proxy.load', 'setenvif.load', 'status.load']
    assert missing_apache_modules(listing, WANTED_MODULES) == [
        'proxy_http', 'slotmem_shm', 'proxy_balancer', 'lbmethod_byrequests']


def test_a_conf_without_load_does_not_count_and_names_are_listed_once():
    assert missing_apache_modules(['proxy.conf'], ['proxy', 'proxy', 'headers']) == ['proxy', 'headers']


def test_every_module_enabled_leaves_nothing():
    assert missing_apache_modules(['%s.load' % m for m in WANTED_MODULES], WANTED_MODULES) == []


@pytest.mark.parametrize('listing, wanted', [('alias.load', ['alias']), ([], 'alias'), ({}, [])])
def test_missing_apache_modules_refuses_other_types(listing, wanted):
    with pytest.raises(AnsibleFilterError):
        missing_apache_modules(listing, wanted)


def test_the_filter_module_offers_both_filters():
    assert set(FilterModule().filters()) == {'stale_files', 'missing_apache_modules'}
