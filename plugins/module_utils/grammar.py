# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The grammar of every string the collection writes into a file on a node.

Each check takes a value and returns None when the value is fine, or a short phrase saying what was
expected ("expected ...") for the error message, which the caller prefixes with the host and the variable.
Pure Python and the standard library only: the checks run on the controller before any host changes, and
are unit-tested in tests/unit/plugins/module_utils/test_grammar.py.
"""

from __future__ import annotations

import ipaddress
import re
import socket

# Any control character (C0, DEL, C1) and the Unicode line and paragraph separators: they would start a new
# line, or hide one, in ha.cf, haresources, /etc/hosts, an Apache site or an apt sources file.
_CONTROL = re.compile('[\x00-\x1f\x7f-\x9f\u2028\u2029]')

# RFC 1123 host name label: letters, digits and '-', not starting or ending with '-', 1 to 63 characters.
_LABEL = re.compile(r'^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z')

# Linux interface names: 1 to 15 bytes (IFNAMSIZ - 1), not '.' or '..', no '/', ':' or whitespace
# (dev_valid_name in net/core/dev.c). Stricter here: letters, digits, '_', '.', '-' and '@' are what every
# distribution's naming scheme uses (eth0, ens3, enp0s31f6, bond0.100, br-lan, veth@if2 is not a name).
_INTERFACE = re.compile(r'^[A-Za-z0-9_.-]{1,15}\Z')

# syslog facilities, as heartbeat's logfacility takes them (plus "none", which turns syslog off).
SYSLOG_FACILITIES = ('auth', 'authpriv', 'cron', 'daemon', 'ftp', 'kern', 'lpr', 'mail', 'news', 'syslog',
                     'user', 'uucp', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6',
                     'local7', 'none')

# Characters a token of an Apache directive argument may hold unquoted, and a URL path may hold.
_APACHE_TOKEN = re.compile(r'^[A-Za-z0-9._-]+\Z')
_URL_PATH = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*\Z")
_PERCENT = re.compile(r'%(?![0-9A-Fa-f]{2})')
# %-escapes that decode to a control character (%00 is NUL) or to a '.' (an escaped '..' segment).
_PERCENT_CONTROL = re.compile(r'%(?:[01][0-9A-Fa-f]|7[Ff])')
_PERCENT_DOT = re.compile(r'%2[Ee]')

# A path component of a file the collection writes or reads by name: ASCII letters and digits and ._+@,=~- (the POSIX
# portable file name characters and a few more that no shell, Apache or apt line reads specially). ASCII only, so that
# no letter of another alphabet that looks like a Latin one (a Cyrillic 'а' in /etc/аpt) hides where a path goes.
_PATH_COMPONENT = re.compile(r'^[A-Za-z0-9._+@,=~-]+\Z')
# Linux's NAME_MAX: no file name is longer.
NAME_MAX = 255
# Pseudo file systems: nothing the collection writes or reads by a configured path lives there.
PSEUDO_TREES = ('/proc', '/sys', '/dev')
# The system's own trees: a file written there by a path from the inventory could replace a program, a library or a
# configuration file (/etc/passwd) when the run has the rights to.
SYSTEM_TREES = PSEUDO_TREES + ('/bin', '/boot', '/etc', '/lib', '/lib32', '/lib64', '/libx32', '/sbin', '/usr')


def control_characters(value):
    """None, or what is wrong: a control character or line break anywhere in a string."""
    match = _CONTROL.search(value)
    if match:
        return 'it holds the control character U+%04X (a line break, tab or the like); expected a single line of ' \
               'printable characters' % ord(match.group())
    return None


def hostname(value, maximum=64):
    """An RFC 1123 host name: dot-separated labels of letters, digits and '-', at most `maximum` characters
    (64 is Linux's HOST_NAME_MAX, which `uname -n` and heartbeat's node names are bound by)."""
    if not value:
        return 'expected a host name, got an empty string'
    if len(value) > maximum:
        return 'it is %d characters long; expected at most %d' % (len(value), maximum)
    if value.endswith('.'):
        return "expected a host name without a trailing '.'"
    labels = value.split('.')
    if not all(_LABEL.match(label) for label in labels):
        return "expected an RFC 1123 host name: labels of letters, digits and '-' (not at a label's start or end), " \
               "separated by '.'"
    if re.match(r'^[0-9.]+\Z', value):
        return 'expected a host name, not a number or an address'
    return None


def interface_name(value):
    """A Linux network interface name (not an alias label such as eth0:0)."""
    if value in ('', '.', '..') or not _INTERFACE.match(value):
        return "expected a Linux interface name: 1 to 15 letters, digits, '_', '.' or '-', such as eth0 or ens3 " \
               "(an alias label such as eth0:0 is not an interface)"
    return None


def ipv4_address(value):
    """A dotted-quad IPv4 address, no prefix, no leading zeros."""
    try:
        address = ipaddress.IPv4Address(value)
    except (ipaddress.AddressValueError, ValueError):
        return 'expected an IPv4 address such as 198.51.100.10, without a prefix length'
    if str(address) != value:
        return 'expected an IPv4 address in plain dotted-quad form, such as %s' % address
    return None


def usable_ipv4_address(value):
    """An IPv4 address that a host can have on an interface: not 0.0.0.0/8, loopback (127/8 is allowed only in
    tests of the checks themselves, see the callers), multicast, broadcast or reserved."""
    problem = ipv4_address(value)
    if problem:
        return problem
    address = ipaddress.IPv4Address(value)
    if address.is_multicast or address.is_unspecified or address.is_reserved or int(address) >> 24 == 0 \
            or address == ipaddress.IPv4Address('255.255.255.255'):
        return 'expected a unicast address a host can have (not multicast, broadcast, 0.0.0.0/8 or reserved)'
    return None


def _under(value, trees):
    """The first of `trees` that value is or lies under, or None."""
    for tree in trees:
        if value == tree or value.startswith(tree + '/'):
            return tree
    return None


def safe_path(value, directory=False, refused_trees=PSEUDO_TREES):
    """An absolute path the collection may write or read by name: '/', then components of ASCII letters, digits and
    ._+@,=~- (at most 255 characters each), no empty, '.' or '..' component; a file's path does not end in '/', a
    directory's may; not `/` itself and not in one of `refused_trees` (by default /proc, /sys and /dev)."""
    if not value.startswith('/'):
        return "expected an absolute path starting with '/'"
    body = value[:-1] if directory and value.endswith('/') and value != '/' else value
    if body == '/':
        return "expected a path below '/'"
    if body.endswith('/'):
        return "expected the path of a file, not ending in '/'"
    parts = body.split('/')[1:]
    if any(part in ('', '.', '..') for part in parts):
        return "expected a path without empty ('//'), '.' or '..' components"
    if not all(_PATH_COMPONENT.match(part) for part in parts):
        return "expected a path of ASCII letters, digits and ._+@,=~- between its '/'s (no spaces, quotes or " \
               'backslashes; no letters of other alphabets, which can look like Latin ones)'
    longest = max(len(part) for part in parts)
    if longest > NAME_MAX:
        return 'it has a component of %d characters; a file name has at most %d' % (longest, NAME_MAX)
    tree = _under(body, refused_trees)
    if tree:
        return 'it lies in %s, %s' % (tree, 'a pseudo file system' if tree in PSEUDO_TREES else
                                      "the system's own files, which no setting of this collection may write")
    return None


