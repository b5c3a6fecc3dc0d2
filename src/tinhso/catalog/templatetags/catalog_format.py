"""Amounts in đồng and processing times as Vietnamese readers expect them."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.formats import number_format

from tinhso.catalog.document import decimal_text
from tinhso.catalog.entries import format_vnd

register = template.Library()


@register.filter
def vnd(amount: int | None) -> str:
    """`100000` → `100.000 đ`."""
    return "—" if amount is None else format_vnd(int(amount))


@register.filter
def days(value: Decimal | None) -> str:
    """A number of working days without trailing zeros, in the active locale (`0,5`)."""
    if value is None:
        return "—"
    return number_format(Decimal(decimal_text(Decimal(value))))


@register.filter
def share_of(share_percent: Decimal, processing_days: Decimal) -> str:
    """The working days a step's share of the processing time amounts to."""
    value = (Decimal(processing_days) * Decimal(share_percent) / 100).quantize(Decimal("0.01"))
    return days(value)
