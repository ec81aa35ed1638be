/* SPDX-License-Identifier: BSD-2-Clause */
/* Live mode: the same poll loop on real AF_XDP sockets (libxdp xsk_umem__create /
 * xsk_socket__create), run by one native thread that never calls into JS. The thread
 * enters the lab's network namespace first (setns is per thread; Node cannot), creates
 * every UMEM and socket there, reports readiness, then polls until stopped; stop joins it
 * and closes the sockets. Per-binding configuration comes from xl_worker_live_config.
 * Packet ids and events do not exist here: the worker only keeps its counters, plus one
 * counter per reason code for drops and to-kernel decisions (xl_worker_live_reasons) —
 * offline, the event stream carries the reasons instead.
 *
 * Fault hooks (DESIGN §7.3): a kernel has no knob for a stalled egress or late
 * completions, so the worker plays them on itself. tx_stall: no sendto() and no poll() on
 * the binding's socket for the window (in copy mode both make the kernel transmit), so
 * descriptors stay on the TX ring and frames pile up in pending TX as behind a stalled
 * link. completion_delay: the worker does not reap the binding's completion ring for the
 * window; the kernel stops transmitting once that ring is full. Windows count from the
 * first frame the worker receives — the nearest the thread can see of the first injected
 * packet.
 *
 * Session steering (Worker.publishSteering): the dataplane's steering log is applied to
 * the shims' real `sessions` maps (one per attached shim: each interface's program has its
 * own maps, where the model shares one) with bpf_map_update_elem / bpf_map_delete_elem,
 * in log order, at the end of every poll_rx and timer pass, and counted as the model
 * counts: an add that every map took is steer_added, one a map refused (full: E2BIG) is
 * steer_refused; a remove that found the key is steer_removed. The session-timer pass
 * (xl_worker_timers) runs every timer period on the thread's clock — the same clock that
 * stamps session expiry in the poll path.
 *
 * The clock: by default ns since the thread started. With xl_worker_live_clock(first_ns)
 * it reads 0 until a frame first sits on an RX ring and from then on runs so that this
 * instant is first_ns — the model's time of the first input packet — so absolute model
 * times in the scenario (a neighbour's `atNs`) mean the same instant on both sides. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_xdp.h>
#include <xdp/xsk.h>
#include <bpf/bpf.h>
#include <arpa/inet.h>
#include "worker_int.h"
#include "../../bpf/xdplab_structs.h"

struct xl_live_bind {
	char ifname[IF_NAMESIZE];
	int queue, xsks_map_fd, zerocopy, configured;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	void *area;
	size_t area_len;
};

#define XL_LIVE_REASONS 256
#define XL_LIVE_FAULTS 32
#define XL_LIVE_SESS_MAPS 16

enum { XL_HOOK_TX_STALL = 1, XL_HOOK_COMPLETION_DELAY = 2 };

struct xl_live_fault {
	int kind, b; /* b < 0: every binding */
	double at, until; /* ns from the first received frame */
};

struct xl_live {
	struct xl_live_bind *lb;
	double reasons[XL_LIVE_REASONS]; /* by reason code (sim/reasons.ts); written by the thread only */
	int fill_size, comp_size, rx_size, tx_size;
	char netns[256];
	pthread_t th;
	int started;
	volatile int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int state; /* 0 starting, 1 running, <0 -errno */
	char err[256];
	struct xl_live_fault faults[XL_LIVE_FAULTS];
	int nfaults;
	double t_first; /* thread clock of the first received frame, -1 before */
	/* Per binding, recomputed every loop turn by the thread: hook active now. */
	unsigned char *tx_stalled, *reap_held;
	/* [0] first-frame time (ns on the thread clock, -1 none), [1] kicks withheld,
	 * [2] reap passes withheld, [3] loop turns with a hook active */
	double hook_stats[4];
	/* The shims' `sessions` map fds (not owned: the caller closes them after stop). */
	int sess_fds[XL_LIVE_SESS_MAPS];
	int nsess;
	int steer_errno; /* first unexpected map error (not E2BIG/ENOENT), 0 none */
	double timer_ns; /* session-timer period, 0 = no timer pass */
	int anchored;    /* xl_worker_live_clock was called */
	double first_ns; /* clock value at the first frame on an RX ring */
};

