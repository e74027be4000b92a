# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Enable apt components for one release of the Ubuntu archive, in place.

This is the logic behind the ``hapair.loadbalancer.apt_components`` module. It
is kept free of Ansible imports (standard library only, Python 3.8 and later) so
it runs on any managed node and can be unit tested against real sources files.

Both formats apt reads are handled:

* the one-line style (``/etc/apt/sources.list`` and ``sources.list.d/*.list``):
  ``deb [options] URI suite component...``; lines starting with ``#`` and text
  after a ``#`` are comments;
* the deb822 style (``sources.list.d/*.sources``): stanzas of ``Field: value``
  lines separated by blank lines, with ``Enabled: no`` switching a stanza off.

The edit is minimal: missing components are appended to the component list of
existing entries and nothing else in a file changes (comments, order, spacing,
options, other repositories). A component counts as present for a
(type, URI, suite, architectures) target when *any* active entry in *any* file
provides it, so nothing is ever added twice. Only a deb822 stanza that lists
several suites, of which some already get a component elsewhere, cannot take the
component without duplicating it; for that case a small stanza with just the
missing suites and components is added right after it.
"""

from __future__ import annotations

import os
import re

#: Where apt looks for sources, relative to the apt configuration directory.
SOURCES_LIST = "sources.list"
SOURCES_PARTS = "sources.list.d"

#: Pockets of an Ubuntu release: "" is the release pocket itself.
DEFAULT_POCKETS = ("", "-updates", "-security", "-backports", "-proposed")

#: The Ubuntu archive as it appears in stock sources files: the primary archive,
#: its country and cloud mirrors (de.archive.ubuntu.com,
#: us-east-1.ec2.archive.ubuntu.com, azure.archive.ubuntu.com), the security
#: archive and the ports archive (arm64, ppc64el, s390x, riscv64).
DEFAULT_ARCHIVE_URIS = (
    "archive.ubuntu.com/ubuntu",
    "*.archive.ubuntu.com/ubuntu",
    "security.ubuntu.com/ubuntu",
    "ports.ubuntu.com/ubuntu-ports",
    "*.ports.ubuntu.com/ubuntu-ports",
)

#: The marker put on stanzas this code adds (only in the split case above).
ADDED_STANZA_COMMENT = "# Added by hapair.loadbalancer.apt_components: components missing for these suites only."

RELEASE_RE = re.compile(r"^[a-z][a-z0-9]*$")
COMPONENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+/-]*$")
POCKET_RE = re.compile(r"^(|-[a-z0-9][a-z0-9-]*)$")
# apt ignores files in sources.list.d whose names have other characters.
PART_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+\.(list|sources)$")
# A scheme is followed by "/" (http://, file:/) or "[" (cdrom:[...]); "host:8080/path" has none.
SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):([/\[].*)$")

ENTRY_TYPES = ("deb", "deb-src")
# apt's StringToBool.
_FALSE_WORDS = ("no", "false", "without", "off", "disable", "0")


class AptSourcesError(Exception):
    """The request cannot be carried out; the message says why."""


# --------------------------------------------------------------------------
# URIs and the archive patterns
# --------------------------------------------------------------------------


def normalize_uri(uri):
    """Return *uri* in a form that compares equal for the same repository.

    Lower case, no user information, no trailing slash, and ``scheme://`` even
    for ``file:/path`` style URIs.
    """
    text = uri.strip().lower()
    match = SCHEME_RE.match(text)
    if not match:
        return text.rstrip("/")
    scheme, rest = match.group(1), match.group(2)
    if rest.startswith("//"):
        rest = rest[2:]
        host, sep, path = rest.partition("/")
        if "@" in host:
            host = host.rsplit("@", 1)[1]
        rest = host + sep + path
    else:
        # file:/srv/mirror is the same as file:///srv/mirror
        rest = "/" + rest.lstrip("/")
    return (scheme + "://" + rest).rstrip("/")


def _strip_scheme(normalized):
    match = SCHEME_RE.match(normalized)
    if match and match.group(2).startswith("//"):
        return match.group(2)[2:]
    return normalized


def _glob_to_regex(pattern):
    """``*`` and ``?`` match within one host name or path segment, never a ``/``."""
    out = []
    for char in pattern:
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(char))
    return re.compile("^" + "".join(out) + "$")


class ArchiveMatcher:
    """Decides whether a URI is the Ubuntu archive (or a mirror the user named).

    A pattern with a scheme (``https://mirror.example.com/ubuntu``,
    ``file:/srv/mirror/ubuntu``) must match the whole URI; a pattern without one
    (``mirror.example.com/ubuntu``) matches whatever the scheme. ``*`` and ``?``
    are wildcards that never match ``/``. Matching ignores case, user
    information and trailing slashes.
    """

    def __init__(self, patterns):
        self.patterns = list(patterns)
        self._compiled = []
        for pattern in self.patterns:
            if not isinstance(pattern, str) or not pattern.strip() or any(c.isspace() for c in pattern.strip()):
                raise AptSourcesError("archive URI pattern %r is not a non-empty word without spaces" % (pattern,))
            normalized = normalize_uri(pattern)
            has_scheme = bool(SCHEME_RE.match(normalized)) and "://" in normalized
            self._compiled.append((has_scheme, _glob_to_regex(normalized)))

    def matches(self, uri):
        normalized = normalize_uri(uri)
        bare = _strip_scheme(normalized)
        for has_scheme, regex in self._compiled:
            if regex.match(normalized if has_scheme else bare):
                return True
        return False


# --------------------------------------------------------------------------
# The model: entries found in files
# --------------------------------------------------------------------------


class Entry:
    """One active source: a one-line entry or a deb822 stanza."""

    def __init__(self, path, fmt, types, uris, suites, components, archs, line_no):
        self.path = path
        self.format = fmt  # "one-line" or "deb822"
        self.types = types
        self.uris = uris
        self.suites = suites
        self.components = components
        self.archs = archs  # normalized architectures restriction, "" = none
        self.line_no = line_no  # 1-based line of the entry (first line of a stanza)
        self.added = []  # components appended by the plan
        # Set by the parsers, used to edit in place.
        self.one_line_index = None  # index in the file's list of lines
        self.insert_col = None  # column after the last component
        self.stanza = None  # Stanza for deb822 entries

    def targets(self):
        for typ in self.types:
            for uri in self.uris:
                for suite in self.suites:
                    yield (typ, normalize_uri(uri), suite, self.archs)

    def describe(self):
        if self.format == "one-line":
            return "%s %s %s %s" % (" ".join(self.types), " ".join(self.uris), " ".join(self.suites), " ".join(self.components))
        return "Types: %s; URIs: %s; Suites: %s; Components: %s" % (
            " ".join(self.types), " ".join(self.uris), " ".join(self.suites), " ".join(self.components))


class Stanza:
    """A deb822 paragraph: its line range and its fields."""

    def __init__(self, start, end):
        self.start = start  # index of the first line
        self.end = end  # index after the last line
        self.fields = []  # [name_lower, name, first_index, last_index, value]

    def get(self, name):
        for field in self.fields:
            if field[0] == name.lower():
                return field
        return None

    def value(self, name):
        field = self.get(name)
        return field[4] if field else None


def _split_line_ending(line):
    stripped = line.rstrip("\r\n")
    return stripped, line[len(stripped):]


def _normalize_archs(words):
    return " ".join(sorted(set(words)))


def _one_line_words(text, start):
    """Split *text* from *start* into (begin, end, word) spans.

    Like apt's ParseQuoteWord, ``[...]`` and ``"..."`` group characters (so a
    ``cdrom:[Ubuntu 22.04 ...]/`` URI is one word).
    """
    spans = []
    i, n = start, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        begin = i
        closer = None
        while i < n:
            char = text[i]
            if closer:
                if char == closer:
                    closer = None
            elif char == "[":
                closer = "]"
            elif char == '"':
                closer = '"'
            elif char.isspace():
                break
            i += 1
        spans.append((begin, i, text[begin:i]))
    return spans


def parse_one_line(path, text):
    """Return (lines, entries) for a one-line style file."""
    lines = text.splitlines(True)
    entries = []
    for index, raw in enumerate(lines):
        content, _ending = _split_line_ending(raw)
        hash_at = content.find("#")
        body = content if hash_at < 0 else content[:hash_at]
        if not body.strip():
            continue
        words = _one_line_words(body, 0)
        if not words or words[0][2] not in ENTRY_TYPES:
            continue
        typ = words[0][2]
        pos = words[0][1]
        rest = body[pos:]
        options = {}
        lead = len(rest) - len(rest.lstrip())
        if rest.lstrip().startswith("["):
            open_at = pos + lead
            close_at = body.find("]", open_at)
            if close_at < 0:
                continue  # apt rejects this line; leave it alone
            for option in body[open_at + 1:close_at].split():
                key, _sep, value = option.partition("=")
                options[key.rstrip("+-").lower()] = value
            pos = close_at + 1
        words = _one_line_words(body, pos)
        if len(words) < 2:
            continue
        uri, suite = words[0][2], words[1][2]
        components = [w[2] for w in words[2:]]
        archs = _normalize_archs(options.get("arch", "").split(",")) if options.get("arch") else ""
        entry = Entry(path, "one-line", [typ], [uri], [suite], components, archs, index + 1)
        entry.one_line_index = index
        entry.insert_col = words[-1][1]
        entries.append(entry)
    return lines, entries


def _is_blank(line):
    return not line.strip()


def _is_comment(line):
    return line.startswith("#")


def parse_deb822(path, text):
    """Return (lines, stanzas, entries) for a deb822 style file."""
    lines = text.splitlines(True)
    stanzas = []
    index, n = 0, len(lines)
    while index < n:
        if _is_blank(lines[index]):
            index += 1
            continue
        start = index
        while index < n and not _is_blank(lines[index]):
            index += 1
        stanza = Stanza(start, index)
        current = None
        for line_index in range(start, index):
            content, _ending = _split_line_ending(lines[line_index])
            if _is_comment(content):
                continue
            if content[:1] in (" ", "\t"):
                if current is not None:
                    current[3] = line_index
                    current[4] = (current[4] + " " + content.strip()).strip()
                continue
            name, sep, value = content.partition(":")
            if not sep:
                current = None
                continue
            current = [name.strip().lower(), name.strip(), line_index, line_index, value.strip()]
            stanza.fields.append(current)
        if stanza.fields:
            stanzas.append(stanza)
    entries = []
    for stanza in stanzas:
        enabled = stanza.value("Enabled")
        if enabled is not None and enabled.strip().lower() in _FALSE_WORDS:
            continue
        types = [t for t in (stanza.value("Types") or "").split() if t in ENTRY_TYPES]
        uris = (stanza.value("URIs") or "").split()
        suites = (stanza.value("Suites") or "").split()
        components = (stanza.value("Components") or "").split()
        if not types or not uris or not suites:
            continue
        archs = _normalize_archs((stanza.value("Architectures") or "").split())
        entry = Entry(path, "deb822", types, uris, suites, components, archs, stanza.fields[0][2] + 1)
        entry.stanza = stanza
        entries.append(entry)
    return lines, stanzas, entries


# --------------------------------------------------------------------------
# Reading the apt configuration directory
# --------------------------------------------------------------------------


def source_files(apt_dir):
    """The files apt reads, in apt's order: sources.list, then sources.list.d sorted."""
    files = []
    main = os.path.join(apt_dir, SOURCES_LIST)
    if os.path.isfile(main):
        files.append(main)
    parts = os.path.join(apt_dir, SOURCES_PARTS)
    if os.path.isdir(parts):
        for name in sorted(os.listdir(parts)):
            full = os.path.join(parts, name)
            if PART_NAME_RE.match(name) and os.path.isfile(full):
                files.append(full)
    return files


def read_text(path):
    with open(path, "rb") as handle:
        return handle.read().decode("utf-8", "surrogateescape")


def read_sources(apt_dir):
    """Return an ordered list of (path, text) for every sources file in *apt_dir*."""
    if not os.path.isdir(apt_dir):
        raise AptSourcesError("apt configuration directory %s does not exist" % apt_dir)
    return [(path, read_text(path)) for path in source_files(apt_dir)]


def is_deb822(path):
    return path.endswith(".sources")


# --------------------------------------------------------------------------
# Planning the edits (nothing is written here)
# --------------------------------------------------------------------------


class Plan:
    """The outcome of :func:`plan`: new texts, what changed and why."""

    def __init__(self):
        self.files = []  # [(path, before, after)] in apt order, all examined files
        self.changes = []  # dicts describing each edit
        self.warnings = []
        self.matched = []  # entries of the release in the archive

    @property
    def changed_files(self):
        return [path for path, before, after in self.files if before != after]

    @property
    def changed(self):
        return bool(self.changed_files)


def validate_request(release, components, pockets):
    if not isinstance(release, str) or not RELEASE_RE.match(release):
        raise AptSourcesError(
            "release %r is not an Ubuntu release code name (lower-case letters and digits, such as jammy or noble)" % (release,))
    if not components:
        raise AptSourcesError("components is empty: name at least one component, such as universe")
    for component in components:
        if not isinstance(component, str) or not COMPONENT_RE.match(component):
            raise AptSourcesError("component %r is not a valid apt component name" % (component,))
    if len(set(components)) != len(components):
        raise AptSourcesError("components %r lists a component more than once" % (list(components),))
    for pocket in pockets:
        if not isinstance(pocket, str) or not POCKET_RE.match(pocket):
            raise AptSourcesError("pocket %r is neither the empty string nor a suffix such as -updates" % (pocket,))
    if "" not in pockets:
        raise AptSourcesError("pockets %r must include \"\" (the release pocket itself)" % (list(pockets),))


def _belongs_to_release(suite, release):
    return suite == release or suite.startswith(release + "-")


def plan(sources, release, components, pockets=DEFAULT_POCKETS, archive_uris=DEFAULT_ARCHIVE_URIS):
    """Work out the edits that enable *components* for *release*.

    :param sources: ordered list of (path, text), as from :func:`read_sources`.
    :returns: a :class:`Plan`; its files hold the new texts. Nothing is written.
    :raises AptSourcesError: on a bad request, or when no active ``deb`` entry
        for the release pocket of the archive is found.
    """
    components = list(components)
    pockets = list(pockets)
    validate_request(release, components, pockets)
    matcher = ArchiveMatcher(archive_uris)
    wanted_suites = set(release + pocket for pocket in pockets)

    result = Plan()
    parsed = []  # (path, text, lines, entries)
    for path, text in sources:
        if is_deb822(path):
            lines, _stanzas, entries = parse_deb822(path, text)
        else:
            lines, entries = parse_one_line(path, text)
        parsed.append((path, text, lines, entries))

    # What every active entry in every file already provides.
    coverage = {}
    for _path, _text, _lines, entries in parsed:
        for entry in entries:
            for target in entry.targets():
                coverage.setdefault(target, set()).update(entry.components)

    # The entries we may edit: every URI is the archive and every suite belongs
    # to the host's release. A stanza that mixes these with other repositories
    # or releases is left alone, with a warning.
    eligible = []
    for _path, _text, _lines, entries in parsed:
        for entry in entries:
            uri_hits = [matcher.matches(uri) for uri in entry.uris]
            suite_hits = [_belongs_to_release(suite, release) for suite in entry.suites]
            if not any(uri_hits) or not any(suite_hits):
                continue
            if not all(uri_hits) or not all(suite_hits):
                result.warnings.append(
                    "%s line %d mixes the Ubuntu archive for %s with other repositories or releases (%s); "
                    "it was left unchanged" % (entry.path, entry.line_no, release, entry.describe()))
                continue
            if not entry.components:
                continue
            eligible.append(entry)
    result.matched = eligible

    if not any("deb" in entry.types and release in entry.suites for entry in eligible):
        raise AptSourcesError(
            "no active 'deb' entry for suite %s of the Ubuntu archive in %s (URIs matching %s). "
            "If the host uses a private mirror of the Ubuntu archive, add its URI to archive_uris."
            % (release, ", ".join(path for path, _text in sources) or "(no sources files)", ", ".join(matcher.patterns)))

    # Pass 1: append to existing entries whatever none of their targets has yet.
    # Entries covering more targets go first (a stanza for three suites before a
    # line for one), so that the fewest entries change; ties keep apt's order.
    for entry in sorted(eligible, key=lambda e: -len(list(e.targets()))):
        targets = list(entry.targets())
        wanted_targets = [t for t in targets if t[2] in wanted_suites]
        for component in components:
            if component in entry.components or component in entry.added:
                continue
            needed = any(component not in coverage.get(t, ()) for t in wanted_targets)
            clash = any(component in coverage.get(t, ()) for t in targets)
            if needed and not clash:
                entry.added.append(component)
                for target in targets:
                    coverage.setdefault(target, set()).add(component)

    # Pass 2: targets still missing a component sit in a deb822 stanza whose
    # other suites already have it; give them a stanza of their own.
    supplements = {}  # id(entry) -> (entry, {(type, uri, missing): [suites]})
    done = set()
    for entry in eligible:
        for typ in entry.types:
            for uri in entry.uris:
                for suite in entry.suites:
                    target = (typ, normalize_uri(uri), suite, entry.archs)
                    if suite not in wanted_suites or target in done:
                        continue
                    done.add(target)
                    missing = tuple(c for c in components if c not in coverage.get(target, ()))
                    if not missing:
                        continue
                    groups = supplements.setdefault(id(entry), (entry, {}))[1]
                    groups.setdefault((typ, uri, missing), []).append(suite)
                    coverage.setdefault(target, set()).update(missing)

    # Build the new texts.
    for path, text, lines, entries in parsed:
        new_lines = list(lines)
        inserts = {}  # line index -> text to insert after that line
        for entry in entries:
            if entry.added:
                _apply_added(entry, new_lines)
                result.changes.append({
                    "path": path,
                    "line": entry.line_no,
                    "action": "components_added",
                    "components": list(entry.added),
                    "entry": entry.describe(),
                })
            if id(entry) in supplements:
                _entry, groups = supplements[id(entry)]
                block = _supplement_block(entry, lines, groups)
                last = entry.stanza.end - 1
                inserts[last] = inserts.get(last, "") + block
                for (typ, uri, missing), suites in groups.items():
                    result.changes.append({
                        "path": path,
                        "line": entry.line_no,
                        "action": "stanza_added",
                        "components": list(missing),
                        "entry": "Types: %s; URIs: %s; Suites: %s; Components: %s" % (
                            typ, uri, " ".join(suites), " ".join(missing)),
                    })
        for index in sorted(inserts, reverse=True):
            line = new_lines[index]
            if not line.endswith("\n"):
                new_lines[index] = line + "\n"
            new_lines.insert(index + 1, inserts[index])
        result.files.append((path, text, "".join(new_lines)))
    return result


def _append_words(line, col, words):
    return line[:col] + " " + " ".join(words) + line[col:]


def _apply_added(entry, new_lines):
    if entry.format == "one-line":
        index = entry.one_line_index
        new_lines[index] = _append_words(new_lines[index], entry.insert_col, entry.added)
        return
    field = entry.stanza.get("Components")
    index = field[3]
    content, ending = _split_line_ending(new_lines[index])
    col = len(content.rstrip())
    new_lines[index] = _append_words(content, col, entry.added) + ending


_REPLACED_FIELDS = ("types", "uris", "suites", "components", "enabled")


def _supplement_block(entry, lines, groups):
    """Stanzas for the missing targets, copying the stanza's other fields."""
    stanza = entry.stanza
    ending = "\n"
    kept = []
    for field in stanza.fields:
        if field[0] in _REPLACED_FIELDS:
            continue
        for index in range(field[2], field[3] + 1):
            content, _end = _split_line_ending(lines[index])
            kept.append(content + ending)
    out = []
    for (typ, uri, missing), suites in groups.items():
        out.append(ending)
        out.append(ADDED_STANZA_COMMENT + ending)
        out.append("Types: %s%s" % (typ, ending))
        out.append("URIs: %s%s" % (uri, ending))
        out.append("Suites: %s%s" % (" ".join(suites), ending))
        out.append("Components: %s%s" % (" ".join(missing), ending))
        out.extend(kept)
    return "".join(out)
