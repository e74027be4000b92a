# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Maintenance of one node of a pair, on the node: the state file, and hapair-monitor's half of moving the VIP on
purpose (into and out of maintenance) without a gap.

The state file (STATE_FILE, /var/lib/hapair/maintenance) says the node is in maintenance: it is on disk, so it survives
a reboot, and whoever writes it (the maintenance_state module, or an operator with `touch`) needs nothing else.
hapair-monitor reads it at every check (Controller below) and acts; the engine's unit asks it before every start
(`hapair-monitor engine-gate`, an ExecCondition of the engine's drop-in), so a node in maintenance never takes the VIP
back when its engine starts (heartbeat v1 would, by its auto_failback, the moment it joins).

Make before break. Both engines release the VIP before the other node has it (heartbeat on a stop or hb_standby, keepalived
in FAULT: its priority 0 advert lets the backup take over only after its skew time): every request sent meanwhile is
lost. So a move on purpose goes the other way round, through the health pages the two monitors already read from each
other:

  entering (the holder):  it asks its peer to claim the VIP (`handover` on its page) -> the peer, if it can serve,
                          puts the VIP on itself and announces it (gratuitous ARP), and says so (`claim`) -> the holder
                          sees the claim on the wire (or on the page), serves what was sent to it a drain longer, then
                          stays out through the engine (Engine adapter stay_out(): heartbeat stopped, keepalived held
                          in FAULT by its tracked file) -> the peer's engine takes over a VIP that is already there
                          (heartbeat's IPaddr and keepalived both accept an address that is up).
  leaving (the preferred node, auto_failback, the peer holding): once healthy for `rises` checks it claims the VIP
                          itself, a drain later rejoins through the engine (heartbeat started: the peer's heartbeat
                          gives the VIP back; keepalived: rejoin_takes_over - VRRP preemption makes the new master
                          before the old one lets go, so no claim is needed), and waits until its engine holds the VIP.
  leaving otherwise:      rejoin, nothing moves.

A claim the engine does not take over within the budget (the pair's settle time) is taken back while the other node
still holds the VIP. A node in maintenance is never handed the VIP by its peer (hapair-monitor's peer_healthy()), and
keeps it when its peer cannot take it (`blocked`).

Python 3.8 and the standard library only; imports nothing from the collection (installed as a plain file next to
hapair-monitor, and shipped as module_utils to the maintenance_state module).
"""

from __future__ import annotations

import json
import os
import time

STATE_FILE = '/var/lib/hapair/maintenance'
SCHEMA = 'hapair.loadbalancer/maintenance/1'
# The marker that this node's engine is held out for maintenance (written by the monitor and by the engine's gate,
# removed once the node rejoined): in the monitor's runtime directory, so a reboot forgets it with the engine's state.
HELD_MARKER = 'engine-held'

# What hapair-monitor publishes in its page as maintenance.phase.
NORMAL = 'normal'        # not in maintenance, nothing on purpose under way
ENTERING = 'entering'    # in maintenance, holding the VIP, the peer asked to claim it
BLOCKED = 'blocked'      # in maintenance, holding the VIP, the peer cannot take it: kept
IN = 'in'                # in maintenance, not holding the VIP, the engine out of the pair
LEAVING = 'leaving'      # out of maintenance, rejoining (and taking the VIP back where it is preferred)
CLAIMING = 'claiming'    # not in maintenance, holding a VIP claimed on purpose until the engine takes it over
PHASES = (NORMAL, ENTERING, BLOCKED, IN, LEAVING, CLAIMING)


# --- the state file ------------------------------------------------------------------------------------------------

def read_state(path=STATE_FILE):
    """{since, reason, by} when the node is in maintenance (the file exists), else None. A file that cannot be read or
    parsed still means maintenance (whoever made it meant it): its time is the file's."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return {'since': None, 'reason': 'unreadable state file: %s' % exc, 'by': ''}
    doc = {}
    try:
        with open(path, encoding='utf-8') as handle:
            loaded = json.load(handle)
        if isinstance(loaded, dict):
            doc = loaded
    except (OSError, ValueError, UnicodeDecodeError):
        pass
    since = doc.get('since')
    if not isinstance(since, (int, float)) or isinstance(since, bool):
        since = stat.st_mtime
    return {'since': float(since), 'reason': str(doc.get('reason') or '')[:200], 'by': str(doc.get('by') or '')[:200]}


def write_state(path=STATE_FILE, reason='', by='', now=None):
    """Put the node in maintenance: the state file written atomically (a temporary file in the same directory,
    renamed), mode 0644, its directory made if missing. Returns what was written."""
    doc = {'schema': SCHEMA, 'since': round(time.time() if now is None else now, 3), 'reason': reason, 'by': by}
    directory = os.path.dirname(path) or '.'
    os.makedirs(directory, 0o755, exist_ok=True)
    tmp = os.path.join(directory, '.%s.%d.tmp' % (os.path.basename(path), os.getpid()))
    with open(tmp, 'w', encoding='utf-8') as out:
        json.dump(doc, out, sort_keys=True)
        out.write('\n')
        out.flush()
        os.fsync(out.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return {'since': doc['since'], 'reason': reason, 'by': by}


def clear_state(path=STATE_FILE):
    """Take the node out of maintenance; whether there was a state file to remove."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def held_marker(status_file):
    """The path of the marker that the engine is held out for maintenance, next to the monitor's status file."""
    return os.path.join(os.path.dirname(status_file) or '.', HELD_MARKER)


def mark_held(status_file, held):
    """Write (held) or remove the marker; errors are ignored (the marker only tells a later leave to rejoin)."""
    path = held_marker(status_file)
    try:
        if held:
            os.makedirs(os.path.dirname(path), 0o755, exist_ok=True)
            with open(path, 'w', encoding='ascii') as out:
                out.write('%d\n' % int(time.time()))
        elif os.path.exists(path):
            os.unlink(path)
    except OSError:
        pass


def is_held(status_file):
    return os.path.exists(held_marker(status_file))


def peer_can_take(peer, need_pings):
    """(bool, reason): whether the peer, as its page says, can be given the VIP on purpose - its monitor runs, its
    Apache answers, it reaches at least `need_pings` ping nodes, its engine runs, and it is not in maintenance."""
    if not peer.get('reachable'):
        return False, 'the peer cannot be reached (%s)' % '; '.join(peer.get('errors') or ['no link answers'])
    if not peer.get('fresh'):
        return False, "the peer's health page is stale: its monitor does not run"
    if peer.get('maintenance'):
        return False, 'the peer is in maintenance too'
    if not peer.get('apache_ok'):
        return False, "the peer's Apache fails its own check"
    if peer.get('ping_ok', 0) < need_pings:
        return False, 'the peer reaches %d ping nodes, needs %d' % (peer.get('ping_ok', 0), need_pings)
    if peer.get('engine') != 'running':
        return False, "the peer's engine is %s" % (peer.get('engine') or 'not running')
    return True, 'the peer is healthy'


# --- hapair-monitor's half -----------------------------------------------------------------------------------------

class Controller:
    """The maintenance state machine of one hapair-monitor.

    `monitor` is the hapair-monitor Monitor it serves, through these of its members only: cfg (node, peer, preferred,
    auto_failback, ping_nodes, rises, interval, release_drain, heal_window, status_file, maintenance_file), engine (the
    node_engine adapter), good (healthy checks in a row), healthy(), peer() (the peer's page), claim_vip(reason) and
    drop_vip(reason) (the VIP put on or taken off this node outside the engine), publish(), log(level, message,
    **fields) and decided(decision, reason, detail, moves) (the monitor's decisions, counted and notified).

    tick() runs at every check of the monitor, due() between checks when next_due() says so; on_claim_seen() when
    another MAC claims the VIP on the wire while this node holds it. tick() returns True when this controller owns the
    check (the monitor's own decisions are skipped: a move on purpose is under way, or the node is in maintenance).
    """

    def __init__(self, monitor, clock=time.monotonic):
        self.monitor = monitor
        self.cfg = monitor.cfg
        self.clock = clock
        self.path = self.cfg.get('maintenance_file') or STATE_FILE
        self.state = read_state(self.path)
        self.phase = NORMAL
        self.detail = ''
        self.request = None          # our hand-over request while entering: {'id', 'to', 'since'}
        self.claim = None            # our claim: {'id', 'purpose', 'since', 'rejoin_at', 'rejoined'}
        self.stay_out_at = None      # monotonic time to stay out (a drain after the peer claimed)
        self.stayed_out_at = None    # monotonic time we last asked the engine to stay out
        self.rejoined_at = None      # monotonic time we last asked the engine to rejoin
        self.leave_takes_vip = False  # leaving takes the VIP back (the preferred node, with auto_failback)
        self.answered = set()        # ids of the peer's requests already claimed
        self.peer_page = None        # the peer's page at the last read
        self.next_peer_read = 0.0
        self.last_note = None
        self.sequence = 0

    # -- what the monitor publishes and asks ------------------------------------------------------------------------

    @property
    def maintenance(self):
        return self.state is not None

    def page(self):
        """This node's maintenance, for its health page (the peer and verify read it)."""
        state = self.state or {}
        return {'maintenance': self.maintenance,
                'maintenance_state': {'phase': self.phase, 'detail': self.detail, 'since': state.get('since'),
                                      'reason': state.get('reason', ''), 'by': state.get('by', '')},
                'handover': dict((k, self.request[k]) for k in ('id', 'to')) if self.request else None,
                'claim': dict((k, self.claim[k]) for k in ('id', 'purpose')) if self.claim else None}

    def peer_in_maintenance(self):
        """Whether the peer's page said so when it was last read: its engine is out of the pair on purpose (heartbeat
        declares it dead), so there is no healed partition to watch for."""
        return bool((self.peer_page or {}).get('maintenance'))

    def next_due(self):
        times = [t for t in (self.stay_out_at, self.claim and self.claim.get('rejoin_at')) if t is not None]
        return min(times) if times else None

    # -- helpers --------------------------------------------------------------------------------------------------

    def _set(self, phase, detail, level='info'):
        if (phase, detail) != (self.phase, self.detail):
            self.phase, self.detail = phase, detail
            self.monitor.log(level, 'maintenance: %s: %s' % (phase, detail))

    def _note(self, level, message):
        """Log a reason for waiting once per change."""
        if message != self.last_note:
            self.monitor.log(level, message)
            self.last_note = message

    def _new_id(self):
        self.sequence += 1
        return '%s-%d-%d' % (self.cfg['node'], int(time.time()), self.sequence)

    def _need_pings(self):
        return 1 if self.cfg.get('ping_nodes') else 0

    def _budget(self):
        return max(float(self.cfg.get('heal_window') or 0), 10.0)

    def _drain(self):
        return float(self.cfg.get('release_drain', 0.3))

    def _read_peer(self, now, force=False):
        """The peer's page, at most once a check; while the peer cannot be read, every 5 s only (each try waits for
        the timeout on every link)."""
        if force or now >= self.next_peer_read or self.peer_page is None:
            self.peer_page = self.monitor.peer()
            self.next_peer_read = now + (self.cfg['interval'] * 0.5 if self.peer_page.get('reachable') else 5.0)
        return self.peer_page

    def _engine_holds(self):
        engine = self.monitor.engine
        return engine.holds_resources(engine.state(self.cfg.get('peer'))) is True

    def _stay_out(self, why):
        engine = self.monitor.engine
        rc, out = engine.stay_out()
        self.stayed_out_at = self.clock()
        mark_held(self.cfg['status_file'], True)
        self.monitor.decided('stay_out', 'maintenance', why, moves='lose')
        self.monitor.log('notice' if rc == 0 else 'error', 'stay_out finished', rc=rc, output=out)

    def _rejoin(self, why):
        rc, out = self.monitor.engine.rejoin()
        self.rejoined_at = self.clock()
        self.monitor.decided('rejoin', 'maintenance_left', why)
        self.monitor.log('notice' if rc == 0 else 'error', 'rejoin finished', rc=rc, output=out)
        return rc == 0

    def _claim(self, now, request_id, purpose, why):
        self.claim = {'id': request_id, 'purpose': purpose, 'since': now, 'rejoin_at': None, 'rejoined': False}
        self.monitor.decided('claim', purpose, why, moves='gain')
        self.monitor.claim_vip(purpose)
        self._set(CLAIMING if purpose == 'peer_maintenance' else LEAVING, why)
        self.monitor.publish()

    # -- every check ----------------------------------------------------------------------------------------------

    def tick(self, holds, now):
        self.state = read_state(self.path)
        if self.claim is not None:
            return self._tick_claim(holds, now)
        if self.maintenance:
            return self._tick_maintenance(holds, now)
        if self.phase in (ENTERING, BLOCKED, IN, LEAVING) or is_held(self.cfg['status_file']):
            return self._tick_leave(holds, now)
        if holds is False:
            return self._watch_peer(now)
        return False

    def _tick_maintenance(self, holds, now):
        """In maintenance: hand the VIP over if it is here, then stay out of the pair."""
        if holds is None:
            return True
        if not holds:
            self.request = None
            self.stay_out_at = None
            if not self.monitor.engine.staying_out():
                if self.stayed_out_at is None or now - self.stayed_out_at >= self._budget():
                    self._stay_out('in maintenance; the VIP is not here')
                return True
            mark_held(self.cfg['status_file'], True)
            self._set(IN, 'out of the pair: the VIP stays off this node until it leaves maintenance', level='notice')
            return True
        if self.stay_out_at is not None:
            return True  # the peer claimed: staying out after the drain (due())
        if self.stayed_out_at is not None and now - self.stayed_out_at < self._budget():
            return True  # stayed out already: the engine is letting the VIP go
        peer = self._read_peer(now, force=self.request is not None)
        ok, why = peer_can_take(peer, self._need_pings())
        if not ok:
            if self.request is not None:
                self.monitor.log('warning', 'maintenance: withdrawing the hand-over request: %s' % why)
                self.request = None
            if self.phase != BLOCKED:
                self.monitor.decided('keep', 'maintenance_blocked', 'in maintenance but keeping the VIP: %s' % why)
            self._set(BLOCKED, 'keeps the VIP: %s' % why, level='warning')
            return True
        claim = peer.get('claim') or {}
        if self.request is not None and claim.get('id') == self.request['id']:
            # The peer holds the VIP now and announced it: clients send to it; serve what was sent here a drain longer.
            self.stay_out_at = now + self._drain()
            return True
        if self.request is None or now - self.request['since'] > self._budget():
            if self.request is not None:
                self.monitor.log('warning', 'maintenance: the peer did not claim the VIP within %d s; asking again'
                                 % self._budget())
            self.request = {'id': self._new_id(), 'to': self.cfg['peer'], 'since': now}
            self.monitor.decided('handover', 'maintenance', 'in maintenance: asking %s to claim the VIP (%s)'
                                 % (self.cfg['peer'], why))
            self._set(ENTERING, 'asked %s to claim the VIP' % self.cfg['peer'], level='notice')
            self.monitor.publish()
        return True

    def on_claim_seen(self, now):
        """Another MAC claimed the VIP on the wire while this node holds it."""
        if self.maintenance and self.request is not None and self.stay_out_at is None and self.stayed_out_at is None:
            self.stay_out_at = now + self._drain()
            self.monitor.log('info', 'maintenance: the peer announced the VIP; staying out in %s s' % self._drain())

    def due(self, now):
        if self.stay_out_at is not None and now >= self.stay_out_at:
            self.stay_out_at = None
            if self.maintenance:
                self._stay_out('in maintenance; %s claimed the VIP' % self.cfg['peer'])
                self.monitor.publish()
        claim = self.claim
        if claim is not None and claim.get('rejoin_at') is not None and now >= claim['rejoin_at']:
            claim['rejoin_at'] = None
            claim['rejoined'] = True
            self._rejoin('left maintenance: rejoining with the VIP claimed here')

    def _watch_peer(self, now):
        """Not holding the VIP and not in maintenance: does the peer ask this node to claim it?"""
        peer = self._read_peer(now)
        request = peer.get('handover') if peer.get('reachable') and peer.get('fresh') else None
        if not request or request.get('to') != self.cfg['node'] or request.get('id') in self.answered:
            return False
        problem = None
        if not self.monitor.healthy():
            problem = 'this node is not healthy'
        else:
            engine = self.monitor.engine.state(self.cfg.get('peer'))
            if not engine.get('running'):
                problem = 'its engine does not run here'
            elif engine.get('peer') != 'active' or engine.get('transition'):
                problem = 'its engine here is not ready (peer %s%s)' % (
                    engine.get('peer'), ', in transition' if engine.get('transition') else '')
        if problem:
            self._note('warning', 'maintenance: the peer asks this node to claim the VIP, but %s' % problem)
            return False
        self.answered.add(request['id'])
        self._claim(now, request['id'], 'peer_maintenance', '%s is in maintenance and asked this node to claim '
                    'the VIP' % self.cfg['peer'])
        return True

    def _tick_claim(self, holds, now):
        """A VIP claimed on purpose: done once the engine holds it; taken back if the engine does not take it over
        within the budget while the other node still holds it."""
        claim = self.claim
        if claim['purpose'] == 'maintenance_left' and not claim['rejoined']:
            return True  # rejoining after the drain (due())
        if holds and self._engine_holds():
            self.monitor.log('notice', 'the engine holds the VIP claimed here (%s) after %.1f s'
                             % (claim['purpose'], now - claim['since']))
            self.claim = None
            if claim['purpose'] == 'maintenance_left':
                mark_held(self.cfg['status_file'], False)
            self._set(NORMAL, 'the engine holds the VIP')
            return False
        peer = self._read_peer(now, force=True)
        if claim['purpose'] == 'peer_maintenance':
            request = peer.get('handover') or {}
            if peer.get('reachable') and peer.get('holds_vip') and request.get('id') != claim['id']:
                self._abort(holds, 'the peer withdrew its request and still holds the VIP')
                return False
        if now - claim['since'] <= self._budget():
            return True
        if holds and peer.get('reachable') and peer.get('holds_vip'):
            self._abort(holds, 'the engine did not take the VIP over within %d s and the peer still holds it'
                        % self._budget())
            return False
        self.monitor.log('warning', 'the engine has not taken over the VIP claimed here within %d s; keeping it'
                         % self._budget(), purpose=claim['purpose'], holds=holds)
        self.claim = None
        if claim['purpose'] == 'maintenance_left':
            mark_held(self.cfg['status_file'], False)
        self._set(NORMAL, 'the claim ended without the engine')
        return False

    def _abort(self, holds, why):
        self.monitor.log('warning', 'taking back the VIP claimed here: %s' % why)
        purpose = self.claim['purpose']
        self.claim = None
        if holds:
            self.monitor.decided('release', 'claim_aborted', why, moves='lose')
            self.monitor.drop_vip('claim_aborted')
        if purpose == 'maintenance_left':
            mark_held(self.cfg['status_file'], False)
        self._set(NORMAL, why, level='warning')

    def _tick_leave(self, holds, now):
        """Out of maintenance again: rejoin, and take the VIP back without a gap where the engine would."""
        if self.phase != LEAVING:
            self.request = None
            self.stay_out_at = None
            self.stayed_out_at = None
            self._set(LEAVING, 'left maintenance', level='notice')
        engine = self.monitor.engine
        if not engine.staying_out():
            waited = self.rejoined_at is not None and now - self.rejoined_at < self._budget()
            if waited and not (self._engine_ready() and (holds or not self.leave_takes_vip)):
                return True  # the engine is starting, or taking the VIP back
            mark_held(self.cfg['status_file'], False)
            self.rejoined_at = None
            self.leave_takes_vip = False
            self._set(NORMAL, 'rejoined the pair%s' % (' with the VIP' if holds else ''))
            return False
        if self.rejoined_at is not None and now - self.rejoined_at < self._budget():
            return True
        peer = self._read_peer(now, force=True)
        wants = (self.cfg['node'] == self.cfg.get('preferred') and self.cfg.get('auto_failback', True)
                 and peer.get('reachable') and peer.get('fresh') and peer.get('holds_vip')
                 and not peer.get('maintenance') and holds is False)
        if not wants:
            self._rejoin('left maintenance')
            return True
        if not (self.monitor.healthy() and self.monitor.good >= self.cfg['rises']):
            self._set(LEAVING, 'left maintenance; waiting to be healthy for %d checks before taking the VIP back'
                      % self.cfg['rises'])
            return True
        self.leave_takes_vip = True
        if getattr(engine, 'rejoin_takes_over', False):
            self._rejoin('left maintenance: the engine takes the VIP back before the peer lets it go')
            return True
        self._claim(now, self._new_id(), 'maintenance_left', 'left maintenance: the preferred node claims the VIP '
                    'before its engine rejoins')
        self.claim['rejoin_at'] = now + self._drain()
        return True

    def _engine_ready(self):
        state = self.monitor.engine.state(self.cfg.get('peer'))
        return bool(state.get('running'))
