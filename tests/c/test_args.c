/* Misuse that can be detected is refused, never a crash: NULL for every
 * pointer argument of every function, NULL with a length, bad UTF-8, bad
 * ids, a too-small id buffer; every free function accepts NULL. */
#include "check.h"

#include <stdint.h>

#define INVALID(call) CHECK_STATUS(SPS_INVALID_ARGUMENT, call)

static uint32_t cb_load(void *u, const char *id, sps_record_sink *sink) {
    (void)u, (void)id, (void)sink;
    return SPS_NOT_FOUND;
}
static uint32_t cb_save(void *u, const char *id, const uint8_t *r, size_t n, double e) {
    (void)u, (void)id, (void)r, (void)n, (void)e;
    return SPS_OK;
}
static uint32_t cb_remove(void *u, const char *id) {
    (void)u, (void)id;
    return SPS_OK;
}
static uint32_t cb_clean(void *u, double now, uint64_t *out) {
    (void)u, (void)now;
    *out = 0;
    return SPS_OK;
}

static const char ID[] = "0123456789abcdef0123456789abcdef";

static void store_functions(void) {
    sps_store *store = NULL;
    INVALID(sps_store_open_memory(0, NULL));

    sps_dbm_options dopts;
    INVALID(sps_dbm_options_init(NULL, sizeof dopts));
    INVALID(sps_dbm_options_init(&dopts, 3));
    CHECK_OK(sps_dbm_options_init(&dopts, sizeof dopts));
    INVALID(sps_store_open_dbm(NULL, 0, NULL, &store));
    INVALID(sps_store_open_dbm(NULL, 5, NULL, &store));
    INVALID(sps_store_open_dbm(S("/tmp/x"), NULL, NULL));
    INVALID(sps_store_open_url(S("memory:"), NULL));
    INVALID(sps_store_open_url(NULL, 7, &store));
    INVALID(sps_store_open_dbm(S(""), NULL, &store));
    INVALID(sps_store_open_dbm("/tmp/a\0b", 8, NULL, &store));
    dopts.struct_size = 1;
    INVALID(sps_store_open_dbm(S("/tmp/x"), &dopts, &store));

    sps_store_callbacks cb = {NULL, cb_load, cb_save, cb_remove, cb_clean, NULL};
    INVALID(sps_store_open_custom(NULL, &store));
    INVALID(sps_store_open_custom(&cb, NULL));
    cb.load = NULL;
    INVALID(sps_store_open_custom(&cb, &store));
    cb.load = cb_load;
    cb.save = NULL;
    INVALID(sps_store_open_custom(&cb, &store));
    cb.save = cb_save;
    cb.clean = NULL;
    INVALID(sps_store_open_custom(&cb, &store));
    CHECK(store == NULL);
    INVALID(sps_record_sink_set(NULL, (const uint8_t *)"x", 1));

    CHECK_OK(sps_store_open_memory(0, &store));
    uint64_t n;
    bool existed;
    sps_buf buf = {0};
    sps_stats stats;
    INVALID(sps_store_clean(NULL, 0, &n));
    INVALID(sps_store_clean(store, 0, NULL));
    INVALID(sps_store_len(NULL, &n));
    INVALID(sps_store_len(store, NULL));
    INVALID(sps_store_delete(NULL, S(ID), &existed));
    INVALID(sps_store_delete(store, NULL, 32, &existed));
    INVALID(sps_store_delete(store, S(ID), NULL));
    INVALID(sps_store_delete(store, S("0123456789ABCDEF0123456789ABCDEF"), &existed));
    INVALID(sps_store_delete(store, ID, 31, &existed));
    INVALID(sps_store_delete(store, S("../../etc/passwd"), &existed));
    CHECK_OK(sps_store_delete(store, S(ID), &existed));
    CHECK(!existed);
    INVALID(sps_store_load(NULL, S(ID), 0, &buf));
    INVALID(sps_store_load(store, NULL, 32, 0, &buf));
    INVALID(sps_store_load(store, S(ID), 0, NULL));
    INVALID(sps_store_load(store, S("nope"), 0, &buf));
    CHECK_STATUS(SPS_NOT_FOUND, sps_store_load(store, S(ID), 0, &buf));
    INVALID(sps_store_stats(NULL, &stats));
    INVALID(sps_store_stats(store, NULL));
    sps_store_free(store);
}

