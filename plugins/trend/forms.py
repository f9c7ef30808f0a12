"""Training parameters for trend, shown on the train page."""

from __future__ import annotations

from wtforms import Form, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange

METHOD_CHOICES = [
    SelectChoice("auto", "Choose per niche by rolling-origin backtest (MASE)"),
    SelectChoice("seasonal_naive", "Seasonal naive"),
    SelectChoice("arima", "ARIMA, order by AICc"),
    SelectChoice("ets", "Exponential smoothing (ETS), form by AICc"),
    SelectChoice("theta", "Theta"),
]


class ParamsForm(Form):
    """How to train a trend model."""

    method = SelectField(
        "Method",
        choices=METHOD_CHOICES,
        default="auto",
        description="Pin one method, or let the backtest choose per niche (a mean "
        "of ARIMA, ETS and Theta competes too; naive wins when nothing beats it).",
    )
    horizon = IntegerField(
        "Backtest horizon (periods)",
        default=12,
        validators=[InputRequired(), NumberRange(1, 52)],
        description="How far ahead each backtest origin forecasts (12 weeks or months).",
    )
    origins = IntegerField(
        "Backtest origins",
        default=3,
        validators=[InputRequired(), NumberRange(1, 6)],
        description="Forecast origins per niche, one horizon apart, ending one "
        "horizon before the latest period.",
    )
    max_order = IntegerField(
        "Largest ARIMA p and q",
        default=1,
        validators=[InputRequired(), NumberRange(0, 3)],
        description="ARIMA orders up to this are compared by AICc, at the first "
        "backtest origin and on the whole series ((n+1)² fits each: the search "
        "is most of the training time).",
    )
    level = SelectField(
        "Interval level",
        choices=[
            SelectChoice("0.8", "80 %"),
            SelectChoice("0.9", "90 %"),
            SelectChoice("0.95", "95 %"),
        ],
        default="0.9",
        description="Nominal coverage of the prediction intervals.",
    )
    stable_band = SelectField(
        "Stable band",
        choices=[
            SelectChoice("0.02", "± 2 %"),
            SelectChoice("0.05", "± 5 %"),
            SelectChoice("0.1", "± 10 %"),
        ],
        default="0.05",
        description="A niche whose forecast next cycle differs from its last cycle "
        "by less than this is stable; beyond it, rising or declining.",
    )
