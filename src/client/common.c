/*
 * What every verb that reaches a repository shares: --repo, --ssh and
 * --config, and the order in which they, the environment and the config
 * file decide (command line, then environment, then file).
 */
#include "client.h"
#include "../lib/cmdsplit.h"
#include "../lib/exitcodes.h"
#include "../lib/strbuf.h"

#include <stdlib.h>
#include <string.h>

void common_init(struct common *co)
{
	memset(co, 0, sizeof(*co));
	config_init(&co->cfg);
}

int common_option(struct common *co, int c, const char *arg)
{
	switch (c) {
	case 'r': co->repo = arg; return 1;
	case 's': co->ssh = arg; return 1;
	case 'C': co->config = arg; return 1;
	default: return 0;
	}
}

int common_load(struct common *co)
{
	int code;

	if (co->loaded)
		return HS_EXIT_OK;
	config_free(&co->cfg);
	code = config_load(co->config, &co->cfg);
	if (code == HS_EXIT_OK)
		co->loaded = 1;
	else
		config_free(&co->cfg);   /* the caller returns at once */
	return code;
}

char *common_ssh(struct common *co)
{
	const char *base = co->ssh;
	struct strbuf sb = STRBUF_INIT;

	if (!base || !*base)
		base = getenv("HINDSIGHT_SSH");
	if (!base || !*base)
		base = co->cfg.ssh_command;
	if (!base || !*base)
		base = "ssh";
	sb_addstr(&sb, base);
	if (co->cfg.ssh_key) {
		/* only this key: an agent's others would be tried first */
		sb_addstr(&sb, " -i ");
		quote_word(&sb, co->cfg.ssh_key);
		sb_addstr(&sb, " -o IdentitiesOnly=yes");
	}
	if (co->cfg.ssh_options)
		sb_addf(&sb, " %s", co->cfg.ssh_options);
	return sb_detach(&sb);
}

int common_repo(struct common *co, struct repo *r, int must_exist)
{
	const char *spec = co->repo;
	char *ssh;
	int code;

	memset(r, 0, sizeof(*r));
	if ((code = common_load(co)) != HS_EXIT_OK)
		return code;
	if (!spec || !*spec)
		spec = default_repo();
	if (!spec || !*spec)
		spec = co->cfg.repo;
	ssh = common_ssh(co);
	code = must_exist ? open_repo(spec, ssh, r) : repo_parse(spec, ssh, r);
	free(ssh);
	if (code != HS_EXIT_OK)
		common_free(co);   /* the caller returns at once */
	return code;
}

void common_free(struct common *co)
{
	config_free(&co->cfg);
	co->loaded = 0;
}
