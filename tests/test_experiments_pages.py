"""Experiment pages: the set-up form, the list, the detail and its actions."""

from __future__ import annotations

import re

import pytest

from webapp.experiments import store, units
from webapp.experiments.units import AssignmentRule
from webapp.extensions import db
from webapp.models import Experiment


@pytest.fixture
def admin(client, auth, world):
    auth.login("admin@example.com")
    return client


def form_data(**overrides) -> dict:
    data = {
        "key": "page-test",
        "name": "Page test",
        "hypothesis": "Rules beat rules.",
        "model_type": "match_success",
        "unit": "company",
        "coverage": "1",
        "metric": "acceptance_rate",
        "guardrails": ["mean_rating"],
        "mde": "0.2",
        "baseline": "0.3",
        "variants-0-key": "control",
        "variants-0-name": "Control",
        "variants-0-weight": "0.5",
        "variants-0-model_version": "",
        "variants-1-key": "treatment",
        "variants-1-name": "Treatment",
        "variants-1-weight": "0.5",
        "variants-1-model_version": "",
        "submit": "Create draft",
    }
    return data | overrides


def test_the_form_shows_the_sample_size_for_the_mde(admin):
    page = admin.get("/experiments/new").get_data(as_text=True)
    assert 'id="sample-sizes"' in page
    preview = admin.post(
        "/experiments/new",
        data=form_data(submit=None, preview="Compute the sample size"),
    )
    assert preview.status_code == 200
    size = store.power.rate_sample_size(0.3, 0.2)
    assert f"{size:,}" in preview.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Experiment.id))) == 0


def test_an_admin_creates_starts_and_reads_an_experiment(admin):
    response = admin.post("/experiments/new", data=form_data())
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.location.endswith("/experiments/page-test")
    page = admin.get("/experiments/page-test").get_data(as_text=True)
    assert "Start" in page and "draft" in page
    admin.post("/experiments/page-test/start", follow_redirects=True)
    experiment = store.by_key("page-test")
    assert experiment.status == "running"
    for n in range(6):
        units.assignment_for(AssignmentRule.of(experiment), f"CO-{n}")
        units.record_exposure(experiment.id, f"CO-{n}")
    db.session.commit()
    page = admin.get("/experiments/page-test").get_data(as_text=True)
    assert 'id="srm-verdict"' in page
    assert 'canvas id="chart-cumulative"' in page and 'id="chart-lift"' in page
    exposed = re.findall(
        r'<td class="num">(\d+)</td>\s*<td class="num">(\d+)</td>', page
    )
    assert sum(int(e) for _, e in exposed[:2]) == 6
    listing = admin.get("/experiments/").get_data(as_text=True)
    assert 'id="experiment-page-test"' in listing and "running" in listing


def test_bad_setups_rerender_with_field_errors(admin):
    response = admin.post(
        "/experiments/new",
        data=form_data(**{"variants-1-weight": "0.2", "key": "Bad Key"}),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "lower-case letters" in page
    response = admin.post(
        "/experiments/new", data=form_data(**{"variants-1-weight": "0.2"})
    )
    assert response.status_code == 422
    assert "weights must sum to 1" in response.get_data(as_text=True)


def test_a_wrong_status_action_is_flashed_not_applied(admin):
    admin.post("/experiments/new", data=form_data())
    page = admin.post("/experiments/page-test/stop", follow_redirects=True)
    assert "cannot be stopped" in page.get_data(as_text=True)
    assert store.by_key("page-test").status == "draft"


def test_members_may_not_see_experiments(client, auth, world):
    auth.login("brand@example.com")
    assert client.get("/experiments/").status_code == 403
    assert client.get("/experiments/new").status_code == 403


def test_changing_a_running_experiment_warns_and_records_it(admin):
    admin.post("/experiments/new", data=form_data())
    admin.post("/experiments/page-test/start")
    response = admin.post(
        "/experiments/page-test/edit",
        data={"coverage": "0.5", "weights-0": "0.2", "weights-1": "0.8"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "units already assigned keep their variant" in page
    experiment = store.by_key("page-test")
    assert experiment.coverage == 0.5 and experiment.weights == [0.2, 0.8]
    assert experiment.changes[-1].action == "edit" and experiment.changes[-1].warnings
    refused = admin.post(
        "/experiments/page-test/edit",
        data={"coverage": "0.5", "weights-0": "0.2", "weights-1": "0.2"},
        follow_redirects=True,
    )
    assert "Nothing was changed" in refused.get_data(as_text=True)
    assert store.by_key("page-test").weights == [0.2, 0.8]


def test_an_interleaving_experiment_is_set_up_in_the_form_and_read(admin):
    data = form_data(
        key="il-page",
        kind="interleaving",
        guardrails=[],
        sequential="y",
        **{"variants-0-weight": "", "variants-1-weight": ""},
    )
    response = admin.post("/experiments/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    experiment = store.by_key("il-page")
    assert (experiment.kind, experiment.sequential) == ("interleaving", True)
    assert [v.weight for v in experiment.variants] == [0.5, 0.5]
    admin.post("/experiments/il-page/start", follow_redirects=True)
    page = admin.get("/experiments/il-page").get_data(as_text=True)
    assert "Preference share" in page and "Interleaving" in page
    assert 'id="change"' not in page  # weights play no part
    listing = admin.get("/experiments/").get_data(as_text=True)
    assert 'id="experiment-il-page"' in listing and "interleaving" in listing


def test_an_interleaving_form_with_guardrails_re_renders_with_the_error(admin):
    response = admin.post(
        "/experiments/new", data=form_data(key="il-bad", kind="interleaving")
    )
    assert response.status_code == 422
    assert "interleaving takes no guardrails" in response.get_data(as_text=True)
