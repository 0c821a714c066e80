#!/usr/bin/env bash
# check.sh — `maskjit check`: exit 0 and no output on every example, exit 1
# with FILE:LINE:COL diagnostics on bad files, --help, usage errors, -W flags.
set -u
M=${MASKJIT:-build/maskjit}
cd "${MJ_SOURCE_DIR:-.}"
fail=0
bad() { echo "FAIL: $*" >&2; fail=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# every example checks clean: exit 0, nothing printed
n=0
for f in examples/*.mask; do
  out=$("$M" check "$f" 2>&1); rc=$?
  [ $rc -eq 0 ] || bad "$f: exit $rc"
  [ -z "$out" ] || bad "$f: printed: $out"
  n=$((n + 1))
done
[ $n -ge 14 ] || bad "only $n examples"
# all at once too
"$M" check examples/*.mask >/dev/null 2>&1 || bad "check of all examples together failed"

# a bad file: exit 1, message with location, source line and caret
printf 'tokens seg: int = -1\nmask = kv <= q && cuasal\n' > "$tmp/bad.mask"
out=$("$M" check "$tmp/bad.mask" 2>&1); rc=$?
[ $rc -eq 1 ] || bad "bad.mask: exit $rc, want 1"
echo "$out" | grep -q "bad.mask:2:19: error: unknown name 'cuasal'" || bad "bad.mask: message: $out"
echo "$out" | grep -q '^    2 | mask = kv <= q && cuasal$' || bad "bad.mask: no source line: $out"
echo "$out" | grep -q '^      |                   \^~~~~~$' || bad "bad.mask: no caret: $out"

# one bad file among good ones still gives 1, and all files are reported
out=$("$M" check examples/causal.mask "$tmp/bad.mask" tests/diag/self_import.mask 2>&1); rc=$?
[ $rc -eq 1 ] || bad "mixed: exit $rc"
echo "$out" | grep -q "import cycle" || bad "mixed: second bad file not reported"

# every bad program under tests/diag gives 1
for f in tests/diag/*.mask; do
  case "$f" in */diamond.mask|*/import_noext.mask) continue;; esac
  "$M" check -q "$f"; rc=$?
  [ $rc -eq 1 ] || bad "$f: exit $rc, want 1"
done
"$M" check tests/diag/diamond.mask tests/diag/import_noext.mask || bad "diamond.mask, import_noext.mask should check"

# missing file, no files, bad options, --help
"$M" check "$tmp/none.mask" 2>"$tmp/err"; [ $? -eq 1 ] || bad "missing file exit"
grep -q "cannot open" "$tmp/err" || bad "missing file message"
"$M" check 2>/dev/null; [ $? -eq 2 ] || bad "no files: want exit 2"
"$M" check -W nonsense examples/causal.mask 2>/dev/null; [ $? -eq 2 ] || bad "bad -W: want exit 2"
"$M" check --help | grep -q "usage: maskjit check" || bad "--help"

# warnings: printed, exit 0; -Wno-unused silences unused; -Werror fails
printf 'param n: int = 1\nmask = kv <= q\n' > "$tmp/warn.mask"
out=$("$M" check "$tmp/warn.mask" 2>&1); rc=$?
[ $rc -eq 0 ] || bad "warn.mask: exit $rc"
echo "$out" | grep -q "warning: param 'n' is never used" || bad "unused warning: $out"
[ -z "$("$M" check -Wno-unused "$tmp/warn.mask" 2>&1)" ] || bad "-Wno-unused"
"$M" check -Werror "$tmp/warn.mask" 2>/dev/null; [ $? -eq 1 ] || bad "-Werror"
printf 'tokens seg: int = -1\nmask = kv <= q && (q >= prompt_len || (seg[q] == seg[kv] && seg[q] >= 0))\n' > "$tmp/rows.mask"
"$M" check "$tmp/rows.mask" 2>&1 | grep -q "rows.mask:2:1: warning: some query rows can see no key" || bad "empty-row warning"

# not UTF-8, a 1 MB line: errors, no crash
printf 'mask = true # \xff\n' > "$tmp/latin.mask"
"$M" check "$tmp/latin.mask" 2>&1 | grep -q "invalid UTF-8 byte 0xff" || bad "non-UTF-8"
python3 -c "print('mask = ' + '(' * 300000 + 'true' + ')' * 300000)" > "$tmp/deep.mask"
"$M" check "$tmp/deep.mask" 2>"$tmp/err"; [ $? -eq 1 ] || bad "deep.mask exit"
grep -q "expression nested too deeply" "$tmp/err" || bad "deep.mask message"
[ "$(wc -c < "$tmp/err")" -lt 2000 ] || bad "deep.mask: message too long"

[ $fail -eq 0 ] && echo "check.sh: ok ($n examples)"
exit $fail
