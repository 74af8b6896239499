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
#else
/* ISO C wants at least one declaration in a translation unit */
typedef int hs_sanitize_unused;
#endif
