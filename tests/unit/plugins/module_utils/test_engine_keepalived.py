# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The keepalived engine (module_utils/engine_keepalived.py) as the engine contract says it: its router id, the
master-down interval and the Timers of both profiles, what it tells the monitor, and that the keepalived role, the
notify script and the engine name the same numbers and files. Its input rules are cases (cases/keepalived.yml)."""

from __future__ import annotations

import os
import re
import zlib

import pytest
import yaml

from ansible_collections.hapair.loadbalancer.plugins.module_utils import engine, engine_keepalived, engines, timers
from ansible_collections.hapair.loadbalancer.plugins.module_utils.engine_keepalived import (
    PRIORITY_OTHER,
    PRIORITY_PREFERRED,
    Keepalived,
    master_down,
    router_id,
)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..')
ROLE = os.path.join(ROOT, 'roles', 'keepalived')
KEEPALIVED = Keepalived()


def _read(*path):
    with open(os.path.join(ROLE, *path), encoding='utf-8') as handle:
        return handle.read()


class _Input:
    """What a computed default reads of a host's input: its typed values."""

    def __init__(self, **values):
        self.values = values


# --- the virtual router id ------------------------------------------------------------------------------------

@pytest.mark.parametrize('cluster, expected', [('pair1', 54), ('pair2', 15), ('default', 35), ('pair706', 54),
                                               ('web', 105), ('www', 247)])
def test_the_router_id_of_a_pair_name_never_changes(cluster, expected):
    """The id is in every running pair's keepalived.conf: a new formula would renumber them all."""
    assert router_id(cluster) == expected == zlib.crc32(cluster.encode('utf-8')) % 255 + 1


def test_router_ids_cover_1_to_255_and_nothing_else():
    ids = set(router_id('pair-%d' % number) for number in range(5000))
    assert ids == set(range(1, 256))


def test_a_pair_name_beyond_ascii_has_an_id_too():
    assert 1 <= router_id('paire-été') <= 255


@pytest.mark.parametrize('values, expected', [
    ({'hapair_cluster': 'pair1'}, 54),
    ({'hapair_cluster': ''}, None),        # no name: nothing to derive from (hapair_cluster's own rule says why)
    ({'hapair_cluster': None}, None),
    ({}, None),
    ({'hapair_cluster': 7}, None),          # not a string: invalid, its type error is reported
])
def test_the_computed_router_id_comes_from_the_typed_pair_name(values, expected):
    default = KEEPALIVED.computed_defaults()['keepalived_virtual_router_id']
    assert default(_Input(**values)) == expected


@pytest.mark.parametrize('value, expected', [(54, 54), (1, 1), (255, 255), (True, None), (None, None), ('54', None),
                                             (54.0, None)])
def test_the_segment_id_is_the_typed_router_id_only(value, expected):
    """pair_model.check_segments compares what segment_id() gives: a value that is not a whole number (invalid, its
    error reported already) is left out."""
    assert KEEPALIVED.segment_id({'keepalived_virtual_router_id': value}) == expected
    assert KEEPALIVED.segment_id({}) is None


# --- the timers -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize('advert, priority, expected', [
    (1.0, 100, 3.609375),     # the backup: 3 A + 156/256 A
    (1.0, 150, 3.4140625),   # the preferred node waits less: 3 A + 106/256 A
    (0.1, 100, 0.3609375),
    (2.0, 100, 7.21875),
    (40.95, 100, 147.80390625),
    (1.0, 255, 3.00390625),
    (1.0, 1, 3.99609375),
])
def test_the_master_down_interval_is_rfc_5798s(advert, priority, expected):
    assert master_down(advert, priority) == pytest.approx(expected)


def test_the_master_down_interval_defaults_to_the_other_nodes_priority():
    assert master_down(1.0) == master_down(1.0, PRIORITY_OTHER)
    assert PRIORITY_PREFERRED > PRIORITY_OTHER


@pytest.mark.parametrize('profile, advert_int, advert', [('standard', '1', 1.0), ('fast', '100ms', 0.1)])
def test_the_profiles_give_the_advert_interval_and_the_timers(profile, advert_int, advert):
    values = KEEPALIVED.profile(profile)
    assert values == {'keepalived_advert_int': advert_int}
    found = KEEPALIVED.timers(values)
    assert isinstance(found, engine.Timers)
    assert found.advert == pytest.approx(advert)
    assert found.detect == pytest.approx(3 * advert + (256 - 100) / 256.0 * advert)
    assert found.startup == found.detect
    assert found.handover == pytest.approx(advert + 1.0)
    # A preempting master takes the VIP at once; the old one lets go at the new master's first advert.
    assert found.overlap == found.advert
    assert KEEPALIVED.settle_seconds(found) == pytest.approx(found.startup + found.detect + 10.0)


