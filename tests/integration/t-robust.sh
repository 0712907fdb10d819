#!/bin/bash
# t-robust.sh: damaged dumps and wrong files never crash kdx.
#
# Makes damaged copies of this fixture's dump in a temp dir and runs kdx on
# each (a few commands that read memory).  Every run must end by itself
# (timeout 20 s), with exit status 0, 1 or 2 (never a signal), with no ASan/UBSan
# report, and with every stderr line a one-line `kdx: ...` message.  Damage
# that makes the file unusable (not a dump, bad header, truncated headers)
# must be refused at open: exit 1 (or 2) and exactly one `kdx: ` line.  Damage only
# in one page's data or descriptor: the dump opens, `sys` works, and reading
# that page gives one `kdx: ` line with its address.
#
# Cost: the ELF dumps (hundreds of MB) are never copied whole: truncated
# copies hold at most 16 MB, header flips go to a sparse copy (the headers and
# notes, then a hole).  The kdump and flattened files (tens of MB) are copied
# once and patched in place, then restored.  Format-independent cases (empty
# file, directory, /dev/null, wrong vmlinux) run with the kdump format only.
. "$(dirname "$0")/lib.sh"

limit_memory   # a damaged header must not allocate without bound
TMP=$(mktemp -d)
[ -n "${KDX_KEEP_TMP:-}" ] || trap 'rm -rf "$TMP"' EXIT
# index caches of the damaged flattened copies stay in the temp dir
export KDX_CACHE_DIR=$TMP/cache
CMDS='sys
bt
ps
log
kmem -i'

# stderr lines: one-line errors and warnings, and the summaries of probe
# and search ("probe: 1 walk ended early (...)")
OKLINE='^kdx: |^(probe|search): [0-9]+ '

# run NAME MODE VMLINUX FILE [COMMANDS]: MODE is "refuse" (exit 1|2, one kdx:
# line) or "survive" (exit 0-2, only kdx: lines).  Sets $rc, $TMP/out, $TMP/err.
run() {
	local name=$1 mode=$2 vml=$3 file=$4 cmds=${5:-$CMDS} why=
	printf '%s\n' "$cmds" | timeout -k 5 20 $KDX $vml "$file" > "$TMP/out" 2> "$TMP/err"
	rc=$?
	if grep -qE 'AddressSanitizer|runtime error:|Sanitizer' "$TMP/err"; then
		why="sanitizer report"
	elif [ $rc = 124 ] || [ $rc = 137 ]; then
		why="hang (timeout)"
	elif [ $rc -ge 3 ]; then
		why="exit status $rc"
	elif grep -qvE "$OKLINE" "$TMP/err"; then
		why="stderr line not starting with kdx: $(grep -vE "$OKLINE" "$TMP/err" | head -1 | cut -c1-100)"
	elif [ "$mode" = refuse ] && { [ $rc = 0 ] || [ "$(wc -l < "$TMP/err")" != 1 ]; }; then
		why="exit $rc with $(wc -l < "$TMP/err") stderr lines (want exit 1 or 2, one kdx: line)"
	fi
	if [ -z "$why" ]; then
		ok "robust $FORMAT: $name"
	else
		not_ok "robust $FORMAT: $name" "$mode: no crash, no hang, kdx: lines" "$why"
		head -c 2000 "$TMP/err" | head -15 | sed 's/^/#   /'
	fi
}

# Little-endian integer I/O at a byte offset of a file.
get_u() { od -An -v -t "u$2" -j "$3" -N "$2" "$1" | tr -d ' '; }    # FILE SIZE OFF
put_u() {
	local f=$1 n=$2 off=$3 v=$4 i hex=
	for ((i = 0; i < n; i++)); do hex=$hex$(printf '\\x%02x' $(( (v >> (8 * i)) & 255 ))); done
	printf "$hex" | dd of="$f" bs=64k seek="$off" oflag=seek_bytes conv=notrunc status=none
}
put_be() {                                                           # FILE OFF VALUE (8 bytes)
	local f=$1 off=$2 v=$3 i hex=
	for ((i = 7; i >= 0; i--)); do hex=$hex$(printf '\\x%02x' $(( (v >> (8 * i)) & 255 ))); done
	printf "$hex" | dd of="$f" bs=64k seek="$off" oflag=seek_bytes conv=notrunc status=none
}
# copy LEN bytes of SRC at SOFF to DST at DOFF (in place)
copy_bytes() {                                                       # SRC SOFF LEN DST DOFF
	dd if="$1" bs=64k skip="$2" count="$3" iflag=skip_bytes,count_bytes status=none |
		dd of="$4" bs=64k seek="$5" oflag=seek_bytes conv=notrunc status=none
}
fill() {                                                             # FILE OFF LEN OCTAL
	head -c "$3" /dev/zero | tr '\0' "\\$4" |
		dd of="$1" bs=64k seek="$2" oflag=seek_bytes conv=notrunc status=none
}
# save/restore a byte range of the patched copy
save() { dd if="$1" of="$TMP/saved" bs=64k skip="$2" count="$3" iflag=skip_bytes,count_bytes status=none; SAVED_OFF=$2; }
restore() { dd if="$TMP/saved" of="$1" bs=64k seek="$SAVED_OFF" oflag=seek_bytes conv=notrunc status=none; }

