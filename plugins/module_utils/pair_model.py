# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pair model: which hosts form a pair, and every rule that spans hosts or pairs.

Input: one HostRecord per host of the play, in inventory order, as the node_input action plugin makes it from the
host's typed input (role_input.py) and its network facts; and one OutsideHost per host of the inventory outside the
play that names a VIP or links (a run limited with --limit, or another group's pairs), read by the pair_model action
plugin from the inventory alone (outside_host()). Output (build()): a Model with, for every host, its Node, its peer
and its Pair (published as the facts hapair_node, hapair_peer, hapair_pair), and every InputError of every host and
pair at once, each naming the host or pair, the variable and the value (never the value of a secret). The play's VIPs
and link addresses are checked against the hosts outside it too; what could not be read of those is said in a
warning.

What an engine contributes (the variables that must agree, the secrets, the timers) comes from its Engine
(engines.get(hapair_engine)); nothing here names an engine's variables.

Pure Python and the standard library; tests/unit/plugins/module_utils/cases/pair_model.yml holds a case per rule.
"""

from __future__ import annotations

import ipaddress
from typing import Any, NamedTuple

from ansible_collections.hapair.loadbalancer.plugins.module_utils import engines, grammar
from ansible_collections.hapair.loadbalancer.plugins.module_utils.errors import InputError, make, show
from ansible_collections.hapair.loadbalancer.plugins.module_utils.host_input import TemplateFailure
from ansible_collections.hapair.loadbalancer.plugins.module_utils.role_input import PAIR_SETTINGS, members


class Link(NamedTuple):
    interface: str
    address: str


class Node(NamedTuple):
    host: str
    name: str
    cluster: str
    links: tuple[Link, ...]


class Pair(NamedTuple):
    """A pair as the roles read it (hapair_pair): its engine, timers (seconds, from the engine's Timers, plus the
    settle bound), VIP, preferred node and nodes (sorted by node name)."""

    name: str
    engine: dict[str, Any]
    timers: dict[str, float]
    vip: str
    vip_prefix: int
    vip_interface: str
    preferred_node: str
    preferred_host: str
    auto_failback: bool
    nodes: tuple[Node, ...]


class HostRecord(NamedTuple):
    """What node_input returns for one host. `secrets` maps the names of the secrets that are set to their values
    when the caller read them for the comparison across the pair (the pair_model action does, from the hosts'
    variables), else to None."""

    host: str
    entry_points: tuple[str, ...]
    typed: dict[str, Any]
    secrets: dict[str, str]
    errors: tuple[InputError, ...]
    warnings: tuple[InputError, ...]
    invalid: tuple[str, ...]
    facts: dict[str, Any]
    shared: tuple[str, ...]
    deprecated: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_result(cls, data):
        """From node_input's (registered) result."""
        return cls(
            host=data['host'], entry_points=tuple(data.get('entry_points') or ()), typed=dict(data.get('typed') or {}),
            secrets=dict((name, None) for name in data.get('secrets') or ()),
            errors=tuple(InputError.from_dict(e) for e in data.get('errors') or ()),
            warnings=tuple(InputError.from_dict(e) for e in data.get('warnings_found') or ()),
            invalid=tuple(data.get('invalid') or ()), facts=dict(data.get('facts') or {}),
            shared=tuple(data.get('shared') or ()),
            deprecated=tuple(tuple(d) for d in data.get('deprecated') or ()))


class OutsideHost(NamedTuple):
    """A host of the inventory outside the play, from its inventory data alone (no facts): its pair, VIP and link
    addresses as far as they could be read, and what could not be read ((variable, reason) pairs)."""

    host: str
    cluster: str
    vip: str
    links: tuple[str, ...]
    unreadable: tuple[tuple[str, str], ...] = ()


# The variables of a host outside the play that the pair model reads, and their defaults (the hapair role's).
OUTSIDE_VARIABLES = ('hapair_cluster', 'hapair_vip', 'hapair_links')


def outside_host(host, raw):
    """An OutsideHost from {variable: templated value, or TemplateFailure} of the variables in OUTSIDE_VARIABLES that
    are set for the host in the inventory."""
    unreadable = []
    cluster = raw.get('hapair_cluster', 'default')
    if isinstance(cluster, TemplateFailure) or not isinstance(cluster, str):
        unreadable.append(('hapair_cluster', cluster.reason if isinstance(cluster, TemplateFailure) else 'not a string'))
        cluster = ''
    vip = raw.get('hapair_vip', '')
    if isinstance(vip, TemplateFailure):
        unreadable.append(('hapair_vip', vip.reason))
        vip = ''
    elif not isinstance(vip, str) or (vip and grammar.ipv4_address(vip)):
        unreadable.append(('hapair_vip', 'not an IPv4 address'))
        vip = ''
    links = []
    value = raw.get('hapair_links')
    if value is None:
        unreadable.append(('hapair_links', 'not set, so its links come from its facts, which a run without it does '
                                           'not gather'))
    elif isinstance(value, TemplateFailure):
        unreadable.append(('hapair_links', value.reason))
    elif not isinstance(value, (list, tuple)) or not all(
            isinstance(link, dict) and isinstance(link.get('address'), str) and not grammar.ipv4_address(link['address'])
            for link in value):
        unreadable.append(('hapair_links', 'not a list of links with IPv4 addresses'))
    else:
        links = [link['address'] for link in value]
    return OutsideHost(host=str(host), cluster=cluster, vip=vip, links=tuple(links), unreadable=tuple(unreadable))


class Model(NamedTuple):
    hosts: dict[str, dict[str, Any]]
    errors: tuple[InputError, ...]
    warnings: tuple[InputError, ...]
    deprecations: tuple[tuple[str, str, tuple[str, ...]], ...]


def as_data(value):
    """NamedTuples (nested) as dicts and lists, for the facts the roles read."""
    if hasattr(value, '_asdict'):
        return dict((key, as_data(item)) for key, item in value._asdict().items())
    if isinstance(value, (list, tuple)):
        return [as_data(item) for item in value]
    if isinstance(value, dict):
        return dict((key, as_data(item)) for key, item in value.items())
    return value


def _networks(facts, interface):
    """[(address, network)] with the IPv4 addresses on an interface, from the facts."""
    return [(entry['address'], entry['network']) for entry in (facts.get('ipv4') or {}).get(interface, [])]


class _Builder:
    """Builds the model from the host records; see build()."""

    def __init__(self, records, outside=()):
        self.records = list(records)
        self.outside = list(outside)
        self.errors = []
        self.warnings = []

    def error(self, rule, variable, message, host=None, pair=None, value=None):
        error = make(rule, variable, message, host=host, pair=pair, value=value)
        if error not in self.errors:
            self.errors.append(error)

    @staticmethod
    def valid(record, *variables):
        return not any(variable in record.invalid for variable in variables) and all(
            record.typed.get(variable) is not None for variable in variables)

    # -- grouping -------------------------------------------------------------------------------------------

    def pairs(self):
        """{cluster: [records]} in inventory order, for records with a valid hapair_cluster."""
        result = {}
        for record in self.records:
            if self.valid(record, 'hapair_cluster'):
                result.setdefault(record.typed['hapair_cluster'], []).append(record)
        return result

    def check_grouping(self, pairs):
        folded = {}
        for cluster in pairs:
            folded.setdefault(cluster.lower(), []).append(cluster)
        for names in folded.values():
            if len(names) > 1:
                self.error('pair-case', 'hapair_cluster', 'Pairs %s: {variable} values that differ only in letter case '
                           '(%s). They are different pairs to Ansible but look the same to people, in /etc/hosts and in '
                           'the logs: give each pair a name that differs in more than case.' % (
                               ' and '.join(show(name) for name in names),
                               '; '.join('%s: %s' % (show(name), ', '.join(r.host for r in pairs[name])) for name in names)),
                           value=names)
        for cluster, records in pairs.items():
            if len(records) != 2:
                self.error('pair-size', 'hapair_cluster', 'the pair has %d node(s) in this play: %s. A pair needs exactly '
                           'two: give exactly two hosts each {variable} value, and do not --limit a run to one node of a '
                           'pair.' % (len(records), ', '.join(r.host for r in records)), pair=cluster, value=cluster)

    def check_node_names(self):
        seen = {}
        for record in self.records:
            if self.valid(record, 'hapair_node_name'):
                seen.setdefault(record.typed['hapair_node_name'].lower(), []).append(record)
        for records in seen.values():
            if len(records) > 1:
                described = ', '.join('%s (%s, pair %s)' % (r.host, show(r.typed['hapair_node_name']),
                                                            show(r.typed.get('hapair_cluster'))) for r in records)
                self.error('node-name', 'hapair_node_name', '{variable}: hosts %s have the same node name%s; every node '
                           'needs a name of its own (heartbeat and DNS compare names without regard to case).' % (
                               described, '' if len(set(r.typed['hapair_node_name'] for r in records)) == 1 else
                               ' but for letter case'), value=records[0].typed['hapair_node_name'])

    # -- links ----------------------------------------------------------------------------------------------

    def check_links_on_hosts(self):
        """Every link's interface exists on its host and carries the link's address (when facts are known)."""
        for record in self.records:
            facts = record.facts
            if not self.valid(record, 'hapair_links') or not facts.get('interfaces'):
                continue
            for index, link in enumerate(record.typed['hapair_links']):
                if link['interface'] not in facts['interfaces']:
                    self.error('link-interface', 'hapair_links', '{variable} item %d names interface {value}, which this '
                               "host does not have (interfaces there: %s). Expected the name of one of the host's own "
                               'interfaces for every link.' % (index + 1, ', '.join(sorted(facts['interfaces']))),
                               host=record.host, value=link['interface'])
                    continue
                on_interface = [address for address, _network in _networks(facts, link['interface'])]
                if link['address'] not in on_interface:
                    elsewhere = [name for name in sorted(facts.get('ipv4') or {})
                                 if link['address'] in [a for a, _n in _networks(facts, name)]]
                    self.error('link-address', 'hapair_links', '{variable} item %d: address {value} is not an address '
                               'of interface %s (its IPv4 addresses: %s)%s. Expected the host\'s own address on that '
                               "interface; the engine tells its own lines from its peer's by these addresses." % (
                                   index + 1, link['interface'], ', '.join(on_interface) or 'none',
                                   '; it is on %s' % ', '.join(elsewhere) if elsewhere else
                                   '; the host has it on no interface'), host=record.host, value=link['address'])

    def check_links_of_pair(self, cluster, records):
        if not all(self.valid(r, 'hapair_links') for r in records):
            return
        counts = [len(r.typed['hapair_links']) for r in records]
        if len(set(counts)) > 1:
            self.error('link-count', 'hapair_links', '{variable} must have the same number of links on both nodes, but '
                       '%s. Link N of one node and link N of the other are one path between them.' % (
                           ' and '.join('%s has %d' % (r.host, n) for r, n in zip(records, counts))), pair=cluster,
                       value=counts)
            return
        for index in range(counts[0]):
            links = [r.typed['hapair_links'][index] for r in records]
            networks = [dict(_networks(r.facts, link['interface'])).get(link['address']) for r, link in zip(records, links)]
            if None not in networks and len(set(networks)) > 1:
                self.error('link-subnet', 'hapair_links', 'link %d of {variable} is on different subnets on the two nodes '
                           '(%s). Link N of both nodes must be on one subnet, the same order on both nodes; the engine '
                           'could not reach the peer over it.' % (index + 1, ', '.join(
                               '%s %s %s on %s' % (r.host, link['interface'], link['address'], network)
                               for r, link, network in zip(records, links, networks))), pair=cluster, value=networks)

    def check_addresses_unique(self):
        owners = {}
        for record in self.records:
            if self.valid(record, 'hapair_links'):
                for link in record.typed['hapair_links']:
                    owners.setdefault(link['address'], []).append(record.host)
        for address, hosts in owners.items():
            unique = sorted(set(hosts))
            if len(unique) > 1:
                self.error('address-unique', 'hapair_links', '{variable} address {value} is listed by more than one host '
                           '(%s); every link address belongs to one host.' % ', '.join(unique), value=address)

    # -- shared settings ------------------------------------------------------------------------------------

    def check_agreement(self, cluster, records):
        if len(records) != 2:
            return
        names = list(PAIR_SETTINGS) + sorted(
            set(records[0].shared) & set(records[1].shared) & set(records[0].typed) & set(records[1].typed)
            - set(PAIR_SETTINGS))
        for name in names:
            if not all(self.valid(r, name) or r.typed.get(name) == '' for r in records):
                continue
            values = [r.typed.get(name) for r in records]
            if values[0] != values[1]:
                self.error('pair-agree', name, '{variable} differs between the nodes (%s). It must be the same on both '
                           "(the engine's files are identical, and both nodes judge the pair alike): set it for the "
                           'pair, not per host.' % ', '.join('%s: %s' % (r.host, show(v)) for r, v in zip(records, values)),
                           pair=cluster, value=values)
        engine = self.engine_of(records)
        for name in engine.secrets if engine else ():
            secrets = [r.secrets.get(name) for r in records]
            if None not in secrets and secrets[0] != secrets[1]:
                self.error('secret-agree', name, '{variable} differs between %s (values not shown). It must be the same '
                           "on both, because the engine's files must be identical." % ' and '.join(r.host for r in records),
                           pair=cluster)

    def engine_of(self, records):
        """The pair's Engine, when both nodes name the same valid one."""
        names = set(r.typed.get('hapair_engine') for r in records)
        if len(names) == 1 and all(self.valid(r, 'hapair_engine') for r in records):
            name = names.pop()
            return engines.get(name) if name in engines.NAMES else None
        return None

    def check_preferred(self, cluster, records):
        if len(records) != 2 or not all(self.valid(r, 'hapair_preferred_node', 'hapair_node_name') for r in records):
            return
        preferred = records[0].typed['hapair_preferred_node']
        names = [r.typed['hapair_node_name'] for r in records]
        if preferred != '' and preferred not in names:
            hint = ''
            hosts = [r.host for r in records]
            if preferred in hosts:
                hint = ' (%s is an inventory name; its node name is %s)' % (preferred, names[hosts.index(preferred)])
            elif preferred.lower() in [n.lower() for n in names]:
                hint = ' (node names are compared exactly, letter case included)'
            self.error('preferred-node', 'hapair_preferred_node', '{variable} {value} is not a node of the pair%s; '
                       'expected one of %s (node names, not inventory names), or empty.' % (hint, ', '.join(names)),
                       pair=cluster, value=preferred)

    # -- the VIP --------------------------------------------------------------------------------------------

    def node_addresses(self, record):
        """(primary, secondary) IPv4 addresses of a host: link addresses and the facts' primary addresses, and
        the facts' secondary addresses (the VIP is one of those on its holder)."""
        primary = set(link['address'] for link in record.typed.get('hapair_links') or []
                      if self.valid(record, 'hapair_links'))
        secondary = set()
        for entries in (record.facts.get('ipv4') or {}).values():
            for position, entry in enumerate(entries):
                (secondary if entry.get('secondary', position > 0) else primary).add(entry['address'])
        return primary, secondary

    def check_vip(self, cluster, records, vips):
        if len(records) != 2 or not all(self.valid(r, 'hapair_vip', 'hapair_vip_prefix', 'hapair_vip_interface')
                                        for r in records):
            return
        values = records[0].typed
        vip = values['hapair_vip']
        if vip == '':
            if any(any(ep in engines.roles() for ep in r.entry_points) for r in records):
                self.error('vip-required', 'hapair_vip', '{variable} is not set; the engine needs the virtual IP the pair '
                           'serves.', pair=cluster, value=vip)
            return
        if len(set((r.typed['hapair_vip'], r.typed['hapair_vip_prefix'], r.typed['hapair_vip_interface'])
                   for r in records)) > 1:
            return  # the disagreement is reported already
        prefix, interface = values['hapair_vip_prefix'], values['hapair_vip_interface']
        address = ipaddress.IPv4Address(vip)
        network = ipaddress.IPv4Network('%s/%d' % (vip, prefix), strict=False)
        if prefix <= 30 and address in (network.network_address, network.broadcast_address):
            self.error('vip-network-address', 'hapair_vip', '{variable} {value} is the %s address of its subnet %s '
                       '(hapair_vip_prefix %d); expected an address a host can have.' % (
                           'network' if address == network.network_address else 'broadcast', network, prefix),
                       pair=cluster, value=vip)
        missing = [r.host for r in records if r.facts.get('interfaces') and interface not in r.facts['interfaces']]
        if missing:
            first = [r for r in records if r.host == missing[0]][0]
            self.error('vip-interface', 'hapair_vip_interface', '{variable} {value} does not exist on %s (interfaces '
                       'there: %s).' % (' and '.join(missing), ', '.join(sorted(first.facts['interfaces']))),
                       pair=cluster, value=interface)
        outside = []
        for record in records:
            gateway = (record.facts.get('default_ipv4') or {}).get('gateway')
            if gateway == vip:
                self.error('vip-gateway', 'hapair_vip', '{variable} {value} is the default gateway of %s: the node '
                           'would send everything leaving its network to the VIP, that is to itself or its peer. '
                           'Expected an address no router has.' % record.host, pair=cluster, value=vip)
            # The VIP's own entry on its holder says only how it was added last time, not what the link is.
            entries = [n for a, n in _networks(record.facts, interface) if a != vip]
            if interface in (record.facts.get('interfaces') or []) and entries:
                inside = [n for n in entries if address in ipaddress.IPv4Network(n)]
                if not inside:
                    outside.append('%s (%s)' % (record.host, ', '.join(sorted(set(entries)))))
                elif not any(ipaddress.IPv4Network(n).prefixlen == prefix for n in inside):
                    self.error('vip-prefix', 'hapair_vip_prefix', '{variable} {value} differs from the prefix of the '
                               'network of hapair_vip_interface %s on %s, %s, where the VIP lies: the engine would add '
                               'the VIP with the network %s, and the node would route %s wrongly. Expected %d.' % (
                                   interface, record.host, inside[0], network,
                                   'part of its network' if prefix > ipaddress.IPv4Network(inside[0]).prefixlen
                                   else 'addresses beyond its network',
                                   ipaddress.IPv4Network(inside[0]).prefixlen), pair=cluster, value=prefix)
                else:
                    own = ipaddress.IPv4Network(inside[0])
                    if own != network and address in (own.network_address, own.broadcast_address) \
                            and own.prefixlen <= 30:
                        self.error('vip-network-address', 'hapair_vip', '{variable} {value} is the %s address of the '
                                   'subnet %s of %s on %s.' % ('network' if address == own.network_address else 'broadcast',
                                                               own, interface, record.host), pair=cluster, value=vip)
        if outside:
            self.error('vip-subnet', 'hapair_vip', '{variable} {value} is outside the subnet of hapair_vip_interface %s on '
                       "%s. The engine can only add it on the interface's own subnet." % (show(interface), ', '.join(outside)),
                       pair=cluster, value=vip)
        # Collisions with every host of the play.
        for record in self.records:
            primary, secondary = self.node_addresses(record)
            same_pair = record in records
            if vip in primary or (vip in secondary and not same_pair):
                where = 'in hapair_links or as the primary address of an interface' if vip in primary else \
                    'as a secondary address, and it is not a node of this pair'
                self.error('vip-collision', 'hapair_vip', '{variable} {value} is an address of %s%s (%s). The VIP must be '
                           'an address no host has of its own.' % (
                               record.host, '' if same_pair else ' (pair %s)' % show(record.typed.get('hapair_cluster')),
                               where), pair=cluster, value=vip)
            for member in members(record.typed):
                if member['host'] == vip:
                    self.error('vip-backend', 'hapair_vip', '{variable} {value} is also the address of a backend in '
                               'apache_balancer_members of %s (%s): the VIP moves between the nodes, so on any port it '
                               'is the balancer itself.' % (record.host, member['url']), pair=cluster, value=vip)
        others = [c for c, v in vips.items() if v == vip and c != cluster]
        if others:
            self.error('vip-unique', 'hapair_vip', '{variable} {value} is used by more than one pair (%s); every pair needs '
                       'a VIP of its own.' % ', '.join(sorted([cluster] + others)), value=vip)

    def check_segments(self, pairs):
        """Two pairs of one engine on one network may not share the id the engine uses there (Engine.segment_id:
        keepalived's virtual router id)."""
        seen = {}
        for cluster, records in pairs.items():
            engine = self.engine_of(records)
            if engine is None or len(records) != 2:
                continue
            ids = set(engine.segment_id(r.typed) for r in records)
            if len(ids) != 1 or None in ids:
                continue
            networks = set()
            for record in records:
                interface = record.typed.get('hapair_vip_interface')
                networks.update(n for _a, n in _networks(record.facts, interface))
            if not networks and self.valid(records[0], 'hapair_vip', 'hapair_vip_prefix') and records[0].typed['hapair_vip']:
                networks.add(str(ipaddress.IPv4Network('%s/%d' % (records[0].typed['hapair_vip'],
                                                                  records[0].typed['hapair_vip_prefix']), strict=False)))
            key = (engine.name, ids.pop())
            for other, other_networks in seen.get(key, []):
                if any(ipaddress.IPv4Network(a).overlaps(ipaddress.IPv4Network(b)) for a in networks for b in other_networks):
                    self.error('segment-id', engine.segment_variable,
                               'pairs %s and %s share the %s id {value} on one network (%s): each pair needs one of its own '
                               'there. Set {variable} for one of them.' % (
                                   show(other), show(cluster), engine.name, ', '.join(sorted(networks))), value=key[1])
            seen.setdefault(key, []).append((cluster, networks))

    def check_ping_nodes(self):
        """A ping node stands for the network beyond the nodes: it may not be a node of the play itself."""
        addresses = {}
        for record in self.records:
            for address in self.node_addresses(record)[0]:
                addresses.setdefault(address, record.host)
        for record in self.records:
            for node in record.typed.get('hapair_ping_nodes') or []:
                if node in addresses and not grammar.loopback_host(node):  # loopback: the monitor's rules say why
                    self.error('ping-node', 'hapair_ping_nodes', '{variable} lists {value}, an address of %s; expected '
                               "routers beyond the nodes, such as the VIP network's gateway." % addresses[node],
                               host=record.host, value=node)

    def check_members_not_nodes(self, vips):
        """A backend that is a balancer node on that node's site port sends requests in a loop: a node's own address
        (its links', and any other address of its interfaces but a VIP, which check_vip() refuses on every port), its
        node name (which the hosts block resolves to its first link) or its inventory name, in any letter case. The
        same address on another port is a service of the node's own, like any backend."""
        balancers = {}
        for record in self.records:
            primary, secondary = self.node_addresses(record)
            names = [('node name', record.typed.get('hapair_node_name')), ('inventory name', record.host)]
            for what, key in [('address', a) for a in sorted(primary | secondary) if a not in vips.values()] + names:
                if isinstance(key, str) and key:
                    balancers.setdefault(key.lower(), (record, what))
        for record in self.records:
            for member in members(record.typed):
                found = balancers.get(member['host'])
                if found is None or grammar.loopback_host(member['host']):
                    continue  # loopback (lo's address in the facts): role_input refuses it on the node's own port
                node, what = found
                port = node.typed.get('apache_balancer_port')
                if member['port'] == port:
                    self.error('member-loop', 'apache_balancer_members', '{variable} holds {value}: %s is the %s of the '
                               "balancer %s, whose site listens on port %d: requests would loop. Expected the backends' "
                               'addresses; a service on a balancer node needs a port of its own.' % (
                                   member['host'], what, node.host, port), host=record.host, value=member['url'])

    # -- hosts outside the play -----------------------------------------------------------------------------

    def check_outside(self, vips):
        """The play's VIPs and link addresses against the hosts of the inventory outside the play (--limit): another
        pair's VIP, another host's link address. A host outside the play with the VIP and pair name of a pair of the
        play is that pair's (its missing node: pair-size says so) or inherits its group's settings: no other pair."""
        play_pairs = set((r.typed['hapair_cluster'], r.typed['hapair_vip']) for r in self.records
                         if self.valid(r, 'hapair_cluster', 'hapair_vip'))
        others = [o for o in self.outside if (o.cluster, o.vip) not in play_pairs]
        for cluster, vip in sorted(vips.items()):
            holders = [o for o in others if o.vip == vip and o.cluster != cluster]
            for other_cluster in sorted(set(o.cluster for o in holders)):
                hosts = [o.host for o in holders if o.cluster == other_cluster]
                self.error('vip-unique', 'hapair_vip', '{variable} {value} is also the VIP of pair %s, whose hosts (%s) '
                           'are outside this play; every pair needs a VIP of its own.' % (
                               show(other_cluster), ', '.join(hosts)), pair=cluster, value=vip)
            for other in others:
                if vip in other.links:
                    self.error('vip-collision', 'hapair_vip', '{variable} {value} is a link address of %s (pair %s, '
                               'outside this play). The VIP must be an address no host has of its own.' % (
                                   other.host, show(other.cluster)), pair=cluster, value=vip)
        for record in self.records:
            if not self.valid(record, 'hapair_links'):
                continue
            cluster = record.typed.get('hapair_cluster')
            for link in record.typed['hapair_links']:
                for other in self.outside:
                    if link['address'] in other.links:
                        self.error('address-unique', 'hapair_links', '{variable} address {value} of %s is also a link '
                                   'address of %s, outside this play; every link address belongs to one host.' % (
                                       record.host, other.host), value=link['address'])
                    if link['address'] == other.vip and other.cluster != cluster and \
                            (other.cluster, other.vip) not in play_pairs:
                        self.error('vip-collision', 'hapair_links', '{variable} address {value} of %s is the VIP of pair '
                                   '%s, outside this play. The VIP must be an address no host has of its own.' % (
                                       record.host, show(other.cluster)), host=record.host, value=link['address'])
        unread = [o for o in others if o.unreadable]
        if unread:
            self.warnings.append(make(
                'outside-unchecked', '', 'The VIPs and link addresses of this play were not checked against what could '
                'not be read of %d host(s) outside the play: %s. Check them by hand, or run the play with those hosts.'
                % (len(unread), '; '.join('%s (%s)' % (o.host, ', '.join('%s: %s' % u for u in o.unreadable))
                                          for o in unread)), value=[o.host for o in unread], level='warning'))

    # -- one machine, one node -------------------------------------------------------------------------------

    LOCAL_CONNECTIONS = ('local', 'ansible.builtin.local', 'ansible.legacy.local')

    def _same_machine(self, first, second):
        """What shows that two hosts are one machine, or None: Ansible reaches both at one address and port (a local
        connection names no address: test inventories run fake hosts that way), a MAC address on the links of both,
        or one machine id."""
        facts = first.facts, second.facts
        connections = [f.get('ansible_connection') for f in facts]
        if None not in connections and not any(c in self.LOCAL_CONNECTIONS for c in connections):
            ssh = [c in ('ssh', 'smart', 'paramiko', 'paramiko_ssh') or c.endswith('.ssh') or c.endswith('.paramiko_ssh')
                   for c in connections]
            endpoints = [('ssh' if s else c, str(f.get('ansible_host') or '').lower(), f.get('ansible_port'))
                         for s, c, f in zip(ssh, connections, facts)]
            if endpoints[0] == endpoints[1] and endpoints[0][1]:
                return 'Ansible reaches both at %s%s' % (
                    facts[0]['ansible_host'], ' port %s' % endpoints[0][2] if endpoints[0][2] else '')
        macs = []
        for record in (first, second):
            links = record.typed.get('hapair_links') if self.valid(record, 'hapair_links') else []
            macs.append(dict(((record.facts.get('macs') or {}).get(link['interface']), link['interface'])
                             for link in links or [] if (record.facts.get('macs') or {}).get(link['interface'])))
        shared = sorted(set(macs[0]) & set(macs[1]))
        if shared:
            return 'the MAC address %s is on %s of %s and %s of %s' % (
                shared[0], macs[0][shared[0]], first.host, macs[1][shared[0]], second.host)
        ids = [f.get('machine_id') for f in facts]
        if ids[0] and ids[0] == ids[1]:
            return 'both have the machine id %s (two machines cloned from one image need one each: ' \
                   'systemd-machine-id-setup after removing /etc/machine-id)' % ids[0]
        return None

    def check_same_machine(self):
        """Two hosts of the play that are one machine: as both nodes of a pair it would be its own peer, and in two
        pairs it would run two sites and two engines at once."""
        for index, first in enumerate(self.records):
            for second in self.records[index + 1:]:
                evidence = self._same_machine(first, second)
                if not evidence:
                    continue
                clusters = [r.typed.get('hapair_cluster') if self.valid(r, 'hapair_cluster') else None
                            for r in (first, second)]
                same_pair = clusters[0] is not None and clusters[0] == clusters[1]
                self.error('same-machine', 'ansible_host', 'hosts %s and %s are one machine: %s. %s Expected a '
                           'machine of its own for every host.' % (
                               first.host, second.host, evidence,
                               'As the two nodes of the pair it would be its own peer, and the pair no pair.'
                               if same_pair else 'It cannot serve in two places at once.'),
                           pair=clusters[0] if same_pair else None, value=[first.host, second.host])

    # -- the result -----------------------------------------------------------------------------------------

    def check_maintenance(self, pairs):
        """hapair_maintenance (the maintenance playbook): each name is a node of the play, by its node name or its
        inventory name, or 'none' alone; both nodes of one pair only with hapair_maintenance_force (the pair would have no
        node to serve the site)."""
        asked = [r for r in self.records if self.valid(r, 'hapair_maintenance')]
        if not asked:
            return
        known = {}
        for cluster, records in pairs.items():
            for record in records:
                known[record.host.lower()] = (cluster, record)
                if self.valid(record, 'hapair_node_name'):
                    known[record.typed['hapair_node_name'].lower()] = (cluster, record)
        names = []
        for record in asked:
            for name in record.typed['hapair_maintenance']:
                if name not in names:
                    names.append(name)
        chosen = {}
        listing = ', '.join('%s (%s)' % (r.typed.get('hapair_node_name') or r.host, r.host)
                            for records in pairs.values() for r in records)
        for name in names:
            if name.lower() == 'none':
                continue
            if name.lower() not in known:
                self.error('maintenance-unknown', 'hapair_maintenance', '{variable} names {value}, which is no node of '
                           'this play: expected a node name or an inventory name of %s, or none.' % listing, value=name)
                continue
            cluster, record = known[name.lower()]
            if record.host not in [r.host for r in chosen.setdefault(cluster, [])]:
                chosen[cluster].append(record)
        for cluster, records in chosen.items():
            if len(records) > 1 and not any(r.typed.get('hapair_maintenance_force') for r in records):
                self.error('maintenance-pair', 'hapair_maintenance', '{variable} names both nodes of the pair (%s): '
                           'it would have no node to serve the site. Put one node in maintenance at a time, or set '
                           'hapair_maintenance_force: true to take the whole pair out (the VIP then stays where it is, '
                           'with no failover).' % ', '.join(r.host for r in records), pair=cluster,
                           value=sorted(r.host for r in records))

    def pair_of(self, cluster, records):
        nodes = [Node(r.host, r.typed.get('hapair_node_name'), cluster,
                      tuple(Link(link['interface'], link['address']) for link in r.typed.get('hapair_links') or []))
                 for r in records]
        # The default preferred node is the first in inventory order; the nodes are then listed by name, so that
        # files listing them do not change when the inventory is reordered.
        preferred = records[0].typed.get('hapair_preferred_node') or nodes[0].name
        nodes.sort(key=lambda node: str(node.name))
        engine = self.engine_of(records)
        pair_timers = {}
        engine_data = {}
        if engine is not None:
            engine_data = {'name': engine.name, 'role': engine.role, 'service': engine.service,
                           'process': engine.process, 'packages': list(engine.packages),
                           # The node-side adapter's settings (node_engine.py), with the VIP it may need.
                           'monitor': dict(engine.monitor_settings(), vip=records[0].typed.get('hapair_vip')),
                           'fault_methods': dict((name, method._asdict())
                                                 for name, method in engine.fault_methods.items())}
            try:
                found = engine.timers(records[0].typed)
            except (KeyError, TypeError, ValueError):
                found = None  # the engine's timers are not among the entry points checked, or invalid (reported)
            if found is not None:
                pair_timers = dict(found._asdict(), settle=engine.settle_seconds(found))
        return Pair(
            name=cluster, engine=engine_data, timers=pair_timers, vip=records[0].typed.get('hapair_vip'),
            vip_prefix=records[0].typed.get('hapair_vip_prefix'), vip_interface=records[0].typed.get('hapair_vip_interface'),
            preferred_node=preferred,
            preferred_host=next((n.host for n in nodes if n.name == preferred), nodes[0].host),
            auto_failback=bool(records[0].typed.get('hapair_auto_failback', True)), nodes=tuple(nodes))

    def build(self):
        for record in self.records:
            for error in record.errors:
                if error not in self.errors:
                    self.errors.append(error)
        pairs = self.pairs()
        self.check_grouping(pairs)
        self.check_same_machine()
        self.check_node_names()
        self.check_links_on_hosts()
        self.check_addresses_unique()
        vips = {}
        for cluster, records in pairs.items():
            if len(records) == 2 and all(self.valid(r, 'hapair_vip') for r in records) and records[0].typed['hapair_vip']:
                vips[cluster] = records[0].typed['hapair_vip']
        for cluster, records in pairs.items():
            self.check_links_of_pair(cluster, records)
            self.check_agreement(cluster, records)
            self.check_preferred(cluster, records)
            self.check_vip(cluster, records, vips)
        self.check_members_not_nodes(vips)
        self.check_outside(vips)
        self.check_ping_nodes()
        self.check_segments(pairs)
        self.check_maintenance(pairs)
        hosts = {}
        for cluster, records in pairs.items():
            pair = self.pair_of(cluster, records)
            for node in pair.nodes:
                peers = [n for n in pair.nodes if n.host != node.host]
                hosts[node.host] = {'node': as_data(node), 'peer': as_data(peers[0]) if len(peers) == 1 else None,
                                    'pair': as_data(pair)}
        warnings = tuple(warning for record in self.records for warning in record.warnings) + tuple(self.warnings)
        deprecated = {}
        for record in self.records:
            for old, new in record.deprecated:
                deprecated.setdefault((old, new), []).append(record.host)
        return Model(hosts=hosts, errors=tuple(self.errors), warnings=warnings,
                     deprecations=tuple((old, new, tuple(h)) for (old, new), h in sorted(deprecated.items())))


def build(records, outside=()):
    """The Model of the play from HostRecords and the OutsideHosts of the inventory; see the module docstring."""
    return _Builder(records, outside).build()


def deprecation_message(old, new, hosts):
    """The one deprecation warning of an old variable name."""
    return '%s is deprecated and will be removed in hapair.loadbalancer %s: use %s (set for %s).' % (
        old, engines.RENAMED_REMOVED_IN, new, ', '.join(hosts))
