/* regenerate, invalidate, no resurrection, options (cookie attributes,
 * config errors naming the option), get/post transports, per-page options,
 * max_lifetime. Time comes from an injected clock: no sleeps. */
#include "check.h"

#include <stdint.h>

typedef struct {
    double now;
} fake_clock;

static double clock_now(void *user_data) {
    return ((fake_clock *)user_data)->now;
}

static fake_clock clk = {2000000.0};
static sps_store *store;

static sps_manager *new_manager(const sps_manager_options *opts) {
    sps_manager *m = NULL;
    CHECK_OK(sps_manager_new(store, opts, &m));
    return m;
}

static sps_manager_options clocked_options(void) {
    sps_manager_options opts;
    CHECK_OK(sps_manager_options_init(&opts, sizeof opts));
    opts.clock = clock_now;
    opts.clock_user_data = &clk;
    return opts;
}

static sps_session *begin(const sps_manager *m, const char *cookie) {
    sps_request req = cookie_request(cookie);
    sps_session *s = NULL;
    CHECK_OK(sps_session_begin(m, &req, &s));
    return s;
}

static char *commit_for_cookie(sps_session *s) {
    sps_buf set_cookie = {0};
    CHECK_OK(sps_session_commit(s, &set_cookie));
    char *cookie = cookie_from_set_cookie(&set_cookie);
    sps_buf_free(&set_cookie);
    return cookie;
}

static char *stored(const sps_manager *m, const char *key, int64_t value) {
    sps_session *s = begin(m, NULL);
    CHECK_OK(sps_session_set_int(s, key, strlen(key), value));
    char *cookie = commit_for_cookie(s);
    sps_session_free(s);
    return cookie;
}

static bool is_new(const sps_manager *m, const char *cookie) {
    sps_session *s = begin(m, cookie);
    bool fresh = false;
    CHECK_OK(sps_session_is_new(s, &fresh));
    sps_session_free(s);
    return fresh;
}

static void regenerate_keeps_data_under_a_new_id(void) {
    sps_manager_options opts = clocked_options();
    sps_manager *m = new_manager(&opts);
    char *cookie = stored(m, "user", 7);
    sps_session *s = begin(m, cookie);
    CHECK_OK(sps_session_regenerate(s));
    char *new_cookie = commit_for_cookie(s);
    CHECK(strcmp(cookie, new_cookie) != 0);
    sps_session_free(s);
    CHECK(is_new(m, cookie)); /* the old id was deleted */
    s = begin(m, new_cookie);
    int64_t user = 0;
    CHECK_OK(sps_session_get_int(s, S("user"), &user));
    CHECK(user == 7);
    sps_session_free(s);
    free(cookie);
    free(new_cookie);
    sps_manager_free(m);
}

static void invalidate_deletes_and_expires_the_cookie(void) {
    sps_manager_options opts = clocked_options();
    sps_manager *m = new_manager(&opts);
    char *cookie = stored(m, "user", 7);
    sps_session *s = begin(m, cookie);
    CHECK_OK(sps_session_invalidate(s));
    size_t n = 99;
    CHECK_OK(sps_session_len(s, &n));
    CHECK(n == 0);
    sps_buf set_cookie = {0};
    CHECK_OK(sps_session_commit(s, &set_cookie));
    CHECK_CONTAINS((const char *)set_cookie.data, "Max-Age=0");
    sps_buf_free(&set_cookie);
    sps_session_free(s);
    CHECK(is_new(m, cookie));
    free(cookie);
    sps_manager_free(m);
}

static void no_resurrection_after_logout(void) {
    sps_manager_options opts = clocked_options();
    sps_manager *m = new_manager(&opts);
    char *cookie = stored(m, "user", 7);
    sps_session *stale = begin(m, cookie);  /* a slow request */
    sps_session *logout = begin(m, cookie); /* a logout at the same time */
    CHECK_OK(sps_session_invalidate(logout));
    sps_buf set_cookie = {0};
    CHECK_OK(sps_session_commit(logout, &set_cookie));
    sps_buf_free(&set_cookie);
    CHECK_OK(sps_session_set_int(stale, S("cart"), 1));
    CHECK_STATUS(SPS_NOT_FOUND, sps_session_commit(stale, &set_cookie));
    CHECK(set_cookie.data == NULL);
    CHECK(is_new(m, cookie));
    sps_stats stats;
    CHECK_OK(sps_store_stats(store, &stats));
    CHECK(stats.dropped >= 1);
    sps_session_free(stale);
    sps_session_free(logout);
    free(cookie);
    sps_manager_free(m);
}

