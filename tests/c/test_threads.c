/* Two threads share one manager (over an LMDB store): each counts its own
 * visits, and both change different keys of one shared session at the same
 * time; every change is kept. */
#define _DEFAULT_SOURCE
#include "check.h"

#include <pthread.h>
#include <stdint.h>

#define ROUNDS 40

static sps_manager *manager;
static char shared_cookie[128];

typedef struct {
    char prefix; /* 'a' or 'b': the keys this thread writes */
    int64_t final_count;
} worker;

static void *run_worker(void *arg) {
    worker *w = arg;
    char *own = NULL;
    for (int i = 0; i < ROUNDS; i++) {
        /* Its own session: a visit counter. */
        sps_request req = cookie_request(own);
        sps_session *s = NULL;
        CHECK_OK(sps_session_begin(manager, &req, &s));
        int64_t n = 0;
        sps_status st = sps_session_get_int(s, S("n"), &n);
        CHECK(st == SPS_OK || (st == SPS_NOT_FOUND && i == 0));
        CHECK(n == i);
        CHECK_OK(sps_session_set_int(s, S("n"), n + 1));
        sps_buf c = {0};
        CHECK_OK(sps_session_commit(s, &c));
        if (own == NULL) own = cookie_from_set_cookie(&c);
        sps_buf_free(&c);
        sps_session_free(s);
        w->final_count = n + 1;

        /* The shared session: a key of its own per round. */
        req = cookie_request(shared_cookie);
        CHECK_OK(sps_session_begin(manager, &req, &s));
        bool fresh = true;
        CHECK_OK(sps_session_is_new(s, &fresh));
        CHECK(!fresh);
        char key[16];
        int len = snprintf(key, sizeof key, "%c%d", w->prefix, i);
        CHECK_OK(sps_session_set_int(s, key, (size_t)len, i));
        CHECK_OK(sps_session_commit(s, &c));
        sps_buf_free(&c);
        sps_session_free(s);
    }
    free(own);
    return NULL;
}

static void two_threads_share_one_manager(void) {
    /* Create the shared session first. */
    sps_request req = cookie_request(NULL);
    sps_session *s = NULL;
    CHECK_OK(sps_session_begin(manager, &req, &s));
    CHECK_OK(sps_session_set_bool(s, S("shared"), true));
    sps_buf c = {0};
    CHECK_OK(sps_session_commit(s, &c));
    char *cookie = cookie_from_set_cookie(&c);
    CHECK(strlen(cookie) < sizeof shared_cookie);
    strcpy(shared_cookie, cookie);
    free(cookie);
    sps_buf_free(&c);
    sps_session_free(s);

    worker a = {'a', 0}, b = {'b', 0};
    pthread_t ta, tb;
    CHECK(pthread_create(&ta, NULL, run_worker, &a) == 0);
    CHECK(pthread_create(&tb, NULL, run_worker, &b) == 0);
    CHECK(pthread_join(ta, NULL) == 0);
    CHECK(pthread_join(tb, NULL) == 0);
    CHECK(a.final_count == ROUNDS && b.final_count == ROUNDS);

    req = cookie_request(shared_cookie);
    CHECK_OK(sps_session_begin(manager, &req, &s));
    size_t n = 0;
    CHECK_OK(sps_session_len(s, &n));
    CHECK(n == 1 + 2 * ROUNDS);
    for (int i = 0; i < ROUNDS; i++) {
        char key[16];
        int64_t v = -1;
        int len = snprintf(key, sizeof key, "a%d", i);
        CHECK_OK(sps_session_get_int(s, key, (size_t)len, &v));
        CHECK(v == i);
        len = snprintf(key, sizeof key, "b%d", i);
        CHECK_OK(sps_session_get_int(s, key, (size_t)len, &v));
        CHECK(v == i);
    }
    sps_session_free(s);
}


static void *fail_once(void *arg) {
    (void)arg;
    uint64_t n;
    CHECK_STATUS(SPS_INVALID_ARGUMENT, sps_store_len(NULL, &n));
    CHECK_CONTAINS(sps_last_error(), "store is NULL");
    return NULL;
}

static void last_error_is_per_thread(void) {
    CHECK_STATUS(SPS_INVALID_ARGUMENT, sps_store_open_memory(0, NULL));
    CHECK_CONTAINS(sps_last_error(), "out_store is NULL");
    pthread_t t;
    CHECK(pthread_create(&t, NULL, fail_once, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK_CONTAINS(sps_last_error(), "out_store is NULL");
}

int main(void) {
    char dir[] = "/tmp/sps-c-threads-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    sps_dbm_options dopts;
    CHECK_OK(sps_dbm_options_init(&dopts, sizeof dopts));
    dopts.durable = false;
    dopts.map_size = 64u << 20;
    sps_store *store = NULL;
    CHECK_OK(sps_store_open_dbm(dir, strlen(dir), &dopts, &store));
    CHECK_OK(sps_manager_new(store, NULL, &manager));
    sps_store_free(store);
    RUN(two_threads_share_one_manager);
    RUN(last_error_is_per_thread);
    sps_manager_free(manager);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    return 0;
}
