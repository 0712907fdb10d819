#!/bin/bash
# Memory walkers against the guest's own record (gt.txt) and against facts
# computed here independently of kdx:
#   list   the fixture module's 100,000-entry list (count, order, the planted
#          values (i*2654435761)%1000 computed with awk), the looped list
#          (reported, non-zero exit), the 50-entry hlist, reverse walks
#   tree   maple tree of a process's mm vs /proc/PID/maps (gt `maps`),
#          xarray of pids vs gt `task` TIDs, rbtree vs list of the same
#          vmap areas
#   vm     VMAs and paths vs gt `maps`
#   kmem   -s vs /proc/slabinfo (gt `slabinfo`), ADDR on a task_struct and a
#          fixture object, -i vs /proc/meminfo (gt `meminfo`)
#   search the planted kdx_fixture_magic at its address
. "$(dirname "$0")/lib.sh"

name=$(fixture_info "$FIXDIR" name)
T="$name $FORMAT"
fx() { gt_value "$FIXDIR" fixture "$1"; }
hex() { printf '%x' "$(( $1 ))"; }   # 0xff..  -> ff.. (crash prints no 0x)
MODS="mod -s kdx_fixture $FIXDIR/kdx_fixture.ko"
ITEM=kdx_fixture_item
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
# user memory of the fixture's kdx_threads process (a page it filled);
# kexec (makedumpfile -d 31) dumps leave user pages out
check_user_pattern() {
	local tpid out
	tpid=$(fx threads_pid)
	[ -n "$tpid" ] && [ "$(fixture_info "$FIXDIR" mode)" != kexec ] || return 0
	out=$(kdx_cmd "set $tpid" "search -u -c kdx user pattern" 2>&1)
	if echo "$out" | grep -q "^$(hex "$(fx threads_pattern_addr)"): kdx user pattern$"; then
		ok "search -u finds the user page pattern $T"
	else
		not_ok "search -u finds the user page pattern $T" "$(hex "$(fx threads_pattern_addr)"): kdx user pattern" "$out"
	fi
}

if [ -z "$(fx list_head)" ]; then
	skip "memory $T" "no fixture module facts in gt.txt"
	check_user_pattern
exit 0
fi

# ---- list: the 100,000-entry list ----
kdx_cmd "$MODS" "list -H kdx_fixture_list -o $ITEM.link" >"$OUT/plain" 2>"$OUT/plain.err"
grep -E '^[0-9a-f]+$' "$OUT/plain" >"$OUT/addrs"
check "list -H count $T" "$(fx list_count)" "$(wc -l <"$OUT/addrs")"
check "list -H first entry $T" "$(hex "$(fx first)")" "$(head -n1 "$OUT/addrs")"
check "list -H last entry $T" "$(hex "$(fx last)")" "$(tail -n1 "$OUT/addrs")"

# the REPL's pipe, as the engineer does it: list ... | wc -l
got=$(kdx_cmd "$MODS" "list -H kdx_fixture_list -o $ITEM.link | wc -l" 2>/dev/null | tail -n1 | tr -d ' ')
check "list -H | wc -l $T" "$(fx list_count)" "$got"

# -s: values in order, computed independently: value_i = (i * 2654435761 mod 2^32) mod 1000
kdx_cmd "$MODS" "list -H kdx_fixture_list -o $ITEM.link -s $ITEM.value" >"$OUT/s" 2>"$OUT/s.err"
bad=$(awk '/^  value = /{ e = ((i * 2654435761) % 4294967296) % 1000;
		if ($3 != e) { if (!bad) first = i ": " $3 " != " e; bad++ } i++ }
	END { print i + 0, bad + 0, first }' "$OUT/s")
check "list -s $ITEM.value planted values $T" "$(fx list_count) 0" "$(echo "$bad" | cut -d' ' -f1,2)"
sum=$(awk '/^  value = /{ s += $3 } END { print s + 0 }' "$OUT/s")
check "list -s value sum vs guest's sum $T" "$(fx value_sum)" "$sum"
check "list -s addresses same as plain $T" "$(md5sum <"$OUT/addrs")" \
	"$(grep -E '^[0-9a-f]+$' "$OUT/s" | md5sum)"

