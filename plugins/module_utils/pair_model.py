# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pair model: which hosts form a pair, and every rule that spans hosts or pairs.

Input: one HostRecord per host of the play, in inventory order, as the node_input action plugin makes it from the
host's typed input (role_input.py) and its network facts. Output (build()): a Model with, for every host, its Node,
its peer and its Pair (published as the facts hapair_node, hapair_peer, hapair_pair), and every InputError of every
host and pair at once, each naming the host or pair, the variable and the value (never the value of a secret).

What an engine contributes (the variables that must agree, the secrets, the timers) comes from its Engine
(engines.get(hapair_engine)); nothing here names an engine's variables.

Pure Python and the standard library; tests/unit/plugins/module_utils/cases/pair_model.yml holds a case per rule.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Dict, NamedTuple, Tuple

from ansible_collections.hapair.loadbalancer.plugins.module_utils import engines
from ansible_collections.hapair.loadbalancer.plugins.module_utils.errors import InputError, show
from ansible_collections.hapair.loadbalancer.plugins.module_utils.role_input import PAIR_SETTINGS, members


class Link(NamedTuple):
    interface: str
    address: str


class Node(NamedTuple):
    host: str
    name: str
    cluster: str
    links: Tuple[Link, ...]


class Pair(NamedTuple):
    """A pair as the roles read it (hapair_pair): its engine, timers (seconds, from the engine's Timers, plus the
    settle bound), VIP, preferred node and nodes (sorted by node name)."""

    name: str
    engine: Dict[str, Any]
    timers: Dict[str, float]
    vip: str
    vip_prefix: int
    vip_interface: str
    preferred_node: str
    preferred_host: str
    auto_failback: bool
    nodes: Tuple[Node, ...]


class HostRecord(NamedTuple):
    """What node_input returns for one host. `secrets` maps the names of the secrets that are set to their values
    when the caller read them for the comparison across the pair (the pair_model action does, from the hosts'
    variables), else to None."""

    host: str
    entry_points: Tuple[str, ...]
    typed: Dict[str, Any]
    secrets: Dict[str, str]
    errors: Tuple[InputError, ...]
    warnings: Tuple[InputError, ...]
    invalid: Tuple[str, ...]
    facts: Dict[str, Any]
    shared: Tuple[str, ...]
    deprecated: Tuple[Tuple[str, str], ...] = ()

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


class Model(NamedTuple):
    hosts: Dict[str, Dict[str, Any]]
    errors: Tuple[InputError, ...]
    warnings: Tuple[InputError, ...]
    deprecations: Tuple[Tuple[str, str, Tuple[str, ...]], ...]


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

    def __init__(self, records):
        self.records = list(records)
        self.errors = []

    def error(self, rule, variable, message, host=None, pair=None, value=None):
        error = InputError(rule, variable, message, host=host, pair=pair, value=value)
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
            entries = [n for _a, n in _networks(record.facts, interface)]
            if interface in (record.facts.get('interfaces') or []) and entries:
                inside = [n for n in entries if address in ipaddress.IPv4Network(n)]
                if not inside:
                    outside.append('%s (%s)' % (record.host, ', '.join(sorted(set(entries)))))
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
                               'apache_balancer_members of %s (%s): the balancer would send requests to itself.' % (
                                   record.host, member['url']), pair=cluster, value=vip)
        others = [c for c, v in vips.items() if v == vip and c != cluster]
        if others:
            self.error('vip-unique', 'hapair_vip', '{variable} {value} is used by more than one pair (%s); every pair needs '
                       'a VIP of its own.' % ', '.join(sorted([cluster] + others)), value=vip)

    def check_ping_nodes(self):
        """A ping node stands for the network beyond the nodes: it may not be a node of the play itself."""
        addresses = {}
        for record in self.records:
            for address in self.node_addresses(record)[0]:
                addresses.setdefault(address, record.host)
        for record in self.records:
            for node in record.typed.get('hapair_ping_nodes') or []:
                if node in addresses:
                    self.error('ping-node', 'hapair_ping_nodes', '{variable} lists {value}, an address of %s; expected '
                               "routers beyond the nodes, such as the VIP network's gateway." % addresses[node],
                               host=record.host, value=node)

    def check_members_not_nodes(self):
        """A backend on a balancer node's own address and the balancer's port would send requests in a loop."""
        addresses = {}
        for record in self.records:
            for address in self.node_addresses(record)[0]:
                addresses.setdefault(address, record.host)
        for record in self.records:
            port = record.typed.get('apache_balancer_port')
            for member in members(record.typed):
                if member['host'] in addresses and member['port'] == port:
                    self.error('member-loop', 'apache_balancer_members', '{variable} holds {value}, the balancer itself on '
                               "%s (port %d): requests would loop. Expected the backends' addresses." % (
                                   addresses[member['host']], port), host=record.host, value=member['url'])

    # -- the result -----------------------------------------------------------------------------------------

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
                           'monitor': engine.monitor_settings(),
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
        self.check_members_not_nodes()
        self.check_ping_nodes()
        hosts = {}
        for cluster, records in pairs.items():
            pair = self.pair_of(cluster, records)
            for node in pair.nodes:
                peers = [n for n in pair.nodes if n.host != node.host]
                hosts[node.host] = {'node': as_data(node), 'peer': as_data(peers[0]) if len(peers) == 1 else None,
                                    'pair': as_data(pair)}
        warnings = tuple(warning for record in self.records for warning in record.warnings)
        deprecated = {}
        for record in self.records:
            for old, new in record.deprecated:
                deprecated.setdefault((old, new), []).append(record.host)
        return Model(hosts=hosts, errors=tuple(self.errors), warnings=warnings,
                     deprecations=tuple((old, new, tuple(h)) for (old, new), h in sorted(deprecated.items())))


def build(records):
    """The Model of the play from HostRecords; see the module docstring."""
    return _Builder(records).build()


def deprecation_message(old, new, hosts):
    """The one deprecation warning of an old variable name."""
    return '%s is deprecated and will be removed in hapair.loadbalancer %s: use %s (set for %s).' % (
        old, engines.RENAMED_REMOVED_IN, new, ', '.join(hosts))
