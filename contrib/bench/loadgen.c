// loadgen: a small epoll + OpenSSL load generator for contrib/bench/run.sh (issue 7).
//
// Why not hey/curl/python: on a 2-core machine the client shares the CPU with the proxy and the
// origin, so the client must be cheap and identical for every system; this one is a single
// non-blocking event loop per thread with no per-request allocation.
//
// Modes
//   keep-alive (default): --conns C connections, each does requests back to back for --duration s.
//   --new-conn: every request opens a new TCP connection (+ CONNECT) + full TLS handshake, hostnames
//               cycle through --hosts N names ("<prefix>1.<domain>" ...); with --requests N it stops
//               after N completed requests (one pass = a cold leaf cache), otherwise after --duration.
//   --hold N: open N CONNECT tunnels through --proxy, keep them idle, write "<established>" to
//             --ready-file, then sleep until --duration ends (the caller reads the proxy's RSS).
//
// Output: one JSON object on stdout: requests, errors, seconds, rps, p50_ms, p99_ms, body_bytes,
// sent_bytes, first_error.
//
// Build: gcc -O2 -o loadgen loadgen.c -lssl -lcrypto -lpthread
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

// ---- options -------------------------------------------------------------------------------

static struct {
    struct sockaddr_in connect_addr;  // where TCP goes: the proxy, or the origin when direct
    int use_proxy;
    char target_host[256];            // origin host name (SNI, Host, CONNECT authority)
    int target_port;
    const char *path;
    int tls;
    int conns;
    int threads;
    double duration;
    double warmup;                    // seconds at the start whose completions are not counted
    long max_requests;                // 0 = unbounded (duration only)
    int new_conn;
    int hosts;                        // >0: cycle <host_prefix>i.<domain>
    const char *host_prefix;
    const char *domain;
    char *post_body;
    size_t post_len;
    const char *content_type;
    int hold;
    const char *ready_file;
    int expect_status;
} opt = {.target_port = 443, .path = "/", .tls = 1, .conns = 64, .threads = 1, .duration = 10,
         .host_prefix = "h", .domain = "bench.test", .content_type = "application/json", .expect_status = 200};

static SSL_CTX *ssl_ctx;
static double t_start, t_deadline, t_measure;
static volatile long total_done;      // across threads, for --requests
static volatile int stop_all;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

// ---- latency histogram: 10 µs buckets to 100 ms, then 1 ms buckets to 10 s ---------------------

#define FINE_BUCKETS 10000
#define COARSE_BUCKETS 9900
typedef struct { uint64_t fine[FINE_BUCKETS]; uint64_t coarse[COARSE_BUCKETS]; uint64_t over; uint64_t n; } hist_t;

static void hist_add(hist_t *h, double seconds) {
    double us = seconds * 1e6;
    if (us < FINE_BUCKETS * 10.0) h->fine[(int)(us / 10)]++;
    else if (us < 10e6) h->coarse[(int)((us - 100000) / 1000)]++;
    else h->over++;
    h->n++;
}

static double hist_quantile(const hist_t *h, double q) {
    if (h->n == 0) return 0;
    uint64_t want = (uint64_t)(q * (double)h->n);
    if (want >= h->n) want = h->n - 1;
    uint64_t seen = 0;
    for (int i = 0; i < FINE_BUCKETS; i++) { seen += h->fine[i]; if (seen > want) return (i * 10 + 5) / 1000.0; }
    for (int i = 0; i < COARSE_BUCKETS; i++) { seen += h->coarse[i]; if (seen > want) return 100 + i + 0.5; }
    return 10000;
}

// ---- connections ---------------------------------------------------------------------------

enum state { ST_CONNECTING, ST_PROXY_WRITE, ST_PROXY_READ, ST_HANDSHAKE, ST_WRITE, ST_READ_HEAD, ST_READ_BODY, ST_HELD };
enum body_mode { BODY_LENGTH, BODY_CHUNKED, BODY_EOF };
enum chunk_state { CH_SIZE, CH_DATA, CH_DATA_CRLF, CH_TRAILER };

