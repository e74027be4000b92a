# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Smoke tests of the input check end to end: bad input stops a playbook before any host changes, with a clear
message, and the key never shows.

The input rules themselves are tested one by one, as data, by the unit tests (tests/unit/plugins/module_utils/cases/
and test_input_cases.py). What only a real ansible-playbook run shows is tested here, once per kind, on every
ansible-core release of the matrix:

- a type error, a pair error and a template failure each stop the site playbook in its check play: exit status 2,
  a message that names the variable and the host or the pair, the provisioning play never started, no key shown;
- the key never shows, also with -vvv, in a run that passes the check and in one that fails it;
- a role run alone (monitor) stops in its own check, before its first task that reads or changes a node;
- extra vars (-e) that set what the check publishes (hapair_input) or a role's internal variable
  (__heartbeat_conf_dir) are refused, naming the variable;
- an inventory with the old variable names passes the check with exactly one deprecation warning per old name,
  naming the new one, and the check publishes, and the roles' templates render, exactly what the new names give.

SAFETY: the fake hosts are THIS machine (``ansible_connection: local``). Three things keep the runs from
changing it:

- every run of the site playbook or a role is made with ``--check``, so even if the check wrongly let a run
  through, no task would change anything; the render playbook (tests/integration/render.yml) only writes into a
  temporary directory, on the controller;
- ``ansible_python_interpreter`` is ``/bin/false``: the check runs only action plugins on the controller, so no
  module ever runs on this machine, and the first module after it (the run lock's) fails at once;
- the facts come from a fact cache that conftest.py's fixture ``fact_cache`` fills (a module's ``ansible_facts``)
  and fact gathering is off (``ANSIBLE_GATHERING=explicit``), so the hosts have fixed interfaces and addresses in
  198.51.100.0/24, not this machine's (fake_hosts.py). No packet is sent anywhere.

The runs are independent (own directory, own copy of the fact cache), so they run in parallel threads. Each run is
ansible-playbook's own entry point in a child of one playbook server (tests/integration/playbook_server.py), which
imported Ansible once.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import shutil

import pytest
from fake_hosts import ANSIBLE_PLAYBOOK, KEY, OTHER_KEY, RENDER, SITE, inventory, render, run_playbook

WORKERS = max(2, min(4, (os.cpu_count() or 2) + 1))

CHECK_PLAY = 'PLAY [Check the input of every role for every pair before any host changes]'
PROVISION_PLAY = 'PLAY [Provision the load-balancer pairs]'
LOCK_PLAY = 'PLAY [Take the run lock of every pair before any host changes]'
CHECK_TASK = 'Stop every host when any input of any host or pair is wrong'
VALID = 'The input of %d host(s) in %d pair(s) is valid'
# Everything a run must never print: both keys, and the distinctive part of the key with template syntax.
SECRETS = (KEY, OTHER_KEY, '3b8e6f1a9c2d7e40', '5d1c0b9a7e')

pytestmark = pytest.mark.skipif(ANSIBLE_PLAYBOOK is None, reason='ansible-playbook is not installed')


# A playbook that runs one role alone (its own check, then its tasks).
ROLE_ALONE = """---
- name: Apply %(role)s alone
  hosts: loadbalancers
  gather_facts: false
  roles:
    - role: %(role)s
"""
# The roles whose input the old-names runs check: the site playbook's and the drill's (the failover playbook's).
EVERY_ROLE = ['hostnames', 'apt_sources', 'apache_balancer', 'engine', 'monitor', 'verify', 'drill']
# {old name: (new name, value)}
RENAMED = {'heartbeat_timers': ('hapair_timers', 'fast'), 'heartbeat_monitor_fails': ('hapair_monitor_fails', 4),
           'heartbeat_failover_method': ('hapair_drill_method', 'kill')}
OLD_NAMES = dict((old, value) for old, (_new, value) in RENAMED.items())
NEW_NAMES = dict(RENAMED.values())

