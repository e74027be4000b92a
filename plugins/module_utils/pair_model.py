# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pair model: which hosts form a pair, and every rule that spans hosts or pairs.

Input: one record per host of the play, in inventory order, as the node_input action plugin makes it from the
host's typed input (module_utils/role_input.py) and its network facts. Output: for every host its node, its peer
and its pair (the public facts hapair_node, hapair_peer, hapair_pair), and every error of every host and pair at
once, each naming the host or pair, the variable and the value (never the value of a secret).

Pure Python and the standard library; tests/unit/plugins/module_utils/test_pair_model.py has a test per rule.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.hapair.loadbalancer.plugins.module_utils.role_input import members, show

# Settings both nodes of a pair must share: heartbeat's files are byte-identical, and the VIP is one.
PAIR_SETTINGS = ('hapair_vip', 'hapair_vip_prefix', 'hapair_vip_interface', 'hapair_preferred_node')
# heartbeat_* variables of the main entry point that are per host by nature, not written into a shared file.
HEARTBEAT_PER_HOST = ()
SHARED_SECRETS = ('heartbeat_auth_key',)


def _networks(facts, interface):
    """IPv4 networks ('a.b.c.d/nn') with the addresses on an interface, from the facts: [(address, network)]."""
    return [(entry['address'], entry['network']) for entry in (facts.get('ipv4') or {}).get(interface, [])]


def _node(record):
    values = record['typed']
    return {
        'host': record['host'],
        'name': values.get('hapair_node_name'),
        'cluster': values.get('hapair_cluster'),
        'links': [dict(link) for link in values.get('hapair_links') or []],
    }


