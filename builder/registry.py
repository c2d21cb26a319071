"""One generic registry for every extensible kind (field types, widgets, actions, resolvers...)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar


class RegistryError(LookupError):
    """Raised when a type is registered twice or an unknown type is asked for."""


class UnknownType(RegistryError):
    pass


class AlreadyRegistered(RegistryError):
    pass


class Registrable:
    """A registry entry: a class with a unique ``type`` string."""

    type: str = ""


T = TypeVar("T", bound=Registrable)


class Registry(Generic[T]):
    """Instances keyed by their ``type``; ``register`` doubles as a class decorator."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, cls: type[T]) -> type[T]:
        if not cls.type:
            raise RegistryError(f"{self.kind}: {cls.__name__} has no type")
        if cls.type in self._entries:
            raise AlreadyRegistered(f"{self.kind} {cls.type!r} is already registered")
        self._entries[cls.type] = cls()
        return cls

    def unregister(self, type_: str) -> None:
        self._entries.pop(type_, None)

    def get(self, type_: str) -> T:
        try:
            return self._entries[type_]
        except KeyError:
            raise UnknownType(f"unknown {self.kind} {type_!r}") from None

    def __contains__(self, type_: object) -> bool:
        return type_ in self._entries

    def __iter__(self) -> Iterator[T]:
        return iter(self._entries.values())

    def types(self) -> list[str]:
        return sorted(self._entries)