# patch NAME MODE FILE OFF LEN PATCH-COMMAND...: patch, run, restore.
patch() {
	local name=$1 mode=$2 f=$3 off=$4 len=$5
	shift 5
	save "$f" "$off" "$len"
	"$@"
	run "$name" "$mode" "$VMLINUX" "$f"
	restore "$f"
}

# ---- format-independent: not a dump, wrong vmlinux ----------------------------
first=$(fixture_formats "$FIXDIR" | head -n1)
if [ "$FORMAT" = kdump ] || { [ "$FORMAT" = "$first" ] && [ ! -s "$FIXDIR/vmcore.kdump" ]; }; then
	: > "$TMP/empty"
	run "empty file" refuse "$VMLINUX" "$TMP/empty"
	mkdir "$TMP/dir"
	run "a directory" refuse "$VMLINUX" "$TMP/dir"
	run "/dev/null" refuse "$VMLINUX" /dev/null
	run "no such file" refuse "$VMLINUX" "$TMP/nonexistent"
	run "/etc/passwd as dump" refuse "$VMLINUX" /etc/passwd
	head -c 65536 /dev/urandom > "$TMP/random"
	run "random bytes as dump" refuse "$VMLINUX" "$TMP/random"
	run "vmlinux as dump" refuse "$VMLINUX" "$VMLINUX"
	run "arguments swapped (kdx sorts them out)" survive "$DUMP" "$VMLINUX"
	run "module as vmlinux" refuse "$FIXDIR/kdx_fixture.ko" "$DUMP"
	run "/etc/passwd as vmlinux" refuse /etc/passwd "$DUMP"
	run "empty vmlinux" refuse "$TMP/empty" "$DUMP"
	head -c 1048576 "$VMLINUX" > "$TMP/vmlinux.trunc"
	run "truncated vmlinux" refuse "$TMP/vmlinux.trunc" "$DUMP"

	# Damaged copies of the fixture module given to mod -s: each is an
	# error or a module without its types, never a crash.
	ko=$FIXDIR/kdx_fixture.ko
	MODCMDS="mod -s kdx_fixture $TMP/bad.ko
