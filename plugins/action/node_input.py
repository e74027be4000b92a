# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin: one host's input to the collection's roles, typed from their argument specs and checked.

Runs on the controller only. The logic is in module_utils/role_input.py; this reads the variables from the
host's own task variables (templating each one alone, so that one that cannot be templated is named without
printing it) and its network facts, and returns them typed. See plugins/modules/node_input.py for the
documentation.
"""

from __future__ import annotations

import ipaddress
import os
import re

import yaml

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.hapair.loadbalancer.plugins.module_utils import role_input

ROLES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'roles')


def load_specs(roles):
    """{role: the parsed roles/ROLE/meta/argument_specs.yml} of the collection this plugin belongs to."""
    specs = {}
    for role in roles:
        with open(os.path.join(ROLES_DIR, role, 'meta', 'argument_specs.yml'), encoding='utf-8') as handle:
            specs[role] = yaml.safe_load(handle)
    return specs


def interface_facts(facts):
    """The network facts the pair model reads: interfaces, their IPv4 addresses and networks (primary first,
    then secondaries), the default IPv4 route, the distribution."""
    interfaces = [str(name) for name in facts.get('interfaces') or []]
    ipv4 = {}
    for name in interfaces:
        fact = facts.get(re.sub(r'[^A-Za-z0-9_]', '_', name)) or {}
        entries = []
        for position, entry in enumerate([fact.get('ipv4')] + list(fact.get('ipv4_secondaries') or [])):
            if not isinstance(entry, dict) or not entry.get('address') or not entry.get('netmask'):
                continue
            try:
                network = ipaddress.IPv4Interface('%s/%s' % (entry['address'], entry['netmask'])).network
            except ValueError:
                continue
            entries.append({'address': str(entry['address']), 'network': str(network), 'secondary': position > 0})
        if entries:
            ipv4[name] = entries
    default = facts.get('default_ipv4') or {}
    return {
        'interfaces': interfaces,
        'ipv4': ipv4,
        'default_ipv4': {key: str(default[key]) for key in ('interface', 'address', 'gateway') if default.get(key)},
        'distribution': str(facts.get('distribution') or ''),
        'distribution_release': str(facts.get('distribution_release') or ''),
    }


def template_failure(exc, secret):
    """Why a variable could not be templated, never quoting a secret (nor the template that holds it)."""
    text = str(getattr(exc, 'message', '') or exc)
    undefined = re.search(r"'([A-Za-z_][A-Za-z0-9_]*)' is undefined", text)
    if undefined:
        return 'it refers to %s, which is not defined' % undefined.group(1)
    if secret:
        return ('the template failed; the reason is not shown because the value is secret. A value with Jinja2 '
                "syntax ('{{', '{%%', '{#') must not be given literally")
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first[:300]


class ActionModule(ActionBase):
    """Type and check one host's input; see the module documentation."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(('roles',))

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        result['changed'] = False
        try:
            entry_points = role_input.parse_entry_points(self._task.args.get('roles') or [])
        except ValueError as exc:
            raise AnsibleError('hapair.loadbalancer.node_input: roles: %s' % exc)
        specs = load_specs(sorted(set(role for role, _entry in entry_points)))
        wanted = entry_points
        options = {}
        for role, entry_point in wanted:
            try:
                options.update(specs[role]['argument_specs'][entry_point]['options'])
            except KeyError:
                raise AnsibleError('hapair.loadbalancer.node_input: the role %s has no entry point %s' % (role, entry_point))
        raw = {}
        for name, option in options.items():
            if name not in task_vars:
                continue
            try:
                raw[name] = self._templar.template(task_vars[name])
            except Exception as exc:  # pylint: disable=broad-exception-caught  # any template error names the variable
                raw[name] = role_input.TemplateFailure(template_failure(exc, bool(option.get('no_log'))))
        facts = interface_facts(task_vars.get('ansible_facts') or {})
        host = task_vars.get('inventory_hostname')
        checked = role_input.check_host(host, specs, entry_points, raw, {'facts': facts, 'set': sorted(raw)})
        heartbeat_main = specs['heartbeat']['argument_specs']['main']['options'] if ('heartbeat', 'main') in wanted else {}
        result.update({
            'host': host,
            'entry_points': ['%s:%s' % ep if ep[1] != 'main' else ep[0] for ep in wanted],
            'typed': checked.values,
            'secrets': checked.secrets,
            'errors': checked.errors,
            'warnings': checked.warnings,
            'invalid': sorted(checked.invalid),
            'facts': facts,
            'shared': sorted(name for name, option in heartbeat_main.items() if not option.get('no_log')),
        })
        return result
