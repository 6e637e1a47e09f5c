/* Every typed get/set, type mismatches, MessagePack get/set, keys,
 * contains, remove, clear; values survive a commit and reload. */
#include "check.h"

#include <math.h>
#include <stdint.h>

static sps_store *store;
static sps_manager *manager;

static sps_session *fresh(void) {
    sps_request req = cookie_request(NULL);
    sps_session *s = NULL;
    CHECK_OK(sps_session_begin(manager, &req, &s));
    return s;
}

/* Commits `s` and begins the same session again from its cookie. */
static sps_session *reload(sps_session *s) {
    sps_buf set_cookie = {0};
    CHECK_OK(sps_session_commit(s, &set_cookie));
    char *cookie = cookie_from_set_cookie(&set_cookie);
    sps_buf_free(&set_cookie);
    sps_session_free(s);
    sps_request req = cookie_request(cookie);
    sps_session *again = NULL;
    CHECK_OK(sps_session_begin(manager, &req, &again));
    bool is_new = true;
    CHECK_OK(sps_session_is_new(again, &is_new));
    CHECK(!is_new);
    free(cookie);
    return again;
}

static void set_every_type(sps_session *s) {
    CHECK_OK(sps_session_set_str(s, S("name"), S("Zoë")));
    CHECK_OK(sps_session_set_bytes(s, S("raw"), (const uint8_t *)"a\0b", 3));
    CHECK_OK(sps_session_set_int(s, S("count"), -42));
    CHECK_OK(sps_session_set_int(s, S("big"), INT64_MAX));
    CHECK_OK(sps_session_set_float(s, S("ratio"), 0.25));
    CHECK_OK(sps_session_set_bool(s, S("admin"), true));
    /* ["book", 2] as MessagePack: fixarray(2), fixstr(4) "book", 2 */
    const uint8_t cart[] = {0x92, 0xa4, 'b', 'o', 'o', 'k', 0x02};
    CHECK_OK(sps_session_set_msgpack(s, S("cart"), cart, sizeof cart));
    /* 2^64 - 1: a uint64 past INT64_MAX */
    const uint8_t huge[] = {0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    CHECK_OK(sps_session_set_msgpack(s, S("huge"), huge, sizeof huge));
    CHECK_OK(sps_session_set_msgpack(s, S("nothing"), (const uint8_t *)"\xc0", 1));
    CHECK_OK(sps_session_set_str(s, S(""), NULL, 0)); /* empty key, empty string */
}

static void check_every_type(const sps_session *s) {
    sps_buf buf = {0};
    CHECK_OK(sps_session_get_str(s, S("name"), &buf));
    CHECK_BUF_EQ(buf, "Zoë");
    CHECK(buf.data[buf.len] == '\0');
    sps_buf_free(&buf);
    CHECK_OK(sps_session_get_bytes(s, S("raw"), &buf));
    CHECK(buf.len == 3 && memcmp(buf.data, "a\0b", 3) == 0);
    sps_buf_free(&buf);
    int64_t i = 0;
    CHECK_OK(sps_session_get_int(s, S("count"), &i));
    CHECK(i == -42);
    CHECK_OK(sps_session_get_int(s, S("big"), &i));
    CHECK(i == INT64_MAX);
    double f = 0;
    CHECK_OK(sps_session_get_float(s, S("ratio"), &f));
    CHECK(f == 0.25);
    bool b = false;
    CHECK_OK(sps_session_get_bool(s, S("admin"), &b));
    CHECK(b);
    CHECK_OK(sps_session_get_msgpack(s, S("cart"), &buf));
    const uint8_t cart[] = {0x92, 0xa4, 'b', 'o', 'o', 'k', 0x02};
    CHECK(buf.len == sizeof cart && memcmp(buf.data, cart, sizeof cart) == 0);
    sps_buf_free(&buf);
    /* Typed values read as MessagePack too: -42 is int8 0xd0 0xd6. */
    CHECK_OK(sps_session_get_msgpack(s, S("count"), &buf));
    CHECK(buf.len == 2 && buf.data[0] == 0xd0 && buf.data[1] == 0xd6);
    sps_buf_free(&buf);
    CHECK_OK(sps_session_get_str(s, S(""), &buf));
    CHECK(buf.len == 0 && buf.data != NULL && buf.data[0] == '\0');
    sps_buf_free(&buf);

    uint32_t type = 99;
    CHECK_OK(sps_session_get_type(s, S("name"), &type));
    CHECK(type == SPS_TYPE_STR);
    CHECK_OK(sps_session_get_type(s, S("raw"), &type));
    CHECK(type == SPS_TYPE_BYTES);
    CHECK_OK(sps_session_get_type(s, S("count"), &type));
    CHECK(type == SPS_TYPE_INT);
    CHECK_OK(sps_session_get_type(s, S("huge"), &type));
    CHECK(type == SPS_TYPE_INT);
    CHECK_OK(sps_session_get_type(s, S("ratio"), &type));
    CHECK(type == SPS_TYPE_FLOAT);
    CHECK_OK(sps_session_get_type(s, S("admin"), &type));
    CHECK(type == SPS_TYPE_BOOL);
    CHECK_OK(sps_session_get_type(s, S("cart"), &type));
    CHECK(type == SPS_TYPE_LIST);
    CHECK_OK(sps_session_get_type(s, S("nothing"), &type));
    CHECK(type == SPS_TYPE_NIL);
    size_t n = 0;
    CHECK_OK(sps_session_len(s, &n));
    CHECK(n == 10);
}

static void typed_values_round_trip_through_the_store(void) {
    sps_session *s = fresh();
    set_every_type(s);
    check_every_type(s);
    s = reload(s);
    check_every_type(s);
    sps_session_free(s);
}

static void mismatches_and_missing_keys(void) {
    sps_session *s = fresh();
    set_every_type(s);
    sps_buf buf = {0};
    int64_t i = 7;
    double f = 7;
    bool b = false;
    CHECK_STATUS(SPS_TYPE_MISMATCH, sps_session_get_str(s, S("raw"), &buf));
    CHECK_CONTAINS(sps_last_error(), "bytes");
    CHECK_STATUS(SPS_TYPE_MISMATCH, sps_session_get_bytes(s, S("name"), &buf));
    CHECK_STATUS(SPS_TYPE_MISMATCH, sps_session_get_int(s, S("ratio"), &i));
    CHECK_STATUS(SPS_TYPE_MISMATCH, sps_session_get_int(s, S("admin"), &i));
    CHECK_STATUS(SPS_TYPE_MISMATCH, sps_session_get_int(s, S("huge"), &i));
    CHECK_STATUS(SPS_TYPE_MISMATCH, sps_session_get_float(s, S("count"), &f));
    CHECK_STATUS(SPS_TYPE_MISMATCH, sps_session_get_bool(s, S("count"), &b));
    CHECK(buf.data == NULL && i == 7 && f == 7 && !b); /* untouched on failure */
    CHECK_STATUS(SPS_NOT_FOUND, sps_session_get_int(s, S("absent"), &i));
    CHECK_STATUS(SPS_NOT_FOUND, sps_session_get_msgpack(s, S("absent"), &buf));
    uint32_t type;
    CHECK_STATUS(SPS_NOT_FOUND, sps_session_get_type(s, S("absent"), &type));
    /* Bad input leaves the session unchanged. */
    CHECK_STATUS(SPS_INVALID_ARGUMENT,
                 sps_session_set_msgpack(s, S("count"), (const uint8_t *)"\xc1", 1));
    CHECK_STATUS(SPS_INVALID_ARGUMENT,
                 sps_session_set_msgpack(s, S("count"), (const uint8_t *)"\x01\x02", 2));
    CHECK_STATUS(SPS_INVALID_ARGUMENT, sps_session_set_str(s, S("count"), S("\xff\xfe")));
    CHECK_STATUS(SPS_INVALID_ARGUMENT, sps_session_set_int(s, S("\xc3\x28"), 1));
    CHECK_OK(sps_session_get_int(s, S("count"), &i));
    CHECK(i == -42);
    sps_session_free(s);
}

static void keys_contains_remove_clear(void) {
    sps_session *s = fresh();
    CHECK_OK(sps_session_set_int(s, S("b"), 2));
    CHECK_OK(sps_session_set_int(s, S("a"), 1));
    CHECK_OK(sps_session_set_int(s, S("c"), 3));
    sps_keys *keys = NULL;
    CHECK_OK(sps_session_keys(s, &keys));
    size_t n = 0;
    CHECK_OK(sps_keys_len(keys, &n));
    CHECK(n == 3);
    const char *key;
    size_t len;
    const char *want[] = {"a", "b", "c"};
    for (size_t i = 0; i < n; i++) {
        CHECK_OK(sps_keys_get(keys, i, &key, &len));
        CHECK(len == 1 && strcmp(key, want[i]) == 0);
    }
    CHECK_STATUS(SPS_INVALID_ARGUMENT, sps_keys_get(keys, 3, &key, &len));
    bool has = false;
    CHECK_OK(sps_session_contains(s, S("b"), &has));
    CHECK(has);
    CHECK_OK(sps_session_remove(s, S("b")));
    CHECK_OK(sps_session_contains(s, S("b"), &has));
    CHECK(!has);
    CHECK_STATUS(SPS_NOT_FOUND, sps_session_remove(s, S("b")));
    /* The snapshot does not change with the session. */
    CHECK_OK(sps_keys_len(keys, &n));
    CHECK(n == 3);
    sps_keys_free(keys);
    s = reload(s);
    CHECK_OK(sps_session_len(s, &n));
    CHECK(n == 2);
    CHECK_OK(sps_session_clear(s));
    CHECK_OK(sps_session_len(s, &n));
    CHECK(n == 0);
    s = reload(s);
    CHECK_OK(sps_session_len(s, &n));
    CHECK(n == 0);
    sps_session_free(s);
}

static void special_floats_and_extremes(void) {
    sps_session *s = fresh();
    CHECK_OK(sps_session_set_float(s, S("inf"), INFINITY));
    CHECK_OK(sps_session_set_int(s, S("min"), INT64_MIN));
    CHECK_OK(sps_session_set_bool(s, S("no"), false));
    s = reload(s);
    double f = 0;
    CHECK_OK(sps_session_get_float(s, S("inf"), &f));
    CHECK(isinf(f) && f > 0);
    int64_t i = 0;
    CHECK_OK(sps_session_get_int(s, S("min"), &i));
    CHECK(i == INT64_MIN);
    bool b = true;
    CHECK_OK(sps_session_get_bool(s, S("no"), &b));
    CHECK(!b);
    sps_session_free(s);
}

int main(void) {
    CHECK_OK(sps_store_open_memory(0, &store));
    CHECK_OK(sps_manager_new(store, NULL, &manager));
    sps_store_free(store); /* the manager keeps it alive */
    RUN(typed_values_round_trip_through_the_store);
    RUN(mismatches_and_missing_keys);
    RUN(keys_contains_remove_clear);
    RUN(special_floats_and_extremes);
    sps_manager_free(manager);
    return 0;
}
