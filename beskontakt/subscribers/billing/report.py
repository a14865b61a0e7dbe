"""The outcome of one billing import: what was created, updated, left alone or rejected."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Rejection:
    """One input row that was not imported, and why.

    ``row`` is the CSV line number (the header is line 1) or the 1-based
    position of the record in the JSON ``records`` list; ``key`` is the natural
    key read from the row (contract number, tariff code) when there was one.
    """

    row: int
    field: str
    message: str
    key: str = ""

    def __str__(self) -> str:
        key = f" [{self.key}]" if self.key else ""
        return _("row %(row)s%(key)s, field “%(field)s”: %(message)s") % {
            "row": self.row,
            "key": key,
            "field": self.field,
            "message": self.message,
        }


@dataclass
class ImportReport:
    """Counts and keys of an import; ``str(report)`` is a readable summary.

    ``created``, ``updated`` and ``unchanged`` hold natural keys (tariff codes
    or contract numbers); ``rejected`` holds a :class:`Rejection` per bad row.
    """

    kind: str
    source: str = ""
    dry_run: bool = False
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    #: How many rejections ``str()`` lists before summarising the rest.
    SHOW_REJECTED = 50

    def reject(self, row: int, field_name: str, message: str, key: str = "") -> None:
        self.rejected.append(Rejection(row=row, field=field_name, message=message, key=key))

    @property
    def counts(self) -> dict[str, int]:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "rejected": len(self.rejected),
        }

    @property
    def ok(self) -> bool:
        """Whether every row was accepted."""
        return not self.rejected

    def __str__(self) -> str:
        title = _("Billing import of %(kind)s from %(source)s") % {"kind": self.kind, "source": self.source or "-"}
        if self.dry_run:
            title += " " + _("(dry run: nothing was saved)")
        lines = [
            title,
            _("created: %(n)d") % {"n": len(self.created)},
            _("updated: %(n)d") % {"n": len(self.updated)},
            _("unchanged: %(n)d") % {"n": len(self.unchanged)},
            _("rejected: %(n)d") % {"n": len(self.rejected)},
        ]
        for rejection in sorted(self.rejected, key=lambda r: r.row)[: self.SHOW_REJECTED]:
            lines.append("  " + str(rejection))
        hidden = len(self.rejected) - self.SHOW_REJECTED
        if hidden > 0:
            lines.append("  " + _("... and %(n)d more rejected rows") % {"n": hidden})
        return "\n".join(lines)
