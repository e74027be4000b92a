# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of plugins/module_utils/apt_sources.py against real and variant sources files.

Each directory in fixtures/ is a case: input/ is an apt configuration directory
(sources.list and sources.list.d/), expected/ is the same directory after the
components are enabled. The release is the case name's first word (jammy-...,
noble-...). fixtures/README.md says where each file comes from.
"""

from __future__ import annotations

import os
import shutil

import pytest

from ansible_collections.hapair.loadbalancer.plugins.module_utils import apt_sources as aps

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
CASES = sorted(name for name in os.listdir(FIXTURES) if os.path.isdir(os.path.join(FIXTURES, name, "input")))
WANTED = ["universe", "multiverse"]
# Cases that need more than the defaults.
EXTRA_URIS = {"noble-private-mirror": ["mirror.example.com/ubuntu"]}
# Cases whose stock files already have every wanted component: nothing may change.
UNCHANGED = {"jammy-server", "jammy-cloud", "noble-cloud", "noble-server"}


def release_of(case):
    return case.split("-", 1)[0]


def archive_uris(case):
    return list(aps.DEFAULT_ARCHIVE_URIS) + EXTRA_URIS.get(case, [])


def tree(root):
    """{relative path: text} of every file under *root*."""
    out = {}
    for directory, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            out[os.path.relpath(path, root)] = aps.read_text(path)
    return out


def apply(plan_result):
    for path, before, after in plan_result.files:
        if before != after:
            with open(path, "wb") as handle:
                handle.write(after.encode("utf-8", "surrogateescape"))


def run(apt_dir, release, components=None, pockets=aps.DEFAULT_POCKETS, uris=aps.DEFAULT_ARCHIVE_URIS):
    return aps.plan(aps.read_sources(str(apt_dir)), release, WANTED if components is None else components, pockets, uris)


def make_dir(tmp_path, files):
    """An apt directory from {relative path: text}."""
    root = tmp_path / "apt"
    (root / "sources.list.d").mkdir(parents=True)
    for rel, text in files.items():
        (root / rel).write_bytes(text.encode("utf-8"))
    return root


@pytest.fixture
def case_copy(tmp_path):
    def copy(case):
        target = tmp_path / case
        shutil.copytree(os.path.join(FIXTURES, case, "input"), str(target))
        return target
    return copy


def all_entries(apt_dir):
    entries = []
    for path, text in aps.read_sources(str(apt_dir)):
        if aps.is_deb822(path):
            entries.extend(aps.parse_deb822(path, text)[2])
        else:
            entries.extend(aps.parse_one_line(path, text)[1])
    return entries


# --------------------------------------------------------------------------
# Every fixture: expected result, idempotence, no duplicates
# --------------------------------------------------------------------------


def test_every_case_has_expected_files():
    assert len(CASES) >= 10
    for case in CASES:
        assert sorted(tree(os.path.join(FIXTURES, case, "input"))) == sorted(tree(os.path.join(FIXTURES, case, "expected"))), case


@pytest.mark.parametrize("case", CASES)
def test_fixture_gives_expected_result(case):
    input_dir = os.path.join(FIXTURES, case, "input")
    expected = tree(os.path.join(FIXTURES, case, "expected"))
    result = run(input_dir, release_of(case), uris=archive_uris(case))
    after = dict((os.path.relpath(path, input_dir), new) for path, _old, new in result.files)
    for rel, text in tree(input_dir).items():
        # Files apt does not read (old.list.distUpgrade) are not read here either.
        assert after.get(rel, text) == expected[rel], "%s: %s" % (case, rel)
    assert result.changed == (case not in UNCHANGED)
    assert result.warnings == []


@pytest.mark.parametrize("case", CASES)
def test_applying_twice_is_applying_once(case, case_copy):
    apt_dir = case_copy(case)
    first = run(apt_dir, release_of(case), uris=archive_uris(case))
    apply(first)
    once = tree(str(apt_dir))
    second = run(apt_dir, release_of(case), uris=archive_uris(case))
    assert not second.changed
    assert second.changes == []
    assert all(before == after for _path, before, after in second.files)
    assert tree(str(apt_dir)) == once


@pytest.mark.parametrize("case", CASES)
def test_no_duplicates_and_every_suite_has_the_components(case, case_copy):
    apt_dir = case_copy(case)
    release = release_of(case)
    apply(run(apt_dir, release, uris=archive_uris(case)))
    matcher = aps.ArchiveMatcher(archive_uris(case))
    seen = {}
    for entry in all_entries(apt_dir):
        assert len(set(entry.components)) == len(entry.components), entry.describe()
        for target in entry.targets():
            for component in entry.components:
                key = target + (component,)
                assert key not in seen, "%s configured twice: %s and %s" % (key, seen.get(key), entry.describe())
                seen[key] = entry.describe()
    wanted_suites = set(release + pocket for pocket in aps.DEFAULT_POCKETS)
    for entry in all_entries(apt_dir):
        if not all(matcher.matches(uri) for uri in entry.uris):
            continue
        for target in entry.targets():
            if target[2] in wanted_suites:
                for component in WANTED:
                    assert target + (component,) in seen, "%s lacks %s" % (target, component)


@pytest.mark.parametrize("case", CASES)
def test_only_component_lists_of_archive_entries_change(case):
    """Apart from an added stanza, a changed line is the old line with components appended."""
    input_dir = os.path.join(FIXTURES, case, "input")
    result = run(input_dir, release_of(case), uris=archive_uris(case))
    for path, before, after in result.files:
        if before == after or any(c["action"] == "stanza_added" for c in result.changes if c["path"] == path):
            continue
        old_lines, new_lines = before.splitlines(True), after.splitlines(True)
        assert len(old_lines) == len(new_lines)
        for old, new in zip(old_lines, new_lines, strict=True):
            if old == new:
                continue
            assert not old.lstrip().startswith("#")
            added = [w for w in new.split() if w not in old.split()]
            assert added and set(added) <= set(WANTED)
            assert sorted(new.split()) == sorted(old.split() + added)


# --------------------------------------------------------------------------
# What is never touched
# --------------------------------------------------------------------------


def test_jammy_mixed_leaves_third_party_and_other_releases_alone():
    input_dir = os.path.join(FIXTURES, "jammy-mixed", "input")
    result = run(input_dir, "jammy")
    texts = dict((os.path.basename(path), after) for path, _before, after in result.files)
    assert "ondrej-ubuntu-apache2-jammy.list" in texts
    ppa = aps.read_text(os.path.join(input_dir, "sources.list.d", "ondrej-ubuntu-apache2-jammy.list"))
    assert texts["ondrej-ubuntu-apache2-jammy.list"] == ppa
    main = texts["sources.list"]
    assert "\ndeb http://archive.canonical.com/ubuntu jammy partner\n" in main
    assert "\ndeb http://de.archive.ubuntu.com/ubuntu/ focal main\n" in main
    assert "\n# deb http://de.archive.ubuntu.com/ubuntu/ jammy universe\n" in main
    assert "#deb cdrom:[Ubuntu-Server 22.04.4 LTS _Jammy Jellyfish_ - Release amd64 (20240220)]/ jammy main restricted\n" in main
    # The inline comment and the tabs stay where they were.
    assert "\tjammy-updates\tmain restricted universe multiverse   # updates\n" in main
    # apt ignores *.distUpgrade files, and so does the plan.
    assert "old.list.distUpgrade" not in texts


def test_noble_mixed_leaves_ppa_esm_disabled_and_commented_stanzas_alone():
    input_dir = os.path.join(FIXTURES, "noble-mixed", "input")
    result = run(input_dir, "noble")
    for path, before, after in result.files:
        if not path.endswith("/ubuntu.sources"):
            assert before == after, path
    ubuntu = [after for path, _before, after in result.files if path.endswith("/ubuntu.sources")][0]
    assert "Suites: noble-proposed\nComponents: main restricted\nEnabled: no\n" in ubuntu
    assert "# Components: main\n" in ubuntu
    assert "components: main restricted\n universe multiverse\n" in ubuntu


def test_ppa_sharing_the_code_name_is_untouched_even_when_alone(tmp_path):
    apt_dir = make_dir(tmp_path, {
        "sources.list": "deb http://archive.ubuntu.com/ubuntu jammy main\n",
        "sources.list.d/ppa.list": "deb https://ppa.launchpadcontent.net/ondrej/apache2/ubuntu/ jammy main\n",
    })
    result = run(apt_dir, "jammy")
    assert result.changed_files == [str(apt_dir / "sources.list")]


def test_private_mirror_needs_to_be_named(case_copy):
    apt_dir = case_copy("noble-private-mirror")
    with pytest.raises(aps.AptSourcesError) as error:
        run(apt_dir, "noble")
    message = str(error.value)
    assert "no active 'deb' entry for suite noble" in message
    for name in ("sources.list", "ppa-mirror.sources", "ubuntu.sources"):
        assert name in message
    assert "archive_uris" in message
    # Named with its scheme, the mirror matches; its PPA mirror, on the same host, does not.
    result = run(apt_dir, "noble", uris=["https://mirror.example.com/ubuntu"])
    assert [os.path.basename(p) for p in result.changed_files] == ["ubuntu.sources"]
    # A pattern for another scheme does not match.
    with pytest.raises(aps.AptSourcesError):
        run(apt_dir, "noble", uris=["http://mirror.example.com/ubuntu"])


# --------------------------------------------------------------------------
# When nothing matches: fail, naming the files, and change nothing
# --------------------------------------------------------------------------


@pytest.mark.parametrize("files", [
    {},
    {"sources.list": "# deb http://archive.ubuntu.com/ubuntu jammy main\n"},
    {"sources.list": "deb http://deb.debian.org/debian bookworm main\n"},
    {"sources.list": "deb http://archive.ubuntu.com/ubuntu focal main\n"},
    {"sources.list": "deb-src http://archive.ubuntu.com/ubuntu jammy main\n"},
    {"sources.list": "deb http://security.ubuntu.com/ubuntu jammy-security main\n"},
    {"sources.list.d/ubuntu.sources": "Types: deb\nURIs: http://archive.ubuntu.com/ubuntu\nSuites: jammy\n"
                                      "Components: main\nEnabled: no\n"},
], ids=["empty", "commented", "debian", "other-release", "deb-src-only", "security-only", "disabled-stanza"])
def test_no_active_release_entry_fails(tmp_path, files):
    apt_dir = make_dir(tmp_path, files)
    with pytest.raises(aps.AptSourcesError) as error:
        run(apt_dir, "jammy")
    assert "no active 'deb' entry for suite jammy" in str(error.value)
    for rel in files:
        assert str(apt_dir / rel) in str(error.value)


def test_missing_apt_dir_fails(tmp_path):
    with pytest.raises(aps.AptSourcesError) as error:
        aps.read_sources(str(tmp_path / "nope"))
    assert str(tmp_path / "nope") in str(error.value)


@pytest.mark.parametrize("release, components, pockets, text", [
    ("", WANTED, aps.DEFAULT_POCKETS, "release"),
    ("Jammy", WANTED, aps.DEFAULT_POCKETS, "release"),
    ("jammy-updates", WANTED, aps.DEFAULT_POCKETS, "release"),
    ("jammy", [], aps.DEFAULT_POCKETS, "components is empty"),
    ("jammy", ["universe", "universe"], aps.DEFAULT_POCKETS, "more than once"),
    ("jammy", ["uni verse"], aps.DEFAULT_POCKETS, "component"),
    ("jammy", WANTED, ["-updates"], "release pocket"),
    ("jammy", WANTED, ["", "updates"], "pocket"),
])
def test_bad_requests_are_refused(tmp_path, release, components, pockets, text):
    apt_dir = make_dir(tmp_path, {"sources.list": "deb http://archive.ubuntu.com/ubuntu jammy main\n"})
    with pytest.raises(aps.AptSourcesError) as error:
        run(apt_dir, release, components, pockets)
    assert text in str(error.value)


def test_bad_archive_pattern_is_refused(tmp_path):
    apt_dir = make_dir(tmp_path, {"sources.list": "deb http://archive.ubuntu.com/ubuntu jammy main\n"})
    for bad in ("", "a b"):
        with pytest.raises(aps.AptSourcesError):
            run(apt_dir, "jammy", uris=[bad])


# --------------------------------------------------------------------------
# Formats and corner cases
# --------------------------------------------------------------------------


def test_one_line_options_comments_and_line_endings(tmp_path):
    apt_dir = make_dir(tmp_path, {"sources.list": (
        "deb [arch=amd64,i386 signed-by=/usr/share/keyrings/ubuntu-archive-keyring.gpg] "
        "http://archive.ubuntu.com/ubuntu jammy main # the release\r\n"
        "deb http://archive.ubuntu.com/ubuntu jammy-updates main"
    )})
    result = run(apt_dir, "jammy")
    after = result.files[0][2]
    assert after == (
        "deb [arch=amd64,i386 signed-by=/usr/share/keyrings/ubuntu-archive-keyring.gpg] "
        "http://archive.ubuntu.com/ubuntu jammy main universe multiverse # the release\r\n"
        "deb http://archive.ubuntu.com/ubuntu jammy-updates main universe multiverse"
    )


def test_architecture_restrictions_are_separate_targets(tmp_path):
    apt_dir = make_dir(tmp_path, {"sources.list": (
        "deb [arch=amd64] http://archive.ubuntu.com/ubuntu jammy main\n"
        "deb [arch=i386] http://archive.ubuntu.com/ubuntu jammy main universe multiverse\n"
    )})
    result = run(apt_dir, "jammy")
    assert result.files[0][2].splitlines()[0] == "deb [arch=amd64] http://archive.ubuntu.com/ubuntu jammy main universe multiverse"
    assert [c["line"] for c in result.changes] == [1]


def test_uri_spelling_does_not_create_duplicates(tmp_path):
    apt_dir = make_dir(tmp_path, {
        "sources.list": "deb http://archive.ubuntu.com/ubuntu/ jammy main\n",
        "sources.list.d/universe.list": "deb HTTP://Archive.Ubuntu.com/ubuntu jammy universe multiverse\n",
    })
    assert not run(apt_dir, "jammy").changed


def test_components_are_only_what_is_asked_and_pockets_limit_the_suites(tmp_path):
    apt_dir = make_dir(tmp_path, {"sources.list": (
        "deb http://archive.ubuntu.com/ubuntu jammy main\n"
        "deb http://archive.ubuntu.com/ubuntu jammy-proposed main\n"
    )})
    result = run(apt_dir, "jammy", components=["universe"], pockets=[""])
    assert result.files[0][2] == (
        "deb http://archive.ubuntu.com/ubuntu jammy main universe\n"
        "deb http://archive.ubuntu.com/ubuntu jammy-proposed main\n"
    )


def test_deb822_without_trailing_newline_and_split_stanza(tmp_path):
    apt_dir = make_dir(tmp_path, {
        "sources.list.d/ubuntu.sources": (
            "Types: deb deb-src\n"
            "URIs: http://archive.ubuntu.com/ubuntu\n"
            "Suites: noble noble-updates\n"
            "Components: main\n"
            "Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg"
        ),
        "sources.list.d/extra.list": "deb http://archive.ubuntu.com/ubuntu noble universe\n",
    })
    result = run(apt_dir, "noble")
    after = [a for p, _b, a in result.files if p.endswith("ubuntu.sources")][0]
    assert after == (
        "Types: deb deb-src\n"
        "URIs: http://archive.ubuntu.com/ubuntu\n"
        "Suites: noble noble-updates\n"
        "Components: main multiverse\n"
        "Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg\n"
        "\n"
        + aps.ADDED_STANZA_COMMENT + "\n"
        "Types: deb\n"
        "URIs: http://archive.ubuntu.com/ubuntu\n"
        "Suites: noble-updates\n"
        "Components: universe\n"
        "Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg\n"
        "\n"
        + aps.ADDED_STANZA_COMMENT + "\n"
        "Types: deb-src\n"
        "URIs: http://archive.ubuntu.com/ubuntu\n"
        "Suites: noble noble-updates\n"
        "Components: universe\n"
        "Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg\n"
    )
    apply(result)
    assert not run(apt_dir, "noble").changed


def test_stanza_mixing_archive_and_other_uris_is_left_with_a_warning(tmp_path):
    apt_dir = make_dir(tmp_path, {
        "sources.list": "deb http://archive.ubuntu.com/ubuntu noble main\n",
        "sources.list.d/mixed.sources": (
            "Types: deb\nURIs: http://archive.ubuntu.com/ubuntu https://example.com/ubuntu\n"
            "Suites: noble-updates\nComponents: main\n"
        ),
    })
    result = run(apt_dir, "noble")
    assert result.changed_files == [str(apt_dir / "sources.list")]
    assert len(result.warnings) == 1 and "mixed.sources line 1" in result.warnings[0]


def test_enabled_yes_and_other_true_words_count_as_active(tmp_path):
    apt_dir = make_dir(tmp_path, {"sources.list.d/ubuntu.sources": (
        "Types: deb\nURIs: http://archive.ubuntu.com/ubuntu\nSuites: noble\nComponents: main\nEnabled: yes\n\n"
        "Types: deb\nURIs: http://archive.ubuntu.com/ubuntu\nSuites: noble-updates\nComponents: main\nEnabled: false\n"
    )})
    result = run(apt_dir, "noble")
    assert [c["line"] for c in result.changes] == [1]


def test_active_cdrom_line_is_parsed_and_ignored(tmp_path):
    apt_dir = make_dir(tmp_path, {"sources.list": (
        "deb cdrom:[Ubuntu-Server 22.04 LTS _Jammy Jellyfish_ - Release amd64 (20220421)]/ jammy main restricted\n"
        "deb http://archive.ubuntu.com/ubuntu jammy main\n"
    )})
    result = run(apt_dir, "jammy")
    assert [c["line"] for c in result.changes] == [2]


def test_source_files_follow_apt_order_and_naming_rules(tmp_path):
    apt_dir = make_dir(tmp_path, {
        "sources.list": "",
        "sources.list.d/b.sources": "",
        "sources.list.d/a.list": "",
        "sources.list.d/c.list.save": "",
        "sources.list.d/d.list.distUpgrade": "",
        "sources.list.d/bad name.list": "",
    })
    names = [os.path.relpath(p, str(apt_dir)) for p in aps.source_files(str(apt_dir))]
    assert names == ["sources.list", "sources.list.d/a.list", "sources.list.d/b.sources"]


@pytest.mark.parametrize("uri, normalized", [
    ("http://archive.ubuntu.com/ubuntu/", "http://archive.ubuntu.com/ubuntu"),
    ("HTTPS://user:secret@DE.archive.ubuntu.com/ubuntu", "https://de.archive.ubuntu.com/ubuntu"),
    ("file:/srv/mirror/ubuntu/", "file:///srv/mirror/ubuntu"),
    ("file:///srv/mirror/ubuntu", "file:///srv/mirror/ubuntu"),
    ("mirror.example.com/ubuntu/", "mirror.example.com/ubuntu"),
    ("mirror.example.com:8080/ubuntu", "mirror.example.com:8080/ubuntu"),
    ("localhost:3142/ubuntu/", "localhost:3142/ubuntu"),
    ("http://LOCALHOST:3142/ubuntu/", "http://localhost:3142/ubuntu"),
])
def test_normalize_uri(uri, normalized):
    assert aps.normalize_uri(uri) == normalized


@pytest.mark.parametrize("uri, expected", [
    ("http://archive.ubuntu.com/ubuntu/", True),
    ("https://archive.ubuntu.com/ubuntu", True),
    ("http://de.archive.ubuntu.com/ubuntu/", True),
    ("http://us-east-1.ec2.archive.ubuntu.com/ubuntu/", True),
    ("http://azure.archive.ubuntu.com/ubuntu/", True),
    ("http://security.ubuntu.com/ubuntu", True),
    ("http://ports.ubuntu.com/ubuntu-ports/", True),
    ("http://archive.ubuntu.com/ubuntu-ports", False),
    ("http://example.com/x.archive.ubuntu.com/ubuntu", False),
    ("https://ppa.launchpadcontent.net/ondrej/apache2/ubuntu/", False),
    ("https://esm.ubuntu.com/apps/ubuntu", False),
    ("http://archive.canonical.com/ubuntu", False),
    ("http://deb.debian.org/debian", False),
])
def test_default_archive_patterns(uri, expected):
    assert aps.ArchiveMatcher(aps.DEFAULT_ARCHIVE_URIS).matches(uri) is expected


def test_patterns_with_and_without_scheme():
    matcher = aps.ArchiveMatcher(["file:/srv/mirror/ubuntu", "https://mirror.example.com/ubuntu", "repo?.example.org/*/ubuntu",
                                  "apt-cache:3142/ubuntu"])
    assert matcher.matches("http://apt-cache:3142/ubuntu/")
    assert not matcher.matches("http://apt-cache/ubuntu/")
    assert matcher.matches("file:///srv/mirror/ubuntu/")
    assert matcher.matches("https://mirror.example.com/ubuntu/")
    assert not matcher.matches("http://mirror.example.com/ubuntu/")
    assert matcher.matches("http://repo1.example.org/prod/ubuntu")
    assert not matcher.matches("http://repo1.example.org/prod/ppa/ubuntu")
