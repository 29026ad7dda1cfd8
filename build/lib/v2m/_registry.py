"""One registry pattern for the pluggable parts (datasets, benchmark protocols, systems):
classes registered by name (and aliases), looked up case-insensitively, with an error that
lists the known names."""

from __future__ import annotations

from typing import Generic, TypeVar

from .errors import ParameterError

T = TypeVar("T")


class Registry(Generic[T]):
    """Classes by name. ``what`` names the kind in messages ("dataset", "protocol")."""

    def __init__(self, what: str):
        self.what = what
        self._classes: dict[str, type[T]] = {}
        self._aliases: dict[str, str] = {}

    def register(self, cls: type[T] | None = None, *, aliases: tuple[str, ...] = ()):
        """Class decorator: make ``cls`` available by its ``name`` attribute and ``aliases``."""

        def deco(c: type[T]) -> type[T]:
            name = getattr(c, "name", "")
            if not name:
                raise ValueError(f"{c.__name__}: a registered {self.what} needs a name")
            self._classes[name] = c
            for a in aliases:
                self._aliases[a.lower()] = name
            return c

        return deco(cls) if cls is not None else deco

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._classes)

    def get_class(self, name: str) -> type[T]:
        key = self._aliases.get(name.lower(), name.lower())
        if key not in self._classes:
            raise ParameterError(
                f"{self.what} {name!r}: unknown (known: {', '.join(self.names())})"
            )
        return self._classes[key]

    def get(self, name: str) -> T:
        """An instance of the class registered as ``name`` (or one of its aliases)."""
        return self.get_class(name)()
