# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The engines as seen from a node: read the engine's state, hand the VIP over, take it back, release it.

The node-side half of the engine contract (engine.py is the controller's half, whose monitor_settings() say what
goes into `settings` here). Used by hapair-monitor on the nodes (the monitor role installs this file next to it)
and by the engine_state module. Python 3.8 and the standard library only, no import of the collection: it runs as
a plain file on the nodes.
"""

from __future__ import annotations

import os
import re
import subprocess


def run(argv, timeout):
    """(returncode, output) of a command, killed after timeout; (None, reason) if it could not run or timed out."""
    try:
        # hapair-monitor's node library runs no AnsibleModule (so no run_command): ansible-test's check is for modules
        out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False,  # pylint: disable=ansible-bad-function
                             stdin=subprocess.DEVNULL)
        return out.returncode, (out.stdout.strip() or out.stderr.strip())
    except subprocess.TimeoutExpired:
        return None, 'timed out after %s s' % timeout
    except OSError as exc:
        return None, str(exc)


class EngineState(dict):
    """{'running': bool, 'peer': 'active' | 'dead' | ... | None, 'transition': bool, 'resources': str | None}."""

    @property
    def whole(self):
        """The engine runs, sees its peer alive and nothing is moving."""
        return bool(self.get('running')) and self.get('peer') == 'active' and not self.get('transition')


def add_vip(vip, prefix, interface, label=None, timeout=5.0):
    """Put the VIP on an interface (iproute2), with an `eth0:0` style label by default (as heartbeat's IPaddr
    agent does, so that the agent finds it running). (returncode, output)."""
    argv = ['ip', '-4', 'addr', 'add', '%s/%s' % (vip, prefix), 'dev', interface]
    if label is not False:
        argv += ['label', label or '%s:0' % interface]
    return run(argv, timeout)


def delete_vip(vip, prefix, interface, timeout=5.0):
    """Take the VIP off an interface (iproute2). (returncode, output)."""
    return run(['ip', '-4', 'addr', 'del', '%s/%s' % (vip, prefix), 'dev', interface], timeout)


def holds_address(address, timeout=5.0):
    """Whether an interface of this host has the address (iproute2)."""
    rc, out = run(['ip', '-4', '-o', 'addr', 'show', 'to', '%s/32' % address], timeout)
    return rc == 0 and bool(out.strip())


def unit_state(unit, timeout=5.0):
    """What systemd says of a unit: active, activating, deactivating, inactive, failed ... or None."""
    dummy, out = run(['systemctl', 'is-active', unit], timeout)
    return out.split('\n', 1)[0].strip() or None


class HeartbeatNode:
    """heartbeat v1: cl_status for the state, hb_standby and hb_takeover for the hand-over (they write to
    heartbeat's FIFO, which blocks while heartbeat is down: every command has a timeout).

    A healed partition (a node frozen past deadtime and thawed, a network split that heals): heartbeat logs
    "Cluster node X returning after partition", then both nodes give their resources up and restart heartbeat
    (by exec: the unit stays active while its API is down, for about deadtime). heal_event() recognises the line in
    heartbeat's log (log_command() follows it), status() the restart."""

    # heartbeat 3.0's message (heartbeat.c, healed_cluster_partition), its last release: it does not change.
    HEAL = 'returning after partition'
    # A node whose heartbeat declared its peer dead gives everything up and restarts when it hears the peer again.
    restarts_after_partition = True

    def __init__(self, settings, timeout=10.0):
        self.settings = settings
        self.timeout = timeout

    def status(self):
        """'running' (its API answers), 'restarting' (its unit is active but its API does not answer: heartbeat
        restarting itself) or 'stopped'."""
        if unit_state(self.settings.get('service', 'heartbeat')) != 'active':
            return 'stopped'
        rc, dummy = self._cl('hbstatus')
        return 'running' if rc == 0 else 'restarting'

    def log_command(self):
        """A command that prints heartbeat's log lines as they come (the journal: heartbeat's syslog identifier)."""
        return ['journalctl', '--follow', '--lines=0', '--output=cat',
                '--identifier=%s' % self.settings.get('log_identifier', 'heartbeat')]

    def heal_event(self, line):
        """Whether a line of heartbeat's log says a partition healed."""
        return self.HEAL in line

    def _cl(self, *args):
        return run([self.settings.get('cl_status', '/usr/bin/cl_status')] + list(args), self.timeout / 2)

    def state(self, peer):
        rc, dummy = self._cl('hbstatus')
        if rc != 0:
            return EngineState(running=False, peer=None, transition=False, resources=None)
        dummy, resources = self._cl('rscstatus')
        dummy, peer_status = self._cl('nodestatus', peer) if peer else (None, None)
        return EngineState(running=True, peer=peer_status, transition=resources == 'transition', resources=resources)

    def peer_declared_dead(self, peer):
        """Whether heartbeat declared the peer dead: nodestatus alone (the holder asks at every check; the whole
        state() is three cl_status processes where this is one). cl_status prints the status and exits 0 for
        'active', 'up' or 'ping' and 1 (NORMAL_FAIL) for any other, 'dead' among them (tools/cl_status.c, nodestatus);
        1 with nothing printed is a heartbeat that does not answer (its sign-on failed), which declared nothing."""
        rc, status = self._cl('nodestatus', peer) if peer else (None, None)
        return rc == 1 and status == 'dead'

    def holds_resources(self, state):
        """Whether the engine thinks this node holds the VIP (None: cannot tell)."""
        if not state.get('running'):
            return None
        return state.get('resources') in ('all', 'local', 'foreign')

    def give_up(self):
        return run([self.settings.get('hb_standby', '/usr/share/heartbeat/hb_standby'), 'all'], self.timeout)

    def take_back(self):
        return run([self.settings.get('hb_takeover', '/usr/share/heartbeat/hb_takeover'), 'local'], self.timeout)

    def given_up(self):
        """heartbeat keeps nothing held back: hb_standby moved the VIP, and that is all."""
        return False

    def silence(self, vip, timeout=5.0):
        """Stop heartbeat's own gratuitous ARPs for the VIP on this node (IPaddr's send_arp repeats them in the
        background for seconds after a takeover): after the monitor let the VIP go here, they would send clients back
        to this node. The number of processes stopped."""
        pattern = r'send_arp .*%s( |$)' % re.escape(vip)
        dummy, out = run(['pgrep', '-f', pattern], timeout)
        found = [line for line in out.split('\n') if line.strip().isdigit()]
        if found:
            run(['pkill', '-f', pattern], timeout)
        return len(found)

    # -- maintenance (node_maintenance.py) ------------------------------------------------------------------------
    # A node in maintenance runs no heartbeat: heartbeat v1 gives a returning node its resources back the moment it
    # joins (auto_failback), so the unit's gate keeps it from starting (gate()), and a clean stop hands the VIP over
    # (heartbeat releases it and tells the peer, which takes it: already there when the peer claimed it first).
    # Rejoining starts heartbeat, and the peer's heartbeat gives the VIP back only after this node has it: no
    # make-before-break of its own, hence the claim first (rejoin_takes_over False).
    rejoin_takes_over = False

    def _service(self, action):
        # --no-block: the monitor never waits for heartbeat's stop (which releases its resources) or start.
        return run(['systemctl', action, '--no-block', self.settings.get('service', 'heartbeat')], self.timeout)

    def stay_out(self):
        """Leave the pair for maintenance: stop heartbeat (a clean stop hands the VIP over)."""
        return self._service('stop')

    def rejoin(self):
        """Take part again after maintenance: start heartbeat."""
        return self._service('start')

    def staying_out(self):
        """Whether heartbeat is out of the pair (its unit neither runs nor starts)."""
        return unit_state(self.settings.get('service', 'heartbeat')) in ('inactive', 'failed', None)

    def gate(self, maintenance):
        """Whether heartbeat may start now (its unit's ExecCondition): not while the node is in maintenance."""
        return not maintenance

    @staticmethod
    def release_commands(text, resource_dir='/etc/ha.d/resource.d', init_dir='/etc/init.d'):
        """The commands that stop every resource of haresources, in reverse order (as heartbeat's ResourceManager
        would): IPaddr::198.51.100.10/26/eth0 -> [resource_dir/IPaddr, 198.51.100.10/26/eth0, stop]."""
        commands = []
        for dummy_node, resources in haresources_lines(text):
            for resource in reversed(resources):
                agent, dummy_sep, args = resource.partition('::')
                path = os.path.join(resource_dir, agent)
                if not os.path.exists(path):
                    path = os.path.join(init_dir, agent)
                commands.append((resource, [path] + [arg for arg in args.split('::') if arg] + ['stop']))
        return commands

    def release(self, log, haresources='/etc/ha.d/haresources', **dummy_vip):
        """After an unclean stop: stop every resource of haresources on this node with heartbeat's own agents."""
        try:
            with open(haresources, encoding='utf-8') as handle:
                text = handle.read()
        except OSError as exc:
            log('error', 'cannot read haresources', error=str(exc))
            return
        for resource, argv in self.release_commands(text):
            rc, out = run(argv, 30)
            log('notice' if rc == 0 else 'error', 'stop ' + resource, rc=rc, output=out.splitlines()[-1] if out else '')


def haresources_lines(text):
    """[(node, [resource, ...])] of a haresources file: comments dropped, '\\' continues a line."""
    joined = re.sub(r'\\\n', ' ', text)
    result = []
    for line in joined.splitlines():
        words = line.split('#', 1)[0].split()
        if words:
            result.append((words[0], words[1:]))
    return result


class KeepalivedNode:
    """keepalived (VRRP): its state from the file its notify script writes (MASTER, BACKUP, FAULT, STOP); the
    hand-over through the file it tracks (vrrp_track_file, weight 0): 1 puts the instance in FAULT, which releases
    the VIP (and, from the master, sends a priority 0 advert, so the backup takes over at once), 0 lifts it. VRRP
    settles two masters itself (the higher priority stays), and a keepalived that restarts keeps its VIP."""

    restarts_after_partition = False

    def __init__(self, settings, timeout=10.0):
        self.settings = settings
        self.timeout = timeout

    def _read(self, key):
        try:
            with open(self.settings[key], encoding='ascii') as handle:
                return handle.read().strip()
        except (OSError, KeyError, UnicodeDecodeError):
            return None

    def vrrp_state(self):
        """MASTER, BACKUP, FAULT or STOP as keepalived last said; without its word (the file is gone), what the
        kernel and the tracked file say: MASTER with the VIP, FAULT when held back, else BACKUP."""
        said = self._read('state_file')
        if said in ('MASTER', 'BACKUP', 'FAULT', 'STOP'):
            return said
        if self.settings.get('vip') and holds_address(self.settings['vip']):
            return 'MASTER'
        return 'FAULT' if self.given_up() else 'BACKUP'

    def status(self):
        return 'running' if unit_state(self.settings.get('service', 'keepalived')) == 'active' else 'stopped'

    def state(self, peer):
        """The engine's view: VRRP keeps no state of the peer, so 'peer' is 'active' while this node takes part (it
        is MASTER or BACKUP) and the VRRP state in lower case otherwise; the peer's own health is its page's."""
        if self.status() != 'running':
            return EngineState(running=False, peer=None, transition=False, resources=None)
        vrrp = self.vrrp_state()
        return EngineState(running=True, peer='active' if vrrp in ('MASTER', 'BACKUP') else (vrrp or 'unknown').lower(),
                           transition=vrrp is None, resources=vrrp)

    def peer_declared_dead(self, peer):  # pylint: disable=unused-argument
        """VRRP declares no peer dead: a BACKUP that hears no advert becomes MASTER, and no restart follows."""
        return False

    def holds_resources(self, state):
        if not state.get('running'):
            return None
        return state.get('resources') == 'MASTER'

    def _track(self, value):
        path = self.settings['track_file']
        try:
            directory = os.path.dirname(path)
            if directory and not os.path.isdir(directory):
                os.makedirs(directory, 0o755)
            with open(path + '.tmp', 'w', encoding='ascii') as out:
                out.write('%d\n' % value)
            os.chmod(path + '.tmp', 0o644)
            os.replace(path + '.tmp', path)
        except OSError as exc:
            return 1, str(exc)
        return 0, ''

    def give_up(self):
        return self._track(1)

    def take_back(self):
        return self._track(0)

    def silence(self, vip, timeout=5.0):
        """keepalived announces only as MASTER: nothing of its own to stop once the VIP left."""
        return 0

    def given_up(self):
        """Whether the tracked file holds this node back (the monitor gave the VIP up, or maintenance)."""
        return self._read('track_file') not in (None, '', '0')

    # -- maintenance (node_maintenance.py) ------------------------------------------------------------------------
    # A node in maintenance keeps keepalived running, held in FAULT by the tracked file (which its gate writes before
    # every start, so it never becomes master at boot). Rejoining lifts it: VRRP preemption makes the preferred node
    # master, and only its advert makes the other let the VIP go - make before break (rejoin_takes_over).
    rejoin_takes_over = True

    def stay_out(self):
        """Leave the pair for maintenance: FAULT (a master releases the VIP with a priority 0 advert)."""
        return self._track(1)

    def rejoin(self):
        """Take part again after maintenance."""
        return self._track(0)

    def staying_out(self):
        return self.given_up()

    def gate(self, maintenance):
        """Before keepalived starts (its unit's ExecCondition): on a node in maintenance, hold it in FAULT from its
        first advert on. It always may start."""
        if maintenance:
            self._track(1)
        return True

    def release(self, log, vip=None, prefix=None, interface=None):
        """After an unclean stop (SIGKILL, a crash): keepalived left the VIP on the interface; take it off."""
        if not (vip and interface):
            log('error', 'cannot release the VIP: the monitor settings do not name it')
            return
        rc, out = delete_vip(vip, prefix, interface)
        log('notice' if rc == 0 else 'info', 'release the VIP', rc=rc, output=out)

    def log_command(self):
        return None

    def heal_event(self, line):
        return False

    @staticmethod
    def config_test(path, timeout=30.0):
        """(ok, messages) of keepalived's own check of a configuration file. keepalived 2.2 kills its process group
        when its test ends and exits 143 whatever it found, so it runs in a session of its own and what it logs is
        the verdict: nothing, the file is good."""
        import tempfile  # pylint: disable=import-outside-toplevel
        with tempfile.NamedTemporaryFile('r', prefix='keepalived-test-', suffix='.log', encoding='utf-8') as log_file:
            try:
                # hapair-monitor's node library runs no AnsibleModule (so no run_command): ansible-test's check is for modules
                proc = subprocess.run(['keepalived', '--config-test=%s' % log_file.name, '-f', path],  # pylint: disable=ansible-bad-function
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                      timeout=timeout, check=False, start_new_session=True)
            except (OSError, subprocess.TimeoutExpired) as exc:
                return False, [str(exc)]
            messages = [line for line in log_file.read().splitlines() if line.strip()]
        if proc.returncode not in (0, 143, -15):
            messages.append('keepalived --config-test exited %s: %s' % (proc.returncode, proc.stdout.strip()))
        return not messages, messages


ADAPTERS = {'heartbeat': HeartbeatNode, 'keepalived': KeepalivedNode}


def adapter(settings, timeout=10.0):
    """The node-side adapter of the engine that settings['engine'] names; ValueError for an unknown one."""
    try:
        factory = ADAPTERS[settings['engine']]
    except KeyError:
        raise ValueError('unknown engine %r; expected one of %s'
                         % (settings.get('engine'), ', '.join(sorted(ADAPTERS)))) from None
    return factory(settings, timeout)
