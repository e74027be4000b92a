# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Let plain pytest run the unit tests from a checkout.

The tests import the collection as ansible_collections.hapair.loadbalancer. ansible-test
(scripts/ansible-test.sh) provides that itself; from a checkout, playbooks/collections holds the
symlink ansible_collections/hapair/loadbalancer back to the checkout, so it is put on sys.path
when the collection is not importable yet. The empty __init__.py files in tests/unit/plugins/*
give same-named test files (modules/test_vip_check.py, module_utils/test_vip_check.py) distinct
module names under pytest's default import mode.
"""

from __future__ import annotations

import importlib.util
import os
import sys


def _collection_importable():
    try:
        return importlib.util.find_spec('ansible_collections.hapair.loadbalancer') is not None
    except ImportError:
        return False


if not _collection_importable():
    _CHECKOUT_COLLECTIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'playbooks', 'collections')
    if os.path.isdir(os.path.join(_CHECKOUT_COLLECTIONS, 'ansible_collections', 'hapair', 'loadbalancer')):
        sys.path.insert(0, os.path.normpath(_CHECKOUT_COLLECTIONS))
