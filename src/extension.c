#include "extension.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kdx/extension.h>
#include "commands/command.h"
#include "session.h"

#define MAX_EXT_COMMANDS 256
#define MAX_EXTENSIONS 32

struct ext_command {
	struct kdx_command cmd;          /* what the command table sees */
	const struct kdx_extension_command *ext;
	int owner;                       /* index in extensions[] */
};

static struct ext_command commands[MAX_EXT_COMMANDS];
static size_t ncommands;
static struct {
	char *path;
	void *handle;
} extensions[MAX_EXTENSIONS];
static size_t nextensions;
static int loading = -1;                 /* extension being initialised */

/* Every extension command goes through here, so a NULL run or a wrong table
 * entry cannot be reached. */
static struct kdx_error *run_ext(struct kdx_session *s, int argc, char **argv)
{
	for (size_t i = 0; i < ncommands; i++)
		if (!strcmp(commands[i].cmd.name, argv[0]))
			return commands[i].ext->run(s, argc, argv);
	return kdx_error_create(KDX_ERR_NOT_FOUND, "%s: extension command vanished", argv[0]);
}

struct kdx_error *kdx_extension_register(struct kdx_session *s,
					 const struct kdx_extension_command *cmd)
{
	(void)s;
	if (loading < 0)
		return kdx_error_create(KDX_ERR_INVALID,
			"kdx_extension_register: only from kdx_extension_init");
	if (!cmd || !cmd->name || !*cmd->name || !cmd->run)
		return kdx_error_create(KDX_ERR_INVALID, "extension command without a name or run function");
	if (kdx_command_find(cmd->name))
		return kdx_error_create(KDX_ERR_INVALID, "extension command %s: name already taken",
					cmd->name);
	if (ncommands == MAX_EXT_COMMANDS)
		return kdx_error_create(KDX_ERR_INVALID, "too many extension commands");
	struct ext_command *e = &commands[ncommands++];
	e->ext = cmd;
	e->owner = loading;
	e->cmd.name = cmd->name;
	e->cmd.usage = cmd->usage ? cmd->usage : cmd->name;
	e->cmd.summary = cmd->summary ? cmd->summary : "(extension command)";
	e->cmd.help = cmd->help;
	e->cmd.run = run_ext;
	return NULL;
}

struct kdx_error *kdx_extension_load(struct kdx_session *s, const char *path)
{
	typedef int (*init_fn)(struct kdx_session *, int);

	for (size_t i = 0; i < nextensions; i++)
		if (!strcmp(extensions[i].path, path))
			return kdx_error_create(KDX_ERR_INVALID, "extend: %s is already loaded", path);
	if (nextensions == MAX_EXTENSIONS)
		return kdx_error_create(KDX_ERR_INVALID, "extend: too many extensions");
	/* dlopen searches the library path for names without a slash; a file in
	 * the current directory is what users mean. */
	char *full = NULL;
	if (!strchr(path, '/') && asprintf(&full, "./%s", path) < 0)
		return kdx_error_nomem();
	void *h = dlopen(full ? full : path, RTLD_NOW | RTLD_LOCAL);
	free(full);
	if (!h)
		return kdx_error_create(KDX_ERR_IO, "extend: %s", dlerror());
	init_fn init = (init_fn)dlsym(h, "kdx_extension_init");
	if (!init) {
		dlclose(h);
		return kdx_error_create(KDX_ERR_FORMAT,
			"extend: %s has no kdx_extension_init function", path);
	}
	size_t before = ncommands;
	loading = (int)nextensions;
	int rc = init(s, KDX_EXTENSION_API_VERSION);
	loading = -1;
	if (rc != 0) {
		ncommands = before;   /* forget what a failed init registered */
		dlclose(h);
		return kdx_error_create(KDX_ERR_INVALID,
			"extend: %s: kdx_extension_init failed (%d); built for another kdx API version?",
			path, rc);
	}
	extensions[nextensions].path = strdup(path);
	extensions[nextensions].handle = h;
	nextensions++;
	fprintf(s->out, "%s: %zu command%s loaded\n", path, ncommands - before,
		ncommands - before == 1 ? "" : "s");
	return NULL;
}

void kdx_extension_list(struct kdx_session *s)
{
	if (!nextensions) {
		fprintf(s->out, "no extensions loaded\n");
		return;
	}
	for (size_t i = 0; i < nextensions; i++) {
		fprintf(s->out, "%s:", extensions[i].path);
		for (size_t j = 0; j < ncommands; j++)
			if (commands[j].owner == (int)i)
				fprintf(s->out, " %s", commands[j].cmd.name);
		fprintf(s->out, "\n");
	}
}

const struct kdx_command *kdx_extension_command_find(const char *name)
{
	for (size_t i = 0; i < ncommands; i++)
		if (!strcmp(commands[i].cmd.name, name))
			return &commands[i].cmd;
	return NULL;
}

const struct kdx_command *kdx_extension_command_at(size_t i)
{
	return i < ncommands ? &commands[i].cmd : NULL;
}

/* Public accessors (include/kdx/extension.h). */
FILE *kdx_session_out(struct kdx_session *s)
{
	return s->out;
}

int kdx_session_interrupted(struct kdx_session *s)
{
	return kdx_interrupted(s);
}

const char *kdx_error_message(const struct kdx_error *err)
{
	return err ? err->message : "";
}