# Every run of this file: {name: (inventory, playbook (a path, or the text of one), ansible-playbook options)}.
RUNS = {
    # Values of the wrong type: one Ansible's own conversion would refuse, one it would take (true is no port).
    'type-error': (inventory(each={'herring': {'heartbeat_udpport': 'six-nine-four'}, 'haddock': {'heartbeat_udpport': True}}),
                   SITE, ('--check',)),
    # Errors across hosts: link 1 on different subnets in pair1; two hosts of two pairs with one node name.
    'pair-error': (inventory(hosts=('herring', 'haddock', 'cod', 'ling'), each={
        'haddock': {'hapair_links': [{'interface': 'eth1', 'address': '198.51.100.76'},
                                     {'interface': 'eth0', 'address': '198.51.100.12'}]},
        'ling': {'hapair_node_name': 'LOADB1'}}), SITE, ('--check',)),
    # A variable referring to an undefined one; a key with template syntax, which must not show.
    'template-failure': (inventory(each={'herring': {'hapair_vip': '{{ pair1_vip }}'},
                                         'haddock': {'heartbeat_auth_key': 'tpl-{{-3b8e6f1a9c2d7e40'}}), SITE, ('--check',)),
    # -vvv, valid input: the check passes, the provisioning play starts and stops at its first module.
    'key-valid-vvv': (inventory(hosts=('herring', 'haddock', 'cod', 'ling')), SITE, ('--check', '-vvv')),
    # -vvv, the keys of a pair differ: both keys are in play, neither may show.
    'key-differs-vvv': (inventory(each={'haddock': {'heartbeat_auth_key': OTHER_KEY}}), SITE, ('--check', '-vvv')),
    # The monitor role alone: 0 passes Ansible's own check of the role's arguments (an int), not the role's.
    'role-alone': (inventory(every={'hapair_monitor_fails': 0}), ROLE_ALONE % {'role': 'hapair.loadbalancer.monitor'},
                   ('--check',)),
    # What the check publishes and a role's internal variable, given as extra vars.
    'extra-vars': (inventory(), SITE, ('--check', '-e', json.dumps({'hapair_input': {'heartbeat_logfile': '/etc/shadow'}}),
                                       '-e', '__heartbeat_conf_dir=/tmp')),
    # The old names and the new ones, rendered (render.yml): the same result, but for the warnings.
    'old-names': (inventory(every=dict(OLD_NAMES, hapair_roles=EVERY_ROLE)), RENDER, ()),
    'new-names': (inventory(every=dict(NEW_NAMES, hapair_roles=EVERY_ROLE)), RENDER, ()),
}


# Runs a test needs besides the one it is named after.
COMPANIONS = {'old-names': ('new-names',)}


def _selected(request):
    """The runs that the selected tests of this file use (parameter `name`, and its companions)."""
    names = set()
    for item in request.session.items:
        if getattr(item, 'module', None) is request.module and 'name' in getattr(getattr(item, 'callspec', None), 'params', {}):
            name = item.callspec.params['name']
            names.update((name,) + COMPANIONS.get(name, ()))
    return sorted(names)


@pytest.fixture(scope='module')
def runs(request, fact_cache, tmp_path_factory):
    """Every run the selected tests need, in parallel threads: {name: Run, or (Run, what it rendered) for a run of
    render.yml}."""
    base = str(tmp_path_factory.mktemp('runs'))

    def job(name):
        inventory_data, playbook, options = RUNS[name]
        tmp = os.path.join(base, name)
        cache = os.path.join(tmp, 'cache')
        shutil.copytree(fact_cache, cache)
        if playbook == RENDER:
            return render(tmp, cache, inventory_data, options)
        if not playbook.endswith('.yml'):
            path = os.path.join(tmp, 'play.yml')
            with open(path, 'w') as handle:
                handle.write(playbook)
            playbook = path
        return run_playbook(tmp, cache, inventory_data, playbook=playbook, options=options)

    with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
        jobs = dict((name, pool.submit(job, name)) for name in _selected(request))
        return dict((name, future.result()) for name, future in jobs.items())


