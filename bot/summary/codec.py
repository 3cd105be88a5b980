"""A summary as plain JSON data and back, driven by the dataclasses' type hints.

Frozen months (`bot.summary.frozen`) store the whole `Summary` this way, so a field added
to the model later is stored without touching this module. The types it understands are
the ones the summary model may use: str, int, float, bool, None, date, Literal values,
unions with None, tuples (of fixed length or `tuple[X, ...]`) and frozen dataclasses made
of these. Anything else fails loudly when encoding or decoding, never silently.
"""

from __future__ import annotations

import dataclasses
import types
from datetime import date
from functools import cache
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar("T")

JsonValue = None | bool | int | float | str | list[Any] | dict[str, Any]


class CodecError(ValueError):
    """A value or a type the codec cannot carry."""


def encode(value: object) -> JsonValue:
    """Plain JSON data for a dataclass instance (and everything inside it)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [encode(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise CodecError(f"cannot encode {type(value).__name__}")


def decode(kind: type[T], data: Any) -> T:
    """The value of type `kind` that `encode` turned into `data`."""
    return _decode(kind, data)  # type: ignore[no-any-return]


def _decode(kind: Any, data: Any) -> Any:
    origin = get_origin(kind)
    if kind is type(None) or kind is None:
        if data is not None:
            raise CodecError(f"expected null, got {data!r}")
        return None
    if origin in (Union, types.UnionType):
        options = get_args(kind)
        if data is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return _decode(option, data)
            except CodecError:
                continue
        raise CodecError(f"{data!r} is none of {kind}")
    if origin is Literal:
        if data not in get_args(kind):
            raise CodecError(f"{data!r} is not one of {get_args(kind)}")
        return data
    if origin is tuple:
        if not isinstance(data, list):
            raise CodecError(f"expected a list, got {data!r}")
        args = get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], item) for item in data)
        if len(args) != len(data):
            raise CodecError(f"expected {len(args)} items, got {len(data)}")
        return tuple(_decode(arg, item) for arg, item in zip(args, data, strict=True))
    if kind is bool:
        if not isinstance(data, bool):
            raise CodecError(f"expected true or false, got {data!r}")
        return data
    if kind is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise CodecError(f"expected an integer, got {data!r}")
        return data
    if kind is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise CodecError(f"expected a number, got {data!r}")
        return float(data)
    if kind is str:
        if not isinstance(data, str):
            raise CodecError(f"expected a string, got {data!r}")
        return data
    if kind is date:
        try:
            return date.fromisoformat(data)
        except (TypeError, ValueError) as exc:
            raise CodecError(f"expected a date, got {data!r}") from exc
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if not isinstance(data, dict):
            raise CodecError(f"expected an object for {kind.__name__}, got {data!r}")
        hints = _hints(kind)
        values = {}
        for f in dataclasses.fields(kind):
            if f.name in data:
                values[f.name] = _decode(hints[f.name], data[f.name])
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise CodecError(f"{kind.__name__}.{f.name} is missing")
        return kind(**values)
    raise CodecError(f"cannot decode into {kind!r}")


@cache
def _hints(kind: type) -> dict[str, Any]:
    return get_type_hints(kind)
