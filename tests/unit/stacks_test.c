/* Unit tests of the stacks area that need no dump: ORC entry decoding for
 * both layouts of struct orc_entry (6.1's type:2 + end:1 and 6.4+'s
 * type:3 + signal:1), file type names. */
#include <stdio.h>
#include <string.h>

#include "expect.h"
#include "kernel/files.h"
#include "kernel/orc.h"

/* Pack an entry: two s16 offsets then a little-endian bit field word. */
static void pack(unsigned char *raw, int sp_off, int bp_off, unsigned bits)
{
	raw[0] = sp_off & 0xff;
	raw[1] = (sp_off >> 8) & 0xff;
	raw[2] = bp_off & 0xff;
	raw[3] = (bp_off >> 8) & 0xff;
	raw[4] = bits & 0xff;
	raw[5] = (bits >> 8) & 0xff;
}

static struct kdx_orc_layout layout(int new_types)
{
	struct kdx_orc_layout l;

	memset(&l, 0, sizeof(l));
	l.size = 6;
	l.sp_offset = (struct kdx_orc_field){ 0, 16, 1, 1 };
	l.bp_offset = (struct kdx_orc_field){ 16, 16, 1, 1 };
	l.sp_reg = (struct kdx_orc_field){ 32, 4, 0, 1 };
	l.bp_reg = (struct kdx_orc_field){ 36, 4, 0, 1 };
	if (new_types) {
		l.type = (struct kdx_orc_field){ 40, 3, 0, 1 };
		l.signal = (struct kdx_orc_field){ 43, 1, 0, 1 };
	} else {
		l.type = (struct kdx_orc_field){ 40, 2, 0, 1 };
		l.end = (struct kdx_orc_field){ 42, 1, 0, 1 };
	}
	l.new_types = new_types;
	return l;
}

int main(void)
{
	unsigned char raw[6];
	struct kdx_orc o;
	struct kdx_orc_layout old = layout(0), nw = layout(1);

	/* 6.1: CALL frame, sp = sp + 16, bp = *(cfa - 16) */
	pack(raw, 16, -16, KDX_ORC_REG_SP | KDX_ORC_REG_PREV_SP << 4 | 0 << 8);
	kdx_orc_decode(&old, raw, &o);
	expect_int("6.1 call: type", KDX_ORC_CALL, o.type);
	expect_int("6.1 call: sp_reg", KDX_ORC_REG_SP, o.sp_reg);
	expect_int("6.1 call: sp_offset", 16, o.sp_offset);
	expect_int("6.1 call: bp_reg", KDX_ORC_REG_PREV_SP, o.bp_reg);
	expect_int("6.1 call: negative bp_offset", -16, o.bp_offset);
	expect_int("6.1 call: not a signal frame", 0, o.signal);
	/* 6.1: REGS and REGS_PARTIAL are signal frames */
	pack(raw, 0, 0, KDX_ORC_REG_SP | 1 << 8);
	kdx_orc_decode(&old, raw, &o);
	expect_int("6.1 regs: type", KDX_ORC_REGS, o.type);
	expect_int("6.1 regs: signal", 1, o.signal);
	pack(raw, 8, 0, KDX_ORC_REG_SP | 2 << 8);
	kdx_orc_decode(&old, raw, &o);
	expect_int("6.1 iret regs: type", KDX_ORC_REGS_PARTIAL, o.type);
	/* 6.1: sp_reg UNDEFINED with end=1 is the end of the stack, else undefined */
	pack(raw, 0, 0, 1 << 10);
	kdx_orc_decode(&old, raw, &o);
	expect_int("6.1 end of stack", KDX_ORC_END_OF_STACK, o.type);
	pack(raw, 0, 0, 0);
	kdx_orc_decode(&old, raw, &o);
	expect_int("6.1 undefined", KDX_ORC_UNDEFINED, o.type);
	/* 6.1: SP_INDIRECT (call_on_stack) */
	pack(raw, 8, 0, KDX_ORC_REG_SP_INDIRECT);
	kdx_orc_decode(&old, raw, &o);
	expect_int("6.1 sp indirect", KDX_ORC_REG_SP_INDIRECT, o.sp_reg);

	/* 6.4+: UNDEFINED=0, END_OF_STACK=1, CALL=2, REGS=3, REGS_PARTIAL=4 */
	pack(raw, 8, 0, KDX_ORC_REG_SP | 2 << 8);
	kdx_orc_decode(&nw, raw, &o);
	expect_int("6.4 call: type", KDX_ORC_CALL, o.type);
	pack(raw, 8, 0, KDX_ORC_REG_SP | 2 << 8 | 1 << 11);
	kdx_orc_decode(&nw, raw, &o);
	expect_int("6.4 call with signal bit", 1, o.signal);
	pack(raw, 0, 0, 1 << 8);
	kdx_orc_decode(&nw, raw, &o);
	expect_int("6.4 end of stack", KDX_ORC_END_OF_STACK, o.type);
	pack(raw, 0, 0, KDX_ORC_REG_SP | 3 << 8);
	kdx_orc_decode(&nw, raw, &o);
	expect_int("6.4 regs", KDX_ORC_REGS, o.type);
	pack(raw, 0, 0, KDX_ORC_REG_SP | 4 << 8);
	kdx_orc_decode(&nw, raw, &o);
	expect_int("6.4 iret regs", KDX_ORC_REGS_PARTIAL, o.type);
	pack(raw, 0, 0, 0);
	kdx_orc_decode(&nw, raw, &o);
	expect_int("6.4 undefined", KDX_ORC_UNDEFINED, o.type);
	pack(raw, -32768, 32767, KDX_ORC_REG_BP | 2 << 8);
	kdx_orc_decode(&nw, raw, &o);
	expect_int("6.4 sp_offset min", -32768, o.sp_offset);
	expect_int("6.4 bp_offset max", 32767, o.bp_offset);
	expect_int("6.4 sp_reg bp", KDX_ORC_REG_BP, o.sp_reg);

	expect_str("mode REG", "REG", kdx_mode_type_name(0100644));
	expect_str("mode DIR", "DIR", kdx_mode_type_name(0040755));
	expect_str("mode CHR", "CHR", kdx_mode_type_name(0020620));
	expect_str("mode BLK", "BLK", kdx_mode_type_name(0060660));
	expect_str("mode FIFO", "FIFO", kdx_mode_type_name(0010600));
	expect_str("mode SOCK", "SOCK", kdx_mode_type_name(0140777));
	expect_str("mode LNK", "LNK", kdx_mode_type_name(0120777));
	expect_str("mode unknown", "?", kdx_mode_type_name(0));
	return expect_failed;
}
