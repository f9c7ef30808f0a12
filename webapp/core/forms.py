"""Form helpers every stage uses: options, checkbox lists, yes/no radios, filter validation."""

from __future__ import annotations

from collections.abc import Iterable
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
        if self.data is not None and not self.data.is_finite():
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


def valid_values(form: FlaskForm) -> dict[str, Any]:
    """Validate a filter form; return its values without the fields that failed.

    A bad value is shown as a field error and ignored; the other filters still apply.
    """
    form.validate()
    return {name: value for name, value in form.data.items() if name not in form.errors}