def assert_stopped_in_the_check(run, phrases):
    """Exit status 2, every phrase in some failure message, the provisioning play never started, no change, no key."""
    assert run.rc == 2, run.out
    for phrase in phrases:
        assert run.has_message(phrase), 'no message holds %r; messages:\n%s' % (phrase, '\n'.join(run.messages))
    assert CHECK_PLAY in run.out and 'TASK [hapair.loadbalancer.hapair : %s]' % CHECK_TASK in run.out, run.out
    assert PROVISION_PLAY not in run.out, run.out
    assert run.recap and all(changed == 0 for changed, _failed in run.recap.values()), run.recap
    assert_no_key_and_no_deprecation(run)


def assert_no_key_and_no_deprecation(run):
    """Neither key shows, nor does any deprecation warning: these inventories use the new names only."""
    for secret in SECRETS:
        assert secret not in run.out, 'the output shows %r' % secret
    assert not run.deprecations(), run.deprecations()


@pytest.mark.parametrize('name', ['type-error'])
def test_a_type_error_stops_the_site_playbook(runs, name):
    assert_stopped_in_the_check(runs[name], [
        "Host herring: heartbeat_udpport 'six-nine-four' is not valid",
        'Host haddock: heartbeat_udpport true is a boolean; expected a number'])


@pytest.mark.parametrize('name', ['pair-error'])
def test_a_pair_error_stops_the_site_playbook(runs, name):
    assert_stopped_in_the_check(runs[name], [
        "Pair 'pair1': link 1 of hapair_links is on different subnets on the two nodes",
        "hapair_node_name: hosts herring ('loadb1', pair 'pair1'), ling ('LOADB1', pair 'pair2') have the same node "
        'name but for letter case'])


@pytest.mark.parametrize('name', ['template-failure'])
def test_a_template_failure_stops_the_site_playbook_naming_the_variable_not_the_secret(runs, name):
    run = runs[name]
    assert_stopped_in_the_check(run, [
        'Host herring: hapair_vip could not be templated: it refers to pair1_vip, which is not defined',
        'Host haddock: heartbeat_auth_key could not be templated: the template failed; the reason is not shown '
        "because the value is secret. A value with Jinja2 syntax ('{{', '{%', '{#') must not be given literally"])
    assert 'tpl-{{' not in run.out


@pytest.mark.parametrize('name', ['key-valid-vvv'])
def test_the_key_never_shows_with_vvv_when_the_check_passes(runs, name):
    """The check passes; the first task that runs a module on the hosts - the maintenance guard's read, at the end of
    the check's play, before the run lock's play - cannot run it (ansible_python_interpreter /bin/false), with --check
    anyway: the run stops there (the check's play is any_errors_fatal), before the lock and before provisioning."""
    run = runs[name]
    assert run.rc == 2, run.out
    assert 'ansible-playbook [core ' in run.out, 'not a -vvv run'
    first = 'TASK [hapair.loadbalancer.maintenance : Read whether each node is in maintenance]'
    assert first in run.out, run.out
    assert LOCK_PLAY not in run.out and PROVISION_PLAY not in run.out, run.out
    check, guard = run.out.split(first)
    assert VALID % (4, 2) in check, check
    assert not [line for line in check.splitlines() if line.startswith(('fatal:', 'failed:'))], check
    # The safety net held: the first task that runs a module on a host could not even run it, on every host.
    assert sorted(host for host, _message in run.failures) == ['cod', 'haddock', 'herring', 'ling'], run.failures
    # (ansible-core 2.19 and later say the first; 2.16 to 2.18 the second.)
    assert all('Module result deserialization failed' in message or 'MODULE FAILURE' in message
               for _host, message in run.failures), run.failures
    # After it, no task of another role.
    assert not re.findall(r'^TASK \[(?!hapair\.loadbalancer\.maintenance : )', guard, re.M), guard
    assert all(changed == 0 for changed, _failed in run.recap.values()), run.recap
    assert_no_key_and_no_deprecation(run)


