/* server: UDP and TCP DNS sockets on libevent (see server.h). Connections are
 * bufferevents; a callback that may end up freeing its connection does so
 * through the entered/closing flags, as hiredis does, so nothing is used after
 * it is freed. Deferred queries point to their connection and are detached
 * (owner = NULL) when it goes away first. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "log.h"
#include "server.h"

#define SERVER_UDP_BATCH 64             /* datagrams read per readiness event */
#define SERVER_SPARE_QUERIES 16         /* idle query objects kept for reuse */
#define SERVER_TCP_BACKLOG 128

struct server_listener {
	struct server *s;
	struct sockaddr_storage addr;   /* as bound (port filled in) */
	socklen_t addr_len;
	evutil_socket_t udp_fd;         /* -1 once closed */
	struct event *udp_ev;
	struct evconnlistener *tcp;     /* owns the TCP socket */
	struct query *deferred;         /* UDP updates waiting for the store */
};

struct server_conn {
	struct server *s;
	struct bufferevent *bev;        /* owns the socket */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	struct query *deferred;         /* this connection's updates waiting for the store */
	unsigned ndeferred;
	struct query *stream;           /* a zone transfer being sent (query_next), or NULL */
	int paused;                     /* reading stopped: output or deferred bound hit */
	int eof;                        /* the peer closed its side: answer, then close */
	int entered;                    /* callbacks of this connection on the stack */
	int closing;                    /* free when the last callback returns */
	struct server_conn *next;       /* s->conns list */
	struct server_conn *prev;
};

struct server {
	struct server_options o;        /* defaults filled in */
	struct server_listener *ls;
	size_t nls;
	struct server_conn *conns;      /* open TCP connections */
	struct query *spare;            /* idle query objects (linked by owner_next) */
	unsigned nspare;
	struct server_stats stats;
	uint8_t buf[WIRE_TCP_MAX + 1];  /* the message being handled (one at a time) */
};

/* ======================================================================
 * query objects
 * ====================================================================== */

static struct query *server_query_get(struct server *s)
{
	struct query *q = s->spare;

	if (q != NULL) {
		s->spare = q->owner_next;
		s->nspare--;
	} else if ((q = query_new(s->o.qctx)) == NULL) {
		log_err("server: out of memory for a query");
		return NULL;
	}
	q->owner = NULL;
	q->owner_next = q->owner_prev = NULL;
	return q;
}

static void server_query_put(struct server *s, struct query *q)
{
	if (s->nspare >= SERVER_SPARE_QUERIES) {
		query_free(q);
		return;
	}
	q->owner = NULL;
	q->owner_prev = NULL;
	q->owner_next = s->spare;
	s->spare = q;
	s->nspare++;
}

static void server_list_add(struct query **head, struct query *q)
{
	q->owner_prev = NULL;
	q->owner_next = *head;
	if (*head != NULL)
		(*head)->owner_prev = q;
	*head = q;
}

static void server_list_del(struct query **head, struct query *q)
{
	if (q->owner_prev != NULL)
		q->owner_prev->owner_next = q->owner_next;
	else
		*head = q->owner_next;
	if (q->owner_next != NULL)
		q->owner_next->owner_prev = q->owner_prev;
	q->owner_next = q->owner_prev = NULL;
}

/* Let a list of deferred queries fend for themselves: the store's callback
 * frees each one (query.c) instead of handing it back to us. */
static void server_list_detach(struct query **head)
{
	struct query *q, *next;

	for (q = *head; q != NULL; q = next) {
		next = q->owner_next;
		q->owner = NULL;
		q->owner_next = q->owner_prev = NULL;
	}
	*head = NULL;
}

/* ======================================================================
 * UDP
 * ====================================================================== */

static void server_udp_send(struct server_listener *l, const struct query *q)
{
	if (sendto(l->udp_fd, q->resp, q->resp_len, 0, (const struct sockaddr *)&q->peer,
		   q->peer_len) < 0)
		l->s->stats.udp_send_errors++;
}

