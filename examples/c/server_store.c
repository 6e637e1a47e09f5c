/* server_store: opens the store a store URL names, for spysession-server.
 *
 * Until the library has sps_store_open_url (SPEC §5b), this accepts the
 * subset of SPEC §2's store URLs the C API can already open:
 *   memory:                               a MemoryStore (this process only)
 *   dbm:///path, or a bare directory path a DbmStore (LMDB); one option,
 *                 ?map_size=BYTES (valgrind checks the whole map at every
 *                 sync: its test run uses a small one)
 *   redis://..., rediss://..., unix://..., redis+unix://...  a RedisStore
 * Every caller goes through this one function, so the switch to
 * sps_store_open_url is one line here. */
#include "server_store.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A DbmStore from "path[?map_size=BYTES]". */
static sps_status open_dbm(const char *spec, sps_store **out_store, const char **out_error) {
    const char *query = strchr(spec, '?');
    size_t path_len = query ? (size_t)(query - spec) : strlen(spec);
    sps_dbm_options options;
    sps_dbm_options_init(&options, sizeof options);
    if (query != NULL) {
        const char *name = "?map_size=";
        if (strncmp(query, name, strlen(name)) != 0) {
            *out_error = "a DbmStore URL takes one option, ?map_size=BYTES";
            return SPS_INVALID_ARGUMENT;
        }
        const char *value = query + strlen(name);
        char *end = NULL;
        errno = 0;
        unsigned long long size = strtoull(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0' || size > SIZE_MAX) {
            *out_error = "map_size wants a number of bytes";
            return SPS_INVALID_ARGUMENT;
        }
        options.map_size = (size_t)size;
    }
    sps_status status = sps_store_open_dbm(spec, path_len, &options, out_store);
    if (status != SPS_OK) *out_error = sps_last_error();
    return status;
}

sps_status server_store_open(const char *url, sps_store **out_store, const char **out_error) {
    size_t len = strlen(url);
    sps_status status;
    if (strcmp(url, "memory:") == 0) {
        status = sps_store_open_memory(0, out_store);
    } else if (starts_with(url, "redis://") || starts_with(url, "rediss://") ||
               starts_with(url, "unix://") || starts_with(url, "redis+unix://")) {
        status = sps_store_open_redis(url, len, NULL, out_store);
    } else if (starts_with(url, "dbm://")) {
        return open_dbm(url + strlen("dbm://"), out_store, out_error);
    } else if (strstr(url, "://") != NULL) {
        *out_error = "unknown store URL scheme (memory:, dbm:///path, a directory, "
                     "redis://, rediss://, unix://)";
        return SPS_INVALID_ARGUMENT;
    } else {
        return open_dbm(url, out_store, out_error);
    }
    if (status != SPS_OK) *out_error = sps_last_error();
    return status;
}
