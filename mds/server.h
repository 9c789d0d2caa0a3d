/* server: the mds's DNS sockets, and the only file that uses libevent for
 * them. UDP datagrams and TCP connections (2-byte length framing, several
 * pipelined queries per connection) are turned into query_process calls;
 * answers go back as soon as they exist, deferred UPDATE answers when the
 * store has committed, even after other queries of the same connection. */
#ifndef DNSFS_SERVER_H
#define DNSFS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "query.h"

struct event_base;
struct server;

#define SERVER_LISTEN_DEFAULT "127.0.0.1:53"

struct server_options {
	struct event_base *base;        /* loop the sockets run on; not owned */
	struct query_ctx *qctx;         /* request handling; not owned, outlives the server */
	const char *const *listen;      /* "ADDR:PORT" or "[ADDR6]:PORT", UDP and TCP
					 * on each; port 0 picks a free one (same for
					 * both). NULL or nlisten 0: 127.0.0.1:53 */
	size_t nlisten;
	unsigned max_conns;             /* TCP connections at once (0: 512); more are closed */
	unsigned idle_ms;               /* close a TCP connection idle this long (0: 10000) */
	size_t conn_out_max;            /* unsent response bytes before a connection stops
					 * reading until its peer catches up (0: 256 KiB) */
	unsigned conn_deferred_max;     /* updates of one connection waiting for the
					 * store before it stops reading (0: 64) */
};

struct server_stats {
	uint64_t udp_in;                /* datagrams received */
	uint64_t udp_send_errors;       /* answers the kernel would not take */
	uint64_t tcp_accepted;          /* connections accepted */
	uint64_t tcp_refused;           /* closed at once: max_conns reached */
	uint64_t tcp_idle_closed;       /* closed by the idle timeout */
	uint64_t tcp_msgs;              /* messages received over TCP */
	unsigned tcp_open;              /* connections open now */
};

/* Bind every listen address and start serving on o->base. NULL with e set
 * (the address that failed and why) on error. */
struct server *server_new(const struct server_options *o, struct err *e);
/* Close every socket. Deferred queries still waiting for the store are
 * detached: their responses are dropped when the store answers. */
void server_free(struct server *s);
/* Stop taking requests (close the listeners and the UDP sockets); open TCP
 * connections read nothing more, get their pending answers, then close. For
 * a clean shutdown. */
void server_stop_listening(struct server *s);
/* Bytes of TCP responses not yet handed to the kernel (non-zero while a
 * zone transfer has messages left to produce). */
size_t server_unsent(const struct server *s);

/* Listener i as "ADDR:PORT" with the port actually bound; -ENOENT past the end. */
int server_addr(const struct server *s, size_t i, char *buf, size_t len);
size_t server_nlisten(const struct server *s);
const struct server_stats *server_stats(const struct server *s);

/* ---- a timer and a UDP client socket for other mds modules --------------
 * (NOTIFY, notify.c), so that libevent stays in this file. Callbacks run on
 * the loop; a callback may free its own timer or socket. */

struct server_timer;
struct server_timer *server_timer_new(struct event_base *base, void (*fn)(void *arg),
				      void *arg);
/* (Re)arm to fire once after ms milliseconds; 0 or -ENOMEM. */
int server_timer_start(struct server_timer *t, unsigned ms);
void server_timer_stop(struct server_timer *t);
void server_timer_free(struct server_timer *t);         /* NULL is fine */

struct server_udp;
/* A datagram from `from` arrived on u. */
typedef void (*server_udp_fn)(void *arg, const uint8_t *msg, size_t len,
			      const struct sockaddr *from, socklen_t fromlen);
/* An unbound (ephemeral port) non-blocking UDP socket of family AF_INET or
 * AF_INET6, read on the loop. NULL with e set on error. */
struct server_udp *server_udp_open(struct event_base *base, int family, server_udp_fn fn,
				   void *arg, struct err *e);
/* 0 or -errno. */
int server_udp_sendto(struct server_udp *u, const void *msg, size_t len,
		      const struct sockaddr *to, socklen_t tolen);
void server_udp_close(struct server_udp *u);            /* NULL is fine */
/* Parse "ADDR:PORT" or "[ADDR6]:PORT" (numeric). 0 or -EINVAL with e set. */
int server_parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len,
		      struct err *e);

#endif
