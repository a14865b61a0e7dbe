"""The demo's stand-in for providers that are not configured: each delivery is a file.

Used only when ``OUTBOX_FILE_DIR`` is set (``make demo`` sets it) and the
channel's real provider has no configuration, so a one-time code sent to an
e-mail or phone in the demo can be read from ``var/outbox/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from beskontakt.inbox.models import OutboundMessage


class FileNotifier:
    """Writes each delivery as a JSON file named after its idempotency key."""

    def send(self, item: OutboundMessage) -> str:
        """Write ``item`` to ``OUTBOX_FILE_DIR``; a repeat overwrites the same file."""
        folder = Path(settings.OUTBOX_FILE_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in item.key) + ".json"
        record = {
            "channel": item.channel,
            "to": item.address,
            "subject": item.subject,
            "text": item.body,
            "key": item.key,
        }
        (folder / name).write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
        return f"file:{name}"
