#!/usr/bin/env bash
# The first README command: on a fresh machine, set up what is missing, start a local pair and two
# backends in containers, provision it with the site playbook, verify it, show the site through the VIP, drill a
# failover, and end with a summary. One short line per step on the screen; the whole output of every step (setup and
# Ansible) goes to a log file, named at the start. A failed step prints the failing task and where the log has it.
# Running it again reuses what exists.
#   scripts/demo.sh          run the demo
#   scripts/demo.sh clean    remove every container, network and image the demo made
# Environment: HAPAIR_DEMO_LOG (the log file; tests/output/demo-<time>.log by default), HAPAIR_DEMO_INVENTORY (the test
# bed inventory, testbed/inventory/one-pair.yml by default), HAPAIR_DEMO_SKIP_SETUP=1 (the machine is set up already).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$HAPAIR_ROOT"

inventory=${HAPAIR_DEMO_INVENTORY:-testbed/inventory/one-pair.yml}
image=localhost/hapair-node:bookworm
export ANSIBLE_DISPLAY_SKIPPED_HOSTS=false ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0

if [ "${1:-}" = clean ]; then
  step "Removing the demo's containers and networks"
  if command -v ansible-playbook > /dev/null; then
    ansible-playbook -i "$inventory" testbed/down.yml
  fi
  step "Removing the node image and the test bed's SSH key"
  $SUDO podman rmi --ignore "$image" > /dev/null
  rm -f "$HOME/.cache/hapair/testbed_ed25519" "$HOME/.cache/hapair/testbed_ed25519.pub"
  step "Clean. (The apt packages and the .venv stay; remove .venv by hand if you like.)"
  exit 0
elif [ "$#" -gt 0 ]; then
  echo "usage: $0 [clean]" >&2
  exit 2
fi

log=${HAPAIR_DEMO_LOG:-$HAPAIR_ROOT/tests/output/demo-$(date +%Y%m%d-%H%M%S).log}
mkdir -p "$(dirname "$log")"
: > "$log"
steps=7
number=0
echo "hapair.loadbalancer demo - the full output goes to $log"

# Usage: failure_report - the failing task of the last step, from the log: the TASK line before the first
# fatal/failed line of the step's part of the log, the host, the first line of its message, and where the log has it.
failure_report() {
  python3 - "$log" "$1" <<'PY'
import json
import re
import sys

path, first = sys.argv[1], int(sys.argv[2])
lines = open(path, encoding='utf-8', errors='replace').read().splitlines()
task = None
for number, line in enumerate(lines[first - 1:], start=first):
    if line.startswith('TASK [') or line.startswith('RUNNING HANDLER ['):
        task = (number, line.split(' ***')[0].rstrip('* '))
    match = re.match(r'^(?:fatal|failed): \[([^\]]+)\].*?=> (.*)$', line)
    if match:
        message = match.group(2)
        try:
            result = json.JSONDecoder().raw_decode(message)[0]
            message = result.get('msg', message) if isinstance(result, dict) else message
        except ValueError:
            pass
        if isinstance(message, list):
            message = message[0] if message else ''
        print('  failed: %s on %s' % (task[1] if task else 'a task', match.group(1)))
        print('  %s' % str(message).splitlines()[0][:220] if str(message) else '  (no message)')
        print('  the log has it at line %d: %s' % (task[0] if task else number, path))
        sys.exit(0)
print('  the last lines of the log, %s:' % path)
for line in lines[-8:]:
    print('    ' + line[:200])
PY
}

# Usage: run TITLE COMMAND... - one line on the screen, the command's output to the log.
run() {
  local title=$1 start=$SECONDS first
  shift
  number=$((number + 1))
  first=$(($(wc -l < "$log") + 1))
  printf '==== %s\n' "$title" >> "$log"
  printf '[%s] %d/%d %-62s ' "$(date +%H:%M:%S)" "$number" "$steps" "$title"
  if "$@" >> "$log" 2>&1; then
    printf 'ok %4ss\n' "$((SECONDS - start))"
  else
    printf 'FAILED after %ss\n' "$((SECONDS - start))"
    failure_report "$first"
    exit 1
  fi
}

