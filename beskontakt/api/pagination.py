"""Pagination for every list endpoint."""

from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """Numbered pages; ``page_size`` may be chosen up to 200."""

    page_size_query_param = "page_size"
    max_page_size = 200