static void lazy_creation_sets_no_cookie(void) {
    sps_manager *m = new_manager(NULL);
    sps_session *s = begin(m, NULL);
    sps_buf set_cookie = {(uint8_t *)"untouched", 9};
    CHECK_OK(sps_session_commit(s, &set_cookie));
    CHECK(set_cookie.data == NULL && set_cookie.len == 0);
    sps_session_free(s);
    sps_manager_free(m);
}

static void cookie_attributes_follow_options(void) {
    sps_manager_options opts = clocked_options();
    opts.path = "/shop";
    opts.path_len = 5;
    opts.cookie_name = "sid";
    opts.cookie_name_len = 3;
    opts.domain = "example.org";
    opts.domain_len = 11;
    opts.secure = true;
    opts.httponly = false;
    opts.samesite = SPS_SAMESITE_STRICT;
    opts.expire = 600;
    sps_manager *m = new_manager(&opts);
    sps_request req = cookie_request(NULL);
    req.path = "/shop/cart";
    req.path_len = strlen(req.path);
    sps_session *s = NULL;
    CHECK_OK(sps_session_begin(m, &req, &s));
    double expires_at = 0;
    CHECK_OK(sps_session_expires_at(s, &expires_at));
    CHECK(expires_at == clk.now + 600);
    CHECK_OK(sps_session_set_bool(s, S("x"), true));
    sps_buf c = {0};
    CHECK_OK(sps_session_commit(s, &c));
    const char *text = (const char *)c.data;
    CHECK(strncmp(text, "sid=", 4) == 0);
    CHECK_CONTAINS(text, "Path=/shop");
    CHECK_CONTAINS(text, "Domain=example.org");
    CHECK_CONTAINS(text, "Secure");
    CHECK_CONTAINS(text, "SameSite=Strict");
    CHECK_CONTAINS(text, "Max-Age=600");
    CHECK(strstr(text, "HttpOnly") == NULL);
    char *cookie = cookie_from_set_cookie(&c);
    sps_buf_free(&c);
    sps_session_free(s);
    /* Outside the session path: a fresh session, never an error. */
    req = cookie_request(cookie);
    req.path = "/shopping";
    req.path_len = strlen(req.path);
    CHECK_OK(sps_session_begin(m, &req, &s));
    bool fresh = false;
    CHECK_OK(sps_session_is_new(s, &fresh));
    CHECK(fresh);
    sps_session_free(s);
    free(cookie);
    sps_manager_free(m);
}

