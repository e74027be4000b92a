# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of plugins/modules/apt_components.py: the module around the logic.

Runs the module's main() on copies of the fixtures in
tests/unit/plugins/module_utils/fixtures/: results, check mode, diff, writing,
idempotence, backups and failures.
"""

from __future__ import annotations

import glob
import os
import shutil
import stat

import pytest

from ansible.module_utils import basic

from ansible_collections.hapair.loadbalancer.plugins.modules import apt_components
from ansible_collections.hapair.loadbalancer.tests.unit.plugins.module_harness import patch_module_args

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_utils", "fixtures")


class ModuleExit(Exception):
    def __init__(self, result, failed):
        super().__init__(result)
        self.result = result
        self.failed = failed


@pytest.fixture(autouse=True)
def exits(monkeypatch):
    def exit_json(self, **kwargs):
        raise ModuleExit(kwargs, False)

    def fail_json(self, **kwargs):
        kwargs["failed"] = True
        raise ModuleExit(kwargs, True)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)


def run_module(args, check_mode=False, diff=False):
    args = dict(args)
    args["_ansible_check_mode"] = check_mode
    args["_ansible_diff"] = diff
    with patch_module_args(args):
        with pytest.raises(ModuleExit) as caught:
            apt_components.main()
    return caught.value


def snapshot(root):
    out = {}
    for path in sorted(glob.glob(os.path.join(str(root), "**"), recursive=True)):
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                out[os.path.relpath(path, str(root))] = handle.read()
    return out


def expected(case):
    return snapshot(os.path.join(FIXTURES, case, "expected"))


@pytest.fixture
def case_dir(tmp_path):
    def copy(case):
        target = tmp_path / case
        shutil.copytree(os.path.join(FIXTURES, case, "input"), str(target))
        return target
    return copy


def test_jammy_missing_is_fixed_then_left_alone(case_dir):
    apt_dir = case_dir("jammy-missing")
    first = run_module(dict(release="jammy", apt_dir=str(apt_dir)), diff=True)
    assert not first.failed
    result = first.result
    assert result["changed"] is True
    assert result["files_changed"] == [str(apt_dir / "sources.list")]
    assert result["files_examined"] == [str(apt_dir / "sources.list")]
    assert [c["line"] for c in result["changes"]] == [3, 8, 16, 19]
    assert all(c["components"] == ["universe", "multiverse"] for c in result["changes"])
    assert len(result["entries"]) == 4
    assert "enabled" in result["msg"]
    assert snapshot(apt_dir) == expected("jammy-missing")

    second = run_module(dict(release="jammy", apt_dir=str(apt_dir)), diff=True)
    assert second.result["changed"] is False
    assert second.result["files_changed"] == []
    assert "diff" not in second.result
    assert "already enabled" in second.result["msg"]
    assert snapshot(apt_dir) == expected("jammy-missing")


@pytest.mark.parametrize("case", ["jammy-mixed", "noble-missing", "noble-mixed", "noble-split"])
def test_cases_match_expected_files(case, case_dir):
    apt_dir = case_dir(case)
    release = case.split("-", 1)[0]
    result = run_module(dict(release=release, apt_dir=str(apt_dir))).result
    assert result["changed"] is True
    assert snapshot(apt_dir) == expected(case)
    assert run_module(dict(release=release, apt_dir=str(apt_dir))).result["changed"] is False


@pytest.mark.parametrize("case", ["jammy-server", "jammy-cloud", "noble-cloud", "noble-server"])
def test_stock_files_are_not_changed(case, case_dir):
    apt_dir = case_dir(case)
    before = snapshot(apt_dir)
    result = run_module(dict(release=case.split("-", 1)[0], apt_dir=str(apt_dir)), diff=True).result
    assert result["changed"] is False
    assert "diff" not in result
    assert snapshot(apt_dir) == before


def test_check_mode_writes_nothing_and_returns_the_diff(case_dir):
    apt_dir = case_dir("noble-missing")
    before = snapshot(apt_dir)
    result = run_module(dict(release="noble", apt_dir=str(apt_dir)), check_mode=True, diff=True).result
    assert result["changed"] is True
    assert snapshot(apt_dir) == before
    assert "would enable" in result["msg"]
    path = str(apt_dir / "sources.list.d" / "ubuntu.sources")
    assert result["files_changed"] == [path]
    assert len(result["diff"]) == 1
    diff = result["diff"][0]
    assert diff["before_header"] == diff["after_header"] == path
    assert diff["before"] == before["sources.list.d/ubuntu.sources"].decode()
    assert diff["after"] == expected("noble-missing")["sources.list.d/ubuntu.sources"].decode()
    # No leftover temporary files either.
    assert sorted(snapshot(apt_dir)) == sorted(before)


def test_no_diff_unless_asked(case_dir):
    apt_dir = case_dir("noble-missing")
    result = run_module(dict(release="noble", apt_dir=str(apt_dir)), check_mode=True).result
    assert result["changed"] is True
    assert "diff" not in result


def test_file_mode_is_kept_and_no_temporary_file_is_left(case_dir):
    apt_dir = case_dir("jammy-missing")
    path = apt_dir / "sources.list"
    os.chmod(str(path), 0o640)
    run_module(dict(release="jammy", apt_dir=str(apt_dir)))
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o640
    assert sorted(os.listdir(str(apt_dir))) == ["sources.list"]


def test_symbolic_link_is_kept(case_dir, tmp_path):
    apt_dir = case_dir("jammy-missing")
    real = tmp_path / "real-sources.list"
    os.rename(str(apt_dir / "sources.list"), str(real))
    os.symlink(str(real), str(apt_dir / "sources.list"))
    assert run_module(dict(release="jammy", apt_dir=str(apt_dir))).result["changed"] is True
    assert os.path.islink(str(apt_dir / "sources.list"))
    assert real.read_bytes() == expected("jammy-missing")["sources.list"]


def test_backup(case_dir):
    apt_dir = case_dir("jammy-missing")
    original = (apt_dir / "sources.list").read_bytes()
    result = run_module(dict(release="jammy", apt_dir=str(apt_dir), backup=True)).result
    backup = result["backup_files"][str(apt_dir / "sources.list")]
    with open(backup, "rb") as handle:
        assert handle.read() == original
    # apt ignores the backup: it is not a *.list or *.sources file in sources.list.d.
    second = run_module(dict(release="jammy", apt_dir=str(apt_dir), backup=True)).result
    assert second["changed"] is False
    assert "backup_files" not in second


def test_options_are_passed_on(case_dir):
    apt_dir = case_dir("noble-private-mirror")
    failed = run_module(dict(release="noble", apt_dir=str(apt_dir)))
    assert failed.failed
    assert "ppa-mirror.sources" in failed.result["msg"]
    assert failed.result["changed"] is False
    assert len(failed.result["files_examined"]) == 3

    result = run_module(dict(
        release="noble",
        apt_dir=str(apt_dir),
        components=["universe"],
        pockets=["", "-updates", "-security"],
        archive_uris=["https://mirror.example.com/ubuntu"],
    )).result
    assert result["changed"] is True
    text = (apt_dir / "sources.list.d" / "ubuntu.sources").read_text()
    assert "Components: main restricted universe\n" in text
    assert "Components: main\n" in (apt_dir / "sources.list.d" / "ppa-mirror.sources").read_text()


def test_failure_changes_nothing(case_dir):
    apt_dir = case_dir("noble-private-mirror")
    before = snapshot(apt_dir)
    result = run_module(dict(release="noble", apt_dir=str(apt_dir)), diff=True)
    assert result.failed
    assert snapshot(apt_dir) == before


@pytest.mark.parametrize("args, text", [
    (dict(release="Noble"), "release"),
    (dict(release="noble", components=[]), "components is empty"),
    (dict(release="noble", pockets=["-updates"]), "release pocket"),
    (dict(release="noble", archive_uris=["a b"]), "pattern"),
])
def test_bad_options_fail(case_dir, args, text):
    apt_dir = case_dir("noble-missing")
    args = dict(args, apt_dir=str(apt_dir))
    result = run_module(args)
    assert result.failed
    assert text in result.result["msg"]


def test_missing_directory_fails(tmp_path):
    result = run_module(dict(release="noble", apt_dir=str(tmp_path / "missing")))
    assert result.failed
    assert str(tmp_path / "missing") in result.result["msg"]


def test_mixed_stanza_warns(tmp_path, monkeypatch):
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, text: warnings.append(text))
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text("deb http://archive.ubuntu.com/ubuntu noble main universe multiverse\n")
    (tmp_path / "sources.list.d" / "mixed.sources").write_text(
        "Types: deb\nURIs: http://archive.ubuntu.com/ubuntu https://example.com/ubuntu\nSuites: noble-updates\nComponents: main\n")
    result = run_module(dict(release="noble", apt_dir=str(tmp_path))).result
    assert result["changed"] is False
    assert len(warnings) == 1 and "left unchanged" in warnings[0]
