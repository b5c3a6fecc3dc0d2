"""Template helpers of the portal: the sign-in link, which goes to the national e-ID
(VNeID) sign-in when that app is mounted and to the local sign-in page otherwise."""

from __future__ import annotations

from django import template
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

register = template.Library()


def eid_available() -> bool:
    try:
        reverse("eid:signin")
    except NoReverseMatch:
        return False
    return True


def signin_url(request: HttpRequest, next_url: str | None = None) -> str:
    """`/eid/signin/?next=<here>` when the e-ID app is mounted, else the local sign-in."""
    target = next_url or request.get_full_path()
    try:
        base = reverse("eid:signin")
    except NoReverseMatch:
        base = reverse("core:signin")
    return f"{base}?{urlencode({'next': target})}"


@register.simple_tag(takes_context=True)
def portal_signin_url(context: template.Context, next_url: str = "") -> str:
    return signin_url(context["request"], next_url or None)


@register.simple_tag
def portal_eid_available() -> bool:
    return eid_available()