static struct xl_live *live_of(struct xl_worker *w)
{
	if (w->live) return w->live;
	struct xl_live *L = calloc(1, sizeof(*L));
	if (!L) return NULL;
	L->lb = calloc(w->nb, sizeof(struct xl_live_bind));
	L->tx_stalled = calloc(w->nb, 1);
	L->reap_held = calloc(w->nb, 1);
	if (!L->lb || !L->tx_stalled || !L->reap_held) {
		free(L->lb);
		free(L->tx_stalled);
		free(L->reap_held);
		free(L);
		return NULL;
	}
	pthread_mutex_init(&L->mu, NULL);
	pthread_cond_init(&L->cv, NULL);
	w->live = L;
	return L;
}

XL_API int xl_worker_live_rings(struct xl_worker *w, int fill, int comp, int rx, int tx)
{
	struct xl_live *L = live_of(w);
	if (!L) return -ENOMEM;
	L->fill_size = fill;
	L->comp_size = comp;
	L->rx_size = rx;
	L->tx_size = tx;
	return 0;
}

/* Binding b → (ifname, queue) inside the namespace given to start. xsks_map_fd < 0: libxdp
 * loads its default redirect program; otherwise the socket is put in that XSKMAP (the
 * shim's) and no program is loaded. */
XL_API int xl_worker_live_config(struct xl_worker *w, int b, const char *ifname, int queue, int xsks_map_fd, int zerocopy)
{
	struct xl_live *L = live_of(w);
	if (!L) return -ENOMEM;
	if (b < 0 || b >= w->nb || !ifname || strlen(ifname) >= IF_NAMESIZE) return -EINVAL;
	struct xl_live_bind *x = &L->lb[b];
	strcpy(x->ifname, ifname);
	x->queue = queue;
	x->xsks_map_fd = xsks_map_fd;
	x->zerocopy = zerocopy;
	x->configured = 1;
	return 0;
}

/* A fault hook: kind 1 tx_stall, 2 completion_delay, on binding b (< 0: all), from at_ns
 * for for_ns after the first received frame. Before start only. */
XL_API int xl_worker_live_fault(struct xl_worker *w, int kind, int b, double at_ns, double for_ns)
{
	struct xl_live *L = live_of(w);
	if (!L) return -ENOMEM;
	if (L->started) return -EBUSY;
	if ((kind != XL_HOOK_TX_STALL && kind != XL_HOOK_COMPLETION_DELAY) || b >= w->nb || at_ns < 0 || for_ns <= 0) return -EINVAL;
	if (L->nfaults >= XL_LIVE_FAULTS) return -ENOSPC;
	struct xl_live_fault *f = &L->faults[L->nfaults++];
	f->kind = kind;
	f->b = b < 0 ? -1 : b;
	f->at = at_ns;
	f->until = at_ns + for_ns;
	return 0;
}

/* Adds one shim's `sessions` map (an fd of this process, e.g. from bpf_obj_get) to the
 * maps the steering log is applied to. Before start only. */
XL_API int xl_worker_live_sessions_map(struct xl_worker *w, int fd)
{
	struct xl_live *L = live_of(w);
	if (!L) return -ENOMEM;
	if (L->started) return -EBUSY;
	if (fd < 0) return -EINVAL;
	if (L->nsess >= XL_LIVE_SESS_MAPS) return -ENOSPC;
	L->sess_fds[L->nsess++] = fd;
	return 0;
}

/* The session-timer period (timing.timerNs; 0 = none). Before start only. */
XL_API int xl_worker_live_timer(struct xl_worker *w, double period_ns)
{
	struct xl_live *L = live_of(w);
	if (!L) return -ENOMEM;
	if (L->started) return -EBUSY;
	if (period_ns < 0) return -EINVAL;
	L->timer_ns = period_ns;
	return 0;
}

/* Anchors the thread's clock at the first frame it finds on an RX ring, which reads
 * first_ns (the model's time of the first input packet); 0 before it. Before start only. */
XL_API int xl_worker_live_clock(struct xl_worker *w, double first_ns)
{
	struct xl_live *L = live_of(w);
	if (!L) return -ENOMEM;
	if (L->started) return -EBUSY;
	if (first_ns < 0) return -EINVAL;
	L->anchored = 1;
	L->first_ns = first_ns;
	return 0;
}

