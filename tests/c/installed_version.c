/* The header's version macros: against the library (sps_version) and
 * against Cargo.toml's version, which tests/c/run.sh passes as
 * SPS_EXPECT_VERSION (read from Cargo.toml by mk/c.mk). Only run.sh's
 * installed-prefix block builds it (not a test_*.c: it needs that variable). */
#include "check.h"

int main(void) {
    const char *expect = getenv("SPS_EXPECT_VERSION");
    if (expect == NULL) FAIL("SPS_EXPECT_VERSION is not set (run through tests/c/run.sh)");
    char parts[32];
    snprintf(parts, sizeof parts, "%d.%d.%d", SPS_VERSION_MAJOR, SPS_VERSION_MINOR,
             SPS_VERSION_PATCH);
    if (strcmp(parts, expect) != 0) FAIL("header macros say %s, Cargo.toml %s", parts, expect);
    if (strcmp(SPS_VERSION_STRING, expect) != 0)
        FAIL("SPS_VERSION_STRING is %s, Cargo.toml %s", SPS_VERSION_STRING, expect);
    if (strcmp(sps_version(), SPS_VERSION_STRING) != 0)
        FAIL("library %s, header %s", sps_version(), SPS_VERSION_STRING);
    CHECK(SPS_VERSION_NUMBER ==
          SPS_VERSION_MAJOR * 10000 + SPS_VERSION_MINOR * 100 + SPS_VERSION_PATCH);
    printf("test_version: %s\n", SPS_VERSION_STRING);
    return 0;
}
