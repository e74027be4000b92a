# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin: the pair model of the whole play, from every host's typed input (node_input).

Runs once, on the controller. The logic is in module_utils/pair_model.py; this reads what node_input returned on
every host of the play (a registered variable) and returns every host's node, peer and pair, and every error.
See plugins/modules/pair_model.py for the documentation.
"""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.hapair.loadbalancer.plugins.module_utils import pair_model


class ActionModule(ActionBase):
    """Build the pair model; see the module documentation."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(('input', 'hosts'))

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
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
                errors.append('Host %s: its input was not checked (no %s): an earlier task failed on it, such as the '
                              "role's own argument check, or the play runs in batches (serial); its pair stops too." % (host, name))
                continue
            records.append(record)
        model = pair_model.build(records)
        result['errors'] = errors + model['errors']
        result['hosts'] = model['hosts']
        result['warnings_found'] = model['warnings']
        result['msg'] = '%d error(s) in the input of %d host(s)' % (len(result['errors']), len(hosts)) if result['errors'] \
            else 'The input of %d host(s) in %d pair(s) is valid' % (len(hosts), len({h['pair']['name'] for h in model['hosts'].values()}))
        return result
