"""Model versions as form choices: grouped by model type, and checked against the type.

Experiment and rollout forms offer versions of several model types in one
select; each type's versions sit in their own ``<optgroup>`` (the value is the
version's id, unique across types), and ``static/version_choices.js`` shows
only the chosen type's group. Without the script every group is shown, so the
server check is what counts: ``type_mismatch`` is the one rule, used by the
forms and by the experiment store alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from wtforms import Field
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from webapp.extensions import db
from webapp.models import ModelVersion

# The select whose value decides which group a version select offers.
TYPE_FIELD = "model_type"
# render_kw of a version select: the script finds it by this attribute.
GROUPED_BY_TYPE = {"data-versions-of": TYPE_FIELD}


def version_choices(model_types: Iterable[str]) -> list[SelectChoice]:
    """Return one option per version of ``model_types`` (value: its id), grouped by type.

    Newest version first within each type; the label says its status.
    """
    rows = db.session.scalars(
        select(ModelVersion)
        .where(ModelVersion.model_type.in_(list(model_types)))
        .order_by(ModelVersion.model_type, ModelVersion.version.desc())
    )
    return [
        SelectChoice(
            str(row.id),
            f"v{row.version} ({row.status})",
            render_kw={"data-model-type": row.model_type},
            optgroup=row.model_type,
        )
        for row in rows
    ]


def type_mismatch(version: ModelVersion, model_type: Any) -> str | None:
    """Return why ``version`` cannot serve ``model_type`` (None: it is of that type)."""
    if version.model_type == model_type:
        return None
    return f"{version.label} is not a {model_type} version; choose one of {model_type}"


def chosen_version(field: Field, model_type: Any) -> ModelVersion | None:
    """Return the version a select of ``version_choices`` names (None when blank).

    Meant for a form's inline ``validate_<field>``: nothing is checked again
    when the choice was already refused.

    :raises ValidationError: the version is gone or of another type (WTForms
        shows the message as the field's error).
    """
    if not field.data or field.errors or not str(field.data).isdigit():
        return None
    version = db.session.get(ModelVersion, int(field.data))
    if version is None:
        raise ValidationError(f"There is no model version {field.data}.")
    reason = type_mismatch(version, model_type)
    if reason is not None:
        raise ValidationError(f"{reason}.")  # type names keep their case
    return version
