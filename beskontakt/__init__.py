"""Beskontakt: contactless customer care for broadband and cable/IPTV operators."""

from .celery import app as celery_app

__all__ = ["celery_app"]
