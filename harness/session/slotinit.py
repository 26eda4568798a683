"""A cheaper ``__init__`` for the frozen, slotted dataclasses made per frame (internal).

A frozen dataclass's generated ``__init__`` stores each field with
``object.__setattr__(self, name, value)``: a generic attribute lookup per field, ~0.1 µs
each. The session makes several such objects per frame (the frame, its event, the trace
record), so :func:`direct_init` gives a class an ``__init__`` that stores each field through
its slot's own descriptor instead, which is what ``object.__setattr__`` ends up calling.

The class stays exactly as :func:`dataclasses.dataclass` made it (frozen: assignment still
raises; same fields, defaults, signature, ``repr``, ``==``, ``hash``, ``__match_args__``,
``dataclasses.replace``); only the body of ``__init__`` differs. Classes with
``__post_init__``, default factories, init-only or keyword-only fields are refused (none of
ours has them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["DATACLASS_INIT", "direct_init"]

_C = TypeVar("_C", bound=type)

DATACLASS_INIT: dict[type, Callable[..., None]] = {}
"""The ``__init__`` :func:`dataclasses.dataclass` generated, by class (kept for the tests,
which hold the two to the same results)."""


def direct_init(cls: _C) -> _C:
    """Give the frozen, slotted dataclass ``cls`` an ``__init__`` that sets each slot
    directly; return ``cls``."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not a frozen dataclass with slots")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has __post_init__")
    fields = dataclasses.fields(cls)
    names = [f.name for f in fields]
    if any(not f.init or f.kw_only or f.default_factory is not dataclasses.MISSING for f in fields):
        raise TypeError(f"{cls.__name__} has a field direct_init does not handle")
    if names != [name for name in cls.__dict__["__slots__"] if name in names] or any(
        n.startswith("_di_") for n in names
    ):
        raise TypeError(f"{cls.__name__}'s fields do not match its slots")
    namespace: dict[str, Any] = {}
    params_text: list[str] = []
    body: list[str] = []
    for index, f in enumerate(fields):
        namespace[f"_di_set{index}"] = cls.__dict__[f.name].__set__
        if f.default is dataclasses.MISSING:
            params_text.append(f.name)
        else:
            namespace[f"_di_default{index}"] = f.default
            params_text.append(f"{f.name}=_di_default{index}")
        body.append(f"    _di_set{index}(self, {f.name})")
    source = f"def __init__(self, {', '.join(params_text)}):\n" + "\n".join(body or ["    pass"])
    exec(source, namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    generated = cls.__dict__["__init__"]
    init.__doc__ = generated.__doc__
    DATACLASS_INIT[cls] = generated
    setattr(cls, "__init__", init)  # noqa: B010 (mypy refuses assigning a method)
    return cls
