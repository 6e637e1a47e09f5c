/* A visit counter across three requests carrying the cookie, with a memory
 * store and with an LMDB store; the version macros against the library. */
#define _DEFAULT_SOURCE
#include "check.h"

#include <stdint.h>
#include <unistd.h>

/* One request: read "visited", write visited + 1, commit. Returns the count
 * seen and replaces *cookie with the one to send next time. */
static int64_t visit(const sps_manager *manager, char **cookie) {
    sps_request req = cookie_request(*cookie);
    sps_session *s = NULL;
    CHECK_OK(sps_session_begin(manager, &req, &s));
    int64_t visited = 0;
    sps_status st = sps_session_get_int(s, S("visited"), &visited);
    CHECK(st == SPS_OK || st == SPS_NOT_FOUND);
    bool is_new = false;
    CHECK_OK(sps_session_is_new(s, &is_new));
    CHECK(is_new == (visited == 0));
    CHECK_OK(sps_session_set_int(s, S("visited"), visited + 1));
    sps_buf set_cookie = {0};
    CHECK_OK(sps_session_commit(s, &set_cookie));
    char id[SPS_ID_SIZE];
    CHECK_OK(sps_session_id(s, id, sizeof id));
    CHECK(strlen(id) == SPS_ID_LEN);
    CHECK(strspn(id, "0123456789abcdef") == SPS_ID_LEN);
    /* Every write re-sends a persistent cookie carrying the id. */
    CHECK_CONTAINS((const char *)set_cookie.data, id);
    CHECK_CONTAINS((const char *)set_cookie.data, "Max-Age=86400");
    CHECK_CONTAINS((const char *)set_cookie.data, "Path=/");
    CHECK_CONTAINS((const char *)set_cookie.data, "HttpOnly");
    CHECK_CONTAINS((const char *)set_cookie.data, "SameSite=Lax");
    free(*cookie);
    *cookie = cookie_from_set_cookie(&set_cookie);
    sps_buf_free(&set_cookie);
    CHECK(set_cookie.data == NULL && set_cookie.len == 0);
    sps_session_free(s);
    return visited;
}

static void count_three_visits(sps_store *store) {
    sps_manager *manager = NULL;
    CHECK_OK(sps_manager_new(store, NULL, &manager));
    char *cookie = NULL;
    CHECK(visit(manager, &cookie) == 0);
    char *first = strdup(cookie);
    CHECK(visit(manager, &cookie) == 1);
    CHECK(visit(manager, &cookie) == 2);
    CHECK(strcmp(first, cookie) == 0); /* same session all along */
    /* A browser without the cookie starts over. */
    char *none = NULL;
    CHECK(visit(manager, &none) == 0);
    CHECK(strcmp(none, cookie) != 0);
    free(none);
    free(first);
    free(cookie);
    sps_manager_free(manager);
}

static void visits_in_memory(void) {
    sps_store *store = NULL;
    CHECK_OK(sps_store_open_memory(0, &store));
    count_three_visits(store);
    sps_stats stats;
    CHECK_OK(sps_store_stats(store, &stats));
    CHECK(stats.commits == 4);
    uint64_t n = 0;
    CHECK_OK(sps_store_len(store, &n));
    CHECK(n == 2);
    sps_store_free(store);
}

static void visits_in_lmdb(void) {
    char dir[] = "/tmp/sps-c-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    sps_dbm_options options;
    CHECK_OK(sps_dbm_options_init(&options, sizeof options));
    CHECK(options.durable);
    CHECK(options.map_size == ((size_t)1 << 30));
    options.durable = false;
    options.map_size = 16u << 20;
    sps_store *store = NULL;
    CHECK_OK(sps_store_open_dbm(dir, strlen(dir), &options, &store));
    count_three_visits(store);
    uint64_t n = 0;
    CHECK_OK(sps_store_len(store, &n));
    CHECK(n == 2);
    /* A second handle on the same directory sees the same records. */
    sps_store *again = NULL;
    CHECK_OK(sps_store_open_dbm(dir, strlen(dir), NULL, &again));
    CHECK_OK(sps_store_len(again, &n));
    CHECK(n == 2);
    sps_store_free(again);
    sps_store_free(store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

static void lmdb_path_that_is_a_file_is_io(void) {
    char path[] = "/tmp/sps-c-file-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    sps_store *store = NULL;
    CHECK_STATUS(SPS_IO, sps_store_open_dbm(path, strlen(path), NULL, &store));
    CHECK(store == NULL); /* out-pointers are written only on success */
    CHECK(strlen(sps_last_error()) > 0);
    unlink(path);
}

static void version_macros_match_library(void) {
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d", SPS_VERSION_MAJOR, SPS_VERSION_MINOR,
             SPS_VERSION_PATCH);
    CHECK(strcmp(sps_version(), want) == 0);
    CHECK(SPS_VERSION_NUMBER ==
          SPS_VERSION_MAJOR * 10000 + SPS_VERSION_MINOR * 100 + SPS_VERSION_PATCH);
}

int main(void) {
    RUN(version_macros_match_library);
    RUN(visits_in_memory);
    RUN(visits_in_lmdb);
    RUN(lmdb_path_that_is_a_file_is_io);
    return 0;
}
