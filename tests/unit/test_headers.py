# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every Python file of the repository starts with the one header.

After an optional shebang line and an optional coding line, exactly HEADER. Checked on what git would commit
(tracked files, and untracked ones that are not ignored, so a new file is caught before its first commit). Empty
__init__.py files are left alone: ansible-test's empty-init sanity test wants those under tests/unit/ and
plugins/modules/ empty.
"""

from __future__ import annotations

import os
import subprocess

import pytest

REPO = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
HEADER = (
    '# Copyright: hapair.loadbalancer contributors',
    '# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)',
    '# SPDX-License-Identifier: GPL-3.0-or-later',
)
CODING = '# -*- coding: utf-8 -*-'

# Being rewritten on other branches right now (the fault harness, the client, the molecule tests, the benchmarks,
# hapair-monitor and the integration tests), with the header: whoever merges one removes it from here, as from the
# extend-exclude of ruff.toml. test_no_stale_exceptions says when an entry is no longer needed.
BEING_REWRITTEN = ()


def python_files():
    """The *.py files git would commit, relative to the repository; skips outside a git checkout of it (ansible-test
    runs the unit tests on a copy without .git; the pytest stage of scripts/test-controller.sh runs this test)."""
    try:
        top = subprocess.run(['git', 'rev-parse', '--show-toplevel'], cwd=REPO, check=True, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True).stdout.strip()
        listed = subprocess.run(['git', 'ls-files', '-z', '-co', '--exclude-standard', '--', '*.py'], cwd=REPO,
                                check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip('not a git checkout')
    if os.path.realpath(top) != REPO:
        pytest.skip('not a git checkout of this repository')
    names = sorted(name for name in listed.decode('utf-8').split('\0') if name)
    return [name for name in names if os.path.isfile(os.path.join(REPO, name))
            and not os.path.islink(os.path.join(REPO, name))]


def header_problem(text):
    """None when a file's text starts with the header, else what is wrong."""
    lines = text.split('\n')
    position = 0
    if lines[position].startswith('#!'):
        position += 1
    if position < len(lines) and lines[position] == CODING:
        position += 1
    for index, expected in enumerate(HEADER):
        line = lines[position + index] if position + index < len(lines) else ''
        if line != expected:
            return 'line %d is %r, expected %r' % (position + index + 1, line, expected)
    return None


def offenders():
    result = []
    for name in python_files():
        with open(os.path.join(REPO, name), encoding='utf-8') as handle:
            text = handle.read()
        if text == '' and os.path.basename(name) == '__init__.py':
            continue
        problem = header_problem(text)
        if problem:
            result.append((name, problem))
    return result


def test_every_python_file_starts_with_the_header():
    bad = ['%s: %s' % (name, problem) for name, problem in offenders() if name not in BEING_REWRITTEN]
    assert not bad, 'Python files without the header (%s):\n%s' % ('; '.join(HEADER), '\n'.join(bad))


def test_no_stale_exceptions():
    bad = dict(offenders())
    files = set(python_files())
    stale = sorted(name for name in BEING_REWRITTEN if name not in bad or name not in files)
    assert not stale, 'these have the header now (or are gone): remove them from BEING_REWRITTEN: %s' % stale


@pytest.mark.parametrize('text, problem', [
    ('\n'.join(HEADER) + '\n', None),
    ('#!/usr/bin/python\n' + CODING + '\n' + '\n'.join(HEADER) + '\n"""Doc."""\n', None),
    ('#!/usr/bin/env python\n' + '\n'.join(HEADER) + '\n', None),
    (CODING + '\n' + '\n'.join(HEADER) + '\n', None),
    ('# Copyright: (c) 2026, hapair.loadbalancer developers\n' + '\n'.join(HEADER[1:]) + '\n',
     "line 1 is '# Copyright: (c) 2026, hapair.loadbalancer developers', expected %r" % HEADER[0]),
    ('\n'.join(HEADER[:2]) + '\n"""Doc."""\n', 'line 3 is %r, expected %r' % ('"""Doc."""', HEADER[2])),
    ('\n'.join(HEADER[:2]), "line 3 is '', expected %r" % HEADER[2]),
    ('', "line 1 is '', expected %r" % HEADER[0]),
    ('\n' + '\n'.join(HEADER) + '\n', "line 1 is '', expected %r" % HEADER[0]),
    (CODING + '\n' + CODING + '\n' + '\n'.join(HEADER) + '\n', 'line 2 is %r, expected %r' % (CODING, HEADER[0])),
])
def test_header_problem(text, problem):
    assert header_problem(text) == problem
