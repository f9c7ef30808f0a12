"""Form helpers every stage uses: options, checkbox lists, yes/no radios, filter validation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    DecimalField,
    SelectMultipleField,
    widgets,
)
from wtforms.fields.choices import SelectChoice


def options(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """Return select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class FiniteDecimalField(DecimalField):
    """A decimal field that refuses NaN, sNaN and infinities with a field error.

    WTForms' DecimalField accepts them; comparing a NaN with NumberRange's
    bounds then raises InvalidOperation, which would be a 500.
    """

    def process_formdata(self, valuelist: list[str]) -> None:
        """Parse the submitted value; a non-finite number is a field error."""
        super().process_formdata(valuelist)
        # Nothing submitted leaves the default (perhaps a float): nothing to check.
        if valuelist and self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError(self.gettext("Enter a number (not NaN or infinity)."))


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice rendered as a list of checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def coerce_yes_no(value: object) -> bool | None:
    """Turn the yes/no radio value into a bool (None when nothing was chosen)."""
    if value in (True, "yes", "true"):
        return True
    if value in (False, "no", "false"):
        return False
    return None


# Filter dates outside this range are refused (a day past 9999-12-31 does not exist).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)


def valid_values(form: FlaskForm) -> dict[str, Any]:
    """Validate a filter form; return its values without the fields that failed.

    A bad value is shown as a field error and ignored; the other filters still
    apply. A blank value (spaces only) means "not filtered"; a date outside
    1900-2999 is a field error.
    """
    form.validate()
    values = {}
    for name, value in form.data.items():
        if isinstance(value, str) and not value.strip():
            value = None
        if isinstance(value, date) and not EARLIEST_DATE <= value <= LATEST_DATE:
            form[name].errors = [*form[name].errors, "Dates go from 1900 to 2999."]
        if name not in form.errors and not form[name].errors:
            values[name] = value
    return values