typedef struct conn {
    int fd;
    SSL *ssl;
    enum state st;
    char host[256];
    char out[4096];
    size_t out_len, out_off;
    size_t body_off;                  // POST body bytes written
    char head[16384];
    size_t head_len;
    enum body_mode body_mode;
    long long remaining;
    enum chunk_state ch_state;
    char ch_line[64];
    size_t ch_line_len;
    int close_after;
    int status;
    double req_start;
    int requests_on_conn;
} conn_t;

typedef struct worker {
    int id;
    int epfd;
    int nconns;
    conn_t *conns;
    hist_t hist;
    long done, errors, established;
    uint64_t body_bytes, sent_bytes;
    long next_host;
    char first_error[200];
    pthread_t thread;
} worker_t;

static void note_error(worker_t *w, const char *what) {
    w->errors++;
    if (!w->first_error[0]) snprintf(w->first_error, sizeof w->first_error, "%s", what);
}

static void pick_host(worker_t *w, conn_t *c) {
    if (opt.hosts > 0) {
        long i = (w->next_host * opt.threads + w->id) % opt.hosts + 1;
        w->next_host++;
        snprintf(c->host, sizeof c->host, "%s%ld.%s", opt.host_prefix, i, opt.domain);
    } else {
        snprintf(c->host, sizeof c->host, "%s", opt.target_host);
    }
}

static void build_request(conn_t *c) {
    int keep = !opt.new_conn;
    char authority[300];
    int default_port = opt.tls ? 443 : 80;
    if (opt.target_port == default_port) snprintf(authority, sizeof authority, "%s", c->host);
    else snprintf(authority, sizeof authority, "%s:%d", c->host, opt.target_port);
    char target[700];
    if (!opt.tls && opt.use_proxy) snprintf(target, sizeof target, "http://%s%s", authority, opt.path);
    else snprintf(target, sizeof target, "%s", opt.path);
    if (opt.post_body)
        c->out_len = snprintf(c->out, sizeof c->out,
                              "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n",
                              target, authority, opt.content_type, opt.post_len, keep ? "" : "Connection: close\r\n");
    else
        c->out_len = snprintf(c->out, sizeof c->out, "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", target, authority,
                              keep ? "" : "Connection: close\r\n");
    c->out_off = 0;
    c->body_off = 0;
    c->head_len = 0;
    // With --new-conn the latency is the whole connection: TCP, CONNECT, handshake and request.
    if (!opt.new_conn) c->req_start = now();
}

static void conn_close(worker_t *w, conn_t *c) {
    if (c->ssl) { SSL_free(c->ssl); c->ssl = NULL; }
    if (c->fd >= 0) { epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL); close(c->fd); c->fd = -1; }
}

static void set_events(worker_t *w, conn_t *c, uint32_t ev) {
    struct epoll_event e = {.events = ev, .data.ptr = c};
    epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &e);
}

static int conn_open(worker_t *w, conn_t *c) {
    pick_host(w, c);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0) { note_error(w, "socket() failed (file descriptor limit?)"); return -1; }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->ssl = NULL;
    c->requests_on_conn = 0;
    c->req_start = now();
    int r = connect(c->fd, (struct sockaddr *)&opt.connect_addr, sizeof opt.connect_addr);
    if (r < 0 && errno != EINPROGRESS) { note_error(w, "connect() failed"); close(c->fd); c->fd = -1; return -1; }
    c->st = ST_CONNECTING;
    struct epoll_event e = {.events = EPOLLOUT, .data.ptr = c};
    epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &e);
    return 0;
}

static void after_tcp(worker_t *w, conn_t *c);
static void start_tls(worker_t *w, conn_t *c);
static void start_request(worker_t *w, conn_t *c);
static void drive(worker_t *w, conn_t *c);

static int deadline_passed(void) {
    if (stop_all) return 1;
    if (opt.max_requests > 0 && __atomic_load_n(&total_done, __ATOMIC_RELAXED) >= opt.max_requests) return 1;
    return now() >= t_deadline;  // with --requests, --duration is the time bound
}

static void reopen(worker_t *w, conn_t *c) {
    conn_close(w, c);
    if (deadline_passed()) return;
    if (conn_open(w, c) < 0) return;
}

