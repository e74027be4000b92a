#!/usr/bin/env python
# Copyright: (c) 2026, hapair.loadbalancer developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ask a URL every 100 ms, as a user would, until a stop file appears; then write what was lost.

Runs in the test bed's client container (stdlib only):
    poll_site.py URL RESULT_JSON STOP_FILE [INTERVAL_SECONDS]
The result: requests made and failed, the longest time without an answer (from the last answer before a
failure to the first answer after it), which backends answered, and the wall-clock times (time.time(), the
same clock as the host's) of the first failure and of the first answer after the last failure.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request


def main():
    url, result_path, stop_path = sys.argv[1:4]
    interval = float(sys.argv[4]) if len(sys.argv) > 4 else 0.1
    started = time.monotonic()
    last_ok = started
    requests = failed = 0
    longest_gap = 0.0
    backends = {}
    first_failure = last_failure = None
    first_failure_time = recovered_time = last_failure_time = None
    while not os.path.exists(stop_path):
        tick = time.monotonic()
        requests += 1
        try:
            with urllib.request.urlopen(url, timeout=interval * 5) as response:
                body = response.read().decode(errors='replace').split()
            now = time.monotonic()
            longest_gap = max(longest_gap, now - last_ok)
            last_ok = now
            if last_failure is not None and (recovered_time is None or recovered_time < last_failure_time):
                recovered_time = time.time()
            name = body[1] if len(body) > 1 else '?'
            backends[name] = backends.get(name, 0) + 1
        except Exception:  # pylint: disable=broad-exception-caught  # any failure is a lost request
            failed += 1
            first_failure = first_failure if first_failure is not None else tick - started
            first_failure_time = first_failure_time if first_failure_time is not None else time.time()
            last_failure = tick - started
            last_failure_time = time.time()
        time.sleep(max(0.0, interval - (time.monotonic() - tick)))
    result = {
        'url': url,
        'interval_seconds': interval,
        'duration_seconds': round(time.monotonic() - started, 2),
        'requests': requests,
        'failed': failed,
        'longest_gap_seconds': round(max(longest_gap, time.monotonic() - last_ok), 2),
        'first_failure_at': None if first_failure is None else round(first_failure, 2),
        'last_failure_at': None if last_failure is None else round(last_failure, 2),
        'backends': backends,
        'first_failure_time': first_failure_time,
        'recovered_time': recovered_time,
    }
    with open(result_path + '.tmp', 'w', encoding='utf-8') as out:
        json.dump(result, out)
    os.replace(result_path + '.tmp', result_path)


if __name__ == '__main__':
    main()
