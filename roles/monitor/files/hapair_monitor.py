# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hapair-monitor: move the VIP of a pair away from a node that cannot serve the site, on every engine.

Installed by the monitor role of hapair.loadbalancer as /usr/local/sbin/hapair-monitor, with its library in
/usr/local/lib/hapair (the collection's own vip_check_kernel.py, vip_check_arp.py and node_engine.py: the same code
as the vip_check module, one source), run by hapair-monitor.service; `hapair-monitor release` is the engines'
ExecStopPost (see release()), and `hapair-monitor supervise` heartbeat's ExecStart, which keeps heartbeat's restarts by exec
under systemd's eye (see node_supervise.py).

Runs on both nodes of a pair (a systemd service), stdlib only, Python 3.8 or later. Every `interval`
seconds it

  * asks the local Apache for a page Apache serves itself (never proxied) with a deadline of `timeout`
    seconds: a stopped, crashed, hung or wedged Apache fails the check, a backend outage does not;
  * pings the `ping_nodes` (typically the router of the VIP's network) from the VIP's interface, bound
    to it (SO_BINDTODEVICE), so a route through another link cannot answer for a lost one;
  * writes what it found to `status_file`, which Apache serves as the health page: the peer reads it
    (over the private link first) and so learns in one request that this node's Apache answers and
    how many ping nodes this node reaches.

Decisions (each one is logged, to the journal through stdout):

  * give up: this node holds the VIP (kernel view, netlink), has been unhealthy `fails` checks in a row
    (Apache failed, or it reaches fewer ping nodes than its peer), and the peer is healthy (its Apache
    answered our request, its page is fresh, its own Apache check passed, it reaches at least one ping
    node and no fewer than we do) and the engine sees it alive: the engine's hand-over (heartbeat's
    hb_standby). When both nodes are unhealthy nothing moves.
  * take back (auto_failback): this node is the preferred node, holds nothing (kernel and engine),
    has been healthy `rises` checks in a row, reaches no fewer ping nodes than the peer, the engine sees
    the peer alive, and that has lasted `failback_delay` seconds (the engine's own auto_failback acts
    first where it does) and `holddown` seconds have passed since this node last gave up (no ping-pong
    with a flapping Apache): the engine's take-back (heartbeat's hb_takeover). A hand-over leaves the VIP on
    the peer for good, auto_failback notwithstanding, so the engine never brings it back by itself.

The engine's commands run with a timeout each (hb_standby writes to heartbeat's FIFO, which blocks while
heartbeat is down), and only while the engine runs.

Operations (each in a module of the node library, wired in here by a few calls):

  * maintenance (node_maintenance.Controller): while /var/lib/hapair/maintenance exists the node hands the VIP over
    without a gap (the peer claims it first) and stays out of the pair through the engine; it is never handed the VIP;
    leaving, the preferred node takes it back, again without a gap. `hapair-monitor engine-gate` is the engine
    unit's ExecCondition: a node in maintenance does not start heartbeat, and starts keepalived held in FAULT;
  * metrics (node_telemetry.Telemetry): the node's state, every decision and every VIP transition with its reason,
    in Prometheus' text format for node_exporter's textfile collector (`metrics_file`), written atomically;
  * notifications (node_telemetry.Notifier): `notify_command` runs on every decision and VIP transition, in a thread
    of its own, with a timeout, after the monitor acted.
"""

from __future__ import annotations

import argparse
import email.utils
import errno
import json
import os
import queue
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

# The node library (installed by the monitor role; a checkout's plugins/module_utils in the unit tests).
LIBRARY = '/usr/local/lib/hapair'
if os.path.isdir(LIBRARY) and LIBRARY not in sys.path:
    sys.path.insert(0, LIBRARY)

import node_engine  # noqa: E402  # pylint: disable=wrong-import-position,import-error
import node_maintenance  # noqa: E402  # pylint: disable=wrong-import-position,import-error
import node_supervise  # noqa: E402  # pylint: disable=wrong-import-position,import-error
import node_telemetry  # noqa: E402  # pylint: disable=wrong-import-position,import-error
import vip_check_arp  # noqa: E402  # pylint: disable=wrong-import-position,import-error
import vip_check_kernel  # noqa: E402  # pylint: disable=wrong-import-position,import-error

DEFAULTS = {
    'node': None,                  # this node's heartbeat name (uname -n)
    'peer': None,                  # the peer's heartbeat name
    'preferred': None,             # the preferred node's name
    'auto_failback': True,
    'vip': None,
    'vip_interface': None,
    'port': 80,
    'health_path': '/hapair-health',
    'peer_addresses': [],          # the peer's link addresses, the one to try first first (private link)
    'interval': 1.0,
    'timeout': 1.0,
    'fails': 3,
    'rises': 3,
    'failback_delay': 5.0,
    'holddown': 10.0,
    'ping_nodes': [],
    'ping_timeout': 0.5,
    'reannounce': True,            # re-announce the VIP after another node claimed it (gratuitous ARP)
    'reannounce_window': 30.0,     # how long after such a claim to wait for the other node to let go
    'stale_after': 0.0,            # 0: 3 * interval + timeout + 2
    'status_file': '/run/hapair/health.json',
    'action_timeout': 10.0,
    'vip_prefix': 32,
    'engine': {'engine': 'heartbeat'},  # the engine contract's monitor settings (engine.py: monitor_settings)
    'heal_window': 60.0,           # how long after a healed partition one holder is kept through the engine's restart
    'release_drain': 0.3,          # seconds the other node keeps serving after the preferred node's announcement
    'release_wait': 3.0,           # the longest it waits for that announcement before it lets the VIP go anyway
    'probe_interval': 0.25,        # how often a holder whose engine declared the peer dead reads the peer's page
    'probe_timeout': 0.3,          # how long such a read may take per link (the peer may be gone for good)
    # A takeover declined (heartbeat's VIP agent, hapair-vip): the lease the other node writes in a healed partition's
    # window while it sees the preferred node hold the VIP and serve, how long each lasts, the agent's record that it
    # declined, and how long the preferred node may stop holding or serving before this node takes the VIP after all.
    'defer_file': '/run/hapair/defer-takeover',
    'defer_lease': 1.0,
    'declined_file': '/run/hapair/declined',
    'declined_grace': 2.0,
    # The preferred node's lease for the same agent in that window: while it holds the VIP and is healthy, the agent
    # declines the stop of the engine's own restart after the partition (keep_through_restart), and how long each
    # lasts (past the next check: a check every interval, up to timeout + ping_timeout long on a loaded node).
    'keep_file': '/run/hapair/keep-vip',
    'keep_lease': 3.0,
    # How long no node may hold the VIP, this node preferred and healthy, before it takes the VIP itself (an engine
    # that restarts after a partition, whose restart can hang: heartbeat); 0: heal_window, which the monitor role sets
    # to the pair's settle time: the engine acts first wherever it can (detection plus hand-over is too short: with the
    # fast timers no node holds a killed heartbeat's VIP for up to 2.6 s under load, against 2.9 s for those two).
    'rescue_after': 0.0,
    # Operations (node_maintenance.py, node_telemetry.py): maintenance, metrics, notifications.
    'pair': 'default',             # the pair's name, a label of every metric and notification
    'maintenance_file': '/var/lib/hapair/maintenance',
    'metrics_file': '',            # node_exporter's textfile collector file; '' for none
    'notify_command': '',          # run on every decision and VIP transition; '' for none
    'notify_timeout': 10.0,
}

# An announcement of the VIP by another node seen this recently counts as the preferred node's announcement when this
# node decides to let the VIP go (it may come just before the decision).
CLAIM_FRESH = 1.0

LEVELS = {'debug': 7, 'info': 6, 'notice': 5, 'warning': 4, 'error': 3}
VERBOSE = False


def log(level, message, **fields):
    """One line to stdout with a syslog level prefix (journald reads it); fields as key=value."""
    if level == 'debug' and not VERBOSE:
        return
    extra = ''.join(' %s=%s' % (key, json.dumps(value) if not isinstance(value, (int, float)) else value)
                    for key, value in fields.items())
    sys.stdout.write('<%d>%s%s\n' % (LEVELS[level], message, extra))
    sys.stdout.flush()


def sd_notify(message):
    """sd_notify(3) without libsystemd: a datagram to $NOTIFY_SOCKET, if any."""
    path = os.environ.get('NOTIFY_SOCKET')
    if not path:
        return
    if path.startswith('@'):
        path = '\0' + path[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(path)
            sock.sendall(message.encode())
    except OSError:
        pass


# --- ICMP echo from the VIP's interface -------------------------------------------------------------

def holds_vip(vip):
    """Whether the VIP is on one of this host's interfaces (the kernel's view, rtnetlink)."""
    return any(address['address'] == vip for interface in vip_check_kernel.read_interfaces()
               for address in interface['addresses'])


def write_file(path, text):
    """Write a file readable by all, atomically: a reader sees the old content or the new, never a part."""
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as out:
        out.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def write_lease(path, seconds):
    """A lease for the engine's VIP agent (hapair-vip): its end, in milliseconds since the epoch, `seconds` on. Whether
    it was written (an error is logged)."""
    try:
        write_file(path, '%d\n' % int((time.time() + seconds) * 1000))
        return True
    except OSError as exc:
        log('error', "cannot write the lease for the engine's VIP agent", lease=path, error=str(exc))
        return False


def end_lease_file(path):
    """End a lease for the engine's VIP agent now: whether there was one to end (an error is logged, and counts as
    none ended)."""
    try:
        os.remove(path)
        return True
    except FileNotFoundError:
        return False
    except OSError as exc:
        log('error', "cannot end the lease for the engine's VIP agent", lease=path, error=str(exc))
        return False


def interface_mac(name):
    """The MAC address of an interface, as text."""
    for interface in vip_check_kernel.read_interfaces():
        if interface['name'] == name and interface.get('mac'):
            return interface['mac']
    raise OSError('interface %s has no MAC address' % name)


def _checksum(data):
    if len(data) % 2:
        data += b'\0'
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xffff)
    total += total >> 16
    return ~total & 0xffff


class Pinger:
    """Echo requests to every ping node at once, bound to one interface; collect() counts the answers."""

    def __init__(self, interface, targets):
        self.interface = interface
        self.targets = list(targets)
        self.ident = os.getpid() & 0xffff
        self.seq = 0
        self.sock = None
        self.waiting = set()
        self.sent_at = 0.0
        self.errors = {}

    def _socket(self):
        if self.sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.IPPROTO_ICMP)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, self.interface.encode())
            sock.setblocking(False)
            self.sock = sock
        return self.sock

    def send(self):
        self.seq = (self.seq + 1) & 0xffff
        self.waiting = set()
        self.errors = {}
        self.sent_at = time.monotonic()
        if not self.targets:
            return
        sock = self._socket()
        # Drain old answers.
        try:
            while True:
                sock.recv(2048)
        except (BlockingIOError, InterruptedError):
            pass
        payload = struct.pack('!d', time.time())
        header = struct.pack('!BBHHH', 8, 0, 0, self.ident, self.seq)
        packet = struct.pack('!BBHHH', 8, 0, _checksum(header + payload), self.ident, self.seq) + payload
        for target in self.targets:
            try:
                sock.sendto(packet, (target, 0))
                self.waiting.add(target)
            except OSError as exc:   # ENETDOWN, ENETUNREACH: the link is down
                self.errors[target] = errno.errorcode.get(exc.errno, str(exc.errno))

    def collect(self, timeout):
        """Number of ping nodes that answered within timeout seconds of send()."""
        answered = set()
        if not self.waiting:
            return 0
        deadline = self.sent_at + timeout
        while self.waiting - answered:
            try:
                data, (source, _port) = self.sock.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                # Nothing queued: wait for the rest until the deadline. (Answers that came in while Apache
                # was being checked were queued and are read first.)
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                    break
                continue
            header_len = (data[0] & 0x0f) * 4
            if len(data) < header_len + 8:
                continue
            kind, _code, _sum, ident, seq = struct.unpack_from('!BBHHH', data, header_len)
            if kind == 0 and ident == self.ident and seq == self.seq and source in self.waiting:
                answered.add(source)
        for target in self.waiting - answered:
            self.errors.setdefault(target, 'timeout')
        return len(answered)


# --- the VIP on the wire: who claims it, and gratuitous ARP (vip_check_arp: the same code as vip_check) ----

class Arp:
    """Watches the VIP's segment for ARP frames in which another MAC address claims the VIP (the peer
    took it over, or still holds it), and announces the VIP with gratuitous ARP.

    Why: when two nodes held the VIP at once (a node frozen past deadtime and thawed, a healed
    partition) the engine has one of them release it, but the one that keeps it does not announce it
    again: clients that learnt the other node's MAC address meanwhile keep sending there until their
    neighbour entry fails (about 8 s, measured). The holder re-announces once the other node has let go.
    """

    def __init__(self, interface, vip):
        self.vip = vip
        self.mac = interface_mac(interface)
        self.sock = vip_check_arp.open_socket(interface)
        self.sock.setblocking(False)

    def claims(self):
        """MAC addresses (as text) other than ours that claimed the VIP since the last call."""
        found = set()
        while True:
            try:
                frame, address = self.sock.recvfrom(vip_check_arp.RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                return found
            mac = vip_check_arp.claimant(frame, address[2] if len(address) > 2 else None, self.vip, self.mac)
            if mac is not None:
                found.add(mac)

    def announce(self):
        """A gratuitous ARP request and reply for the VIP, from this interface's MAC address."""
        for frame in vip_check_arp.build_announcements(self.mac, self.vip):
            self.sock.send(frame)


