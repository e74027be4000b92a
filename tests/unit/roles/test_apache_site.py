# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The apache_balancer role's site, rendered with Jinja2 alone: what it says about https members.

Apache is not here, so `apache2ctl configtest` cannot run; these tests check what it would read. The role's own
variables (vars/main.yml) are rendered with the same Jinja2 environment, whose few Ansible filters and tests are
stand-ins that do what Ansible's do for these values. The role's molecule scenario runs the real configtest.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re

import jinja2
import pytest
import yaml

ROLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'roles', 'apache_balancer')

# The directives mod_ssl has for a proxy's TLS (Apache 2.4), which may appear in a <VirtualHost>.
SSL_PROXY_DIRECTIVES = ('SSLProxyEngine', 'SSLProxyVerify', 'SSLProxyCheckPeerName', 'SSLProxyCheckPeerExpire',
                        'SSLProxyCACertificateFile')


def _environment():
    # As Ansible's template module: trim_blocks on, lstrip_blocks off.
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True,
                             extensions=['jinja2.ext.do'])
    env.filters.update({
        'comment': lambda text: '#\n# %s\n#' % text,
        'regex_escape': re.escape,
        'regex_replace': lambda value, pattern, replacement: re.sub(pattern, replacement, value),
        'hash': lambda value, algorithm: hashlib.new(algorithm, value.encode('utf-8')).hexdigest(),
        'dirname': os.path.dirname,
    })
    env.tests['match'] = lambda value, pattern: re.match(pattern, value) is not None
    return env


def _input(**values):
    with open(os.path.join(ROLE, 'defaults', 'main.yml'), encoding='utf-8') as handle:
        typed = yaml.safe_load(handle)
    typed.update(apache_balancer_members=['http://198.51.100.51', 'http://198.51.100.52'])
    typed.update(values)
    return typed


def _variables(typed):
    """The role's vars/main.yml that the site and the package list read, rendered for this input."""
    env = _environment()
    with open(os.path.join(ROLE, 'vars', 'main.yml'), encoding='utf-8') as handle:
        role_vars = yaml.safe_load(handle)
    context = {'__apache_balancer_input': typed}
    for name in ('__apache_balancer_site', '__apache_balancer_candidate_define', '__apache_balancer_no_listen_define',
                 '__apache_balancer_health_file', '__apache_balancer_system_ca'):
        context[name] = role_vars[name]
    for name in ('__apache_balancer_https', '__apache_balancer_tls_ca', '__apache_balancer_packages',
                 '__apache_balancer_modules'):
        text = env.from_string(role_vars[name]).render(context).strip()
        context[name] = ast.literal_eval(text) if text[:1] in '[' or text in ('True', 'False') else text
    context['__apache_balancer_health_clients'] = ['127.0.0.1', '::1']
    context['ansible_managed'] = 'Ansible managed'
    return context


def _site(**values):
    context = _variables(_input(**values))
    with open(os.path.join(ROLE, 'templates', 'site.conf.j2'), encoding='utf-8') as handle:
        return _environment().from_string(handle.read()).render(context), context


def _directives(text):
    return [line.strip() for line in text.splitlines() if line.strip().startswith('SSLProxy')]


def test_http_members_need_no_tls():
    text, context = _site()
    assert _directives(text) == []
    assert 'ssl' not in context['__apache_balancer_modules']
    assert context['__apache_balancer_packages'] == ['apache2']


def test_https_members_are_verified_against_the_system_bundle_by_default():
    text, context = _site(apache_balancer_members=['https://web1.example.com', 'http://198.51.100.52'])
    assert _directives(text) == ['SSLProxyEngine on', 'SSLProxyVerify require', 'SSLProxyCheckPeerName on',
                                 'SSLProxyCheckPeerExpire on',
                                 'SSLProxyCACertificateFile "/etc/ssl/certs/ca-certificates.crt"']
    assert context['__apache_balancer_modules'][-1] == 'ssl'
    assert context['__apache_balancer_packages'] == ['apache2', 'ca-certificates']


def test_https_members_are_verified_against_the_given_bundle():
    text, context = _site(apache_balancer_members=['https://web1.example.com'],
                          apache_balancer_tls_ca='/etc/ssl/private-ca/backends.pem')
    assert 'SSLProxyCACertificateFile "/etc/ssl/private-ca/backends.pem"' in _directives(text)
    assert 'SSLProxyVerify require' in _directives(text)
    assert context['__apache_balancer_packages'] == ['apache2']


def test_opting_out_checks_nothing_of_the_certificates():
    text, context = _site(apache_balancer_members=['https://web1.example.com'], apache_balancer_tls_verify=False)
    assert _directives(text) == ['SSLProxyEngine on', 'SSLProxyVerify none', 'SSLProxyCheckPeerName off',
                                 'SSLProxyCheckPeerExpire off']
    assert context['__apache_balancer_packages'] == ['apache2']


@pytest.mark.parametrize('members', [['http://198.51.100.51'], ['https://web1.example.com']])
def test_the_tls_directives_stand_in_the_virtual_host_once_each(members):
    text, _context = _site(apache_balancer_members=members)
    body = text.split('<VirtualHost', 1)[1].split('</VirtualHost>', 1)[0]
    directives = _directives(body)
    assert directives == _directives(text)
    assert len(set(d.split()[0] for d in directives)) == len(directives)
    assert all(d.split()[0] in SSL_PROXY_DIRECTIVES for d in directives)
    # Every block that opens closes, in order (what configtest checks first).
    stack = []
    for match in re.finditer(r'^\s*<(/?)(\w+)', text, re.M):
        if match.group(1):
            assert stack.pop() == match.group(2)
        else:
            stack.append(match.group(2))
    assert stack == []