static void manager_functions(sps_store *store) {
    sps_manager *m = NULL;
    sps_manager_options opts;
    INVALID(sps_manager_options_init(NULL, sizeof opts));
    INVALID(sps_manager_options_init(&opts, 0));
    CHECK_OK(sps_manager_options_init(&opts, sizeof opts));
    INVALID(sps_manager_new(NULL, &opts, &m));
    INVALID(sps_manager_new(store, &opts, NULL));
    opts.path = NULL;
    opts.path_len = 3;
    INVALID(sps_manager_new(store, &opts, &m));
    opts.path_len = 0;
    opts.cookie_name = NULL;
    opts.cookie_name_len = 1;
    INVALID(sps_manager_new(store, &opts, &m));
    opts.cookie_name_len = 0;
    opts.domain = "\xff\xfe";
    opts.domain_len = 2;
    INVALID(sps_manager_new(store, &opts, &m));
    CHECK_CONTAINS(sps_last_error(), "UTF-8");
    CHECK(m == NULL);
}

static void session_functions(sps_manager *m) {
    sps_request req = cookie_request(NULL);
    sps_session *s = NULL;
    sps_page_options page = {false, 0, NULL, 0};
    INVALID(sps_session_begin(NULL, &req, &s));
    INVALID(sps_session_begin(m, NULL, &s));
    INVALID(sps_session_begin(m, &req, NULL));
    INVALID(sps_session_begin_page(NULL, &req, &page, &s));
    INVALID(sps_session_begin_page(m, NULL, &page, &s));
    INVALID(sps_session_begin_page(m, &req, NULL, &s));
    INVALID(sps_session_begin_page(m, &req, &page, NULL));
    page.session_path_len = 2;
    INVALID(sps_session_begin_page(m, &req, &page, &s));
    req.cookie_len = 4; /* cookie NULL with a length */
    INVALID(sps_session_begin(m, &req, &s));
    req = cookie_request(NULL);
    req.query_len = 1;
    INVALID(sps_session_begin(m, &req, &s));
    req = cookie_request(NULL);
    req.form_len = 1;
    INVALID(sps_session_begin(m, &req, &s));
    req = cookie_request(NULL);
    req.path = NULL;
    req.path_len = 1;
    INVALID(sps_session_begin(m, &req, &s));
    CHECK(s == NULL);

    /* Hostile but well-formed network input is not an error. */
    req = cookie_request("spysession=\xff\xfe; spysession=../x; =;;; spysession");
    req.path = "/\xff\xfe";
    req.path_len = 3;
    CHECK_OK(sps_session_begin(m, &req, &s));
    sps_session_free(s);
    req = cookie_request(NULL); /* absent path is "/" */
    req.path = NULL;
    req.path_len = 0;
    CHECK_OK(sps_session_begin(m, &req, &s));

    char id[SPS_ID_SIZE];
    bool flag;
    size_t n;
    double d;
    int64_t i;
    uint32_t t;
    sps_buf buf = {0};
    sps_keys *keys = NULL;
    INVALID(sps_session_id(NULL, id, sizeof id));
    INVALID(sps_session_id(s, NULL, sizeof id));
    INVALID(sps_session_id(s, id, SPS_ID_LEN));
    INVALID(sps_session_is_new(NULL, &flag));
    INVALID(sps_session_is_new(s, NULL));
    INVALID(sps_session_len(NULL, &n));
    INVALID(sps_session_len(s, NULL));
    INVALID(sps_session_expires_at(NULL, &d));
    INVALID(sps_session_expires_at(s, NULL));
    INVALID(sps_session_contains(NULL, S("k"), &flag));
    INVALID(sps_session_contains(s, NULL, 1, &flag));
    INVALID(sps_session_contains(s, S("k"), NULL));
    INVALID(sps_session_contains(s, S("\xff"), &flag));
    INVALID(sps_session_remove(NULL, S("k")));
    INVALID(sps_session_remove(s, NULL, 1));
    INVALID(sps_session_clear(NULL));
    INVALID(sps_session_keys(NULL, &keys));
    INVALID(sps_session_keys(s, NULL));
    INVALID(sps_session_regenerate(NULL));
    INVALID(sps_session_invalidate(NULL));
    INVALID(sps_session_commit(NULL, &buf));
    INVALID(sps_session_commit(s, NULL));
    INVALID(sps_session_url(NULL, S("/"), &buf));
    INVALID(sps_session_url(s, NULL, 1, &buf));
    INVALID(sps_session_url(s, S("/"), NULL));
    INVALID(sps_session_form_field(NULL, &buf));
    INVALID(sps_session_form_field(s, NULL));

    INVALID(sps_session_get_type(NULL, S("k"), &t));
    INVALID(sps_session_get_type(s, NULL, 1, &t));
    INVALID(sps_session_get_type(s, S("k"), NULL));
    INVALID(sps_session_get_str(NULL, S("k"), &buf));
    INVALID(sps_session_get_str(s, NULL, 1, &buf));
    INVALID(sps_session_get_str(s, S("k"), NULL));
    INVALID(sps_session_get_bytes(NULL, S("k"), &buf));
    INVALID(sps_session_get_bytes(s, NULL, 1, &buf));
    INVALID(sps_session_get_bytes(s, S("k"), NULL));
    INVALID(sps_session_get_int(NULL, S("k"), &i));
    INVALID(sps_session_get_int(s, NULL, 1, &i));
    INVALID(sps_session_get_int(s, S("k"), NULL));
    INVALID(sps_session_get_float(NULL, S("k"), &d));
    INVALID(sps_session_get_float(s, NULL, 1, &d));
    INVALID(sps_session_get_float(s, S("k"), NULL));
    INVALID(sps_session_get_bool(NULL, S("k"), &flag));
    INVALID(sps_session_get_bool(s, NULL, 1, &flag));
    INVALID(sps_session_get_bool(s, S("k"), NULL));
    INVALID(sps_session_get_msgpack(NULL, S("k"), &buf));
    INVALID(sps_session_get_msgpack(s, NULL, 1, &buf));
    INVALID(sps_session_get_msgpack(s, S("k"), NULL));

    INVALID(sps_session_set_str(NULL, S("k"), S("v")));
    INVALID(sps_session_set_str(s, NULL, 1, S("v")));
    INVALID(sps_session_set_str(s, S("k"), NULL, 1));
    INVALID(sps_session_set_bytes(NULL, S("k"), (const uint8_t *)"v", 1));
    INVALID(sps_session_set_bytes(s, NULL, 1, (const uint8_t *)"v", 1));
    INVALID(sps_session_set_bytes(s, S("k"), NULL, 1));
    INVALID(sps_session_set_int(NULL, S("k"), 1));
    INVALID(sps_session_set_int(s, NULL, 1, 1));
    INVALID(sps_session_set_float(NULL, S("k"), 1));
    INVALID(sps_session_set_float(s, NULL, 1, 1));
    INVALID(sps_session_set_bool(NULL, S("k"), true));
    INVALID(sps_session_set_bool(s, NULL, 1, true));
    INVALID(sps_session_set_msgpack(NULL, S("k"), (const uint8_t *)"\x01", 1));
    INVALID(sps_session_set_msgpack(s, NULL, 1, (const uint8_t *)"\x01", 1));
    INVALID(sps_session_set_msgpack(s, S("k"), NULL, 1));
    INVALID(sps_session_set_msgpack(s, S("k"), NULL, 0)); /* empty is no value */
    CHECK(buf.data == NULL && keys == NULL);
    CHECK_OK(sps_session_len(s, &n));
    CHECK(n == 0); /* nothing of the above changed the session */

    /* NULL with length 0 is the empty string/bytes. */
    CHECK_OK(sps_session_set_bytes(s, S("empty"), NULL, 0));
    CHECK_OK(sps_session_get_bytes(s, S("empty"), &buf));
    CHECK(buf.len == 0);
    sps_buf_free(&buf);

    CHECK_OK(sps_session_keys(s, &keys));
    const char *key;
    INVALID(sps_keys_len(NULL, &n));
    INVALID(sps_keys_len(keys, NULL));
    INVALID(sps_keys_get(NULL, 0, &key, &n));
    INVALID(sps_keys_get(keys, 0, NULL, &n));
    INVALID(sps_keys_get(keys, 0, &key, NULL));
    INVALID(sps_keys_get(keys, 1, &key, &n));
    sps_keys_free(keys);
    sps_session_free(s);
}

