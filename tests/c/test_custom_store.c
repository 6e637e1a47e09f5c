/* A custom store written in C (a small hash table behind a mutex, keyed by
 * the store keys the callbacks are given, never session ids): visits
 * through it, clean with an injected clock, a corrupt record, callback
 * errors that lose nothing, and the destroy callback. */
#define _DEFAULT_SOURCE
#include "check.h"

#include <pthread.h>
#include <stdint.h>

#define BUCKETS 64

typedef struct entry {
    char key[SPS_STORE_KEY_SIZE];
    uint8_t *data;
    size_t len;
    double expires_at;
    struct entry *next;
} entry;

typedef struct {
    pthread_mutex_t lock;
    entry *buckets[BUCKETS];
    size_t count;
    uint32_t fail_save_with; /* when not SPS_OK, save fails once with it */
    uint32_t fail_load_with;
    int loads, saves, removes, cleans;
    int destroyed;
} table;

static size_t bucket_of(const char *key) {
    size_t h = 5381;
    for (const char *p = key; *p; p++) h = h * 33 + (unsigned char)*p;
    return h % BUCKETS;
}

static entry **find(table *t, const char *key) {
    entry **e = &t->buckets[bucket_of(key)];
    while (*e != NULL && strcmp((*e)->key, key) != 0) e = &(*e)->next;
    return e;
}

static void put(table *t, const char *key, const uint8_t *data, size_t len, double expires_at) {
    entry **slot = find(t, key);
    if (*slot == NULL) {
        *slot = calloc(1, sizeof(entry));
        if (*slot == NULL) FAIL("out of memory");
        memcpy((*slot)->key, key, SPS_STORE_KEY_SIZE);
        t->count++;
    }
    free((*slot)->data);
    (*slot)->data = malloc(len ? len : 1);
    if ((*slot)->data == NULL) FAIL("out of memory");
    memcpy((*slot)->data, data, len);
    (*slot)->len = len;
    (*slot)->expires_at = expires_at;
}

static void unlink_entry(table *t, entry **slot) {
    entry *e = *slot;
    *slot = e->next;
    free(e->data);
    free(e);
    t->count--;
}

static uint32_t cb_load(void *user_data, const char *key, sps_record_sink *sink) {
    table *t = user_data;
    pthread_mutex_lock(&t->lock);
    t->loads++;
    uint32_t status = SPS_OK;
    if (t->fail_load_with != SPS_OK) {
        status = t->fail_load_with;
        t->fail_load_with = SPS_OK;
    } else {
        CHECK(strlen(key) == SPS_STORE_KEY_LEN);
        entry *e = *find(t, key);
        if (e == NULL)
            status = SPS_NOT_FOUND;
        else
            status = sps_record_sink_set(sink, e->data, e->len);
    }
    pthread_mutex_unlock(&t->lock);
    return status;
}

static uint32_t cb_save(void *user_data, const char *key, const uint8_t *record, size_t len,
                        double expires_at) {
    table *t = user_data;
    pthread_mutex_lock(&t->lock);
    t->saves++;
    uint32_t status = t->fail_save_with;
    if (status == SPS_OK)
        put(t, key, record, len, expires_at);
    else
        t->fail_save_with = SPS_OK;
    pthread_mutex_unlock(&t->lock);
    return status;
}

static uint32_t cb_remove(void *user_data, const char *key) {
    table *t = user_data;
    pthread_mutex_lock(&t->lock);
    t->removes++;
    entry **slot = find(t, key);
    if (*slot != NULL) unlink_entry(t, slot);
    pthread_mutex_unlock(&t->lock);
    return SPS_OK;
}

static uint32_t cb_clean(void *user_data, double now, uint64_t *out_removed) {
    table *t = user_data;
    pthread_mutex_lock(&t->lock);
    t->cleans++;
    uint64_t removed = 0;
    for (size_t b = 0; b < BUCKETS; b++) {
        entry **slot = &t->buckets[b];
        while (*slot != NULL) {
            if ((*slot)->expires_at <= now) {
                unlink_entry(t, slot);
                removed++;
            } else {
                slot = &(*slot)->next;
            }
        }
    }
    *out_removed = removed;
    pthread_mutex_unlock(&t->lock);
    return SPS_OK;
}

static void cb_destroy(void *user_data) {
    table *t = user_data;
    for (size_t b = 0; b < BUCKETS; b++)
        while (t->buckets[b] != NULL) unlink_entry(t, &t->buckets[b]);
    t->destroyed++;
}

typedef struct {
    double now;
} fake_clock;