static void fail(worker_t *w, conn_t *c, const char *what) {
    char buf[200];
    unsigned long e = ERR_get_error();
    if (e) { snprintf(buf, sizeof buf, "%s: %s", what, ERR_reason_error_string(e)); ERR_clear_error(); what = buf; }
    note_error(w, what);
    if (opt.hold) { conn_close(w, c); return; }
    reopen(w, c);
}

static void after_tcp(worker_t *w, conn_t *c) {
    if (opt.use_proxy && (opt.tls || opt.hold)) {
        c->out_len = snprintf(c->out, sizeof c->out, "CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n", c->host,
                              opt.target_port, c->host, opt.target_port);
        c->out_off = 0;
        c->head_len = 0;
        c->st = ST_PROXY_WRITE;
        set_events(w, c, EPOLLOUT);
        drive(w, c);
    } else if (opt.tls) {
        start_tls(w, c);
    } else {
        start_request(w, c);
    }
}

static void start_tls(worker_t *w, conn_t *c) {
    c->ssl = SSL_new(ssl_ctx);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_tlsext_host_name(c->ssl, c->host);
    SSL_set_connect_state(c->ssl);
    c->st = ST_HANDSHAKE;
    drive(w, c);
}

static void start_request(worker_t *w, conn_t *c) {
    build_request(c);
    c->st = ST_WRITE;
    set_events(w, c, EPOLLOUT);
    drive(w, c);
}

// Plain or TLS I/O; returns bytes, 0 on EOF, -1 on would-block (events set), -2 on error.
static ssize_t io_read(worker_t *w, conn_t *c, char *buf, size_t len) {
    if (c->ssl) {
        int n = SSL_read(c->ssl, buf, (int)len);
        if (n > 0) return n;
        int err = SSL_get_error(c->ssl, n);
        if (err == SSL_ERROR_WANT_READ) { set_events(w, c, EPOLLIN); return -1; }
        if (err == SSL_ERROR_WANT_WRITE) { set_events(w, c, EPOLLOUT); return -1; }
        if (err == SSL_ERROR_ZERO_RETURN) return 0;
        if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) return 0;  // unclean EOF
        return -2;
    }
    ssize_t n = read(c->fd, buf, len);
    if (n >= 0) return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK) { set_events(w, c, EPOLLIN); return -1; }
    return -2;
}

static ssize_t io_write(worker_t *w, conn_t *c, const char *buf, size_t len) {
    if (c->ssl) {
        int n = SSL_write(c->ssl, buf, (int)len);
        if (n > 0) return n;
        int err = SSL_get_error(c->ssl, n);
        if (err == SSL_ERROR_WANT_READ) { set_events(w, c, EPOLLIN); return -1; }
        if (err == SSL_ERROR_WANT_WRITE) { set_events(w, c, EPOLLOUT); return -1; }
        return -2;
    }
    ssize_t n = write(c->fd, buf, len);
    if (n >= 0) return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK) { set_events(w, c, EPOLLOUT); return -1; }
    return -2;
}

static void complete_response(worker_t *w, conn_t *c) {
    double t = now();
    if (c->status != opt.expect_status) {
        char buf[64];
        snprintf(buf, sizeof buf, "unexpected status %d", c->status);
        note_error(w, buf);
    } else if (t < t_measure) {
        // warm-up: connections and caches settle; not counted
    } else if (!deadline_passed() || opt.max_requests > 0) {
        hist_add(&w->hist, t - c->req_start);
        w->done++;
        __atomic_add_fetch(&total_done, 1, __ATOMIC_RELAXED);
    }
    c->requests_on_conn++;
    if (opt.new_conn || c->close_after) { reopen(w, c); return; }
    if (deadline_passed()) { conn_close(w, c); return; }
    start_request(w, c);
}