/* sps_store_key: the first 16 bytes of SHA-256 over the id's raw bytes, in
 * hex (Python: hashlib.sha256(bytes.fromhex(ID)).hexdigest()[:32]). */
static void store_keys(void) {
    char key[SPS_STORE_KEY_SIZE];
    CHECK(SPS_STORE_KEY_SIZE == SPS_STORE_KEY_LEN + 1);
    CHECK_OK(sps_store_key(S(ID), key, sizeof key));
    CHECK(strcmp(key, "223e0a160af9da0a03e6dd2c4719c56f") == 0);
    /* Refused, and the buffer left untouched. */
    memset(key, 'x', sizeof key);
    INVALID(sps_store_key(NULL, 32, key, sizeof key));
    INVALID(sps_store_key(NULL, 0, key, sizeof key));
    INVALID(sps_store_key(S(ID), NULL, sizeof key));
    INVALID(sps_store_key(S(ID), key, SPS_STORE_KEY_LEN));
    INVALID(sps_store_key(S(ID), key, 0));
    INVALID(sps_store_key(ID, 31, key, sizeof key));
    INVALID(sps_store_key(ID, 33, key, sizeof key));
    INVALID(sps_store_key(ID, 0, key, sizeof key));
    INVALID(sps_store_key(S("0123456789ABCDEF0123456789ABCDEF"), key, sizeof key));
    INVALID(sps_store_key(S("../../etc/passwd/../../etc/passw"), key, sizeof key));
    for (size_t i = 0; i < sizeof key; i++) CHECK(key[i] == 'x');
    CHECK_CONTAINS(sps_last_error(), "not a session id");
}

