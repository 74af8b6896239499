#include "account.h"

#include <string.h>

const char *account_name_check(const char *name)
{
	size_t n = strlen(name);

	if (n == 0)
		return "the account name is empty";
	if (n > HS_NAME_MAX)
		return "the account name is longer than 32 characters";
	if (!(name[0] == '_' || (name[0] >= 'a' && name[0] <= 'z')))
		return "the account name must start with a lowercase letter or '_'";
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return "the account name may hold only a-z, 0-9, '_' and '-'";
	}
	if (!strcmp(name, HS_GROUP))
		return "the account name '" HS_GROUP "' is the group's";
	return NULL;
}

static int path_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '/' || c == '.' || c == '_' || c == '+' || c == '-';
}

const char *base_path_check(const char *path, struct strbuf *out)
{
	size_t n = strlen(path);

	sb_reset(out);
	if (path[0] != '/')
		return "the base must be an absolute path";
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 1)
		return "the base must not be / itself";
	if (n > HS_BASE_MAX)
		return "the base is longer than 200 bytes";
	for (size_t i = 0; i < n; i++)
		if (!path_char_ok(path[i]))
			return "the base may hold only A-Z, a-z, 0-9 and /._+-";
	/* components: each between two slashes, or after the last one */
	for (size_t i = 1; i <= n; ) {
		size_t len = 0;
		while (i + len < n && path[i + len] != '/')
			len++;
		if (len == 0)
			return "the base has an empty component (//)";
		if ((len == 1 && path[i] == '.') || (len == 2 && path[i] == '.' && path[i + 1] == '.'))
			return "the base has a . or .. component";
		i += len + 1;
	}
	sb_add(out, path, n);
	return NULL;
}

/* The key types sshd accepts for users that we let in. */
static const char *const key_types[] = {
	"ssh-ed25519",
	"ssh-rsa",
	"ecdsa-sha2-nistp256",
	"ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521",
	"sk-ssh-ed25519@openssh.com",
	"sk-ecdsa-sha2-nistp256@openssh.com",
};

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

static int key_type_known(const char *s, size_t n)
{
	for (size_t k = 0; k < sizeof(key_types) / sizeof(key_types[0]); k++)
		if (strlen(key_types[k]) == n && !memcmp(s, key_types[k], n))
			return 1;
	return 0;
}

/* Is there a known key type among the words of s[0..n)? */
static int has_key_type(const char *s, size_t n)
{
	for (size_t i = 0; i < n; ) {
		size_t w = 0;
		while (i + w < n && !is_space(s[i + w]))
			w++;
		if (w && key_type_known(s + i, w))
			return 1;
		i += w ? w : 1;
	}
	return 0;
}

/* Judge one key line s[0..n), already free of control characters. */
static const char *key_line(const char *s, size_t n, struct strbuf *out)
{
	size_t i = 0, t0, tlen, b0, blen, pad = 0;

	while (i < n && is_space(s[i]))
		i++;
	while (n > i && is_space(s[n - 1]))
		n--;
	t0 = i;
	while (i < n && !is_space(s[i]))
		i++;
	tlen = i - t0;
	if (!key_type_known(s + t0, tlen)) {
		if (has_key_type(s + i, n - i))
			return "the key line has options in front (give the bare key: "
			       "adduser writes the options)";
		if (tlen == 7 && !memcmp(s + t0, "ssh-dss", 7))
			return "DSA keys are not accepted";
		return "the key type is not one sshd accepts for users "
		       "(ssh-ed25519, ssh-rsa, ecdsa-sha2-*, sk-*)";
	}
	while (i < n && is_space(s[i]))
		i++;
	b0 = i;
	while (i < n && is_b64(s[i]))
		i++;
	while (i < n && s[i] == '=' && pad < 2) {
		i++;
		pad++;
	}
	blen = i - b0;
	if (blen == 0)
		return "the key line has a type but no key";
	if ((i < n && !is_space(s[i])) || blen % 4 || blen < 16)
		return "the key is not valid base64";
	sb_reset(out);
	sb_add(out, s + t0, i - t0);
	while (i < n && is_space(s[i]))
		i++;
	if (i < n) {
		sb_addch(out, ' ');
		sb_add(out, s + i, n - i);
	}
	return NULL;
}

const char *pubkey_parse(const char *data, size_t len, struct strbuf *out)
{
	const char *line = NULL;
	size_t line_len = 0, keys = 0;

	sb_reset(out);
	if (len > HS_KEYFILE_MAX)
		return "the key file is larger than 16 KiB";
	for (size_t i = 0; i < len; ) {
		size_t n = 0, j;
		while (i + n < len && data[i + n] != '\n')
			n++;
		const char *s = data + i;
		i += n + 1;
		if (n && s[n - 1] == '\r')
			n--;
		for (j = 0; j < n; j++) {
			unsigned char c = (unsigned char)s[j];
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return "the key file holds a control character";
		}
		for (j = 0; j < n && is_space(s[j]); j++)
			;
		if (j == n || s[j] == '#')
			continue;
		if (n - j >= 10 && !memcmp(s + j, "-----BEGIN", 10))
			return "the key file holds a private key (give the .pub file)";
		if (n - j >= 15 && !memcmp(s + j, "---- BEGIN SSH2", 15))
			return "the key is in RFC 4716 form (convert it with ssh-keygen -i -f FILE)";
		if (++keys == 1) {
			line = s;
			line_len = n;
		}
	}
	if (keys == 0)
		return "the key file holds no key";
	if (keys > 1)
		return "the key file holds more than one line (give exactly one key)";
	return key_line(line, line_len, out);
}
