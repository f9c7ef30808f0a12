"""The public plugin API: everything a model-type plugin may import from Matchloop.

Plugins import only this module (and their ML libraries). The names live in
``webapp.registry.contract`` and ``webapp.registry.plugins``; they are
re-exported here so plugins never depend on core's internal layout.
"""

from webapp.registry.contract import (
    EmptyParamsForm,
    Forecast,
    ForecastPoint,
    HeldOut,
    Interval,
    ModelType,
    Output,
    Predictions,
    Progress,
    RetrainPolicy,
    Series,
    SeriesData,
    Subject,
    Task,
    TrainingData,
    TrainingFailed,
    TrainResult,
    chart_spec,
    table_spec,
)
from webapp.registry.plugins import (
    ENTRY_POINT_GROUP,
    InstalledTypes,
    PluginError,
    installed_types,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "EmptyParamsForm",
    "Forecast",
    "ForecastPoint",
    "HeldOut",
    "InstalledTypes",
    "Interval",
    "ModelType",
    "Output",
    "PluginError",
    "Predictions",
    "Progress",
    "RetrainPolicy",
    "Series",
    "SeriesData",
    "Subject",
    "Task",
    "TrainResult",
    "TrainingData",
    "TrainingFailed",
    "chart_spec",
    "table_spec",
    "installed_types",
]