struct kdx_fixture_item
sym kdx_fixture_list
p kdx_fixture_magic
list -H kdx_fixture_loop -o kdx_fixture_item.link
whatis kdx_fixture_check
mod"
	modrun() {   # NAME PATCH-COMMAND...
		local name=$1
		shift
		cp "$ko" "$TMP/bad.ko"
		"$@"
		run "damaged module: $name" survive "$VMLINUX" "$DUMP" "$MODCMDS"
	}
	kosize=$(stat -c %s "$ko")
	modrun "truncated to half" truncate -s $((kosize / 2)) "$TMP/bad.ko"
	modrun "truncated to 100 bytes" truncate -s 100 "$TMP/bad.ko"
	modrun "e_shoff huge" put_u "$TMP/bad.ko" 8 40 0x7fffffffffff0000
	modrun "e_shnum 0xffff" put_u "$TMP/bad.ko" 2 60 0xffff
	modrun "e_shstrndx bad" put_u "$TMP/bad.ko" 2 62 0xfff0
	if command -v readelf >/dev/null; then
		for sec in .debug_info .debug_abbrev .debug_str .symtab .strtab .rela.debug_info .orc_unwind_ip .gnu.linkonce.this_module; do
			read -r off len < <(readelf -SW "$ko" | awk -v s="$sec" '{ sub(/^ *\[ *[0-9]+\] */, "") } $1 == s { print $4, $5 }')
			[ -n "$off" ] && [ -n "$len" ] || continue
			off=$((16#$off)) len=$((16#$len))
			modrun "$sec all 0xff" fill "$TMP/bad.ko" "$off" "$len" 377
			modrun "$sec half zeroed" fill "$TMP/bad.ko" $((off + len / 2)) $((len / 2)) 0
		done
	fi
	rm -f "$TMP/bad.ko"
fi

case $FORMAT in
# ---- ELF ------------------------------------------------------------------------
elf)
	size=$(stat -c %s "$DUMP")
	phoff=$(get_u "$DUMP" 8 32)
	phnum=$(get_u "$DUMP" 2 56)
	# the PT_NOTE and the first PT_LOAD program headers
	note_ph= load_ph=
	for ((i = 0; i < phnum && i < 64; i++)); do
		t=$(get_u "$DUMP" 4 $((phoff + 56 * i)))
		[ "$t" = 4 ] && [ -z "$note_ph" ] && note_ph=$((phoff + 56 * i))
		[ "$t" = 1 ] && [ -z "$load_ph" ] && load_ph=$((phoff + 56 * i))
	done
	note_off=$(get_u "$DUMP" 8 $((note_ph + 8)))
	note_len=$(get_u "$DUMP" 8 $((note_ph + 32)))
	data_off=$(get_u "$DUMP" 8 $((load_ph + 8)))
	for n in 0 32 100 $((phoff + 20)) $((note_off + note_len / 2)) $data_off; do
		head -c "$n" "$DUMP" > "$TMP/trunc"
		run "truncated at $n (headers)" refuse "$VMLINUX" "$TMP/trunc"
	done
	head -c $((16 << 20)) "$DUMP" > "$TMP/trunc"
	run "truncated at 16 MB (page data)" survive "$VMLINUX" "$TMP/trunc"
	rm -f "$TMP/trunc"
	# Sparse copy: real headers and notes, a hole for the page data.
	f=$TMP/sparse.elf
	head -c $(( (data_off + 4095) / 4096 * 4096 )) "$DUMP" > "$f"
	truncate -s "$size" "$f"
	patch "ident: ELF32" refuse "$f" 4 1 put_u "$f" 1 4 1
	patch "ident: big-endian" refuse "$f" 5 1 put_u "$f" 1 5 2
	patch "e_type ET_EXEC" refuse "$f" 16 2 put_u "$f" 2 16 2
	patch "e_machine aarch64" refuse "$f" 18 2 put_u "$f" 2 18 183
	patch "e_phoff past EOF" refuse "$f" 32 8 put_u "$f" 8 32 $((size * 4))
	patch "e_phoff huge" refuse "$f" 32 8 put_u "$f" 8 32 0x7ffffffffffffff0
	patch "e_phentsize 1" refuse "$f" 54 2 put_u "$f" 2 54 1
	patch "e_phnum 0" refuse "$f" 56 2 put_u "$f" 2 56 0
	patch "e_phnum 0xffff" survive "$f" 56 2 put_u "$f" 2 56 0xffff
	patch "PT_NOTE offset past EOF" refuse "$f" $((note_ph + 8)) 8 put_u "$f" 8 $((note_ph + 8)) $((size * 2))
	patch "PT_NOTE size huge" refuse "$f" $((note_ph + 32)) 8 put_u "$f" 8 $((note_ph + 32)) 0x7fffffffffff0000
	patch "PT_NOTE size 3" refuse "$f" $((note_ph + 32)) 8 put_u "$f" 8 $((note_ph + 32)) 3
	patch "note namesz huge" survive "$f" "$note_off" 4 put_u "$f" 4 "$note_off" 0xfffffff0
	patch "note descsz huge" survive "$f" $((note_off + 4)) 4 put_u "$f" 4 $((note_off + 4)) 0xfffffff0
	patch "notes all 0xff" survive "$f" "$note_off" "$note_len" fill "$f" "$note_off" "$note_len" 377
	patch "notes all zero" survive "$f" "$note_off" "$note_len" fill "$f" "$note_off" "$note_len" 0
	patch "PT_LOAD offset past EOF" survive "$f" $((load_ph + 8)) 8 put_u "$f" 8 $((load_ph + 8)) $((size * 2))
	patch "PT_LOAD filesz huge" survive "$f" $((load_ph + 32)) 8 put_u "$f" 8 $((load_ph + 32)) 0x7fffffffffff0000
	patch "PT_LOAD paddr near 2^64" survive "$f" $((load_ph + 24)) 8 put_u "$f" 8 $((load_ph + 24)) 0xfffffffffffff000
	# VMCOREINFO values: garbage numbers must not be trusted blindly
	for key in PAGESIZE= KERNELOFFSET= 'SYMBOL(swapper_pg_dir)=' 'NUMBER(pgtable_l5_enabled)=' 'SIZE(list_head)=' OSRELEASE=; do
		o=$(grep -abo -m1 -F "$key" "$f" | head -1 | cut -d: -f1)
		[ -n "$o" ] || continue
		o=$((o + ${#key}))
		patch "VMCOREINFO $key garbage" survive "$f" "$o" 4 eval 'printf "zz9\n" | dd of="$f" bs=64k seek="$o" oflag=seek_bytes conv=notrunc status=none'
	done
	rm -f "$f"
	;;
# ---- kdump-compressed ----------------------------------------------------------
kdump|kdump-*)
	f=$TMP/copy.kdump
	cp --sparse=always "$DUMP" "$f"
	size=$(stat -c %s "$f")
	bs=$(get_u "$f" 4 428)
	subblocks=$(get_u "$f" 4 432)
	bmblocks=$(get_u "$f" 4 436)
	bm_off=$(( (1 + subblocks) * bs ))
	bm_len=$(( bmblocks * bs / 2 ))          # one bitmap
	desc_off=$(( bm_off + 2 * bm_len ))
	# number of dumped pages, and the pfn of the middle one (bitmap 2)
	read -r npages midpfn < <(od -An -v -t u1 -j $((bm_off + bm_len)) -N "$bm_len" "$f" | awk '
		BEGIN { for (i = 0; i < 256; i++) { c = 0; for (b = i; b; b = int(b / 2)) c += b % 2; pc[i] = c } }
		{ for (i = 1; i <= NF; i++) { v[k++] = $i; n += pc[$i] } }
		END {
			want = int(n / 2); seen = 0
			for (j = 0; j < k; j++) {
				if (seen + pc[v[j]] > want) {
					for (b = 0; b < 8; b++) if (int(v[j] / 2 ^ b) % 2) { if (seen == want) break; seen++ }
					print n, j * 8 + b; exit
				}
				seen += pc[v[j]]
			}
		}')
	data_off=$(( desc_off + npages * 24 ))
	mid_desc=$(( desc_off + (npages / 2) * 24 ))
	echo "# block_size $bs sub-header blocks $subblocks bitmap blocks $bmblocks pages $npages middle pfn $midpfn"
	for n in 0 100 "$bs" $((bs + bs / 2)) $((bm_off + bm_len + 100)) $((desc_off + 12)); do
		head -c "$n" "$f" > "$TMP/trunc"
		run "truncated at $n (headers, bitmap)" refuse "$VMLINUX" "$TMP/trunc"
	done
	for n in $((desc_off + npages * 12)) $(( (data_off + size) / 2 )) $((size - 100)); do
		head -c "$n" "$f" > "$TMP/trunc"
		run "truncated at $n (descriptors, page data)" survive "$VMLINUX" "$TMP/trunc"
	done
	rm -f "$TMP/trunc"
	# flagged incomplete (the writer ran out of space) and cut in the page
	# data: usable, the missing pages are read errors
	head -c $(( data_off + (size - data_off) / 20 * 19 )) "$f" > "$TMP/trunc"
	st=$(get_u "$f" 4 424)
	put_u "$TMP/trunc" 4 424 $((st | 8))
	run "incomplete flag, cut in the page data" survive "$VMLINUX" "$TMP/trunc" "sys
rd -p $(printf '0x%x' $(( (size / bs) * bs * 64 ))) 4
bt -a
ps"
	grep -q RELEASE "$TMP/out" && ok "robust $FORMAT: incomplete dump: sys works" ||
		not_ok "robust $FORMAT: incomplete dump: sys works" "RELEASE" "$(head -c 300 "$TMP/err")"
	rm -f "$TMP/trunc"
	# A dump of another build of the kernel (its VMCOREINFO BUILD-ID differs):
	# refused with one line, unless --force.
	o=$(grep -abo -m1 -F "BUILD-ID=" "$f" | head -1 | cut -d: -f1)
	if [ -n "$o" ]; then
		save "$f" $((o + 9)) 4
		printf '0000' | dd of="$f" bs=64k seek=$((o + 9)) oflag=seek_bytes conv=notrunc status=none
		run "wrong vmlinux (BUILD-ID differs)" refuse "$VMLINUX" "$f"
		grep -q 'match' "$TMP/err" && ok "robust $FORMAT: wrong vmlinux: says it does not match" ||
			not_ok "robust $FORMAT: wrong vmlinux: says it does not match" "... does not match ..." "$(cat "$TMP/err")"
		run "wrong vmlinux with --force" survive "--force $VMLINUX" "$f"
		restore "$f"
	fi
	patch "signature" refuse "$f" 0 8 put_u "$f" 1 0 0x58
	patch "header_version huge" survive "$f" 8 4 put_u "$f" 4 8 0xffffffff
	# utsname.machine (the 5th of 65-byte fields after the version)
	patch "machine aarch64" refuse "$f" $((12 + 4 * 65)) 8 eval 'printf "aarch64\0" | dd of="$f" bs=64k seek=$((12 + 4 * 65)) oflag=seek_bytes conv=notrunc status=none'
	patch "status: every compression bit" survive "$f" 424 4 put_u "$f" 4 424 0xffffffff
	patch "block_size 0" refuse "$f" 428 4 put_u "$f" 4 428 0
	patch "block_size 1" refuse "$f" 428 4 put_u "$f" 4 428 1
	patch "block_size 4095" refuse "$f" 428 4 put_u "$f" 4 428 4095
	patch "block_size 2^31-1" refuse "$f" 428 4 put_u "$f" 4 428 0x7fffffff
	patch "block_size -4096" refuse "$f" 428 4 put_u "$f" 4 428 0xfffff000
	patch "sub_hdr_size 0" survive "$f" 432 4 put_u "$f" 4 432 0
	patch "sub_hdr_size huge" refuse "$f" 432 4 put_u "$f" 4 432 0x7fffffff
	patch "sub_hdr_size negative" refuse "$f" 432 4 put_u "$f" 4 432 0xffffffff
	patch "bitmap_blocks 0" refuse "$f" 436 4 put_u "$f" 4 436 0
	patch "bitmap_blocks 1" survive "$f" 436 4 put_u "$f" 4 436 1
	patch "bitmap_blocks huge" refuse "$f" 436 4 put_u "$f" 4 436 0xffffffff
	patch "max_mapnr 0" survive "$f" 440 4 put_u "$f" 4 440 0
	patch "max_mapnr huge" survive "$f" 440 4 put_u "$f" 4 440 0xffffffff
	patch "nr_cpus huge" survive "$f" 460 4 put_u "$f" 4 460 0x7fffffff
	patch "nr_cpus negative" survive "$f" 460 4 put_u "$f" 4 460 0xffffffff
	patch "sub-header: phys_base garbage" survive "$f" "$bs" 8 put_u "$f" 8 "$bs" 0xdeadbeefdeadbeef
	for o in 32 48; do
		patch "sub-header +$o: note offset past EOF" survive "$f" $((bs + o)) 8 put_u "$f" 8 $((bs + o)) $((size * 3))
		patch "sub-header +$o: note offset negative" survive "$f" $((bs + o)) 8 put_u "$f" 8 $((bs + o)) 0xfffffffffffffff0
		patch "sub-header +$((o + 8)): note size huge" survive "$f" $((bs + o + 8)) 8 put_u "$f" 8 $((bs + o + 8)) 0x7ffffffffffffff0
		patch "sub-header +$((o + 8)): note size 1" survive "$f" $((bs + o + 8)) 8 put_u "$f" 8 $((bs + o + 8)) 1
	done
	patch "sub-header: max_mapnr_64 huge" survive "$f" $((bs + 96)) 8 put_u "$f" 8 $((bs + 96)) 0xffffffffffffffff
	patch "sub-header all 0xff" survive "$f" "$bs" $((subblocks * bs)) fill "$f" "$bs" $((subblocks * bs)) 377
	patch "bitmap 2 all set" survive "$f" $((bm_off + bm_len)) "$bm_len" fill "$f" $((bm_off + bm_len)) "$bm_len" 377
	patch "bitmap 2 all clear" survive "$f" $((bm_off + bm_len)) "$bm_len" fill "$f" $((bm_off + bm_len)) "$bm_len" 0
	patch "bitmap 1 all clear" survive "$f" "$bm_off" "$bm_len" fill "$f" "$bm_off" "$bm_len" 0
	patch "all descriptors 0xff" survive "$f" "$desc_off" $((npages * 24)) fill "$f" "$desc_off" $((npages * 24)) 377
	patch "page data all 0xff (first MB)" survive "$f" "$data_off" 1048576 fill "$f" "$data_off" 1048576 377

	# Damage to one page (the middle one dumped): the dump opens, sys works,
	# and reading that page is one error line naming its address.
	paddr=$(printf '0x%x' $((midpfn * bs)))
	pdoff=$(get_u "$f" 8 "$mid_desc")
	pdsize=$(get_u "$f" 4 $((mid_desc + 8)))
	page_bad() {
		local name=$1
		shift
		save "$f" "$mid_desc" 24
		copy_bytes "$f" "$pdoff" "$pdsize" "$TMP/saved.data" 0
		"$@"
		run "one page: $name" survive "$VMLINUX" "$f" "sys
rd -p $paddr 4"
		if grep -q 'RELEASE' "$TMP/out" && [ $rc = 1 ] && [ "$(wc -l < "$TMP/err")" = 1 ] &&
		   grep -qi "${paddr#0x}" "$TMP/err"; then
			ok "robust $FORMAT: one page: $name: sys works, rd -p $paddr is one error naming it"
		else
			not_ok "robust $FORMAT: one page: $name: sys works, rd -p $paddr is one error naming it" \
				"RELEASE in output, exit 1, one line with ${paddr#0x}" "exit $rc: $(head -c 300 "$TMP/err")"
		fi
		restore "$f"
		copy_bytes "$TMP/saved.data" 0 "$pdsize" "$f" "$pdoff"
	}
	page_bad "descriptor offset past EOF" put_u "$f" 8 "$mid_desc" $((size * 2))
	page_bad "descriptor offset negative" put_u "$f" 8 "$mid_desc" 0xfffffffffffff000
	page_bad "descriptor size 0" put_u "$f" 4 $((mid_desc + 8)) 0
	page_bad "descriptor size huge" put_u "$f" 4 $((mid_desc + 8)) 0xfffffff0
	page_bad "descriptor flags unknown" eval 'put_u "$f" 4 $((mid_desc + 12)) 0x80; put_u "$f" 4 $((mid_desc + 8)) 64'
	page_bad "compressed data garbage" eval 'put_u "$f" 4 $((mid_desc + 12)) $(( $(get_u "$f" 4 $((mid_desc + 12))) | 1 )); put_u "$f" 4 $((mid_desc + 8)) 64; fill "$f" "$pdoff" 64 377'

	# Garbage objects: the pages of a kernel object replaced (through a new
	# descriptor pointing at an uncompressed page appended to the file) by
	# all-ones, zeroes, or words that all point back into the page (every
	# list through it loops on itself).  Every walker must stop and say so.
	pob=$(gt_value "$FIXDIR" fixture page_offset_base)
	pbase=$(gt_value "$FIXDIR" fixture phys_base)
	holder=$(gt_value "$FIXDIR" fixture holder_task)
	hpid=$(gt_value "$FIXDIR" fixture holder_pid)
	ksym() { awk -v n="$1" '$1 == "kallsyms" && $4 == n && NF == 4 { print "0x" $2; exit }' "$GT"; }
	# pfn of a kernel virtual address: the direct map, else the kernel image
	# (x86_64: __START_KERNEL_map + phys_base)
	pfn_of() {
		local v=$(( $1 & ~(bs - 1) ))
		if [ $(( v - pob )) -ge 0 ] 2>/dev/null && [ $(( (v - pob) >> 46 )) = 0 ]; then
			echo $(( (v - pob) / bs ))
		else
			echo $(( ((v - 0xffffffff80000000 + pbase) & 0xffffffffffff) / bs ))
		fi
	}
	# descriptor index of each pfn: set bits of bitmap 2 below it (-1: not dumped)
	desc_idx() {
		od -An -v -t u1 -j $((bm_off + bm_len)) -N "$bm_len" "$f" | awk -v want="$*" '
			BEGIN { nw = split(want, w, " "); for (i = 0; i < 256; i++) { c = 0; for (b = i; b; b = int(b / 2)) c += b % 2; pc[i] = c } }
			{ for (i = 1; i <= NF; i++) v[k++] = $i }
			END {
				for (j = 1; j <= nw; j++) {
					p = w[j]; byte = int(p / 8); n = 0
					if (byte >= k) { printf "-1 "; continue }
					for (q = 0; q < byte; q++) n += pc[v[q]]
					for (b = 0; b < p % 8; b++) if (int(v[byte] / 2 ^ b) % 2) n++
					printf "%d ", (int(v[byte] / 2 ^ (p % 8)) % 2) ? n : -1
				}
			}'
	}
	ones() { head -c "$bs" /dev/zero | tr '\0' '\377'; }
	zeroes() { head -c "$bs" /dev/zero; }
	# word i of the page at V = V + 8 * i - 64: each pointer points 64
	# bytes before itself
	selfptr() {
		local i v b hex=
		for ((i = 0; i < bs / 8; i++)); do
			v=$(( $1 + 8 * i - 64 ))
			for ((b = 0; b < 8; b++)); do printf -v hex '%s%02x' "$hex" $(( (v >> (8 * b)) & 255 )); done
		done
		printf '%s' "$hex" | xxd -r -p
	}
	# garbage NAME GENERATOR "VADDR..." COMMANDS: replace the pages at the
	# VADDRs, run COMMANDS.
	garbage() {
		local name=$1 gen=$2 vaddrs=$3 cmds=$4 v p idx page
		cp --sparse=always "$f" "$TMP/garbage.kdump"
		for v in $vaddrs; do
			v=$(( v & ~(bs - 1) ))
			p=$(pfn_of "$v")
			idx=$(desc_idx "$p")
			[ "${idx% }" -ge 0 ] 2>/dev/null || continue
			page=$(stat -c %s "$TMP/garbage.kdump")
			$gen "$v" | head -c "$bs" >> "$TMP/garbage.kdump"
			put_u "$TMP/garbage.kdump" 8 $((desc_off + idx * 24)) "$page"
			put_u "$TMP/garbage.kdump" 4 $((desc_off + idx * 24 + 8)) "$bs"
			put_u "$TMP/garbage.kdump" 4 $((desc_off + idx * 24 + 12)) 0
		done
		run "garbage $name ($gen)" survive "$VMLINUX" "$TMP/garbage.kdump" "$cmds"
		if [ -n "${KDX_KEEP_TMP:-}" ]; then cp "$TMP/garbage.kdump" "$TMP/garbage-${name// /_}-$gen.kdump"; fi
		rm -f "$TMP/garbage.kdump"
	}
	gens="ones zeroes"
	command -v xxd >/dev/null && gens="$gens selfptr"
	if [ -n "$pob" ] && [ -n "$holder" ]; then
		for g in $gens; do
			garbage "task_struct" $g "$holder $((holder + bs)) $((holder + 2 * bs)) $((holder + 3 * bs))" "sys
ps
ps -a
bt $hpid
bt $holder
files $hpid
vm $hpid
task $hpid
foreach bt
foreach files
foreach vm
bt -a
kmem -s task_struct
kmem $holder
struct task_struct $holder
probe -e 'global n; probe task { n++ } probe task.frame { n++ } probe end { println(n) }'
log"
		done
	fi
	it=$(ksym init_task) prb=$(ksym prb) mods=$(ksym modules)
	cache=$(gt_value "$FIXDIR" fixture cache)
	first=$(gt_value "$FIXDIR" fixture first)
	loop1=$(gt_value "$FIXDIR" fixture loop_item_1)
	if [ -n "$pob" ] && [ -n "$pbase" ] && [ -n "$it" ]; then
		for g in ones selfptr; do
			[ $g = selfptr ] && ! command -v xxd >/dev/null && continue
			garbage "init_task" $g "$it $((it + bs)) $((it + 2 * bs))" "sys
ps
bt -a
foreach bt
set 1"
			[ -n "$prb" ] && [ -n "$mods" ] && garbage "printk buffer and module list" $g "$prb $mods" "log
log -m
mod
sym -m kdx_fixture
mod -s kdx_fixture $FIXDIR/kdx_fixture.ko
sys"
			[ -n "$cache" ] && [ -n "$first" ] && garbage "slab cache and list items" $g "$cache $first $loop1" "mod -s kdx_fixture $FIXDIR/kdx_fixture.ko
kmem -s
kmem -s kdx_fixture_item
kmem -S kdx_fixture_item
kmem $first
list -H kdx_fixture_list -o kdx_fixture_item.link -s kdx_fixture_item.value
list -H kdx_fixture_loop -o kdx_fixture_item.link
probe -e 'global n; probe list(\"kdx_fixture_list\", \"struct kdx_fixture_item\", \"link\") { n++ } probe end { println(n) }'"
		done
	fi
	rm -f "$f"
	;;
# ---- makedumpfile flattened --------------------------------------------------
flat|flat-*)
	f=$TMP/copy.flat
	cp --sparse=always "$DUMP" "$f"
	size=$(stat -c %s "$f")
	be() { od -An -v -t x1 -j "$2" -N 8 "$1" | tr -d ' \n' | sed 's/^/0x/'; }
	r1=4096
	r1size=$(( $(be "$f" $((r1 + 8))) ))
	r2=$(( r1 + 16 + r1size ))
	echo "# first records at $r1 (size $r1size) and $r2"
	for n in 0 100 4096 $((r1 + 8)) $((r1 + 16 + r1size / 2)) $((r2 + 16 + 10)); do
		head -c "$n" "$f" > "$TMP/trunc"
		run "truncated at $n (header, first records)" refuse "$VMLINUX" "$TMP/trunc"
	done
	for n in $((size / 2)) $((size - 8)); do
		head -c "$n" "$f" > "$TMP/trunc"
		run "truncated at $n (page data, end marker)" survive "$VMLINUX" "$TMP/trunc"
	done
	rm -f "$TMP/trunc"
	patch "signature" refuse "$f" 0 1 put_u "$f" 1 0 0x4e
	patch "type/version garbage" survive "$f" 16 16 fill "$f" 16 16 377
	patch "record size huge" refuse "$f" $((r1 + 8)) 8 put_be "$f" $((r1 + 8)) 0x7ffffffffffffff0
	patch "record size negative" refuse "$f" $((r1 + 8)) 8 put_be "$f" $((r1 + 8)) -16
	patch "record size 0" refuse "$f" $((r1 + 8)) 8 put_be "$f" $((r1 + 8)) 0
	patch "record offset negative" refuse "$f" "$r1" 8 put_be "$f" "$r1" -4096
	patch "record offset huge" refuse "$f" "$r1" 8 put_be "$f" "$r1" 0x7ffffffffffff000
	patch "second record size huge" survive "$f" $((r2 + 8)) 8 put_be "$f" $((r2 + 8)) 0x7ffffffffffffff0
	patch "second record size odd" survive "$f" $((r2 + 8)) 8 put_be "$f" $((r2 + 8)) 7
	patch "second record offset huge" survive "$f" "$r2" 8 put_be "$f" "$r2" 0x7ffffffffffff000
	patch "end marker only" refuse "$f" "$r1" 16 fill "$f" "$r1" 16 377
	rm -f "$f"

	# The record index cache: damaged, it is ignored (and rebuilt).
	mkdir -p "$KDX_CACHE_DIR"
	run "index cache: built" survive "$VMLINUX" "$DUMP" sys
	idx=$(ls "$KDX_CACHE_DIR"/flat-* 2>/dev/null | head -1)
	if [ -n "$idx" ]; then
		cp "$idx" "$TMP/idx.orig"
		isize=$(stat -c %s "$idx")
		cache_case() {   # NAME PATCH-COMMAND...
			local name=$1
			shift
			cp "$TMP/idx.orig" "$idx"
			"$@"
			run "index cache: $name" survive "$VMLINUX" "$DUMP" "sys
ps"
			if ! grep -q RELEASE "$TMP/out"; then
				not_ok "robust $FORMAT: index cache: $name: sys still works" "RELEASE" "$(head -3 "$TMP/out")"
			fi
		}
		cache_case "truncated to 40" truncate -s 40 "$idx"
		cache_case "truncated mid-pieces" truncate -s $((isize / 2)) "$idx"
		cache_case "npieces huge" put_u "$idx" 8 48 0xffffffff
		cache_case "pieces all 0xff" fill "$idx" 72 $((isize - 72)) 377
		cache_case "logical end zero" put_u "$idx" 8 56 0
	fi
	;;
esac

echo "# t-robust.sh done"
exit 0
