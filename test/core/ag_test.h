/*
 * ag_test.h
 *	  The check macro of the core's unit test programs: each counts its
 *	  checks and ends with "N passed, M failed" (what make check-core sums).
 */
#ifndef AG_TEST_H
#define AG_TEST_H

#include <stdio.h>

static int	passed,
			failed;

#define CHECK(cond, ...) \
	do { \
		if (cond) passed++; \
		else { failed++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } \
	} while (0)

#endif
