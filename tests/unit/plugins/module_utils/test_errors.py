# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How errors show values: never a URL's password, never thousands of characters or digits."""

from __future__ import annotations

import json

import pytest

from ansible_collections.hapair.loadbalancer.plugins.module_utils import errors


@pytest.mark.parametrize('value, expected', [
    ('http://user:s3cret@198.51.100.51/', 'http://user:***@198.51.100.51/'),
    ('https://TOKEN123@git.example.com/x', 'https://***@git.example.com/x'),
    ('http://user:p@ss@198.51.100.51:8080/a@b', 'http://user:***@198.51.100.51:8080/a@b'),
    ('http://:s3cret@host/', 'http://:***@host/'),
    ('see http://a:b@h1/ and https://c:d@h2/', 'see http://a:***@h1/ and https://c:***@h2/'),
    ('http://198.51.100.51/a@b', 'http://198.51.100.51/a@b'),
    ('user@example.com', 'user@example.com'),
    (['http://u:p@h/', {'k': 'https://u:p@h/'}], ['http://u:***@h/', {'k': 'https://u:***@h/'}]),
    (('http://u:p@h/',), ('http://u:***@h/',)),
    (694, 694),
])
def test_redact_masks_the_user_information_of_urls(value, expected):
    assert errors.redact(value) == expected


def test_show_masks_passwords_and_cuts_long_strings():
    assert errors.show('http://user:s3cret@h/') == "'http://user:***@h/'"
    shown = errors.show('/var/log/' + 'x' * 10000)
    assert shown.endswith('... (10009 characters)') and len(shown) < 200


@pytest.mark.parametrize('value', [10 ** 5000, -(10 ** 5000), [10 ** 5000], {'a': 10 ** 5000}], ids=['int', 'negative', 'list', 'mapping'])
def test_show_describes_huge_numbers_without_writing_them_out(value):
    assert 'a number of about 5001 digits' in errors.show(value)


def test_a_huge_number_in_an_error_becomes_json():
    error = errors.make('range', 'hapair_monitor_fails', '{variable} {value} is too large.', host='h', value=10 ** 5000)
    data = error.to_dict()
    json.dumps(data)
    assert 'a number of about 5001 digits' in errors.render(error)


def test_make_masks_message_and_value_and_keeps_secrets_out():
    error = errors.make('grammar', 'hapair_drill_url', '{variable} {value} (was http://a:b@h/).', value='http://a:b@h/')
    assert error.value == 'http://a:***@h/' and 'b@' not in error.message
    secret = errors.make('secret', 'heartbeat_auth_key', '{variable} is short {value}.', value='abc', secret=True)
    assert secret.value is None and errors.render(secret).endswith('(value not shown).')


def test_a_password_with_a_space_is_masked_too():
    assert errors.redact('https://mirror:s3cret pw@mirror.example.com/u') == 'https://mirror:***@mirror.example.com/u'
