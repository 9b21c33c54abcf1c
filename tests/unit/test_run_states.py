import pytest

from runyard.entities.run import TERMINAL_STATUSES, RunStatus, allowed_transitions, can_transition

S = RunStatus


@pytest.mark.parametrize(
    "current,new",
    [
        (S.NOT_STARTED, S.RUNNING),
        (S.QUEUED, S.PREPARING),
        (S.PREPARING, S.STARTING),
        (S.STARTING, S.RUNNING),
        (S.RUNNING, S.FINALIZING),
        (S.FINALIZING, S.COMPLETED),
        (S.RUNNING, S.COMPLETED),
        (S.QUEUED, S.CANCELED),
        (S.RUNNING, S.CANCEL_REQUESTED),
        (S.CANCEL_REQUESTED, S.CANCELED),
        (S.PREPARING, S.FAILED),
    ],
)
def test_forward_transitions_are_allowed(current, new):
    assert can_transition(current, new)


@pytest.mark.parametrize(
    "current,new",
    [
        (S.RUNNING, S.QUEUED),
        (S.FINALIZING, S.RUNNING),
        (S.QUEUED, S.COMPLETED),
        (S.PREPARING, S.COMPLETED),
        (S.CANCEL_REQUESTED, S.RUNNING),
    ],
)
def test_backward_and_skipping_to_completed_are_refused(current, new):
    assert not can_transition(current, new)


@pytest.mark.parametrize("terminal", sorted(TERMINAL_STATUSES))
def test_terminal_statuses_allow_nothing(terminal):
    assert allowed_transitions(terminal) == frozenset()


def test_every_status_has_a_rule():
    for status in RunStatus:
        allowed_transitions(status)


def test_status_prints_as_sdk_v1_name():
    assert str(S.CANCEL_REQUESTED) == "CancelRequested"