def test_every_profile_of_the_collection_is_a_keepalived_profile():
    assert sorted(engine_keepalived.PROFILES) == sorted(timers.PROFILES)
    for name in timers.PROFILES:
        ms = timers.parse_ms(KEEPALIVED.profile(name)['keepalived_advert_int'])
        assert engine_keepalived.MIN_ADVERT_MS <= ms <= engine_keepalived.MAX_ADVERT_MS and ms % 10 == 0
    with pytest.raises(KeyError):
        KEEPALIVED.profile('slow')


@pytest.mark.parametrize('profile, expected', [('standard', '1'), ('fast', '100ms'), (None, '1'), ('slow', '1')])
def test_the_computed_advert_interval_follows_hapair_timers(profile, expected):
    """An unknown profile has its own error (hapair_timers' choice); the interval then falls back to standard."""
    default = KEEPALIVED.computed_defaults()['keepalived_advert_int']
    assert default(_Input(hapair_timers=profile)) == expected


def test_the_timers_take_an_interval_in_any_form_the_check_accepts():
    for value in (1, '1', 1.0, '1000ms'):
        assert KEEPALIVED.timers({'keepalived_advert_int': value}).advert == 1.0


# --- the contract ---------------------------------------------------------------------------------------------

def test_keepalived_is_an_engine_of_the_collection():
    assert engines.get('keepalived').__class__ is Keepalived
    assert 'keepalived' in engines.NAMES and 'keepalived' in engines.roles()
    assert (KEEPALIVED.role, KEEPALIVED.service, KEEPALIVED.process, KEEPALIVED.packages) == (
        'keepalived', 'keepalived', 'keepalived', ('keepalived',))
    assert KEEPALIVED.secrets == () and KEEPALIVED.per_host == () and KEEPALIVED.renamed == {}
    assert KEEPALIVED.reserved_ports({'keepalived_advert_int': '1'}) == []
    assert sorted(KEEPALIVED.fault_methods) == sorted(method.name for method in engine.FAULT_METHODS)


def test_every_variable_the_engine_names_is_in_its_roles_spec():
    options = yaml.safe_load(_read('meta', 'argument_specs.yml'))['argument_specs']['main']['options']
    assert set(KEEPALIVED.timer_variables) <= set(options)
    assert KEEPALIVED.segment_variable in options
    assert set(KEEPALIVED.computed_defaults()) <= set(options)
    # Every variable of the role must agree across the pair: none is per host, none is a secret.
    assert KEEPALIVED.pair_variables(options) == tuple(sorted(options))
    # The computed ones have no static default (it would win over the profile, and over the pair's name).
    assert not any('default' in options[name] for name in KEEPALIVED.computed_defaults())


def test_the_monitor_settings_name_the_files_in_the_directory_the_monitor_may_write():
    settings = KEEPALIVED.monitor_settings()
    assert settings['engine'] == 'keepalived' and settings['service'] == 'keepalived'
    directory = os.path.dirname(settings['track_file'])
    assert os.path.dirname(settings['state_file']) == directory and settings['writes'] == [directory]
    assert settings['track_file'] in settings['why_root']


# --- the role says what the engine says -----------------------------------------------------------------------

def test_the_role_gives_the_engines_priorities():
    assert re.search(r"ternary\(%d, %d\)" % (PRIORITY_PREFERRED, PRIORITY_OTHER), _read('vars', 'main.yml'))


def test_the_role_reads_its_runtime_files_from_the_engine():
    variables = _read('vars', 'main.yml')
    assert "__keepalived_state_file: \"{{ hapair_pair['engine']['monitor']['state_file'] }}\"" in variables
    assert "__keepalived_track_file: \"{{ hapair_pair['engine']['monitor']['track_file'] }}\"" in variables


def test_the_notify_script_writes_the_state_file_the_engine_names():
    script = _read('files', 'keepalived-notify')
    state_file = KEEPALIVED.monitor_settings()['state_file']
    assert 'state_dir=%s\n' % os.path.dirname(state_file) in script
    assert 'mv -f "$state_dir/state.tmp" "$state_dir/%s"' % os.path.basename(state_file) in script
