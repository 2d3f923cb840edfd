import pytest

from apicenter_sync.errors import PermanentError, TransientError
from apicenter_sync.retry import RetryPolicy, call_with_retry


def test_transient_errors_are_retried_until_success():
    calls, waits = [], []

    def fn():
        calls.append(1)
        if len(calls) < 3:
            raise TransientError("HTTP 503")
        return "ok"

    assert call_with_retry(fn, RetryPolicy(attempts=4, jitter=0), sleep=waits.append) == "ok"
    assert len(calls) == 3
    assert waits == [0.5, 1.0]


def test_gives_up_after_the_last_attempt_with_the_last_error():
    waits = []

    def fn():
        raise TransientError("timeout")

    with pytest.raises(TransientError, match="timeout"):
        call_with_retry(fn, RetryPolicy(attempts=3, jitter=0), sleep=waits.append)
    assert len(waits) == 2


def test_permanent_errors_are_not_retried():
    calls = []

    def fn():
        calls.append(1)
        raise PermanentError("SKU 'AB-12' is not numeric")

    with pytest.raises(PermanentError):
        call_with_retry(fn, RetryPolicy(attempts=5), sleep=lambda s: None)
    assert calls == [1]


def test_retry_after_is_honoured_and_delay_is_capped():
    policy = RetryPolicy(base_delay=1, max_delay=10, jitter=0)
    assert policy.delay(1, retry_after=4) == 4
    assert policy.delay(8) == 10
    assert policy.delay(1, retry_after=60) == 10
