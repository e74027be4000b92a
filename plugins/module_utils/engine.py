# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The engine contract: what the rest of the collection may know about an HA engine (heartbeat, keepalived).

The pair model, the input typing, the monitor, verify and the failover drill are engine-neutral: whatever they need
to know about the engine that keeps a pair's VIP on one node comes from an Engine (engine_heartbeat.py,
engine_keepalived.py), picked by the pair's hapair_engine through engines.get():

- its role, service, process and packages;
- the variables of its role that must agree across a pair, and its secrets;
- its timer profiles (hapair_timers: standard, fast), the defaults they give its own timer variables, and how its
  timers become a detection bound (Timers);
- its input rules (what its argument spec cannot say);
- the ports its service uses on the nodes, which no other service of the collection may take (reserved_ports);
- what the node-side monitor needs to hand the VIP over and take it back (monitor_settings; the node-side code is
  node_engine.py);
- its fault methods for the failover drill and the fault matrix (FAULT_METHODS);
- the markers its role writes, by which a node shows that it runs (or ran) this engine (markers; the engine switch,
  engine_switch.py, reads them), and whether it can take over a VIP that another engine holds on its node in place
  (adopts_vip).

Adding an engine: a module here with a subclass of Engine, its entry in engines.py, a role of the same name, and
its node-side adapter in node_engine.py (docs/design.md).

Pure Python and the standard library (Python 3.8 and later).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import NamedTuple


class Timers(NamedTuple):
    """An engine's timers as the engine-neutral code reasons about them, in seconds.

    advert: how often a node tells its peer it is alive (heartbeat's keepalive, VRRP's advert_int).
    detect: how long a silent node may stay silent before its peer takes the VIP over (heartbeat's deadtime; for
      VRRP the master-down interval, three adverts plus the skew time).
    startup: how long a starting node waits for its peer before it acts alone (heartbeat's initdead).
    handover: the budget of a graceful hand-over, from the request to the VIP answering on the peer.
    overlap: how long both nodes may hold the VIP in a hand-over by the engine's own design (heartbeat: none, the
      old holder releases before the peer takes it; VRRP: a preempting master takes it at once and the old one
      lets go when it hears that master's first advert, at most one advert interval later).
    """

    advert: float
    detect: float
    startup: float
    handover: float
    overlap: float = 0.0


class FaultMethod(NamedTuple):
    """How the failover drill and the fault matrix take a VIP holder down and undo it.

    name: the value of hapair_drill_method.
    fault, restore: the actions of the drill_fault module (restore 'none': the node must recover by itself).
    moved_by: what moves the VIP - 'handover' (the engine hands it over on its way down), 'detection' (the peer
      notices the silence), 'monitor' (hapair-monitor's judgement) or 'release' (the node drops it at once and the
      engine comes back by itself, so no takeover is asked).
    """

    name: str
    fault: str
    restore: str
    moved_by: str


# The methods every engine offers; an engine may add its own.
FAULT_METHODS = (
    FaultMethod('stop', 'stop_engine', 'start_engine', 'handover'),
    FaultMethod('reboot', 'reboot', 'reboot', 'handover'),
    FaultMethod('apache', 'stop_apache', 'start_apache', 'monitor'),
    FaultMethod('kill', 'kill_engine', 'none', 'release'),
)


# Where the roles keep the markers of what their services run (Engine.markers, the monitor's and Apache's).
APPLIED_DIR = '/var/lib/hapair/applied'


class Engine(ABC):
    """An HA engine behind the pair model. Subclasses set the class attributes and implement the methods."""

    name = ''
    # The collection's role that configures it (hapair.loadbalancer.<role>), its systemd unit, its main process's
    # name and its packages.
    role = ''
    service = ''
    process = ''
    packages = ()
    # Variables of its role that are secrets (compared across the pair, never shown), and those that may differ
    # between the two nodes (every other variable of the role's main entry point must agree).
    secrets = ()
    per_host = ()
    # Old variable names of this engine's role that moved to an engine-neutral one: {old: new}. They keep working
    # for this major version, with a deprecation warning.
    renamed = {}
    # The variables of its role that hold its timers (what the `engine:timers` entry point checks), and the one that
    # holds its segment id (see segment_id), if any.
    timer_variables = ()
    segment_variable = None
    # The markers of what its service runs, which its role writes in APPLIED_DIR after the service read its files
    # (a run cut short before its handlers still reloads on the next run). Their presence also says that the
    # collection deployed this engine on the node: the engine switch (engine_switch.py) reads them.
    markers = ()
    # Whether the engine, started on the node that holds the VIP under another engine, takes the VIP as its own without
    # taking it off first (heartbeat: its IPaddr agent finds the address configured and reports it running; keepalived:
    # no, every instance starts as BACKUP and takes its VIPs off the interface). The engine switch then starts it on
    # both nodes at once, and its preferred node takes the VIP over where it is, or claims it (engine_switch.py).
    adopts_vip = False
    # Whether the engine's adverts go over the VIP's link only (keepalived: unicast on the VIP's interface), so that a
    # holder that loses that link goes silent and its peer takes over after the detection time; heartbeat talks over
    # every link and keeps hearing its peer. The fault matrix's bound for a lost public link reads it.
    adverts_on_vip_link = False
    # Seconds systemd waits before it starts the engine again after it died (RestartSec of the role's drop-in).
    restart_seconds = 0.0

    @property
    def fault_methods(self):
        """{name: FaultMethod}."""
        return dict((method.name, method) for method in FAULT_METHODS)

    def pair_variables(self, options):
        """The variables of the role's main entry point that must agree across a pair: every one but the secrets and
        the per-host ones. options: the entry point's argument spec options."""
        return tuple(sorted(name for name, option in options.items()
                            if not option.get('no_log') and name not in self.secrets and name not in self.per_host))

    @abstractmethod
    def profile(self, name):
        """{variable: default} of this engine's own timer variables for the profile `name` (timers.PROFILES)."""

    def computed_defaults(self):
        """{variable: function(host_input) -> default} for the role's defaults that its spec cannot state."""
        return {}

    @abstractmethod
    def timers(self, values):
        """Timers from the typed values of the role's variables (hapair_input)."""

    @abstractmethod
    def check(self, host_input):
        """The engine's input rules, on a role_input.HostInput whose values are typed."""

    @abstractmethod
    def monitor_settings(self):
        """What the node-side adapter (node_engine.py) needs: {'engine': name, ...}, written into the monitor's
        configuration."""

    def reserved_ports(self, values):
        """[(port, protocol, variable)] the engine's service uses on every node, from the typed values of its role's
        variables (those that are missing or invalid are left out); the site may not listen on one of these numbers.
        None by default."""
        return []

    def segment_id(self, values):
        """An id the pair's engine uses on its network that no other pair of the same engine on that network may
        share (keepalived: the virtual router id), from the typed values; None when the engine has none."""
        return None

    def settle_seconds(self, timers):
        """How long a pair may take to settle (one holder, both nodes seeing each other) after a start or a change."""
        return timers.startup + timers.detect + 10.0
