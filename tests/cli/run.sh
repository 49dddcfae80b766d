#!/usr/bin/env bash
# CLI golden tests: each tests/cli/cases/NAME/cmd is a shell command run with
# $COPYDESK (the binary), $DATA (tests/data) and $WORK (a scratch directory)
# set; its stdout, stderr and exit code must equal expected.stdout,
# expected.stderr and expected.exit. Timing lines ("copydesk: time: ...")
# are dropped from stderr, and $WORK is written as WORK.
#   run.sh COPYDESK [--update] [NAME...]   --update rewrites the expectations.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export COPYDESK=$(realpath "$1"); shift
update=0
if [ "${1:-}" = "--update" ]; then update=1; shift; fi
export DATA="$here/../data"
names=("$@")
[ ${#names[@]} -eq 0 ] && names=($(ls "$here/cases"))
failed=0
for name in "${names[@]}"; do
  case_dir="$here/cases/$name"
  export WORK=$(mktemp -d)
  (cd "$WORK" && bash "$case_dir/cmd" >"$WORK/.stdout" 2>"$WORK/.stderr_raw"; echo $? >"$WORK/.exit")
  grep -v '^copydesk: time: ' "$WORK/.stderr_raw" | sed "s#$WORK#WORK#g" >"$WORK/.stderr"
  if [ $update -eq 1 ]; then
    cp "$WORK/.stdout" "$case_dir/expected.stdout"
    cp "$WORK/.stderr" "$case_dir/expected.stderr"
    cp "$WORK/.exit" "$case_dir/expected.exit"
    echo "updated $name"
  else
    ok=1
    for part in stdout stderr exit; do
      if ! diff -u "$case_dir/expected.$part" "$WORK/.$part" >"$WORK/.diff"; then
        echo "FAIL $name: $part differs:"; cat "$WORK/.diff"; ok=0
      fi
    done
    [ $ok -eq 1 ] && echo "ok   $name" || failed=$((failed + 1))
  fi
  rm -rf "$WORK"
done
[ $failed -eq 0 ] || { echo "$failed CLI test(s) failed"; exit 1; }
