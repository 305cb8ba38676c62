/* The checks of the C test programs in tests/c: EXPECT_EQ counts a pass or reports a
 * failure with its place and both values; check_report prints the counts and gives the
 * program's exit status. Each program is one translation unit, so the counters are static. */
#ifndef QSOTA_TESTS_CHECK_H
#define QSOTA_TESTS_CHECK_H

#include <stdio.h>

static int passes, failures;

#define EXPECT_EQ(got, want)                                                              \
    do {                                                                                  \
        long long g_ = (long long)(got), w_ = (long long)(want);                          \
        if (g_ != w_) {                                                                   \
            fprintf(stderr, "%s:%d: %s == %lld, want %lld\n", __FILE__, __LINE__, #got, g_, \
                    w_);                                                                  \
            failures++;                                                                   \
        } else {                                                                          \
            passes++;                                                                     \
        }                                                                                 \
    } while (0)

/* Prints "<program>: P passed, F failed"; returns 0 if nothing failed, else 1. */
static int check_report(const char *program) {
    printf("%s: %d passed, %d failed\n", program, passes, failures);
    return failures ? 1 : 0;
}

#endif
