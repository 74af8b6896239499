/*
 * In sanitizer builds only: make an ASan report exit 199, not ASan's
 * default 1, so that no test can mistake a memory error for an expected
 * refusal (exit 1). Compiled in, because sshd starts the server with a
 * clean environment where ASAN_OPTIONS would not reach it.
 */
#ifdef HS_SANITIZE
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "exitcode=199:abort_on_error=0:detect_leaks=1";
}

/*
 * ncurses' own: when newterm() fails on a TERM it does not know (browse
 * then exits 2), the "pre-screen" libtinfo allocated first is never
 * freed, and nothing of ncurses' API frees it.
 */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
	return "print_suppressions=0";   /* one line of stderr stays one line */
}

const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:new_prescr\n";
}
#else
/* ISO C wants at least one declaration in a translation unit */
typedef int hs_sanitize_unused;
#endif
