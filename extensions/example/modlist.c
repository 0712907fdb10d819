/*
 * Example kdx extension: `modlist` prints each loaded module's name, its
 * struct module address and its reference count, walking the kernel's
 * `modules` list with offsets taken from DWARF.
 *
 *   extend extensions/example/kdx-example.so
 *   modlist
 *
 * A subsystem team (Lustre, say) writes its commands the same way: find a
 * symbol, ask for member offsets, read memory, print through
 * kdx_session_out().
 */
#include <kdx/extension.h>

#include <string.h>

static struct kdx_error *modlist_run(struct kdx_session *s, int argc, char **argv)
{
	uint64_t head, off_list, off_name, off_refcnt, node;
	struct kdx_error *err;
	FILE *out = kdx_session_out(s);
	unsigned long count = 0;

	if (argc != 1)
		return kdx_error_create(KDX_ERR_SYNTAX, "usage: modlist");
	if ((err = kdx_symbol_lookup(s, "modules", &head)) ||
	    (err = kdx_member_offset(s, "module", "list", &off_list)) ||
	    (err = kdx_member_offset(s, "module", "name", &off_name)))
		return err;
	/* refcnt exists only with CONFIG_MODULE_UNLOAD */
	if ((err = kdx_member_offset(s, "module", "refcnt", &off_refcnt))) {
		kdx_error_destroy(err);
		off_refcnt = UINT64_MAX;
	}
	fprintf(out, "%-18s %-24s %s\n", "MODULE", "NAME", "REFCNT");
	if ((err = kdx_read_u64(s, head, &node)))
		return err;
	while (node != head) {
		uint64_t mod = node - off_list;
		char name[64];
		uint32_t refcnt = 0;

		if (kdx_session_interrupted(s))
			return kdx_error_create(KDX_ERR_INTERRUPTED, "modlist: interrupted");
		if (++count > 100000)
			return kdx_error_create(KDX_ERR_INVALID, "modlist: module list loops");
		if ((err = kdx_read_cstr(s, mod + off_name, name, sizeof(name))))
			return err;
		if (off_refcnt != UINT64_MAX && (err = kdx_read_u32(s, mod + off_refcnt, &refcnt)))
			return err;
		/* the kernel counts from MODULE_REF_BASE (1): module_refcount() subtracts it */
		fprintf(out, "%-18llx %-24s %d\n", (unsigned long long)mod, name,
			off_refcnt == UINT64_MAX ? -1 : (int)refcnt - 1);
		if ((err = kdx_read_u64(s, node, &node)))
			return err;
	}
	return NULL;
}

static const struct kdx_extension_command modlist = {
	.name = "modlist",
	.usage = "modlist",
	.summary = "(example extension) loaded modules and their reference counts",
	.help = "  Walks the kernel's module list and prints each module's address,\n"
		"  name and reference count. Source: extensions/example/modlist.c.\n",
	.run = modlist_run,
};

int kdx_extension_init(struct kdx_session *s, int api_version)
{
	struct kdx_error *err;

	if (api_version != KDX_EXTENSION_API_VERSION)
		return -1;
	if ((err = kdx_extension_register(s, &modlist))) {
		fprintf(stderr, "modlist: %s\n", kdx_error_message(err));
		kdx_error_destroy(err);
		return -1;
	}
	return 0;
}