# --- HTTP health page ------------------------------------------------------------------------------

def first_answer(addresses, read):
    """(address, read(address), []) of the first address whose read() returns, read() called on every address at
    once (one thread each; a slower one is left to end by its own timeout); (None, None, [errors in the addresses'
    order]) when every read raised OSError."""
    if len(addresses) == 1:
        try:
            return addresses[0], read(addresses[0]), []
        except OSError as exc:
            return None, None, [str(exc)]
    results = queue.Queue()

    def attempt(address):
        try:
            results.put((address, read(address), None))
        except OSError as exc:
            results.put((address, None, str(exc)))
        except Exception as exc:  # pylint: disable=broad-exception-caught  # a thread must always answer
            results.put((address, None, '%s: %s: %s' % (address, type(exc).__name__, exc)))
    for address in addresses:
        threading.Thread(target=attempt, args=(address,), daemon=True).start()
    errors = {}
    for dummy in addresses:
        address, found, error = results.get()
        if error is None:
            return address, found, []
        errors[address] = error
    return None, None, [errors[address] for address in addresses]


def http_get(host, port, path, timeout):
    """(status, headers, body) of an HTTP/1.0 GET that must complete within timeout seconds in all
    (connect, request, response); raises OSError (socket.timeout included) on any failure."""
    deadline = time.monotonic() + timeout

    def left():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout('no complete answer within %s s' % timeout)
        return remaining
    with socket.create_connection((host, port), timeout=left()) as sock:
        sock.settimeout(left())
        sock.sendall(('GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: hapair-monitor\r\n\r\n'
                      % (path, host)).encode('ascii'))
        chunks = []
        while True:
            sock.settimeout(left())
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            if sum(len(c) for c in chunks) > 1 << 20:
                raise OSError('answer too long')
    data = b''.join(chunks)
    head, dummy, body = data.partition(b'\r\n\r\n')
    lines = head.decode('iso-8859-1').split('\r\n')
    parts = lines[0].split(' ', 2)
    if len(parts) < 2 or not parts[0].startswith('HTTP/') or not parts[1].isdigit():
        raise OSError('not an HTTP answer: %r' % lines[0][:80])
    headers = {}
    for line in lines[1:]:
        name, dummy, value = line.partition(':')
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers, body


def page_age(headers):
    """Age of the peer's health page by the peer's own clock (Date - Last-Modified), or None."""
    try:
        date = email.utils.parsedate_to_datetime(headers.get('date'))
        modified = email.utils.parsedate_to_datetime(headers.get('last-modified'))
        return (date - modified).total_seconds()
    except (TypeError, ValueError, IndexError):
        return None


# --- the monitor -------------------------------------------------------------------------------------