static void server_udp_done(struct query *q)
{
	struct server_listener *l = q->owner;

	server_list_del(&l->deferred, q);
	if (q->resp_len > 0 && l->udp_fd >= 0)
		server_udp_send(l, q);
	server_query_put(l->s, q);
}

static void server_udp_read(evutil_socket_t fd, short what, void *arg)
{
	struct server_listener *l = arg;
	struct server *s = l->s;
	struct query *q = NULL;

	(void)what;
	for (int i = 0; i < SERVER_UDP_BATCH; i++) {
		ssize_t n;

		if (q == NULL && (q = server_query_get(s)) == NULL)
			return;
		q->peer_len = sizeof(q->peer);
		n = recvfrom(fd, s->buf, sizeof(s->buf), 0, (struct sockaddr *)&q->peer,
			     &q->peer_len);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("server: udp receive: %s", strerror(errno));
			break;
		}
		s->stats.udp_in++;
		q->transport = QUERY_UDP;
		q->owner = l;
		q->on_done = server_udp_done;
		switch (query_process(q, s->buf, (size_t)n)) {
		case QUERY_RESPOND:
		case QUERY_STREAM:      /* never over UDP; its first message is all */
			server_udp_send(l, q);
			break;
		case QUERY_DROP:
			break;
		case QUERY_DEFERRED:
			server_list_add(&l->deferred, q);
			q = NULL;       /* the store has it now */
			break;
		}
	}
	if (q != NULL)
		server_query_put(s, q);
}

/* ======================================================================
 * TCP connections
 * ====================================================================== */

static void server_tcp_read(struct bufferevent *bev, void *arg);

static void server_conn_free(struct server_conn *c)
{
	struct server *s = c->s;

	server_list_detach(&c->deferred);
	query_free(c->stream);          /* a transfer cut short */
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	bufferevent_free(c->bev);
	s->stats.tcp_open--;
	free(c);
}

/* Close now, or when the callbacks on the stack have returned. */
static void server_conn_close(struct server_conn *c)
{
	if (c->entered > 0) {
		c->closing = 1;
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		return;
	}
	server_conn_free(c);
}

static void server_conn_enter(struct server_conn *c)
{
	c->entered++;
}

/* Leave a callback; returns 1 if the connection is gone. */
static int server_conn_leave(struct server_conn *c)
{
	if (--c->entered == 0 && c->closing) {
		server_conn_free(c);
		return 1;
	}
	return 0;
}

static void server_stream_pump(struct server_conn *c);

/* Stop reading while the peer does not take its answers or too many of its
 * updates wait for the store; read again (and handle what is buffered
 * already) once both are back under their bounds. */
static void server_conn_flow(struct server_conn *c)
{
	struct server *s = c->s;
	size_t out;
	int over;

	if (c->stream != NULL)
		server_stream_pump(c);
	out = evbuffer_get_length(bufferevent_get_output(c->bev));
	/* A connection sending a zone transfer reads nothing else meanwhile. */
	over = out > s->o.conn_out_max || c->ndeferred >= s->o.conn_deferred_max ||
	       c->stream != NULL;
	if (c->closing)
		return;
	if (c->eof) {
		if (out == 0 && c->ndeferred == 0 && c->stream == NULL)
			server_conn_close(c);
		return;
	}
	if (over && !c->paused) {
		c->paused = 1;
		bufferevent_disable(c->bev, EV_READ);
	} else if (!over && c->paused) {
		c->paused = 0;
		bufferevent_enable(c->bev, EV_READ);
		server_tcp_read(c->bev, c);
	}
}

static void server_tcp_send(struct server_conn *c, const struct query *q)
{
	uint8_t len[2] = { (uint8_t)(q->resp_len >> 8), (uint8_t)q->resp_len };
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (evbuffer_add(out, len, 2) < 0 || evbuffer_add(out, q->resp, q->resp_len) < 0) {
		log_err("server: out of memory for a TCP answer; closing the connection");
		server_conn_close(c);
	}
}

/* A zone transfer goes out one message at a time: the next is produced only
 * once the output has drained to its low-water mark, so a big zone neither
 * blocks the loop nor sits in memory. The write callback calls back here. */
