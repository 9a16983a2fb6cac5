"""The domain types' defaults: none is a list or a dict that pydantic copies per instance.

Pydantic deep-copies a mutable default for every instance that takes it (`copy.deepcopy`,
about 0.7 µs each here), on the hot paths of the append and the audit, which decode every
event's body: an empty list or dict default is `empty_list()` or `empty_dict()` instead, a
default factory whose JSON schema still says the default.
"""

from __future__ import annotations

import importlib
import pkgutil

from pydantic import BaseModel

import cwledger.model


def _domain_types() -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for info in pkgutil.iter_modules(cwledger.model.__path__, "cwledger.model."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == info.name
            ):
                found[f"{info.name}.{value.__qualname__}"] = value
    return list(found.values())


def test_no_domain_type_has_a_mutable_default_that_pydantic_copies() -> None:
    types = _domain_types()
    assert len(types) > 40  # the walk finds the bodies, events, items...
    copied = [
        f"{t.__name__}.{name}"
        for t in types
        for name, field in t.model_fields.items()
        if isinstance(field.default, list | dict | set)
    ]
    assert copied == []


def test_an_empty_list_by_default_is_a_new_list_per_instance_and_documented() -> None:
    from cwledger.model.estimates import Estimate

    fields = {"party": "insp", "value": 1.0, "u": 0.1, "unit": "t", "method": "m", "scope": "total"}
    a, b = Estimate.model_validate(fields), Estimate.model_validate(fields)
    assert a.excludes == [] and b.excludes == []
    assert a.excludes is not b.excludes
    assert Estimate.model_json_schema()["properties"]["excludes"]["default"] == []
