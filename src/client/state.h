/*
 * What the client remembers between runs, per repository: the last
 * attempt and the last success, so that `backup --if-due` knows whether
 * a backup is due and `status` can say how old the newest one is. One
 * small JSON file per repository in the state directory.
 */
#ifndef HS_CLIENT_STATE_H
#define HS_CLIENT_STATE_H

#include <time.h>

struct backup_state {
	long long attempt_start, attempt_end;  /* 0: never tried */
	int attempt_exit;                      /* our exit code for it */
	char attempt_message[256];             /* its one-line reason, "" if none */
	long long success_start, success_end;  /* 0: never succeeded */
	int success_exit;                      /* 0, or 3 for "with warnings" */
};

/*
 * Is a backup due at now, interval seconds after the start of the last
 * success? *next gets the time it is (or was) due. Due when there never
 * was a success, when interval is 0, and when the last success seems to
 * lie in the future (the clock was set back: better one backup too many).
 * Pure.
 */
int backup_due(const struct backup_state *s, long long interval, time_t now, time_t *next);

/*
 * The state directory: $XDG_STATE_HOME/hindsight when XDG_STATE_HOME is
 * set, else /var/lib/hindsight for root and ~/.local/state/hindsight for
 * anybody else. Caller frees.
 */
char *state_dir(void);

/* The state file of a repository (its canonical name). Caller frees. */
char *state_file(const char *repo);

/* Read it; a missing file is an empty state. Returns 0 or a negative errno. */
int state_read(const char *file, struct backup_state *s);

/* Write it atomically, making the directory if needed. 0 or a negative errno. */
int state_write(const char *file, const char *repo, const struct backup_state *s);

/*
 * Like systemd's ConditionACPower=true: 1 if a mains supply under
 * sysdir (normally /sys/class/power_supply) is online, or if there is no
 * mains supply at all (a desktop); 0 if we run on battery.
 */
int on_ac_power(const char *sysdir);

#endif