static double clock_now(void *user_data) {
    return ((fake_clock *)user_data)->now;
}

static table tab;
static fake_clock clk = {1000000.0};
static sps_store *store;
static sps_manager *manager;

/* Begins a session for `cookie` (may be NULL). */
static sps_session *begin(const char *cookie) {
    sps_request req = cookie_request(cookie);
    sps_session *s = NULL;
    CHECK_OK(sps_session_begin(manager, &req, &s));
    return s;
}

/* Stores a session holding visited = 1; returns its cookie (malloc'd). */
static char *stored_session(void) {
    sps_session *s = begin(NULL);
    CHECK_OK(sps_session_set_int(s, S("visited"), 1));
    sps_buf set_cookie = {0};
    CHECK_OK(sps_session_commit(s, &set_cookie));
    char *cookie = cookie_from_set_cookie(&set_cookie);
    sps_buf_free(&set_cookie);
    sps_session_free(s);
    return cookie;
}

static void visits_through_callbacks(void) {
    int saves = tab.saves;
    char *cookie = stored_session();
    CHECK(tab.count == 1);
    CHECK(tab.saves == saves + 1);
    sps_session *s = begin(cookie);
    int64_t visited = 0;
    CHECK_OK(sps_session_get_int(s, S("visited"), &visited));
    CHECK(visited == 1);
    CHECK_OK(sps_session_set_int(s, S("visited"), 2));
    sps_buf set_cookie = {0};
    CHECK_OK(sps_session_commit(s, &set_cookie));
    sps_buf_free(&set_cookie);
    sps_session_free(s);
    s = begin(cookie);
    CHECK_OK(sps_session_get_int(s, S("visited"), &visited));
    CHECK(visited == 2);
    sps_session_free(s);
    /* The callbacks were given the id's store key, never the id. */
    char id[SPS_ID_SIZE];
    memcpy(id, strchr(cookie, '=') + 1, SPS_ID_LEN);
    id[SPS_ID_LEN] = '\0';
    char key[SPS_STORE_KEY_SIZE];
    CHECK_OK(sps_store_key(id, SPS_ID_LEN, key, sizeof key));
    pthread_mutex_lock(&tab.lock);
    CHECK(*find(&tab, key) != NULL);
    CHECK(*find(&tab, id) == NULL);
    pthread_mutex_unlock(&tab.lock);
    /* The raw record is the documented format: a 5-element array, version 2. */
    sps_buf record = {0};
    CHECK_OK(sps_store_load(store, id, SPS_ID_LEN, clk.now, &record));
    CHECK(record.len > 2 && record.data[0] == 0x95 && record.data[1] == 0x02);
    sps_buf_free(&record);
    bool existed = false;
    CHECK_OK(sps_store_delete(store, id, SPS_ID_LEN, &existed));
    CHECK(existed);
    CHECK_STATUS(SPS_NOT_FOUND, sps_store_load(store, id, SPS_ID_LEN, clk.now, &record));
    uint64_t n;
    CHECK_STATUS(SPS_UNSUPPORTED, sps_store_len(store, &n));
    free(cookie);
}

static void clean_with_injected_clock(void) {
    uint64_t removed = 99;
    CHECK_OK(sps_store_clean(store, clk.now, &removed));
    CHECK(removed == 0);
    char *old = stored_session(); /* expires at now + 86400 */
    clk.now += 43200;
    char *young = stored_session(); /* expires half a day later */
    size_t before = tab.count;
    CHECK(before == 2);
    clk.now += 43200; /* exactly the old one's expiry: expired (now >= expires_at) */
    /* An expired session is never returned, even before it is cleaned. */
    sps_session *s = begin(old);
    bool is_new = false;
    CHECK_OK(sps_session_is_new(s, &is_new));
    CHECK(is_new);
    sps_session_free(s);
    CHECK_OK(sps_store_clean(store, clk.now, &removed));
    CHECK(removed == 1);
    CHECK(tab.count == 1);
    s = begin(young);
    CHECK_OK(sps_session_is_new(s, &is_new));
    CHECK(!is_new);
    sps_session_free(s);
    sps_stats stats;
    CHECK_OK(sps_store_stats(store, &stats));
    CHECK(stats.cleaned == 1);
    clk.now += 86400;
    CHECK_OK(sps_store_clean(store, clk.now, &removed));
    CHECK(removed == 1 && tab.count == 0);
    free(old);
    free(young);
}

