"""The ``Billing`` adapter: idempotent import of tariffs, subscribers and balances.

See ``docs/billing-import.md`` for the file formats and
:mod:`beskontakt.subscribers.billing.importer` for how rows are matched.
"""

from .formats import BillingFileError, read_file
from .importer import Billing
from .report import ImportReport, Rejection

__all__ = ["Billing", "BillingFileError", "ImportReport", "Rejection", "read_file"]
