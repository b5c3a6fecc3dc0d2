"""What a user may see: the one function every list and detail query goes through.

A scoped model declares, in `scope_fields`, how its rows hang on the administrative tree:
the lookup of a unit path (`/12/345/`), of the owning agency, and of the owning person.
`scope(queryset, user)` then keeps only the rows the user's scope reaches:

- a superuser sees everything;
- a provincial leader or administrator sees the whole subtree of their province;
- any other official sees their own agency's rows (and, for rows tied only to a unit, the
  subtree of their agency's unit);
- a citizen or business sees only the rows they own;
- anyone else sees nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from tinhso.core.models import User

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class ScopeFields:
    """Lookups from a scoped model to its unit path, owning agency and owning person."""

    unit_path: str | tuple[str, ...] | None = None
    agency: str | tuple[str, ...] | None = None
    owner: str | None = None


def _any_of(lookups: str | tuple[str, ...], suffix: str, value: object) -> Q:
    """`lookup=value` for one lookup, or an OR over several (a dossier transferred to
    another agency is visible to both)."""
    names = (lookups,) if isinstance(lookups, str) else lookups
    condition = Q()
    for name in names:
        condition |= Q(**{f"{name}{suffix}": value})
    return condition


@dataclass(frozen=True)
class UserScope:
    """The part of the administrative tree a user's roles reach."""

    everything: bool = False
    unit_path: str | None = None
    agency_id: int | None = None
    owner_id: int | None = None

    @property
    def nothing(self) -> bool:
        return not (self.everything or self.unit_path or self.agency_id or self.owner_id)


NO_SCOPE = UserScope()


def scope_of(user: Any) -> UserScope:
    """The scope of `user`, computed from their agency and roles (cached on the user)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NO_SCOPE
    cached = getattr(user, "_scope_cache", None)
    if cached is not None:
        return cached
    result = _compute_scope(user)
    user._scope_cache = result
    return result


def _compute_scope(user: User) -> UserScope:
    from tinhso.core.models import PROVINCE_WIDE_ROLES, UserKind

    if user.is_superuser:
        return UserScope(everything=True)
    if user.kind != UserKind.OFFICIAL:
        return UserScope(owner_id=user.pk)
    agency = user.agency
    if agency is None or not user.role_set:
        return NO_SCOPE
    unit_path = agency.unit.path
    if user.role_set & PROVINCE_WIDE_ROLES:
        province_path = "/" + unit_path.strip("/").split("/")[0] + "/"
        return UserScope(unit_path=province_path)
    return UserScope(unit_path=unit_path, agency_id=agency.pk)


def scope_filter(model: type[models.Model], user_scope: UserScope) -> Q | None:
    """The filter that keeps `model`'s rows inside `user_scope`; None means no filter at all.
    Returns `Q(pk__in=[])` when the scope reaches nothing of this model."""
    fields: ScopeFields = getattr(model, "scope_fields", ScopeFields())
    if user_scope.everything:
        return None
    if user_scope.owner_id is not None:
        if fields.owner:
            return Q(**{fields.owner: user_scope.owner_id})
        return Q(pk__in=[])
    if user_scope.agency_id is not None and fields.agency:
        return _any_of(fields.agency, "", user_scope.agency_id)
    if user_scope.unit_path and fields.unit_path:
        return _any_of(fields.unit_path, "__startswith", user_scope.unit_path)
    return Q(pk__in=[])


def scope(queryset: models.QuerySet[M], user: Any, action: str = "view") -> models.QuerySet[M]:
    """Keep only the rows of `queryset` that `user` may see (`action` is "view" or "change";
    both follow the same tree today, and services check roles for changes on top)."""
    user_scope = scope_of(user)
    if user_scope.nothing:
        return queryset.none()
    condition = scope_filter(queryset.model, user_scope)
    return queryset if condition is None else queryset.filter(condition)


def can_see(user: Any, obj: models.Model) -> bool:
    """Whether `obj` is inside `user`'s scope (one indexed query)."""
    model = type(obj)
    return scope(model._default_manager.filter(pk=obj.pk), user).exists()


class ScopedQuerySet(models.QuerySet):
    def restrict(self, user: Any, action: str = "view") -> ScopedQuerySet:
        return scope(self, user, action)
