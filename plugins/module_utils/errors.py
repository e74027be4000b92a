# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Structured input errors: what rule a value broke, on which host or pair, in which variable, with which value.

Every rule of the input check (role_input.py, pair_model.py, the engines' rules) reports an InputError; render() is
the one place that turns one into the sentence users read. Tests compare the fields, not the prose.

A secret's value never enters an error: the field holds None and `secret` is true, and render() says
"(value not shown)". Nor does the password of a URL (scheme://user:password@host): make() masks the user information
of every URL in an error's message and value ("http://user:***@host/"), so a refusal can show the URL it refuses.
A value shown in a message is cut short when it is long (a 10,000-character path is named by its start and length).

Pure Python and the standard library (Python 3.8 and later).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, NamedTuple

# How much of a long string a message shows, and the largest whole number it writes out in full.
MAX_SHOWN = 120
MAX_DIGITS = 30

# The user information of a URL: after "scheme://", up to the last '@' before the path, query, fragment or the end of
# the line (a password may hold a space: the URL is refused, and the password is still not shown).
_USERINFO = re.compile(r'(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#\r\n]*)@')


def _mask(match):
    user, colon, _password = match.group('userinfo').partition(':')
    # A user name without a password may be a token (https://TOKEN@host/): masked as well.
    return match.group('scheme') + (user + ':***' if colon else '***') + '@'


def redact(value):
    """The value with the user information of every URL in it masked - 'http://user:***@host/', or
    'http://***@host/' without a colon - in strings, and in lists, tuples and mappings (keys too)."""
    if isinstance(value, str):
        return _USERINFO.sub(_mask, value)
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, tuple):
        return tuple(redact(item) for item in value)
    if isinstance(value, dict):
        return dict((redact(key), redact(item)) for key, item in value.items())
    return value


def _short(value):
    """The value with long strings cut and huge whole numbers described, for a message or JSON."""
    if isinstance(value, str):
        if len(value) > MAX_SHOWN:
            return '%s... (%d characters)' % (value[:MAX_SHOWN // 2], len(value))
        return value
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** MAX_DIGITS:
        # No str() of it: Python refuses to write out a number of more than 4300 digits.
        return '%sa number of about %d digits' % ('-' if value < 0 else '', int(value.bit_length() * math.log10(2)) + 1)
    if isinstance(value, (list, tuple)):
        return [_short(item) for item in value]
    if isinstance(value, dict):
        return dict((_short(key), _short(item)) for key, item in value.items())
    return value


def show(value):
    """A value for a message: strings quoted with escapes (a newline shows as \\n), the rest as JSON; the password of a
    URL masked, long strings cut short."""
    value = redact(value)
    if isinstance(value, str):
        if len(value) > MAX_SHOWN:
            return '%s... (%d characters)' % (repr(value[:MAX_SHOWN // 2]), len(value))
        return repr(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** MAX_DIGITS:
        return _short(value)
    value = _short(value)
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(value)


class InputError(NamedTuple):
    """One broken rule.

    rule: a short stable name of the rule ('type', 'required', 'grammar', 'range', 'pair-size', ...).
    variable: the variable at fault ('' when the rule spans several, which the message names).
    message: what is wrong and what is expected; '{value}' in it is replaced by the shown value, '{variable}' by
      the variable's name.
    host: the inventory host, or None for a pair's or the play's error.
    pair: the pair (hapair_cluster), or None.
    value: the offending value (None for a secret).
    secret: whether the value is a secret (never shown).
    level: 'error', or 'warning' for what is valid but worth a word.
    """

    rule: str
    variable: str
    message: str
    host: str | None = None
    pair: str | None = None
    value: Any = None
    secret: bool = False
    level: str = 'error'

    def to_dict(self):
        """A JSON-safe dict (values that JSON cannot hold become their shown form)."""
        data = self._asdict()
        try:
            json.dumps(data['value'])
        except (TypeError, ValueError):
            data['value'] = show(data['value'])
        return data

    @classmethod
    def from_dict(cls, data):
        return cls(**{field: data[field] for field in cls._fields if field in data})


def make(rule, variable, message, host=None, pair=None, value=None, secret=False, level='error'):
    """An InputError whose message and value show no URL's password (see redact()); the one way rules make one."""
    return InputError(rule, variable, redact(message), host=host, pair=pair, value=None if secret else redact(value),
                      secret=secret, level=level)


def render(error):
    """The sentence users read: 'Host H: ...', "Pair 'P': ..." or the message alone."""
    shown = '(value not shown)' if error.secret else show(error.value)
    text = error.message.replace('{value}', shown).replace('{variable}', error.variable)
    if error.host:
        return 'Host %s: %s' % (error.host, text)
    if error.pair is not None:
        return 'Pair %s: %s' % (show(error.pair), text)
    return text
