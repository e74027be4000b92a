# Copyright: hapair.loadbalancer contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.hapair.loadbalancer.plugins.filter.vip_pair import FilterModule, vip_pair

VIP = '198.51.100.10'
MAC1 = '02:00:00:00:00:01'
MAC2 = '02:00:00:00:00:02'
MAC3 = '02:00:00:00:00:03'
NODES = [{'name': 'loadb1', 'host': 'herring'}, {'name': 'loadb2', 'host': 'haddock'}]


def result(holds, mac, responders=(), ran=True, verdict='ok'):
    """A vip_check result as the module returns it."""
    if verdict == 'ok':
        verdict = 'holder' if holds and not responders else 'standby' if not holds and len(responders) == 1 else 'conflict'
    return {'holds_vip': holds, 'local_mac': mac, 'responders': list(responders), 'verdict': verdict,
            'arp_probe': {'ran': ran, 'error': None if ran else 'no CAP_NET_RAW'}, 'msg': 'vip_check said so'}


def judge(*results):
    return vip_pair(NODES, list(results), 'pair1', VIP)


def test_one_holder_and_agreeing_views():
    verdict = judge(result(True, MAC1), result(False, MAC2, [MAC1]))
    assert verdict['ok'] is True
    assert verdict['holder'] == 'loadb1' and verdict['holder_host'] == 'herring'
    assert verdict['msg'] == "VIP 198.51.100.10 of pair 'pair1' is on loadb1 (herring); loadb2 (haddock) stands by."


def test_the_holder_may_be_the_second_node():
    verdict = judge(result(False, MAC1, [MAC2]), result(True, MAC2))
    assert verdict['ok'] is True and verdict['holder'] == 'loadb2'


def test_no_holder():
    verdict = judge(result(False, MAC1), result(False, MAC2))
    assert verdict['ok'] is False and verdict['holder'] is None
    assert verdict['msg'] == "No node of pair 'pair1' holds VIP 198.51.100.10."


def test_no_holder_but_another_machine_answers():
    verdict = judge(result(False, MAC1, [MAC3]), result(False, MAC2, [MAC3]))
    assert verdict['ok'] is False
    assert verdict['msg'] == "No node of pair 'pair1' holds VIP 198.51.100.10; another machine answers for it (02:00:00:00:00:03)."


def test_split_brain_names_both_nodes():
    verdict = judge(result(True, MAC1, [MAC2]), result(True, MAC2, [MAC1]))
    assert verdict['ok'] is False
    assert verdict['msg'] == "Split brain in pair 'pair1': loadb1 and loadb2 both hold VIP 198.51.100.10."


def test_split_brain_is_found_without_arp_probes():
    verdict = judge(result(True, MAC1, ran=False), result(True, MAC2, ran=False))
    assert verdict['ok'] is False and 'Split brain' in verdict['msg']


def test_a_third_machine_claiming_the_vip_is_a_disagreement():
    verdict = judge(result(True, MAC1, [MAC3]), result(False, MAC2, [MAC1, MAC3]))
    assert verdict['ok'] is False and verdict['holder'] == 'loadb1'
    assert verdict['msg'] == (
        "loadb1 holds VIP 198.51.100.10 (MAC 02:00:00:00:00:01) in pair 'pair1', but the views of the segment disagree: "
        "loadb1 sees it answered by [02:00:00:00:00:03]; "
        "loadb2 sees it answered by [02:00:00:00:00:01, 02:00:00:00:00:03].")


def test_a_standby_that_sees_nobody_disagrees():
    verdict = judge(result(True, MAC1), result(False, MAC2, []))
    assert verdict['ok'] is False
    assert 'loadb2 sees it answered by []' in verdict['msg']


def test_views_without_a_probe_rest_on_local_state():
    verdict = judge(result(True, MAC1), result(False, MAC2, ran=False))
    assert verdict['ok'] is True
    assert verdict['msg'].endswith('(no ARP probe on loadb2: local state only).')


def test_a_failed_check_is_reported_with_its_message():
    failed = result(False, None, verdict=None)
    failed['msg'] = 'interface eth9 does not exist'
    verdict = judge(result(True, MAC1), failed)
    assert verdict['ok'] is False
    assert verdict['msg'] == "The VIP check of pair 'pair1' failed on loadb2: interface eth9 does not exist."


def test_a_node_without_a_result_is_a_failure():
    verdict = vip_pair(NODES, [result(True, MAC1), None], 'pair1', VIP)
    assert verdict['ok'] is False and 'failed on loadb2' in verdict['msg']


@pytest.mark.parametrize('nodes, results', [
    ('loadb1', [{}]),
    ([{'host': 'herring'}], [{}]),
    (NODES, [{}]),
    (NODES, 'results'),
])
def test_bad_input_is_a_clear_error(nodes, results):
    with pytest.raises(AnsibleFilterError, match='vip_pair expects'):
        vip_pair(nodes, results, 'pair1', VIP)


def test_is_registered():
    assert FilterModule().filters()['vip_pair'] is vip_pair
