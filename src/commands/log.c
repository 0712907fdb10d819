#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands/command.h"
#include "kernel/printk.h"
#include "kernel/sysinfo.h"

enum {
	LOG_NO_TIME = 1,    /* -t */
	LOG_CTIME = 2,      /* -T */
	LOG_LEVEL = 4,      /* -m */
	LOG_CALLER = 8,     /* -c */
	LOG_DICT = 16,      /* -d */
};

struct log_ctx {
	unsigned flags;
	int64_t boot;
};

static int print_record(struct kdx_session *s, const struct kdx_printk_record *r, void *arg)
{
	struct log_ctx *lc = arg;
	char prefix[128];
	int n = 0;

	prefix[0] = 0;
	if (!(lc->flags & LOG_NO_TIME)) {
		uint64_t sec = r->ts_nsec / 1000000000ull, rem = r->ts_nsec % 1000000000ull;
		if (lc->flags & LOG_CTIME) {
			char date[64];
			n += snprintf(prefix + n, sizeof(prefix) - n, "[%s] ",
				      kdx_format_date(lc->boot + (int64_t)sec, date, sizeof(date)));
		} else {
			n += snprintf(prefix + n, sizeof(prefix) - n, "[%5llu.%06llu] ",
				      (unsigned long long)sec, (unsigned long long)(rem / 1000));
		}
	}
	if (lc->flags & LOG_CALLER) {
		char id[16];
		snprintf(id, sizeof(id), "%c%u", r->caller_id & 0x80000000u ? 'C' : 'T',
			 r->caller_id & 0x7fffffffu);
		n += snprintf(prefix + n, sizeof(prefix) - n, "[%6s] ", id);
	}
	if (lc->flags & LOG_LEVEL)
		n += snprintf(prefix + n, sizeof(prefix) - n, "<%d>", r->level);
	fputs(prefix, s->out);
	/* Embedded newlines: continuation lines indented under the text, as
	 * crash does. Unprintable bytes show as '.'. */
	for (size_t i = 0; i < r->text_len; i++) {
		unsigned char ch = (unsigned char)r->text[i];
		if (ch == '\n')
			fprintf(s->out, "\n%*s", n, "");
		else if (isprint(ch) || isspace(ch))
			fputc(ch, s->out);
		else
			fputc('.', s->out);
	}
	if ((lc->flags & LOG_DICT) && r->subsystem[0])
		fprintf(s->out, "\n%*sSUBSYSTEM=%s", n, "", r->subsystem);
	if ((lc->flags & LOG_DICT) && r->device[0])
		fprintf(s->out, "\n%*sDEVICE=%s", n, "", r->device);
	fputc('\n', s->out);
	return 0;
}

static struct kdx_error *cmd_log(struct kdx_session *s, int argc, char **argv)
{
	struct log_ctx lc = { 0 };
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt(argc, argv, "tTmcd")) != -1) {
		switch (c) {
		case 't': lc.flags |= LOG_NO_TIME; break;
		case 'T': lc.flags |= LOG_CTIME; break;
		case 'm': lc.flags |= LOG_LEVEL; break;
		case 'c': lc.flags |= LOG_CALLER; break;
		case 'd': lc.flags |= LOG_DICT; break;
		default:
			return kdx_error_create(KDX_ERR_SYNTAX, "log: unknown option -%c; usage: log [-tTmcd]", optopt);
		}
	}
	if (optind < argc)
		return kdx_error_create(KDX_ERR_SYNTAX, "log: unexpected argument %s; usage: log [-tTmcd]", argv[optind]);
	if (lc.flags & LOG_CTIME) {
		struct kdx_error *err = kdx_boot_time(s, &lc.boot);
		if (err)
			return kdx_error_prefix(err, "log -T");
	}
	return kdx_printk_for_each(s, print_record, &lc);
}

const struct kdx_command kdx_cmd_log = {
	.name = "log",
	.aliases = (const char *const[]){ "dmesg", NULL },
	.usage = "log [-tTmcd]",
	.summary = "the kernel message buffer",
	.help = "  Prints the kernel log (the printk ring buffer) oldest first, each record as\n"
		"  [seconds.microseconds] text, like the console and crash's log.\n"
		"  Continuation lines of a multi-line record are indented under its text.\n"
		"    -t  no timestamps\n"
		"    -T  wall-clock timestamps ([Wed Nov 25 11:40:01 UTC 2026]): boot time + record time\n"
		"    -m  show each record's log level <N> after the timestamp\n"
		"    -c  show the caller: [T<pid>] or [C<cpu>]\n"
		"    -d  show the device of driver messages (SUBSYSTEM=, DEVICE= lines)\n"
		"  Alias: dmesg.\n",
	.run = cmd_log,
};
