#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter, or fail with advice.
# Order: interpreters on PATH (python3.12 - the tested version - then python3.13, python3, python),
# then pyenv's versions folder (3.12.x first).
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
for name in python3.12 python3.13 python3 python; do
    p=$(command -v "$name" 2>/dev/null) || continue
    if ok "$p"; then echo "$p"; exit 0; fi
done
root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for p in $(ls -d "$root"/versions/3.12*/bin/python3 2>/dev/null | sort -rV) \
         $(ls -d "$root"/versions/3.1[3-9]*/bin/python3 2>/dev/null | sort -V); do
    if ok "$p"; then echo "$p"; exit 0; fi
done
echo "error: no Python >= 3.12 found on PATH or under $root/versions; install Python 3.12+ and retry" >&2
exit 1
