#!/usr/bin/env bash
# show.sh — `maskjit show` and `maskjit explain` end to end: dense / blocks /
# scores output pinned for the seed fusion mask on a 7-token layout
# (--segments 2,3), a valid PNG, the ascii picture, explain's numbers, the
# layout options, and clear errors (exit 2 for bad options, 1 for bad files).
set -u
M=${MASKJIT:-build/maskjit}
SRC=${MJ_SOURCE_DIR:-.}
EX=$SRC/examples/fusion_seed.mask
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
pass=0
check() {   # check NAME EXPECTED ACTUAL
  if [ "$2" == "$3" ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); printf 'FAIL %s\n--- expected\n%s\n--- got\n%s\n' "$1" "$2" "$3"; fi
}
check_rc() {  # check_rc NAME EXPECTED_RC CMD...
  local name=$1 want=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
  if [ "$rc" == "$want" ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL $name: exit $rc, expected $want"; cat "$T/err"; fi
}
contains() {  # contains NAME FILE TEXT
  if grep -qF -- "$3" "$2"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL $1: '$3' not in:"; cat "$2"; fi
}

L="--segments 2,3 --seq-len 7"
check dense "1000000
1100000
0010000
0011000
0011100
1111110
1111111" "$($M show $EX $L --format dense)"

check blocks "PEEE
EPEE
PPPE
FFFF" "$($M show $EX $L --format blocks --block 2)"
check blocks-default "P" "$($M show $EX $L --format blocks)"

check scores "1.5 -inf -inf -inf -inf -inf -inf
1.5 1.5 -inf -inf -inf -inf -inf
-inf -inf 1.5 -inf -inf -inf -inf
-inf -inf 1.5 1.5 -inf -inf -inf
-inf -inf 1.5 1.5 1.5 -inf -inf
1.5 1.5 1.5 1.5 1.5 1.5 -inf
1.5 1.5 1.5 1.5 1.5 1.5 1.5" "$($M show $EX $L --format scores --raw-score 1.5)"

# a score program: ALiBi-like slopes from --heads, head 1
check scores-alibi "0 -inf -inf
-0.5 0 -inf
-1 -0.5 0" "$($M show $SRC/examples/alibi.mask --seq-len 3 --format scores --heads slope=0.25,0.5 --head 1)"

# png: signature and size
check_rc png 0 $M show $EX $L --format png -o "$T/m.png"
check png-signature "89504e470d0a1a0a" "$(head -c 8 "$T/m.png" | od -An -tx1 | tr -d ' \n')"
check_rc png-large 0 $M show $EX --segments 600,700 --seq-len 3000 --format png --block 64 -o "$T/big.png"
check png-large-signature "89504e470d0a1a0a" "$(head -c 8 "$T/big.png" | od -An -tx1 | tr -d ' \n')"

# ascii picture: glyphs, boundaries, legend; -o writes a file
check_rc ascii 0 $M show $EX $L -o "$T/a.txt"
contains ascii-row "$T/a.txt" " 4 ··│███│··"
contains ascii-bar "$T/a.txt" "──┼───┼──"
contains ascii-legend "$T/a.txt" "legend: █ visible  · masked"
check_rc ascii-large 0 $M show $EX --segments 300,300 --seq-len 1000
contains ascii-large-downsampled "$T/out" "1 cell = ~11 x 11 tokens"

# --backend cpu agrees with the interpreter when the JIT is available
if $M show $EX $L --format dense --backend cpu >"$T/cpu" 2>/dev/null; then
  check backend-cpu "$($M show $EX $L --format dense)" "$(cat "$T/cpu")"
  check backend-cpu-blocks "$($M show $EX $L --format blocks --block 2)" \
        "$($M show $EX $L --format blocks --block 2 --backend cpu)"
else
  echo "note: --backend cpu unavailable here: $(head -1 "$T/cpu")"
fi

# layout options: --annot, --prompt-len, --set
check annot "10
01" "$($M show $SRC/examples/document.mask --seq-len 2 --annot doc=0,1 --format dense)"
check prompt-len "100
110
111" "$($M show $EX --segments 1,2 --seq-len 3 --prompt-len 1 --format dense)"
check set-window "100
110
011" "$($M show $SRC/examples/sliding_window.mask --seq-len 3 --set window=2 --format dense)"

# explain: numbers for the 7-token layout
check_rc explain 0 $M explain $EX $L --block 2
contains explain-pairs "$T/out" "visible pairs: 22 of 28 dense causal pairs (78.57%)"
contains explain-blocks "$T/out" "blocks of 2 x 2: 16; EMPTY 43.8%, FULL 25.0%, PARTIAL 31.2%"
contains explain-rows "$T/out" "rows with no visible key: 0"
contains explain-tokens "$T/out" "tokens seg: int = -1"
contains explain-score "$T/out" "score program: no"
printf 'tokens seg: int = -1\nmask = kv <= q && seg[q] >= 0 && seg[q] == seg[kv]\n' >"$T/sep.mask"
check_rc explain-empty-rows 0 $M explain "$T/sep.mask" --seq-len 6 --annot seg=0,-1,0,-1 --block 4
contains explain-empty-rows-text "$T/out" "rows with no visible key: 4 (q = 1, 3, 4, 5)"
contains explain-empty-rows-pairs "$T/out" "visible pairs: 3 of 21 dense causal pairs (14.29%)"
check_rc explain-params 0 $M explain $SRC/examples/fusion_shared_prefix.mask --prefix 3 --segments 4,5
contains explain-auto-param "$T/out" "param max_seg_len: int = 0  (here: 5)"
contains explain-auto-prefix "$T/out" "param prefix_len: int = 0  (here: 3)"

# explain's block-based counting agrees with the element mask
for ex in fusion_shared_prefix sliding_window dilated_window global_local; do
  lay="--prefix 5 --segments 13,9,17 --seq-len 50"
  ones=$($M show $SRC/examples/$ex.mask $lay --format dense | tr -cd 1 | wc -c)
  $M explain $SRC/examples/$ex.mask $lay --block 8 >"$T/ex.txt" 2>&1
  contains "explain-vs-dense-$ex" "$T/ex.txt" "visible pairs: $ones of 1275 "
done

# errors: usage (2) and bad files (1)
check_rc no-seq-len 2 $M show $EX
check_rc bad-format 2 $M show $EX --seq-len 4 --format svg
check_rc bad-seq-len 2 $M show $EX --seq-len -3
check_rc bad-block 2 $M show $EX --seq-len 4 --format blocks --block 0
check_rc png-needs-o 2 $M show $EX --seq-len 4 --format png
check_rc bad-segments 2 $M show $EX --segments 2,x --seq-len 7
check_rc segments-too-long 2 $M show $EX --segments 5,5 --seq-len 7
check_rc unknown-annot 2 $M show $EX --seq-len 4 --annot nope=1,2
contains unknown-annot-lists "$T/err" "it has: seg"
check_rc bad-annot-value 2 $M show $EX --seq-len 4 --annot seg=1,x
check_rc too-many-annot 2 $M show $EX --seq-len 2 --annot seg=1,2,3
check_rc unknown-param 2 $M show $EX --seq-len 4 --set nope=3
check_rc unknown-option 2 $M show $EX --seq-len 4 --frobnicate
check_rc two-files 2 $M show $EX $EX --seq-len 4
check_rc bad-backend 2 $M show $EX --seq-len 4 --backend gpu
check_rc missing-file 1 $M show "$T/none.mask" --seq-len 4
printf 'mask = q <= \n' >"$T/bad.mask"
check_rc bad-file 1 $M show "$T/bad.mask" --seq-len 4
check_rc explain-missing-file 1 $M explain "$T/none.mask" --seq-len 4
check_rc help 0 $M show --help
contains help-text "$T/out" "--segments"
check_rc explain-help 0 $M explain --help

echo "$pass passed, $fail failed"
[ "$fail" == 0 ]
