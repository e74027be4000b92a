#!/usr/bin/env bash
# Run the benchmarks (see benchmarks/README.md) after setting up what is missing:
#   benchmarks/run.sh [--runs 5] [--heal-runs 10] [--only provisioning,faults,drill,soak,scale,input_check]
#                     [--engines heartbeat,keepalived] [--profiles standard,fast] [--faults crash,freeze]
#                     [--bed INVENTORY] [--label NAME] [--forks N]
#   benchmarks/run.sh --reference benchmarks/results/A.json [B.json ...]   # write benchmarks/reference.json
# They use the local test bed (the same containers as the demo and molecule; --bed for another bed) and take hours
# for everything: run the parts you need (benchmarks/README.md gives each part's time).
# shellcheck source-path=SCRIPTDIR source=../scripts/lib.sh
source "$(dirname "$0")/../scripts/lib.sh"
"$HAPAIR_ROOT/scripts/setup.sh"
exec python3 "$HAPAIR_ROOT/benchmarks/run.py" "$@"
