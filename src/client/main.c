/*
 * hindsight: the client. main() sanitises the process and dispatches to
 * one verb; see client.h for how to add one.
 */
#include "client.h"
#include "../lib/exitcodes.h"
#include "../lib/verbs.h"

static const struct verb verbs[] = {
	{ "init", cmd_init, "set this machine up: a key, the config, the server's adduser command" },
	{ "backup", cmd_backup, "push the sources to the repository as a new snapshot" },
	{ "list", cmd_list, "list the snapshots, oldest first" },
	{ "versions", cmd_versions, "the distinct versions of PATH across snapshots" },
	{ "ls", cmd_ls, "list PATH as a snapshot holds it (default: latest, /)" },
	{ "diff", cmd_diff, "what was added, removed and modified between two snapshots" },
	{ "status", cmd_status, "newest snapshot, backup in progress, free space" },
	{ "restore", cmd_restore, "bring PATH... back as of a time (default: latest)" },
	{ "browse", cmd_browse, "walk the snapshots in the terminal: directories, versions, restore" },
	{ "schedule", cmd_schedule, "enable, disable or show the hourly backup (systemd or cron)" },
	{ "config", cmd_config, "check the config file, or print its path" },
	{ "__transport", cmd_transport, NULL },
};

int main(int argc, char **argv)
{
	if (sanitise_process() < 0)
		return HS_EXIT_ERROR;
	return run_verbs("hindsight", "The repository is [user@]host: or a local directory (--repo, "
			 "HINDSIGHT_REPO, or repo in the config file).", verbs,
			 sizeof(verbs) / sizeof(verbs[0]), argc, argv);
}