static void server_stream_pump(struct server_conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	while (c->stream != NULL && !c->closing &&
	       evbuffer_get_length(out) <= c->s->o.conn_out_max / 2) {
		struct query *q = c->stream;
		enum query_result r = query_next(q);

		if (r == QUERY_STREAM || r == QUERY_RESPOND)
			server_tcp_send(c, q);
		if (r == QUERY_STREAM)
			continue;
		c->stream = NULL;
		server_query_put(c->s, q);
		if (r == QUERY_DROP)
			server_conn_close(c);   /* the client must see the transfer fail */
	}
}

static void server_tcp_done(struct query *q)
{
	struct server_conn *c = q->owner;

	server_conn_enter(c);
	server_list_del(&c->deferred, q);
	c->ndeferred--;
	if (q->resp_len > 0 && !c->closing)
		server_tcp_send(c, q);
	server_query_put(c->s, q);
	server_conn_flow(c);
	server_conn_leave(c);
}

static void server_tcp_query(struct server_conn *c, const uint8_t *msg, size_t len)
{
	struct server *s = c->s;
	struct query *q = server_query_get(s);

	if (q == NULL)
		return;
	s->stats.tcp_msgs++;
	q->transport = QUERY_TCP;
	memcpy(&q->peer, &c->peer, c->peer_len);
	q->peer_len = c->peer_len;
	q->owner = c;
	q->on_done = server_tcp_done;
	switch (query_process(q, msg, len)) {
	case QUERY_RESPOND:
		server_tcp_send(c, q);
		server_query_put(s, q);
		break;
	case QUERY_DROP:
		server_query_put(s, q);
		break;
	case QUERY_DEFERRED:
		server_list_add(&c->deferred, q);
		c->ndeferred++;
		break;
	case QUERY_STREAM:
		server_tcp_send(c, q);
		if (c->stream != NULL || c->closing) {
			query_free(q);  /* cannot happen: reading stops while streaming */
			break;
		}
		c->stream = q;          /* server_conn_flow sends the rest */
		break;
	}
}

static void server_tcp_read(struct bufferevent *bev, void *arg)
{
	struct server_conn *c = arg;
	struct server *s = c->s;
	struct evbuffer *in = bufferevent_get_input(bev);

	server_conn_enter(c);
	while (!c->paused && !c->closing) {
		uint8_t hdr[2];
		size_t have = evbuffer_get_length(in), len;

		if (have < 2)
			break;
		evbuffer_copyout(in, hdr, 2);
		len = (size_t)hdr[0] << 8 | hdr[1];
		if (len == 0) {                 /* no DNS message is empty */
			server_conn_close(c);
			break;
		}
		if (have < 2 + len)
			break;
		evbuffer_drain(in, 2);
		evbuffer_remove(in, s->buf, len);
		server_tcp_query(c, s->buf, len);
		server_conn_flow(c);
	}
	server_conn_leave(c);
}

static void server_tcp_write(struct bufferevent *bev, void *arg)
{
	struct server_conn *c = arg;

	(void)bev;
	server_conn_enter(c);
	server_conn_flow(c);
	server_conn_leave(c);
}

static void server_tcp_event(struct bufferevent *bev, short what, void *arg)
{
	struct server_conn *c = arg;

	server_conn_enter(c);
	if (what & BEV_EVENT_TIMEOUT) {
		if (what & BEV_EVENT_WRITING) {
			server_conn_close(c);   /* the peer stopped reading its answers */
		} else if (c->ndeferred > 0 || c->stream != NULL ||
			   evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
			/* Waiting for the store or the peer is not idleness. */
			if (!c->paused)
				bufferevent_enable(bev, EV_READ);
		} else {
			c->s->stats.tcp_idle_closed++;
			server_conn_close(c);
		}
	} else if (what & BEV_EVENT_EOF) {
		c->eof = 1;
		bufferevent_disable(bev, EV_READ);
		server_conn_flow(c);
	} else if (what & BEV_EVENT_ERROR) {
		server_conn_close(c);
	}
	server_conn_leave(c);
}