// Consumes body bytes; returns 1 when the response is complete, -1 on a framing error.
static int consume_body(conn_t *c, const char *p, size_t n) {
    if (c->body_mode == BODY_EOF) return 0;
    if (c->body_mode == BODY_LENGTH) {
        c->remaining -= (long long)n;
        if (c->remaining < 0) return -1;
        return c->remaining == 0;
    }
    size_t i = 0;
    while (i < n) {
        switch (c->ch_state) {
        case CH_SIZE:
        case CH_DATA_CRLF:
        case CH_TRAILER: {
            char ch = p[i++];
            if (ch == '\n') {
                c->ch_line[c->ch_line_len] = 0;
                if (c->ch_line_len && c->ch_line[c->ch_line_len - 1] == '\r') c->ch_line[--c->ch_line_len] = 0;
                if (c->ch_state == CH_DATA_CRLF) { c->ch_state = CH_SIZE; }
                else if (c->ch_state == CH_SIZE) {
                    c->remaining = strtoll(c->ch_line, NULL, 16);
                    c->ch_state = c->remaining ? CH_DATA : CH_TRAILER;
                } else if (c->ch_line_len == 0) {
                    c->ch_line_len = 0;
                    return 1;
                }
                c->ch_line_len = 0;
            } else if (c->ch_line_len < sizeof c->ch_line - 1) {
                c->ch_line[c->ch_line_len++] = ch;
            }
            break;
        }
        case CH_DATA: {
            size_t take = n - i;
            if ((long long)take > c->remaining) take = (size_t)c->remaining;
            c->remaining -= (long long)take;
            i += take;
            if (c->remaining == 0) c->ch_state = CH_DATA_CRLF;
            break;
        }
        }
    }
    return 0;
}

static int parse_head(conn_t *c, size_t *head_end) {
    char *end = memmem(c->head, c->head_len, "\r\n\r\n", 4);
    if (!end) return 0;
    *head_end = (size_t)(end - c->head) + 4;
    *end = 0;
    if (strncmp(c->head, "HTTP/1.", 7) != 0) return -1;
    c->status = atoi(c->head + 9);
    c->body_mode = BODY_EOF;
    c->close_after = 0;
    c->remaining = 0;
    for (char *line = strstr(c->head, "\r\n"); line; line = strstr(line, "\r\n")) {
        line += 2;
        if (!strncasecmp(line, "content-length:", 15)) { c->body_mode = BODY_LENGTH; c->remaining = atoll(line + 15); }
        else if (!strncasecmp(line, "transfer-encoding:", 18) && strcasestr(line, "chunked") &&
                 (!strchr(line, '\r') || strcasestr(line, "chunked") < strchr(line, '\r'))) {
            c->body_mode = BODY_CHUNKED; c->ch_state = CH_SIZE; c->ch_line_len = 0;
        } else if (!strncasecmp(line, "connection:", 11)) {
            char *cr = strchr(line, '\r');
            char *cl = strcasestr(line, "close");
            if (cl && (!cr || cl < cr)) c->close_after = 1;
        }
    }
    if (c->body_mode == BODY_CHUNKED) c->remaining = 0;
    if (c->status == 204 || c->status == 304) { c->body_mode = BODY_LENGTH; c->remaining = 0; }
    if (c->body_mode == BODY_EOF) c->close_after = 1;
    return 1;
}

