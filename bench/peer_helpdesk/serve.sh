#!/usr/bin/env bash
# Serve the django-helpdesk peer project like Beskontakt is served: uvicorn, ASGI, 2 workers.
#   HELPDESK_DB=helpdesk_bench bench/peer_helpdesk/serve.sh        (listens on 127.0.0.1:${HELPDESK_PORT:-8100})
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$HERE"
export DJANGO_SETTINGS_MODULE=hdproject.settings
exec "$ROOT/.venv-helpdesk/bin/uvicorn" hdproject.asgi:application \
    --host 127.0.0.1 --port "${HELPDESK_PORT:-8100}" --workers "${HELPDESK_WORKERS:-2}" \
    --no-access-log --log-level warning