/* First unexpected error of a session-map update/delete (-errno), 0 when none. */
XL_API int xl_worker_live_steer_error(struct xl_worker *w)
{
	return w->live ? -w->live->steer_errno : 0;
}

/* Session key words (sim/dataplane/reverseIndex.ts: w0-3 source, w4-7 destination, big-endian
 * address bytes; w8 sport<<16|dport; w9 family | proto<<8) → struct xdplab_session_key. */
static void steer_key(const uint32_t *k, struct xdplab_session_key *o)
{
	memset(o, 0, sizeof(*o));
	int alen = (k[9] & 0xff) == 4 ? 4 : 16;
	for (int j = 0; j < alen; j++) {
		o->src[j] = (uint8_t)(k[j / 4] >> (24 - 8 * (j % 4)));
		o->dst[j] = (uint8_t)(k[4 + j / 4] >> (24 - 8 * (j % 4)));
	}
	o->src_port = htons((uint16_t)(k[8] >> 16));
	o->dst_port = htons((uint16_t)(k[8] & 0xffff));
	o->proto = (uint8_t)(k[9] >> 8);
}

void xl_live_steer(struct xl_worker *w, int op, const uint32_t *k)
{
	struct xl_live *L = w->live;
	if (!L || L->nsess == 0) return;
	struct xdplab_session_key key;
	steer_key(k, &key);
	if (op == XL_STEER_ADD) {
		__u32 one = 1;
		int ok = 1;
		for (int i = 0; i < L->nsess; i++)
			if (bpf_map_update_elem(L->sess_fds[i], &key, &one, BPF_ANY) != 0) {
				if (errno != E2BIG && !L->steer_errno) L->steer_errno = errno;
				ok = 0;
			}
		w->c[ok ? XL_C_STEER_ADDED : XL_C_STEER_REFUSED]++;
	} else {
		int found = 0;
		for (int i = 0; i < L->nsess; i++) {
			if (bpf_map_delete_elem(L->sess_fds[i], &key) == 0) {
				if (i == 0) found = 1;
			} else if (errno != ENOENT && !L->steer_errno) {
				L->steer_errno = errno;
			}
		}
		if (found) w->c[XL_C_STEER_REMOVED]++;
	}
}

/* Hook statistics (see struct xl_live hook_stats), n = 4. NULL before any live configuration. */
XL_API double *xl_worker_live_hook_stats(struct xl_worker *w)
{
	return w->live ? w->live->hook_stats : NULL;
}

int xl_live_reap_held(struct xl_worker *w, int b)
{
	struct xl_live *L = w->live;
	if (!L || !L->reap_held[b]) return 0;
	L->hook_stats[2]++;
	return 1;
}

/* Recomputes which hooks are active at thread time now; returns whether any is. */
static int hooks_update(struct xl_worker *w, struct xl_live *L, double now)
{
	if (L->nfaults == 0) return 0;
	if (L->t_first < 0 && w->c[XL_C_RX] > 0) {
		L->t_first = now;
		L->hook_stats[0] = now;
	}
	memset(L->tx_stalled, 0, w->nb);
	memset(L->reap_held, 0, w->nb);
	if (L->t_first < 0) return 0;
	double t = now - L->t_first;
	int any = 0;
	for (int i = 0; i < L->nfaults; i++) {
		struct xl_live_fault *f = &L->faults[i];
		if (t < f->at || t >= f->until) continue;
		for (int b = 0; b < w->nb; b++) {
			if (f->b >= 0 && f->b != b) continue;
			if (f->kind == XL_HOOK_TX_STALL) L->tx_stalled[b] = 1;
			else L->reap_held[b] = 1;
		}
		any = 1;
	}
	if (any) L->hook_stats[3]++;
	return any;
}

/* Called by the worker (live mode only) for every drop and to-kernel decision. */
void xl_live_count_reason(struct xl_worker *w, int reason)
{
	struct xl_live *L = w->live;
	if (L && reason >= 0 && reason < XL_LIVE_REASONS) L->reasons[reason]++;
}

/* The per-reason counters (index = reason code), n = their number; readable while the
 * thread runs (values may be one poll stale). NULL before any live configuration. */
XL_API double *xl_worker_live_reasons(struct xl_worker *w, int *n)
{
	if (n) *n = w->live ? XL_LIVE_REASONS : 0;
	return w->live ? w->live->reasons : NULL;
}

