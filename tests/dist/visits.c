/* One request of a visit counter on a DbmStore, built against an unpacked
 * release tarball through pkg-config (the dist check, mk/dist.mk).
 *
 *   visits STORE_DIR EXPECTED_VERSION [COOKIE_HEADER]
 *
 * prints "visits=N" and, when the commit set a cookie, "cookie=NAME=VALUE";
 * exits 1 with the library's message on any error. Run twice, the second
 * time with the first's cookie, it counts 1 then 2 through the store alone. */
#include <spysession.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, sps_status st) {
    fprintf(stderr, "visits: %s: %s (%s)\n", what, sps_status_name(st), sps_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: visits STORE_DIR EXPECTED_VERSION [COOKIE_HEADER]\n");
        return 2;
    }
    /* The header's macros and the library must both be the release's version. */
    char header_version[32];
    snprintf(header_version, sizeof header_version, "%d.%d.%d", SPS_VERSION_MAJOR,
             SPS_VERSION_MINOR, SPS_VERSION_PATCH);
    if (strcmp(sps_version(), argv[2]) != 0 || strcmp(header_version, argv[2]) != 0) {
        fprintf(stderr, "visits: library %s, header %s, %s expected\n", sps_version(),
                header_version, argv[2]);
        return 1;
    }
    sps_store *store = NULL;
    sps_manager *manager = NULL;
    sps_session *session = NULL;
    sps_status st = sps_store_open_dbm(argv[1], strlen(argv[1]), NULL, &store);
    if (st != SPS_OK) return fail("sps_store_open_dbm", st);
    st = sps_manager_new(store, NULL, &manager);
    sps_store_free(store);
    if (st != SPS_OK) return fail("sps_manager_new", st);

    sps_request request = {0};
    if (argc > 3) {
        request.cookie = argv[3];
        request.cookie_len = strlen(argv[3]);
    }
    st = sps_session_begin(manager, &request, &session);
    if (st != SPS_OK) return fail("sps_session_begin", st);
    int64_t visits = 0;
    st = sps_session_get_int(session, "visits", 6, &visits);
    if (st != SPS_OK && st != SPS_NOT_FOUND) return fail("sps_session_get_int", st);
    st = sps_session_set_int(session, "visits", 6, visits + 1);
    if (st != SPS_OK) return fail("sps_session_set_int", st);
    sps_buf set_cookie = {0};
    st = sps_session_commit(session, &set_cookie);
    if (st != SPS_OK) return fail("sps_session_commit", st);
    printf("visits=%lld\n", (long long)(visits + 1));
    if (set_cookie.data) {
        const char *value = (const char *)set_cookie.data;
        printf("cookie=%.*s\n", (int)strcspn(value, ";"), value);
    }
    sps_buf_free(&set_cookie);
    sps_session_free(session);
    sps_manager_free(manager);
    return 0;
}
