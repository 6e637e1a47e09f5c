/* A redis-server for one C test: started from the redis-server binary on a
 * free 127.0.0.1 port (no persistence), stopped at exit even when a CHECK
 * fails. Also a port where nothing listens and a socket that accepts
 * connections but never answers, for the failure tests. */
#ifndef SPS_TEST_REDIS_SERVER_H
#define SPS_TEST_REDIS_SERVER_H

#include "check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t redis_pid = 0;

/* Seconds on the monotonic clock. */
static inline double mono_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline struct sockaddr_in loopback(int port) {
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
}

/* A socket bound to a free 127.0.0.1 port; *port receives the port. */
static inline int bound_socket(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    struct sockaddr_in addr = loopback(0);
    CHECK(bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    socklen_t len = sizeof addr;
    CHECK(getsockname(fd, (struct sockaddr *)&addr, &len) == 0);
    *port = ntohs(addr.sin_port);
    return fd;
}

/* A port nothing listens on (as free as the kernel can tell). */
static inline int free_port(void) {
    int port = 0;
    close(bound_socket(&port));
    return port;
}

static inline bool port_answers(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    struct sockaddr_in addr = loopback(port);
    bool ok = connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0;
    close(fd);
    return ok;
}

static inline void redis_stop(void) {
    if (redis_pid > 0) {
        kill(redis_pid, SIGKILL);
        waitpid(redis_pid, NULL, 0);
        redis_pid = 0;
    }
}

/* Starts redis-server on `port` and waits until it accepts connections;
 * with `tls_dir`, it speaks only TLS there, with the server.crt/server.key
 * of that directory (see make_certificates). */
static inline void redis_start_in(int port, const char *tls_dir) {
    static bool registered = false;
    if (!registered) {
        atexit(redis_stop);
        registered = true;
    }
    CHECK(redis_pid == 0);
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%d", port);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, STDOUT_FILENO);
            dup2(devnull, STDERR_FILENO);
        }
        if (tls_dir != NULL) {
            char cert[512], key[512], ca[512];
            snprintf(cert, sizeof cert, "%s/server.crt", tls_dir);
            snprintf(key, sizeof key, "%s/server.key", tls_dir);
            snprintf(ca, sizeof ca, "%s/ca.crt", tls_dir);
            execlp("redis-server", "redis-server", "--port", "0", "--tls-port", port_text,
                   "--tls-cert-file", cert, "--tls-key-file", key, "--tls-ca-cert-file", ca,
                   "--tls-auth-clients", "no", "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", (char *)NULL);
        }
        execlp("redis-server", "redis-server", "--port", port_text, "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", (char *)NULL);
        _exit(127); /* no redis-server: the wait below fails the test */
    }
    redis_pid = pid;
    double deadline = mono_now() + 10.0;
    while (!port_answers(port)) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            redis_pid = 0;
            FAIL("redis-server exited at start (status %d): is it installed?", status);
        }
        if (mono_now() > deadline) FAIL("redis-server did not start on port %d", port);
        usleep(20 * 1000);
    }
}

static inline void redis_start(int port) { redis_start_in(port, NULL); }

/* A CA (ca.crt) and a certificate for 127.0.0.1 signed by it (server.crt,
 * server.key) in `dir`, made with the openssl command. */
static inline void make_certificates(const char *dir) {
    char command[2048];
    snprintf(command, sizeof command,
             "cd '%s' && ( "
             "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout ca.key -out ca.crt "
             "-subj '/CN=spysession test CA' && "
             "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr "
             "-subj /CN=127.0.0.1 && "
             "printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > ext.cnf && "
             "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
             "-days 2 -out server.crt -extfile ext.cnf ) >/dev/null 2>&1",
             dir);
    if (system(command) != 0) FAIL("openssl could not make the test certificates: is it installed?");
}

#endif
