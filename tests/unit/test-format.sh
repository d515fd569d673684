#!/bin/sh
# Every C file follows .clang-format (clang-format --dry-run -Werror).
root=${FC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v clang-format >/dev/null 2>&1 || { echo "1..0 # SKIP clang-format is not installed"; exit 77; }
cd "$root" || exit 1
files=$(find common runtime snapshot prewarm bench tests -name '*.[ch]' | sort)
bad=0
for f in $files; do
	if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
		echo "# $f is not formatted (clang-format -i $f)"
		bad=$((bad + 1))
	fi
done
n=$(echo "$files" | wc -l)
echo "1..1"
if [ "$bad" = 0 ]; then echo "ok 1 - $n C files follow .clang-format"; else echo "not ok 1 - $bad of $n C files are not formatted"; exit 1; fi