class Monitor:
    """The judge of one node. tick() every `interval` seconds; between ticks, events wake it at once (see run())."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.pinger = Pinger(cfg['vip_interface'], cfg['ping_nodes'])
        self.engine = node_engine.adapter(cfg['engine'], cfg['action_timeout'])
        self.bad = 0                 # unhealthy checks in a row
        self.good = 0                # healthy checks in a row
        self.last_giveup = -1e9      # monotonic time this node last gave the VIP up
        self.last_action = -1e9
        self.failback_since = None   # since when the conditions for taking back have held
        self.last_reason = None      # the last reason logged for doing nothing (logged once per change)
        self.last_local = None
        self.seq = 0
        self.stopping = False
        self.stale_after = cfg['stale_after'] or 3 * cfg['interval'] + cfg['timeout'] + 2
        # A peer page this recent tells what the peer holds now: the peer publishes at once when it changes.
        self.recent = cfg['interval'] + 2
        self.arp = Arp(cfg['vip_interface'], cfg['vip']) if cfg['reannounce'] else None
        self.claimed = None          # (monotonic time, MACs) another node last claimed the VIP
        # The version (seq) of the peer's page first read after its claim was seen: that page may have been written
        # before the claim (a monitor announces the VIP, then publishes), so only a later version can say it let go.
        self.claim_page_seq = None
        self.announce_left = 0       # gratuitous ARPs still to send
        self.next_announce = 0.0     # monotonic time of the next one
        self.healing_until = None    # monotonic deadline of a healed partition's window (None: none)
        self.release_at = None       # monotonic time this node lets the VIP go (a healed partition; None: not)
        self.release_requested = None
        self.preferred_announced = None
        self.last_claim_announce = -1e9
        self.next_claim_check = 0.0
        self.apache_ok = False
        self.pings = 0
        self.holds = None
        self.engine_status = None
        self.peer_dead = False       # this node holds the VIP and its engine declared the peer dead (at the last check)
        self.next_probe = 0.0
        self.peer_lost = False       # the preferred holder could not read the peer's page at its last check
        self.deferring = False       # a lease for the engine's VIP agent was written in this healed partition's window
        self.keeping_vip = False     # the preferred node's lease for that agent (keep_through_restart) is written
        self.peer_serving_since = None  # a takeover declined: when the preferred node was last seen holding and serving
        self.no_holder_since = None  # since when no node has held the VIP (this node preferred and healthy)
        self.telemetry = node_telemetry.Telemetry(cfg, log)
        self.ops = node_maintenance.Controller(self)

    @property
    def preferred(self):
        """The node that keeps the VIP when both could: the preferred node, unless it is in maintenance."""
        return self.cfg['node'] == self.cfg['preferred'] and not self.ops.maintenance

    def healing(self, now=None):
        return self.healing_until is not None and (now or time.monotonic()) < self.healing_until

    # one check of this node
    def check_local(self):
        started = time.monotonic()
        try:
            status, dummy_headers, dummy_body = http_get('127.0.0.1', self.cfg['port'], self.cfg['health_path'],
                                                         self.cfg['timeout'])
            apache = 'ok' if status == 200 else 'HTTP %d' % status
        except OSError as exc:
            apache = (type(exc).__name__ + ': ' + str(exc)) if str(exc) else type(exc).__name__
        return apache, round(time.monotonic() - started, 3)

    def read_holds(self):
        try:
            return holds_vip(self.cfg['vip'])
        except (OSError, vip_check_kernel.KernelReadError) as exc:
            log('error', 'cannot read the addresses of this host', error=str(exc))
            return None

    def publish(self):
        """The health page the peer reads: what this node found at its last check, what it holds now, how its
        engine runs, and whether it saw a partition heal."""
        self.seq += 1
        total = len(self.cfg['ping_nodes'])
        doc = {'node': self.cfg['node'], 'apache_ok': self.apache_ok, 'ping_ok': self.pings, 'ping_total': total,
               'healthy': self.apache_ok and (total == 0 or self.pings == total), 'healthy_checks': self.good,
               'holds_vip': self.holds, 'engine': self.engine_status, 'healing': self.healing(),
               'seq': self.seq, 'time': round(time.time(), 3)}
        doc.update(self.operations_page())
        write_file(self.cfg['status_file'], json.dumps(doc) + '\n')

    def read_page(self, address, timeout):
        """(headers, doc) of the peer's health page over one link; raises OSError saying what went wrong."""
        try:
            status, headers, body = http_get(address, self.cfg['port'], self.cfg['health_path'], timeout)
        except OSError as exc:
            raise OSError('%s: %s' % (address, exc or type(exc).__name__)) from exc
        if status != 200:
            raise OSError('%s: HTTP %d' % (address, status))
        try:
            return headers, json.loads(body)
        except ValueError:
            raise OSError('%s: not JSON' % address) from None

    def peer(self, timeout=None):
        """The peer's view, read from its health page over every link at once (each within `timeout`, the check's
        timeout by default), from the first that answers: a link that does not answer (a split, a link down) costs
        one timeout, not one per link, and the monitor is back to its events sooner (after a healed split it
        waited for up to two timeouts before it saw the preferred node's announcement)."""
        address, found, errors = first_answer(self.cfg['peer_addresses'],
                                              lambda link: self.read_page(link, timeout or self.cfg['timeout']))
        if found is not None:
            headers, doc = found
            age = page_age(headers)
            fresh = age is not None and age <= self.stale_after
            return {'reachable': True, 'via': address, 'apache_ok': bool(doc.get('apache_ok')) and fresh,
                    'ping_ok': int(doc.get('ping_ok', 0)) if fresh else 0, 'age': age, 'fresh': fresh,
                    'recent': age is not None and age <= self.recent, 'holds_vip': doc.get('holds_vip'),
                    'engine': doc.get('engine'), 'healing': bool(doc.get('healing')),
                    'maintenance': bool(doc.get('maintenance')), 'handover': doc.get('handover'),
                    'claim': doc.get('claim'), 'last_decision': doc.get('last_decision'),
                    'last_move': doc.get('last_move'), 'seq': doc.get('seq'),
                    # healthy checks in a row (None from a monitor too old to say: not held against it)
                    'healthy_checks': doc.get('healthy_checks') if isinstance(doc.get('healthy_checks'), int) else None}
        return {'reachable': False, 'errors': errors, 'apache_ok': False, 'ping_ok': 0, 'fresh': False,
                'recent': False}

    def peer_healthy(self, peer, need_pings):
        """Can the peer serve the site? It must reach at least need_pings ping nodes. (bool, reason)"""
        if not peer['reachable']:
            return False, 'peer unreachable (%s)' % '; '.join(peer['errors'])
        if not peer['fresh']:
            return False, 'peer health page stale (age %s s): its monitor is not running' % peer['age']
        if peer.get('maintenance'):
            return False, 'peer in maintenance'
        if not peer['apache_ok']:
            return False, "peer's Apache failed its own check"
        if peer['ping_ok'] < need_pings:
            return False, 'peer reaches %d ping nodes, needs %d' % (peer['ping_ok'], need_pings)
        # As a failback waits for `rises` healthy checks here, a hand-over waits for as many on the peer: a peer
        # whose Apache has just come back (both were down, and are started again) is not handed a VIP that this
        # node's own Apache, started at the same time, is about to serve again.
        checks = peer.get('healthy_checks')
        if checks is not None and checks < self.cfg['rises']:
            return False, 'peer healthy for %d checks only, needs %d' % (checks, self.cfg['rises'])
        return True, 'peer healthy via %s (reaches %d ping nodes)' % (peer['via'], peer['ping_ok'])

    def idle(self, reason, level='info', **fields):
        """Log a decision to do nothing, once per distinct reason (counts left out of the comparison)."""
        key = re.sub(r'\d+', '#', reason)
        if key != self.last_reason:
            log(level, 'decision: keep as is: ' + reason, **fields)
            self.last_reason = key
            if level == 'warning':
                self.decided('keep', 'blocked', reason)

    def healthy(self):
        total = len(self.cfg['ping_nodes'])
        return self.apache_ok and (total == 0 or self.pings == total)

    def tick(self):
        cfg = self.cfg
        self.pinger.send()
        apache, took = self.check_local()
        pings = self.pinger.collect(cfg['ping_timeout'])
        # The check waited for Apache and the ping nodes (up to timeout + ping_timeout): a release that came due
        # meanwhile is not held up for the rest of it (a healed partition's drain is 0.3 s).
        self.release_due(time.monotonic())
        total = len(cfg['ping_nodes'])
        apache_ok = apache == 'ok'
        self.apache_ok, self.pings = apache_ok, pings
        holds = self.holds = self.read_holds()
        self.engine_status = self.engine.status()
        self.peer_dead = bool(holds and self.engine.restarts_after_partition
                              and self.engine.peer_declared_dead(self.cfg.get('peer')))
        self.observe()
        self.publish()

        local = (apache, pings)
        if local != self.last_local:
            log('info' if apache_ok and pings == total else 'warning', 'local check',
                apache=apache, seconds=took, ping_nodes_answering='%d/%d' % (pings, total),
                ping_errors=self.pinger.errors if pings < total else {}, holds_vip=holds)
            self.last_local = local

        # Unhealthy: Apache failed, or no ping node answers (a lost link). Fewer ping nodes than the peer
        # (some answer) is judged against the peer's count below.
        if self.healthy():
            self.good += 1
            self.bad = 0
        else:
            self.bad += 1
            self.good = 0

        now = time.monotonic()
        if self.healing_until is not None and now >= self.healing_until:
            log('info', 'the healed partition has settled')
            self.healing_until = None
            self.deferring = False
        self.keep_through_restart(now)
        if self.arp is not None:
            self.watch_claims(holds, now)
        peer_page = self.watch_peer_return(holds)
        if self.ops.tick(holds, now):
            return  # in maintenance, or a move on purpose under way: node_maintenance decides
        if self.declining() or self.declined():
            peer_page = peer_page or self.peer(timeout=cfg['probe_timeout'])
            self.defer_takeover(now, peer_page)
            self.guard_declined(now, peer_page)
        if self.healing(now):
            self.reconcile_heal('check')
            return
        if holds and self.engine.restarts_after_partition:
            self.two_holders(now, peer_page)
        rescued, peer_page = self.consider_rescue(holds, now, peer_page)
        if rescued:
            return
        if holds:
            self.failback_since = None
            if self.bad >= cfg['fails']:
                self.consider_giveup(apache, apache_ok, pings)
        elif holds is False and cfg['auto_failback'] and self.preferred:
            self.consider_failback(apache_ok, pings, now, peer_page)
        else:
            self.failback_since = None
            if holds is False and self.engine.given_up():
                self.consider_lift(now)

    # -- a healed partition ---------------------------------------------------------------------------------

    def on_heal(self):
        """The engine says a partition healed (heartbeat: "returning after partition"): both nodes are about to give
        the VIP up and restart the engine. For the window of that restart, the preferred node keeps the VIP (or
        claims it back the moment the engine drops it) and announces it, and the other node lets go at once."""
        window = self.cfg['heal_window']
        log('notice', 'the engine reports a healed partition: keeping one holder through its restart',
            window_seconds=window, preferred=self.preferred)
        self.healing_until = time.monotonic() + window
        self.reconcile_heal('heal')
        self.keep_through_restart(time.monotonic())

    def keeping(self, now=None):
        """Whether the preferred node keeps the VIP through the engine's restart after a partition (see
        keep_through_restart): it is the preferred node and not in maintenance (read now: a maintenance that began
        since the last check hands the VIP over), in a healed partition's window, on an engine that restarts after
        a partition (heartbeat), holding the VIP, healthy at its last check, its engine not being stopped."""
        return bool(self.preferred and self.engine.restarts_after_partition and self.healing(now) and self.holds
                    and self.healthy() and self.engine_status != 'stopped'
                    and node_maintenance.read_state(self.cfg['maintenance_file']) is None)

    def keep_through_restart(self, now):
        """In a healed partition's window heartbeat restarts on both nodes, and the preferred node's restart first
        gives the VIP up: no node held it for 20-30 ms, until reconcile_heal claimed it back (measured in every heal,
        issue 20). While keeping(), the lease written here (its end, in milliseconds since the epoch, keep_lease
        seconds on) lets the engine's VIP agent (hapair-vip) decline that stop, as long as the engine's unit is active
        (a stop through systemd, or the release after an unclean stop, is not: the unit is deactivating). Otherwise
        the lease ends at once, so a hand-over that this monitor, maintenance or an operator asks for goes through."""
        if self.keeping(now):
            if not write_lease(self.cfg['keep_file'], self.cfg['keep_lease']):
                return
            if not self.keeping_vip:
                self.keeping_vip = True
                log('info', "the preferred node holds the VIP and serves: the engine's restart after the partition "
                            "leaves it here (a lease for its VIP agent)", lease_seconds=self.cfg['keep_lease'])
            return
        self.end_keep()

    def end_keep(self):
        """The preferred node's lease for the engine's VIP agent ends now: the engine's next stop releases the VIP."""
        end_lease_file(self.cfg['keep_file'])
        if self.keeping_vip:
            self.keeping_vip = False
            log('info', "the engine's next stop releases the VIP here (the lease for its VIP agent ended)")

    def reconcile_heal(self, why, peer=None):
        """One holder through a healed partition's engine restart (see on_heal). peer: the peer's page, if just read."""
        holds = self.holds = self.read_holds()
        peer = peer or self.peer()
        peer_recent = peer['reachable'] and peer['recent']
        if self.preferred and self.apache_ok:
            if holds:
                if self.announce_left == 0 and (peer_recent and peer.get('holds_vip') or why == 'heal'):
                    self.announce(3, 'the peer may still hold it after the partition')
            elif peer_recent and peer.get('holds_vip') is False and (peer.get('healing') or peer.get('engine') != 'running'):
                # Not when systemd stops the engine here (an operator's stop, a package upgrade): its hand-over to the
                # peer must go through. The engine's own restart after the partition keeps its unit active (heartbeat
                # under hapair-monitor supervise).
                if self.engine.status() == 'stopped':
                    # The page says so at once: the peer's lease for its VIP agent ends with it (defer_takeover).
                    self.engine_status = 'stopped'
                    if why not in ('check', 'probe'):
                        log('info', 'healed partition: the engine is being stopped here; not taking the VIP')
                else:
                    self.claim(why)
            elif why not in ('check', 'probe'):
                self.idle('healed partition: the VIP is not here, but the peer %s' % (
                    'holds it' if peer_recent and peer.get('holds_vip') else 'cannot be read' if not peer_recent
                    else 'runs its engine and may take it'), level='warning')
        elif holds and peer_recent and peer.get('holds_vip') and peer['apache_ok']:
            self.schedule_release(time.monotonic(), 'a healed partition left it on both nodes, and the preferred node '
                                                    'holds it and is healthy (%s)' % why)
        self.publish()

    def schedule_release(self, now, why):
        """Let the VIP go once the preferred node has announced it (its gratuitous ARP seen here: clients then send
        to it) and a drain later (the requests this node is answering finish), or after release_wait at the latest."""
        if self.release_at is not None:
            return
        self.release_requested = now
        self.preferred_announced = None
        self.release_at = now + self.cfg['release_wait']
        log('notice', 'decision: let the VIP go once the preferred node announced it (at most %s s): %s'
            % (self.cfg['release_wait'], why), action='release')
        if self.claimed is not None and now - self.claimed[0] <= CLAIM_FRESH:
            # The preferred node's announcement came just before this decision: clients send to it already.
            self.preferred_announced = now
            self.release_at = now + self.cfg['release_drain']
            log('info', 'the preferred node announced the VIP just before; letting it go in %s s'
                % self.cfg['release_drain'])
        self.decided('release', 'healed_partition' if self.healing(now) else 'two_holders', why)

    def release_due(self, now):
        """Let the VIP go when its time came, if the preferred node still holds it and serves."""
        if self.release_at is None or now < self.release_at:
            return
        self.release_at = None
        peer = self.peer()
        if not (self.read_holds() and peer['reachable'] and peer['recent'] and peer.get('holds_vip') and peer['apache_ok']):
            log('info', 'not letting the VIP go after all: the preferred node no longer holds it or serves')
            return
        rc, out = node_engine.delete_vip(self.cfg['vip'], self.cfg['vip_prefix'], self.cfg['vip_interface'])
        log('notice' if rc == 0 else 'error', 'release finished', rc=rc, output=out)
        # What the engine still announces for the VIP on this node's behalf would send clients back here.
        silenced = self.engine.silence(self.cfg['vip'])
        if silenced:
            log('info', "stopped the engine's own announcements of the VIP", processes=silenced)
        self.holds = self.read_holds()
        self.publish()

    def two_holders(self, now, peer=None):
        """This node holds the VIP: does the peer too (a frozen node thawed, a split healed, before the engine
        noticed)? Then the other node, whose engine declared the peer dead and so restarts once it hears it again, lets
        go as soon as the preferred node is seen holding and serving - within a probe, not when the engine notices.
        peer: the peer's page, if just read."""
        if self.release_at is not None:
            return
        # With the probe's timeout: this runs at every check of a holder, and while the nodes cannot reach each other
        # (a split, a frozen peer) a read with the check's timeout per link held the loop for 2 s a check, the probes
        # and the release of a healed split with it (measured: the other node let go 1.3-2 s after the heal). A peer
        # that does not answer within it changes nothing here.
        peer = peer or self.peer(timeout=self.cfg['probe_timeout'])
        if self.preferred:
            # The one that stays: clients learn its MAC again at once.
            if peer['reachable'] and peer['recent'] and peer.get('holds_vip') and self.healthy() \
                    and now - self.last_claim_announce >= 2.0:
                self.last_claim_announce = now
                self.announce(3, 'the peer holds the VIP too; the preferred node keeps it')
            return
        if not (peer['reachable'] and peer['recent'] and peer.get('holds_vip') and peer['apache_ok']):
            return
        if peer.get('claim'):
            return  # the peer claimed the VIP on purpose (leaving maintenance): the engines hand it over next
        if not self.peer_dead:
            self.idle('both nodes hold the VIP, but the engine does not see the peer dead: it decides', level='warning')
            return
        self.schedule_release(now, 'the preferred node holds it and serves, and the engine, which declared it dead, '
                                   'restarts once it hears it again')

    def probing(self):
        """Whether to read the peer's page between checks:
        - this node holds the VIP, its engine declared the peer dead and restarts when it hears it again (heartbeat).
          The partition (or the peer's freeze) may end at any moment, and then both nodes hold the VIP until one lets
          go: a probe every probe_interval finds that out within it;
        - a healed partition's restart took the VIP off the preferred node while the peer still held it: the peer's
          engine gives it up next, and then no node holds it until this node claims it. A probe every probe_interval
          claims it within one, instead of at the next check (a second, or more on a loaded node: measured 1.3 s
          without a holder, 14 failed requests, before this);
        - the preferred node holds the VIP and could not read the peer's page (a split, whatever the engine): the
          peer took the VIP over and the clients send to it; once the split heals the peer lets it go, and the clients
          come back when this node announces it (note_peer_return), within a probe."""
        if self.release_at is not None:
            return False
        return bool(self.holds and self.peer_dead) or bool(self.preferred and self.holds is False and self.healing()) \
            or self.declining() or (self.holds is False and self.declined()) \
            or bool(self.preferred and self.holds and self.peer_lost)

    def probe(self, now):
        peer = self.ops.peer_page = self.peer(timeout=self.cfg['probe_timeout'])
        if self.preferred and not self.holds and self.healing(now):
            self.next_probe = now + self.cfg['probe_interval']
            self.reconcile_heal('probe', peer)
            return
        # A peer in maintenance is out of the pair on purpose (heartbeat declares it dead): a probe every 5 s will do.
        self.next_probe = now + (5.0 if self.ops.peer_in_maintenance() else self.cfg['probe_interval'])
        if self.preferred and self.holds and self.peer_lost:
            self.note_peer_return(peer)
        self.defer_takeover(now, peer)
        self.guard_declined(now, peer)
        if self.holds and peer['reachable'] and peer['recent'] and peer.get('holds_vip'):
            self.two_holders(now, peer)

    # -- a takeover declined (heartbeat's VIP agent, hapair-vip) ---------------------------------------------------

    def declining(self):
        """Whether this node keeps a lease for the engine's VIP agent: the other node (not the preferred one), in a
        healed partition's window, on an engine that restarts after a partition (heartbeat)."""
        return bool(not self.preferred and self.engine.restarts_after_partition and self.healing())

    def defer_takeover(self, now, peer):  # pylint: disable=unused-argument
        """In a healed partition's window heartbeat restarts on both nodes, and when the preferred node's heartbeat
        announces its restart (2-3 s after the heal), this node's heartbeat takes the VIP over, although the preferred
        node holds it and serves (its monitor keeps it there): both held it for 0.1-0.4 s, until this monitor let go
        again (measured, issue 20). While the preferred node's page (just read) shows it holding the VIP and serving,
        the lease written here (its end, in milliseconds since the epoch, `defer_lease` seconds on) lets the engine's
        VIP agent (hapair-vip) decline that takeover. No new lease otherwise: the last one ends within a second."""
        if not self.declining():
            return
        if self.peer_stopped(peer):
            self.end_lease()
            return
        if not (peer['reachable'] and peer['recent'] and peer.get('holds_vip') and peer['apache_ok']):
            return
        if not write_lease(self.cfg['defer_file'], self.cfg['defer_lease']):
            return
        if not self.deferring:
            self.deferring = True
            log('info', "the preferred node holds the VIP and serves: this node's engine declines a takeover while "
                        "that lasts (a lease for its VIP agent)", lease_seconds=self.cfg['defer_lease'])

    @staticmethod
    def peer_stopped(peer):
        """Whether the peer's page (just read) says systemd stops or stopped its engine and it holds no VIP: an
        operator's stop, a package upgrade. Its engine hands the VIP over to this node's, which must take it at once
        (an engine restarting after a partition keeps its unit active: that page says 'restarting')."""
        return bool(peer['reachable'] and peer['recent'] and peer.get('holds_vip') is False
                    and peer.get('engine') == 'stopped')

    def end_lease(self):
        """The lease for the engine's VIP agent ends now (not at its time): the next takeover is the engine's."""
        if not end_lease_file(self.cfg['defer_file']):
            return
        log('info', "the preferred node's engine is stopped and it holds no VIP: this node's engine takes over again "
                    "(the lease for its VIP agent ended)")

    def declined(self):
        """Whether the engine's VIP agent declined a takeover that the engine has not given up since (its record)."""
        return os.path.exists(self.cfg['declined_file'])

    def guard_declined(self, now, peer):
        """The engine's VIP agent declined a takeover (defer_takeover): the engine believes this node holds the VIP,
        the preferred node does. Should the preferred node stop holding it or serving for `declined_grace` seconds
        (it died meanwhile, or its engine's restart took the VIP off and its monitor did not claim it back), this node
        takes the VIP, as its engine would have: nothing else will, the engine believes it has it. peer: the peer's page,
        just read."""
        if self.holds is not False or not self.declined():
            self.peer_serving_since = None
            return
        if peer['reachable'] and peer['recent'] and peer.get('holds_vip') and peer['apache_ok']:
            self.peer_serving_since = now
            return
        if self.peer_serving_since is None:
            self.peer_serving_since = now
        stopped = self.peer_stopped(peer)
        if not stopped and now - self.peer_serving_since < self.cfg['declined_grace']:
            return
        log('notice', 'decision: take the VIP: the engine declined a takeover because the preferred node held the VIP, '
            'and %s' % ("that node's engine is stopped and it holds no VIP" if stopped else
                        'for %s s that node has not held it or served' % self.cfg['declined_grace']), action='claim',
            peer='reachable' if peer['reachable'] else 'unreachable', peer_holds_vip=peer.get('holds_vip'),
            peer_apache_ok=peer['apache_ok'])
        self.decided('claim', 'declined_takeover', 'the preferred node no longer holds the VIP or serves')
        rc, out = node_engine.add_vip(self.cfg['vip'], self.cfg['vip_prefix'], self.cfg['vip_interface'])
        log('notice' if rc == 0 else 'error', 'claim finished', rc=rc, output=out)
        self.holds = self.read_holds()
        if self.holds:
            # The engine believes it holds the VIP, and now it does: nothing declined any more.
            try:
                os.remove(self.cfg['declined_file'])
            except FileNotFoundError:
                pass
            self.peer_serving_since = None
            self.announce(3, 'claimed')
        self.publish()

    def claim(self, why):
        log('notice', 'decision: take the VIP: a healed partition made the engine give it up on both nodes; the '
            'preferred node keeps it through the engine\'s restart', action='claim', reason=why)
        self.decided('claim', 'healed_partition', 'the engine gave the VIP up on both nodes after a partition')
        rc, out = node_engine.add_vip(self.cfg['vip'], self.cfg['vip_prefix'], self.cfg['vip_interface'])
        log('notice' if rc == 0 else 'error', 'claim finished', rc=rc, output=out)
        self.holds = self.read_holds()
        if self.holds:
            self.announce(3, 'claimed')

    def on_address(self, kind, address):
        """The kernel added or removed an address; only the VIP matters."""
        if address.get('address') != self.cfg['vip']:
            return
        log('info', 'the VIP %s this node' % ('came to' if kind == 'add' else 'left'))
        self.holds = kind == 'add'
        # The metrics count what the kernel holds now: heartbeat's IPaddr replaces its alias (a delete and an add in
        # the same millisecond), which is no transition; counted from the events, a hand-over counted twice.
        self.telemetry.vip_changed(self.read_holds())
        if self.healing():
            self.reconcile_heal('address')
        else:
            self.publish()

    # -- gratuitous ARP -------------------------------------------------------------------------------------

    def announce(self, count, why):
        """Announce the VIP now, and count - 1 more times, every half second."""
        if self.arp is None:
            return
        log('info', 'announcing the VIP (gratuitous ARP)', reason=why, times=count)
        self.arp.announce()
        self.announce_left = count - 1
        self.next_announce = time.monotonic() + 0.5

    def announce_due(self, now):
        if self.announce_left > 0 and now >= self.next_announce:
            if self.read_holds():
                self.arp.announce()
            self.announce_left -= 1
            self.next_announce = now + 0.5

    def claim_open(self):
        """Another node claimed the VIP while this node holds it, and has not been seen to let go."""
        return self.arp is not None and self.claimed is not None and bool(self.holds)

    def claims_due(self, now):
        """Between the checks, while a claim is open: the peer lets go without a frame on the wire, so no ARP frame
        wakes this node then. Without this the re-announcement waited for the next check (measured after healed splits:
        1.0 s after the other node let go, the clients sending to it meanwhile, 10 failed requests)."""
        if self.claim_open() and now >= self.next_claim_check:
            self.watch_claims(self.holds, now)

    def watch_peer_return(self, holds):
        """The preferred node holds the VIP: read the peer's page at every check, and announce the VIP when the peer
        comes back after a check it could not be read (a split network that healed). While the nodes could not reach
        each other the peer took the VIP over and announced it, so the clients send to the peer; when the pair hears
        itself again, the peer lets the VIP go without a word (keepalived: a BACKUP again on the preferred node's first
        advert), and the preferred node, which kept it all along, says nothing either: the clients would keep sending
        to the peer until their ARP entry expires (8.3 s measured on keepalived, 83 failed requests, in half of ten
        healed splits). Returns the page it read (None if it read none): the check's other decisions use it, one read
        of the peer per check."""
        if not (holds and self.preferred and self.cfg.get('peer_addresses')):
            self.peer_lost = False
            return None
        peer = self.peer(timeout=self.cfg['probe_timeout'])
        self.note_peer_return(peer)
        return peer

    def note_peer_return(self, peer):
        """The preferred holder read the peer's page (peer): remember a peer out of reach, and announce the VIP when it
        is back (see watch_peer_return). Between the checks the preferred holder probes a peer out of reach (probing):
        at the check alone the announcement came up to a check after the heal, and with keepalived's fast timers the
        peer had gone back to BACKUP within 20 ms of it: no answer for 1.1 s (10 failed requests, a suite run of
        2026-12-07)."""
        if not peer['reachable']:
            self.peer_lost = True
            return
        if self.peer_lost:
            self.peer_lost = False
            self.announce(3, 'the peer is reachable again (a healed split): the clients may still send to it')

    def watch_claims(self, holds, now):
        """Another MAC claimed the VIP: once this node holds it alone again (the peer's page says it holds
        nothing), announce it three times."""
        try:
            macs = self.arp.claims()
        except OSError as exc:
            macs = set()
            log('error', 'cannot read ARP frames', error=str(exc))
        if not holds:
            self.claimed = None
            return
        if macs:
            self.ops.on_claim_seen(now)
        if self.ops.maintenance:
            self.claimed = None  # leaving the VIP to the peer: nothing to re-announce
            return
        if macs and self.release_at is not None and self.preferred_announced is None:
            # The preferred node announced the VIP: clients now send to it; let go after the drain.
            self.preferred_announced = now
            self.release_at = min(self.release_at, now + self.cfg['release_drain'])
            log('info', 'the preferred node announced the VIP; letting it go in %s s' % self.cfg['release_drain'])
            return
        if macs:
            if self.claimed is None:
                log('notice', 'another node claimed the VIP on the wire while this node holds it', macs=sorted(macs))
                self.claim_page_seq = None
            self.claimed = (now, macs)
            if self.preferred and self.healthy() and now - self.last_claim_announce >= 2.0:
                # Two holders (a thawed node, a healed partition): the preferred node, healthy, is the one that stays;
                # clients learn its MAC again at once instead of when the other lets go.
                self.last_claim_announce = now
                self.announce(3, 'another node claims the VIP; the preferred node keeps it')
                return
        if self.claimed is None:
            return
        if now - self.claimed[0] > self.cfg['reannounce_window']:
            log('warning', 'the other node never showed it let the VIP go; not re-announcing', macs=sorted(self.claimed[1]))
            self.claimed = None
            return
        if now < self.next_claim_check:
            return
        # The peer's page five times a second while a claim is open (claims_due between the checks), each read within
        # the probe's timeout: the peer may be out of reach (a split) while the claim stays open.
        self.next_claim_check = now + 0.2
        peer = self.peer(timeout=self.cfg['probe_timeout'])
        # Every page read counts for the baseline, whatever it says.
        after_claim = peer['reachable'] and self.page_after_claim(peer)
        if peer['reachable'] and peer['fresh'] and peer.get('holds_vip') is False and after_claim:
            log('notice', 'decision: re-announce the VIP (gratuitous ARP): the peer let it go',
                claimed_by=sorted(self.claimed[1]), seconds_since_claim=round(now - self.claimed[0], 1))
            self.announce(3, 'the peer let it go')
            self.claimed = None
        elif peer['reachable'] and peer.get('holds_vip') and not peer.get('claim'):
            # (A claim on the peer's page is a move on purpose: its engine takes over next.)
            if not self.preferred and self.peer_dead:
                # The preferred node announced it (this claim) and holds it: a thawed node or a healed split.
                self.two_holders(now, peer)
            else:
                self.idle('both nodes hold the VIP; the engine must let one go first', level='warning')

    def page_after_claim(self, peer):
        """Whether the peer's page (read since a claim was seen on the wire) was written after the claim. The first
        version read after it may be older: a monitor claiming the VIP announces it, then publishes its page, and a
        holder that took that page's `holds_vip: false` for a release re-announced the VIP over the claim (seen in the
        suite: the clients followed the holder, which let go through its engine a moment later, 4 failed requests).
        That first version is the baseline; a later one (another seq: a restarted monitor counts from 1 again)
        speaks for after the claim. A page without seq (an older monitor) is taken as it is."""
        seq = peer.get('seq')
        if seq is None:
            return True
        if self.claim_page_seq is None:
            self.claim_page_seq = seq
            return False
        return seq != self.claim_page_seq

    # -- the hand-over and the take-back ------------------------------------------------------------------

    def consider_giveup(self, apache, apache_ok, pings):
        cfg = self.cfg
        now = time.monotonic()
        why = ('Apache failed %d checks in a row (%s)' % (self.bad, apache) if not apache_ok
               else 'ping nodes answering %d/%d for %d checks' % (pings, len(cfg['ping_nodes']), self.bad))
        if now - self.last_action < cfg['action_timeout']:
            return  # a hand-over is under way
        # Apache failed: any peer that serves and reaches a ping node is better. Link trouble: the peer
        # must reach more ping nodes than this node.
        total = len(cfg['ping_nodes'])
        need = (1 if total else 0) if not apache_ok else pings + 1
        peer = self.peer()
        ok, reason = self.peer_healthy(peer, need)
        if not ok:
            self.idle('%s, but %s: nothing moves' % (why, reason), level='warning')
            return
        engine = self.engine.state(cfg.get('peer'))
        if not engine['running']:
            self.idle('%s, but the engine is not running here' % why, level='warning')
            return
        if engine['peer'] != 'active':
            self.idle('%s, but the engine sees the peer %s' % (why, engine['peer']), level='warning')
            return
        if engine['transition']:
            self.idle('%s, but resources are in transition' % why, level='info')
            return
        log('warning', 'decision: give up the VIP: %s; %s' % (why, reason), action='give_up',
            peer_ping_ok=peer['ping_ok'], ping_ok=pings)
        self.decided('give_up', 'apache_failed' if not apache_ok else 'ping_nodes_lost', '%s; %s' % (why, reason))
        self.end_keep()
        rc, out = self.engine.give_up()
        log('notice' if rc == 0 else 'error', 'give_up finished', rc=rc, output=out)
        self.last_action = now
        self.last_giveup = now
        self.last_reason = None

    def consider_failback(self, apache_ok, pings, now, peer=None):
        """peer: the peer's page if this check read it already (one read of the peer per check)."""
        cfg = self.cfg
        total = len(cfg['ping_nodes'])
        if not (apache_ok and (total == 0 or pings > 0)) or self.good < cfg['rises']:
            self.failback_since = None
            return
        if now - self.last_action < cfg['action_timeout']:
            return
        peer = peer or self.peer()
        if total and peer['reachable'] and peer['fresh'] and peer['ping_ok'] > pings:
            self.failback_since = None
            self.idle('preferred node healthy but reaches fewer ping nodes (%d) than the peer (%d)'
                      % (pings, peer['ping_ok']))
            return
        engine = self.engine.state(cfg.get('peer'))
        # A node held back by its own give-up (keepalived's FAULT) takes part again with the take-back itself.
        if not engine['running'] or engine['transition'] or self.engine.holds_resources(engine) is not False \
                or (engine['peer'] != 'active' and not self.engine.given_up()):
            self.failback_since = None
            return
        if self.failback_since is None:
            self.failback_since = now
            log('info', 'preferred node healthy and holding nothing; taking the VIP back unless the engine does',
                after_seconds=max(cfg['failback_delay'], cfg['holddown'] - (now - self.last_giveup)))
            return
        if now - self.failback_since < cfg['failback_delay'] or now - self.last_giveup < cfg['holddown']:
            return
        log('notice', 'decision: take the VIP back (auto_failback): preferred node healthy for %d checks'
            % self.good, action='take_back', ping_ok=pings)
        self.decided('take_back', 'failback', 'preferred node healthy for %d checks' % self.good)
        rc, out = self.engine.take_back()
        log('notice' if rc == 0 else 'error', 'take_back finished', rc=rc, output=out)
        self.last_action = now
        self.failback_since = None
        self.last_reason = None

    def consider_rescue(self, holds, now, peer=None):
        """No node holds the VIP: this node (preferred, healthy, not in maintenance) holds nothing and the peer's recent
        page says it holds nothing either, on an engine that restarts after a partition (heartbeat). Its restart can
        hang: on the test bed, after a thaw, the preferred node's restarted heartbeat did not stop, systemd killed it
        after its stop timeout, the drop-in's release took the VIP off, and the other node's heartbeat, which saw the
        preferred node alive, took nothing: no node held the VIP for 47 s and more. After `rescue_after` seconds of that
        (the pair's settle time: the engine acts first wherever it can), this node takes the VIP, as claim() does in a
        heal. peer: the peer's page if this check read it already. Returns (whether it did, the peer's page read in
        this check or None), so that the check reads the peer once."""
        if holds is not False or not self.preferred or not self.healthy() or not self.engine.restarts_after_partition:
            self.no_holder_since = None
            return False, peer
        peer = peer or self.peer()
        if not (peer['reachable'] and peer['recent'] and peer.get('holds_vip') is False) or peer.get('maintenance') \
                or peer.get('claim'):
            self.no_holder_since = None
            return False, peer
        if self.no_holder_since is None:
            self.no_holder_since = now
            return False, peer
        after = self.cfg['rescue_after'] or self.cfg['heal_window']
        if now - self.no_holder_since < after:
            return False, peer
        log('warning', 'decision: take the VIP: no node has held it for %.1f s, and the engine has not taken it'
            % (now - self.no_holder_since), action='claim', engine=self.engine_status)
        self.decided('claim', 'no_holder', 'no node held the VIP for %.1f s' % (now - self.no_holder_since))
        self.no_holder_since = None
        return self.claim_vip('no node held it'), peer

    def consider_lift(self, now):
        """A node that gave the VIP up and is not to take it back (not the preferred node, or no auto_failback) takes
        part again once healthy for `rises` checks and the holddown has passed, so that it can take the VIP over when
        the other node fails (keepalived: FAULT lifted, BACKUP again). heartbeat holds nothing back."""
        cfg = self.cfg
        if not self.healthy() or self.good < cfg['rises'] or now - self.last_giveup < cfg['holddown'] \
                or now - self.last_action < cfg['action_timeout']:
            return
        log('notice', 'decision: take part again: healthy for %d checks since giving the VIP up' % self.good,
            action='take_back')
        self.decided('take_part', 'healthy_again', 'healthy for %d checks since giving the VIP up' % self.good)
        rc, out = self.engine.take_back()
        log('notice' if rc == 0 else 'error', 'take_back finished', rc=rc, output=out)
        self.last_action = now

    # -- operations: maintenance, metrics, notifications (node_maintenance.py, node_telemetry.py) -------------------

    @staticmethod
    def log(level, message, **fields):
        log(level, message, **fields)

    def decided(self, decision, reason, detail='', moves=None):  # pylint: disable=unused-argument
        """A decision of this monitor: counted, notified (node_telemetry; which way it moves the VIP is its
        MOVES), and published at once, so that the peer can read why the VIP moves while it moves."""
        self.telemetry.decision(decision, reason, detail)
        try:
            self.publish()
        except OSError as exc:
            log('error', 'cannot write the status file', error=str(exc))

    def observe(self):
        """This check's findings, for the metrics."""
        self.ops.state = node_maintenance.read_state(self.ops.path)
        state = self.ops.state or {}
        self.telemetry.observe(holds=self.holds, engine_up=self.engine_status == 'running', apache_ok=self.apache_ok,
                               ping_ok=self.pings, healthy=self.healthy(), maintenance=self.ops.maintenance,
                               maintenance_since=state.get('since'))

    def operations_page(self):
        """Maintenance, the last decision and the last transition, for the health page (the peer and verify)."""
        page = self.ops.page()
        page.update(self.telemetry.page())
        return page

    def claim_vip(self, why):
        """Put the VIP on this node outside the engine and announce it (a move on purpose: the engine follows)."""
        rc, out = node_engine.add_vip(self.cfg['vip'], self.cfg['vip_prefix'], self.cfg['vip_interface'])
        log('notice' if rc == 0 else 'error', 'claim finished', rc=rc, output=out, reason=why)
        self.holds = self.read_holds()
        if self.holds:
            self.announce(3, why)
        return bool(self.holds)

    def drop_vip(self, why):
        """Take the VIP off this node outside the engine (a claim the engine did not take over)."""
        rc, out = node_engine.delete_vip(self.cfg['vip'], self.cfg['vip_prefix'], self.cfg['vip_interface'])
        log('notice' if rc == 0 else 'error', 'release finished', rc=rc, output=out, reason=why)
        self.holds = self.read_holds()

    def report(self):
        """After every check: the reasons of the VIP's transitions (the peer's page is read only when no decision of
        this node explains one), then the metrics file."""
        try:
            if self.telemetry.pending:
                self.telemetry.resolve(self.peer() if self.telemetry.needs_peer() else None)
                self.publish()
            self.telemetry.write()
        except Exception as exc:  # pylint: disable=broad-exception-caught  # never stop watching for the metrics
            log('error', 'report failed', error='%s: %s' % (type(exc).__name__, exc))

    # -- the loop -------------------------------------------------------------------------------------------

    def watchdog_seconds(self):
        """The longest a loop turn can take (pings, the local check, the peer's page over every link, the engine's
        commands), three times, and at least a minute: the systemd watchdog's timeout (sent as WATCHDOG_USEC)."""
        cfg = self.cfg
        turn = (cfg['interval'] + cfg['ping_timeout'] + cfg['timeout'] * (1 + len(cfg['peer_addresses']))
                + 3 * cfg['action_timeout'] / 2)
        return max(60.0, 3 * turn)

    def run(self):
        cfg = self.cfg
        log('info', 'hapair-monitor started', node=cfg['node'], preferred=cfg['preferred'], vip=cfg['vip'],
            engine=cfg['engine'].get('engine'), interval=cfg['interval'], timeout=cfg['timeout'], fails=cfg['fails'],
            rises=cfg['rises'], ping_nodes=cfg['ping_nodes'], peer_addresses=cfg['peer_addresses'])
        os.makedirs(os.path.dirname(cfg['status_file']), mode=0o755, exist_ok=True)
        self.publish()
        sd_notify('READY=1\nWATCHDOG_USEC=%d' % int(self.watchdog_seconds() * 1e6))
        sources = Sources(self)
        next_tick = time.monotonic()
        try:
            while not self.stopping:
                now = time.monotonic()
                if now >= next_tick:
                    try:
                        self.tick()
                    except Exception as exc:  # pylint: disable=broad-exception-caught  # keep watching
                        log('error', 'check failed', error='%s: %s' % (type(exc).__name__, exc))
                    self.report()
                    sd_notify('WATCHDOG=1')
                    next_tick += cfg['interval']
                    if next_tick < time.monotonic():
                        next_tick = time.monotonic()
                    # No check right after another without a look at the sources first: a check can take as long as
                    # the interval (in a split every read of the peer waits for its timeout, and heartbeat's cl_status
                    # answers slowly while heartbeat handles the heal), and the checks then ran back to back while a
                    # healed partition's log line and the preferred node's announcement waited behind them (measured
                    # in 13 healed splits: the line handled up to 1.5 s after heartbeat wrote it, the other node letting
                    # go up to 2.1 s after the heal).
                    now = time.monotonic()
                wake = next_tick
                if self.announce_left > 0:
                    wake = min(wake, self.next_announce)
                if self.release_at is not None:
                    wake = min(wake, self.release_at)
                if self.probing():
                    wake = min(wake, self.next_probe)
                if self.claim_open():
                    wake = min(wake, self.next_claim_check)
                if self.ops.next_due() is not None:
                    wake = min(wake, self.ops.next_due())
                try:
                    sources.wait(max(0.0, wake - now))
                    self.announce_due(time.monotonic())
                    self.release_due(time.monotonic())
                    if self.probing() and time.monotonic() >= self.next_probe:
                        self.probe(time.monotonic())
                    self.claims_due(time.monotonic())
                    self.ops.due(time.monotonic())
                except Exception as exc:  # pylint: disable=broad-exception-caught  # keep watching
                    log('error', 'event failed', error='%s: %s' % (type(exc).__name__, exc))
        finally:
            self.end_keep()   # a monitor that no longer checks keeps nothing
            sources.close()
            self.telemetry.notifier.stop()
        log('info', 'hapair-monitor stopped')


