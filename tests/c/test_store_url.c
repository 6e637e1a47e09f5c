/* sps_store_open_url: every store kind by its URL, the argument guards, and
 * errors that name the bad part without ever echoing a password. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "check.h"

#include <stdint.h>
#include <unistd.h>

/* A session set through a manager on `store` is found again by its cookie. */
static void round_trip(sps_store *store) {
    sps_manager *manager = NULL;
    CHECK_OK(sps_manager_new(store, NULL, &manager));
    sps_request req = {0};
    sps_session *s = NULL;
    CHECK_OK(sps_session_begin(manager, &req, &s));
    CHECK_OK(sps_session_set_int(s, S("n"), 7));
    sps_buf cookie = {0};
    CHECK_OK(sps_session_commit(s, &cookie));
    sps_session_free(s);
    CHECK(cookie.data != NULL);
    char header[128];
    snprintf(header, sizeof header, "%.*s", (int)strcspn((const char *)cookie.data, ";"),
             (const char *)cookie.data);
    sps_buf_free(&cookie);
    req.cookie = header;
    req.cookie_len = strlen(header);
    CHECK_OK(sps_session_begin(manager, &req, &s));
    int64_t n = 0;
    CHECK_OK(sps_session_get_int(s, S("n"), &n));
    CHECK(n == 7);
    sps_session_free(s);
    sps_manager_free(manager);
}

static void opens_each_kind(void) {
    sps_store *store = NULL;
    CHECK_OK(sps_store_open_url(S("memory:"), &store));
    round_trip(store);
    sps_store_free(store);

    char dir[] = "/tmp/sps-url-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char url[256];
    snprintf(url, sizeof url, "dbm://%s/store?durable=false", dir);
    CHECK_OK(sps_store_open_url(url, strlen(url), &store));
    round_trip(store);
    uint64_t len = 0;
    CHECK_OK(sps_store_len(store, &len));
    CHECK(len == 1);
    sps_store_free(store);
    /* The same directory as a bare path sees the same record. */
    snprintf(url, sizeof url, "%s/store", dir);
    CHECK_OK(sps_store_open_url(url, strlen(url), &store));
    CHECK_OK(sps_store_len(store, &len));
    CHECK(len == 1);
    sps_store_free(store);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);

    /* A Redis URL is checked at open and connects at first use. */
    CHECK_OK(sps_store_open_url(S("redis://127.0.0.1:1/0?connect_timeout=0.5"), &store));
    CHECK_STATUS(SPS_IO, sps_store_len(store, &len));
    sps_store_free(store);
}

static void guards(void) {
    sps_store *store = NULL;
    CHECK_STATUS(SPS_INVALID_ARGUMENT, sps_store_open_url(S("memory:"), NULL));
    CHECK_CONTAINS(sps_last_error(), "out_store");
    CHECK_STATUS(SPS_INVALID_ARGUMENT, sps_store_open_url(NULL, 7, &store));
    CHECK_STATUS(SPS_INVALID_ARGUMENT, sps_store_open_url("x", SIZE_MAX, &store));
    CHECK_STATUS(SPS_INVALID_ARGUMENT, sps_store_open_url(S("memory:\xff"), &store));
    CHECK_CONTAINS(sps_last_error(), "UTF-8");
    CHECK_STATUS(SPS_CONFIG, sps_store_open_url(NULL, 0, &store)); /* the empty URL */
    /* Pointer + length: what follows the length is not read. */
    CHECK_OK(sps_store_open_url("memory:GARBAGE", 7, &store));
    sps_store_free(store);
    store = NULL;

    static const struct {
        const char *url, *names;
    } bad[] = {
        {"memory:?colour=blue", "colour"},
        {"dbm:///tmp/x?map_size=big", "map_size"},
        {"gopher://host/", "gopher"},
        {"redis://admin:hunter2@host:99999/0", "99999"},
        {"redis://admin:hunter2@host/0?pool_size=0", "pool_size"},
        {"redis://admin:hunter2@host/0?password=x&colour=blue", "colour"},
        {"unix:///tmp/r.sock?pass=hunter2&colour=blue", "colour"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sps_status status = sps_store_open_url(bad[i].url, strlen(bad[i].url), &store);
        if (status != SPS_CONFIG) FAIL("%s: %s", bad[i].url, sps_status_name(status));
        CHECK(store == NULL); /* written only on success */
        CHECK_CONTAINS(sps_last_error(), bad[i].names);
        if (strstr(sps_last_error(), "hunter2") != NULL)
            FAIL("%s: the password is in the message: %s", bad[i].url, sps_last_error());
    }
}

int main(void) {
    opens_each_kind();
    guards();
    puts("test_store_url: ok");
    return 0;
}