def absolute_path(value, allow_empty=False):
    """An absolute path without whitespace, '#', quotes, backslashes or '..' components, not a directory."""
    if value == '' and allow_empty:
        return None
    if not value.startswith('/'):
        return "expected an absolute path starting with '/'"
    if re.search(r'[\s#"\'\\]', value):
        return "expected a path without whitespace, '#', quotes or backslashes"
    if '..' in value.split('/'):
        return "expected a path without '..' components"
    if value.endswith('/'):
        return "expected the path of a file, not ending in '/'"
    return None


# Where a program's own log file may go: under /var/log, in a file of its own. Anything else written as root is a
# risk no log needs (/etc/passwd, /dev/sda, heartbeat's own authkeys, a directory).
LOG_DIR = '/var/log/'
_LOG_PATH = re.compile(r'^/var/log(/[A-Za-z0-9._-]+)+\Z')


def log_path(value, allow_empty=False):
    """A log file under /var/log: letters, digits, '.', '_' and '-' in each component, no '.' or '..' component,
    at most 255 characters."""
    if value == '' and allow_empty:
        return None
    problem = absolute_path(value)
    if problem:
        return problem
    if len(value) > 255:
        return 'it is %d characters long; expected at most 255' % len(value)
    if not _LOG_PATH.match(value) or any(part in ('.', '..') for part in value.split('/')):
        return "expected a log file under %s, such as /var/log/ha-log, with letters, digits, '.', '_' and '-' in its " \
               'name' % LOG_DIR
    return None


