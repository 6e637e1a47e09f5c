/* spysession-server: a threaded HTTP server (libmicrohttpd) whose visitors
 * have spysession sessions.
 *
 * One sps_manager is made at start and shared by every thread of
 * libmicrohttpd's pool (a manager may be used from any number of threads at
 * once); each request begins, uses, commits and frees its own sps_session.
 *
 * Build:  make example-c-server   (writes target/examples/spysession-server)
 * Run:    spysession-server --port PORT --store URL [--threads N] [--bind ADDR]
 *
 *   --port     TCP port; 0 picks a free one. The line "listening on
 *              http://ADDR:PORT/" is printed once the socket accepts.
 *   --store    a store URL (sps_store_open_url): memory:, a directory or
 *              dbm:///dir?durable=false (LMDB), redis://host:6379/0, ...
 *   --threads  size of the thread pool (default: the number of CPUs)
 *   --bind     IPv4 address to listen on (default 127.0.0.1)
 *
 * Routes (GET or HEAD; the answer is text/plain):
 *   /          the visit counter: "You visited us N times." (also /visit)
 *   /add/<k>   sets key <k> of the session to 1
 *   /count     the number of keys in the session
 *   /logout    invalidates the session (its cookie is expired)
 *   /plain     answers without a session (the HTTP benchmark's floor)
 *
 * A store error answers 500 with a short text and logs one line on stderr;
 * a commit that finds its session ended by another request (SPS_NOT_FOUND:
 * the changes are dropped, never resurrected) answers 409. SIGINT or
 * SIGTERM stops the server cleanly.
 */
#define _POSIX_C_SOURCE 200809L /* sigwait, pthread_sigmask, sysconf */

#include <spysession.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VISITED "visited"

/* What one request answers. */
struct reply {
    unsigned int status;
    char body[128];
    sps_buf set_cookie; /* from sps_session_commit; {NULL, 0}: none */
};

static void reply_text(struct reply *r, unsigned int status, const char *text) {
    r->status = status;
    snprintf(r->body, sizeof r->body, "%s\n", text);
}

/* A store (or library) failure: 500, and one line on stderr naming the
 * request, the step and the library's message. */
static void store_error(struct reply *r, const char *url, const char *step, sps_status status) {
    fprintf(stderr, "spysession-server: %s: %s: %s (%s)\n", url, step, sps_last_error(),
            sps_status_name(status));
    reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "session store error");
}

/* The route's work on its session; returns false after answering an error. */
static bool route(sps_session *session, const char *url, struct reply *r) {
    sps_status status;
    if (strcmp(url, "/") == 0 || strcmp(url, "/visit") == 0) {
        int64_t visited = 0;
        status = sps_session_get_int(session, VISITED, strlen(VISITED), &visited);
        if (status == SPS_TYPE_MISMATCH) visited = 0; /* not ours: start again */
        else if (status != SPS_OK && status != SPS_NOT_FOUND) {
            store_error(r, url, "reading " VISITED, status);
            return false;
        }
        if (visited < 0 || visited == INT64_MAX) visited = 0;
        status = sps_session_set_int(session, VISITED, strlen(VISITED), visited + 1);
        if (status != SPS_OK) {
            store_error(r, url, "writing " VISITED, status);
            return false;
        }
        r->status = MHD_HTTP_OK;
        snprintf(r->body, sizeof r->body, "You visited us %" PRId64 " times.\n", visited + 1);
    } else if (strncmp(url, "/add/", 5) == 0) {
        const char *key = url + 5;
        status = sps_session_set_int(session, key, strlen(key), 1);
        if (status == SPS_INVALID_ARGUMENT) { /* not UTF-8, or too long */
            reply_text(r, MHD_HTTP_BAD_REQUEST, "bad key");
            return false;
        }
        if (status != SPS_OK) {
            store_error(r, url, "setting the key", status);
            return false;
        }
        reply_text(r, MHD_HTTP_OK, "added");
    } else if (strcmp(url, "/count") == 0) {
        size_t len = 0;
        status = sps_session_len(session, &len);
        if (status != SPS_OK) {
            store_error(r, url, "counting", status);
            return false;
        }
        r->status = MHD_HTTP_OK;
        snprintf(r->body, sizeof r->body, "%zu\n", len);
    } else { /* "/logout", the only route left (see is_route) */
        status = sps_session_invalidate(session);
        if (status != SPS_OK) {
            store_error(r, url, "invalidating", status);
            return false;
        }
        reply_text(r, MHD_HTTP_OK, "logged out");
    }
    return true;
}

static bool is_route(const char *url) {
    return strcmp(url, "/") == 0 || strcmp(url, "/visit") == 0 || strcmp(url, "/count") == 0 ||
           strcmp(url, "/logout") == 0 || (strncmp(url, "/add/", 5) == 0 && url[5] != '\0');
}

