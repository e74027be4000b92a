# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""node_state's readers, on files made in a temporary directory."""

from __future__ import annotations

import hashlib
import os

from ansible_collections.hapair.loadbalancer.plugins.module_utils import node_state


def test_a_file_is_described_with_its_digest(tmp_path):
    path = tmp_path / 'ha.cf'
    path.write_text('keepalive 2\n')
    os.chmod(str(path), 0o640)
    state = node_state.file_state(str(path))
    assert state['exists'] and state['type'] == 'file' and state['mode'] == '0640'
    assert state['sha1'] == hashlib.sha1(b'keepalive 2\n').hexdigest()
    assert 'matches' not in state


def test_a_secret_file_says_only_whether_it_matches(tmp_path):
    path = tmp_path / 'authkeys'
    path.write_text('auth 1\n1 sha1 secret-key-123456\n')
    digest = hashlib.sha1(b'auth 1\n1 sha1 secret-key-123456\n').hexdigest()
    assert node_state.file_state(str(path), expected_sha1=digest) == {
        'exists': True, 'type': 'file', 'mode': '%04o' % (os.stat(str(path)).st_mode & 0o7777),
        'owner': node_state._owner(os.getuid()), 'group': node_state._group(os.getgid()), 'matches': True}
    state = node_state.file_state(str(path), expected_sha1='0' * 40)
    assert state['matches'] is False and 'sha1' not in state and digest not in str(state)


def test_missing_files_links_and_directories(tmp_path):
    assert node_state.file_state(str(tmp_path / 'nothing')) == {'exists': False}
    (tmp_path / 'site.conf').write_text('x')
    os.symlink('../sites-available/site.conf', str(tmp_path / 'link'))
    link = node_state.file_state(str(tmp_path / 'link'))
    assert link['type'] == 'link' and link['target'] == '../sites-available/site.conf' and 'sha1' not in link
    assert node_state.file_state(str(tmp_path))['type'] == 'directory'


def test_packages_from_the_dpkg_status_file(tmp_path):
    status = tmp_path / 'status'
    status.write_text(
        'Package: heartbeat\nStatus: install ok installed\nVersion: 1:3.0.6-13\nDescription: x\n more text\n\n'
        'Package: apache2\nStatus: deinstall ok config-files\nVersion: 2.4.62-1\n\n'
        'Package: net-tools\nStatus: install ok installed\nVersion: 2.10-0.1\n')
    assert node_state.packages(['heartbeat', 'apache2', 'net-tools', 'pacemaker'], str(status)) == {
        'heartbeat': '1:3.0.6-13', 'apache2': None, 'net-tools': '2.10-0.1', 'pacemaker': None}
    assert node_state.packages(['heartbeat'], str(tmp_path / 'none')) == {'heartbeat': None}


def test_systemctl_show_is_parsed_per_unit():
    text = ('Id=heartbeat.service\nLoadState=loaded\nActiveState=active\nSubState=running\nUnitFileState=enabled\n'
            'MainPID=123\nExecStart={ path=/usr/libexec/heartbeat/heartbeat ; argv[]=/usr/libexec/heartbeat/heartbeat }\n'
            'ActiveEnterTimestampMonotonic=7250000\n\n'
            'Id=apache2.service\nLoadState=not-found\nActiveState=inactive\nSubState=dead\nUnitFileState=\nMainPID=0\n'
            'ExecStart=\nActiveEnterTimestampMonotonic=0\n')
    # Read at epoch 1000.5 with the monotonic clock at 10.0 s: heartbeat became active 2.75 s before, at 997.75.
    result = node_state.parse_systemctl_show(text, ['heartbeat', 'apache2'], (1000.5, 10.0))
    assert result['heartbeat']['active'] and result['heartbeat']['enabled'] and result['heartbeat']['main_pid'] == 123
    assert '/usr/libexec/heartbeat/heartbeat' in result['heartbeat']['exec_start']
    assert result['heartbeat']['active_since'] == 997.75
    assert result['apache2'] == {'exists': False, 'active': False, 'active_state': 'inactive', 'enabled': False,
                                 'unit_file_state': '', 'main_pid': 0, 'exec_start': '', 'active_since': None}
    # Without a clock (or a timestamp systemd does not give) there is no time to tell.
    assert node_state.parse_systemctl_show(text, ['heartbeat'])['heartbeat']['active_since'] is None
    assert node_state.parse_systemctl_show('ActiveEnterTimestampMonotonic=x\n', ['a'], (1.0, 1.0))['a']['active_since'] is None


def test_directories_and_blocks(tmp_path):
    (tmp_path / 'mods').mkdir()
    (tmp_path / 'mods' / 'proxy.load').write_text('')
    (tmp_path / 'mods' / 'alias.conf').write_text('')
    assert node_state.directories([str(tmp_path / 'mods'), str(tmp_path / 'none')]) == {
        str(tmp_path / 'mods'): ['alias.conf', 'proxy.load'], str(tmp_path / 'none'): None}
    hosts = tmp_path / 'hosts'
    hosts.write_text('# BEGIN pair\n198.51.100.11 loadb1\n198.51.100.12 loadb2\n# END pair\n127.0.0.1 localhost\n')
    assert node_state.block(str(hosts), '# BEGIN pair', '# END pair') == '198.51.100.11 loadb1\n198.51.100.12 loadb2'
    assert node_state.block(str(hosts), '# BEGIN other', '# END other') is None
    assert node_state.block(str(tmp_path / 'none'), '# BEGIN pair', '# END pair') is None