static void refused_options_name_themselves(void) {
    sps_manager_options opts;
    sps_manager *m = NULL;

    CHECK_OK(sps_manager_options_init(&opts, sizeof opts));
    opts.expire = -1;
    CHECK_STATUS(SPS_CONFIG, sps_manager_new(store, &opts, &m));
    CHECK_CONTAINS(sps_last_error(), "expire");

    CHECK_OK(sps_manager_options_init(&opts, sizeof opts));
    opts.path = "/a;b";
    opts.path_len = 4;
    CHECK_STATUS(SPS_CONFIG, sps_manager_new(store, &opts, &m));
    CHECK_CONTAINS(sps_last_error(), "path");

    CHECK_OK(sps_manager_options_init(&opts, sizeof opts));
    opts.domain = "x.org\r\nSet-Cookie: a=b";
    opts.domain_len = strlen(opts.domain);
    CHECK_STATUS(SPS_CONFIG, sps_manager_new(store, &opts, &m));
    CHECK_CONTAINS(sps_last_error(), "domain");

    CHECK_OK(sps_manager_options_init(&opts, sizeof opts));
    opts.samesite = SPS_SAMESITE_NONE; /* without secure */
    CHECK_STATUS(SPS_CONFIG, sps_manager_new(store, &opts, &m));
    CHECK_CONTAINS(sps_last_error(), "samesite");
    opts.samesite = 77;
    CHECK_STATUS(SPS_CONFIG, sps_manager_new(store, &opts, &m));

    CHECK_OK(sps_manager_options_init(&opts, sizeof opts));
    opts.transports[0] = 9;
    CHECK_STATUS(SPS_CONFIG, sps_manager_new(store, &opts, &m));
    CHECK_CONTAINS(sps_last_error(), "transport");
    opts.transports_len = 0;
    CHECK_STATUS(SPS_CONFIG, sps_manager_new(store, &opts, &m));
    opts.transports_len = 4;
    CHECK_STATUS(SPS_INVALID_ARGUMENT, sps_manager_new(store, &opts, &m));

    CHECK_OK(sps_manager_options_init(&opts, sizeof opts));
    opts.has_touch_interval = true;
    opts.touch_interval = -5;
    CHECK_STATUS(SPS_CONFIG, sps_manager_new(store, &opts, &m));
    CHECK_CONTAINS(sps_last_error(), "touch_interval");

    CHECK_OK(sps_manager_options_init(&opts, sizeof opts));
    opts.has_max_lifetime = true;
    opts.max_lifetime = -5;
    CHECK_STATUS(SPS_CONFIG, sps_manager_new(store, &opts, &m));
    CHECK_CONTAINS(sps_last_error(), "max_lifetime");

    /* An older (smaller) struct than the library's is refused. */
    CHECK_OK(sps_manager_options_init(&opts, sizeof opts));
    opts.struct_size = sizeof opts - 8;
    CHECK_STATUS(SPS_INVALID_ARGUMENT, sps_manager_new(store, &opts, &m));
    CHECK_STATUS(SPS_INVALID_ARGUMENT, sps_manager_options_init(&opts, sizeof opts - 8));
    CHECK(m == NULL);

    /* A newer header's struct (a field added at the end) works while that
       field keeps its zero default, which init writes; set, it is refused
       rather than ignored. */
    struct {
        sps_manager_options o;
        uint64_t newer;
    } big;
    big.newer = 0xdead;
    CHECK_OK(sps_manager_options_init(&big.o, sizeof big));
    CHECK(big.newer == 0);
    CHECK(big.o.struct_size == sizeof big);
    CHECK_OK(sps_manager_new(store, &big.o, &m));
    sps_manager_free(m);
    m = NULL;
    big.newer = 1;
    CHECK_STATUS(SPS_INVALID_ARGUMENT, sps_manager_new(store, &big.o, &m));
    CHECK_CONTAINS(sps_last_error(), "does not know");
    CHECK(m == NULL);
}

static void get_and_post_transports(void) {
    sps_manager_options opts = clocked_options();
    opts.transports[0] = SPS_TRANSPORT_GET;
    opts.transports[1] = SPS_TRANSPORT_POST;
    opts.transports_len = 2;
    sps_manager *m = new_manager(&opts);
    sps_session *s = begin(m, NULL);
    CHECK_OK(sps_session_set_int(s, S("n"), 5));
    sps_buf c = {0};
    CHECK_OK(sps_session_commit(s, &c));
    CHECK(c.data == NULL); /* get and post set no cookie */
    char id[SPS_ID_SIZE];
    CHECK_OK(sps_session_id(s, id, sizeof id));
    sps_buf url = {0}, field = {0};
    CHECK_OK(sps_session_url(s, S("/next?a=1#top"), &url));
    char want[128];
    snprintf(want, sizeof want, "/next?a=1&spysession=%s#top", id);
    CHECK_BUF_EQ(url, want);
    CHECK_OK(sps_session_form_field(s, &field));
    CHECK_CONTAINS((const char *)field.data, id);
    CHECK_CONTAINS((const char *)field.data, "type=\"hidden\"");
    sps_session_free(s);

    char query[128];
    snprintf(query, sizeof query, "a=1&spysession=%s", id);
    sps_request req = cookie_request(NULL);
    req.query = query;
    req.query_len = strlen(query);
    CHECK_OK(sps_session_begin(m, &req, &s));
    int64_t n = 0;
    CHECK_OK(sps_session_get_int(s, S("n"), &n));
    CHECK(n == 5);
    sps_session_free(s);

    req = cookie_request(NULL);
    req.form = query;
    req.form_len = strlen(query);
    CHECK_OK(sps_session_begin(m, &req, &s));
    CHECK_OK(sps_session_get_int(s, S("n"), &n));
    CHECK(n == 5);
    sps_session_free(s);
    sps_buf_free(&url);
    sps_buf_free(&field);
    sps_manager_free(m);
}

