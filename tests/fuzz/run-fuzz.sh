#!/bin/sh
# run-fuzz.sh TARGET CORPUS RUNS [DICT]: a short, fixed run of a libFuzzer
# target under ASan and UBSan (the `fuzz` suite). The corpus in the source
# tree is only read: what libFuzzer finds goes to a scratch directory that is
# removed afterwards. A crash leaves its input in
# $FC_BUILD_ROOT/tests/fuzz/artifacts/ (see README.md to reproduce it).
# FC_FUZZ_RUNS and FC_FUZZ_SEED override the number of runs and the seed.
target=$(realpath "$1") corpus=$(realpath "$2") runs=${FC_FUZZ_RUNS:-$3}
dict=${4:+$(realpath "$4")}
seed=${FC_FUZZ_SEED:-1}
name=$(basename "$target")
art=${FC_BUILD_ROOT:-$(dirname "$target")/../..}/tests/fuzz/artifacts
mkdir -p "$art" || exit 1
# everything of the run under one directory, also what a target makes in
# $TMPDIR and leaves when it crashes
work=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
scratch=$work/corpus stamp=$work/start
mkdir "$scratch" "$work/tmp" && touch "$stamp" || exit 1
export TMPDIR=$work/tmp
trap 'exit 130' INT TERM
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
set -- -runs="$runs" -seed="$seed" -timeout=30 -max_total_time=300 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$art/$name-"
[ -n "$dict" ] && set -- "$@" -dict="$dict"
echo "$target $* $scratch $corpus"
"$target" "$@" "$scratch" "$corpus"
rc=$?
if [ $rc != 0 ]; then
	found=$(find "$art" -name "$name-*" -newer "$stamp" | head -1)
	echo "$name failed (exit $rc)${found:+; the input that failed: $found}"
	exit 1
fi
echo "$name: $runs runs from $(ls "$corpus" | wc -l) seeds, seed $seed: no crash, leak or failed check"
