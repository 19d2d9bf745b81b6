#!/bin/sh
# Lint every manual page given: mandoc -Tlint -W warning must be silent.
# Exits 77 (skipped) when mandoc is not installed.
command -v mandoc >/dev/null 2>&1 || { echo "mandoc not found"; exit 77; }
rc=0
for page in "$@"; do
	mandoc -Tlint -W warning "$page" || rc=1
done
exit $rc
