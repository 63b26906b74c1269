"""Leaner ways through the serializers every created order passes: checking its JSON, and
showing the order written. Each is worked out once from the serializer's own fields and gives
exactly what the serializer gives; the input check steps aside (None) for anything but the
plain shapes a client sends, and the serializer then checks it and words every refusal.

DRF's field-by-field machinery (a run_validation, validators and error bookkeeping per value;
get_attribute and a SkipField check per shown value) cost more than recording the order.
"""

from __future__ import annotations

import decimal
import functools
import re
import types
from collections.abc import Callable, Mapping
from typing import Any

from django.core import validators as django_validators
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from rest_framework import fields, serializers
from rest_framework.fields import empty

# What a check answers when the value is not a plain one it can vouch for.
REFER = object()

Check = Callable[[Any], Any]


def input_check(serializer: serializers.Serializer) -> Callable[[Any], dict | None]:
    """A function of request data: the serializer's validated data, or None when the serializer
    itself must look (a refusal, or any value not in its plainest form). Serializers with
    hooks of their own (validate, validate_<field>, validators) are always left to themselves."""
    check = _serializer_check(serializer)

    def checked(data: Any) -> dict | None:
        if check is None:
            return None
        found = check(data)
        return None if found is REFER else found

    return checked


def _serializer_check(serializer: serializers.Serializer) -> Check | None:
    if (
        type(serializer).validate is not serializers.Serializer.validate
        or serializer.validators
        or any(hasattr(serializer, f"validate_{name}") for name in serializer.fields)
    ):
        return None
    plan = []
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        if field.source_attrs != [name] or not _plain_empty_values(field):
            return None
        check = _field_check(field)
        if check is None:
            return None
        plan.append((name, field.required, field.default, field.get_default, check))

    def check(data: Any) -> Any:
        if type(data) is not dict:
            return REFER
        valid = {}
        for name, required, default, get_default, check_value in plan:
            if name not in data:
                if required:
                    return REFER
                if default is not empty:
                    valid[name] = get_default()
                continue
            value = check_value(data[name])
            if value is REFER:
                return REFER
            valid[name] = value
        return valid

    return check


_DRF_EMPTY = fields.Field.validate_empty_values


def _plain_empty_values(field: fields.Field) -> bool:
    """Whether absent and null values go DRF's usual way (a DecimalField differs only when nullable)."""
    own = type(field).validate_empty_values
    return own is _DRF_EMPTY or (type(field) is fields.DecimalField and not field.allow_null)


def _field_check(field: fields.Field) -> Check | None:
    """The check of one field's value, or None when this field's kind is not known here."""
    if isinstance(field, serializers.ListSerializer):
        return _list_check(field)
    if isinstance(field, serializers.Serializer):
        return _nullable(field, _serializer_check(field))
    kind = type(field)
    if kind is fields.CharField:
        return _nullable(field, _char_check(field))
    if kind is fields.IntegerField:
        return _nullable(field, _integer_check(field))
    if kind is fields.DecimalField:
        return _nullable(field, _decimal_check(field))
    if kind is fields.ChoiceField:
        return _nullable(field, _choice_check(field))
    if kind is fields.BooleanField:
        return _nullable(field, lambda value: value if type(value) is bool else REFER)
    # Any other kind (a date and time, a file): only its absence or null is plain.
    return _nullable(field, lambda value: REFER)


def _nullable(field: fields.Field, check: Check | None) -> Check | None:
    if check is None:
        return None
    allow_null = field.allow_null

    def nullable(value: Any) -> Any:
        if value is None:
            return None if allow_null else REFER
        return check(value)

    return nullable


def _list_check(field: serializers.ListSerializer) -> Check | None:
    child = field.child
    if (
        not isinstance(child, serializers.Serializer)
        or field.validators
        or type(field).validate is not serializers.ListSerializer.validate
    ):
        return None
    check_item = _serializer_check(child)
    if check_item is None:
        return None
    allow_empty, max_length, min_length = field.allow_empty, field.max_length, field.min_length

    def check(value: Any) -> Any:
        if type(value) is not list:
            return REFER
        if (
            (not allow_empty and not value)
            or (max_length is not None and len(value) > max_length)
            or (min_length is not None and len(value) < min_length)
        ):
            return REFER
        checked = []
        for item in value:
            one = check_item(item)
            if one is REFER:
                return REFER
            checked.append(one)
        return checked

    return _nullable(field, check)


# The validators DRF gives each kind of field from its arguments; any other is left to DRF.
_LENGTH_VALIDATORS = (
    django_validators.MaxLengthValidator,
    django_validators.MinLengthValidator,
    django_validators.ProhibitNullCharactersValidator,
    fields.ProhibitSurrogateCharactersValidator,
)
_VALUE_VALIDATORS = (django_validators.MaxValueValidator, django_validators.MinValueValidator)


