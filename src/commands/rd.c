/*
 * rd: display memory, in crash's layout.
 *
 *   ffffffff82000040:  0000000000000001 ffffffff8200a000   ................
 *
 * 16 bytes per line; words of 8/16/32/64 bits; an ASCII column unless -x,
 * -s, -d or -D; -s shows words that point into kernel symbols as
 * "name+off"; -a prints a string; -p reads physical memory, -u user memory
 * of the context task.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/command.h"
#include "kernel/tasks.h"
#include "symbols/symbols.h"
#include "symbols/types.h"
#include "symbols/value.h"
#include "targets/mem.h"
#include "util.h"

extern const struct kdx_command kdx_cmd_rd;

enum space { SPACE_KV, SPACE_PHYS, SPACE_USER };

struct rd {
	struct kdx_session *s;
	enum space space;
	uint64_t user_pgd;      /* physical address of the context task's pgd (-u) */
};

static const char *space_name(enum space sp)
{
	return sp == SPACE_PHYS ? "physical address" : sp == SPACE_USER ? "user address" : "address";
}

static struct kdx_error *rd_read(struct rd *r, uint64_t addr, void *buf, size_t len)
{
	struct kdx_error *err;

	switch (r->space) {
	case SPACE_PHYS:
		err = kdx_read_phys(r->s, addr, buf, len);
		break;
	case SPACE_USER:
		err = kdx_mem_read_pgd(r->s->mem, r->user_pgd, addr, buf, len);
		break;
	default:
		err = kdx_read(r->s, addr, buf, len);
	}
	if (err) {
		struct kdx_error *e = kdx_error_fault(addr, "cannot read %zu bytes at %s 0x%llx: %s", len,
						      space_name(r->space), (unsigned long long)addr,
						      err->message);
		kdx_error_destroy(err);
		return e;
	}
	return NULL;
}

/* -u: the context task's page tables. */
static struct kdx_error *setup_user(struct rd *r)
{
	const struct kdx_task *t = kdx_task_current(r->s);
	uint64_t off, pgd;
	struct kdx_error *err;

	if (!t)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "no context task for a user address (set PID)");
	if (!t->mm)
		return kdx_error_create(KDX_ERR_INVALID, "PID %d (%s) is a kernel thread: it has no user address space",
					t->pid, t->comm);
	if ((err = kdx_member_offset(r->s, "mm_struct", "pgd", &off)))
		return err;
	if ((err = kdx_read_u64(r->s, t->mm + off, &pgd)))
		return kdx_error_prefix(err, "reading mm_struct.pgd of PID %d", t->pid);
	if ((err = kdx_mem_kvtop(r->s->mem, pgd, &r->user_pgd)))
		return kdx_error_prefix(err, "translating the pgd of PID %d", t->pid);
	return NULL;
}