class Model:
    """Builds the model from the host records; see build()."""

    def __init__(self, records):
        self.records = records
        self.by_host = {record['host']: record for record in records}
        self.errors = []

    def error(self, message):
        if message not in self.errors:
            self.errors.append(message)

    def valid(self, record, *variables):
        return not any(variable in record.get('invalid', ()) for variable in variables) and all(
            record['typed'].get(variable) is not None for variable in variables)

    # -- grouping -------------------------------------------------------------------------------------------

    def pairs(self):
        """{cluster: [records]} in inventory order, for records with a valid hapair_cluster."""
        result = {}
        for record in self.records:
            if self.valid(record, 'hapair_cluster'):
                result.setdefault(record['typed']['hapair_cluster'], []).append(record)
        return result

    def check_grouping(self, pairs):
        folded = {}
        for cluster in pairs:
            folded.setdefault(cluster.lower(), []).append(cluster)
        for names in folded.values():
            if len(names) > 1:
                self.error('Pairs %s: hapair_cluster values that differ only in letter case (%s). They are different '
                           'pairs to Ansible but look the same to people, in /etc/hosts and in the logs: give each pair a '
                           'name that differs in more than case.' % (
                               ' and '.join(show(name) for name in names),
                               '; '.join('%s: %s' % (show(name), ', '.join(r['host'] for r in pairs[name])) for name in names)))
        for cluster, records in pairs.items():
            if len(records) != 2:
                self.error("Pair %s (hapair_cluster) has %d node(s) in this play: %s. A pair needs exactly two: give exactly "
                           'two hosts each hapair_cluster value, and do not --limit a run to one node of a pair.' % (
                               show(cluster), len(records), ', '.join(r['host'] for r in records)))

    def check_node_names(self):
        seen = {}
        for record in self.records:
            if not self.valid(record, 'hapair_node_name'):
                continue
            name = record['typed']['hapair_node_name']
            seen.setdefault(name.lower(), []).append(record)
        for records in seen.values():
            if len(records) > 1:
                described = ', '.join('%s (%s, pair %s)' % (r['host'], show(r['typed']['hapair_node_name']),
                                                            show(r['typed'].get('hapair_cluster'))) for r in records)
                self.error('hapair_node_name: hosts %s have the same node name%s; every node needs a name of its own '
                           '(heartbeat and DNS compare names without regard to case).' % (
                               described, '' if len({r['typed']['hapair_node_name'] for r in records}) == 1 else
                               ' but for letter case'))

    # -- links ----------------------------------------------------------------------------------------------

    def check_links_on_hosts(self):
        """Every link's interface exists on its host and carries the link's address (when facts are known)."""
        for record in self.records:
            facts = record.get('facts') or {}
            if not self.valid(record, 'hapair_links') or not facts.get('interfaces'):
                continue
            for index, link in enumerate(record['typed']['hapair_links']):
                if link['interface'] not in facts['interfaces']:
                    self.error('Host %s: hapair_links item %d names interface %s, which this host does not have (interfaces '
                               'there: %s). Expected the name of one of the host\'s own interfaces for every link.' % (
                                   record['host'], index + 1, show(link['interface']), ', '.join(sorted(facts['interfaces']))))
                    continue
                on_interface = [address for address, _network in _networks(facts, link['interface'])]
                if link['address'] not in on_interface:
                    elsewhere = [name for name in sorted(facts.get('ipv4') or {})
                                 if link['address'] in [a for a, _n in _networks(facts, name)]]
                    self.error('Host %s: hapair_links item %d: address %s is not an address of interface %s (its IPv4 '
                               'addresses: %s)%s. Expected the host\'s own address on that interface; heartbeat tells its '
                               'own lines from its peer\'s by these addresses.' % (
                                   record['host'], index + 1, link['address'], link['interface'],
                                   ', '.join(on_interface) or 'none',
                                   '; it is on %s' % ', '.join(elsewhere) if elsewhere else
                                   '; the host has it on no interface'))

    def check_links_of_pair(self, cluster, records):
        if not all(self.valid(r, 'hapair_links') for r in records):
            return
        counts = [len(r['typed']['hapair_links']) for r in records]
        if len(set(counts)) > 1:
            self.error("Pair %s: hapair_links must have the same number of links on both nodes, but %s. Link N of one node "
                       'and link N of the other are one path between them.' % (
                           show(cluster), ' and '.join('%s has %d' % (r['host'], n) for r, n in zip(records, counts))))
            return
        for index in range(counts[0]):
            links = [r['typed']['hapair_links'][index] for r in records]
            networks = []
            for record, link in zip(records, links):
                network = dict(_networks(record.get('facts') or {}, link['interface'])).get(link['address'])
                networks.append(network)
            if None not in networks and len(set(networks)) > 1:
                self.error('Pair %s: link %d of hapair_links is on different subnets on the two nodes (%s). Link N of both '
                           'nodes must be on one subnet, the same order on both nodes; heartbeat could not reach the '
                           'peer over it.' % (show(cluster), index + 1, ', '.join(
                               '%s %s %s on %s' % (r['host'], link['interface'], link['address'], network)
                               for r, link, network in zip(records, links, networks))))

    def check_addresses_unique(self):
        owners = {}
        for record in self.records:
            if not self.valid(record, 'hapair_links'):
                continue
            for link in record['typed']['hapair_links']:
                owners.setdefault(link['address'], []).append(record['host'])
        for address, hosts in owners.items():
            unique = sorted(set(hosts))
            if len(unique) > 1:
                self.error('hapair_links address %s is listed by more than one host (%s); every link address belongs to '
                           'one host.' % (address, ', '.join(unique)))

    # -- shared settings ------------------------------------------------------------------------------------

    def check_agreement(self, cluster, records):
        if len(records) != 2:
            return
        names = list(PAIR_SETTINGS) + sorted(
            n for n in set(records[0]['typed']) & set(records[1]['typed'])
            if n.startswith('heartbeat_') and n in records[0].get('shared', ()) and n not in HEARTBEAT_PER_HOST)
        for name in names:
            if not all(self.valid(r, name) or r['typed'].get(name) == '' for r in records):
                continue
            values = [r['typed'].get(name) for r in records]
            if values[0] != values[1]:
                self.error('Pair %s: %s differs between the nodes (%s). It must be the same on both (heartbeat\'s files '
                           'are identical, and both nodes judge the pair alike): set it for the pair, not per host.' % (
                               show(cluster), name, ', '.join('%s: %s' % (r['host'], show(v)) for r, v in zip(records, values))))
        for name in SHARED_SECRETS:
            secrets = [r.get('secrets', {}).get(name) for r in records]
            if None not in secrets and secrets[0] != secrets[1]:
                self.error('Pair %s: %s differs between %s (values not shown). It must be the same on both, because '
                           'heartbeat\'s files must be identical.' % (show(cluster), name, ' and '.join(r['host'] for r in records)))

    def check_preferred(self, cluster, records):
        if len(records) != 2 or not all(self.valid(r, 'hapair_preferred_node', 'hapair_node_name') for r in records):
            return
        preferred = records[0]['typed']['hapair_preferred_node']
        names = [r['typed']['hapair_node_name'] for r in records]
        if preferred != '' and preferred not in names:
            hint = ''
            hosts = [r['host'] for r in records]
            if preferred in hosts:
                hint = ' (%s is an inventory name; its node name is %s)' % (preferred, names[hosts.index(preferred)])
            elif preferred.lower() in [n.lower() for n in names]:
                hint = ' (node names are compared exactly, letter case included)'
            self.error('Pair %s: hapair_preferred_node %s is not a node of the pair%s; expected one of %s (node names, '
                       'not inventory names), or empty.' % (show(cluster), show(preferred), hint, ', '.join(names)))

    # -- the VIP --------------------------------------------------------------------------------------------

    def node_addresses(self, record):
        """(primary, secondary) IPv4 addresses of a host: link addresses and the facts' primary addresses, and
        the facts' secondary addresses (heartbeat's VIP is one of those on its holder)."""
        facts = record.get('facts') or {}
        primary = set(link['address'] for link in record['typed'].get('hapair_links') or [] if self.valid(record, 'hapair_links'))
        secondary = set()
        for entries in (facts.get('ipv4') or {}).values():
            for position, entry in enumerate(entries):
                (secondary if entry.get('secondary', position > 0) else primary).add(entry['address'])
        return primary, secondary

    def check_vip(self, cluster, records, vips):
        if len(records) != 2 or not all(self.valid(r, 'hapair_vip', 'hapair_vip_prefix', 'hapair_vip_interface') for r in records):
            return
        values = records[0]['typed']
        vip = values['hapair_vip']
        if vip == '':
            if any('heartbeat' in r.get('entry_points', ()) for r in records):
                self.error("Pair %s: hapair_vip is not set; heartbeat needs the virtual IP the pair serves." % show(cluster))
            return
        if len({(r['typed']['hapair_vip'], r['typed']['hapair_vip_prefix'], r['typed']['hapair_vip_interface']) for r in records}) > 1:
            return  # the disagreement is reported already
        prefix, interface = values['hapair_vip_prefix'], values['hapair_vip_interface']
        address = ipaddress.IPv4Address(vip)
        network = ipaddress.IPv4Network('%s/%d' % (vip, prefix), strict=False)
        if prefix <= 30 and address in (network.network_address, network.broadcast_address):
            self.error('Pair %s: hapair_vip %s is the %s address of its subnet %s (hapair_vip_prefix %d); expected an address '
                       'a host can have.' % (show(cluster), vip, 'network' if address == network.network_address else 'broadcast',
                                             network, prefix))
        missing = [r['host'] for r in records if (r.get('facts') or {}).get('interfaces') and interface not in r['facts']['interfaces']]
        if missing:
            self.error('Pair %s: hapair_vip_interface %s does not exist on %s (interfaces there: %s).' % (
                show(cluster), show(interface), ' and '.join(missing),
                ', '.join(sorted(self.by_host[missing[0]]['facts']['interfaces']))))
        outside = []
        for record in records:
            facts = record.get('facts') or {}
            entries = [n for _a, n in _networks(facts, interface)]
            if interface in (facts.get('interfaces') or []) and entries:
                if not any(address in ipaddress.IPv4Network(n) for n in entries):
                    outside.append('%s (%s)' % (record['host'], ', '.join(sorted(set(entries)))))
                else:
                    own = [n for n in entries if address in ipaddress.IPv4Network(n)][0]
                    own_network = ipaddress.IPv4Network(own)
                    if address in (own_network.network_address, own_network.broadcast_address) and own_network.prefixlen <= 30:
                        self.error('Pair %s: hapair_vip %s is the %s address of the subnet %s of %s on %s.' % (
                            show(cluster), vip, 'network' if address == own_network.network_address else 'broadcast',
                            own_network, interface, record['host']))
        if outside:
            self.error('Pair %s: hapair_vip %s is outside the subnet of hapair_vip_interface %s on %s. heartbeat can only add '
                       'it on the interface\'s own subnet.' % (show(cluster), vip, show(interface), ', '.join(outside)))
        # Collisions with every host of the play.
        for record in self.records:
            primary, secondary = self.node_addresses(record)
            same_pair = record in records
            if vip in primary or (vip in secondary and not same_pair):
                where = 'in hapair_links or as the primary address of an interface' if vip in primary else \
                    'as a secondary address, and it is not a node of this pair'
                self.error('Pair %s: hapair_vip %s is an address of %s%s (%s). The VIP must be an address no host has of '
                           'its own.' % (show(cluster), vip, record['host'],
                                         '' if same_pair else ' (pair %s)' % show(record['typed'].get('hapair_cluster')), where))
            for member in members(record['typed']):
                if member['host'] == vip:
                    self.error('Pair %s: hapair_vip %s is also the address of a backend in apache_balancer_members of %s '
                               '(%s): the balancer would send requests to itself.' % (show(cluster), vip, record['host'], member['url']))
        others = [c for c, v in vips.items() if v == vip and c != cluster]
        if others:
            self.error('hapair_vip %s is used by more than one pair (%s); every pair needs a VIP of its own.' % (
                vip, ', '.join(sorted([cluster] + others))))

    def check_ping_nodes(self):
        """A ping node stands for the network beyond the nodes: it may not be a node of the play itself."""
        addresses = {}
        for record in self.records:
            for address in self.node_addresses(record)[0]:
                addresses.setdefault(address, record['host'])
        for record in self.records:
            for node in record['typed'].get('heartbeat_ping_nodes') or []:
                if node in addresses:
                    self.error('Host %s: heartbeat_ping_nodes lists %s, an address of %s; expected routers beyond the '
                               "nodes, such as the VIP network's gateway." % (record['host'], node, addresses[node]))

    def check_members_not_nodes(self):
        """A backend on a balancer node's own address and the balancer's port would send requests in a loop."""
        addresses = {}
        for record in self.records:
            for address in self.node_addresses(record)[0]:
                addresses.setdefault(address, record['host'])
        for record in self.records:
            port = record['typed'].get('apache_balancer_port')
            for member in members(record['typed']):
                if member['host'] in addresses and member['port'] == port:
                    self.error('Host %s: apache_balancer_members holds %s, the balancer itself on %s (port %d): requests '
                               'would loop. Expected the backends\' addresses.' % (
                                   record['host'], member['url'], addresses[member['host']], port))

    # -- the result -----------------------------------------------------------------------------------------

    def build(self):
        for record in self.records:
            for message in record.get('errors', []):
                self.error(message)
        pairs = self.pairs()
        self.check_grouping(pairs)
        self.check_node_names()
        self.check_links_on_hosts()
        self.check_addresses_unique()
        vips = {}
        for cluster, records in pairs.items():
            if len(records) == 2 and all(self.valid(r, 'hapair_vip') for r in records) and records[0]['typed']['hapair_vip']:
                vips[cluster] = records[0]['typed']['hapair_vip']
        for cluster, records in pairs.items():
            self.check_links_of_pair(cluster, records)
            self.check_agreement(cluster, records)
            self.check_preferred(cluster, records)
            self.check_vip(cluster, records, vips)
        self.check_members_not_nodes()
        self.check_ping_nodes()
        hosts = {}
        for cluster, records in pairs.items():
            nodes = [_node(r) for r in records]
            # The default preferred node is the first in inventory order; the nodes are then listed by name, so
            # that files listing them do not change when the inventory is reordered.
            preferred = records[0]['typed'].get('hapair_preferred_node') or nodes[0]['name']
            nodes.sort(key=lambda node: str(node['name']))
            pair = {
                'name': cluster,
                'vip': records[0]['typed'].get('hapair_vip'),
                'vip_prefix': records[0]['typed'].get('hapair_vip_prefix'),
                'vip_interface': records[0]['typed'].get('hapair_vip_interface'),
                'preferred_node': preferred,
                'preferred_host': next((n['host'] for n in nodes if n['name'] == preferred), nodes[0]['host']),
                'nodes': nodes,
            }
            for node in nodes:
                peers = [n for n in nodes if n['host'] != node['host']]
                hosts[node['host']] = {'node': node, 'peer': peers[0] if len(peers) == 1 else None, 'pair': pair}
        warnings = [message for record in self.records for message in record.get('warnings', [])]
        return {'hosts': hosts, 'errors': self.errors, 'warnings': warnings}


def build(records):
    """The model of the play: {hosts: {host: {node, peer, pair}}, errors: [...], warnings: [...]}; see the module
    docstring."""
    return Model(records).build()
