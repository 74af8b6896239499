/*
 * Fixed kill points for the fault tests (tests/e2e/faults.t). Only the
 * test build (make TEST_HOOKS=1, never installed) has them: there,
 * HS_TEST_FAULT=NAME makes the process print
 *
 *   hindsight-server: fault: NAME, pid PID
 *
 * on stderr and SIGKILL itself the first time it reaches
 * fault_point("NAME"); HS_TEST_FAULT=NAME@N, the Nth time. In every other
 * build fault_point() is an empty inline function. The names are listed
 * in docs/RELIABILITY.md.
 */
#ifndef HS_FAULT_H
#define HS_FAULT_H

#ifdef HS_TEST_HOOKS
void fault_point(const char *name);
#else
static inline void fault_point(const char *name) { (void)name; }
#endif

#endif
