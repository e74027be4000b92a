# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The test bed nodes' bytecode cache for modules imported from a zip (testbed/node/hapair_testbed_zipimport_cache.py),
in a Python of its own each time, as on a node: the first import compiles and keeps the code, the next one loads
it (with the new zip's file name, as every Ansible module run's payload has a path of its own), a changed source
compiles anew, and without a cache that can be written the import works as without the module."""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
import zipfile

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
NODE = os.path.join(ROOT, 'testbed', 'node')

# Import a module from a zip with the cache in a directory; print what it holds and where its code says it comes from.
IMPORT = r'''
import sys
import hapair_testbed_zipimport_cache as cache
cache.CACHE = sys.argv[2]
sys.path.insert(0, sys.argv[1])
import payload_module
print(payload_module.VALUE, payload_module.where.__code__.co_filename)
'''


def _zip(path, source):
    with zipfile.ZipFile(str(path), 'w') as archive:
        archive.writestr('payload_module.py', source)
    return str(path)


def _import(archive, cache):
    env = dict(os.environ, PYTHONPATH=NODE, PYTHONDONTWRITEBYTECODE='1')
    out = subprocess.run([sys.executable, '-c', IMPORT, archive, str(cache)], env=env, check=True, capture_output=True,
                         text=True).stdout.split()
    return int(out[0]), out[1]


SOURCE = 'VALUE = %d\n\n\ndef where():\n    return __file__\n'


def test_the_first_import_keeps_the_code_and_the_next_loads_it_with_its_own_file_name(tmp_path):
    cache = tmp_path / 'cache'
    cache.mkdir()
    first = _zip(tmp_path / 'first.zip', SOURCE % 1)
    assert _import(first, cache) == (1, os.path.join(first, 'payload_module.py'))
    kept = list(cache.iterdir())
    assert len(kept) == 1 and kept[0].name.startswith('%s-O0-' % sys.implementation.cache_tag)
    # The next import of the same source loads the kept code: a kept code that says 2 shows it was not compiled anew.
    kept[0].write_bytes(marshal.dumps(compile(SOURCE % 2, 'elsewhere.py', 'exec')))
    second = _zip(tmp_path / 'second.zip', SOURCE % 1)
    assert _import(second, cache) == (2, os.path.join(second, 'payload_module.py'))
    # Another source is compiled, and kept beside.
    third = _zip(tmp_path / 'third.zip', SOURCE % 3)
    assert _import(third, cache) == (3, os.path.join(third, 'payload_module.py'))
    assert len(list(cache.iterdir())) == 2


def test_without_a_cache_that_can_be_written_or_read_the_import_compiles_as_before(tmp_path):
    archive = _zip(tmp_path / 'payload.zip', SOURCE % 4)
    assert _import(archive, tmp_path / 'missing') == (4, os.path.join(archive, 'payload_module.py'))
    assert not (tmp_path / 'missing').exists()
    cache = tmp_path / 'cache'
    cache.mkdir()
    broken = _zip(tmp_path / 'broken.zip', SOURCE % 5)
    _import(broken, cache)
    for damaged in (b'not marshal data', marshal.dumps(None)):
        for kept in cache.iterdir():
            kept.write_bytes(damaged)
        assert _import(broken, cache) == (5, os.path.join(broken, 'payload_module.py'))