static void server_tcp_accept(struct evconnlistener *lev, evutil_socket_t fd,
			      struct sockaddr *peer, int peer_len, void *arg)
{
	struct server_listener *l = arg;
	struct server *s = l->s;
	struct server_conn *c;
	struct timeval idle = { s->o.idle_ms / 1000, (s->o.idle_ms % 1000) * 1000 };

	(void)lev;
	if (s->stats.tcp_open >= s->o.max_conns) {
		s->stats.tcp_refused++;
		evutil_closesocket(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto fail;
	c->s = s;
	memcpy(&c->peer, peer, (size_t)peer_len < sizeof(c->peer) ? (size_t)peer_len : sizeof(c->peer));
	c->peer_len = (socklen_t)peer_len;
	c->bev = bufferevent_socket_new(s->o.base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		goto fail;
	/* Bound what one connection buffers: two whole messages of input. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, 2 * (WIRE_TCP_MAX + 2));
	bufferevent_setwatermark(c->bev, EV_WRITE, s->o.conn_out_max / 2, 0);
	bufferevent_setcb(c->bev, server_tcp_read, server_tcp_write, server_tcp_event, c);
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	if (bufferevent_enable(c->bev, EV_READ) < 0) {
		bufferevent_free(c->bev);
		free(c);
		return;
	}
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	s->stats.tcp_open++;
	s->stats.tcp_accepted++;
	return;
fail:
	log_err("server: out of memory for a TCP connection");
	free(c);
	evutil_closesocket(fd);
}

static void server_tcp_accept_error(struct evconnlistener *lev, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();

	(void)lev;
	(void)arg;
	/* EMFILE and friends: the listener keeps going, the next accept may work. */
	log_warn("server: accept: %s", evutil_socket_error_to_string(err));
}

/* ======================================================================
 * set-up
 * ====================================================================== */

static int server_addr_port(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
	return ntohs(((const struct sockaddr_in *)a)->sin_port);
}

static void server_addr_set_port(struct sockaddr_storage *a, int port)
{
	if (a->ss_family == AF_INET6)
		((struct sockaddr_in6 *)a)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)a)->sin_port = htons((uint16_t)port);
}

static evutil_socket_t server_socket(const struct server_listener *l, int type,
				     struct err *e)
{
	evutil_socket_t fd = socket(l->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0) {
		err_set(e, -errno, "socket: %s", strerror(errno));
		return -1;
	}
	if (l->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addr_len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, SERVER_TCP_BACKLOG) < 0)) {
		err_set(e, -errno, "%s: %s", type == SOCK_STREAM ? "tcp" : "udp",
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Bind TCP then UDP on one address; with port 0, both on the port TCP got. */
static int server_listen_one(struct server *s, struct server_listener *l, const char *text,
			     struct err *e)
{
	int len = (int)sizeof(l->addr);
	evutil_socket_t tfd = -1;
	int rc = -EINVAL;

	l->s = s;
	l->udp_fd = -1;
	if (evutil_parse_sockaddr_port(text, (struct sockaddr *)&l->addr, &len) < 0) {
		err_set(e, -EINVAL, "listen address '%s': expected ADDR:PORT or [ADDR6]:PORT",
			text);
		return -EINVAL;
	}
	l->addr_len = (socklen_t)len;
	for (int tries = 0; tries < 8; tries++) {
		int any = server_addr_port(&l->addr) == 0;

		if ((tfd = server_socket(l, SOCK_STREAM, e)) < 0)
			goto fail;
		if (any) {
			socklen_t alen = l->addr_len;

			getsockname(tfd, (struct sockaddr *)&l->addr, &alen);
		}
		if ((l->udp_fd = server_socket(l, SOCK_DGRAM, e)) >= 0)
			break;
		close(tfd);
		tfd = -1;
		if (!any || e->code != -EADDRINUSE)
			goto fail;
		server_addr_set_port(&l->addr, 0);      /* another free port */
	}
	if (l->udp_fd < 0)
		goto fail;
	l->tcp = evconnlistener_new(s->o.base, server_tcp_accept, l, LEV_OPT_CLOSE_ON_FREE,
				    0, tfd);
	if (l->tcp == NULL) {
		err_set(e, -ENOMEM, "tcp listener: out of memory");
		goto fail;
	}
	tfd = -1;
	evconnlistener_set_error_cb(l->tcp, server_tcp_accept_error);
	l->udp_ev = event_new(s->o.base, l->udp_fd, EV_READ | EV_PERSIST, server_udp_read, l);
	if (l->udp_ev == NULL || event_add(l->udp_ev, NULL) < 0) {
		err_set(e, -ENOMEM, "udp event: out of memory");
		goto fail;
	}
	return 0;
fail:
	rc = e->code < 0 ? e->code : rc;
	err_prefix(e, "listen %s: ", text);
	if (tfd >= 0)
		close(tfd);
	return rc;
}

static void server_listener_close(struct server_listener *l)
{
	if (l->udp_ev != NULL)
		event_free(l->udp_ev);
	l->udp_ev = NULL;
	if (l->udp_fd >= 0)
		close(l->udp_fd);
	l->udp_fd = -1;
	if (l->tcp != NULL)
		evconnlistener_free(l->tcp);
	l->tcp = NULL;
}

struct server *server_new(const struct server_options *o, struct err *e)
{
	static const char *const dflt[] = { SERVER_LISTEN_DEFAULT };
	struct server *s;
	const char *const *listen = o->listen;
	size_t n = o->nlisten;

	if (o->base == NULL || o->qctx == NULL) {
		err_set(e, -EINVAL, "server: no event base or query context");
		return NULL;
	}
	if (listen == NULL || n == 0) {
		listen = dflt;
		n = 1;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->ls = calloc(n, sizeof(*s->ls))) == NULL) {
		err_set(e, -ENOMEM, "server: out of memory");
		goto fail;
	}
	s->o = *o;
	s->o.listen = NULL;             /* not kept: server_addr reports what is bound */
	s->o.nlisten = 0;
	if (s->o.max_conns == 0)
		s->o.max_conns = 512;
	if (s->o.idle_ms == 0)
		s->o.idle_ms = 10000;
	if (s->o.conn_out_max == 0)
		s->o.conn_out_max = 256 * 1024;
	if (s->o.conn_deferred_max == 0)
		s->o.conn_deferred_max = 64;
	for (size_t i = 0; i < n; i++, s->nls++)
		if (server_listen_one(s, &s->ls[i], listen[i], e) < 0) {
			server_listener_close(&s->ls[i]);
			goto fail;
		}
	return s;
fail:
	server_free(s);
	return NULL;
}

void server_stop_listening(struct server *s)
{
	struct server_conn *c, *next;

	for (size_t i = 0; i < s->nls; i++)
		server_listener_close(&s->ls[i]);
	/* Open connections take no new requests: each closes once its pending
	 * answers are out, as if its peer had closed its side. */
	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		server_conn_enter(c);
		c->eof = 1;
		bufferevent_disable(c->bev, EV_READ);
		server_conn_flow(c);
		server_conn_leave(c);
	}
}