static void corrupt_record_gives_a_fresh_session(void) {
    char *cookie = stored_session();
    const char *id = strchr(cookie, '=') + 1;
    char key[SPS_STORE_KEY_SIZE];
    CHECK_OK(sps_store_key(id, SPS_ID_LEN, key, sizeof key));
    const uint8_t garbage[] = {0xc1, 0xde, 0xad, 0xbe, 0xef};
    pthread_mutex_lock(&tab.lock);
    put(&tab, key, garbage, sizeof garbage, clk.now + 100);
    pthread_mutex_unlock(&tab.lock);
    sps_stats before, after;
    CHECK_OK(sps_store_stats(store, &before));
    /* Asked directly: SPS_CORRUPT. */
    sps_buf record = {0};
    CHECK_STATUS(SPS_CORRUPT, sps_store_load(store, id, SPS_ID_LEN, clk.now, &record));
    CHECK(record.data == NULL);
    /* Met by a request: a fresh session with a new id, and the store works. */
    sps_session *s = begin(cookie);
    bool is_new = false;
    CHECK_OK(sps_session_is_new(s, &is_new));
    CHECK(is_new);
    char new_id[SPS_ID_SIZE];
    CHECK_OK(sps_session_id(s, new_id, sizeof new_id));
    CHECK(strncmp(new_id, id, SPS_ID_LEN) != 0);
    CHECK_OK(sps_session_set_int(s, S("visited"), 1));
    sps_buf set_cookie = {0};
    CHECK_OK(sps_session_commit(s, &set_cookie));
    CHECK_CONTAINS((const char *)set_cookie.data, new_id);
    sps_buf_free(&set_cookie);
    sps_session_free(s);
    CHECK_OK(sps_store_stats(store, &after));
    CHECK(after.corrupt == before.corrupt + 2);
    free(cookie);
}

static void failing_callbacks_lose_nothing(void) {
    char *cookie = stored_session();
    sps_session *s = begin(cookie);
    CHECK_OK(sps_session_set_str(s, S("cart"), S("book")));
    sps_buf set_cookie = {0};
    tab.fail_save_with = SPS_STORE_FULL;
    CHECK_STATUS(SPS_STORE_FULL, sps_session_commit(s, &set_cookie));
    CHECK_CONTAINS(sps_last_error(), "save");
    CHECK(set_cookie.data == NULL);
    /* A status that is no sps_status value becomes SPS_IO. */
    tab.fail_save_with = 12345;
    CHECK_STATUS(SPS_IO, sps_session_commit(s, &set_cookie));
    /* The change is still in the session: a retry stores it. */
    CHECK_OK(sps_session_commit(s, &set_cookie));
    sps_buf_free(&set_cookie);
    sps_session_free(s);
    s = begin(cookie);
    sps_buf cart = {0};
    CHECK_OK(sps_session_get_str(s, S("cart"), &cart));
    CHECK_BUF_EQ(cart, "book");
    sps_buf_free(&cart);
    sps_session_free(s);
    /* A failing load is an error for begin, not a new session. */
    tab.fail_load_with = SPS_IO;
    sps_request req = cookie_request(cookie);
    s = NULL;
    CHECK_STATUS(SPS_IO, sps_session_begin(manager, &req, &s));
    CHECK(s == NULL);
    free(cookie);
}

static void missing_callback_is_refused(void) {
    sps_store_callbacks cb = {&tab, cb_load, cb_save, NULL, cb_clean, NULL};
    sps_store *st = NULL;
    CHECK_STATUS(SPS_INVALID_ARGUMENT, sps_store_open_custom(&cb, &st));
    CHECK_CONTAINS(sps_last_error(), "remove");
    CHECK(st == NULL);
}

int main(void) {
    CHECK(pthread_mutex_init(&tab.lock, NULL) == 0);
    sps_store_callbacks cb = {&tab, cb_load, cb_save, cb_remove, cb_clean, cb_destroy};
    CHECK_OK(sps_store_open_custom(&cb, &store));
    sps_manager_options opts;
    CHECK_OK(sps_manager_options_init(&opts, sizeof opts));
    opts.clock = clock_now;
    opts.clock_user_data = &clk;
    CHECK_OK(sps_manager_new(store, &opts, &manager));
    RUN(visits_through_callbacks);
    RUN(clean_with_injected_clock);
    RUN(corrupt_record_gives_a_fresh_session);
    RUN(failing_callbacks_lose_nothing);
    RUN(missing_callback_is_refused);
    sps_manager_free(manager);
    CHECK(tab.destroyed == 0); /* the store handle still holds it */
    sps_store_free(store);
    CHECK(tab.destroyed == 1);
    CHECK(tab.count == 0);
    pthread_mutex_destroy(&tab.lock);
    return 0;
}