static void drive(worker_t *w, conn_t *c) {
    static __thread char buf[65536];
    for (;;) {
        switch (c->st) {
        case ST_CONNECTING: {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err) {
                char msg[100];
                snprintf(msg, sizeof msg, "connect failed: %s", strerror(err));
                fail(w, c, msg); return;
            }
            // A stale event for a previous socket of this slot: wait for the real one.
            struct sockaddr_in peer;
            socklen_t plen = sizeof peer;
            if (getpeername(c->fd, (struct sockaddr *)&peer, &plen) < 0) { set_events(w, c, EPOLLOUT); return; }
            after_tcp(w, c);
            return;
        }
        case ST_PROXY_WRITE: {
            ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
            if (n < 0) {
                if (errno == EAGAIN) { set_events(w, c, EPOLLOUT); return; }
                fail(w, c, "CONNECT write failed"); return;
            }
            c->out_off += (size_t)n;
            if (c->out_off == c->out_len) { c->st = ST_PROXY_READ; set_events(w, c, EPOLLIN); }
            break;
        }
        case ST_PROXY_READ: {
            // Read only up to the end of the proxy's reply: TLS bytes may follow (they never do before
            // our ClientHello, but a byte-at-a-time peek keeps this honest and is rare: once per tunnel).
            ssize_t n = read(c->fd, c->head + c->head_len, sizeof c->head - 1 - c->head_len);
            if (n < 0) { if (errno == EAGAIN) return; fail(w, c, "CONNECT read failed"); return; }
            if (n == 0) { fail(w, c, "proxy closed during CONNECT"); return; }
            c->head_len += (size_t)n;
            char *end = memmem(c->head, c->head_len, "\r\n\r\n", 4);
            if (!end) { if (c->head_len >= sizeof c->head - 1) { fail(w, c, "CONNECT reply too long"); return; } break; }
            c->head[c->head_len] = 0;
            if (strncmp(c->head, "HTTP/1.", 7) != 0 || atoi(c->head + 9) != 200) {
                char msg[120];
                snprintf(msg, sizeof msg, "CONNECT refused: %.80s", c->head);
                char *cr = strchr(msg, '\r'); if (cr) *cr = 0;
                fail(w, c, msg); return;
            }
            if (opt.hold) {
                c->st = ST_HELD;
                w->established++;
                set_events(w, c, EPOLLIN);
                return;
            }
            start_tls(w, c);
            return;
        }
        case ST_HANDSHAKE: {
            int r = SSL_do_handshake(c->ssl);
            if (r == 1) { start_request(w, c); return; }
            int err = SSL_get_error(c->ssl, r);
            if (err == SSL_ERROR_WANT_READ) { set_events(w, c, EPOLLIN); return; }
            if (err == SSL_ERROR_WANT_WRITE) { set_events(w, c, EPOLLOUT); return; }
            fail(w, c, "TLS handshake failed"); return;
        }
        case ST_WRITE: {
            if (c->out_off < c->out_len) {
                ssize_t n = io_write(w, c, c->out + c->out_off, c->out_len - c->out_off);
                if (n == -1) return;
                if (n < 0) { fail(w, c, "write failed"); return; }
                c->out_off += (size_t)n;
                w->sent_bytes += (uint64_t)n;
                break;
            }
            if (opt.post_body && c->body_off < opt.post_len) {
                ssize_t n = io_write(w, c, opt.post_body + c->body_off, opt.post_len - c->body_off);
                if (n == -1) return;
                if (n < 0) { fail(w, c, "body write failed"); return; }
                c->body_off += (size_t)n;
                w->sent_bytes += (uint64_t)n;
                break;
            }
            c->st = ST_READ_HEAD;
            c->head_len = 0;
            set_events(w, c, EPOLLIN);
            break;
        }
        case ST_READ_HEAD: {
            ssize_t n = io_read(w, c, c->head + c->head_len, sizeof c->head - 1 - c->head_len);
            if (n == -1) return;
            if (n == 0) {
                // A keep-alive connection the server closed between requests: reconnect quietly once.
                if (c->head_len == 0 && c->requests_on_conn > 0) { reopen(w, c); return; }
                fail(w, c, "connection closed before response"); return;
            }
            if (n < 0) { fail(w, c, "read failed"); return; }
            c->head_len += (size_t)n;
            size_t head_end = 0;
            int r = parse_head(c, &head_end);
            if (r < 0) { fail(w, c, "bad response head"); return; }
            if (r == 0) { if (c->head_len >= sizeof c->head - 1) { fail(w, c, "response head too long"); return; } break; }
            size_t extra = c->head_len - head_end;
            w->body_bytes += extra;
            c->st = ST_READ_BODY;
            if (c->body_mode == BODY_LENGTH && c->remaining == 0 && extra == 0) { complete_response(w, c); return; }
            if (extra) {
                int done = consume_body(c, c->head + head_end, extra);
                if (done < 0) { fail(w, c, "body longer than Content-Length"); return; }
                if (done) { complete_response(w, c); return; }
            }
            break;
        }
        case ST_READ_BODY: {
            ssize_t n = io_read(w, c, buf, sizeof buf);
            if (n == -1) return;
            if (n == 0) {
                if (c->body_mode == BODY_EOF) { c->close_after = 1; complete_response(w, c); return; }
                fail(w, c, "connection closed mid-body"); return;
            }
            if (n < 0) { fail(w, c, "read failed"); return; }
            w->body_bytes += (uint64_t)n;
            int done = consume_body(c, buf, (size_t)n);
            if (done < 0) { fail(w, c, "body longer than Content-Length"); return; }
            if (done) { complete_response(w, c); return; }
            break;
        }
        case ST_HELD: {
            ssize_t n = read(c->fd, buf, sizeof buf);
            if (n > 0 || (n < 0 && errno == EAGAIN)) return;
            w->established--;
            fail(w, c, "held tunnel closed by the proxy");
            return;
        }
        }
    }
}

