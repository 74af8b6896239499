/*
 * The client's config file: an INI file read with inih (Debian's
 * libinih), every key at the top level. hindsight.conf(5) is the
 * reference. Parsing is pure: text in, settings and one "FILE:LINE:
 * message" per error out; nothing here prints, except config_load().
 */
#ifndef HS_CLIENT_CONFIG_H
#define HS_CLIENT_CONFIG_H

#include <stddef.h>

#include "../lib/util.h"

#define CONFIG_MAX_BYTES (64 * 1024)   /* a larger file is an error */
#define CONFIG_MAX_SOURCES 256
#define CONFIG_MAX_INTERVAL (366LL * 86400)

/* I/O scheduling classes, as the kernel numbers them (ioprio.h) */
enum { IONICE_NONE = 0, IONICE_BEST_EFFORT = 2, IONICE_IDLE = 3 };

enum config_key {
	CFG_REPO, CFG_SSH_COMMAND, CFG_SSH_KEY, CFG_SSH_OPTIONS, CFG_SOURCES,
	CFG_EXCLUDE_FILE, CFG_BWLIMIT, CFG_NICE, CFG_IONICE, CFG_INTERVAL,
	CFG_ON_BATTERY, CFG_NKEYS
};

struct config {
	char *file;            /* the file read, NULL if none was */
	char *repo;            /* [user@]host: or an absolute directory */
	char *ssh_command;     /* split like --ssh */
	char *ssh_key;         /* absolute ("~/" expanded) */
	char *ssh_options;     /* more ssh words, split like --ssh */
	struct argv sources;   /* absolute paths, in the file's order */
	int source_line[CONFIG_MAX_SOURCES];
	char *exclude_file;    /* absolute; rsync filter rules */
	char *bwlimit;         /* as rsync's --bwlimit takes it */
	int nice;              /* 0..19 */
	int ionice_class;      /* IONICE_* */
	int ionice_level;      /* 0..7, for best-effort */
	long long interval;    /* seconds between scheduled backups */
	int on_battery_skip;   /* scheduled runs wait for mains power */
	int line[CFG_NKEYS];   /* where each key was set; 0: the default */
};

/* The defaults, as if from an empty file. */
void config_init(struct config *c);
void config_free(struct config *c);

/*
 * Parse text (len bytes; may hold NULs, which are errors) as the contents
 * of the file called name. "~/" at the start of a path means home/.
 * Appends one "name:LINE: message" per error to errors and returns how
 * many there were; c holds every value that was good.
 */
int config_parse(const char *name, const char *text, size_t len, const char *home,
		 struct config *c, struct argv *errors);

/*
 * A duration: "1h", "90m", "1h30m", "2 days", "hourly", "daily",
 * "weekly", "0". Returns 0, or -1 if s is not one (or is past a year).
 */
int parse_duration(const char *s, long long *out);

/*
 * The file read when no --config is given: $XDG_CONFIG_HOME/hindsight/config
 * when XDG_CONFIG_HOME is set, else /etc/hindsight/client.conf for root
 * and ~/.config/hindsight/config for anybody else. Caller frees.
 */
char *config_default_path(void);

/* The home directory: $HOME, else the password database's. Not freed. */
const char *home_dir(void);

/*
 * Read and parse a config file: file, or the default one when file is
 * NULL (whose absence is fine: c keeps the defaults). A file that others
 * may write is refused, as ssh refuses such a config: ssh_options can run
 * commands. Prints every error; returns 0 or an exit code (2 for a bad
 * file, 10 for a missing --config file).
 */
int config_load(const char *file, struct config *c);

/* The key's name, for messages. */
const char *config_key_name(enum config_key k);

#endif
