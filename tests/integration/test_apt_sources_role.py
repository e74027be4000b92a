# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs the role hapair.loadbalancer.apt_sources for real with ansible-playbook on localhost.

No Ubuntu machine is reachable, so the role works on a temporary copy of the
fixtures in tests/unit/plugins/module_utils/fixtures/ (apt_sources_dir) and is
told it runs on Ubuntu jammy or noble through its own inputs
(apt_sources_distribution, apt_sources_release). The cache refresh is off
(apt_sources_update_cache: false), so nothing talks to an Ubuntu mirror, and the
machine's own /etc/apt is checked to be untouched. On Debian the role runs with
the real facts and must change nothing and say so.

Run: PYTHONPATH is not needed; ansible-playbook is taken from the Python
environment running pytest (the project's .venv). Each run is ansible-playbook's
own entry point in a child of one playbook server per module
(tests/integration/playbook_server.py), which imported Ansible once.
"""


import json
import os
import re
import shutil
import sys

import pytest
from fake_hosts import Run
from playbook_server import PlaybookServer

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(REPO, "playbooks", "collections")
FIXTURES = os.path.join(REPO, "tests", "unit", "plugins", "module_utils", "fixtures")
PLAYBOOK = """---
- name: Apply hapair.loadbalancer.apt_sources
  hosts: all
  gather_facts: false
  roles:
    - role: hapair.loadbalancer.apt_sources
"""
RECAP_RE = re.compile(
    r"^localhost\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)", re.M)
REFRESH_SKIPPED_RE = re.compile(
    r"TASK \[hapair\.loadbalancer\.apt_sources : Refresh the package cache because the apt sources changed\] \**\n"
    r"skipping: \[localhost\]")


def _ansible_playbook():
    candidate = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    if os.path.exists(candidate):
        return candidate
    return shutil.which("ansible-playbook")


ANSIBLE_PLAYBOOK = _ansible_playbook()
pytestmark = pytest.mark.skipif(ANSIBLE_PLAYBOOK is None, reason="ansible-playbook is not installed")


def snapshot(root):
    out = {}
    for directory, _dirs, files in os.walk(str(root)):
        for name in files:
            path = os.path.join(directory, name)
            with open(path, "rb") as handle:
                out[os.path.relpath(path, str(root))] = handle.read()
    return out


def host_is_debian():
    try:
        with open("/etc/os-release") as handle:
            return re.search(r"^ID=\"?debian\"?$", handle.read(), re.M) is not None
    except OSError:
        return False


@pytest.fixture(scope="module", autouse=True)
def real_apt_untouched():
    """The machine's own apt configuration must be the same after every run."""
    before = snapshot("/etc/apt") if os.path.isdir("/etc/apt") else {}
    yield
    after = snapshot("/etc/apt") if os.path.isdir("/etc/apt") else {}
    assert after == before, "the role changed the machine's /etc/apt"


@pytest.fixture(scope="module")
def playbook_server(tmp_path_factory):
    """The playbook server of this module's runs, with the settings they share."""
    home = tmp_path_factory.mktemp("playbook-server")
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_HOME": str(home / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(home / "ansible-tmp"),
        "ANSIBLE_CONFIG": str(home / "ansible.cfg"),  # does not exist: no config from elsewhere
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
    })
    server = PlaybookServer(env)
    yield server
    server.close()


