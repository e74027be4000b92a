#!/usr/bin/env bash
# The first README command: on a fresh machine, set up what is missing, start a local pair and two
# backends in containers, provision the pair with the site playbook, verify it, show the site through
# the VIP, drill a failover, and end with a summary. Running it again reuses what exists.
#   scripts/demo.sh          run the demo
#   scripts/demo.sh clean    remove every container, network and image the demo made
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$HAPAIR_ROOT"

inventory=testbed/inventory/one-pair.yml
image=localhost/hapair-node:bookworm
export ANSIBLE_DISPLAY_SKIPPED_HOSTS=false

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

scripts/setup.sh

step "Starting the pair (herring, haddock) and two backends in containers on 198.51.100.0/24"
ansible-playbook -i "$inventory" testbed/up.yml

step "Provisioning the pair with the site playbook: hostnames, apt sources, Apache, heartbeat"
ansible-playbook -i "$inventory" playbooks/site.yml

step "Checking that the VIP sits on exactly one node"
ansible-playbook -i "$inventory" playbooks/verify.yml

vip=$(ansible-inventory -i "$inventory" --host herring | python3 -c 'import json,sys; print(json.load(sys.stdin)["hapair_vip"])')
step "The site through the VIP $vip, asked four times from the client container"
answers=()
for _ in 1 2 3 4; do
  answer=$($SUDO podman exec hapair-client python3 -c \
    'import sys,urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode().strip())' \
    "http://$vip/")
  echo "  http://$vip/ -> $answer"
  answers+=("$answer")
done

step "Failover drill: stop heartbeat on the VIP holder, watch the VIP and the site move, and come back"
report=$(mktemp /tmp/hapair-drill.XXXXXX.json)
ansible-playbook -i "$inventory" playbooks/failover.yml -e "heartbeat_failover_report=$report"

step "Summary"
holder=none
for node in herring haddock; do
  if [ -n "$($SUDO podman exec "hapair-$node" ip -4 -o addr show to "$vip")" ]; then
    holder="$node ($($SUDO podman exec "hapair-$node" uname -n))"
  fi
done
python3 - "$report" "$holder" "${answers[@]}" <<'PY'
import json
import sys

report, holder, answers = sys.argv[1], sys.argv[2], sys.argv[3:]
pair = json.load(open(report, encoding='utf-8'))['pairs'][0]
backends = sorted({answer.split()[1] for answer in answers})
print(f"  VIP {pair['vip']} of {pair['pair']} is on: {holder}")
print(f"  Backends that answered through the VIP: {', '.join(backends)}")
client = pair['client']
print(f"  Failover ({pair['method']} heartbeat on {pair['holder_before']}): the VIP was on {pair['took_over']} "
      f"{pair['failover_seconds']} s after the fault (measured on the nodes)")
print(f"  What a user saw (a request every {client['interval_seconds']} s from this machine): {client['failed_requests']} of "
      f"{client['requests']} requests failed, the site answered again {client['site_back_seconds']} s after the fault, "
      f"the longest gap was {client['longest_gap_seconds']} s")
print(f"  Failback: back on {pair['holder_after']} {pair['failback_seconds']} s after heartbeat returned")
print("  Try it yourself: curl http://%s/   Remove everything: scripts/demo.sh clean" % pair['vip'])
PY
rm -f "$report"
