/* RedisStore through the C ABI, against a real redis-server this test starts
 * on a free 127.0.0.1 port: a visit counter; two stores (two web machines)
 * sharing sessions; refused arguments and options; a Redis that is down or
 * hung gives SPS_IO quickly, and the next call after it is back works. */
#define _DEFAULT_SOURCE
#include "redis_server.h"

#include <stdint.h>

static int port;
static char url[64];

/* One request: read "visited", write visited + 1, commit. Returns the count
 * seen and replaces *cookie with the one to send next time. */
static int64_t visit(const sps_manager *manager, char **cookie) {
    sps_request req = cookie_request(*cookie);
    sps_session *s = NULL;
    CHECK_OK(sps_session_begin(manager, &req, &s));
    int64_t visited = 0;
    sps_status st = sps_session_get_int(s, S("visited"), &visited);
    CHECK(st == SPS_OK || st == SPS_NOT_FOUND);
    CHECK_OK(sps_session_set_int(s, S("visited"), visited + 1));
    sps_buf set_cookie = {0};
    CHECK_OK(sps_session_commit(s, &set_cookie));
    free(*cookie);
    *cookie = cookie_from_set_cookie(&set_cookie);
    sps_buf_free(&set_cookie);
    sps_session_free(s);
    return visited;
}

/* The session id a cookie carries ("spysession=<id>"). */
static const char *cookie_id(const char *cookie) {
    const char *eq = strchr(cookie, '=');
    CHECK(eq != NULL && strlen(eq + 1) == SPS_ID_LEN);
    return eq + 1;
}

static sps_store *open_store(const char *prefix) {
    sps_redis_options options;
    CHECK_OK(sps_redis_options_init(&options, sizeof options));
    options.prefix = prefix;
    options.prefix_len = strlen(prefix);
    sps_store *store = NULL;
    CHECK_OK(sps_store_open_redis(url, strlen(url), &options, &store));
    CHECK(store != NULL);
    return store;
}

static void defaults(void) {
    sps_redis_options options;
    CHECK_OK(sps_redis_options_init(&options, sizeof options));
    CHECK(options.struct_size == sizeof options);
    CHECK(options.prefix == NULL && options.prefix_len == 0); /* "spysession:" */
    CHECK(options.connect_timeout_ms == 2000);
    CHECK(options.command_timeout_ms == 2000);
    CHECK(options.pool_size == 8);
}

static void visits_through_redis(void) {
    sps_store *store = open_store("ctest-visits:");
    sps_manager *manager = NULL;
    CHECK_OK(sps_manager_new(store, NULL, &manager));
    sps_store_free(store); /* the manager keeps it alive */
    char *cookie = NULL;
    CHECK(visit(manager, &cookie) == 0);
    CHECK(visit(manager, &cookie) == 1);
    CHECK(visit(manager, &cookie) == 2);
    char *other = NULL;
    CHECK(visit(manager, &other) == 0); /* no cookie: a new session */

    /* The records are in Redis, under the prefix. */
    store = open_store("ctest-visits:");
    uint64_t n = 0;
    CHECK_OK(sps_store_len(store, &n));
    CHECK(n == 2);
    sps_buf record = {0};
    CHECK_OK(sps_store_load(store, cookie_id(cookie), SPS_ID_LEN, sps_now(), &record));
    CHECK(record.len > 0);
    sps_buf_free(&record);
    /* Another prefix is another site: it sees none of them. */
    sps_store *elsewhere = open_store("ctest-elsewhere:");
    CHECK_OK(sps_store_len(elsewhere, &n));
    CHECK(n == 0);
    CHECK_STATUS(SPS_NOT_FOUND,
                 sps_store_load(elsewhere, cookie_id(cookie), SPS_ID_LEN, sps_now(), &record));
    sps_store_free(elsewhere);

    /* Nothing is expired now; far in the future everything is. */
    uint64_t removed = 99;
    CHECK_OK(sps_store_clean(store, sps_now(), &removed));
    CHECK(removed == 0);
    bool existed = false;
    CHECK_OK(sps_store_delete(store, cookie_id(other), SPS_ID_LEN, &existed));
    CHECK(existed);
    CHECK_OK(sps_store_clean(store, sps_now() + 10 * 86400.0, &removed));
    CHECK(removed == 1);
    CHECK_OK(sps_store_len(store, &n));
    CHECK(n == 0);
    sps_stats stats;
    CHECK_OK(sps_store_stats(store, &stats));
    CHECK(stats.cleaned == 1);
    sps_store_free(store);
    free(other);
    free(cookie);
    sps_manager_free(manager);
}

/* Two web machines behind a load balancer: each opens its own store on the
 * same Redis; a browser's requests alternate between them. */