static double mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int bind_one(struct xl_worker *w, struct xl_live *L, int b)
{
	struct xl_live_bind *x = &L->lb[b];
	struct xl_bind *bb = &w->b[b];
	x->area_len = (size_t)w->frames * w->frame_size;
	x->area = mmap(NULL, x->area_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED) {
		x->area = NULL;
		return -errno;
	}
	struct xsk_umem_config uc = {
		.fill_size = L->fill_size, .comp_size = L->comp_size, .frame_size = w->frame_size,
		.frame_headroom = w->headroom, .flags = 0,
	};
	int rc = xsk_umem__create(&x->umem, x->area, x->area_len, &bb->fill, &bb->comp, &uc);
	if (rc) return rc;
	struct xsk_socket_config sc;
	memset(&sc, 0, sizeof(sc));
	sc.rx_size = L->rx_size;
	sc.tx_size = L->tx_size;
	sc.libxdp_flags = x->xsks_map_fd >= 0 ? XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD : 0;
	sc.bind_flags = XDP_USE_NEED_WAKEUP | (x->zerocopy ? XDP_ZEROCOPY : XDP_COPY);
	rc = xsk_socket__create(&x->xsk, x->ifname, x->queue, x->umem, &bb->rx, &bb->tx, &sc);
	if (rc) return rc;
	if (x->xsks_map_fd >= 0) {
		rc = xsk_socket__update_xskmap(x->xsk, x->xsks_map_fd);
		if (rc) return rc;
	}
	bb->umem = x->area;
	/* The model's bring-up (sim/run.ts populate): the first min(fill ring, frames/2)
	 * frames are RX frames, submitted to the fill ring; the rest are free TX frames. */
	int fill_n = L->fill_size < w->frames / 2 ? L->fill_size : w->frames / 2;
	BS(bb, RX_FRAMES) = fill_n;
	BS(bb, PENDING_FILL_COUNT) = 0;
	BS(bb, FREE_TX_COUNT) = 0;
	for (int f = 0; f < fill_n; f++) bb->pending_fill[BS(bb, PENDING_FILL_COUNT)++] = fill_n - 1 - f;
	for (int f = w->frames - 1; f >= fill_n; f--) bb->free_tx[BS(bb, FREE_TX_COUNT)++] = f;
	xl_submit_fill(w, bb);
	BS(bb, ATTACHED) = 1;
	BS(bb, LIVE) = 1;
	return 0;
}

