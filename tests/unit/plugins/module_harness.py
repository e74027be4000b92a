# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module's main() inside the test process, on every ansible-core the collection supports (2.16 and later).

Three things differ between the releases. Each is handled here, once, by what the installed ansible-core has
(never by its version number), so that the tests themselves assert the same things everywhere:

- Module arguments. ansible-core 2.19 added the public test helper ``ansible.module_utils.testing.
  patch_module_args``; it also sets the serialization profile that 2.19's ``AnsibleModule`` needs. Earlier
  releases have no helper: there a test sets ``basic._ANSIBLE_ARGS``, which is where ``AnsibleModule`` reads its
  arguments from on those releases. ``patch_module_args`` below uses the public helper where it exists.
- Controller context. From 2.19 on, importing controller code (``ansible.errors``, which the filter tests use)
  marks the whole process as a controller, and from then on ``AnsibleModule.warn`` sends warnings to the
  controller's display instead of the module's result. ansible-core has no public switch for this: the flag is
  ``ansible.module_utils._internal.is_controller``, and ``as_managed_node`` resets it where it exists. Before
  2.19 there is no such flag and warnings always go to the result.
- ``invocation``. Up to 2.20 every module result carries ``invocation`` (the arguments as the module saw them).
  2.21 adds it only when the controller asks for it (its INJECT_INVOCATION setting, sent to the module as
  ``_ansible_inject_invocation``), and earlier releases reject that argument as unsupported.
  ``ASK_FOR_INVOCATION`` holds the argument where the installed ansible-core knows it, so a test can ask for
  ``invocation`` on every release.

One message differs by release only, with no feature to tell it by: a value that cannot be converted to an
option's type is reported as ``is of type str`` from 2.19 on and as ``is of type <class 'str'>`` before.
``STR_TYPE_IN_MESSAGES`` is the form of the installed release.
"""

from __future__ import annotations

import contextlib
import json

from ansible.module_utils import basic
from ansible.module_utils.ansible_release import __version__ as ANSIBLE_CORE_VERSION
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.common.parameters import PASS_VARS

try:
    from ansible.module_utils.testing import patch_module_args as _public_patch_module_args
except ImportError:  # ansible-core < 2.19
    _public_patch_module_args = None

try:
    from ansible.module_utils import _internal as _module_utils_internal
except ImportError:  # ansible-core < 2.18 has no such package
    _module_utils_internal = None

ANSIBLE_CORE = tuple(int(part) for part in ANSIBLE_CORE_VERSION.split('.')[:2])
STR_TYPE_IN_MESSAGES = 'str' if ANSIBLE_CORE >= (2, 19) else "<class 'str'>"
ASK_FOR_INVOCATION = {'_ansible_inject_invocation': True} if 'inject_invocation' in PASS_VARS else {}


@contextlib.contextmanager
def patch_module_args(args):
    """Expose args (a dict) to the AnsibleModule that main() creates within this context."""
    if _public_patch_module_args is not None:
        with _public_patch_module_args(args):
            yield
        return
    saved = basic._ANSIBLE_ARGS
    basic._ANSIBLE_ARGS = json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode()
    try:
        yield
    finally:
        basic._ANSIBLE_ARGS = saved


def as_managed_node(monkeypatch):
    """Make module code in this test behave as on a managed node: warnings go to the module's result, and none
    are left over from an earlier test (ansible-test forks per test, plain pytest does not)."""
    if hasattr(_module_utils_internal, 'is_controller'):
        monkeypatch.setattr(_module_utils_internal, 'is_controller', False)
    monkeypatch.setattr(ansible_warnings, '_global_warnings', type(ansible_warnings._global_warnings)())