static void per_page_options_and_max_lifetime(void) {
    sps_manager_options opts = clocked_options();
    opts.has_max_lifetime = true;
    opts.max_lifetime = 1000;
    sps_manager *m = new_manager(&opts);
    sps_request req = cookie_request(NULL);
    sps_page_options page = {true, 60, "/admin", 6};
    req.path = "/admin/x";
    req.path_len = strlen(req.path);
    sps_session *s = NULL;
    CHECK_OK(sps_session_begin_page(m, &req, &page, &s));
    CHECK_OK(sps_session_set_int(s, S("a"), 1));
    sps_buf c = {0};
    CHECK_OK(sps_session_commit(s, &c));
    CHECK_CONTAINS((const char *)c.data, "Max-Age=60");
    CHECK_CONTAINS((const char *)c.data, "Path=/admin");
    sps_buf_free(&c);
    sps_session_free(s);
    page.expire = -1;
    CHECK_STATUS(SPS_CONFIG, sps_session_begin_page(m, &req, &page, &s));

    /* Active every 500 s, the session still ends 1000 s after creation. */
    char *cookie = stored(m, "a", 1);
    for (int i = 0; i < 2; i++) {
        clk.now += 499;
        sps_session *t = begin(m, cookie);
        bool fresh = true;
        CHECK_OK(sps_session_is_new(t, &fresh));
        CHECK(!fresh);
        CHECK_OK(sps_session_set_int(t, S("a"), i));
        CHECK_OK(sps_session_commit(t, &c));
        sps_buf_free(&c);
        sps_session_free(t);
    }
    clk.now += 2; /* 1000 s after creation */
    CHECK(is_new(m, cookie));
    free(cookie);
    sps_manager_free(m);
}

static void strict_refuses_unknown_ids(void) {
    sps_manager *m = new_manager(NULL);
    const char *cookie = "spysession=0123456789abcdef0123456789abcdef";
    sps_session *s = begin(m, cookie);
    char id[SPS_ID_SIZE];
    CHECK_OK(sps_session_id(s, id, sizeof id));
    CHECK(strcmp(id, "0123456789abcdef0123456789abcdef") != 0);
    sps_session_free(s);
    sps_manager_options opts;
    CHECK_OK(sps_manager_options_init(&opts, sizeof opts));
    opts.strict = false;
    sps_manager *lax = new_manager(&opts);
    s = begin(lax, cookie);
    CHECK_OK(sps_session_id(s, id, sizeof id));
    CHECK(strcmp(id, "0123456789abcdef0123456789abcdef") == 0);
    sps_session_free(s);
    sps_manager_free(lax);
    sps_manager_free(m);
}

int main(void) {
    CHECK_OK(sps_store_open_memory(0, &store));
    RUN(regenerate_keeps_data_under_a_new_id);
    RUN(invalidate_deletes_and_expires_the_cookie);
    RUN(no_resurrection_after_logout);
    RUN(lazy_creation_sets_no_cookie);
    RUN(cookie_attributes_follow_options);
    RUN(refused_options_name_themselves);
    RUN(get_and_post_transports);
    RUN(per_page_options_and_max_lifetime);
    RUN(strict_refuses_unknown_ids);
    sps_store_free(store);
    return 0;
}
