// SPDX-License-Identifier: BSD-2-Clause
/* xdplab-xskfwd: a bare AF_XDP forwarder, the baseline of bench/live.ts. Two copy-mode
 * AF_XDP sockets (libxdp <xdp/xsk.h>, libxdp's default XDP program redirecting queue q to
 * the socket bound on q) on interfaces A and B of one network namespace, sharing one
 * UMEM (each socket has its own fill and completion ring). Every frame received on one
 * side is put, in place, on the other side's TX ring with its destination MAC set to the
 * MAC given for that egress side and its source MAC set to the egress interface's own.
 * No parsing, no routing, no NAT. Completions go back to a free list, the fill rings are
 * refilled from it.
 *
 *   xdplab-xskfwd --netns NS --a IF --a-dmac MAC --b IF --b-dmac MAC
 *                 [--queue Q] [--ring N] [--rx-ring N] [--tx-ring N] [--fill-ring N] [--comp-ring N]
 *                 [--frames N] [--frame-size 2048|4096] [--mode native|generic] [--max-ms T]
 *
 * --ring sets all four ring sizes (default 2048); the others override one each. The UMEM
 * holds --frames frames (default 8192) of --frame-size bytes (default 2048), shared by
 * both sockets; each fill ring is filled from the free frames as far as it has room.
 * --a-dmac is the destination MAC of frames sent out of A (that is, received on B).
 * Prints {"ready":true,…} once both sockets are bound and their fill rings filled; on
 * SIGTERM/SIGINT (or after --max-ms) prints one JSON line with the counters per side
 * (rx, tx, tx_full_waits, kicks, drops: the socket's XDP_STATISTICS) and exits 0.
 * Errors: {"error":{"stage":…,"errno":N,"message":…}} on stdout, exit 1; usage exit 2.
 * Dies with its parent (PR_SET_PDEATHSIG). When idle it sleeps in poll() for up to 1 ms,
 * as the native live worker does (native/src/live.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#define BATCH 64u

static volatile sig_atomic_t stop_requested;

static void on_signal(int s)
{
	(void)s;
	stop_requested = 1;
}

struct side {
	const char *ifname;
	uint8_t own_mac[6];  /* source MAC of frames leaving this side */
	uint8_t dst_mac[6];  /* destination MAC of frames leaving this side */
	struct xsk_socket *xsk;
	struct xsk_ring_cons rx, comp;
	struct xsk_ring_prod tx, fill;
	int fd;
	uint32_t tx_size;
	uint64_t rx_n, tx_n, tx_full_waits, kicks, outstanding;
};

/* Free UMEM frames (addresses), a stack. */
static uint64_t *free_addr;
static uint32_t free_n;
static uint64_t frame_size = 2048;

static int fail(const char *stage, int err)
{
	if (err < 0)
		err = -err;
	printf("{\"error\":{\"stage\":\"%s\",\"errno\":%d,\"message\":\"%s\"}}\n", stage, err, strerror(err));
	fflush(stdout);
	return 1;
}

static int usage(const char *msg)
{
	fprintf(stderr, "xdplab-xskfwd: %s\n"
		"usage: xdplab-xskfwd --netns NS --a IF --a-dmac MAC --b IF --b-dmac MAC [--queue Q] [--ring N] "
		"[--rx-ring N] [--tx-ring N] [--fill-ring N] [--comp-ring N] [--frames N] [--frame-size 2048|4096] "
		"[--mode native|generic] [--max-ms T]\n", msg);
	return 2;
}

static int parse_mac(const char *s, uint8_t m[6])
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		m[i] = (uint8_t)v[i];
	}
	return 0;
}