void server_free(struct server *s)
{
	struct query *q;

	if (s == NULL)
		return;
	while (s->conns != NULL) {
		s->conns->entered = 0;
		server_conn_free(s->conns);
	}
	for (size_t i = 0; i < s->nls; i++) {
		server_listener_close(&s->ls[i]);
		server_list_detach(&s->ls[i].deferred);
	}
	while ((q = s->spare) != NULL) {
		s->spare = q->owner_next;
		query_free(q);
	}
	free(s->ls);
	free(s);
}

size_t server_unsent(const struct server *s)
{
	size_t n = 0;

	for (const struct server_conn *c = s->conns; c != NULL; c = c->next)
		n += evbuffer_get_length(bufferevent_get_output(c->bev)) +
		     (c->stream != NULL);       /* a transfer has more to come */
	return n;
}

int server_addr(const struct server *s, size_t i, char *buf, size_t len)
{
	const struct sockaddr_storage *a;
	char host[64];
	const void *in;

	if (i >= s->nls)
		return -ENOENT;
	a = &s->ls[i].addr;
	in = a->ss_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)a)->sin6_addr
				      : (const void *)&((const struct sockaddr_in *)a)->sin_addr;
	if (evutil_inet_ntop(a->ss_family, in, host, sizeof(host)) == NULL)
		return -EINVAL;
	if ((size_t)snprintf(buf, len, a->ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host,
			     server_addr_port(a)) >= len)
		return -ENOSPC;
	return 0;
}

