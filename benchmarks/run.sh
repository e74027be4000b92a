#!/usr/bin/env bash
# Run the benchmarks (see benchmarks/README.md) after setting up what is missing:
#   benchmarks/run.sh [--runs 5] [--only provisioning,failover,scale] [--faults crash,freeze] [--label NAME] [--forks N]
# They use the local test bed (the same containers as the demo and molecule) and take about 40 minutes.
# shellcheck source-path=SCRIPTDIR source=../scripts/lib.sh
source "$(dirname "$0")/../scripts/lib.sh"
"$HAPAIR_ROOT/scripts/setup.sh"
exec python3 "$HAPAIR_ROOT/benchmarks/run.py" "$@"