# Usage: bed_facts - "VIP CLIENT_CONTAINER NODE=CONTAINER ..." of the inventory's first pair, from ansible-inventory.
bed_facts() {
  ansible-inventory -i "$inventory" --list | python3 -c '
import json, sys
inv = json.load(sys.stdin)
def hosts(group):
    found = list(inv.get(group, {}).get("hosts", []))
    for child in inv.get(group, {}).get("children", []):
        found += hosts(child)
    return found
hv = inv["_meta"]["hostvars"]
nodes = hosts("loadbalancers")
cluster = hv[nodes[0]].get("hapair_cluster", "default")
pair = [n for n in nodes if hv[n].get("hapair_cluster", "default") == cluster]
print(hv[pair[0]]["hapair_vip"], hv[hosts("clients")[0]]["testbed_container"],
      " ".join("%s=%s" % (n, hv[n]["testbed_container"]) for n in pair))'
}

if [ -n "${HAPAIR_DEMO_SKIP_SETUP:-}" ]; then
  steps=$((steps - 1))
else
  run "Setting up what is missing (podman, .venv, node image)" scripts/setup.sh
fi
run "Starting the pair and two backends in containers (198.51.100.0/24)" ansible-playbook -i "$inventory" testbed/up.yml
run "Provisioning the pair: hostnames, apt, Apache, engine, monitor" ansible-playbook -i "$inventory" playbooks/site.yml
verify_from=$(($(wc -l < "$log") + 1))
run "Checking that the VIP sits on exactly one node" ansible-playbook -i "$inventory" playbooks/verify.yml

read -r vip client nodes <<< "$(bed_facts)"
answers_file=$(mktemp /tmp/hapair-answers.XXXXXX)
ask_four_times() {
  for _ in 1 2 3 4; do
    $SUDO podman exec "$client" python3 -c \
      'import sys,urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode().strip())' \
      "http://$vip/" | tee -a "$answers_file"
  done
}
run "Asking for the site through the VIP $vip, four times" ask_four_times

report=$(mktemp /tmp/hapair-drill.XXXXXX.json)
run "Failover drill: the holder's engine stopped and started again" \
  ansible-playbook -i "$inventory" playbooks/failover.yml -e "hapair_drill_report=$report"
run "Checking the pair again after the drill" ansible-playbook -i "$inventory" playbooks/verify.yml

holder=none
for entry in $nodes; do
  node=${entry%%=*}
  name=${entry#*=}
  if [ -n "$($SUDO podman exec "$name" ip -4 -o addr show to "$vip")" ]; then
    holder="$node ($($SUDO podman exec "$name" uname -n))"
  fi
done
echo
echo "Summary"
python3 - "$report" "$holder" "$answers_file" "$log" "$verify_from" <<'PY'
import json
import sys

report, holder, answers_file, log, verify_from = sys.argv[1:6]
pair = json.load(open(report, encoding='utf-8'))['pairs'][0]
answers = [line.split() for line in open(answers_file, encoding='utf-8') if line.strip()]
backends = sorted({words[1] for words in answers if len(words) > 1})
print(f"  VIP {pair['vip']} of {pair['pair']} is on: {holder}")
print(f"  Backends that answered through the VIP: {', '.join(backends)}")
client = pair['client']
print(f"  Failover ({pair['method']} the engine on {pair['holder_before']}): the VIP was on {pair['took_over']} "
      f"{pair['failover_seconds']} s after the fault (measured on the nodes)")
print(f"  A user asking every {client['interval_seconds']} s saw {client['failed_requests']} of {client['requests']} "
      f"requests fail; the site answered again {client['site_back_seconds']} s after the fault")
print(f"  Failback: back on {pair['holder_after']} {pair['failback_seconds']} s after the engine returned")
# verify's table of every pair, as the first verify printed it.
lines = open(log, encoding='utf-8', errors='replace').read().splitlines()[int(verify_from) - 1:]
table, inside = [], False
for line in lines:
    if 'Show every pair' in line:
        inside = True
    elif inside and line.strip().startswith('"msg": ['):
        table = []
    elif inside and line.strip() in (']', '],'):
        break
    elif inside and line.strip().startswith('"'):
        table.append(json.loads(line.strip().rstrip(',')))
if table:
    print('  The pair, as verify shows it:')
    for row in table:
        print('    ' + row)
print(f"  Try it yourself: curl http://{pair['vip']}/   Full output: {log}   Remove everything: scripts/demo.sh clean")
PY
rm -f "$report" "$answers_file"
