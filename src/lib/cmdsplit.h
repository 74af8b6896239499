/*
 * Splitting SSH_ORIGINAL_COMMAND into words, without a shell.
 *
 * rsync (3.2.4 and newer) builds the remote command by backslash-escaping
 * every shell-special character of each argument and joining the arguments
 * with spaces; ssh sends that string and sshd hands it to the forced
 * command. We undo exactly that: words are separated by runs of spaces or
 * tabs, and a backslash makes the next character literal. Nothing else is
 * special: quotes, '$', ';', '*' are ordinary characters, because no shell
 * ever sees them.
 */
#ifndef HS_CMDSPLIT_H
#define HS_CMDSPLIT_H

#include "util.h"

#define HS_CMD_MAX 8192    /* longest command accepted, in bytes */
#define HS_ARGS_MAX 64     /* most words accepted */

/*
 * Split cmd into out (which must be empty). Returns 0, or -1 with *why set
 * to a static one-line reason: too long, too many words, a control
 * character, or a trailing backslash.
 */
int split_command(const char *cmd, struct argv *out, const char **why);

#include "strbuf.h"

/*
 * Append word to sb escaped so that split_command() gives it back: a
 * backslash before every character outside a small safe set.
 */
void quote_word(struct strbuf *sb, const char *word);

/* Join words with spaces, each quoted with quote_word(). */
void quote_argv(struct strbuf *sb, char *const words[], size_t n);
#endif
