/*
 * Account names in a Prometheus label value and in HTML: one row per
 * input, with what each format gets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "escape.h"

struct row {
	const char *name;
	const char *in;
	size_t len;          /* 0: strlen(in) */
	const char *prom;
	const char *html;
};

static const struct row rows[] = {
	{ "a plain user name", "laptop", 0, "laptop", "laptop" },
	{ "an empty name", "", 0, "", "" },
	{ "a double quote", "a\"b", 0, "a\\\"b", "a&quot;b" },
	{ "a backslash", "a\\b", 0, "a\\\\b", "a\\\\b" },
	{ "a newline", "a\nb", 0, "a\\nb", "a\\nb" },
	{ "markup", "<b>&'x'", 0, "<b>&'x'", "&lt;b&gt;&amp;&#39;x&#39;" },
	{ "UTF-8 is kept", "caf\xc3\xa9", 0, "caf\xc3\xa9", "caf\xc3\xa9" },
	{ "an invalid byte: its wire form, escaped", "a\xff" "b", 0, "a\\\\xffb", "a\\xffb" },
	{ "a control character stays raw in a label, not in HTML", "a\x01" "b", 0, "a\x01" "b",
	  "a\\x01b" },
	{ "a NUL inside the bytes", "a\0b", 3, "a\\\\x00b", "a\\x00b" },
};

static void run_row(void **state)
{
	const struct row *r = *state;
	size_t len = r->len ? r->len : strlen(r->in);
	struct strbuf p = STRBUF_INIT, h = STRBUF_INIT;

	prom_label_escape(&p, r->in, len);
	html_escape(&h, r->in, len);
	if (strcmp(p.buf, r->prom))
		fail_msg("%s: prom \"%s\", want \"%s\"", r->name, p.buf, r->prom);
	if (strcmp(h.buf, r->html))
		fail_msg("%s: html \"%s\", want \"%s\"", r->name, h.buf, r->html);
	sb_release(&p);
	sb_release(&h);
}

int main(void)
{
	enum { N = sizeof(rows) / sizeof(rows[0]) };
	struct CMUnitTest tests[N];

	for (size_t i = 0; i < N; i++)
		tests[i] = (struct CMUnitTest){ rows[i].name, run_row, NULL, NULL, (void *)&rows[i] };
	return _cmocka_run_group_tests("escape", tests, N, NULL, NULL);
}