class Sources:
    """What wakes the monitor between its checks: the engine's log (a healed partition), the kernel's address
    changes (the VIP came or went). Each source that cannot be opened is logged and left out: the checks go on."""

    def __init__(self, monitor):
        self.monitor = monitor
        self.log_proc = None
        self.buffer = b''
        self.addresses = None
        command = getattr(monitor.engine, 'log_command', lambda: None)()
        if command:
            try:
                self.log_proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                                 stdin=subprocess.DEVNULL)
                os.set_blocking(self.log_proc.stdout.fileno(), False)
            except OSError as exc:
                log('error', "cannot follow the engine's log", error=str(exc))
        try:
            self.addresses = vip_check_kernel.open_address_events()
        except vip_check_kernel.KernelReadError as exc:
            log('error', 'cannot listen to address changes', error=str(exc))
        self.arp = monitor.arp.sock if monitor.arp is not None else None

    def wait(self, timeout):
        readable = [s for s in (self.log_proc and self.log_proc.stdout, self.addresses, self.arp) if s is not None]
        if not readable:
            time.sleep(timeout)
            return
        ready = select.select(readable, [], [], timeout)[0]
        if self.arp is not None and self.arp in ready:
            self.monitor.watch_claims(self.monitor.holds, time.monotonic())
        if self.addresses in ready:
            for kind, address in vip_check_kernel.address_events(self.addresses):
                self.monitor.on_address(kind, address)
        if self.log_proc and self.log_proc.stdout in ready:
            chunk = os.read(self.log_proc.stdout.fileno(), 65536)
            if not chunk:
                log('error', "the engine's log ended; restarting its reader")
                self.close_log()
                return
            self.buffer += chunk
            while b'\n' in self.buffer:
                line, self.buffer = self.buffer.split(b'\n', 1)
                if self.monitor.engine.heal_event(line.decode('utf-8', 'replace')):
                    self.monitor.on_heal()

    def close_log(self):
        if self.log_proc is not None:
            self.log_proc.kill()
            self.log_proc.wait()
            self.log_proc = None

    def close(self):
        self.close_log()
        if self.addresses is not None:
            self.addresses.close()


