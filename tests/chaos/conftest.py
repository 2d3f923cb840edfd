"""Options of the chaos suite (``tests/chaos``).

    .venv/bin/pytest tests/chaos --chaos-size 300 --chaos-rates 0.1,0.3,0.5 --chaos-kinds each

--chaos-size N      seeded articles of the world (customers N/2, orders N/10, at least 20); default 60
--chaos-rates R,..  fault rates, one scenario each; default 0.3 (the case the normal ``./dev test`` run includes)
--chaos-kinds K     ``all`` (default): one scenario per rate with every fault kind mixed; ``each``: also one
                    scenario per single kind; or a comma list of kinds (one scenario with those mixed)
--chaos-seed S      seed of the fault draws and of the mid-run changes; default 7
--chaos-kills K     SIGKILLs of the crash-safety test; default 4

Options only take effect when the suite's conftest is loaded at start-up, i.e. when ``tests/chaos`` is named on
the command line; a plain ``pytest`` run (testpaths = tests) uses the defaults.

Every scenario adds a row to ``tests/chaos/results/latest.md`` (not tracked) (rewritten at the end of the session that ran it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

RESULTS = Path(__file__).parent / "results" / "latest.md"
DEFAULTS = {"chaos_size": 60, "chaos_rates": "0.3", "chaos_kinds": "all", "chaos_seed": 7, "chaos_kills": 4}


def pytest_addoption(parser):
    group = parser.getgroup("chaos", "chaos suite (tests/chaos)")
    group.addoption("--chaos-size", type=int, default=DEFAULTS["chaos_size"], help="seeded articles (default 60)")
    group.addoption("--chaos-rates", default=DEFAULTS["chaos_rates"], help="comma list of fault rates (default 0.3)")
    group.addoption("--chaos-kinds", default=DEFAULTS["chaos_kinds"], help="all | each | comma list of kinds")
    group.addoption("--chaos-seed", type=int, default=DEFAULTS["chaos_seed"], help="seed (default 7)")
    group.addoption("--chaos-kills", type=int, default=DEFAULTS["chaos_kills"], help="SIGKILLs (default 4)")


def option(config, name: str):
    return config.getoption(name, default=DEFAULTS[name])


def _scenarios(config) -> list[tuple[float, str]]:
    from chaos_harness import ALL_KINDS

    rates = [float(r) for r in str(option(config, "chaos_rates")).split(",") if r.strip()]
    kinds = str(option(config, "chaos_kinds")).strip()
    labels = ["all"] if kinds in ("all", "each") else [kinds]
    if kinds == "each":
        labels += list(ALL_KINDS)
    return [(rate, label) for rate in rates for label in labels]


def pytest_generate_tests(metafunc):
    if "scenario" in metafunc.fixturenames:
        scenarios = _scenarios(metafunc.config)
        metafunc.parametrize("scenario", scenarios, ids=[f"{int(r * 100)}pct-{k}" for r, k in scenarios])


class Results:
    HEADER = (
        "| rate | kinds | records | faults injected | HTTP retries | records retried | fault rounds | reconnects "
        "| duplicates | lost | mismatches | open failures (all expected) | seconds |\n"
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    )

    def __init__(self):
        self.rows: list[str] = []
        self.notes: list[str] = []

    def add(self, row: str, note: str = "") -> None:
        self.rows.append(row)
        if note:
            self.notes.append(note)

    def write(self, config) -> None:
        if not self.rows:
            return
        size, seed = option(config, "chaos_size"), option(config, "chaos_seed")
        text = (
            "# Chaos results\n\n"
            f"Written by `pytest tests/chaos` (world size {size}, seed {seed}; all five flows, fault rounds until the "
            "strict reconciliation is clean, then clean rounds until nothing is written). See docs/reliability.md.\n\n"
            + self.HEADER
            + "".join(self.rows)
            + ("\n" + "\n".join(f"- {n}" for n in self.notes) + "\n" if self.notes else "")
        )
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(text, encoding="utf-8")


@pytest.fixture(scope="session")
def chaos_results(request):
    results = Results()
    yield results
    results.write(request.config)


@pytest.fixture
def chaos_options(request) -> dict:
    return {name: option(request.config, name) for name in DEFAULTS}