def _only(field: fields.Field, allowed: tuple) -> bool:
    return all(type(validator) in allowed for validator in field.validators)


def _char_check(field: fields.CharField) -> Check | None:
    if not _only(field, _LENGTH_VALIDATORS):
        return None
    allow_blank, trim = field.allow_blank, field.trim_whitespace
    max_length, min_length = field.max_length, field.min_length

    def check(value: Any) -> Any:
        if type(value) is not str:
            return REFER
        text = value.strip() if trim else value
        if not text:
            # DRF's blank answer: '' without running the validators.
            return "" if allow_blank else REFER
        if (max_length is not None and len(text) > max_length) or (
            min_length is not None and len(text) < min_length
        ):
            return REFER
        if "\x00" in text or (not text.isascii() and _SURROGATE.search(text)):
            return REFER
        return text

    return check


_SURROGATE = re.compile("[\ud800-\udfff]")


def _limits(field: fields.Field) -> tuple[Any, Any]:
    return field.min_value, field.max_value


def _integer_check(field: fields.IntegerField) -> Check | None:
    if not _only(field, _VALUE_VALIDATORS):
        return None
    low, high = _limits(field)

    def check(value: Any) -> Any:
        if type(value) is not int or (low is not None and value < low) or (high is not None and value > high):
            return REFER
        return value

    return check


def _decimal_check(field: fields.DecimalField) -> Check | None:
    """Text of plain digits (no sign, exponent or spaces) within the field's digits and places."""
    if (
        not _only(field, _VALUE_VALIDATORS)
        or field.localize
        or field.decimal_places is None
        or field.max_whole_digits is None
        or field.decimal_places < 1
    ):
        return None
    places = field.decimal_places
    plain = re.compile(rf"[0-9]{{1,{field.max_whole_digits}}}(?:\.[0-9]{{1,{places}}})?")
    step = decimal.Decimal(1).scaleb(-places)
    low, high = _limits(field)

    def check(value: Any) -> Any:
        if type(value) is not str or plain.fullmatch(value) is None:
            return REFER
        amount = decimal.Decimal(value).quantize(step)
        if (low is not None and amount < low) or (high is not None and amount > high):
            return REFER
        return amount

    return check


def _choice_check(field: fields.ChoiceField) -> Check | None:
    if field.validators:
        return None
    choices = field.choice_strings_to_values
    allow_blank = field.allow_blank

    def check(value: Any) -> Any:
        if type(value) is not str:
            return REFER
        if value == "" and allow_blank:
            return ""
        return choices.get(value, REFER)

    return check


# --- showing --------------------------------------------------------------------------------


def shown(serializer: serializers.Serializer) -> Callable[[Any], dict]:
    """serializer.to_representation, worked out once: each field's own to_representation of
    the attribute it names, nested lists through their child's plan. A serializer whose fields
    are not all plain attributes is left to DRF."""
    plan = _show_plan(serializer)
    if plan is None:
        return serializer.to_representation
    return plan


def _show_plan(serializer: serializers.Serializer) -> Callable[[Any], dict] | None:
    if type(serializer).to_representation is not serializers.Serializer.to_representation:
        return None
    steps = []
    for field in serializer._readable_fields:
        if len(field.source_attrs) != 1 or type(field).get_attribute is not _DRF_GET_ATTRIBUTE:
            return None
        [attribute] = field.source_attrs
        if isinstance(field, serializers.ListSerializer):
            if type(field).to_representation is not serializers.ListSerializer.to_representation:
                return None
            child = _show_plan(field.child)
            if child is None:
                return None
            steps.append((field.field_name, attribute, _listed(child)))
        elif isinstance(field, serializers.Serializer | fields.SerializerMethodField):
            return None
        else:
            steps.append((field.field_name, attribute, field.to_representation))

    def show(instance: Any) -> dict:
        if isinstance(instance, Mapping):
            return serializer.to_representation(instance)
        shown_fields = {}
        for name, attribute, represent in steps:
            try:
                value = getattr(instance, attribute)
            except ObjectDoesNotExist:
                value = None
            if type(value) in _SIMPLE_CALLABLES:
                value = value()  # as DRF's get_attribute calls a method it finds
            shown_fields[name] = None if value is None else represent(value)
        return shown_fields

    return show


_DRF_GET_ATTRIBUTE = fields.Field.get_attribute
_SIMPLE_CALLABLES = frozenset({types.FunctionType, types.MethodType, functools.partial})


def _listed(child: Callable[[Any], dict]) -> Callable[[Any], list]:
    def listed(items: Any) -> list:
        iterable = items.all() if isinstance(items, models.manager.BaseManager) else items
        return [child(item) for item in iterable]

    return listed