size_t server_nlisten(const struct server *s)
{
	return s->nls;
}

const struct server_stats *server_stats(const struct server *s)
{
	return &s->stats;
}

/* ======================================================================
 * timers and UDP client sockets for other modules (notify.c)
 * ====================================================================== */

struct server_timer {
	struct event *ev;
	void (*fn)(void *arg);
	void *arg;
};

static void server_timer_fire(evutil_socket_t fd, short what, void *arg)
{
	struct server_timer *t = arg;

	(void)fd;
	(void)what;
	t->fn(t->arg);                  /* may free t: touch nothing after */
}

struct server_timer *server_timer_new(struct event_base *base, void (*fn)(void *arg),
				      void *arg)
{
	struct server_timer *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->fn = fn;
	t->arg = arg;
	if ((t->ev = evtimer_new(base, server_timer_fire, t)) == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

int server_timer_start(struct server_timer *t, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	return evtimer_add(t->ev, &tv) < 0 ? -ENOMEM : 0;
}

void server_timer_stop(struct server_timer *t)
{
	evtimer_del(t->ev);
}

void server_timer_free(struct server_timer *t)
{
	if (t == NULL)
		return;
	event_free(t->ev);
	free(t);
}

struct server_udp {
	evutil_socket_t fd;
	struct event *ev;
	server_udp_fn fn;
	void *arg;
	uint8_t buf[WIRE_TCP_MAX];
};

static void server_udp_client_read(evutil_socket_t fd, short what, void *arg)
{
	struct server_udp *u = arg;
	struct sockaddr_storage from;
	socklen_t fromlen = sizeof(from);
	ssize_t n;

	(void)what;
	/* One datagram per event: fn may close u. */
	n = recvfrom(fd, u->buf, sizeof(u->buf), 0, (struct sockaddr *)&from, &fromlen);
	if (n >= 0)
		u->fn(u->arg, u->buf, (size_t)n, (const struct sockaddr *)&from, fromlen);
}

struct server_udp *server_udp_open(struct event_base *base, int family, server_udp_fn fn,
				   void *arg, struct err *e)
{
	struct server_udp *u = calloc(1, sizeof(*u));

	if (u == NULL) {
		err_set(e, -ENOMEM, "udp socket: out of memory");
		return NULL;
	}
	u->fn = fn;
	u->arg = arg;
	u->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->fd < 0) {
		err_set(e, -errno, "udp socket: %s", strerror(errno));
		free(u);
		return NULL;
	}
	u->ev = event_new(base, u->fd, EV_READ | EV_PERSIST, server_udp_client_read, u);
	if (u->ev == NULL || event_add(u->ev, NULL) < 0) {
		err_set(e, -ENOMEM, "udp event: out of memory");
		server_udp_close(u);
		return NULL;
	}
	return u;
}

int server_udp_sendto(struct server_udp *u, const void *msg, size_t len,
		      const struct sockaddr *to, socklen_t tolen)
{
	return sendto(u->fd, msg, len, 0, to, tolen) < 0 ? -errno : 0;
}

void server_udp_close(struct server_udp *u)
{
	if (u == NULL)
		return;
	if (u->ev != NULL)
		event_free(u->ev);
	close(u->fd);
	free(u);
}

int server_parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len,
		      struct err *e)
{
	int n = (int)sizeof(*ss);

	memset(ss, 0, sizeof(*ss));
	if (strchr(text, ':') == NULL ||
	    evutil_parse_sockaddr_port(text, (struct sockaddr *)ss, &n) < 0 ||
	    server_addr_port(ss) == 0)
		return err_set(e, -EINVAL, "address '%s': expected ADDR:PORT or [ADDR6]:PORT",
			       text);
	*len = (socklen_t)n;
	return 0;
}
