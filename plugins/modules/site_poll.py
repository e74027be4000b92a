#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: site_poll
short_description: Request a URL every few hundred milliseconds, as a user would, and record what was lost
version_added: 1.1.0
author:
  - hapair.loadbalancer developers (@hapair)
description:
  - Requests O(url) every O(interval) seconds until the file O(stop_file) exists or O(max_seconds) have passed, and
    records how many requests were made and failed (no answer within O(timeout), or an HTTP error), the longest time
    without an answer and every outage (from the last answer before a failure to the first answer after it), with
    the clock of the host it runs on.
  - Meant to run in the background (C(async), with C(poll) set to 0) on the host the site is checked from (the controller by
    default), ended by creating O(stop_file); C(ansible.builtin.async_status) returns the record. The failover drill (the
    C(hapair.loadbalancer.drill) role) runs it while it takes the VIP holder down. Python's standard library only.
  - Changes nothing (it removes O(stop_file) when it ends, if it exists).
options:
  url:
    description: The URL to request, C(http://) or C(https://).
    type: str
    required: true
  interval:
    description: Seconds from the start of one request to the start of the next, from 0.02 to 10.
    type: float
    default: 0.1
  timeout:
    description: Seconds a request may take before it counts as failed; by default five intervals.
    type: float
  validate_certs:
    description: Whether to verify the certificate of an C(https://) URL.
    type: bool
    default: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - hapair.loadbalancer.attributes.read_only
  - hapair.loadbalancer.attributes.background
attributes:
  platform:
    platforms: posix
seealso:
  - module: hapair.loadbalancer.vip_watch
"""

EXAMPLES = r"""
- name: Ask for the site through the VIP every 100 ms, in the background, from the controller
  hapair.loadbalancer.site_poll:
    url: http://198.51.100.10/
    stop_file: /tmp/hapair-drill-client.stop
  delegate_to: localhost
  async: 3600
  poll: 0
  register: client
"""

RETURN = r"""
url:
  description: The URL requested.
  returned: always
  type: str
interval:
  description: Seconds from the start of one request to the start of the next.
  returned: always
  type: float
timeout:
  description: Seconds a request could take before it counted as failed.
  returned: always
  type: float
started_at:
  description: When the client started, seconds since the epoch on its host's clock.
  returned: always
  type: float
stopped_at:
  description: When it ended.
  returned: always
  type: float
requests:
  description: Requests made.
  returned: always
  type: int
failed_requests:
  description: Requests that got no answer in time or an HTTP error.
  returned: always
  type: int
longest_gap_seconds:
  description: The longest time between two answers (or from the last answer to the end).
  returned: always
  type: float
outages:
  description:
    - Every run of failed requests - C(from) (the last answer before it), C(first_failure) (when the first failed
      request was sent), C(to) (the first answer after it, V(null) if none came) and C(answer_seconds) (how long
      the request of that answer took, V(null) if none came).
  returned: always
  type: list
  elements: dict
answers:
  description: How often each first line of an answer (up to 80 characters) was seen.
  returned: always
  type: dict
"""

import ssl
import urllib.request

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hapair.loadbalancer.plugins.module_utils import drill


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type='str', required=True),
            interval=dict(type='float', default=0.1),
            timeout=dict(type='float'),
            validate_certs=dict(type='bool', default=True),
            **drill.BACKGROUND_ARGUMENT_SPEC
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not params['url'].startswith(('http://', 'https://')):
        module.fail_json(msg='url must start with http:// or https://, got %s' % params['url'])
    if not 0.02 <= params['interval'] <= 10:
        module.fail_json(msg='interval must be from 0.02 to 10 seconds, got %s' % params['interval'])
    timeout = params['timeout'] or params['interval'] * 5
    context = None if params['validate_certs'] else ssl._create_unverified_context()  # pylint: disable=protected-access
    # Straight to the site: no proxy from the environment.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))

    def fetch():
        with opener.open(params['url'], timeout=timeout) as response:
            return response.read(4096).decode(errors='replace').split('\n', 1)[0].strip()

    record = drill.poll_url(fetch, params['stop_file'], params['interval'], params['max_seconds'])
    drill.remove_stop_file(params['stop_file'])
    module.exit_json(changed=False, url=params['url'], interval=params['interval'], timeout=timeout, **record)


if __name__ == '__main__':
    main()
