/*
 * What `hindsight-server adduser` is given, judged before anything on the
 * system changes: the account name, the base directory of backup roots,
 * and the client's public key. Pure functions: each returns NULL when the
 * input is acceptable, else a reason (a static string, lowercase, no full
 * stop) for a one-line message.
 */
#ifndef HS_ACCOUNT_H
#define HS_ACCOUNT_H

#include <stddef.h>

#include "strbuf.h"

#define HS_GROUP "hindsight"                     /* every backup account is in it */
#define HS_KEYS_DIR "/etc/ssh/authorized_keys"   /* root-owned, one file per account */
#define HS_DEFAULT_BASE "/srv/hindsight"         /* backup roots are BASE/NAME */
#define HS_NAME_MAX 32                           /* useradd's limit */
#define HS_BASE_MAX 200                          /* bytes in a base path */
#define HS_KEYFILE_MAX 16384                     /* bytes in a public key file */

/*
 * A safe account name: 1 to 32 of [a-z0-9_-], not starting with a digit
 * or '-', and not the group's own name. Safe in a path, in passwd, in an
 * sshd pattern and on a command line.
 */
const char *account_name_check(const char *name);

/*
 * A base directory: absolute, at most HS_BASE_MAX bytes of [A-Za-z0-9/._+-],
 * no empty, "." or ".." component, not "/" itself. Trailing slashes are
 * dropped. On success *out holds the base with no trailing slash.
 */
const char *base_path_check(const char *path, struct strbuf *out);

/*
 * The contents of a public key file (len bytes, not NUL-terminated): after
 * blank lines and '#' comments, exactly one line "TYPE BASE64 [COMMENT]",
 * TYPE one that sshd accepts as a user key (Ed25519, RSA, ECDSA, and their
 * security-key forms; no DSA, no certificates), no options in front, no
 * control characters. On success *out holds that line, trimmed, without
 * its newline. The key blob itself is then for ssh-keygen to check.
 */
const char *pubkey_parse(const char *data, size_t len, struct strbuf *out);

#endif