def syslog_facility(value):
    if value not in SYSLOG_FACILITIES:
        return 'expected a syslog facility: %s' % ', '.join(SYSLOG_FACILITIES)
    return None


def apache_token(value):
    """A name Apache reads as one unquoted token: letters, digits, '.', '_' and '-'."""
    if not _APACHE_TOKEN.match(value):
        return "expected letters, digits, '.', '_' and '-' only"
    return None


def url_path(value, allow_root=True, escapes=True):
    """An absolute URL path: '/' then RFC 3986 path characters (ASCII), well-formed %-escapes, no query or fragment,
    no quotes, backslashes, spaces or '..' segments; no %-escape of a control character (%00 is NUL) or of a '.'
    (an escaped '..' segment). With escapes=False, no %-escape at all (the role's own pages need none)."""
    if not _URL_PATH.match(value) or _PERCENT.search(value):
        return "expected a URL path such as /health: '/' followed by ASCII letters, digits and -._~!$&'()*+,;=:@%/ " \
               "(with %XX escapes), without query, fragment, quotes, backslashes or spaces"
    if '..' in value.split('/'):
        return "expected a URL path without '..' segments"
    if not escapes and '%' in value:
        return "expected a URL path without %-escapes (letters, digits and -._~!$&'()*+,;=:@/ need none)"
    if _PERCENT_CONTROL.search(value):
        return 'expected a URL path without %-escapes of control characters (%00 to %1F, %7F)'
    if _PERCENT_DOT.search(value):
        return "expected a URL path without %2E, an escaped '.' (write '.' itself; an escaped '..' segment is refused)"
    if not allow_root and value == '/':
        return "expected a path below '/'"
    return None


# Names that resolve to the host itself: Debian's and Ubuntu's /etc/hosts give these to 127.0.0.1 and ::1, and every
# name under .localhost is a loopback name (RFC 6761).
LOOPBACK_NAMES = ('localhost', 'localhost.localdomain', 'localhost6', 'localhost6.localdomain6', 'ip6-localhost',
                  'ip6-loopback')


def loopback_name(name):
    """Whether a host name (any letter case) names the host itself."""
    name = name.lower().rstrip('.')
    return name in LOOPBACK_NAMES or name.endswith('.localhost')


def numeric_ipv4(host):
    """The IPv4 address a resolver reads in a name that is no dotted-decimal address - hex (0xc6336410), octal
    (0306.0063.0144.0012), dotless (3325256720) or short (127.1) - as inet_aton(3) does; else None."""
    if not re.match(r'^[0-9A-Fa-fXx.]+\Z', host):
        return None
    try:
        address = ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None
    return None if str(address) == host else str(address)