static void two_machines_share_sessions(void) {
    sps_store *store_a = open_store("ctest-machines:");
    sps_store *store_b = open_store("ctest-machines:");
    sps_manager *a = NULL, *b = NULL;
    CHECK_OK(sps_manager_new(store_a, NULL, &a));
    CHECK_OK(sps_manager_new(store_b, NULL, &b));
    char *cookie = NULL;
    CHECK(visit(a, &cookie) == 0);
    CHECK(visit(b, &cookie) == 1);
    CHECK(visit(a, &cookie) == 2);
    CHECK(visit(b, &cookie) == 3);
    sps_stats stats;
    CHECK_OK(sps_store_stats(store_b, &stats));
    CHECK(stats.loads >= 2 && stats.commits == 2); /* counters are per store object */
    sps_manager_free(a);
    sps_manager_free(b);
    sps_store_free(store_a);
    sps_store_free(store_b);
    free(cookie);
}

#define INVALID(call) CHECK_STATUS(SPS_INVALID_ARGUMENT, call)

/* SPS_CONFIG, the message naming `option`. */
static void check_config(const char *u, const sps_redis_options *options, const char *option) {
    sps_store *store = NULL;
    CHECK_STATUS(SPS_CONFIG, sps_store_open_redis(u, strlen(u), options, &store));
    CHECK(store == NULL);
    CHECK_CONTAINS(sps_last_error(), option);
}

static void refused_arguments(void) {
    sps_store *store = NULL;
    sps_redis_options options;
    INVALID(sps_redis_options_init(NULL, sizeof options));
    INVALID(sps_redis_options_init(&options, sizeof options - 1));
    CHECK_OK(sps_redis_options_init(&options, sizeof options));

    INVALID(sps_store_open_redis(NULL, 0, NULL, &store));
    INVALID(sps_store_open_redis(NULL, 9, NULL, &store));
    INVALID(sps_store_open_redis(url, strlen(url), NULL, NULL));
    INVALID(sps_store_open_redis("redis://\xff", 9, NULL, &store));
    options.struct_size = 3;
    INVALID(sps_store_open_redis(url, strlen(url), &options, &store));
    CHECK_OK(sps_redis_options_init(&options, sizeof options));
    options.prefix = NULL;
    options.prefix_len = 4;
    INVALID(sps_store_open_redis(url, strlen(url), &options, &store));
    options.prefix = "\xfe\xff";
    options.prefix_len = 2;
    INVALID(sps_store_open_redis(url, strlen(url), &options, &store));
    CHECK(store == NULL);

    check_config("", NULL, "url");
    check_config("localhost:6379", NULL, "url");
    check_config("http://127.0.0.1/", NULL, "url");
    check_config("redis+sentinel://127.0.0.1:1", NULL, "url"); /* no primary name */
    CHECK_OK(sps_redis_options_init(&options, sizeof options));
    options.tls_ca_file = "/nonexistent/ca.crt";
    options.tls_ca_file_len = strlen(options.tls_ca_file);
    check_config("rediss://127.0.0.1/", &options, "tls_ca_file");
    CHECK_OK(sps_redis_options_init(&options, sizeof options));
    options.connect_timeout_ms = 0;
    check_config(url, &options, "connect_timeout");
    CHECK_OK(sps_redis_options_init(&options, sizeof options));
    options.command_timeout_ms = 0;
    check_config(url, &options, "command_timeout");
    CHECK_OK(sps_redis_options_init(&options, sizeof options));
    options.pool_size = 0;
    check_config(url, &options, "pool_size");
    CHECK(store == NULL);

    /* A well-formed URL opens without connecting; a bad id is refused. */
    CHECK_OK(sps_store_open_redis(S("redis://127.0.0.1:1/0"), NULL, &store));
    bool existed;
    INVALID(sps_store_delete(store, S("not-an-id"), &existed));
    sps_store_free(store);
    sps_store_free(NULL);
}

/* A store on `u` with short timeouts: every call is SPS_IO within `bound`
 * seconds, however the server fails. */
static void calls_fail_quickly(const char *u, double bound) {
    sps_redis_options options;
    CHECK_OK(sps_redis_options_init(&options, sizeof options));
    options.connect_timeout_ms = 200;
    options.command_timeout_ms = 200;
    sps_store *store = NULL;
    CHECK_OK(sps_store_open_redis(u, strlen(u), &options, &store));
    sps_manager *manager = NULL;
    CHECK_OK(sps_manager_new(store, NULL, &manager));

    double start = mono_now();
    uint64_t n = 0;
    CHECK_STATUS(SPS_IO, sps_store_len(store, &n));
    CHECK_CONTAINS(sps_last_error(), "SPS_IO");
    /* A request carrying a cookie must load it: SPS_IO, no session. */
    char cookie[] = "spysession=0123456789abcdef0123456789abcdef";
    sps_request req = cookie_request(cookie);
    sps_session *s = NULL;
    CHECK_STATUS(SPS_IO, sps_session_begin(manager, &req, &s));
    CHECK(s == NULL);
    /* A new session is made without the store; its commit fails. */
    req = cookie_request(NULL);
    CHECK_OK(sps_session_begin(manager, &req, &s));
    CHECK_OK(sps_session_set_int(s, S("visited"), 1));
    sps_buf set_cookie = {0};
    CHECK_STATUS(SPS_IO, sps_session_commit(s, &set_cookie));
    CHECK(set_cookie.data == NULL);
    sps_session_free(s);
    double took = mono_now() - start;
    if (took > bound) FAIL("three failing calls took %.2f s (bound %.2f s)", took, bound);

    sps_manager_free(manager);
    sps_store_free(store);
}

