"""No response model validates a model instance against a union of models.

Response models take `from_attributes`. Given an instance of one member of a union of models,
pydantic's smart union first tries the members before it, reading each of their fields as an
attribute of the instance; every read that fails goes through pydantic's Python `__getattr__`
and raises. On the sync page that was 60 % of its CPU (bench/README.md, "A sync page"). Such a
field is made by our own code from the member's model, so it carries `SkipValidation`, or a
discriminator that picks the member before validating.
"""

from __future__ import annotations

import importlib
import pkgutil
import types
from collections.abc import Iterator
from typing import Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel, Discriminator, SkipValidation

import api
from api.schemas import ResponseModel


def _response_models() -> list[type[BaseModel]]:
    for module in pkgutil.walk_packages(api.__path__, "api."):
        importlib.import_module(module.name)
    found: list[type[BaseModel]] = []
    pending: list[type[BaseModel]] = [ResponseModel]
    while pending:
        model = pending.pop()
        found.append(model)
        pending.extend(model.__subclasses__())
    return [m for m in found if m.model_config.get("from_attributes")]


def _unions(annotation: Any) -> Iterator[tuple[Any, ...]]:
    """The members of every union in `annotation`, inside lists, dicts and other unions too."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        yield get_args(annotation)
    for argument in get_args(annotation):
        yield from _unions(argument)


def _models_in(members: tuple[Any, ...]) -> list[type[BaseModel]]:
    return [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]


RESPONSE_MODELS = _response_models()


def test_the_walk_finds_the_response_models_and_the_sync_union() -> None:
    names = {model.__name__ for model in RESPONSE_MODELS}
    assert {"ChangeOut", "SyncPage", "FocusSessionOut", "MeOut"} <= names
    data = RESPONSE_MODELS[[m.__name__ for m in RESPONSE_MODELS].index("ChangeOut")]
    assert any(len(_models_in(u)) > 1 for u in _unions(data.model_fields["data"].annotation))


@pytest.mark.parametrize("model", RESPONSE_MODELS, ids=lambda m: m.__name__)
def test_no_field_validates_an_instance_against_a_union_of_models(
    model: type[BaseModel],
) -> None:
    for name, field in model.model_fields.items():
        unions = [u for u in _unions(field.annotation) if len(_models_in(u)) > 1]
        picked = any(isinstance(m, (SkipValidation, Discriminator)) for m in field.metadata)
        assert not unions or picked, (
            f"{model.__name__}.{name} is a union of models {unions}: validating an instance "
            "tries every member before its own; mark it SkipValidation (made from its own "
            "model) or give it a discriminator"
        )
