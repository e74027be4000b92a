# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection as users get it: the tarball, its install, and running and reading it from elsewhere.

scripts/build-collection.sh builds the tarball from this checkout (``ansible-galaxy collection build``)
and installs it into an empty collections path (conftest.py, ``installed_collection``). Then:

- the tarball holds the collection (roles, playbooks, plugins, meta/runtime.yml, README.md, LICENSE,
  CHANGELOG.md, docs) and nothing for developing or testing it (galaxy.yml's build_ignore);
- from an unrelated temporary directory, with only the installed copy visible to Ansible (nothing from
  the checkout, ~/.ansible or the Python environment), every playbook passes ``--syntax-check`` and
  the site playbook really runs against two fake hosts on this machine (conftest.py's fake pair, valid but
  for one input) until validation stops it on that input, and on nothing else;
- ``ansible-doc`` shows complete documentation for every module, filter and test plugin and role of the
  installed copy, and its filter and test plugins are exactly those the checkout documents (a plugin removed from
  the checkout is gone; the collection has no test plugins at present).

SAFETY: the site playbook runs here against this very machine (``ansible_connection: local``), as root
on a test machine. Three things keep it from changing anything: one input is deliberately bad, so the
validation play stops every host before the first task that could change something; the run is
ALWAYS made with ``--check`` as well, so that even if validation let it through, no task would change
this machine; and ``ansible_python_interpreter`` is ``/bin/false`` (the facts come from a fact cache), so no
module can run on it.

Takes about 15 seconds.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import types

import pytest
import yaml
from fake_hosts import Run

from conftest import REPO, fake_pair_inventory, galaxy_version, hermetic_env, tool

ROLES = sorted(os.path.basename(path) for path in glob.glob(os.path.join(REPO, 'roles', '*')) if os.path.isdir(path))
PLAYBOOKS = sorted(os.path.splitext(os.path.basename(path))[0] for path in glob.glob(os.path.join(REPO, 'playbooks', '*.yml')))
MODULES = sorted(os.path.splitext(os.path.basename(path))[0]
                 for path in glob.glob(os.path.join(REPO, 'plugins', 'modules', '*.py')) if not path.endswith('__init__.py'))
# Filter and test plugins: each documented in a .yml file of its own next to the Python file that exports it.
JINJA_KINDS = ('filter', 'test')
JINJA_PLUGINS = dict((kind, sorted(os.path.splitext(os.path.basename(path))[0]
                                   for path in glob.glob(os.path.join(REPO, 'plugins', kind, '*.yml'))))
                     for kind in JINJA_KINDS)

# Paths (relative to the collection root) that must never be in the tarball: development and test files,
# the build output, the symlink back to the checkout in playbooks/collections, and caches anywhere.
FORBIDDEN_TOP = ('tests', 'molecule', 'benchmarks', 'testbed', 'scripts', 'build', '.venv', '.ansible', '.git',
                 '.github', '.ci', '.cache', '.pytest_cache', 'requirements-dev.txt', 'execution-environment.yml')
FORBIDDEN_ANYWHERE = ('__pycache__', '.git', '.pytest_cache', '.mypy_cache', '.tox', '.ansible')
FORBIDDEN_SUFFIXES = ('.pyc', '.pyo', '.retry', '.tar.gz', '.orig', '.rej', '~')

# The deliberate bad input of the real run, the only one, and what validation must say about it: a node name that is
# no hostname.
BAD_NODE_NAME = 'lb_2!'
BAD_NODE_NAME_MESSAGE = "Host haddock: hapair_node_name 'lb_2!' is not a valid hostname"
# Paths of the checkout that must never show up in a run (the virtual environment running it may).
CHECKOUT_PATH = re.compile(re.escape(REPO + os.sep) + r'(?!\.venv' + re.escape(os.sep) + ')')


@pytest.fixture(scope='module')
def members(installed_collection):
    with tarfile.open(installed_collection.tarball) as tar:
        return {member.name.rstrip('/'): member for member in tar.getmembers()}


@pytest.fixture(scope='module')
def run(installed_collection, tmp_path_factory, fact_cache):
    """Run an Ansible command from an unrelated, empty directory that sees only the installed collection (and the
    fake hosts' facts)."""
    tmp_path = tmp_path_factory.mktemp('run')
    workdir = tmp_path / 'elsewhere'
    workdir.mkdir()
    shutil.copytree(fact_cache, str(tmp_path / 'facts'))
    env = hermetic_env(tmp_path, installed_collection.collections_path, facts=tmp_path / 'facts')

    def _run(*command, **kwargs):
        proc = subprocess.run([tool(command[0])] + list(command[1:]), cwd=str(workdir), env=env, check=False,
                              capture_output=True, text=True,
                              timeout=kwargs.get('timeout', 300))
        # Whatever ran came from the installed copy, never from the checkout.
        assert not CHECKOUT_PATH.search(proc.stdout + proc.stderr), proc.stdout + proc.stderr
        return proc

    _run.workdir = workdir
    _run.env = env
    return _run


def git_files():
    """What git would commit: tracked files plus untracked ones that are not ignored (None without git)."""
    try:
        out = subprocess.run(['git', 'ls-files', '-z', '-co', '--exclude-standard'], cwd=REPO, check=True,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return set(name for name in out.decode('utf-8').split('\0') if name)


def test_tarball_name_and_manifest_match_galaxy_yml(installed_collection, members):
    with open(os.path.join(REPO, 'galaxy.yml')) as handle:
        galaxy = yaml.safe_load(handle)
    assert os.path.basename(installed_collection.tarball) == 'hapair-loadbalancer-%s.tar.gz' % galaxy['version']
    with open(str(installed_collection.path / 'MANIFEST.json')) as handle:
        info = json.load(handle)['collection_info']
    for key in ('namespace', 'name', 'version', 'license', 'tags', 'description', 'repository', 'documentation',
                'homepage', 'issues', 'dependencies'):
        assert info[key] == galaxy[key], key
    assert info['dependencies'] == {}
    assert 'MANIFEST.json' in members and 'FILES.json' in members


def test_tarball_leaves_out_development_files_and_caches(members):
    bad = []
    for name in members:
        parts = name.split('/')
        if parts[0] in FORBIDDEN_TOP or any(part in FORBIDDEN_ANYWHERE for part in parts) \
                or name.endswith(FORBIDDEN_SUFFIXES) or name.startswith('playbooks/collections'):
            bad.append(name)
    assert not bad, 'the tarball holds files it must not (see build_ignore in galaxy.yml): %s' % bad


def test_tarball_holds_only_what_git_would_commit(members):
    committed = git_files()
    if committed is None:
        pytest.skip('not a git checkout')
    extra = sorted(name for name, member in members.items()
                   if not member.isdir() and name not in committed and name not in ('MANIFEST.json', 'FILES.json'))
    assert not extra, 'the tarball holds files git ignores (add them to build_ignore in galaxy.yml): %s' % extra


def test_tarball_holds_the_collection(members):
    required = ['meta/runtime.yml', 'README.md', 'LICENSE', 'CHANGELOG.md', 'changelogs/changelog.yaml',
                'changelogs/config.yaml', 'docs/execution-environment.md']
    committed = git_files() or set()
    for role in ROLES:
        required += ['roles/%s/meta/argument_specs.yml' % role, 'roles/%s/meta/main.yml' % role,
                     'roles/%s/tasks/main.yml' % role, 'roles/%s/defaults/main.yml' % role]
        required += [name for name in committed if name.startswith('roles/%s/' % role)]
    required += ['playbooks/%s.yml' % playbook for playbook in PLAYBOOKS]
    required += [name for name in committed if name.startswith(('plugins/', 'docs/'))]
    for path in glob.glob(os.path.join(REPO, 'plugins', '**', '*.py'), recursive=True):
        required.append(os.path.relpath(path, REPO))
    missing = sorted(set(name for name in required if name not in members and os.path.exists(os.path.join(REPO, name))))
    assert not missing, 'missing from the tarball: %s' % missing
    # Files that must exist in the checkout too (built, not only carried over).
    for name in ('CHANGELOG.md', 'changelogs/changelog.yaml', 'LICENSE', 'meta/runtime.yml'):
        assert name in members, name


def test_only_the_installed_collection_is_visible(run, installed_collection):
    proc = run('ansible-galaxy', 'collection', 'list', '--format', 'json')
    assert proc.returncode == 0, proc.stderr
    # ansible-core's own internal collection (ansible._protomatter) aside.
    listing = {path: found for path, found in json.loads(proc.stdout).items()
               if not path.startswith(os.path.dirname(os.path.dirname(yaml.__file__)) + os.sep)}
    assert listing == {str(installed_collection.collections_path / 'ansible_collections'): {
        'hapair.loadbalancer': {'version': galaxy_version()}}}, listing


@pytest.mark.parametrize('playbook', PLAYBOOKS)
def test_playbook_syntax_from_elsewhere(run, playbook):
    inventory = fake_pair_inventory(run.workdir / ('syntax-%s.yml' % playbook))
    proc = run('ansible-playbook', 'hapair.loadbalancer.%s' % playbook, '-i', str(inventory), '--syntax-check')
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_site_playbook_runs_from_elsewhere_and_stops_in_validation(run, installed_collection):
    """The real site playbook from the installed tarball; one bad input; ALWAYS --check (see the module docstring)."""
    inventory = fake_pair_inventory(run.workdir / 'bad-node-name.yml')
    # The bad input, for haddock only (extra vars would set it for both hosts).
    with open(str(inventory)) as handle:
        data = yaml.safe_load(handle)
    data['loadbalancers']['hosts']['haddock']['hapair_node_name'] = BAD_NODE_NAME
    with open(str(inventory), 'w') as handle:
        yaml.safe_dump(data, handle)
    # -vv: every task's path ("task path: ..."), with every release of ansible-core.
    proc = run('ansible-playbook', 'hapair.loadbalancer.site', '-i', str(inventory), '--check', '--diff', '-vv')
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    # The bad input, and nothing else, stopped the run.
    messages = Run(types.SimpleNamespace(returncode=proc.returncode, stdout=proc.stdout), None).messages
    assert len(messages) == 1 and messages[0].startswith(BAD_NODE_NAME_MESSAGE), messages
    # The pair model of the installed copy checked both hosts; the run stopped in the validation play.
    checked = re.search(r"^TASK \[hapair\.loadbalancer\.hapair : Read and type this host's input from the argument specs\]"
                        r".*?\n\n", out, re.M | re.S)
    assert checked and sorted(re.findall(r'^ok: \[(\w+)\]', checked.group(0), re.M)) == ['haddock', 'herring'], out
    assert 'PLAY [Provision the load-balancer pairs]' not in out, out
    recap = dict(re.findall(r'^(herring|haddock)\s*:\s*ok=\d+\s+changed=(\d+)', out, re.M))
    assert recap == {'herring': '0', 'haddock': '0'}, out
    # Every task came from the installed copy, the failed one from the hapair role's check.
    paths = re.findall(r'^task path: (\S+?):\d+$', out, re.M)
    assert paths and all(path.startswith(str(installed_collection.path) + os.sep) for path in paths), paths
    assert paths[-1] == str(installed_collection.path / 'roles' / 'hapair' / 'tasks' / 'check.yml'), paths


@pytest.fixture(scope='module')
def docs(run):
    """ansible-doc --json of the installed copy, one call per plugin type: {type: {name: entry}}."""
    names = {
        'module': ['hapair.loadbalancer.%s' % module for module in MODULES],
        'role': ['hapair.loadbalancer.%s' % role for role in ROLES],
    }
    for kind in ('filter', 'test'):
        proc = run('ansible-doc', '-t', kind, '--list', '--json', 'hapair.loadbalancer')
        assert proc.returncode == 0, proc.stderr
        names[kind] = sorted(json.loads(proc.stdout))
    found = {}
    for kind, wanted in names.items():
        if not wanted:  # (the collection has no test plugins)
            found[kind] = {}
            continue
        proc = run('ansible-doc', '-t', kind, '--json', *wanted)
        assert proc.returncode == 0, proc.stderr
        found[kind] = json.loads(proc.stdout)
        assert sorted(found[kind]) == sorted(wanted), (kind, sorted(found[kind]))
    return found


def _text(value):
    if isinstance(value, list):
        return ' '.join(str(item) for item in value).strip()
    return str(value or '').strip()


def _undocumented_options(options, prefix=''):
    """Options (and their suboptions) without a description or a type."""
    bad = []
    for name, spec in (options or {}).items():
        if not _text(spec.get('description')):
            bad.append(prefix + name + ' (no description)')
        if not spec.get('type'):
            bad.append(prefix + name + ' (no type)')
        bad += _undocumented_options(spec.get('suboptions') or spec.get('options'), prefix + name + '.')
    return bad


def _undocumented_returns(returns, prefix=''):
    bad = []
    for name, spec in (returns or {}).items():
        if not _text(spec.get('description')):
            bad.append(prefix + name)
        bad += _undocumented_returns(spec.get('contains'), prefix + name + '.')
    return bad


def _check_plugin_doc(entry, name):
    doc = entry['doc']
    assert _text(doc.get('short_description')), name
    assert _text(doc.get('description')), name
    assert doc.get('author'), name
    assert doc.get('version_added'), name
    assert not _undocumented_options(doc.get('options')), (name, _undocumented_options(doc.get('options')))
    assert _text(entry.get('examples')), name + ' has no examples'
    assert entry.get('return'), name + ' documents no return value'
    assert not _undocumented_returns(entry.get('return')), (name, _undocumented_returns(entry.get('return')))


@pytest.mark.parametrize('module', MODULES)
def test_module_documentation(docs, module):
    name = 'hapair.loadbalancer.%s' % module
    _check_plugin_doc(docs['module'][name], name)


def test_text_documentation_renders(run):
    """The text form (what users read) renders for every module and role."""
    modules = ['hapair.loadbalancer.%s' % module for module in MODULES]
    proc = run('ansible-doc', *modules)
    assert proc.returncode == 0 and all(name in proc.stdout for name in modules), proc.stdout + proc.stderr
    roles = ['hapair.loadbalancer.%s' % role for role in ROLES]
    proc = run('ansible-doc', '-t', 'role', *roles)
    assert proc.returncode == 0, proc.stderr
    assert len(re.findall(r'ENTRY POINT: \*?main', proc.stdout)) == len(roles), proc.stdout


def _exported_plugins(installed_collection, kind):
    """Names every filter (or test) plugin file of the installed copy exports, by importing it."""
    code = r'''
import glob, importlib, json, os, sys
root, kind = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)
names = []
base = os.path.join(root, 'ansible_collections', 'hapair', 'loadbalancer', 'plugins', kind)
for path in sorted(glob.glob(os.path.join(base, '*.py'))):
    module = importlib.import_module('ansible_collections.hapair.loadbalancer.plugins.%s.%s'
                                     % (kind, os.path.basename(path)[:-3]))
    plugins = module.FilterModule().filters() if kind == 'filter' else module.TestModule().tests()
    names += plugins
print(json.dumps(sorted(names)))
'''
    env = hermetic_env(installed_collection.tmp, installed_collection.collections_path)
    proc = subprocess.run([sys.executable, '-c', code, str(installed_collection.collections_path), kind], env=env,
                          check=False, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return ['hapair.loadbalancer.' + name for name in json.loads(proc.stdout)]


@pytest.mark.parametrize('kind', JINJA_KINDS)
def test_the_installed_filter_and_test_plugins_are_the_checkouts(docs, installed_collection, kind):
    """What the installed copy exports and documents is what the checkout documents: nothing missing, and nothing
    removed from the checkout left behind."""
    expected = ['hapair.loadbalancer.' + name for name in JINJA_PLUGINS[kind]]
    assert _exported_plugins(installed_collection, kind) == expected, 'every %s plugin needs its documentation (.yml)' % kind
    assert sorted(docs[kind]) == expected


@pytest.mark.parametrize('kind', [kind for kind in JINJA_KINDS if JINJA_PLUGINS[kind]])
def test_filter_and_test_plugin_documentation(docs, kind):
    assert docs[kind], 'no %s plugins found' % kind
    for name in sorted(docs[kind]):
        _check_plugin_doc(docs[kind][name], name)


@pytest.mark.parametrize('role', ROLES)
def test_role_documentation(docs, role):
    name = 'hapair.loadbalancer.%s' % role
    entry_points = docs['role'][name].get('entry_points') or {}
    assert 'main' in entry_points, name
    for entry_point, doc in entry_points.items():
        where = '%s, entry point %s' % (name, entry_point)
        assert _text(doc.get('short_description')), where
        assert _text(doc.get('description')), where
        assert doc.get('author'), where
        assert not _undocumented_options(doc.get('options')), (where, _undocumented_options(doc.get('options')))


def _tasks_from_in_playbooks():
    """(role, entry point) for every include_role/import_role with tasks_from in the playbooks."""
    used = set()

    def walk(node):
        if isinstance(node, dict):
            for key in ('ansible.builtin.include_role', 'ansible.builtin.import_role', 'include_role', 'import_role'):
                args = node.get(key)
                if isinstance(args, dict) and args.get('tasks_from') and '{{' not in str(args.get('name')):
                    used.add((args['name'].split('.')[-1], os.path.splitext(args['tasks_from'])[0]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for playbook in PLAYBOOKS:
        with open(os.path.join(REPO, 'playbooks', playbook + '.yml')) as handle:
            walk(yaml.safe_load(handle))
    return sorted(used)


@pytest.mark.parametrize('role,entry_point', _tasks_from_in_playbooks())
def test_role_entry_points_the_playbooks_use_are_documented(docs, role, entry_point):
    """An entry point a playbook runs (heartbeat's verify, failover) is public: ansible-doc must show it."""
    entry = docs['role']['hapair.loadbalancer.%s' % role]
    assert entry_point in (entry.get('entry_points') or {}), (
        'roles/%s/meta/argument_specs.yml documents no entry point %r, which playbooks/ use' % (role, entry_point))
