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
from collections.abc import Callable
from datetime import date
from functools import cache
from typing import Any, Literal, TypeVar, Union, cast, get_args, get_origin, get_type_hints

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
    names = _field_names(cast(Any, type(value)))
    if names is not None:
        return {name: encode(getattr(value, name)) for name in names}
    raise CodecError(f"cannot encode {type(value).__name__}")


@cache
def _field_names(kind: type) -> tuple[str, ...] | None:
    """A dataclass's field names (None for any other type), worked out once per type."""
    if not dataclasses.is_dataclass(kind):
        return None
    return tuple(f.name for f in dataclasses.fields(kind))


def decode(kind: type[T], data: Any) -> T:
    """The value of type `kind` that `encode` turned into `data`."""
    decoder: Decoder = _decoder(cast(Any, kind))
    found: T = decoder(data)
    return found


Decoder = Callable[[Any], Any]


@cache
def _decoder(kind: Any) -> Decoder:
    """A function that decodes data into `kind`: worked out once per type, since a monthly
    run decodes hundreds of summaries of the same types."""
    origin = get_origin(kind)
    if kind is type(None) or kind is None:
        return _null
    if origin in (Union, types.UnionType):
        return _union(kind)
    if origin is Literal:
        allowed = get_args(kind)

        def literal(data: Any) -> Any:
            if data not in allowed:
                raise CodecError(f"{data!r} is not one of {allowed}")
            return data
        return literal
    if origin is tuple:
        return _tuple(get_args(kind))
    if kind in _SCALARS:
        return _SCALARS[kind]
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return _dataclass(kind)
    raise CodecError(f"cannot decode into {kind!r}")


def _union(kind: Any) -> Decoder:
    options = get_args(kind)
    nullable = type(None) in options
    decoders = [_decoder(option) for option in options if option is not type(None)]

    def union(data: Any) -> Any:
        if data is None and nullable:
            return None
        for option in decoders:
            try:
                return option(data)
            except CodecError:
                continue
        raise CodecError(f"{data!r} is none of {kind}")
    return union


def _tuple(args: tuple[Any, ...]) -> Decoder:
    if len(args) == 2 and args[1] is Ellipsis:
        item = _decoder(args[0])

        def items(data: Any) -> Any:
            if not isinstance(data, list):
                raise CodecError(f"expected a list, got {data!r}")
            return tuple(item(value) for value in data)
        return items
    decoders = [_decoder(arg) for arg in args]

    def fixed(data: Any) -> Any:
        if not isinstance(data, list):
            raise CodecError(f"expected a list, got {data!r}")
        if len(decoders) != len(data):
            raise CodecError(f"expected {len(decoders)} items, got {len(data)}")
        return tuple(decode_(value) for decode_, value in zip(decoders, data, strict=True))
    return fixed


def _dataclass(kind: type) -> Decoder:
    hints = get_type_hints(kind)
    fields = [(f.name, _decoder(hints[f.name]),
               f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
              for f in dataclasses.fields(kind)]

    def instance(data: Any) -> Any:
        if not isinstance(data, dict):
            raise CodecError(f"expected an object for {kind.__name__}, got {data!r}")
        values = {}
        for name, decode_, required in fields:
            if name in data:
                values[name] = decode_(data[name])
            elif required:
                raise CodecError(f"{kind.__name__}.{name} is missing")
        return kind(**values)
    return instance


def _null(data: Any) -> None:
    if data is not None:
        raise CodecError(f"expected null, got {data!r}")


def _bool(data: Any) -> bool:
    if not isinstance(data, bool):
        raise CodecError(f"expected true or false, got {data!r}")
    return data


def _int(data: Any) -> int:
    if isinstance(data, bool) or not isinstance(data, int):
        raise CodecError(f"expected an integer, got {data!r}")
    return data


def _float(data: Any) -> float:
    if isinstance(data, bool) or not isinstance(data, int | float):
        raise CodecError(f"expected a number, got {data!r}")
    return float(data)


def _str(data: Any) -> str:
    if not isinstance(data, str):
        raise CodecError(f"expected a string, got {data!r}")
    return data


def _date(data: Any) -> date:
    try:
        return date.fromisoformat(data)
    except (TypeError, ValueError) as exc:
        raise CodecError(f"expected a date, got {data!r}") from exc


_SCALARS: dict[Any, Decoder] = {bool: _bool, int: _int, float: _float, str: _str,
                                date: _date}
