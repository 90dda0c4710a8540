"""Any request from any device: never `internal`, a refusal changes nothing, the hall goes on.

Hypothesis draws envelopes and every op's arguments (tests/fuzzutil.py) from a device of every
role, against one controller on a real database that carries a day's state and keeps what the
examples before did. A longer run of the same is bench/fuzz_soak.py.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzzutil import ARGS, DEVICES, FuzzHall, ops_arguments, requests
from onewindow.ops_registry import OPS
from onewindow.roles import ROLES

EXAMPLES = int(os.environ.get("ONEWINDOW_FUZZ_EXAMPLES", "300"))


@pytest.fixture
def fuzz_hall(tmp_path):
    h = FuzzHall(tmp_path)
    yield h
    h.close()


def test_the_fuzzer_knows_every_op_and_every_argument():
    assert set(ARGS) == set(OPS)
    for op, names in ops_arguments().items():
        assert names <= set(ARGS[op]), (op, names - set(ARGS[op]))


def test_the_fuzzer_speaks_as_every_role():
    assert {d.role for d in DEVICES} == set(ROLES)


def test_any_request_from_any_device_is_answered_and_a_refusal_changes_nothing(fuzz_hall):
    # one hall for every example, and the checks after them in the same test: no other test
    # has to run first
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def fuzz(data):
        pools = fuzz_hall.pools()
        for _ in range(data.draw(st.integers(1, 3), label="requests")):
            fuzz_hall.check(*requests(data, pools))
        if data.draw(st.integers(0, 9), label="a citizen comes") == 0:
            fuzz_hall.alive()  # tickets keep coming, for the windows to call

    fuzz()
    # the hall lives after the fuzzing
    fuzz_hall.later(minutes=40)  # ticks: alerts, bounds, the rating pad's time limit
    fuzz_hall.alive()
    fuzz_hall.assert_consistent()
    assert fuzz_hall.codes["ok"] > 0 and fuzz_hall.reloads == 0
