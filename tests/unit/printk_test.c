/* Unit tests of the panic-message scan over synthetic log records. */
#include <stdio.h>
#include <string.h>

#include "kernel/printk.h"

static int failed;

static void run(const char *name, const char *want, const char *const *lines)
{
	struct kdx_panic_scan *p = kdx_panic_scan_new();
	struct kdx_printk_record r;

	for (size_t i = 0; lines[i]; i++) {
		memset(&r, 0, sizeof(r));
		r.seq = i;
		r.text = lines[i];
		r.text_len = strlen(lines[i]);
		kdx_panic_scan_feed(p, &r);
	}
	const char *got = kdx_panic_scan_result(p);
	if (strcmp(got, want)) {
		printf("not ok - %s\n#   expected: %s\n#   got:      %s\n", name, want, got);
		failed = 1;
	} else {
		printf("ok - %s\n", name);
	}
	kdx_panic_scan_free(p);
}

int main(void)
{
	run("sysrq crash", "sysrq: Trigger a crash", (const char *const[]){
		"Linux version 6.1.0", "sysrq: Trigger a crash",
		"Kernel panic - not syncing: sysrq triggered crash",
		"CPU: 1 PID: 265 Comm: sh",
		"---[ end Kernel panic - not syncing: sysrq triggered crash ]---", NULL });
	run("BUG() with panic_on_oops", "kernel BUG at drivers/x.c:140!", (const char *const[]){
		"BUG: workqueue lockup - pool cpus=0", "some noise",
		"------------[ cut here ]------------", "kernel BUG at drivers/x.c:140!",
		"invalid opcode: 0000 [#1] PREEMPT SMP NOPTI", "CPU: 1 PID: 22",
		"Kernel panic - not syncing: Fatal exception",
		"---[ end Kernel panic - not syncing: Fatal exception ]---", NULL });
	run("NULL dereference", "BUG: kernel NULL pointer dereference, address: 0000000000000008",
	    (const char *const[]){
		"BUG: kernel NULL pointer dereference, address: 0000000000000008",
		"#PF: supervisor read access in kernel mode", "#PF: error_code(0x0000) - not-present page",
		"PGD 0 P4D 0 ", "Oops: 0000 [#1] PREEMPT SMP NOPTI",
		"Kernel panic - not syncing: Fatal exception in interrupt", NULL });
	run("GPF", "general protection fault, probably for non-canonical address 0xdead: 0000 [#1] SMP",
	    (const char *const[]){
		"general protection fault, probably for non-canonical address 0xdead: 0000 [#1] SMP",
		"Kernel panic - not syncing: Fatal exception", NULL });
	run("explicit panic", "Kernel panic - not syncing: LBUG", (const char *const[]){
		"LustreError: ASSERTION( x ) failed", "Kernel panic - not syncing: LBUG", NULL });
	run("kdump straight from an oops", "kernel BUG at mm/slub.c:3950!", (const char *const[]){
		"kernel BUG at mm/slub.c:3950!", "invalid opcode: 0000 [#1] SMP", "RIP: 0010:foo+0x1/0x2",
		NULL });
	run("oops that did not panic, then a panic", "Kernel panic - not syncing: softlockup: hung tasks",
	    (const char *const[]){
		"kernel BUG at a.c:1!", "invalid opcode: 0000 [#1] SMP",
		"watchdog: BUG: soft lockup - CPU#0 stuck for 22s!",
		"Kernel panic - not syncing: softlockup: hung tasks", NULL });
	run("no panic at all", "", (const char *const[]){ "Linux version", "all fine", NULL });
	return failed;
}
