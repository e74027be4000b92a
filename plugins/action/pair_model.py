# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin: the pair model of the whole play, from every host's typed input (node_input).

Runs once, on the controller. The logic is in module_utils/pair_model.py; this reads what node_input returned on
every host of the play (a registered variable), reads each host's secrets from its variables only to compare them
across its pair (they are kept nowhere), reads hapair_cluster, hapair_vip and hapair_links of the inventory's hosts
outside the play (from the inventory alone: they have no facts in this run), and returns every host's node, peer and
pair, and every error rendered (`errors`) and as fields (`errors_detail`). Each deprecated variable name gets one
deprecation warning. See plugins/modules/pair_model.py for the documentation.
"""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.hapair.loadbalancer.plugins.action.node_input import decrypted, extra_vars, template_failure
from ansible_collections.hapair.loadbalancer.plugins.module_utils import pair_model
from ansible_collections.hapair.loadbalancer.plugins.module_utils.errors import InputError, render
from ansible_collections.hapair.loadbalancer.plugins.module_utils.host_input import TemplateFailure

display = Display()

# An outside host is read when its inventory data names one of these: it is a node of some pair, not a backend.
OUTSIDE_MARKS = ('hapair_vip', 'hapair_links')


def plain(value):
    """A templated value as plain lists, dicts and strings."""
    if isinstance(value, dict):
        return dict((str(key), plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    return value


def read_outside(candidates, play_hosts, raw_get, template, extra):
    """The OutsideHosts of the candidate hosts that are not in the play and whose inventory data (raw_get(host), not
    templated) sets hapair_vip or hapair_links; template(host, name) templates one of their variables. A variable
    given as an extra var hides its inventory value, which is then unreadable."""
    play = set(play_hosts)
    result = []
    for host in candidates:
        if host in play:
            continue
        try:
            data = raw_get(host)
        except Exception:  # pylint: disable=broad-exception-caught  # a host Ansible cannot read: nothing to compare
            continue
        if not any(name in data and name not in extra for name in OUTSIDE_MARKS):
            continue
        raw = {}
        for name in pair_model.OUTSIDE_VARIABLES:
            if name in extra:
                raw[name] = TemplateFailure('given as an extra var (-e), which hides its inventory value')
            elif name in data:
                try:
                    raw[name] = plain(template(host, name))
                except Exception as exc:  # pylint: disable=broad-exception-caught  # any template error is unreadable
                    raw[name] = TemplateFailure(template_failure(exc, secret=False))
        result.append(pair_model.outside_host(host, raw))
    return result


class ActionModule(ActionBase):
    """Build the pair model; see the module documentation."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(('input', 'hosts', 'outside'))

    def _secret(self, hostvars, host, name):
        """A host's secret, templated, or None."""
        try:
            value = hostvars[host].get(name)
            value = decrypted(self._templar.template(value)) if value is not None else None
        except Exception:  # pylint: disable=broad-exception-caught  # node_input reported why, without the value
            return None
        return value if isinstance(value, str) else None

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        result['changed'] = False
        name = self._task.args.get('input')
        if not isinstance(name, str) or not name:
            raise AnsibleError('hapair.loadbalancer.pair_model: input must name the variable node_input was registered as')
        hosts = self._task.args.get('hosts') or task_vars.get('ansible_play_hosts_all') or []
        hostvars = task_vars.get('hostvars')
        records, errors = [], []
        for host in hosts:
            # raw_get: the registered result as it is; templating it again could only change it.
            data = hostvars.raw_get(host) if hostvars is not None and host in hostvars else {}
            record = data.get(name) if hasattr(data, 'get') else None
            if not isinstance(record, dict) or 'typed' not in record:
                errors.append(InputError(
                    'unchecked', name, "its input was not checked (no {variable}): an earlier task failed on it, such as "
                    "the role's own argument check, or the play runs in batches (serial); its pair stops too.", host=host))
                continue
            record = pair_model.HostRecord.from_result(record)
            record = record._replace(secrets=dict((secret, self._secret(hostvars, host, secret))
                                                  for secret in record.secrets))
            records.append(record)
        outside = self._task.args.get('outside')
        if outside is None:
            outside = (task_vars.get('groups') or {}).get('all') or []
        outside = read_outside(
            [str(host) for host in outside], [str(host) for host in hosts],
            lambda host: hostvars.raw_get(host) if hostvars is not None and host in hostvars else {},
            lambda host, variable: self._templar.template(hostvars[host][variable]),
            set(str(name) for name in extra_vars(self._loader)))
        model = pair_model.build(records, outside)
        all_errors = errors + list(model.errors)
        for old, new, where in model.deprecations:
            # ansible-test's pylint wants the version as a literal: engines.RENAMED_REMOVED_IN (a unit test checks).
            display.deprecated(pair_model.deprecation_message(old, new, where), version='2.0.0',
                               collection_name='hapair.loadbalancer')
        result['errors'] = [render(error) for error in all_errors]
        result['errors_detail'] = [error.to_dict() for error in all_errors]
        result['hosts'] = model.hosts
        result['warnings_found'] = [render(warning) for warning in model.warnings]
        pairs = len(set(h['pair']['name'] for h in model.hosts.values()))
        result['msg'] = '%d error(s) in the input of %d host(s)' % (len(all_errors), len(hosts)) if all_errors \
            else 'The input of %d host(s) in %d pair(s) is valid' % (len(hosts), pairs)
        return result