static void down_server_is_io_quickly(void) {
    char down[64];
    snprintf(down, sizeof down, "redis://127.0.0.1:%d/0", free_port());
    calls_fail_quickly(down, 2.0); /* refused at once */
}

static void hung_server_is_io_within_the_timeouts(void) {
    /* Accepts TCP connections (the kernel does) but never answers. */
    int hung_port = 0;
    int fd = bound_socket(&hung_port);
    CHECK(listen(fd, 64) == 0);
    char hung[64];
    snprintf(hung, sizeof hung, "redis://127.0.0.1:%d/0", hung_port);
    /* Three calls, each at most about connect + command timeout. */
    calls_fail_quickly(hung, 3 * 0.4 + 2.0);
    close(fd);
}

/* Redis killed mid-run: SPS_IO quickly; restarted: the next request works. */
static void redis_restart(void) {
    sps_redis_options options;
    CHECK_OK(sps_redis_options_init(&options, sizeof options));
    options.connect_timeout_ms = 300;
    options.command_timeout_ms = 300;
    sps_store *store = NULL;
    CHECK_OK(sps_store_open_redis(url, strlen(url), &options, &store));
    sps_manager *manager = NULL;
    CHECK_OK(sps_manager_new(store, NULL, &manager));
    char *cookie = NULL;
    CHECK(visit(manager, &cookie) == 0);
    CHECK(visit(manager, &cookie) == 1);

    redis_stop();
    double start = mono_now();
    uint64_t n = 0;
    CHECK_STATUS(SPS_IO, sps_store_len(store, &n));
    sps_request req = cookie_request(cookie);
    sps_session *s = NULL;
    CHECK_STATUS(SPS_IO, sps_session_begin(manager, &req, &s));
    double took = mono_now() - start;
    if (took > 2.0) FAIL("calls on a stopped Redis took %.2f s", took);

    redis_start(port);
    /* No persistence: the session is gone, and a new one starts from 0. */
    CHECK(visit(manager, &cookie) == 0);
    CHECK(visit(manager, &cookie) == 1);
    CHECK_OK(sps_store_len(store, &n));
    CHECK(n == 1);
    free(cookie);
    sps_manager_free(manager);
    sps_store_free(store);
}

/* TLS is in every build: rediss:// with the test CA as tls_ca_file works;
 * the system's roots, which do not know that CA, are refused (SPS_IO). */
static void rediss_with_a_ca_file(void) {
    char dir[] = "/tmp/sps-tls-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    make_certificates(dir);
    redis_stop();
    int tls_port = free_port();
    redis_start_in(tls_port, dir);
    char tls_url[64], ca[512];
    snprintf(tls_url, sizeof tls_url, "rediss://127.0.0.1:%d/0", tls_port);
    snprintf(ca, sizeof ca, "%s/ca.crt", dir);

    sps_redis_options options;
    CHECK_OK(sps_redis_options_init(&options, sizeof options));
    options.tls_ca_file = ca;
    options.tls_ca_file_len = strlen(ca);
    /* The TLS handshake is slow under valgrind: room for it. */
    options.connect_timeout_ms = 20000;
    options.command_timeout_ms = 20000;
    sps_store *store = NULL;
    CHECK_OK(sps_store_open_redis(tls_url, strlen(tls_url), &options, &store));
    sps_manager *manager = NULL;
    CHECK_OK(sps_manager_new(store, NULL, &manager));
    char *cookie = NULL;
    CHECK(visit(manager, &cookie) == 0);
    CHECK(visit(manager, &cookie) == 1);
    uint64_t n = 0;
    CHECK_OK(sps_store_len(store, &n));
    CHECK(n == 1);
    free(cookie);
    sps_manager_free(manager);
    sps_store_free(store);

    CHECK_OK(sps_redis_options_init(&options, sizeof options));
    options.connect_timeout_ms = 1000;
    CHECK_OK(sps_store_open_redis(tls_url, strlen(tls_url), &options, &store));
    CHECK_STATUS(SPS_IO, sps_store_len(store, &n));
    sps_store_free(store);
    redis_stop();
    char cleanup[600];
    snprintf(cleanup, sizeof cleanup, "rm -rf '%s'", dir);
    CHECK(system(cleanup) == 0);
}

int main(void) {
    port = free_port();
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", port);
    redis_start(port);
    RUN(defaults);
    RUN(visits_through_redis);
    RUN(two_machines_share_sessions);
    RUN(refused_arguments);
    RUN(down_server_is_io_quickly);
    RUN(hung_server_is_io_within_the_timeouts);
    RUN(redis_restart);
    RUN(rediss_with_a_ca_file);
    redis_stop();
    return 0;
}
