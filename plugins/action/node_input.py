# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin: one host's input to the collection's roles, typed from their argument specs and checked.

Runs on the controller only. The logic is in module_utils/role_input.py; this reads the variables from the
host's own task variables (templating each one alone, so that one that cannot be templated is named without
printing it), old names of renamed variables (for their new names, noting a deprecation), and the host's network
facts, and returns them typed. It also refuses the collection's own results and internal variables when they come
from extra vars (-e, an AWX survey), which outrank everything the check publishes. See
plugins/modules/node_input.py for the documentation.
"""

from __future__ import annotations

import ipaddress
import os
import re

import yaml

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.hapair.loadbalancer.plugins.module_utils import engines, role_input
from ansible_collections.hapair.loadbalancer.plugins.module_utils.errors import InputError, render

ROLES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'roles')

# What the check publishes (set_fact) and what the roles read instead of the raw variables: a value given for one of
# these with -e would outrank the checked one and reach the nodes unchecked.
PUBLISHED = ('hapair_input', 'hapair_pair', 'hapair_node', 'hapair_peer', 'hapair_checked_roles', 'engine_switch_plan')
# The roles whose internal variables (__ROLE_) extra vars may not set: those with input, and engine_switch, which has
# none but would keep every engine from starting with __engine_switch_hold.
INTERNAL_ROLES = role_input.ROLES + ('engine_switch',)


def load_specs(roles):
    """{role: the parsed roles/ROLE/meta/argument_specs.yml} of the collection this plugin belongs to."""
    specs = {}
    for role in roles:
        with open(os.path.join(ROLES_DIR, role, 'meta', 'argument_specs.yml'), encoding='utf-8') as handle:
            specs[role] = yaml.safe_load(handle)
    return specs


# Connection plugins that reach a host over SSH, whose port is then the node's SSH port.
SSH_CONNECTIONS = ('ssh', 'ansible.builtin.ssh', 'paramiko', 'paramiko_ssh', 'ansible.builtin.paramiko_ssh',
                   'ansible.legacy.ssh', 'smart')
# A MAC address as the facts give it; all zeros is no address (loopback, tunnels).
_MAC = re.compile(r'^[0-9a-f]{2}(:[0-9a-f]{2}){5}\Z')


def connection_facts(host, variables):
    """How Ansible reaches a host: {'ansible_host', 'ansible_connection', 'ansible_port'} from its (templated)
    variables - the address or name it connects to (the inventory name when none is set), the connection plugin
    ('ssh' when none is set) and, over SSH, the port (22 when none is set; None for other connections)."""
    connection = str(variables.get('ansible_connection') or 'ssh')
    port = variables.get('ansible_port', variables.get('ansible_ssh_port'))
    try:
        port = int(port) if port not in (None, '') and not isinstance(port, bool) else 22
    except (TypeError, ValueError):
        port = None
    return {'ansible_host': str(variables.get('ansible_host') or host), 'ansible_connection': connection,
            'ansible_port': port if connection in SSH_CONNECTIONS else None}


def interface_facts(facts, connection=None):
    """The network facts the pair model reads: interfaces, their IPv4 addresses and networks (primary first,
    then secondaries) and MAC addresses, the default IPv4 route, the distribution, the machine id; and how Ansible
    reaches the host (connection_facts(), when given)."""
    interfaces = [str(name) for name in facts.get('interfaces') or []]
    ipv4 = {}
    macs = {}
    for name in interfaces:
        fact = facts.get(re.sub(r'[^A-Za-z0-9_]', '_', name)) or {}
        mac = str(fact.get('macaddress') or '').lower()
        if _MAC.match(mac) and mac != '00:00:00:00:00:00':
            macs[name] = mac
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
    result = {
        'interfaces': interfaces,
        'ipv4': ipv4,
        'macs': macs,
        'default_ipv4': dict((key, str(default[key])) for key in ('interface', 'address', 'gateway') if default.get(key)),
        'distribution': str(facts.get('distribution') or ''),
        'distribution_release': str(facts.get('distribution_release') or ''),
        'machine_id': str(facts.get('machine_id') or ''),
    }
    result.update(connection or {})
    return result


def decrypted(value):
    """value with every inline-vaulted string in it (``!vault``) as the plain text it holds. ansible-core 2.16 to
    2.18 leave such a value an AnsibleVaultEncryptedUnicode when they template it, which is no str (2.19 and later
    give a str); the class is found by its name, because importing it from 2.19 on is deprecated."""
    if isinstance(value, str):
        return value
    if type(value).__name__ == 'AnsibleVaultEncryptedUnicode':
        return str(value)
    if isinstance(value, dict):
        return dict((key, decrypted(item)) for key, item in value.items())
    if isinstance(value, list):
        return [decrypted(item) for item in value]
    return value


def template_failure(exc, secret):
    """Why a variable could not be templated, never quoting a secret (nor the template that holds it)."""
    text = str(getattr(exc, 'message', '') or exc)
    undefined = re.search(r"'([A-Za-z_][A-Za-z0-9_]*)' is undefined", text)
    if undefined:
        return 'it refers to %s, which is not defined' % undefined.group(1)
    if secret:
        return ('the template failed; the reason is not shown because the value is secret. A value with Jinja2 '
                "syntax ('{{', '{%', '{#') must not be given literally")
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first[:300]


def internal_prefixes(roles):
    """The prefixes of the roles' internal variables (__ROLE_), which nothing but the roles may set."""
    return tuple('__%s_' % role for role in roles)


