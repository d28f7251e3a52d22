#!/bin/sh
# Runs tests/python/torch_interop.py with the first python3 that has torch (Debian's python3-torch lives in
# /usr/bin/python3, which a pyenv or venv python3 earlier in PATH does not see). Exits 77, which ctest reports as
# skipped, when there is none: PyTorch is never needed to build or test.
# usage: torch_interop.sh MTINET_BINARY SOURCE_DIR
for py in python3 /usr/bin/python3; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c "import torch" >/dev/null 2>&1; then
    exec "$py" "$2/tests/python/torch_interop.py" "$1" "$2"
  fi
done
echo "skipped: no python3 with torch (apt-get install python3-torch to run this check)"
exit 77
