#include "cmdsplit.h"
#include "strbuf.h"

#include <string.h>

int split_command(const char *cmd, struct argv *out, const char **why)
{
	struct strbuf word = STRBUF_INIT;
	int in_word = 0, rc = -1;
	size_t len = strlen(cmd);

	if (len > HS_CMD_MAX) {
		*why = "command too long";
		goto out;
	}
	for (const char *p = cmd; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == ' ' || c == '\t') {
			if (in_word) {
				if (out->n >= HS_ARGS_MAX) {
					*why = "too many arguments";
					goto out;
				}
				argv_push(out, word.buf);
				sb_reset(&word);
				in_word = 0;
			}
			continue;
		}
		if (c == '\\') {
			if (!p[1]) {
				*why = "trailing backslash in command";
				goto out;
			}
			c = (unsigned char)*++p;
		}
		if (c < 0x20 || c == 0x7f) {
			*why = "control character in command";
			goto out;
		}
		sb_addch(&word, (char)c);
		in_word = 1;
	}
	if (in_word) {
		if (out->n >= HS_ARGS_MAX) {
			*why = "too many arguments";
			goto out;
		}
		argv_push(out, word.buf);
	}
	rc = 0;
out:
	sb_release(&word);
	if (rc < 0)
		argv_clear(out);
	return rc;
}

void quote_word(struct strbuf *sb, const char *word)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._,:=/+%@-";

	for (const char *p = word; *p; p++) {
		if (!strchr(safe, *p))
			sb_addch(sb, '\\');
		sb_addch(sb, *p);
	}
}

void quote_argv(struct strbuf *sb, char *const words[], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_addch(sb, ' ');
		quote_word(sb, words[i]);
	}
}