def extra_vars(loader):
    """The extra vars of this run (-e), or {} when they cannot be read."""
    try:
        from ansible.utils.vars import load_extra_vars  # pylint: disable=import-outside-toplevel
        return load_extra_vars(loader) or {}
    except Exception:  # pylint: disable=broad-exception-caught  # no CLI (an API caller): nothing to refuse
        return {}


def refused_extra_vars(names, roles):
    """InputErrors for extra vars that name a published result or a role's internal variable."""
    prefixes = internal_prefixes(roles)
    errors = []
    for name in sorted(str(n) for n in names):
        if name in PUBLISHED or name.startswith(prefixes):
            errors.append(InputError(
                'reserved', name, '{variable} is given as an extra var (-e, a survey), but it is %s: nothing but the '
                "collection's roles may set it, and extra vars would outrank the checked value. Remove it from the extra "
                'vars.' % ('what the input check publishes' if name in PUBLISHED else "a role's internal variable")))
    return errors


class ActionModule(ActionBase):
    """Type and check one host's input; see the module documentation."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(('roles',))

    def _connection_vars(self, task_vars):
        """The host's connection variables, templated one by one (one that cannot be templated is left out)."""
        result = {}
        for name in ('ansible_host', 'ansible_connection', 'ansible_port', 'ansible_ssh_port'):
            if name in task_vars:
                try:
                    result[name] = self._templar.template(task_vars[name])
                except Exception:  # pylint: disable=broad-exception-caught  # then Ansible fails on it itself
                    continue
        return result

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        result['changed'] = False
        try:
            entry_points = role_input.parse_entry_points(self._task.args.get('roles') or [])
        except ValueError as exc:
            raise AnsibleError('hapair.loadbalancer.node_input: roles: %s' % exc) from exc
        specs = load_specs(role_input.ROLES)
        options = {}
        for role, entry_point in entry_points:
            for actual in (engines.roles() if role == role_input.ENGINE else (role,)):
                try:
                    options.update(role_input.entry_point_options(specs, actual, entry_point))
                except KeyError:
                    raise AnsibleError('hapair.loadbalancer.node_input: the role %s has no entry point %s'
                                       % (actual, entry_point)) from None
        options.update(specs['hapair']['argument_specs']['main']['options'])
        raw, deprecated = {}, []
        renamed = role_input.renames(options)
        for name in sorted(set(options) | set(renamed)):
            if name not in task_vars:
                continue
            secret = bool(options.get(renamed.get(name, name), {}).get('no_log'))
            try:
                value = decrypted(self._templar.template(task_vars[name]))
            except Exception as exc:  # pylint: disable=broad-exception-caught  # any template error names the variable
                value = role_input.TemplateFailure(template_failure(exc, secret))
            if name in renamed:
                deprecated.append((name, renamed[name]))
                if renamed[name] not in task_vars:
                    raw[renamed[name]] = value
            else:
                raw[name] = value
        host = task_vars.get('inventory_hostname')
        facts = interface_facts(task_vars.get('ansible_facts') or {}, connection_facts(host, self._connection_vars(task_vars)))
        checked = role_input.check_host(host, specs, entry_points, raw, {'facts': facts, 'set': sorted(raw)})
        errors = [error._replace(host=host) for error in refused_extra_vars(extra_vars(self._loader), INTERNAL_ROLES)]
        shared = list(role_input.PAIR_SETTINGS)
        for role, entry_point in checked.entry_points:
            if role in role_input.PAIR_LEVEL_ROLES and entry_point == 'main':
                shared += sorted(specs[role]['argument_specs']['main']['options'])
            engine = [e for e in engines.ENGINES.values() if e.role == role]
            if engine and entry_point == 'main':
                shared += engine[0].pair_variables(specs[role]['argument_specs']['main']['options'])
        result.update({
            'host': host,
            'entry_points': ['%s:%s' % ep if ep[1] != 'main' else ep[0] for ep in checked.entry_points],
            'typed': checked.values,
            # Which secrets are set and valid, never their values: the pair model reads those itself, from the hosts'
            # variables, and keeps them nowhere (a registered result can be printed by any later task).
            'secrets': sorted(checked.secrets),
            'errors': [error.to_dict() for error in errors + checked.errors],
            # The same errors as the sentences users read, for a role that checks its input alone (no pair model).
            'messages': [render(error) for error in errors + checked.errors],
            'warnings_found': [warning.to_dict() for warning in checked.warnings],
            'invalid': sorted(checked.invalid),
            'facts': facts,
            'shared': shared,
            'deprecated': deprecated,
        })
        return result
