"""Minimal Django project hosting django-helpdesk (installed from PyPI) for the peer benchmark."""
