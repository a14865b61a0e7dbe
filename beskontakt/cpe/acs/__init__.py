"""The Django side of the ACS: the ``SessionBackend`` (``backend``), its group-commit writer
(``writer``) and the ASGI application ``beskontakt acs`` serves (``app``)."""
