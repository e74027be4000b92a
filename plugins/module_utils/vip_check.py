# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The logic of hapair.loadbalancer.vip_check: local state + ARP probe -> verdict.

check(params) returns (result, warnings); the module only passes them on. The result has
the same keys whatever happens, so that a playbook that runs the module with
``failed_when: false`` can judge a pair from both nodes' results.

Verdict, from this node's point of view (H: the VIP is configured here; N: number of other
MACs that claimed the VIP during the ARP probe):

- probe ran:       H and N == 0 -> holder;  not H and N == 1 -> standby;
                   anything else -> conflict (H and N >= 1, or not H and N == 0 or N >= 2).
- probe disabled or unable to run: H -> holder, not H -> standby (local state only;
                   arp_probe.ran is false, and a warning when it could not run).

Compatible with Python 3.8 and later (this code runs on the managed node).
"""

from __future__ import annotations

import ipaddress

from ansible_collections.hapair.loadbalancer.plugins.module_utils import vip_check_arp as arp
from ansible_collections.hapair.loadbalancer.plugins.module_utils import vip_check_kernel as kernel

VERDICTS = ('holder', 'standby', 'conflict')
MAX_TIMEOUT = 60.0


def normalize_vip(value):
    """Return the VIP as a dotted quad, or raise ValueError with a message for the user."""
    text = (value or '').strip()
    try:
        address = ipaddress.IPv4Address(text)
    except ValueError:
        raise ValueError('vip must be a single IPv4 address such as 198.51.100.230 (no prefix length); got %r' % value) from None
    if address.is_unspecified or address.is_multicast or address.is_loopback or address == ipaddress.IPv4Address('255.255.255.255'):
        raise ValueError('vip must be a unicast IPv4 address usable as a service address; got %s' % address)
    return str(address)


def validate_params(params):
    """Return an error message for bad options, or None."""
    try:
        normalize_vip(params['vip'])
    except ValueError as exc:
        return str(exc)
    timeout = params['timeout']
    if not 0 < timeout <= MAX_TIMEOUT:
        return 'timeout must be more than 0 and at most %g seconds; got %s' % (MAX_TIMEOUT, timeout)
    if params['interface'] is not None and not params['interface'].strip():
        return 'interface must be an interface name such as eth0, or left out; got an empty string'
    return None


def find_vip(interfaces, vip):
    """Return [(interface, address entry)] for every local interface that has vip configured."""
    return [(iface, addr) for iface in interfaces for addr in iface['addresses'] if addr['address'] == vip]


def subnet_interfaces(interfaces, vip):
    """Return the interfaces with an IPv4 subnet that contains vip (never loopback)."""
    target = ipaddress.IPv4Address(vip)
    found = []
    for iface in interfaces:
        if iface['flags'] & kernel.IFF_LOOPBACK:
            continue
        for addr in iface['addresses']:
            network = ipaddress.IPv4Network('%s/%d' % (addr['address'], addr['prefixlen']), strict=False)
            if network.prefixlen < 32 and target in network:
                found.append(iface)
                break
    return found


def describe_addresses(interfaces):
    """'lo 127.0.0.1/8, eth0 192.0.2.10/24' (by label) for messages."""
    parts = ['%s %s/%d' % (addr['label'] or iface['name'], addr['address'], addr['prefixlen'])
             for iface in interfaces for addr in iface['addresses']]
    return ', '.join(parts) or 'none'


def probe_unusable(iface):
    """Return why an ARP probe cannot run on this interface, or None."""
    if iface['link_type'] != kernel.ARPHRD_ETHER or not iface['mac']:
        return 'interface %s is not an Ethernet interface (link type %d)' % (iface['name'], iface['link_type'])
    if not iface['flags'] & kernel.IFF_UP:
        return 'interface %s is down' % iface['name']
    return None


def judge(holds_vip, responders, probe_ran):
    """Return the verdict (see the module docstring)."""
    if not probe_ran:
        return 'holder' if holds_vip else 'standby'
    if holds_vip:
        return 'holder' if not responders else 'conflict'
    return 'standby' if len(responders) == 1 else 'conflict'


def expectation_met(expect, verdict):
    """expect=holder/standby needs that verdict; expect=any only rejects a conflict."""
    if expect == 'any':
        return verdict != 'conflict'
    return verdict == expect


def _local_part(result, name):
    if result['holds_vip']:
        text = 'this node holds %s on %s (label %s' % (name, result['interface'], result['label'])
    else:
        text = 'this node does not hold %s (interface %s' % (name, result['interface'])
    return text + ', MAC %s)' % (result['local_mac'] or 'none')


def _probe_part(result):
    probe = result['arp_probe']
    if not probe['enabled']:
        return 'ARP probe disabled (arp_probe=false), verdict from the local state only'
    if not probe['ran']:
        return 'ARP probe did not run (%s), verdict from the local state only' % probe['error']
    responders = result['responders']
    where = '(ARP probe on %s, %s s)' % (probe['interface'], probe['timeout'])
    if not responders:
        return 'no other MAC claimed it ' + where
    return '%d other MAC%s claimed it %s: %s' % (len(responders), '' if len(responders) == 1 else 's', where, ', '.join(responders))


def build_message(result):
    """The one-line summary in msg: verdict, then what this node saw (interfaces, MACs)."""
    verdict = result['verdict']
    if verdict != 'conflict':
        text = '%s: %s' % (verdict, _local_part(result, result['vip']))
    elif result['holds_vip'] or result['responders']:
        text = 'conflict: %s is claimed by more than one machine: %s' % (result['vip'], _local_part(result, 'it'))
    else:
        text = 'conflict: nobody holds %s: %s' % (result['vip'], _local_part(result, 'it'))
    text += '; ' + _probe_part(result)
    if not expectation_met(result['expect'], verdict):
        text += ' (expected %s)' % ('no conflict' if result['expect'] == 'any' else 'verdict ' + result['expect'])
    return text


def new_result(params):
    """The result skeleton: every key the module documents, with 'not known yet' values."""
    return {
        'changed': False,
        'vip': params['vip'],
        'expect': params['expect'],
        'holds_vip': False,
        'interface': None,
        'label': None,
        'prefixlen': None,
        'local_mac': None,
        'responders': [],
        'arp_probe': {
            'enabled': params['arp_probe'],
            'ran': False,
            'error': None,
            'interface': None,
            'sent': 0,
            'timeout': params['timeout'],
        },
        'verdict': None,
        'msg': '',
    }


def _fail(result, msg):
    result['failed'] = True
    result['msg'] = msg
    return result


def record_local_state(result, interfaces, wanted, warnings):
    """Fill holds_vip, interface, label and prefixlen from the kernel's addresses."""
    vip = result['vip']
    held = find_vip(interfaces, vip)
    if not held:
        return
    iface, address = ([entry for entry in held if entry[0]['name'] == wanted] or held)[0]
    result.update(holds_vip=True, interface=iface['name'], label=address['label'], prefixlen=address['prefixlen'])
    if len(held) > 1:
        warnings.append('%s is configured more than once on this node: %s' % (
            vip, ', '.join('%s (label %s)' % (i['name'], a['label']) for i, a in held)))


