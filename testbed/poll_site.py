#!/usr/bin/env python
# Copyright: (c) 2026, hapair.loadbalancer developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ask a URL every 100 ms, as a user would, until a stop file appears; then write what was lost.

Runs in the test bed's client container (stdlib only), next to a copy of the collection's
plugins/module_utils/drill.py as hapair_drill.py (the same client the failover drill runs):
    poll_site.py URL RESULT_JSON STOP_FILE [INTERVAL_SECONDS]
The result: requests made and failed, a request's timeout, the longest time without an answer, every outage (from
the last answer before a failure, the first failure, to the first answer after it, and how long that answer took),
which backends answered, and, for the tests written
before outages were recorded, the wall-clock times (time.time(), the host's clock) of the first failure and of the
first answer after the last failure.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request

import hapair_drill  # pylint: disable=import-error  # copied next to this file into the container


def main():
    url, result_path, stop_path = sys.argv[1:4]
    interval = float(sys.argv[4]) if len(sys.argv) > 4 else 0.1

    timeout = interval * 5

    def fetch():
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read().decode(errors='replace').strip()

    record = hapair_drill.poll_url(fetch, stop_path, interval)
    outages = record['outages']
    backends = {}
    for line, count in record['answers'].items():
        words = line.split()
        name = words[1] if len(words) > 1 else '?'
        backends[name] = backends.get(name, 0) + count
    result = {
        'url': url,
        'interval_seconds': interval,
        'timeout_seconds': timeout,
        'duration_seconds': round(record['stopped_at'] - record['started_at'], 2),
        'requests': record['requests'],
        'failed': record['failed_requests'],
        'longest_gap_seconds': round(record['longest_gap_seconds'], 2),
        'outages': outages,
        'backends': backends,
        'first_failure_time': outages[0]['first_failure'] if outages else None,
        'recovered_time': outages[-1]['to'] if outages else None,
    }
    with open(result_path + '.tmp', 'w', encoding='utf-8') as out:
        json.dump(result, out)
    os.replace(result_path + '.tmp', result_path)


if __name__ == '__main__':
    main()
