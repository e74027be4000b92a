# -*- coding: utf-8 -*-
# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ansible-playbook runs for the validation smoke tests, the render tests and the apt_sources role tests without
paying, on every run, for Python's start and for importing Ansible: about 0.9 CPU-seconds a run. Measured with
ansible-core 2.19 on 2026-12-05: the apt_sources role tests (27 runs, one after the other) took 32 CPU-seconds and
34 s through the server, 57 CPU-seconds and 62 s with an ansible-playbook process per run; test_validation.py and
test_render.py (13 runs) 17-18 CPU-seconds through the server, 28-29 without.

A server process, started once with the Python running pytest and the settings shared by every run, imports
``ansible.cli.playbook`` and then forks a child per run. The child takes the run's working directory, its own
settings, its arguments and an output file, calls ansible-playbook's own entry point (``ansible.cli.playbook.main``,
what the ``ansible-playbook`` command calls) and leaves with its exit status.

What a child may not share with its siblings: anything Ansible fixes when it is imported (its configuration, such as
ANSIBLE_DEPRECATION_WARNINGS, is read then: it is the server's). Of the settings the tests vary per run, only the
fact cache's path is one, and Ansible reads it when the cache plugin starts, in the child;
the local temporary directory (DEFAULT_LOCAL_TMP) is made at import, so the children share the server's, and leave
with ``os._exit``: ansible-core removes that directory at exit, which would pull it from under the other children.

Each child also writes down the modules it imported that the server had not (the plugins, the executor, the parts
of the standard library a run needs), and the server imports them when it has ended, so the children after it find
them imported: the validation suite of that time (51 runs) with ansible-core 2.21 took 98-105 CPU-seconds of the
machine with this, 112-122 without (2.16: 86, 90). Only modules that import by name: not the collections'
(``ansible_collections.*``, which need the collection loader that each run sets up) nor plugins Ansible loads from a
file under a name of its own; a name that does not import is left to the children.

Protocol (one JSON object per line): request ``{"id", "argv", "cwd", "env", "out"}`` on the server's stdin; answer
``{"id", "rc"}`` on its stdout once the child has ended. The server ends when its stdin closes.
"""

from __future__ import annotations

import importlib
import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import traceback


def _child(request, report):
    """Runs in the forked child: one ansible-playbook run; never returns. The names of the modules it imported go
    to the file `report`, one per line."""
    code = 250
    imported = set(sys.modules)
    try:
        os.chdir(request['cwd'])
        os.environ.update(request['env'])
        out = os.open(request['out'], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
        nothing = os.open(os.devnull, os.O_RDONLY)
        os.dup2(nothing, 0)
        os.close(nothing)
        sys.argv = list(request['argv'])
        from ansible.cli.playbook import main  # pylint: disable=import-outside-toplevel  # imported by serve() already
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # pylint: disable=broad-exception-caught  # whatever it is, it goes to the run's output
        traceback.print_exc()
    finally:
        try:
            with open(report, 'w', encoding='utf-8') as handle:
                handle.write('\n'.join(sorted(set(sys.modules) - imported)))
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)  # not sys.exit: see the module docstring


def _import_what_a_run_imported(report):
    """Imports the modules named in the file `report` (see the module's docstring), then removes it."""
    with open(report, encoding='utf-8') as handle:
        names = handle.read().split()
    os.unlink(report)
    for name in names:
        if name.startswith('ansible_collections') or name in sys.modules:
            continue
        try:
            importlib.import_module(name)
        except Exception:  # pylint: disable=broad-exception-caught  # not importable by name: the children load it
            pass


def serve():
    """The server's loop: fork a child per request, answer each when it ends."""
    import ansible.cli.playbook  # noqa: F401  # pylint: disable=import-outside-toplevel,unused-import  # the cost paid once
    reports = tempfile.mkdtemp(prefix='hapair-playbook-server-')
    children = {}
    pending = b''
    stdin = sys.stdin.fileno()
    open_input = True
    while open_input or children:
        if open_input and select.select([stdin], [], [], 0.02)[0]:
            data = os.read(stdin, 65536)
            open_input = bool(data)
            pending += data
            while b'\n' in pending:
                line, pending = pending.split(b'\n', 1)
                request = json.loads(line)
                report = os.path.join(reports, '%s.modules' % request['id'])
                pid = os.fork()
                if pid == 0:
                    _child(request, report)
                children[pid] = (request['id'], report)
        elif not open_input:
            select.select([], [], [], 0.02)
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            key, report = children.pop(pid)
            sys.stdout.write(json.dumps({'id': key, 'rc': os.waitstatus_to_exitcode(status)}) + '\n')
            sys.stdout.flush()
            if os.path.exists(report):
                _import_what_a_run_imported(report)
    os.rmdir(reports)


class Result:
    """What a run left: returncode and stdout (stdout and stderr together), like subprocess.run's result."""

    def __init__(self, returncode, stdout):
        self.returncode = returncode
        self.stdout = stdout


class PlaybookServer:
    """A server (see the module's docstring) started with `env`; run() may be called from several threads."""

    def __init__(self, env):
        self._proc = subprocess.Popen([sys.executable, os.path.abspath(__file__)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, env=env, text=True)
        self._lock = threading.Lock()
        self._next = 0
        self._answers = {}
        self._done = {}
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self._proc.stdout:
            answer = json.loads(line)
            with self._lock:
                self._answers[answer['id']] = answer['rc']
                event = self._done.get(answer['id'])
            if event:
                event.set()
        # The server is gone: wake every waiting run (it finds no answer).
        with self._lock:
            for event in self._done.values():
                event.set()

    def run(self, argv, cwd, env, out, timeout):
        """Run ansible-playbook with the arguments argv (argv[0]: the command's path) in cwd, with env added to
        the server's settings, its output to the file out; returns a Result."""
        event = threading.Event()
        with self._lock:
            self._next += 1
            key = self._next
            self._done[key] = event
            self._proc.stdin.write(json.dumps({'id': key, 'argv': argv, 'cwd': cwd, 'env': env, 'out': out}) + '\n')
            self._proc.stdin.flush()
        if not event.wait(timeout):
            raise TimeoutError('ansible-playbook %s did not end within %s s' % (' '.join(argv[1:]), timeout))
        with self._lock:
            del self._done[key]
            if key not in self._answers:
                raise RuntimeError('the playbook server ended (exit %s) during a run' % self._proc.poll())
            rc = self._answers.pop(key)
        with open(out, encoding='utf-8', errors='replace') as handle:
            return Result(rc, handle.read())

    def close(self):
        """Ends the server once its runs have ended."""
        if self._proc.poll() is None:
            self._proc.stdin.close()
            self._proc.wait(60)
        self._reader.join(5)


if __name__ == '__main__':
    serve()