def select_interface(result, interfaces, wanted, warnings):
    """Return (the interface on the VIP's segment, None) or (None, why there is none).

    The interface option if set; else the interface that holds the VIP; else the interface
    with an IPv4 subnet that contains the VIP.
    """
    vip = result['vip']
    by_name = dict((iface['name'], iface) for iface in interfaces)
    if wanted is not None:
        if wanted not in by_name:
            hint = ''
            if ':' in wanted and wanted.split(':', 1)[0] in by_name:
                hint = '; %s looks like an address label, the interface is %s' % (wanted, wanted.split(':', 1)[0])
            return None, 'interface %s does not exist on this node (interfaces: %s)%s' % (
                wanted, ', '.join(sorted(by_name)) or 'none', hint)
        if result['holds_vip'] and result['interface'] != wanted:
            warnings.append('%s is configured on %s but the ARP probe runs on %s as requested' % (vip, result['interface'], wanted))
        return by_name[wanted], None
    if result['holds_vip']:
        return by_name[result['interface']], None
    candidates = subnet_interfaces(interfaces, vip)
    if not candidates:
        return None, ('%s is not configured on this node and no interface has an IPv4 subnet that contains it '
                      '(IPv4 addresses: %s); set the interface option' % (vip, describe_addresses(interfaces)))
    if len(candidates) > 1:
        warnings.append('several interfaces have a subnet that contains %s (%s); using %s' % (
            vip, ', '.join(i['name'] for i in candidates), candidates[0]['name']))
    return candidates[0], None


def run_probe(result, segment, timeout, warnings):
    """Probe on segment and fill responders and arp_probe; a probe that cannot run only warns."""
    probe = result['arp_probe']
    reason = probe_unusable(segment)
    if reason is None:
        try:
            result['responders'], probe['sent'] = arp.probe(segment['name'], segment['mac'], result['vip'], timeout)
            probe['ran'] = True
            return
        except arp.ProbeError as exc:
            reason = str(exc)
    probe['error'] = reason
    warnings.append('the ARP probe for %s did not run: %s; the verdict (%s) rests on the local state only' % (
        result['vip'], reason, judge(result['holds_vip'], [], False)))


def check(params):
    """Run the check for the module's params; return (result, warnings).

    result['failed'] is set when the module must fail: bad options, no interface to work
    on, or a verdict that does not meet expect.
    """
    result = new_result(params)
    warnings = []
    error = validate_params(params)
    if error:
        return _fail(result, error), warnings
    result['vip'] = normalize_vip(params['vip'])
    wanted = params['interface'].strip() if params['interface'] else None

    try:
        interfaces = kernel.read_interfaces()
    except kernel.KernelReadError as exc:
        return _fail(result, 'cannot read the local interfaces: %s' % exc), warnings

    record_local_state(result, interfaces, wanted, warnings)
    segment, error = select_interface(result, interfaces, wanted, warnings)
    if error:
        return _fail(result, error), warnings
    if not result['holds_vip']:
        result['interface'] = segment['name']
    result['local_mac'] = segment['mac'] if segment['link_type'] == kernel.ARPHRD_ETHER else None
    result['arp_probe']['interface'] = segment['name']

    if params['arp_probe']:
        run_probe(result, segment, params['timeout'], warnings)

    result['verdict'] = judge(result['holds_vip'], result['responders'], result['arp_probe']['ran'])
    result['msg'] = build_message(result)
    if not expectation_met(params['expect'], result['verdict']):
        result['failed'] = True
    return result, warnings