def _host(host):
    """None, or what is wrong with the host part of a URL (a name, an IPv4 address or a bracketed IPv6)."""
    if host.startswith('['):
        if not host.endswith(']'):
            return 'an IPv6 address must be in brackets, as [2001:db8::1]'
        try:
            address = ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return '%s is not an IPv6 address' % host
        embedded = address.ipv4_mapped or (address.packed[:12] == bytes(12) and int(address) > 1 and
                                           ipaddress.IPv4Address(address.packed[12:]))
        if embedded:
            return '%s is the IPv4 address %s written as IPv6; write %s' % (host, embedded, embedded)
        return None
    numeric = numeric_ipv4(host)
    if numeric:
        return '%s is the IPv4 address %s to a resolver (which reads hex, octal and dotless forms); write %s' % (
            host, numeric, numeric)
    if re.match(r'^[0-9.]+\Z', host):
        return None if ipv4_address(host) is None else '%s is not an IPv4 address' % host
    problem = hostname(host, maximum=253)
    return None if problem is None else '%s is not a host name' % host


def loopback_host(host):
    """Whether the host part of a URL, as url() returns it, is the host itself: a loopback name, an address of
    127.0.0.0/8 or 0.0.0.0/8 (which Linux connects to the host itself), [::1] or [::]."""
    if host.startswith('['):
        return ipaddress.IPv6Address(host[1:-1]) in (ipaddress.IPv6Address('::1'), ipaddress.IPv6Address('::'))
    if ipv4_address(host) is None:
        return int(ipaddress.IPv4Address(host)) >> 24 in (0, 127)
    return loopback_name(host)


def url(value, schemes=('http', 'https')):
    """Split a backend URL: {scheme, host, port, path} with the port filled in from the scheme; raises
    ValueError saying what is wrong. No user information, query or fragment; the port from 1 to 65535."""
    match = re.match(r'^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)(?P<path>[^?#]*)(?P<rest>.*)\Z', value)
    if not match:
        raise ValueError('expected a URL such as http://198.51.100.11:8080/app')
    scheme = match.group('scheme')
    if scheme not in schemes:
        raise ValueError('the scheme %s:// is not one of %s' % (scheme, ', '.join(s + '://' for s in schemes)))
    if match.group('rest'):
        raise ValueError('expected no query (?) or fragment (#)')
    authority = match.group('authority')
    if '@' in authority:
        raise ValueError('expected no user name or password (user@) in the URL')
    port_match = re.match(r'^(?P<host>\[[^\]]*\]|[^:]*)(?::(?P<port>[^:]*))?\Z', authority)
    if not port_match or not port_match.group('host'):
        raise ValueError('expected a host after %s://' % scheme)
    host = port_match.group('host')
    problem = _host(host)
    if problem:
        raise ValueError(problem)
    port_text = port_match.group('port')
    if port_text is None:
        port = 443 if scheme == 'https' else 80
    elif not re.match(r'^[0-9]{1,5}\Z', port_text) or not 1 <= int(port_text) <= 65535:
        raise ValueError('the port %r is not a number from 1 to 65535' % port_text)
    else:
        port = int(port_text)
    path = match.group('path')
    if path:
        problem = url_path(path)
        if problem:
            raise ValueError(problem)
    if host.startswith('['):
        host = '[%s]' % ipaddress.IPv6Address(host[1:-1]).compressed
    return {'scheme': scheme, 'host': host.lower(), 'port': port, 'path': path}


def server_name(value, wildcards=False):
    """An Apache ServerName or ServerAlias: a host name, optionally with :port (ServerName) or with '*' and
    '?' wildcards (ServerAlias)."""
    name, _colon, port = value.partition(':')
    if port and (wildcards or not re.match(r'^[0-9]{1,5}\Z', port) or not 1 <= int(port) <= 65535):
        return 'expected a host name%s' % ('' if wildcards else ' with an optional :PORT (1 to 65535)')
    if wildcards and re.search(r'[*?]', name):
        plain = re.sub(r'[*?]', 'x', name)
        return None if hostname(plain, maximum=253) is None else "expected a host name with '*' or '?' wildcards"
    if ipv4_address(name) is None:
        return None
    problem = hostname(name, maximum=253)
    return None if problem is None else 'expected a host name such as www.example.com'


