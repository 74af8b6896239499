/*
 * hindsight-server: runs on the backup server. main() sanitises the process
 * and dispatches to one verb; see server.h for how to add one.
 */
#include "server.h"
#include "../lib/exitcodes.h"
#include "../lib/util.h"
#include "../lib/verbs.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static const struct verb verbs[] = {
	{ "serve", cmd_serve, "the forced command: accept one push or query" },
	{ "local", cmd_local, "transport for a local backup root (used by hindsight)" },
	{ "check", cmd_check, "what this server can promise: rsync, Landlock, each --root" },
	{ "prune", cmd_prune, "thin history by the retention policy (--dry-run shows why)" },
	{ "pin", cmd_pin, "keep a snapshot whatever the retention policy says" },
	{ "unpin", cmd_unpin, "let the retention policy decide about a snapshot again" },
	{ "adduser", cmd_adduser, "give a client its account, backup root and key" },
	{ "deluser", cmd_deluser, "take a client's account and key away (--purge: its backups too)" },
	{ "du", cmd_du, "each snapshot's size, and the bytes only it holds" },
	{ "sealer", cmd_sealer, "the root service that seals pushes to sealed roots" },
	{ "status", cmd_status, "every account at a glance: ok, stale, failing (--prometheus)" },
	{ "report", cmd_report, "the status and a timeline per account as one HTML page" },
};

/*
 * The sealer started by systemd's socket activation (LISTEN_FDS=1 for
 * this very process) finds its listening socket as fd 3: the one fd kept
 * past sanitise_process(). Anything else is closed as always.
 */
static int activated_fd(int argc, char **argv)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");

	if (argc < 2 || strcmp(argv[1], "sealer") || !pid || !fds || strcmp(fds, "1"))
		return -1;
	char *end;
	long v = strtol(pid, &end, 10);
	return *end || v != (long)getpid() ? -1 : 3;
}

int main(int argc, char **argv)
{
	if (sanitise_process_keep(activated_fd(argc, argv)) < 0)
		return HS_EXIT_ERROR;
	/* a client that hangs up must not kill us before the publish is done */
	signal(SIGPIPE, SIG_IGN);
	openlog("hindsight-server", LOG_PID, LOG_DAEMON);
	return run_verbs("hindsight-server", NULL, verbs, sizeof(verbs) / sizeof(verbs[0]),
			 argc, argv);
}
