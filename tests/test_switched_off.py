"""Every optional AccountView object, absent: each step its absence switches off says so, once per run, naming what
is no longer filled and the mapping table or setting that can fill it instead; the doctor names the steps too."""

from __future__ import annotations

from flow_fixtures import Env

from apicenter_sandbox.accountview.variant import Variant
from apicenter_sandbox.runner import start_sandboxes
from apicenter_sync.doctor import run_doctor
from apicenter_sync.engine import RUN_ORDER, Engine
from apicenter_sync.flows.base import RunOptions
from apicenter_sync.i18n import catalogue, references
from apicenter_sync.profile import ApiProfile
from apicenter_sync.profile.defaults import OPTIONAL_STEPS


def test_every_optional_object_names_the_steps_it_switches_off():
    default = ApiProfile.default()
    optional = {name for name, obj in default.accountview.objects.items() if obj.optional}
    assert optional == set(OPTIONAL_STEPS), "each optional object says what its absence switches off"
    profile = ApiProfile.from_overrides({"accountview": {name: {"available": False} for name in optional}})
    steps = profile.switched_off()
    assert {s.object for s in steps} == optional
    for step in steps:
        assert f"profile.off.{step.object}.{step.flow}" in catalogue()
        assert step.flow in (*RUN_ORDER, "setup"), step
        refs = references(step.notice())
        assert refs[0] == ("profile", step.key)
        if step.instead:
            assert refs[1] == ("table" if step.instead[0] == "table" else "setting", step.instead[1])
    # The case of the issue: without payment conditions the customers flow no longer fills the payment terms, and
    # the mapping table payment_condition_days can.
    terms = next(s for s in profile.switched_off("customers") if s.object == "payment_condition")
    assert str(terms.notice()).startswith("the till relations' payment terms are not filled from AccountView's "
                                          "payment conditions: switched off")
    assert ("table", "payment_condition_days") in references(terms.notice())


def test_a_tenant_without_any_optional_object(tmp_path):
    """Every optional object absent on the tenant and switched off in the profile: every flow runs, each step that
    is off logs its notice once per run (twice in two runs), and the doctor confirms each absence with its steps."""
    default = ApiProfile.default().accountview
    optional = [name for name, obj in default.objects.items() if obj.optional]
    absent = Variant("without", {}, {}, {}, absent=frozenset(default.objects[n].code for n in optional),
                     absent_tables=frozenset(default.objects[n].table for n in optional))  # fmt: skip
    profile = ApiProfile.from_overrides({"accountview": {name: {"available": False} for name in optional}})
    with start_sandboxes(size=20, variant=absent) as sb:
        env = Env(sb)
        env.set("products", non_numeric_sku="generate")
        engine = Engine(env.store, env.av, env.mp, profile)
        try:
            for _ in range(2):
                for flow in RUN_ORDER:
                    result = engine.run(flow, RunOptions())
                    assert result.error is None, f"{flow}: {result.error}"
            for step in profile.switched_off():
                if step.flow == "setup":
                    continue
                lines = [ln for ln in env.store.log.list_lines(flow=step.flow, limit=10_000)
                         if ln.entity == "profile" and ln.source_id == step.key]  # fmt: skip
                notices = [ln for ln in lines if ln.error.render("nl") == step.notice().render("nl")]
                assert len(notices) == 2 and {ln.action for ln in notices} == {"skipped"}, (step, lines)
            report = run_doctor(engine, systems=("accountview",))
        finally:
            env.close()
    for name in optional:
        check = next(c for c in report.checks if c.id == f"accountview.{name}.available")
        assert check.status == "confirmed", check
        for step in profile.switched_off():
            if step.object == name:
                assert step.what.render("pl") in check.detail.render("pl")
    assert report.state == "confirmed", report.text()
