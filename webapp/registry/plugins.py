"""The installed model types: plugins found through the entry-point group.

A model type is a class declared under the entry-point group
``matchloop.model_types``; the entry-point name must equal the class's ``name``,
which is also the string stored in the database. The set lives on the app
(``app.extensions``), never in a module global.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from webapp.registry.contract import ModelType

ENTRY_POINT_GROUP = "matchloop.model_types"
_EXT_KEY = "matchloop.model_types"


class PluginError(RuntimeError):
    """Raised when the installed model types are inconsistent (duplicate or mismatched)."""


class InstalledTypes:
    """The model types installed for one app, by name."""

    def __init__(self, types: Iterable[ModelType] = ()) -> None:
        self._types: dict[str, ModelType] = {}
        for model_type in types:
            self.add(model_type)

    @classmethod
    def from_entry_points(
        cls, points: Iterable[EntryPoint] | None = None
    ) -> InstalledTypes:
        """Load every model type declared in the entry-point group."""
        if points is None:
            points = entry_points(group=ENTRY_POINT_GROUP)
        registry = cls()
        for point in points:
            loaded = point.load()
            if not (isinstance(loaded, type) and issubclass(loaded, ModelType)):
                raise PluginError(
                    f"entry point {point.name!r} ({point.value}) is not a ModelType"
                )
            if loaded.name != point.name:
                raise PluginError(
                    f"entry point {point.name!r} loads {loaded.__name__} whose name is "
                    f"{loaded.name!r}; they must match"
                )
            registry.add(loaded())
        return registry

    def add(self, model_type: ModelType) -> None:
        """Register ``model_type``; a second type with the same name is an error."""
        if not model_type.name:
            raise PluginError(f"{type(model_type).__name__} has no name")
        if model_type.name in self._types:
            raise PluginError(
                f"model type {model_type.name!r} is declared twice "
                f"({type(self._types[model_type.name]).__module__} and "
                f"{type(model_type).__module__})"
            )
        self._types[model_type.name] = model_type

    def get(self, name: str) -> ModelType:
        """Return the model type called ``name``; KeyError when not installed."""
        return self._types[name]

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[ModelType]:
        return iter(sorted(self._types.values(), key=lambda t: t.name))

    def __len__(self) -> int:
        return len(self._types)

    def names(self) -> list[str]:
        """Return the installed type names, sorted."""
        return sorted(self._types)


def installed_types(app: Any) -> InstalledTypes:
    """Return the model types installed for a Flask ``app``."""
    return app.extensions[_EXT_KEY]


def install(app: Any) -> None:
    """Load the entry-point group once and keep the result on ``app``."""
    app.extensions[_EXT_KEY] = InstalledTypes.from_entry_points()