# --- ExecStopPost of the engine's service: release the VIP after an unclean stop -------------------------------

def release(result, cfg):
    """The engine's ExecStopPost: after an unclean stop (systemd's $SERVICE_RESULT is not "success": killed by a
    signal, dumped core, exited non-zero, timed out), release the VIP on this node with the engine's own means
    (node_engine), so that the peer alone holds it after its detection time. A clean stop released it already."""
    if result in ('', 'success'):
        return 0
    end_lease_file(cfg['keep_file'])   # nothing is kept through an unclean stop (keep_through_restart)
    log('warning', 'the engine stopped uncleanly: releasing the VIP on this node', result=result,
        exit_code=os.environ.get('EXIT_CODE', ''), exit_status=os.environ.get('EXIT_STATUS', ''))
    node_engine.adapter(cfg['engine'], cfg['action_timeout']).release(
        log, vip=cfg['vip'], prefix=cfg['vip_prefix'], interface=cfg['vip_interface'])
    return 0


def engine_gate(config):
    """The engine's ExecCondition: may the engine start now? Not while this node is in maintenance, where the engine
    says so (node_engine: gate(); heartbeat would take the VIP back the moment it joins; keepalived starts, held in
    FAULT). Exit 0: start; 1: skip the start (systemd counts it as a condition, not a failure). Anything that goes
    wrong here lets the engine start: a broken setting must not keep a pair's engine down."""
    try:
        cfg = load(config)
        state = node_maintenance.read_state(cfg['maintenance_file'])
        allowed = node_engine.adapter(cfg['engine'], cfg['action_timeout']).gate(state is not None)
        if state is not None:
            node_maintenance.mark_held(cfg['status_file'], True)
            log('notice', 'this node is in maintenance: %s' % (
                'the engine starts held out of the pair' if allowed else 'the engine does not start'),
                since=state.get('since'), reason=state.get('reason'))
        return 0 if allowed else 1
    except Exception as exc:  # pylint: disable=broad-exception-caught  # fail open, loudly
        log('error', 'engine-gate failed; letting the engine start', error='%s: %s' % (type(exc).__name__, exc))
        return 0
    except SystemExit as exc:
        log('error', 'engine-gate cannot read the settings; letting the engine start', error=str(exc))
        return 0