static void *live_main(void *arg)
{
	struct xl_worker *w = arg;
	struct xl_live *L = w->live;
	int rc = 0;
	if (L->netns[0]) {
		int fd = open(L->netns, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) rc = -errno;
		if (fd >= 0) close(fd);
	}
	for (int b = 0; rc == 0 && b < w->nb; b++) {
		if (!L->lb[b].configured) continue;
		rc = bind_one(w, L, b);
		if (rc) snprintf(L->err, sizeof(L->err), "binding %d (%s queue %d): %s", b, L->lb[b].ifname, L->lb[b].queue, strerror(-rc));
	}
	pthread_mutex_lock(&L->mu);
	L->state = rc ? rc : 1;
	pthread_cond_broadcast(&L->cv);
	pthread_mutex_unlock(&L->mu);
	if (rc) return NULL;
	struct pollfd fds[64];
	int fd_b[64];
	int nfds = 0;
	for (int b = 0; b < w->nb && nfds < 64; b++)
		if (L->lb[b].xsk) {
			fds[nfds].fd = xsk_socket__fd(L->lb[b].xsk);
			fds[nfds].events = POLLIN;
			fd_b[nfds] = b;
			nfds++;
		}
	double t0 = L->anchored ? -1 : mono_ns();
	double next_timer = L->timer_ns;
	while (!L->stop) {
		if (t0 < 0) {
			/* anchored clock: starts when a frame first waits on any RX ring */
			for (int b = 0; b < w->nb; b++)
				if (BS(&w->b[b], LIVE) && xsk_cons_nb_avail(&w->b[b].rx, 1) > 0) {
					t0 = mono_ns() - L->first_ns;
					break;
				}
		}
		double now = t0 < 0 ? 0 : mono_ns() - t0;
		int hooked = hooks_update(w, L, now);
		/* The session-timer pass (sim/run.ts runs it every timerNs of virtual time); one
		 * with no live session can remove nothing and is skipped, as the model skips it. */
		if (L->timer_ns > 0 && now >= next_timer) {
			if (w->dp.nat.sessions.stats && w->dp.nat.sessions.stats[XL_NS_LIVE] > 0) xl_worker_timers(w, now);
			next_timer = now + L->timer_ns;
		}
		int work = xl_do_poll_rx(w, now);
		xl_do_poll_tx(w, now);
		if (work != 0) continue;
		/* Idle: sleep in poll() (which also drives copy-mode TX) for at most 1 ms so stop
		 * is noticed promptly. A stalled binding's socket is left out: polling it would
		 * transmit. */
		if (!hooked) {
			poll(fds, nfds, 1);
			continue;
		}
		struct pollfd some[64];
		int n = 0;
		for (int i = 0; i < nfds; i++)
			if (!L->tx_stalled[fd_b[i]]) some[n++] = fds[i];
		if (n > 0) poll(some, n, 1);
		else {
			struct timespec ts = { 0, 100000 };
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

/* Starts the thread (entering the namespace at netns_path, e.g. /run/netns/NAME, when not
 * empty) and waits until every configured socket is bound: 0, or -errno with the detail in
 * xl_worker_live_error. */
XL_API int xl_worker_start(struct xl_worker *w, const char *netns_path)
{
	struct xl_live *L = live_of(w);
	if (!L) return -ENOMEM;
	if (L->started) return -EBUSY;
	if (!L->fill_size || !L->comp_size || !L->rx_size || !L->tx_size) return -EINVAL;
	snprintf(L->netns, sizeof(L->netns), "%s", netns_path ? netns_path : "");
	w->live_mode = 1;
	L->stop = 0;
	L->state = 0;
	L->t_first = -1;
	memset(L->hook_stats, 0, sizeof(L->hook_stats));
	L->hook_stats[0] = -1;
	L->steer_errno = 0;
	int rc = pthread_create(&L->th, NULL, live_main, w);
	if (rc) return -rc;
	L->started = 1;
	pthread_mutex_lock(&L->mu);
	while (L->state == 0) pthread_cond_wait(&L->cv, &L->mu);
	rc = L->state < 0 ? L->state : 0;
	pthread_mutex_unlock(&L->mu);
	if (rc) {
		pthread_join(L->th, NULL);
		L->started = 0;
	}
	return rc;
}

XL_API const char *xl_worker_live_error(struct xl_worker *w)
{
	return w->live ? w->live->err : "";
}

static void close_sockets(struct xl_worker *w, struct xl_live *L)
{
	for (int b = 0; b < w->nb; b++) {
		struct xl_live_bind *x = &L->lb[b];
		if (x->xsk) xsk_socket__delete(x->xsk);
		if (x->umem) xsk_umem__delete(x->umem);
		if (x->area) munmap(x->area, x->area_len);
		x->xsk = NULL;
		x->umem = NULL;
		x->area = NULL;
		BS(&w->b[b], LIVE) = 0;
		BS(&w->b[b], ATTACHED) = 0;
	}
}

/* Stops and joins the thread, then closes every socket and UMEM. */
XL_API int xl_worker_stop(struct xl_worker *w)
{
	struct xl_live *L = w->live;
	if (!L) return 0;
	if (L->started) {
		L->stop = 1;
		pthread_join(L->th, NULL);
		L->started = 0;
	}
	close_sockets(w, L);
	return 0;
}

void xl_live_kick(struct xl_worker *w, int b)
{
	struct xl_live *L = w->live;
	if (!L || !L->lb[b].xsk) return;
	if (L->tx_stalled[b]) {
		L->hook_stats[1]++;
		return;
	}
	/* sendto with nothing to send: the copy-mode TX kick (EAGAIN/EBUSY/ENOBUFS are
	 * transient; the next poll kicks again while descriptors remain). */
	sendto(xsk_socket__fd(L->lb[b].xsk), NULL, 0, MSG_DONTWAIT, NULL, 0);
}

void xl_live_teardown(struct xl_worker *w)
{
	struct xl_live *L = w->live;
	if (!L) return;
	xl_worker_stop(w);
	pthread_mutex_destroy(&L->mu);
	pthread_cond_destroy(&L->cv);
	free(L->lb);
	free(L->tx_stalled);
	free(L->reap_held);
	free(L);
	w->live = NULL;
}
