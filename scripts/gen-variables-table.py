#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write the README's table of public variables from the roles' meta/argument_specs.yml.

Every option of every entry point of every role (roles/*/meta/argument_specs.yml) becomes one row:
variable, the roles (and entry points other than main) that document it, type, default and the first
sentence (or two, if the first is very short) of its description, with Ansible's documentation markup (C(), V(), O() ...) turned into
Markdown. A variable documented by several roles appears once and names all of them; they must agree on
its type, default and whether it is required, or this script fails.

The table goes between the markers ``<!-- BEGIN VARIABLES TABLE ... -->`` and
``<!-- END VARIABLES TABLE -->`` in README.md; nothing else in README.md changes.

Usage (with the project's Python environment, which has PyYAML):
    .venv/bin/python scripts/gen-variables-table.py           # rewrite the table in README.md
    .venv/bin/python scripts/gen-variables-table.py --check   # exit 1 if README.md is out of date
"""

from __future__ import annotations

import argparse
import difflib
import glob
import json
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN_RE = re.compile(r'^<!-- BEGIN VARIABLES TABLE\b.*-->\n', re.M)
END_MARKER = '<!-- END VARIABLES TABLE -->'

# Ansible documentation markup -> Markdown.
MARKUP = [
    (re.compile(r'L\(([^)]*?),\s*([^)]+)\)'), r'[\1](\2)'),
    (re.compile(r'U\(([^)]+)\)'), r'<\1>'),
    (re.compile(r'I\(([^)]+)\)'), r'*\1*'),
    (re.compile(r'B\(([^)]+)\)'), r'**\1**'),
    (re.compile(r'\b(?:C|V|O|RV|E|P|M)\(((?:[^()]|\([^()]*\))+)\)'), r'`\1`'),
]


def markdown(text):
    for pattern, replacement in MARKUP:
        text = pattern.sub(replacement, text)
    return ' '.join(text.split())


def first_sentence(text, minimum=0):
    """Up to the first '.', '!' or '?' outside code that is followed by a space and a capital (or the end);
    more sentences while the text is shorter than minimum characters ("Sticky sessions." says too little)."""
    in_code = False
    for index, char in enumerate(text):
        if char == '`':
            in_code = not in_code
        elif char in '.!?' and not in_code and index + 1 >= minimum:
            rest = text[index + 1:]
            if not rest.strip() or re.match(r'\s+[A-Z`"(]', rest):
                return text[:index + 1]
    return text


def paragraphs(description):
    if description is None:
        return []
    if isinstance(description, str):
        return [description]
    return [str(item) for item in description]


def cell(text):
    """Text for a Markdown table cell: pipes escaped (also inside code spans, as GFM wants)."""
    return text.replace('|', '\\|')


def code(value):
    return '`%s`' % value if '`' not in value else '``%s``' % value


def render_default(spec):
    if spec.get('required'):
        return '**required**'
    if 'default' not in spec or spec['default'] is None:
        # "Defaults to ..." in the description says what happens instead.
        for paragraph in paragraphs(spec.get('description')):
            text = markdown(paragraph)
            match = re.match(r'Defaults to (.+?)\.?$', first_sentence(text))
            if match:
                return '*%s*' % match.group(1)
        return '*none*'
    value = spec['default']
    if isinstance(value, bool):
        return code('true' if value else 'false')
    if isinstance(value, str):
        return code(value) if value else code('""')
    if isinstance(value, (list, dict)):
        return code(json.dumps(value, separators=(', ', ': ')))
    return code(str(value))


def render_type(spec):
    kind = spec.get('type', 'str')
    if kind == 'list' and spec.get('elements'):
        kind = 'list of %s' % spec['elements']
    options = spec.get('options') or spec.get('suboptions')
    if options:
        kind += ' (%s)' % ', '.join(options)
    return kind


def meaning(spec):
    texts = paragraphs(spec.get('description'))
    text = first_sentence(markdown(texts[0]), minimum=30) if texts else ''
    if spec.get('choices'):
        text += ' One of %s.' % ', '.join(code(str(choice)) for choice in spec['choices'])
    return text


def render_roles(places):
    """[(role, entry point)] -> 'apache_balancer, heartbeat (main, verify)': entry points only where not just main."""
    roles = {}
    for role, entry_point in places:
        roles.setdefault(role, []).append(entry_point)
    return ', '.join(role if entry_points == ['main'] else '%s (%s)' % (role, ', '.join(entry_points))
                     for role, entry_points in roles.items())


def collect(root):
    """{variable: row} in table order: roles by name, then each role's entry points (main first) and options."""
    rows = {}
    for path in sorted(glob.glob(os.path.join(root, 'roles', '*', 'meta', 'argument_specs.yml'))):
        role = path.split(os.sep)[-3]
        with open(path) as handle:
            specs = (yaml.safe_load(handle) or {}).get('argument_specs') or {}
        for entry_point in sorted(specs, key=lambda name: (name != 'main', name)):
            where = (role, entry_point)
            for name, spec in ((specs[entry_point] or {}).get('options') or {}).items():
                spec = spec or {}
                row = {
                    'type': render_type(spec),
                    'default': render_default(spec),
                    'meaning': meaning(spec),
                }
                if name not in rows:
                    rows[name] = dict(row, roles=[where])
                    continue
                known = rows[name]
                for key in ('type', 'default'):
                    if known[key] != row[key]:
                        raise SystemExit('%s: %s is documented with %s %s in %s but %s here'
                                         % (path, name, key, known[key], render_roles(known['roles']), row[key]))
                if where not in known['roles']:
                    known['roles'].append(where)
    return rows


def table(root):
    rows = collect(root)
    lines = [
        '<!-- Generated by scripts/gen-variables-table.py; tests/integration/test_readme_variables.py checks it. -->',
        '',
        '| Variable | Role | Type | Default | Meaning |',
        '| --- | --- | --- | --- | --- |',
    ]
    for name, row in rows.items():
        lines.append('| %s |' % ' | '.join(cell(text) for text in (
            code(name), render_roles(row['roles']), row['type'], row['default'], row['meaning'])))
    return '\n'.join(lines) + '\n'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--check', action='store_true', help='exit 1 if README.md is out of date, change nothing')
    parser.add_argument('--readme', default=os.path.join(ROOT, 'README.md'))
    args = parser.parse_args()

    with open(args.readme) as handle:
        readme = handle.read()
    begin = BEGIN_RE.search(readme)
    end = readme.find(END_MARKER, begin.end() if begin else 0)
    if not begin or end < 0:
        sys.exit('%s: the markers <!-- BEGIN VARIABLES TABLE ... --> and %s are missing' % (args.readme, END_MARKER))
    updated = readme[:begin.end()] + table(ROOT) + readme[end:]
    if updated == readme:
        print('%s: the variables table is up to date' % args.readme)
        return 0
    if args.check:
        sys.stdout.writelines(difflib.unified_diff(readme.splitlines(True), updated.splitlines(True),
                                                   args.readme, args.readme + ' (from the argument specs)'))
        print('%s: the variables table is out of date; run scripts/gen-variables-table.py' % args.readme)
        return 1
    with open(args.readme, 'w') as handle:
        handle.write(updated)
    print('%s: wrote the variables table (%d variables)' % (args.readme, len(collect(ROOT))))
    return 0


if __name__ == '__main__':
    sys.exit(main())
