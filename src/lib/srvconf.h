/*
 * The server's configuration: /etc/hindsight/server.conf, INI (parsed by
 * Debian's inih). Missing file: every default. Every error names the file
 * and the line; an unknown section, key or value is an error.
 *
 *   [server]                 ; defaults for every account
 *   base = /srv/hindsight    ; where `prune --all` finds the backup roots
 *   keep = 24h:all 30d:daily forever:weekly
 *   min_free = 1%            ; bytes (K, M, G, T: powers of 1024) or a percent
 *   min_free_inodes = 1%
 *   quota = none             ; bytes one account's root may hold
 *   max_age = 26h            ; older newest snapshot: the account is stale
 *   vault_user = hindsight-vault              ; sealed mode: owner of history
 *   sealer_socket = /run/hindsight/sealer.sock ; where serve asks the sealer
 *
 *   [account laptop]         ; overrides for one account (all keys but base)
 *   keep = 7d:all forever:monthly
 *   quota = 200G
 */
#ifndef HS_SRVCONF_H
#define HS_SRVCONF_H

#include <time.h>

#include "retention.h"
#include "strbuf.h"

#define SRVCONF_PATH "/etc/hindsight/server.conf"
#define SRVCONF_BASE "/srv/hindsight"
#define SRVCONF_VAULT "hindsight-vault"
#define SRVCONF_SEALER "/run/hindsight/sealer.sock"

struct space_limit {
	unsigned long long bytes;  /* when !percent */
	double percent;            /* of the filesystem, when percent */
	int is_percent;
};

/* What applies to one account. */
struct acct_conf {
	struct ret_policy keep;
	struct space_limit min_free;
	double min_free_inodes;          /* percent of the filesystem's inodes */
	unsigned long long quota;        /* 0: none */
	long long max_age;               /* seconds; 0: no staleness check */
};

struct srvconf_section;

struct srvconf {
	char *path;
	char *base;
	char *vault_user;        /* sealed mode: the owner of sealed history */
	char *sealer_socket;     /* absolute path of the sealer's socket */
	struct acct_conf defaults;
	struct srvconf_section *accounts;
	size_t n_accounts;
};

/*
 * Load path (NULL: SRVCONF_PATH). A missing file gives the defaults.
 * Returns 0, or -1 with "FILE:LINE: what is wrong" in err.
 */
int srvconf_load(const char *path, struct srvconf *c, struct strbuf *err);
void srvconf_free(struct srvconf *c);

/* The settings for account name (its section over [server]). */
void srvconf_account(const struct srvconf *c, const char *name, struct acct_conf *out);

/* Is there an [account name] section? */
int srvconf_has_account(const struct srvconf *c, const char *name);

/*
 * The account a backup root belongs to: the owner's user name, or (for a
 * root-owned root, as in sealed mode) the root's last path component.
 */
void srvconf_account_of(int rootfd, const char *rootpath, char *out, size_t size);

/* "10G", "512M", "1073741824", "5%" (percent only with allow_percent). */
int parse_size(const char *s, int allow_percent, struct space_limit *out);
/* "26h", "7d", "2w", "90m" (minutes), "3600s". */
int parse_duration(const char *s, long long *out);
/* 1.5 GiB, 512 MiB ... for messages. */
void format_bytes(unsigned long long n, char *out, size_t size);

#endif