static void *worker_main(void *arg) {
    worker_t *w = arg;
    struct epoll_event events[256];
    int opened = 0;
    // Open held tunnels in waves so the listen backlog never overflows (a dropped SYN costs 1 s).
    int window = opt.hold ? 200 : w->nconns;
    while (!stop_all) {
        if (opened < w->nconns) {
            int inflight = opt.hold ? opened - (int)w->established - (int)w->errors : 0;
            while (opened < w->nconns && inflight < window) { conn_open(w, &w->conns[opened++]); inflight++; }
        }
        double t = now();
        if (opt.hold) {
            if (opened == w->nconns && (long)w->established + w->errors >= w->nconns) break;
            if (t >= t_deadline) break;
        } else if (deadline_passed()) break;
        int timeout = 50;
        int n = epoll_wait(w->epfd, events, 256, timeout);
        for (int i = 0; i < n; i++) drive(w, events[i].data.ptr);
    }
    return NULL;
}

static void usage(void) {
    fprintf(stderr,
            "usage: loadgen --connect IP:PORT [--proxy] --target HOST:PORT [--path P] [--plain] [--conns C]\n"
            "               [--threads T] [--duration S] [--warmup S] [--requests N] [--new-conn] [--hosts N --host-prefix P\n"
            "               --domain D] [--post FILE] [--hold N --ready-file F] [--expect-status S]\n");
    exit(2);
}

static void parse_hostport(const char *s, char *host, size_t hostlen, int *port) {
    const char *colon = strrchr(s, ':');
    if (!colon) usage();
    snprintf(host, hostlen, "%.*s", (int)(colon - s), s);
    *port = atoi(colon + 1);
}

