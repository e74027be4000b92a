# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """Attributes of the modules that only read and report; use with ansible.builtin.action_common_attributes."""

    # Changes nothing on the host: runs the same in check mode, has nothing to diff. The module adds its platform.
    READ_ONLY = r"""
attributes:
  check_mode:
    support: full
    details: The module changes nothing; in check mode it runs as without.
  diff_mode:
    support: none
    details: The module changes nothing, so there is nothing to show.
"""

    # An action plugin that works on the controller with the inventory only.
    CONTROLLER = r"""
attributes:
  check_mode:
    support: full
    details: The plugin changes nothing; in check mode it runs as without.
  diff_mode:
    support: none
    details: The plugin changes nothing, so there is nothing to show.
  platform:
    platforms: all
notes:
  - An action plugin; it never connects to the host.
"""

    # The options of a module that runs in the background (async, poll 0) until a file appears.
    BACKGROUND = r"""
options:
  stop_file:
    description: The module ends as soon as this file exists, and removes it.
    type: path
    required: true
  max_seconds:
    description: The module ends after this many seconds at the latest.
    type: float
    default: 3600
"""
