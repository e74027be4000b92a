# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One host's input, typed from the roles' argument specs: the HostInput record the rules work on.

The argument specs (roles/*/meta/argument_specs.yml) are the single source of the types: every value is converted
the way Ansible converts role arguments (ArgumentSpecValidator, so "false" is false and "694" is 694), after a
stricter look at the raw value where Ansible's conversion would hide a mistake (a boolean where a number belongs,
a list where a string belongs, a number too large for any setting). Every string of a typed value is then checked
for control and invisible format characters, spaces other than U+0020, and a length no value needs. The rules of each
role (role_input.py, and each engine's in engine_*.py) work on the typed values.

Nothing here ever puts the value of a no_log option into an error.
"""

from __future__ import annotations

import math
import unicodedata

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.hapair.loadbalancer.plugins.module_utils.errors import make

# A variable that is not set at all.
MISSING = object()

# The longest string any variable of the collection needs (a URL, a path, a pattern): longer ones are mistakes, and
# every typed string reaches a file or a command line.
MAX_STRING = 2048
# The largest number any numeric setting needs is far below this; larger ones (1e400, a 5000-digit string) would
# overflow on the way (an OverflowError, or Python's limit on converting long digit strings).
MAX_NUMBER = 10 ** 15


class TemplateFailure:
    """A variable whose value could not be templated; `reason` never holds the value of a secret."""

    def __init__(self, reason):
        self.reason = reason


def type_name(value):
    if isinstance(value, bool):
        return 'a boolean'
    if isinstance(value, (int, float)):
        return 'a number'
    if isinstance(value, str):
        return 'a string'
    if isinstance(value, (list, tuple)):
        return 'a list'
    if isinstance(value, dict):
        return 'a mapping'
    if value is None:
        return 'null'
    return type(value).__name__


def strict_type_problem(option, value):
    """What Ansible's conversion would silently accept but is a mistake: None when the raw value may be converted."""
    kind = option.get('type', 'str')
    if value is None:
        return 'is null'
    if kind in ('int', 'float') and isinstance(value, bool):
        return 'is a boolean; expected a number'
    if kind in ('int', 'float') and isinstance(value, (list, dict)):
        return 'is %s; expected a number' % type_name(value)
    if kind == 'str' and not isinstance(value, (str, int, float)) or kind == 'str' and isinstance(value, bool):
        return 'is %s; expected a string' % type_name(value)
    if kind == 'bool' and isinstance(value, (list, dict, float)):
        return 'is %s; expected true or false' % type_name(value)
    if kind == 'list':
        if isinstance(value, dict) or isinstance(value, bool) or isinstance(value, (int, float)):
            return 'is %s; expected a list' % type_name(value)
        if isinstance(value, (list, tuple)):
            elements = option.get('elements')
            for index, element in enumerate(value):
                if elements == 'dict' and not isinstance(element, dict):
                    return 'has %s as item %d; expected a mapping' % (type_name(element), index + 1)
                if elements == 'str' and (isinstance(element, (bool, list, dict)) or element is None):
                    return 'has %s as item %d; expected a string' % (type_name(element), index + 1)
                if elements == 'dict':
                    for name, sub in (option.get('options') or {}).items():
                        if name in element:
                            problem = strict_type_problem(sub, element[name])
                            if problem:
                                return 'has item %d whose %s %s' % (index + 1, name, problem)
    return None


def strings(value):
    """Every string inside a value (lists and mappings walked), keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key)
            yield from strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings(item)


def unprintable(value):
    """None, or what is wrong with a string anywhere in a value: a control character (C0, DEL, C1: a line break, a
    tab), a line or paragraph separator, an invisible format character (zero-width space, bidi override, soft
    hyphen: Unicode category Cf), or a space that is not U+0020 (no-break space, ideographic space: Zs), which would
    start a line in a file or make it read differently than it is."""
    for text in strings(value):
        for character in text:
            category = unicodedata.category(character)
            if category in ('Cc', 'Cf', 'Zl', 'Zp', 'Zs', 'Cs', 'Co', 'Cn') and character != ' ':
                kind = 'a line break, tab or other control character' if category in ('Cc', 'Zl', 'Zp') else \
                    'an invisible format character' if category == 'Cf' else \
                    'a space that is not a plain space' if category == 'Zs' else 'an unassigned or private character'
                return 'it holds U+%04X, %s; expected a single line of printable characters' % (ord(character), kind)
    return None


def too_long(value, maximum=MAX_STRING):
    """None, or what is wrong: a string anywhere in a value longer than `maximum` characters."""
    for text in strings(value):
        if len(text) > maximum:
            return 'it holds a string of %d characters; expected at most %d' % (len(text), maximum)
    return None


def number_problem(option, value):
    """None, or why a raw value of an int or float option cannot be a number of any setting: not finite, or beyond
    MAX_NUMBER (checked before the conversion, which would overflow or refuse a long digit string)."""
    if option.get('type') not in ('int', 'float') or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return 'is not a finite number'
        return 'is too large: no setting takes a number beyond 10^15' if abs(value) > MAX_NUMBER else None
    if isinstance(value, int):
        return 'is too large: no setting takes a number beyond 10^15' if abs(value) > MAX_NUMBER else None
    if isinstance(value, str):
        text = value.strip().lstrip('+-')
        if len(text) > 32:
            return 'is %d characters long: no setting takes a number beyond 10^15' % len(value)
        try:
            number = float(text)
        except ValueError:
            return None  # not a number at all: the conversion says so
        if math.isnan(number) or text.lower().startswith('inf'):
            return 'is not a finite number'
        if abs(number) > MAX_NUMBER:
            return 'is too large: no setting takes a number beyond 10^15'
    return None


class HostInput:
    """The typed and checked input of one host: values, secrets, errors and warnings (InputError), and the variables
    that are invalid (so that later rules leave them alone)."""

    def __init__(self, host, context):
        self.host = host
        self.context = context
        self.values = {}
        self.secrets = {}
        self.errors = []
        self.warnings = []
        self.invalid = set()

    @property
    def facts(self):
        return self.context.get('facts') or {}

    def is_set(self, variable):
        """Whether the user set the variable (not a default)."""
        return variable in self.context.get('set', ())

    def error(self, rule, variable, message, value=MISSING, secret=False):
        """Record an error; `message` may hold {variable} and {value} (the variable's typed value unless given)."""
        if value is MISSING:
            value = None if secret else self.values.get(variable)
        self.errors.append(make(rule, variable, message, host=self.host, value=None if secret else value, secret=secret))
        self.invalid.add(variable)

    def warn(self, rule, variable, message, value=None):
        """Record a warning: what is valid but worth a word; `message` as for error()."""
        self.warnings.append(make(rule, variable, message, host=self.host, value=value, level='warning'))

    def ok(self, *variables):
        """Whether these variables were all typed without error and are set (not None)."""
        return not any(variable in self.invalid for variable in variables) and \
            all(self.values.get(variable) is not None for variable in variables)

    def check(self, variable, problem, value=MISSING, rule='grammar'):
        """An error '{variable} {value} is not valid: PROBLEM.' when problem is not None; returns whether it held."""
        if problem:
            self.error(rule, variable, '{variable} {value} is not valid: %s.' % problem, value)
            return False
        return True

    def in_range(self, variable, low, high, unit=''):
        """An error when a typed number lies outside [low, high]."""
        if self.ok(variable) and not low <= self.values[variable] <= high:
            self.error('range', variable, '{variable} {value} is out of range: expected %s to %s%s.' % (low, high, unit))
            return False
        return True


def type_options(host_input, options, raw, computed):
    """Type every option of one entry point for one host into host_input.values (secrets into .secrets).

    raw: {variable: value as templated, or TemplateFailure}; variables that are not set are absent.
    computed: {variable: function(host_input) -> default} for defaults the spec cannot state.
    """
    for name, option in sorted(options.items()):
        if name in host_input.values or name in host_input.secrets or name in host_input.invalid:
            continue  # another entry point or role typed it already
        secret = bool(option.get('no_log'))
        value = raw.get(name, MISSING)
        if isinstance(value, TemplateFailure):
            host_input.error('template', name, '{variable} could not be templated: %s' % value.reason, value=None,
                             secret=secret)
            continue
        if value is MISSING:
            if 'default' in option:
                value = option['default']
            elif name in computed:
                host_input.values[name] = computed[name](host_input)
                continue
            elif option.get('required'):
                host_input.error('required', name, '{variable} is required but not set', value=None)
                continue
            else:
                host_input.values[name] = None
                continue
        if secret:
            if not isinstance(value, str):
                host_input.error('type', name, '{variable} is %s; expected a string {value}' % type_name(value),
                                 secret=True)
            else:
                host_input.secrets[name] = value
            continue
        problem = strict_type_problem(option, value)
        if problem:
            host_input.error('type', name, '{variable} {value} %s' % problem, value)
            continue
        problem = number_problem(option, value)
        if problem:
            host_input.error('range', name, '{variable} {value} %s.' % problem, value)
            continue
        if option.get('type') == 'int' and isinstance(value, float) and value.is_integer():
            # ansible-core 2.19 and later take a whole float for an int, earlier releases refuse it: take it on all.
            value = int(value)
        try:
            result = ArgumentSpecValidator({name: option}).validate({name: value}, validate_role_argument_spec=True)
        except (OverflowError, ValueError) as exc:
            host_input.error('type', name, '{variable} {value} is not valid: %s.' % (
                'it is too large for a number' if isinstance(exc, OverflowError) else 'expected %s' % option.get('type')),
                value)
            continue
        if result.error_messages:
            host_input.error('type', name, '{variable} {value} is not valid: %s' % '; '.join(result.error_messages),
                             value)
            continue
        typed = result.validated_parameters[name]
        problem = unprintable(typed)
        if problem:
            host_input.error('grammar', name, '{variable} {value}: %s.' % problem, value)
            continue
        problem = too_long(typed)
        if problem:
            host_input.error('length', name, '{variable} {value} is not valid: %s.' % problem, value)
            continue
        host_input.values[name] = typed