def supervise(argv):
    """The engine's ExecStart: `supervise --pid-file FILE -- COMMAND...` runs COMMAND and stays the unit's main
    process across the engine's restarts by exec (node_supervise), then ends as the engine ended."""
    parser = argparse.ArgumentParser(prog='hapair-monitor supervise', description=supervise.__doc__.split('\n', 1)[0])
    parser.add_argument('--pid-file', required=True, help="the engine's PID file, which names the process to follow")
    parser.add_argument('command', nargs=argparse.REMAINDER, help='the engine and its arguments, after --')
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ['--'] else args.command
    if not command:
        parser.error('the command to supervise is missing')
    status = node_supervise.Supervisor(command, args.pid_file, log).run()
    return node_supervise.exit_like(status)


def engine_config_test(engine, path):
    """The engine's own check of a configuration file (the roles' template validation): 0 when it is good."""
    adapter = node_engine.adapter({'engine': engine})
    test = getattr(adapter, 'config_test', None)
    if test is None:
        print('%s has no check of its own; nothing to do' % engine)
        return 0
    ok, messages = test(path)
    for message in messages:
        print(message)
    return 0 if ok else 1


def load(path):
    with open(path, encoding='utf-8') as handle:
        cfg = dict(DEFAULTS, **{key: value for key, value in json.load(handle).items() if not key.startswith('_')})
    missing = [key for key in ('node', 'peer', 'preferred', 'vip', 'vip_interface') if not cfg.get(key)]
    if missing:
        raise SystemExit('%s: missing %s' % (path, ', '.join(missing)))
    for key in ('interval', 'timeout', 'ping_timeout', 'failback_delay', 'holddown', 'action_timeout', 'notify_timeout'):
        cfg[key] = float(cfg[key])
    for key in ('fails', 'rises', 'port'):
        cfg[key] = int(cfg[key])
    if cfg['timeout'] <= 0 or cfg['interval'] <= 0 or cfg['fails'] < 1 or cfg['rises'] < 1:
        raise SystemExit('%s: interval and timeout must be > 0, fails and rises >= 1' % path)
    return cfg