static int is_pow2(unsigned long v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int own_mac(const char *ifname, uint8_t m[6])
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	close(fd);
	memcpy(m, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

/* Moves up to what the free list holds into the side's fill ring. */
static void refill(struct side *s)
{
	uint32_t idx, n = xsk_prod_nb_free(&s->fill, free_n);

	if (n > free_n)
		n = free_n;
	if (n == 0)
		return;
	if (xsk_ring_prod__reserve(&s->fill, n, &idx) != n)
		return;
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&s->fill, idx + i) = free_addr[--free_n];
	xsk_ring_prod__submit(&s->fill, n);
}

/* Completed TX frames back to the free list. */
static uint32_t reap(struct side *s)
{
	uint32_t idx, n = xsk_ring_cons__peek(&s->comp, BATCH * 4, &idx);

	for (uint32_t i = 0; i < n; i++)
		free_addr[free_n++] = *xsk_ring_cons__comp_addr(&s->comp, idx + i) & ~(frame_size - 1);
	if (n) {
		xsk_ring_cons__release(&s->comp, n);
		s->outstanding -= n;
	}
	return n;
}

/* RX of `in` to TX of `out`, as many as out's TX ring has room for (the rest waits on
 * in's RX ring: backpressure, counted by the kernel as rx_ring_full when it overflows). */
static uint32_t forward(struct side *in, struct side *out, void *area)
{
	uint32_t room = xsk_prod_nb_free(&out->tx, BATCH), ridx, tidx, n;

	if (room > BATCH)
		room = BATCH;
	if (room == 0) {
		out->tx_full_waits++;
		return 0;
	}
	n = xsk_ring_cons__peek(&in->rx, room, &ridx);
	if (n == 0)
		return 0;
	if (xsk_ring_prod__reserve(&out->tx, n, &tidx) != n) {
		/* cannot happen: room was checked; give the frames back to RX later */
		xsk_ring_cons__cancel(&in->rx, n);
		out->tx_full_waits++;
		return 0;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&in->rx, ridx + i);
		struct xdp_desc *t = xsk_ring_prod__tx_desc(&out->tx, tidx + i);
		uint8_t *p = xsk_umem__get_data(area, d->addr);

		if (d->len >= 12) {
			memcpy(p, out->dst_mac, 6);
			memcpy(p + 6, out->own_mac, 6);
		}
		t->addr = d->addr;
		t->len = d->len;
		t->options = 0;
	}
	xsk_ring_prod__submit(&out->tx, n);
	xsk_ring_cons__release(&in->rx, n);
	in->rx_n += n;
	out->tx_n += n;
	out->outstanding += n;
	/* Copy mode transmits inside sendto(); kick on every batch. */
	sendto(out->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
	out->kicks++;
	return n;
}

static void print_side(const char *name, struct side *s)
{
	struct xdp_statistics st;
	socklen_t len = sizeof(st);

	memset(&st, 0, sizeof(st));
	if (getsockopt(s->fd, SOL_XDP, XDP_STATISTICS, &st, &len) != 0)
		memset(&st, 0xff, sizeof(st));
	printf("\"%s\":{\"if\":\"%s\",\"rx\":%llu,\"tx\":%llu,\"tx_full_waits\":%llu,\"kicks\":%llu,\"tx_outstanding\":%llu,"
	       "\"drops\":{\"rx_dropped\":%llu,\"rx_invalid_descs\":%llu,\"tx_invalid_descs\":%llu,\"rx_ring_full\":%llu,"
	       "\"rx_fill_ring_empty_descs\":%llu,\"tx_ring_empty_descs\":%llu}}",
	       name, s->ifname, (unsigned long long)s->rx_n, (unsigned long long)s->tx_n,
	       (unsigned long long)s->tx_full_waits, (unsigned long long)s->kicks, (unsigned long long)s->outstanding,
	       (unsigned long long)st.rx_dropped, (unsigned long long)st.rx_invalid_descs,
	       (unsigned long long)st.tx_invalid_descs, (unsigned long long)st.rx_ring_full,
	       (unsigned long long)st.rx_fill_ring_empty_descs, (unsigned long long)st.tx_ring_empty_descs);
}

int main(int argc, char **argv)
{
	const char *ns = NULL, *a_dmac = NULL, *b_dmac = NULL, *mode = "native";
	unsigned long queue = 0, ring = 2048, frames = 8192, max_ms = 600000, fsz = 2048;
	unsigned long rx_ring = 0, tx_ring = 0, fill_ring = 0, comp_ring = 0;
	struct side S[2];
	struct xsk_umem *umem;
	struct xsk_umem_config ucfg;
	struct xsk_socket_config scfg;
	void *area;
	int err;

	memset(S, 0, sizeof(S));
	for (int i = 1; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;

		if (!v)
			return usage("an option needs a value");
		i++;
		if (!strcmp(k, "--netns")) ns = v;
		else if (!strcmp(k, "--a")) S[0].ifname = v;
		else if (!strcmp(k, "--b")) S[1].ifname = v;
		else if (!strcmp(k, "--a-dmac")) a_dmac = v;
		else if (!strcmp(k, "--b-dmac")) b_dmac = v;
		else if (!strcmp(k, "--mode")) mode = v;
		else if (!strcmp(k, "--queue") || !strcmp(k, "--ring") || !strcmp(k, "--frames") || !strcmp(k, "--max-ms") ||
			 !strcmp(k, "--rx-ring") || !strcmp(k, "--tx-ring") || !strcmp(k, "--fill-ring") ||
			 !strcmp(k, "--comp-ring") || !strcmp(k, "--frame-size")) {
			errno = 0;
			unsigned long n = strtoul(v, &end, 0);
			if (errno || !end || *end || v[0] == '-' || v[0] == 0) {
				fprintf(stderr, "xdplab-xskfwd: %s expects a non-negative integer, got '%s'\n", k, v);
				return 2;
			}
			if (!strcmp(k, "--queue")) queue = n;
			else if (!strcmp(k, "--ring")) ring = n;
			else if (!strcmp(k, "--rx-ring")) rx_ring = n;
			else if (!strcmp(k, "--tx-ring")) tx_ring = n;
			else if (!strcmp(k, "--fill-ring")) fill_ring = n;
			else if (!strcmp(k, "--comp-ring")) comp_ring = n;
			else if (!strcmp(k, "--frame-size")) fsz = n;
			else if (!strcmp(k, "--frames")) frames = n;
			else max_ms = n;
		} else
			return usage("unknown option");
	}
	if (!S[0].ifname || !S[1].ifname || !a_dmac || !b_dmac)
		return usage("--a, --b, --a-dmac and --b-dmac are required");
	if (parse_mac(a_dmac, S[0].dst_mac) || parse_mac(b_dmac, S[1].dst_mac))
		return usage("--a-dmac/--b-dmac expect a MAC aa:bb:cc:dd:ee:ff");
	if (!rx_ring) rx_ring = ring;
	if (!tx_ring) tx_ring = ring;
	if (!fill_ring) fill_ring = ring;
	if (!comp_ring) comp_ring = ring;
	if (!is_pow2(rx_ring) || !is_pow2(tx_ring) || !is_pow2(fill_ring) || !is_pow2(comp_ring) ||
	    rx_ring > 32768 || tx_ring > 32768 || fill_ring > 32768 || comp_ring > 32768)
		return usage("ring sizes must be powers of two up to 32768");
	if (fsz != 2048 && fsz != 4096)
		return usage("--frame-size expects 2048 or 4096");
	frame_size = fsz;
	if (frames < 4 * BATCH || frames > 262144)
		return usage("--frames expects 256..262144");
	if (strcmp(mode, "native") && strcmp(mode, "generic"))
		return usage("--mode expects native or generic");
	if (max_ms == 0 || max_ms > 3600000)
		return usage("--max-ms expects 1..3600000");

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	if (ns) {
		char path[512];
		int nsfd;

		snprintf(path, sizeof(path), "/run/netns/%s", ns);
		nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0)
			return fail("netns", errno);
		close(nsfd);
	}
	for (int i = 0; i < 2; i++) {
		err = own_mac(S[i].ifname, S[i].own_mac);
		if (err)
			return fail(i ? "mac b" : "mac a", err);
	}

	area = mmap(NULL, (size_t)frames * frame_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (area == MAP_FAILED)
		return fail("umem", errno);
	free_addr = calloc(frames, sizeof(*free_addr));
	if (!free_addr)
		return fail("umem", ENOMEM);
	for (uint32_t f = 0; f < frames; f++)
		free_addr[free_n++] = (uint64_t)(frames - 1 - f) * frame_size;

	memset(&ucfg, 0, sizeof(ucfg));
	ucfg.fill_size = (uint32_t)fill_ring;
	ucfg.comp_size = (uint32_t)comp_ring;
	ucfg.frame_size = (uint32_t)frame_size;
	ucfg.frame_headroom = 0;
	err = xsk_umem__create(&umem, area, (uint64_t)frames * frame_size, &S[0].fill, &S[0].comp, &ucfg);
	if (err)
		return fail("umem", err);

	memset(&scfg, 0, sizeof(scfg));
	scfg.rx_size = (uint32_t)rx_ring;
	scfg.tx_size = (uint32_t)tx_ring;
	scfg.libxdp_flags = 0; /* libxdp loads its default program (queue → socket) */
	scfg.xdp_flags = !strcmp(mode, "native") ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
	scfg.bind_flags = XDP_COPY;
	err = xsk_socket__create(&S[0].xsk, S[0].ifname, (uint32_t)queue, umem, &S[0].rx, &S[0].tx, &scfg);
	if (err)
		return fail("bind a", err);
	/* Second socket on the same UMEM, another device: its own fill and completion ring. */
	err = xsk_socket__create_shared(&S[1].xsk, S[1].ifname, (uint32_t)queue, umem, &S[1].rx, &S[1].tx,
					&S[1].fill, &S[1].comp, &scfg);
	if (err) {
		xsk_socket__delete(S[0].xsk);
		return fail("bind b", err);
	}
	for (int i = 0; i < 2; i++) {
		S[i].fd = xsk_socket__fd(S[i].xsk);
		S[i].tx_size = (uint32_t)tx_ring;
		refill(&S[i]);
	}
	printf("{\"ready\":true,\"a\":\"%s\",\"b\":\"%s\",\"queue\":%lu,\"rings\":{\"rx\":%lu,\"tx\":%lu,\"fill\":%lu,\"comp\":%lu},"
	       "\"frames\":%lu,\"frame_size\":%lu,\"mode\":\"%s\",\"bind\":\"copy\"}\n",
	       S[0].ifname, S[1].ifname, queue, rx_ring, tx_ring, fill_ring, comp_ring, frames, fsz, mode);
	fflush(stdout);

	uint64_t deadline = mono_ms() + max_ms;
	struct pollfd pfd[2] = { { .fd = S[0].fd, .events = POLLIN }, { .fd = S[1].fd, .events = POLLIN } };
	while (!stop_requested) {
		uint32_t work = 0;

		for (int i = 0; i < 2; i++) {
			struct side *in = &S[i], *out = &S[1 - i];

			work += reap(out);
			work += forward(in, out, area);
			refill(in);
		}
		for (int i = 0; i < 2; i++) {
			work += reap(&S[i]);
			/* Descriptors the kernel has not taken off the TX ring yet (copy mode sends
			 * only inside a syscall, and a busy peer can leave some behind): kick again. */
			if (xsk_prod_nb_free(&S[i].tx, S[i].tx_size) < S[i].tx_size) {
				sendto(S[i].fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
				S[i].kicks++;
				work += reap(&S[i]);
			}
		}
		if (work)
			continue;
		if (mono_ms() >= deadline)
			break;
		poll(pfd, 2, 1);
	}

	printf("{");
	print_side("a", &S[0]);
	printf(",");
	print_side("b", &S[1]);
	printf(",\"free\":%u}\n", free_n);
	fflush(stdout);
	xsk_socket__delete(S[1].xsk);
	xsk_socket__delete(S[0].xsk);
	xsk_umem__delete(umem);
	munmap(area, (size_t)frames * frame_size);
	free(free_addr);
	return 0;
}
