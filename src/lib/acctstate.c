#include "acctstate.h"

static const char *const state_names[ACCT_NSTATES] = {
	"ok", "stale", "failing", "in progress", "never",
};

const char *acct_state_name(enum acct_state s)
{
	return (unsigned)s < ACCT_NSTATES ? state_names[s] : "?";
}

void acct_decide(const struct acct_facts *f, time_t now, struct acct_verdict *v)
{
	v->age = f->snapshots ? (long long)now - (long long)f->newest : -1;
	v->stale = f->snapshots && f->max_age > 0 && v->age > f->max_age;
	/* an attempt is only the account's news if it came after the newest snapshot */
	int last_failed = f->have_last && f->last_failed &&
			  (!f->snapshots || f->last_start >= f->newest_start);
	v->failing = !f->in_progress && (last_failed || f->left_inprogress);
	if (v->failing)
		v->state = ACCT_FAILING;
	else if (v->stale)
		v->state = ACCT_STALE;
	else if (f->in_progress)
		v->state = ACCT_IN_PROGRESS;
	else if (!f->snapshots)
		v->state = ACCT_NEVER;
	else
		v->state = ACCT_OK;
}