static int is_identifier(const char *text)
{
	if (!isalpha((unsigned char)*text) && *text != '_')
		return 0;
	for (const char *p = text; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.')
			return 0;
	return 1;
}

/* crash's address argument: a symbol is its address; a hex number; else a
 * C expression (an object in memory gives its address). */
static struct kdx_error *resolve_address(struct kdx_session *s, const char *arg, int symbols_ok,
					 uint64_t *addr)
{
	struct kdx_error *err;

	if (symbols_ok && is_identifier(arg)) {
		struct kdx_type *t;
		unsigned flags;
		if (s->types) {
			err = kdx_variable_lookup(s, arg, &t, addr, &flags);
			if (!err && !(flags & KDX_VAR_PERCPU))
				return NULL;
			kdx_error_destroy(err);
		}
		const struct kdx_symbol *sym = kdx_symbol_by_name(s->symtab, arg, NULL);
		if (sym) {
			*addr = sym->addr;
			return NULL;
		}
	}
	return kdx_eval_address(s, arg, -1, addr);
}

/* "schedule+20" for a word pointing into a kernel symbol, else NULL. */
static const char *word_symbol(struct kdx_session *s, uint64_t w, char *buf, size_t len)
{
	uint64_t off;
	const struct kdx_symbol *sym;

	if (w < 0xffffffff80000000ULL)
		return NULL;    /* kernel image and modules only, as crash */
	sym = kdx_symbol_by_addr(s->symtab, w, &off);
	if (!sym || (off && !(sym->size && off < sym->size)))
		return NULL;
	if (off)
		snprintf(buf, len, "%s+%llu", sym->name, (unsigned long long)off);
	else
		snprintf(buf, len, "%s", sym->name);
	return buf;
}

static struct kdx_error *display_string(struct rd *r, uint64_t addr, uint64_t maxlen)
{
	struct kdx_session *s = r->s;
	char line[64];
	size_t n = 0;
	uint64_t line_addr = addr;
	unsigned char c;

	unsigned char chunk[4096];
	uint64_t chunk_start = 0, chunk_len = 0;

	for (uint64_t i = 0; i < maxlen; i++) {
		if (i >= chunk_start + chunk_len) {
			/* read up to the end of the page: one read per page, and a
			 * string that ends before an unreadable page still prints */
			uint64_t a = addr + i;
			uint64_t len = 4096 - (a & 4095);
			if (len > maxlen - i)
				len = maxlen - i;
			struct kdx_error *err = rd_read(r, a, chunk, len);
			if (err) {
				if (n)
					fprintf(s->out, "%016llx:  %.*s\n", (unsigned long long)line_addr, (int)n, line);
				return err;
			}
			chunk_start = i;
			chunk_len = len;
		}
		c = chunk[i - chunk_start];
		if (c == 0)
			break;
		if (c == '\n' || n == 60) {
			fprintf(s->out, "%016llx:  %.*s\n", (unsigned long long)line_addr, (int)n, line);
			n = 0;
			line_addr = addr + i + (c == '\n');
			if (c == '\n')
				continue;
		}
		line[n++] = isprint(c) ? (char)c : '.';
	}
	if (n)
		fprintf(s->out, "%016llx:  %.*s\n", (unsigned long long)line_addr, (int)n, line);
	return NULL;
}

static struct kdx_error *display(struct rd *r, uint64_t addr, uint64_t count, int size,
				 int ascii, int symbols, int decimal)
{
	struct kdx_session *s = r->s;
	int per_line = 16 / size;
	uint64_t total = count * size;
	unsigned char buf[16];
	int width = decimal == 1 ? (size == 8 ? 20 : size == 4 ? 11 : size == 2 ? 6 : 4)
		  : decimal == 2 ? (size == 8 ? 20 : size == 4 ? 10 : size == 2 ? 5 : 3) : size * 2;
	if (symbols && size == 8)
		width = 16;

	for (uint64_t done = 0; done < total; done += 16) {
		uint64_t la = addr + done;
		size_t n = total - done < 16 ? total - done : 16;
		struct kdx_error *err;

		if (kdx_interrupted(s))
			return kdx_error_create(KDX_ERR_INTERRUPTED, "interrupted");
		if ((err = rd_read(r, la, buf, n)))
			return err;
		fprintf(s->out, "%016llx:  ", (unsigned long long)la);
		int words = n / size;
		for (int w = 0; w < per_line; w++) {
			if (w >= words) {
				if (ascii)
					fprintf(s->out, "%*s ", width, "");
				continue;
			}
			uint64_t v = 0;
			memcpy(&v, buf + w * size, size);
			const char *sep = w + 1 < words || ascii ? " " : "";
			char sbuf[256];
			const char *sym = symbols && size == 8 ? word_symbol(s, v, sbuf, sizeof(sbuf)) : NULL;
			if (sym) {
				fprintf(s->out, "%-*s%s", width, sym, sep);
			} else if (decimal == 1) {
				int64_t sv = size == 8 ? (int64_t)v : size == 4 ? (int32_t)v :
					     size == 2 ? (int16_t)v : (int8_t)v;
				fprintf(s->out, "%*lld%s", width, (long long)sv, sep);
			} else if (decimal == 2) {
				fprintf(s->out, "%*llu%s", width, (unsigned long long)v, sep);
			} else {
				fprintf(s->out, "%0*llx%s", width, (unsigned long long)v, sep);
			}
		}
		if (ascii) {
			fputs("  ", s->out);
			for (size_t i = 0; i < n; i++)
				fputc(isprint(buf[i]) ? buf[i] : '.', s->out);
		}
		fputc('\n', s->out);
	}
	return NULL;
}

static struct kdx_error *cmd_rd(struct kdx_session *s, int argc, char **argv)
{
	struct rd r = { .s = s, .space = SPACE_KV };
	int size = 8, ascii = 1, symbols = 0, decimal = 0, string = 0, have_count = 0;
	uint64_t count = 1;
	const char *addr_arg = NULL, *end_arg = NULL;
	uint64_t offset = 0;
	struct kdx_error *err;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-8")) size = 1;
		else if (!strcmp(a, "-16")) size = 2;
		else if (!strcmp(a, "-32")) size = 4;
		else if (!strcmp(a, "-64")) size = 8;
		else if (!strcmp(a, "-s")) symbols = 1, ascii = 0, size = 8;
		else if (!strcmp(a, "-a")) string = 1;
		else if (!strcmp(a, "-p")) r.space = SPACE_PHYS;
		else if (!strcmp(a, "-u")) r.space = SPACE_USER;
		else if (!strcmp(a, "-x")) ascii = 0;
		else if (!strcmp(a, "-d")) decimal = 1, ascii = 0;
		else if (!strcmp(a, "-D")) decimal = 2, ascii = 0;
		else if (!strcmp(a, "-e") || !strcmp(a, "-o")) {
			if (i + 1 >= argc)
				return kdx_command_usage(&kdx_cmd_rd);
			if (a[1] == 'e')
				end_arg = argv[++i];
			else if ((err = kdx_parse_u64(argv[++i], 0, &offset)))
				return kdx_error_prefix(err, "rd -o");
		}
		else if (a[0] == '-' && a[1] && !isdigit((unsigned char)a[1]))
			return kdx_error_create(KDX_ERR_SYNTAX, "rd: unknown option %s (usage: %s)", a,
						kdx_cmd_rd.usage);
		else if (!addr_arg)
			addr_arg = a;
		else if (!have_count) {
			err = kdx_parse_u64(a, 0, &count);
			if (err)
				return kdx_error_prefix(err, "rd: count");
			have_count = 1;
		} else {
			return kdx_command_usage(&kdx_cmd_rd);
		}
	}
	if (!addr_arg)
		return kdx_command_usage(&kdx_cmd_rd);
	if (count == 0 || count > (64u << 20))
		return kdx_error_create(KDX_ERR_INVALID, "rd: count must be between 1 and %u", 64u << 20);
	if (r.space == SPACE_USER && (err = setup_user(&r)))
		return kdx_error_prefix(err, "rd -u");
	uint64_t addr;
	if ((err = resolve_address(s, addr_arg, r.space == SPACE_KV, &addr)))
		return kdx_error_prefix(err, "rd");
	addr += offset;
	if (end_arg) {
		/* -e END: display up to (not including) END */
		uint64_t end;
		if ((err = resolve_address(s, end_arg, r.space == SPACE_KV, &end)))
			return kdx_error_prefix(err, "rd -e");
		if (end <= addr)
			return kdx_error_create(KDX_ERR_INVALID, "rd: -e %llx is not above the start %llx",
						(unsigned long long)end, (unsigned long long)addr);
		count = (end - addr + (string ? 1 : size) - 1) / (string ? 1 : size);
		if (count > (64u << 20))
			return kdx_error_create(KDX_ERR_INVALID, "rd: -e range too large");
		have_count = 1;
	}
	if (string)
		err = display_string(&r, addr, have_count ? count : 4096);
	else
		err = display(&r, addr, count, size, ascii, symbols, decimal);
	return err ? kdx_error_prefix(err, "rd") : NULL;
}

const struct kdx_command kdx_cmd_rd = {
	.name = "rd",
	.usage = "rd [-8|-16|-32|-64] [-s|-a|-x|-d|-D] [-p|-u] [-o OFFSET] ADDR|SYMBOL|EXPR [COUNT | -e END]",
	.summary = "display memory",
	.help =
"  Display COUNT (default 1) units of memory starting at ADDR, 16 bytes per line:\n"
"    ffffffff82000040:  0000000000000001 ffffffff8200a000   ................\n"
"  ADDR  a hex number, a symbol (its address), or a C expression (an object\n"
"        in memory gives its address, a pointer its value).\n"
"  -8 -16 -32 -64   unit size in bits (default 64)\n"
"  -s    show 64-bit words pointing into kernel/module symbols as name+offset\n"
"  -a    print the NUL-terminated string at ADDR (COUNT: at most that many bytes)\n"
"  -x    no ASCII column;  -d signed decimal;  -D unsigned decimal\n"
"  -o OFFSET  start at ADDR + OFFSET;  -e END  display up to END (instead of COUNT)\n"
"  -p    ADDR is physical;  -u ADDR is a user address of the context task (set PID)\n"
"  A read that fails stops the display with one line naming the address.\n",
	.run = cmd_rd,
};