# -S: raw, fast; index and value members
kdx_cmd "$MODS" "list -H kdx_fixture_list -o $ITEM.link -S $ITEM.index,value" >"$OUT/S" 2>"$OUT/S.err"
bad=$(awk '/^  index = /{ if ($3 != n) b++; n++ }
	/^  value = /{ e = ((i * 2654435761) % 4294967296) % 1000; if ($3 != e) b++; i++ }
	END { print n + 0, i + 0, b + 0 }' "$OUT/S")
check "list -S index,value $T" "$(fx list_count) $(fx list_count) 0" "$bad"

# reverse walk: the last entry first
first_r=$(kdx_cmd "$MODS" "list -r -H kdx_fixture_list -o $ITEM.link | head -n 1" 2>/dev/null | tail -n1)
check "list -r -H first is the last $T" "$(hex "$(fx last)")" "$first_r"

# an expression as START, numeric offset from the guest's offsetof()
got=$(kdx_cmd "$MODS" "list -H &kdx_fixture_list -o $(fx item_off_link) | wc -l" 2>/dev/null | tail -n1 | tr -d ' ')
check "list -H &sym -o NUM $T" "$(fx list_count)" "$got"

# a bare symbol is its address even without the module's debuginfo (crash)
out=$(kdx_cmd "list -H kdx_fixture_list -o $(fx item_off_link)" 2>&1)
check "list -H SYMBOL -o NUM without debuginfo: count, first $T" "$(fx list_count) $(hex "$(fx first)")" \
	"$(echo "$out" | grep -cE '^[0-9a-f]+$') $(echo "$out" | head -n1)"
out=$(kdx_cmd "list -H kdx_fixture_hlist -o $(fx item_off_hnode)" 2>&1)
check "hlist via -H SYMBOL -o NUM without debuginfo $T" "$(fx hlist_count) $(hex "$(fx hlist_first)")" \
	"$(echo "$out" | grep -cE '^[0-9a-f]+$') $(echo "$out" | head -n1)"

# ---- list: the looped list ----
exp=""
for i in $(seq 1 "$(fx loop_count)"); do exp="$exp$(hex "$(fx loop_item_$i)") "; done
kdx_cmd "$MODS" "list -H kdx_fixture_loop -o $ITEM.link" >"$OUT/loop" 2>"$OUT/loop.err"
rc=$?
got=$(grep -E '^[0-9a-f]+$' "$OUT/loop" | tr '\n' ' ')
check "list loop: entries before the loop $T" "$exp" "$got"
if [ $rc -ne 0 ] && grep -q "duplicate list entry: $(hex "$(fx loop_item_$(fx loop_at))")" "$OUT/loop.err"; then
	ok "list loop reported, non-zero exit $T"
else
	not_ok "list loop reported, non-zero exit $T" "exit != 0 and 'duplicate list entry: $(hex "$(fx loop_item_$(fx loop_at))")'" \
		"exit $rc: $(cat "$OUT/loop.err")"
fi

# ---- list: hlist ----
kdx_cmd "$MODS" "list -H kdx_fixture_hlist -o $ITEM.hnode -S $ITEM.index" >"$OUT/h" 2>"$OUT/h.err"
check "hlist count $T" "$(fx hlist_count)" "$(grep -cE '^[0-9a-f]+$' "$OUT/h")"
check "hlist first $T" "$(hex "$(fx hlist_first)")" "$(grep -m1 -E '^[0-9a-f]+$' "$OUT/h")"
check "hlist order (index 0..49) $T" "$(seq 0 $(( $(fx hlist_count) - 1 )) | tr '\n' ' ')" \
	"$(awk '/^  index = /{ printf "%s ", $3 }' "$OUT/h")"

# singly linked (crash's default mode): the hlist_nodes themselves, whose
# first member is the pointer to the next node, NULL-terminated
n0=$(hex $(( $(fx hlist_first) + $(fx item_off_hnode) )))
out=$(kdx_cmd "list $n0" 2>&1)
check "list singly linked (next at 0), NULL-terminated $T" "$(fx hlist_count) $n0" \
	"$(echo "$out" | grep -cE '^[0-9a-f]+$') $(echo "$out" | head -n1)"

# ---- vm and tree -t maple vs /proc/PID/maps ----
for pid in $(gt "$FIXDIR" maps | awk '{ print $2 }' | sort -un); do
	exp=$(gt "$FIXDIR" maps | awk -v p="$pid" '$2 == p { split($3, r, "-");
		sub(/^0+/, "", r[1]); sub(/^0+/, "", r[2]); if (r[1] == "") r[1] = "0";
		printf "%s-%s %s\n", r[1], r[2], $8 }')
	kdx_cmd "vm $pid" >"$OUT/vm" 2>"$OUT/vm.err"
	if grep -q 'no task\|not found' "$OUT/vm.err"; then
		skip "vm $pid $T" "PID $pid exited between the ground truth and the crash"
		continue
	fi
	got=$(awk 'f && NF >= 4 { printf "%s-%s %s\n", $2, $3, $5 } /^ *VMA +START/ { f = 1 }' "$OUT/vm")
	check "vm $pid VMAs and paths vs maps $T" "$exp" "$got"
	mm=$(awk '/^ *MM +PGD/ { getline; print $1; exit }' "$OUT/vm")
	got=$(kdx_cmd "tree -t maple -x -S vm_area_struct.vm_start,vm_end &((struct mm_struct *)0x$mm)->mm_mt" 2>&1 |
		awk '/vm_start =/{ s = $3 } /vm_end =/{ e = $3; sub(/^0x/, "", s); sub(/^0x/, "", e); print s "-" e }')
	check "tree -t maple $pid vs maps $T" "$(echo "$exp" | cut -d' ' -f1)" "$got"
done

# ---- tree -t xarray: the pid idr holds every live TID ----
kdx_cmd "tree -t xarray -p &init_pid_ns.idr.idr_rt" >"$OUT/xa" 2>"$OUT/xa.err"
missing=$(gt "$FIXDIR" task | awk '$2 != 0 { print $2 }' | sort -n | while read -r tid; do
	grep -q "^\[$tid\] " "$OUT/xa" || echo "$tid"; done | head -n 20 | tr '\n' ' ')
ntask=$(gt "$FIXDIR" task | awk '$2 != 0' | wc -l)
nmiss=$(echo "$missing" | wc -w)
# a thread may exit between the record and the crash: allow 3 of them
if [ "$(grep -c '^\[' "$OUT/xa")" -ge $(( ntask - 3 )) ] && [ "$nmiss" -le 3 ]; then
	ok "tree -t xarray pid idr has the guest's TIDs $T"
else
	not_ok "tree -t xarray pid idr has the guest's TIDs $T" "$ntask TIDs" "missing: $missing"
fi

# ---- tree -t rbtree vs the list of the same objects ----
a=$(kdx_cmd "tree -t rbtree -o vmap_area.rb_node &vmap_area_root" 2>&1 | sort | md5sum)
b=$(kdx_cmd "list -H vmap_area_list -o vmap_area.list" 2>&1 | sort | md5sum)
check "tree -t rbtree vmap_area_root == list vmap_area_list $T" "$b" "$a"

# ---- kmem -s vs /proc/slabinfo ----
# The record is taken a moment before the crash; in between the guest runs the
# trigger (a shell, echo): a few objects and whole slabs come and go. SLUB
# frees nothing eagerly, so totals only grow; per-CPU free objects make
# /proc/slabinfo's active count (which only subtracts node-partial free
# objects) >= kdx's ALLOCATED. Tolerance: totals within 10% + 2 slabs' worth
# of objects, allocated <= active + 10% + 64.
kdx_cmd "kmem -s" >"$OUT/slab" 2>"$OUT/slab.err"
for c in task_struct kmalloc-64 kmalloc-128 kmalloc-512 kmalloc-1k kdx_fixture_item vm_area_struct; do
	g=$(gt "$FIXDIR" slabinfo | awk -v c="$c" '$2 == c { print $3, $4 }')
	k=$(awk -v c="$c" '$NF == c { print $3, $4 }' "$OUT/slab")
	[ -n "$g" ] || { skip "kmem -s $c $T" "not in slabinfo"; continue; }
	res=$(echo "$g $k" | awk '{ act = $1; num = $2; alloc = $3; tot = $4;
		slack = num / 10 + 128;
		d = tot - num; if (d < 0) d = -d;
		print (d <= slack && alloc <= act + act / 10 + 64 && alloc > 0) ? "ok" : "bad" }')
	if [ "$res" = ok ]; then ok "kmem -s $c vs slabinfo $T"; else
		not_ok "kmem -s $c vs slabinfo $T" "slabinfo active/num: $g" "kdx allocated/total: ${k:-none}"; fi
done
# the fixture cache is exact: every object is on one of the planted lists
exp=$(( $(fx list_count) + $(fx loop_count) + $(fx hlist_count) ))
check "kmem -s kdx_fixture_item allocated == planted objects $T" "$exp" \
	"$(awk -v c=$ITEM '$NF == c { print $3 }' "$OUT/slab")"

# ---- kmem ADDR ----
task=$(fx holder_task)
out=$(kdx_cmd "kmem $(hex "$task")" 2>&1)
if echo "$out" | grep -qE " task_struct$" && echo "$out" | grep -q "\[$(hex "$task")\]"; then
	ok "kmem TASK names task_struct, allocated $T"
else
	not_ok "kmem TASK names task_struct, allocated $T" "task_struct and [$(hex "$task")]" "$out"
fi
first=$(fx first)
out=$(kdx_cmd "kmem $(hex $(( first + $(fx item_off_name) )))" 2>&1)
if echo "$out" | grep -qE " $ITEM$" && echo "$out" | grep -q "\[$(hex "$first")\].*offset $(fx item_off_name) "; then
	ok "kmem ADDR inside a fixture object: cache, object, offset $T"
else
	not_ok "kmem ADDR inside a fixture object: cache, object, offset $T" \
		"$ITEM and [$(hex "$first")] at offset $(fx item_off_name)" "$out"
fi

# ---- kmem -i vs /proc/meminfo ----
kdx_cmd "kmem -i" >"$OUT/mi" 2>"$OUT/mi.err"
pages() { awk -v l="$1" '{ line = $0; sub(/^ +/, "", line) } index(line, l " ") == 1 { n = split(l, w, " "); print $(n + 1); exit }' "$OUT/mi"; }
kb() { gt_value "$FIXDIR" meminfo "$1"; }
tm=$(pages "TOTAL MEM")
check "kmem -i TOTAL MEM vs MemTotal $T" "$(kb MemTotal)" "$(( ${tm:-0} * 4 ))"
# FREE moves while the guest runs the trigger and dumps: 3% of MemTotal
within() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }
tot=$(kb MemTotal)
for pair in "FREE:MemFree" "SLAB:Slab" "SHARED:Shmem" "CACHED:Cached"; do
	l=${pair%%:*}; m=${pair#*:}
	got=$(pages "$l")
	got=$(( ${got:-0} * 4 ))
	if within "$got" "$(kb "$m")" $(( tot * 3 / 100 )); then ok "kmem -i $l vs $m (3% of MemTotal) $T"
	else not_ok "kmem -i $l vs $m (3% of MemTotal) $T" "$(kb "$m") kB" "$got kB"; fi
done

# ---- search ----
magic=$(fx magic)
out=$(kdx_cmd "search -s $(fx magic_addr) -l 4096 $(hex "$magic")" 2>&1)
check "search -s -l finds the magic at its address $T" "$(hex "$(fx magic_addr)"): $(hex "$magic")" \
	"$(echo "$out" | head -n1)"
out=$(kdx_cmd "search -V $(hex "$magic")" 2>&1)
if echo "$out" | grep -q "^$(hex "$(fx magic_addr)"): $(hex "$magic")$"; then
	ok "search -V (vmalloc+modules) finds kdx_fixture_magic $T"
else
	not_ok "search -V (vmalloc+modules) finds kdx_fixture_magic $T" "$(hex "$(fx magic_addr)"): $(hex "$magic")" "$out"
fi
out=$(kdx_cmd "search -V -c $(fx string)" 2>&1)
if echo "$out" | grep -q "^$(hex "$(fx string_addr)"): $(fx string)"; then
	ok "search -c finds the planted string $T"
else
	not_ok "search -c finds the planted string $T" "$(hex "$(fx string_addr)"): $(fx string)" "$out"
fi
check_user_pattern
exit 0