/* The rejected counter: a malformed id presented by a request. Read with
 * sps_store_stats_sized; sps_store_stats keeps 0.1's layout and leaves it. */
static void rejected_ids_are_counted(void) {
    sps_store *store = NULL;
    CHECK_OK(sps_store_open_memory(0, &store));
    sps_manager *m = NULL;
    CHECK_OK(sps_manager_new(store, NULL, &m));
    sps_request req = {0};
    req.cookie = "spysession=../../etc/passwd";
    req.cookie_len = strlen(req.cookie);
    req.path = "/";
    req.path_len = 1;
    sps_session *s = NULL;
    CHECK_OK(sps_session_begin(m, &req, &s));
    sps_session_free(s);
    sps_stats stats;
    memset(&stats, 0xab, sizeof stats);
    CHECK_OK(sps_store_stats_sized(store, &stats, sizeof stats));
    CHECK(stats.rejected == 1 && stats.loads == 0);
    memset(&stats, 0xab, sizeof stats);
    CHECK_OK(sps_store_stats(store, &stats));
    CHECK(stats.loads == 0 && stats.evicted == 0);
    CHECK(stats.rejected == 0xabababababababab); /* 0.1's layout: not written */
    INVALID(sps_store_stats_sized(NULL, &stats, sizeof stats));
    INVALID(sps_store_stats_sized(store, NULL, sizeof stats));
    INVALID(sps_store_stats_sized(store, &stats, 8));
    INVALID(sps_store_stats_sized(store, &stats, sizeof stats + 1));
    sps_manager_free(m);
    sps_store_free(store);
}

static void frees_accept_null_and_errors_read_well(void) {
    sps_buf_free(NULL);
    sps_buf empty = {0};
    sps_buf_free(&empty);
    sps_keys_free(NULL);
    sps_session_free(NULL);
    sps_manager_free(NULL);
    sps_store_free(NULL);
    INVALID(sps_store_len(NULL, NULL));
    CHECK(strcmp(sps_last_error(), "SPS_INVALID_ARGUMENT: store is NULL") == 0);
    /* Successful calls leave the last error alone. */
    sps_store *store = NULL;
    CHECK_OK(sps_store_open_memory(0, &store));
    CHECK_CONTAINS(sps_last_error(), "store is NULL");
    sps_store_free(store);
    CHECK(strcmp(sps_status_name(SPS_OK), "SPS_OK") == 0);
    CHECK(strcmp(sps_status_name(SPS_CORRUPT), "SPS_CORRUPT") == 0);
    CHECK(strcmp(sps_status_name(SPS_CLOSED), "SPS_CLOSED") == 0);
    CHECK(strcmp(sps_status_name(4000000000u), "SPS_UNKNOWN") == 0);
    CHECK(sps_now() > 1.6e9);
}

int main(void) {
    RUN(store_functions);
    RUN(store_keys);
    RUN(rejected_ids_are_counted);
    sps_store *store = NULL;
    CHECK_OK(sps_store_open_memory(0, &store));
    sps_manager *m = NULL;
    CHECK_OK(sps_manager_new(store, NULL, &m));
    RUN_ARG(manager_functions, store);
    RUN_ARG(session_functions, m);
    RUN(frees_accept_null_and_errors_read_well);
    sps_manager_free(m);
    sps_store_free(store);
    return 0;
}
