# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Structured input errors: what rule a value broke, on which host or pair, in which variable, with which value.

Every rule of the input check (role_input.py, pair_model.py, the engines' rules) reports an InputError; render() is
the one place that turns one into the sentence users read. Tests compare the fields, not the prose.

A secret's value never enters an error: the field holds None and `secret` is true, and render() says
"(value not shown)".

Pure Python and the standard library (Python 3.8 and later).
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple


def show(value):
    """A value for a message: strings quoted with escapes (a newline shows as \\n), the rest as JSON."""
    if isinstance(value, str):
        return repr(value)
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
        """A JSON-safe dict (values that JSON cannot hold become their repr)."""
        data = self._asdict()
        try:
            json.dumps(data['value'])
        except (TypeError, ValueError):
            data['value'] = repr(data['value'])
        return data

    @classmethod
    def from_dict(cls, data):
        return cls(**{field: data[field] for field in cls._fields if field in data})


def render(error):
    """The sentence users read: 'Host H: ...', "Pair 'P': ..." or the message alone."""
    shown = '(value not shown)' if error.secret else show(error.value)
    text = error.message.replace('{value}', shown).replace('{variable}', error.variable)
    if error.host:
        return 'Host %s: %s' % (error.host, text)
    if error.pair is not None:
        return 'Pair %s: %s' % (show(error.pair), text)
    return text