@pytest.mark.parametrize('name', ['key-differs-vvv'])
def test_the_key_never_shows_with_vvv_when_the_check_fails(runs, name):
    run = runs[name]
    assert 'ansible-playbook [core ' in run.out, 'not a -vvv run'
    assert_stopped_in_the_check(run, ["Pair 'pair1': heartbeat_auth_key differs between herring and haddock (values not shown)"])


@pytest.mark.parametrize('name', ['role-alone'])
def test_a_role_alone_stops_in_its_own_check(runs, name):
    run = runs[name]
    assert run.rc == 2, run.out
    for host in ('herring', 'haddock'):
        phrase = 'Host %s: hapair_monitor_fails 0 is out of range: expected 1 to 100' % host
        assert run.has_message(phrase), 'no message holds %r; messages:\n%s' % (phrase, '\n'.join(run.messages))
    # Ansible's own check of the role's arguments passed; the role's check, through the hapair role, stopped it.
    assert re.search(r"^ok: \[herring\]", run.out.split("Validating arguments against arg spec 'main'")[1], re.M), run.out
    assert 'TASK [hapair.loadbalancer.hapair : %s]' % CHECK_TASK in run.out, run.out
    assert "Read the state of hapair-monitor's files and service" not in run.out, run.out
    assert run.recap and all(changed == 0 for changed, _failed in run.recap.values()), run.recap
    assert_no_key_and_no_deprecation(run)


@pytest.mark.parametrize('name', ['extra-vars'])
def test_extra_vars_that_would_outrank_the_check_are_refused(runs, name):
    phrases = []
    for host in ('herring', 'haddock'):
        phrases += ['Host %s: hapair_input is given as an extra var (-e, a survey), but it is what the input check '
                    'publishes' % host,
                    "Host %s: __heartbeat_conf_dir is given as an extra var (-e, a survey), but it is a role's internal "
                    'variable' % host]
    assert_stopped_in_the_check(runs[name], phrases)


@pytest.mark.parametrize('name', ['old-names'])
def test_old_names_pass_the_check_with_one_deprecation_warning_each(runs, name):
    (old, old_rendered), (new, new_rendered) = runs[name], runs['new-names']
    for run in (old, new):
        assert run.rc == 0, run.out[-4000:]
        assert VALID % (2, 1) in run.out, run.out
        for secret in SECRETS:
            assert secret not in run.out, 'the output shows %r' % secret
    warnings = old.deprecations()
    assert len(warnings) == len(RENAMED), warnings
    for old_name, (new_name, _value) in RENAMED.items():
        mine = [w for w in warnings if w.startswith('%s is deprecated' % old_name)]
        assert len(mine) == 1, (old_name, warnings)
        assert 'hapair.loadbalancer 2.0.0: use %s (set for herring, haddock)' % new_name in mine[0], mine[0]
    assert new.deprecations() == []
    # Nothing else changes: what the check published and every file the roles would write are the same.
    assert sorted(old_rendered) == ['haddock', 'herring'], sorted(old_rendered)
    assert old_rendered == new_rendered
    published = old_rendered['herring']['published']['hapair_input']
    # The old names' values arrived under the new names (the fast profile's timers with them), and the old names
    # are nowhere.
    for new_name, value in NEW_NAMES.items():
        assert published[new_name] == value, new_name
    assert published['heartbeat_deadtime'] == '1500ms'
    assert not set(OLD_NAMES) & set(published), sorted(published)
    assert re.search(r'^deadtime 1500ms$', old_rendered['herring']['files']['ha.cf'], re.M)
    assert json.loads(old_rendered['herring']['files']['monitor.json'])['fails'] == 4
