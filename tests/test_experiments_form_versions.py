"""The experiment form's "serves" selects: versions grouped by type, checked against it."""

from __future__ import annotations

import re

import pytest
from rollout_support import add_version
from test_experiments_pages import form_data

from webapp.extensions import db
from webapp.models import Experiment


@pytest.fixture
def admin(client, auth, world):
    auth.login("admin@example.com")
    return client


@pytest.fixture
def versions(app):
    """Return a match version and a roi version (both candidates)."""
    return add_version(1), add_version(1, "roi")


def serves_cell(page: str, row: int) -> str:
    """Return the HTML of variant ``row``'s "serves" cell."""
    start = page.index(f'id="variant-row-{row}"')
    cells = page[start : page.index("</tr>", start)].split("<td>")
    return cells[-1]


def test_each_types_versions_are_an_optgroup_of_their_own(admin, versions):
    match, roi = versions
    page = admin.get("/experiments/new").get_data(as_text=True)
    cell = serves_cell(page, 0)
    assert re.findall(r'<optgroup label="([^"]+)"', cell) == ["match_success", "roi"]
    assert 'data-versions-of="model_type"' in cell
    # The rule-based scorer stays outside the groups: it serves any type.
    assert cell.index("Rule-based scorer") < cell.index("<optgroup")
    roi_group = cell[cell.index('label="roi"') :]
    assert f'value="{roi.id}"' in roi_group
    assert f'value="{match.id}"' not in roi_group


def test_a_version_of_another_type_is_a_field_error_on_its_row(admin, versions):
    match, roi = versions
    response = admin.post(
        "/experiments/new",
        data=form_data(
            **{
                "variants-0-model_version": str(match.id),
                "variants-1-model_version": str(roi.id),
            }
        ),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "roi v1 is not a match_success version" in serves_cell(page, 1)
    assert "field-error" not in serves_cell(page, 0)
    assert db.session.scalar(db.select(db.func.count(Experiment.id))) == 0


def test_versions_of_the_chosen_type_make_a_draft(admin, versions):
    match, _ = versions
    response = admin.post(
        "/experiments/new",
        data=form_data(**{"variants-1-model_version": str(match.id)}),
    )
    assert response.status_code == 302
    experiment = db.session.scalars(db.select(Experiment)).one()
    assert [v.model_version_id for v in experiment.variants] == [None, match.id]


@pytest.mark.parametrize("value", ["999", "x", "1" * 30])
def test_an_unknown_version_is_a_field_error_not_a_500(admin, versions, value):
    response = admin.post(
        "/experiments/new", data=form_data(**{"variants-1-model_version": value})
    )
    assert response.status_code == 422
    assert "field-error" in serves_cell(response.get_data(as_text=True), 1)