def require_ip(value):
    """What Apache's `Require ip` takes: an IPv4 or IPv6 address or network (CIDR, or an IPv4 netmask). Not a
    hostmask (10.0.0.0/0.255.255.255, which Python reads as /8 but Apache as a mask that ignores the first byte), a
    zone (fe80::1%eth0) or Apache's partial addresses (10.1), which read differently than they look."""
    expected = 'expected an IP address or network, such as 127.0.0.1, ::1, 198.51.100.0/24 or 2001:db8::/32'
    if '%' in value:
        return expected + ', without a zone (%)'
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return expected
    _address, _slash, mask = value.partition('/')
    if '.' in mask:
        bits = int(ipaddress.IPv4Address(mask))
        inverted = ~bits & 0xffffffff
        if inverted & (inverted + 1):
            return 'expected a network with a prefix length or a netmask (255.255.255.0), not a hostmask such as %s' \
                % mask
    return None


def ip_network(value):
    """The network of a `Require ip` entry that require_ip() accepts; an IPv4-mapped IPv6 network (::ffff:0:0/96 and
    inside it) as the IPv4 network it stands for, because Apache matches IPv4 clients against it."""
    network = ipaddress.ip_network(value, strict=False)
    mapped = ipaddress.ip_network('::ffff:0:0/96')
    if network.version == 6 and network.prefixlen >= 96 and network.subnet_of(mapped):
        return ipaddress.IPv4Network((int(network.network_address) & 0xffffffff, network.prefixlen - 96))
    return network


# Addresses that the internet cannot reach (RFC 6890 and the documentation ranges): a network of them is no exposure.
NOT_PUBLIC = tuple(ipaddress.ip_network(n) for n in (
    '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24',
    '192.0.2.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4',
    '240.0.0.0/4', '::/127', '::ffff:0:0/96', '64:ff9b:1::/48', '100::/64', '2001:db8::/32', 'fc00::/7', 'fe80::/10',
    'ff00::/8'))
# The widest public networks an allow list may hold without an explicit opt-in: a /16 of IPv4 (about the largest block
# one organisation holds) and a /32 of IPv6 (what a registry allocates to one ISP or organisation). Anything wider
# reaches many organisations: the internet at large.
PUBLIC_LIMIT = {4: 2 ** 16, 6: 2 ** 96}


def public_addresses(networks):
    """{4: count, 6: count} of the publicly routable addresses in a list of networks (ip_network() results), each
    address counted once, however the networks overlap or are split (two /1s cover the internet as /0 does)."""
    counts = {4: 0, 6: 0}
    for version in (4, 6):
        collapsed = ipaddress.collapse_addresses(n for n in networks if n.version == version)
        for network in collapsed:
            hidden = sum(min(network.num_addresses, other.num_addresses) for other in NOT_PUBLIC
                         if other.version == version and network.overlaps(other))
            counts[version] += network.num_addresses - hidden
    return counts


def apt_word(value):
    """An apt component or pocket word: letters, digits and '.', '_', '+', '/', '-'; not starting with '-'."""
    if not re.match(r'^[A-Za-z0-9][A-Za-z0-9._+/-]*\Z', value):
        return "expected letters, digits and '.', '_', '+', '/', '-', not starting with a symbol"
    return None


def apt_release(value):
    if not re.match(r'^[a-z][a-z0-9]*\Z', value):
        return 'expected an Ubuntu release code name in lower-case letters and digits, such as jammy or noble'
    return None


def apt_pocket(value):
    if not re.match(r'^(-[a-z0-9][a-z0-9-]*)?\Z', value):
        return "expected '' (the release itself) or a suffix starting with '-', such as -updates"
    return None


def apt_uri_pattern(value):
    """A URI or host/path pattern of apt_sources: printable ASCII without spaces, quotes or backslashes (a host name
    with a letter of another alphabet that looks like a Latin one would match another archive)."""
    if not re.match(r'^[!-~]+\Z', value) or re.search(r'["\'\\]', value):
        return 'expected a URI or host/path pattern of printable ASCII characters, without spaces, quotes or backslashes'
    return None