int main(int argc, char **argv) {
    char connect_host[64] = "127.0.0.1";
    int connect_port = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED() do { if (!v) usage(); i++; } while (0)
        if (!strcmp(a, "--connect")) { NEED(); parse_hostport(v, connect_host, sizeof connect_host, &connect_port); }
        else if (!strcmp(a, "--proxy")) opt.use_proxy = 1;
        else if (!strcmp(a, "--target")) { NEED(); parse_hostport(v, opt.target_host, sizeof opt.target_host, &opt.target_port); }
        else if (!strcmp(a, "--path")) { NEED(); opt.path = v; }
        else if (!strcmp(a, "--plain")) opt.tls = 0;
        else if (!strcmp(a, "--conns")) { NEED(); opt.conns = atoi(v); }
        else if (!strcmp(a, "--threads")) { NEED(); opt.threads = atoi(v); }
        else if (!strcmp(a, "--duration")) { NEED(); opt.duration = atof(v); }
        else if (!strcmp(a, "--warmup")) { NEED(); opt.warmup = atof(v); }
        else if (!strcmp(a, "--requests")) { NEED(); opt.max_requests = atol(v); }
        else if (!strcmp(a, "--new-conn")) opt.new_conn = 1;
        else if (!strcmp(a, "--hosts")) { NEED(); opt.hosts = atoi(v); }
        else if (!strcmp(a, "--host-prefix")) { NEED(); opt.host_prefix = v; }
        else if (!strcmp(a, "--domain")) { NEED(); opt.domain = v; }
        else if (!strcmp(a, "--hold")) { NEED(); opt.hold = atoi(v); }
        else if (!strcmp(a, "--ready-file")) { NEED(); opt.ready_file = v; }
        else if (!strcmp(a, "--expect-status")) { NEED(); opt.expect_status = atoi(v); }
        else if (!strcmp(a, "--post")) {
            NEED();
            FILE *f = fopen(v, "rb");
            if (!f) { perror(v); return 2; }
            fseek(f, 0, SEEK_END); long len = ftell(f); fseek(f, 0, SEEK_SET);
            opt.post_body = malloc((size_t)len);
            if (!opt.post_body || fread(opt.post_body, 1, (size_t)len, f) != (size_t)len) { perror(v); return 2; }
            opt.post_len = (size_t)len;
            fclose(f);
        } else usage();
    }
    if (!connect_port || !opt.target_host[0]) usage();
    signal(SIGPIPE, SIG_IGN);  // a peer closing mid-write is an error to count, not a reason to die
    opt.connect_addr.sin_family = AF_INET;
    opt.connect_addr.sin_port = htons((uint16_t)connect_port);
    if (inet_pton(AF_INET, connect_host, &opt.connect_addr.sin_addr) != 1) usage();
    if (opt.hold) { opt.conns = opt.hold; opt.threads = 1; opt.use_proxy = 1; }
    if (opt.threads < 1) opt.threads = 1;
    if (opt.conns < opt.threads) opt.threads = opt.conns;

    // The client never verifies: each proxy's CA differs and run.sh checks interception with curl
    // before loading. No session reuse, so --new-conn measures full handshakes.
    ssl_ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_mode(ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_alpn_protos(ssl_ctx, (const unsigned char *)"\x08http/1.1", 9);

    worker_t *workers = calloc((size_t)opt.threads, sizeof *workers);
    t_start = now();
    t_measure = t_start + opt.warmup;
    t_deadline = t_measure + opt.duration;
    for (int t = 0; t < opt.threads; t++) {
        worker_t *w = &workers[t];
        w->id = t;
        w->epfd = epoll_create1(0);
        w->nconns = opt.conns / opt.threads + (t < opt.conns % opt.threads);
        w->conns = calloc((size_t)w->nconns, sizeof(conn_t));
        for (int i = 0; i < w->nconns; i++) w->conns[i].fd = -1;
        pthread_create(&w->thread, NULL, worker_main, w);
    }
    for (int t = 0; t < opt.threads; t++) pthread_join(workers[t].thread, NULL);
    double elapsed = now() - t_measure;

    if (opt.hold) {
        worker_t *w = &workers[0];
        if (opt.ready_file) {
            FILE *f = fopen(opt.ready_file, "w");
            if (f) { fprintf(f, "%ld\n", w->established); fclose(f); }
        }
        // Hold until the caller kills us or the duration ends; keep draining events so closes are seen.
        struct epoll_event events[256];
        while (now() < t_deadline) {
            int n = epoll_wait(w->epfd, events, 256, 200);
            for (int i = 0; i < n; i++) drive(w, events[i].data.ptr);
        }
        printf("{\"established\": %ld, \"errors\": %ld, \"seconds\": %.3f, \"first_error\": \"%s\"}\n",
               w->established, w->errors, elapsed, w->first_error);
        return 0;
    }

    hist_t *h = calloc(1, sizeof *h);
    long done = 0, errors = 0;
    uint64_t body = 0, sent = 0;
    const char *first_error = "";
    for (int t = 0; t < opt.threads; t++) {
        worker_t *w = &workers[t];
        done += w->done; errors += w->errors; body += w->body_bytes; sent += w->sent_bytes;
        for (int i = 0; i < FINE_BUCKETS; i++) h->fine[i] += w->hist.fine[i];
        for (int i = 0; i < COARSE_BUCKETS; i++) h->coarse[i] += w->hist.coarse[i];
        h->over += w->hist.over; h->n += w->hist.n;
        if (!first_error[0] && w->first_error[0]) first_error = w->first_error;
    }
    printf("{\"requests\": %ld, \"errors\": %ld, \"seconds\": %.3f, \"rps\": %.1f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, "
           "\"body_bytes\": %llu, \"sent_bytes\": %llu, \"first_error\": \"",
           done, errors, elapsed, done / elapsed, hist_quantile(h, 0.50), hist_quantile(h, 0.99),
           (unsigned long long)body, (unsigned long long)sent);
    for (const char *p = first_error; *p; p++) putchar(*p == '"' || *p == '\\' ? '\'' : *p);
    printf("\"}\n");
    return 0;
}
