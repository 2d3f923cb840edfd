import pytest

from apicenter_sandbox.faults import FaultConfig, FaultInjector


def test_rate_zero_never_faults():
    inj = FaultInjector()
    inj.configure(FaultConfig(rate=0.0))
    assert all(inj.draw("op", True) is None for _ in range(1000))


def test_rate_is_respected_and_seed_reproduces():
    def run(seed):
        inj = FaultInjector()
        inj.configure(FaultConfig(rate=0.3, seed=seed))
        return [inj.draw("op", i % 2 == 0) for i in range(2000)]

    first = run(7)
    assert first == run(7)
    hits = sum(f is not None for f in first)
    assert 500 < hits < 700


def test_after_write_only_for_writes():
    inj = FaultInjector()
    inj.configure(FaultConfig(rate=1.0, kinds=("reset", "lost_reply"), after_write=1.0, seed=1))
    reads = [inj.draw("get", False) for _ in range(200)]
    writes = [inj.draw("create", True) for _ in range(200)]
    assert not any(f.after_write for f in reads)
    assert all(f.after_write for f in writes)


def test_allowed_kinds_and_operation_filter():
    inj = FaultInjector()
    inj.configure(FaultConfig(rate=1.0, kinds=("expired_token", "http503"), operations=("getProducts",)))
    assert inj.draw("getOrders", False) is None
    kinds = {inj.draw("getProducts", False, frozenset({"http503"})).kind for _ in range(50)}
    assert kinds == {"http503"}


@pytest.mark.parametrize(
    "payload, message",
    [
        ({"rate": 2}, "rate must be between 0 and 1"),
        ({"kinds": ["meteor"]}, "unknown fault kind(s): meteor"),
        ({"rat": 0.1}, "unknown fault setting(s): rat"),
        ([], "must be a JSON object"),
    ],
)
def test_bad_config_is_rejected_with_a_clear_message(payload, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        FaultConfig.from_json(payload)