def main():
    global VERBOSE  # pylint: disable=global-statement
    if sys.argv[1:2] == ['supervise']:
        return supervise(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--config', default='/etc/hapair/monitor.json')
    parser.add_argument('--verbose', action='store_true')
    parser.add_argument('--check-config', action='store_true', help='read the configuration and exit')
    parser.add_argument('--engine', help='for engine-config-test: the engine (default keepalived)')
    parser.add_argument('command', nargs='?', choices=['run', 'release', 'engine-gate', 'engine-config-test'],
                        default='run',
                        help="run: the monitor (default); release: ExecStopPost of the engine's service; engine-gate: "
                             "ExecCondition of the engine's service (exit 1: in maintenance, the engine does not start); "
                             "engine-config-test FILE: the engine's own check of a configuration file it would read; "
                             "supervise --pid-file FILE -- COMMAND...: ExecStart of an engine that restarts itself by exec "
                             "(see supervise --help)")
    parser.add_argument('file', nargs='?', help='for engine-config-test: the file')
    args = parser.parse_args()
    VERBOSE = args.verbose
    if args.command == 'engine-config-test':
        engine = args.engine or 'keepalived'
        if engine not in node_engine.ADAPTERS:
            parser.error('engine-config-test: unknown engine %r; expected one of %s'
                         % (engine, ', '.join(sorted(node_engine.ADAPTERS))))
        if not args.file:
            parser.error('engine-config-test needs the FILE to check')
        return engine_config_test(engine, args.file)
    if args.command == 'engine-gate':
        return engine_gate(args.config)
    cfg = load(args.config)
    if args.command == 'release':
        return release(os.environ.get('SERVICE_RESULT', 'success'), cfg)
    if args.check_config:
        print(json.dumps(cfg, indent=2, sort_keys=True))
        return 0
    monitor = Monitor(cfg)

    def stop(_signum, _frame):
        monitor.stopping = True
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    monitor.run()
    return 0


if __name__ == '__main__':
    sys.exit(main())
