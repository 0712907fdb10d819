/* Unit tests of the task helpers that need no dump: crash's state names,
 * the task header line, little-endian field decoding. */
#include <stdio.h>
#include <string.h>

#include "expect.h"
#include "kernel/kread.h"
#include "kernel/tasks.h"

static void expect_u64(const char *name, unsigned long long want, unsigned long long got)
{
	char a[32], b[32];

	snprintf(a, sizeof(a), "%#llx", want);
	snprintf(b, sizeof(b), "%#llx", got);
	expect_str(name, a, b);
}

static const char *state(unsigned long long st, unsigned long long ex)
{
	struct kdx_task t;

	memset(&t, 0, sizeof(t));
	t.state = st;
	t.exit_state = ex;
	return kdx_task_state_name(NULL, &t);
}

int main(void)
{
	/* include/linux/sched.h values */
	expect_str("state RUNNING", "RU", state(0, 0));
	expect_str("state INTERRUPTIBLE", "IN", state(0x1, 0));
	expect_str("state UNINTERRUPTIBLE", "UN", state(0x2, 0));
	expect_str("state KILLABLE (WAKEKILL|UN)", "UN", state(0x102, 0));
	expect_str("state IDLE (UN|NOLOAD)", "ID", state(0x402, 0));
	expect_str("state STOPPED (WAKEKILL|__STOPPED)", "ST", state(0x104, 0));
	expect_str("state TRACED", "TR", state(0x8, 0));
	expect_str("state PARKED", "PA", state(0x40, 0));
	expect_str("state DEAD", "DE", state(0x80, 0));
	expect_str("state NEW", "NE", state(0x800, 0));
	expect_str("state WAKING", "WA", state(0x200, 0));
	expect_str("exit ZOMBIE", "ZO", state(0x80, 0x20));
	expect_str("exit DEAD", "DE", state(0x80, 0x10));

	struct kdx_task t;
	char buf[160];
	memset(&t, 0, sizeof(t));
	t.pid = 22;
	t.cpu = 1;
	t.addr = 0xffff8a53412bc180ull;
	strcpy(t.comm, "kworker/1:0");
	expect_str("task header (crash 8 layout)",
		   "PID: 22       TASK: ffff8a53412bc180  CPU: 1    COMMAND: \"kworker/1:0\"",
		   kdx_task_header(&t, buf, sizeof(buf)));

	unsigned char b[8] = { 0xfe, 0xff, 0xff, 0xff, 0x34, 0x12, 0, 0x80 };
	expect_u64("get_uint 4", 0xfffffffeull, kdx_get_uint(b, 4));
	expect_u64("get_int 4 sign-extends", (unsigned long long)-2LL, (unsigned long long)kdx_get_int(b, 4));
	expect_u64("get_uint 2", 0xfffeull, kdx_get_uint(b, 2));
	expect_u64("get_uint 8", 0x80001234fffffffeull, kdx_get_uint(b, 8));
	expect_u64("get_int 1", (unsigned long long)-2LL, (unsigned long long)kdx_get_int(b, 1));
	struct kdx_kfield f = { .off = 4, .size = 2, .ok = 1 }, none = { 0 };
	expect_u64("kfield", 0x1234, kdx_kfield_u(b, &f));
	expect_u64("absent kfield is 0", 0, kdx_kfield_u(b, &none));
	return expect_failed;
}
