/* visits: a CGI program that counts a browser's visits with spysession.
 *
 * The session lives in an LMDB store directory shared with every other
 * process on the machine, Python ones included (the key "visited" is a
 * MessagePack int either side can read and write).
 *
 * Build:  make example-c            (writes build/visits, linked statically)
 *    or:  cc visits.c $(pkg-config --cflags --libs spysession)
 * Run:    HTTP_COOKIE='spysession=...' PATH_INFO=/ ./build/visits
 *
 * Environment (CGI): HTTP_COOKIE, QUERY_STRING, PATH_INFO; and
 * SPYSESSION_STORE, the store directory (default ./sessions, created if
 * missing).
 */
#include <spysession.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An environment variable as pointer + length; NULL/0 when unset. */
static const char *env(const char *name, size_t *len) {
    const char *value = getenv(name);
    *len = value ? strlen(value) : 0;
    return value;
}

/* Answers 500 with the library's message and returns the exit status. */
static int fail(const char *what) {
    fprintf(stderr, "visits: %s: %s\n", what, sps_last_error());
    printf("Status: 500 Internal Server Error\nContent-Type: text/plain\n\n"
           "session error\n");
    return 1;
}

int main(void) {
    size_t store_len;
    const char *store_dir = env("SPYSESSION_STORE", &store_len);
    if (store_dir == NULL || store_len == 0) {
        store_dir = "./sessions";
        store_len = strlen(store_dir);
    }

    sps_store *store = NULL;
    if (sps_store_open_dbm(store_dir, store_len, NULL, &store) != SPS_OK)
        return fail("opening the store");
    sps_manager *manager = NULL;
    sps_status status = sps_manager_new(store, NULL, &manager);
    sps_store_free(store); /* the manager keeps the store alive */
    if (status != SPS_OK) return fail("making the manager");

    sps_request request = {0};
    request.cookie = env("HTTP_COOKIE", &request.cookie_len);
    request.query = env("QUERY_STRING", &request.query_len);
    request.path = env("PATH_INFO", &request.path_len);

    sps_session *session = NULL;
    status = sps_session_begin(manager, &request, &session);
    sps_manager_free(manager); /* the session keeps the manager alive */
    if (status != SPS_OK) return fail("beginning the session");

    int64_t visited = 0;
    status = sps_session_get_int(session, "visited", strlen("visited"), &visited);
    if (status != SPS_OK && status != SPS_NOT_FOUND) {
        sps_session_free(session);
        return fail("reading visited");
    }
    if (sps_session_set_int(session, "visited", strlen("visited"), visited + 1) != SPS_OK) {
        sps_session_free(session);
        return fail("writing visited");
    }

    /* Commit before the headers: it gives the Set-Cookie value to send.
     * SPS_NOT_FOUND: the session was ended meanwhile (no resurrection). */
    sps_buf set_cookie = {0};
    status = sps_session_commit(session, &set_cookie);
    sps_session_free(session);
    if (status != SPS_OK && status != SPS_NOT_FOUND) return fail("committing");

    printf("Content-Type: text/plain\n");
    if (set_cookie.data != NULL) printf("Set-Cookie: %s\n", (const char *)set_cookie.data);
    printf("\n");
    printf("C sees visited=%" PRId64 ", now %" PRId64 "\n", visited, visited + 1);
    sps_buf_free(&set_cookie);
    return 0;
}
