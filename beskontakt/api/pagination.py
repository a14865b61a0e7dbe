"""Pagination for every list endpoint.

Counting every matching row costs a full scan on tables of millions of
cases and messages, so lists count at most ``COUNT_CAP`` rows: ``count`` is
exact below the cap, and ``count_capped`` says when there are more (narrow
the filters, or follow ``next`` page by page).
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """A paginator whose count stops at ``COUNT_CAP`` + 1 rows."""

    @cached_property
    def count(self) -> int:
        object_list: Any = self.object_list
        if hasattr(object_list, "query"):
            return int(object_list.order_by()[: COUNT_CAP + 1].count())
        return len(object_list)


class Pagination(PageNumberPagination):
    """Numbered pages; ``page_size`` may be chosen up to 200."""

    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = CappedCountPaginator

    def get_paginated_response(self, data: Any) -> Response:
        assert self.page is not None
        total = self.page.paginator.count
        return Response(
            {
                "count": min(total, COUNT_CAP),
                "count_capped": total > COUNT_CAP,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count"]["description"] = f"Matching rows, counted up to {COUNT_CAP}."
        response["properties"]["count_capped"] = {
            "type": "boolean",
            "description": f"True when more than {COUNT_CAP} rows match: count is then a lower bound.",
        }
        response["required"] = [*response.get("required", []), "count_capped"]
        return response
