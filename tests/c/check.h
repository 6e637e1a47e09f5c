/* Assertions for the C tests: print file:line and what failed, exit 1. */
#ifndef SPS_TEST_CHECK_H
#define SPS_TEST_CHECK_H

#include <spysession.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A string literal as pointer + length, for the sps_ functions. */
#define S(lit) (lit), (sizeof(lit) - 1)

#define FAIL(...)                                                        \
    do {                                                                 \
        fprintf(stderr, "%s:%d: FAILED: ", __FILE__, __LINE__);          \
        fprintf(stderr, __VA_ARGS__);                                    \
        fprintf(stderr, "\n  last error: %s\n", sps_last_error());       \
        exit(1);                                                         \
    } while (0)

#define CHECK(cond)                                                      \
    do {                                                                 \
        if (!(cond)) FAIL("%s", #cond);                                  \
    } while (0)

/* The call must return the given status. */
#define CHECK_STATUS(expected, call)                                     \
    do {                                                                 \
        sps_status got_ = (call);                                        \
        if (got_ != (expected))                                          \
            FAIL("%s returned %s, expected %s", #call,                   \
                 sps_status_name(got_), sps_status_name(expected));      \
    } while (0)

#define CHECK_OK(call) CHECK_STATUS(SPS_OK, call)

/* The buffer holds exactly the C string `want`. */
#define CHECK_BUF_EQ(buf, want)                                          \
    do {                                                                 \
        const char *want_ = (want);                                      \
        if ((buf).data == NULL || (buf).len != strlen(want_) ||          \
            memcmp((buf).data, want_, (buf).len) != 0)                   \
            FAIL("buffer is \"%.*s\", expected \"%s\"", (int)(buf).len,  \
                 (buf).data ? (const char *)(buf).data : "(null)", want_); \
    } while (0)

#define CHECK_CONTAINS(text, part)                                       \
    do {                                                                 \
        const char *t_ = (text);                                         \
        if (t_ == NULL || strstr(t_, (part)) == NULL)                    \
            FAIL("\"%s\" does not contain \"%s\"", t_ ? t_ : "(null)",   \
                 (part));                                                \
    } while (0)

#define RUN(test)                                                        \
    do {                                                                 \
        test();                                                          \
        printf("  ok %s\n", #test);                                      \
    } while (0)

#define RUN_ARG(test, arg)                                               \
    do {                                                                 \
        test(arg);                                                       \
        printf("  ok %s\n", #test);                                      \
    } while (0)

/* The Cookie request header a browser sends back for a Set-Cookie value:
 * its first `name=value` pair. Returns a malloc'd string. */
static inline char *cookie_from_set_cookie(const sps_buf *set_cookie) {
    if (set_cookie->data == NULL) FAIL("no Set-Cookie to send back");
    const char *text = (const char *)set_cookie->data;
    size_t n = strcspn(text, ";");
    char *cookie = malloc(n + 1);
    if (cookie == NULL) FAIL("out of memory");
    memcpy(cookie, text, n);
    cookie[n] = '\0';
    return cookie;
}

/* A request carrying only a Cookie header (or none) for path "/". */
static inline sps_request cookie_request(const char *cookie) {
    sps_request req;
    memset(&req, 0, sizeof req);
    if (cookie != NULL) {
        req.cookie = cookie;
        req.cookie_len = strlen(cookie);
    }
    req.path = "/";
    req.path_len = 1;
    return req;
}

#endif
