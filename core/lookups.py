from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet

from core.exceptions import NotFound

M = TypeVar("M", bound=Model)


def get_or_not_found(queryset: QuerySet[M], *, message: str = "Not found.", **lookup) -> M:
    """`queryset.get(**lookup)`, with a missing row or a malformed id both answering 404."""
    try:
        return queryset.get(**lookup)
    except (ObjectDoesNotExist, DjangoValidationError, ValueError):
        raise NotFound(message) from None