class Runner:
    def __init__(self, tmp_path, server):
        self.tmp = tmp_path
        self.server = server
        self.apt_dir = tmp_path / "apt"
        (tmp_path / "play.yml").write_text(PLAYBOOK)
        (tmp_path / "inventory.ini").write_text(
            "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)

    def copy(self, case):
        if self.apt_dir.exists():
            shutil.rmtree(str(self.apt_dir))
        shutil.copytree(os.path.join(FIXTURES, case, "input"), str(self.apt_dir))

    def run(self, extra_vars, *options):
        variables = {"apt_sources_dir": str(self.apt_dir), "apt_sources_update_cache": False}
        variables.update(extra_vars)
        vars_file = self.tmp / "vars.json"
        vars_file.write_text(json.dumps(variables))
        command = [ANSIBLE_PLAYBOOK, "-i", str(self.tmp / "inventory.ini"), "-e", "@" + str(vars_file)]
        command += list(options) + [str(self.tmp / "play.yml")]
        proc = self.server.run(command, str(self.tmp), {}, str(self.tmp / "output.txt"), timeout=300)
        match = RECAP_RE.search(proc.stdout)
        assert match, "no play recap in:\n" + proc.stdout
        recap = dict((key, int(value)) for key, value in match.groupdict().items())
        return proc, recap


@pytest.fixture
def runner(tmp_path, playbook_server):
    return Runner(tmp_path, playbook_server)


def ubuntu(release):
    return {"apt_sources_distribution": "Ubuntu", "apt_sources_release": release}


@pytest.mark.parametrize("case", ["jammy-mixed", "noble-missing", "noble-mixed", "noble-split"])
def test_role_enables_components_once(runner, case):
    release = case.split("-", 1)[0]
    runner.copy(case)
    before = snapshot(runner.apt_dir)
    expected = snapshot(os.path.join(FIXTURES, case, "expected"))

    # --check --diff: reports the change, shows it, writes nothing.
    proc, recap = runner.run(ubuntu(release), "--check", "--diff")
    assert proc.returncode == 0, proc.stdout
    assert recap["changed"] == 1 and recap["failed"] == 0, proc.stdout
    assert "+++ after: %s" % runner.apt_dir in proc.stdout
    assert snapshot(runner.apt_dir) == before

    # The real run: the files become the expected ones; the cache refresh is skipped.
    proc, recap = runner.run(ubuntu(release), "--diff")
    assert proc.returncode == 0, proc.stdout
    assert recap["changed"] == 1 and recap["failed"] == 0, proc.stdout
    assert snapshot(runner.apt_dir) == expected
    assert REFRESH_SKIPPED_RE.search(proc.stdout), proc.stdout

    # Second run and --check afterwards: nothing to do.
    for options in ((), ("--check", "--diff")):
        proc, recap = runner.run(ubuntu(release), *options)
        assert proc.returncode == 0, proc.stdout
        assert recap["changed"] == 0 and recap["failed"] == 0, proc.stdout
        assert snapshot(runner.apt_dir) == expected


@pytest.mark.parametrize("case", ["jammy-server", "jammy-cloud", "noble-cloud", "noble-server"])
def test_role_leaves_stock_files_alone(runner, case):
    runner.copy(case)
    before = snapshot(runner.apt_dir)
    proc, recap = runner.run(ubuntu(case.split("-", 1)[0]))
    assert proc.returncode == 0, proc.stdout
    assert recap["changed"] == 0 and recap["failed"] == 0, proc.stdout
    assert snapshot(runner.apt_dir) == before


@pytest.mark.skipif(not host_is_debian(), reason="needs a Debian machine (real facts)")
def test_role_on_debian_changes_nothing_and_says_so(runner):
    # Sources that would change if the role acted on them.
    runner.copy("noble-missing")
    before = snapshot(runner.apt_dir)
    for options in ((), ("--check", "--diff")):
        proc, recap = runner.run({}, *options)
        assert proc.returncode == 0, proc.stdout
        assert recap["changed"] == 0 and recap["failed"] == 0, proc.stdout
        assert re.search(r"apt_sources: localhost runs Debian \S+, not Ubuntu: nothing to do", proc.stdout), proc.stdout
        assert snapshot(runner.apt_dir) == before


def test_private_mirror_fails_clearly_until_named(runner):
    runner.copy("noble-private-mirror")
    before = snapshot(runner.apt_dir)
    proc, recap = runner.run(ubuntu("noble"))
    assert proc.returncode != 0
    assert recap["failed"] == 1 and recap["changed"] == 0, proc.stdout
    assert "no active 'deb' entry for suite noble" in proc.stdout
    assert os.path.join(str(runner.apt_dir), "sources.list.d", "ubuntu.sources") in proc.stdout
    assert "apt_sources_extra_archive_uris" in proc.stdout
    assert snapshot(runner.apt_dir) == before

    named = dict(ubuntu("noble"), apt_sources_extra_archive_uris=["mirror.example.com/ubuntu"])
    proc, recap = runner.run(named)
    assert proc.returncode == 0, proc.stdout
    assert recap["changed"] == 1, proc.stdout
    assert snapshot(runner.apt_dir) == snapshot(os.path.join(FIXTURES, "noble-private-mirror", "expected"))


@pytest.mark.parametrize("extra, text", [
    ({"apt_sources_update_cache": True}, "apt_sources_update_cache must be false"),
    ({"apt_sources_release": "noble-updates"}, "apt_sources_release 'noble-updates' is not valid: expected an Ubuntu release code name"),
    ({"apt_sources_pockets": ["-updates"]}, "apt_sources_pockets [\"-updates\"] is not valid"),
])
def test_bad_input_is_refused_before_anything_changes(runner, extra, text):
    runner.copy("noble-missing")
    before = snapshot(runner.apt_dir)
    proc, recap = runner.run(dict(ubuntu("noble"), **extra))
    assert proc.returncode != 0
    assert recap["failed"] == 1 and recap["changed"] == 0, proc.stdout
    # The failure's messages, as its result holds them (ansible-core 2.19 and later also print them as a Python list,
    # which quotes them differently).
    messages = Run(proc, None).messages
    assert len(messages) == 1 and messages[0].startswith("Host localhost: ") and text in messages[0], messages
    assert snapshot(runner.apt_dir) == before
