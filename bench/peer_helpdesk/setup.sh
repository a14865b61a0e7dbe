#!/usr/bin/env bash
# Create .venv-helpdesk at the repository root with django-helpdesk from PyPI (plus its own Django),
# psycopg, uvicorn and httpx, then create and migrate the peer database.
#   bench/peer_helpdesk/setup.sh                 # HELPDESK_DB defaults to helpdesk_bench
#   HELPDESK_VERSION=2.6.1 bench/peer_helpdesk/setup.sh
# Nothing of django-helpdesk is kept in this repository: it is installed here, at benchmark time.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$ROOT/.venv-helpdesk"
VERSION="${HELPDESK_VERSION:-2.6.1}"   # newest release on PyPI when this harness was written

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet \
    "django-helpdesk==$VERSION" "psycopg[binary]>=3.1" "uvicorn>=0.30" "httpx>=0.27"
"$VENV/bin/python" -c "import importlib.metadata as m; print('django-helpdesk', m.version('django-helpdesk'), '/ Django', m.version('django'))"

# Create the database (if missing) and apply django-helpdesk's migrations; load.py does this too.
cd "$HERE"
DJANGO_SETTINGS_MODULE=hdproject.settings "$VENV/bin/python" - <<'PY'
import os, sys
sys.path.insert(0, ".")
from load import ensure_database
ensure_database(os.environ.get("HELPDESK_DB", "helpdesk_bench"))
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
print("database", os.environ.get("HELPDESK_DB", "helpdesk_bench"), "migrated")
PY
echo "next: cd $HERE && $VENV/bin/python load.py --tickets 3000000 --followups"
echo "then: cd $HERE && $VENV/bin/python measure.py --serve"