/* Begins the request's session, runs its route and commits. */
static void handle(const sps_manager *manager, struct MHD_Connection *connection,
                   const char *url, struct reply *r) {
    sps_request request = {0};
    /* The raw Cookie header, binary-safe (pointer + length). */
    if (MHD_lookup_connection_value_n(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE,
                                      strlen(MHD_HTTP_HEADER_COOKIE), &request.cookie,
                                      &request.cookie_len) != MHD_YES) {
        request.cookie = NULL;
        request.cookie_len = 0;
    }
    request.path = url;
    request.path_len = strlen(url);

    sps_session *session = NULL;
    sps_status status = sps_session_begin(manager, &request, &session);
    if (status != SPS_OK) {
        store_error(r, url, "beginning the session", status);
        return;
    }
    if (route(session, url, r)) {
        status = sps_session_commit(session, &r->set_cookie);
        if (status == SPS_NOT_FOUND) {
            reply_text(r, MHD_HTTP_CONFLICT, "session ended by another request");
        } else if (status != SPS_OK) {
            store_error(r, url, "committing", status);
        }
    }
    sps_session_free(session);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *connection, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls) {
    (void)version;
    (void)upload_data;
    (void)con_cls;
    const sps_manager *manager = cls;
    struct reply r = {.status = MHD_HTTP_OK, .set_cookie = {0}};
    bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    if (!get || *upload_data_size != 0) {
        reply_text(&r, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD");
    } else if (strcmp(url, "/plain") == 0) {
        /* No session: the same server's floor in the HTTP benchmark. */
        reply_text(&r, MHD_HTTP_OK, "plain");
    } else if (!is_route(url)) {
        reply_text(&r, MHD_HTTP_NOT_FOUND, "not found");
    } else {
        handle(manager, connection, url, &r);
    }

    enum MHD_Result queued = MHD_NO;
    struct MHD_Response *response =
        MHD_create_response_from_buffer(strlen(r.body), r.body, MHD_RESPMEM_MUST_COPY);
    if (response != NULL) {
        bool ok = MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
                                          "text/plain; charset=utf-8") == MHD_YES &&
                  MHD_add_response_header(response, MHD_HTTP_HEADER_VARY, "Cookie") == MHD_YES &&
                  MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") ==
                      MHD_YES;
        if (!get) ok = ok && MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") == MHD_YES;
        if (ok && r.set_cookie.data != NULL)
            ok = MHD_add_response_header(response, MHD_HTTP_HEADER_SET_COOKIE,
                                         (const char *)r.set_cookie.data) == MHD_YES;
        if (ok) queued = MHD_queue_response(connection, r.status, response);
        MHD_destroy_response(response);
    }
    sps_buf_free(&r.set_cookie);
    return queued; /* MHD_NO closes the connection */
}

static void usage(void) {
    fprintf(stderr,
            "usage: spysession-server --port PORT --store URL [--threads N] [--bind ADDR]\n");
}

/* A decimal in [lo, hi], or -1. */
static long parse_number(const char *s, long lo, long hi) {
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) return -1;
    return v;
}

int main(int argc, char **argv) {
    long port = -1;
    long threads = sysconf(_SC_NPROCESSORS_ONLN);
    const char *store_url = NULL;
    const char *bind_addr = "127.0.0.1";
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (i + 1 >= argc) {
            usage();
            return 2;
        }
        const char *val = argv[++i];
        if (strcmp(opt, "--port") == 0) {
            port = parse_number(val, 0, 65535);
        } else if (strcmp(opt, "--threads") == 0) {
            threads = parse_number(val, 1, 1024);
            if (threads < 0) {
                fprintf(stderr, "spysession-server: --threads wants 1 to 1024\n");
                return 2;
            }
        } else if (strcmp(opt, "--store") == 0) {
            store_url = val;
        } else if (strcmp(opt, "--bind") == 0) {
            bind_addr = val;
        } else {
            usage();
            return 2;
        }
    }
    if (port < 0 || store_url == NULL) {
        usage();
        return 2;
    }
    if (threads < 1) threads = 1;

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, bind_addr, &addr.sin_addr) != 1) {
        fprintf(stderr, "spysession-server: --bind %s is not an IPv4 address\n", bind_addr);
        return 2;
    }

    sps_store *store = NULL;
    if (sps_store_open_url(store_url, strlen(store_url), &store) != SPS_OK) {
        /* The message names the bad part, never the URL's password. */
        fprintf(stderr, "spysession-server: --store: %s\n", sps_last_error());
        return 1;
    }
    sps_manager *manager = NULL;
    sps_status status = sps_manager_new(store, NULL, &manager);
    sps_store_free(store); /* the manager keeps the store alive */
    if (status != SPS_OK) {
        fprintf(stderr, "spysession-server: making the manager: %s\n", sps_last_error());
        return 1;
    }

    /* SIGINT and SIGTERM are blocked in every thread (the pool inherits this
     * mask) and taken by sigwait below, so a signal never interrupts a
     * request halfway. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    struct MHD_Daemon *daemon = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, &answer, manager, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)threads,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, MHD_OPTION_END);
    if (daemon == NULL) {
        fprintf(stderr, "spysession-server: cannot listen on %s:%ld\n", bind_addr, port);
        sps_manager_free(manager);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    printf("listening on http://%s:%u/ (%ld threads, store %s)\n", bind_addr,
           info != NULL ? (unsigned int)info->port : (unsigned int)port, threads, store_url);
    fflush(stdout);

    int sig = 0;
    sigwait(&stop, &sig);
    MHD_stop_daemon(daemon); /* joins the pool: no request is running after it */
    sps_manager_free(manager);
    printf("stopped (signal %d)\n", sig);
    return 0;
}
