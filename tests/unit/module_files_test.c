/* Unit tests of the module file search (kdx_module_file_search, and
 * kdx_module_find_in_dir for `mod -s MODULE DIR`) on a scratch directory
 * tree: "-"/"_" equivalence, .ko.debug, symlinked directories, depth. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "expect.h"
#include "kernel/modules.h"
#include "symbols/module_debuginfo.h"

static char root[] = "/tmp/kdx-modfiles-XXXXXX";

/* WANT is relative to the scratch root, or NULL for no match. */
static void expect_path(const char *name, const char *want, char *got)
{
	char full[512];

	if (want)
		snprintf(full, sizeof(full), "%s/%s", root, want);
	expect_report(want ? got && !strcmp(got, full) : got == NULL, name, want ? full : "(none)",
		      got ? got : "(none)");
	free(got);
}

static void touch(const char *rel)
{
	char path[512], dir[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "mkdir -p \"$(dirname '%s')\"", path);
	if (system(dir) != 0 || !(f = fopen(path, "w"))) {
		printf("not ok - create %s\n", path);
		exit(1);
	}
	fclose(f);
}

static char *at(const char *rel)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s/%s", root, rel);
	return buf;
}

int main(void)
{
	char cmd[600];

	if (!mkdtemp(root)) {
		printf("not ok - mkdtemp\n");
		return 1;
	}
	touch("plain/kernel/drivers/virtio_blk.ko");
	touch("dbg/x/snd-hda.ko.debug");
	touch("real/sub/linked_mod.ko");
	touch("deep/1/2/3/4/5/6/7/8/9/deep_mod.ko");
	touch("ok8/1/2/3/4/5/6/7/8/eight.ko");
	mkdir(at("links"), 0755);
	char target[512];
	snprintf(target, sizeof(target), "%s", at("real"));
	if (symlink(target, at("links/l")) != 0) {
		printf("not ok - symlink\n");
		return 1;
	}

	expect_path("'-' matches '_'", "plain/kernel/drivers/virtio_blk.ko",
		    kdx_module_file_search(at("plain"), "virtio-blk", 0, 12, 0));
	expect_path("'_' matches '-'", "dbg/x/snd-hda.ko.debug",
		    kdx_module_file_search(at("dbg"), "snd_hda", 0, 12, KDX_MODFILE_DEBUG));
	expect_path(".ko.debug only with KDX_MODFILE_DEBUG", NULL,
		    kdx_module_file_search(at("dbg"), "snd_hda", 0, 12, 0));
	expect_path("a prefix is not a match", NULL,
		    kdx_module_file_search(at("plain"), "virtio", 0, 12, 0));
	expect_path("symlinked directory with KDX_MODFILE_FOLLOW_LINKS", "links/l/sub/linked_mod.ko",
		    kdx_module_file_search(at("links"), "linked_mod", 0, 12, KDX_MODFILE_FOLLOW_LINKS));
	expect_path("symlinked directory not entered without it", NULL,
		    kdx_module_file_search(at("links"), "linked_mod", 0, 12, 0));
	expect_path("depth limit", NULL, kdx_module_file_search(at("deep"), "deep_mod", 0, 8, 0));
	expect_path("within the depth limit", "deep/1/2/3/4/5/6/7/8/9/deep_mod.ko",
		    kdx_module_file_search(at("deep"), "deep_mod", 0, 12, 0));
	/* mod -s MODULE DIR: .ko.debug, symlinks, 8 levels */
	expect_path("mod -s DIR: .ko.debug", "dbg/x/snd-hda.ko.debug",
		    kdx_module_find_in_dir(at("dbg"), "snd_hda", 0));
	expect_path("mod -s DIR: through a symlink", "links/l/sub/linked_mod.ko",
		    kdx_module_find_in_dir(at("links"), "linked_mod", 0));
	expect_path("mod -s DIR: 8 levels down", "ok8/1/2/3/4/5/6/7/8/eight.ko",
		    kdx_module_find_in_dir(at("ok8"), "eight", 0));
	expect_path("mod -s DIR: not 9", NULL, kdx_module_find_in_dir(at("deep"), "deep_mod", 0));

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", root);
	return expect_failed;
}
