#!/usr/bin/env bash
# A checkpoint folder that cannot be written: a clear error with the reason, and the checkpoint already there intact
# and loadable. Permissions bind only an unprivileged user, so as root the run drops to 'nobody' (setpriv); without
# setpriv as root the test is skipped (exit 77, ctest's skip code).
# Usage: MTINET=build/mtinet tests/faults/read_only.sh
source "$(dirname "$0")/common.sh"

as_user=()
if [ "$(id -u)" -eq 0 ]; then
  command -v setpriv >/dev/null || { echo "skipped: root without setpriv cannot test permissions"; exit 77; }
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
first=$(printf 'step_%08d' 4)
second=$(printf 'step_%08d' 8)

dir="$work/read_only"
mkdir -p "$dir"
train "$dir" --set max_steps=4 || fail "the first epoch failed: $(tail -n 3 "$dir.log")"
before=$(md5sum "$dir/$first".*)
as_nobody_train() {
  "${as_user[@]}" "$MTINET" train --config "$config" --set checkpoint.dir="$dir" --resume latest "$@" >>"$dir.log" 2>&1
}
chmod 666 "$dir.log"

# 1. Nothing in the folder may be written: the run stops at start-up, at the first file it opens for writing.
chmod 555 "$dir"
status=0
as_nobody_train || status=$?
[ "$status" -ne 0 ] || fail "the run into a read-only folder exited 0"
grep -Eq "error: cannot open the [a-zA-Z ]+ '$dir/[^']+': Permission denied" "$dir.log" ||
  fail "no clear error for the read-only folder: $(tail -n 1 "$dir.log")"
[ "$(md5sum "$dir/$first".*)" = "$before" ] || fail "the previous checkpoint changed"

# 2. The folder may not take new files but its log stays writable (and no event file is opened), so the run gets as
#    far as its next checkpoint, which fails naming the file and the reason.
chmod 666 "$dir/metrics.jsonl"
status=0
as_nobody_train --set log.tensorboard=false || status=$?
[ "$status" -ne 0 ] || fail "the run writing a checkpoint into a read-only folder exited 0"
grep -q "cannot create '$dir/$second.weights.safetensors.tmp' for '$dir/$second.weights.safetensors': Permission denied" "$dir.log" ||
  fail "no clear error for the checkpoint in a read-only folder: $(tail -n 1 "$dir.log")"
[ "$(md5sum "$dir/$first".*)" = "$before" ] || fail "the previous checkpoint changed"
chmod 755 "$dir"
train "$dir" --resume latest || fail "resuming the saved checkpoint failed: $(tail -n 3 "$dir.log")"
same_as_reference "$dir"
echo "ok: read-only checkpoint folder reported with its reason, previous checkpoint intact and resumed"
