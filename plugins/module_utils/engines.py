# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The engines a pair can run (hapair_engine), by name: the one place that lists them.

Pure Python and the standard library (Python 3.8 and later).
"""

from __future__ import annotations

from ansible_collections.hapair.loadbalancer.plugins.module_utils.engine_heartbeat import Heartbeat
from ansible_collections.hapair.loadbalancer.plugins.module_utils.engine_keepalived import Keepalived

ENGINES = dict((engine.name, engine) for engine in (Heartbeat(), Keepalived()))
NAMES = tuple(ENGINES)
DEFAULT = 'heartbeat'
# The release of the collection that removes the engines' old variable names and entry points (renamed(),
# renamed_entry_points()); until then they work, with a deprecation warning.
RENAMED_REMOVED_IN = '2.0.0'


def get(name):
    """The Engine called `name`; KeyError for an unknown one."""
    return ENGINES[name]


def roles():
    """The roles of the engines, in order."""
    return tuple(engine.role for engine in ENGINES.values())


def renamed():
    """{old variable: new variable} of every engine."""
    result = {}
    for engine in ENGINES.values():
        result.update(engine.renamed)
    return result


def renamed_entry_points():
    """{old 'role:entry point': new role} of every engine."""
    result = {}
    for engine in ENGINES.values():
        result.update(getattr(engine, 'renamed_entry_points', {}))
    return result
