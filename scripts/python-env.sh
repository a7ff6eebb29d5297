#!/usr/bin/env bash
# Creates (once) the Python venv the cross-check tests use and prints its
# python's path. Reinstalls when requirements-test.txt changes.
#   KMS_PY_VENV  where the venv lives (default: ~/.cache/kms-py)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${KMS_PY_VENV:-$HOME/.cache/kms-py}
req="$here/requirements-test.txt"
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if ! command -v python3 >/dev/null 2>&1; then
  echo "*** python3 is missing: cross-checks against independent libraries will be SKIPPED ***" >&2
  exit 3
fi
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
  echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
