# common.bash — shared preamble of the CLI tests, sourced by tests/cli/*.sh (it
# is not a test itself: CMake runs only tests/cli/*.sh, and this file lives in
# lib/ with another extension).  After `. lib/common.bash` a script has:
#   M     the built maskjit ($MASKJIT, required)
#   SRC   the source root ($MJ_SOURCE_DIR, default .)
#   DATA  the shared data dir ($MJ_SHARED_DATA, default $SRC/../shared/data)
#   tmp   a fresh temporary directory, removed on exit (a script that needs more
#         clean-up sets its own EXIT trap, which must also remove "$tmp")
#   fail  0; `bad` sets it to 1 — the script ends with `exit $fail`
# and the helpers ok, bad, skip and expect_rc below.
M=${MASKJIT:?MASKJIT must point at the built maskjit}
SRC=${MJ_SOURCE_DIR:-.}
DATA=${MJ_SHARED_DATA:-$SRC/../shared/data}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# ok MSG / bad MSG: report one passed / failed check (bad marks the script failed).
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
# skip MSG: say that a group of checks was skipped (missing data, module, model).
skip() { echo "SKIP: $1"; }

# expect_rc DESC RC CMD...: run CMD with stdin from ${EXPECT_STDIN:-/dev/null},
# stdout -> $tmp/out, stderr -> $tmp/err; pass when it exits with RC, else fail
# and show the first lines of its stderr.
expect_rc() {
  local desc=$1 want=$2; shift 2
  "$@" <"${EXPECT_STDIN:-/dev/null}" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  if [ "$rc" = "$want" ]; then ok "$desc"; else bad "$desc (exit $rc, want $want)"; sed 's/^/  | /' "$tmp/err" | head -20; fi
}
