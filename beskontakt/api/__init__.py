"""Shared pieces of the REST API: pagination, error format, the URL root."""
