# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test bed nodes only (testbed/build-image.sh installs it, with a .pth file that imports it at every start of
Python): a bytecode cache for what Python imports from a zip file, such as the payload of every Ansible module run.

Python writes no bytecode for a zip's modules, so each module run compiles ansible.module_utils.basic and the rest of
its payload again: 0.2 CPU-seconds a run on a node, of which 0.09 compiling (a stat module run, 2026-12-07), and the
suite makes thousands of module runs on its nodes. Here the code compiled from a zip's source is kept, by the
source's digest, in /var/cache/hapair-testbed-zipimport (written by root only), and loaded from there the next time,
with the new file name. What runs is the same code: only where it comes from differs. A production node has no such
cache, and Ansible's modules behave the same with or without it.
"""

import zipimport

CACHE = '/var/cache/hapair-testbed-zipimport'
_compile_source = zipimport._compile_source  # pylint: disable=protected-access


def _renamed(code, filename):
    consts = tuple(_renamed(item, filename) if isinstance(item, type(code)) else item for item in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def _cached_compile_source(pathname, source):
    import hashlib  # pylint: disable=import-outside-toplevel
    import marshal  # pylint: disable=import-outside-toplevel
    import os  # pylint: disable=import-outside-toplevel
    import sys  # pylint: disable=import-outside-toplevel
    digest = hashlib.sha256(source if isinstance(source, bytes) else source.encode('utf-8', 'surrogateescape'))
    path = os.path.join(CACHE, '%s-O%d-%s' % (sys.implementation.cache_tag, sys.flags.optimize, digest.hexdigest()))
    try:
        with open(path, 'rb') as handle:
            return _renamed(marshal.loads(handle.read()), pathname)
    except (OSError, EOFError, ValueError, TypeError, AttributeError):  # none yet, or not a code object
        pass
    code = _compile_source(pathname, source)
    try:
        temporary = '%s.%d' % (path, os.getpid())
        with open(temporary, 'wb') as handle:
            handle.write(marshal.dumps(code))
        os.replace(temporary, path)
    except OSError:
        pass  # not root, or a full disk: compiled, as without the cache
    return code


zipimport._compile_source = _cached_compile_source  # pylint: disable=protected-access
