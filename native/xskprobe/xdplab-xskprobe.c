// SPDX-License-Identifier: BSD-2-Clause
/* xdplab-xskprobe: one AF_XDP socket (libxdp <xdp/xsk.h>) on (interface, queue) inside
 * a lab namespace, put into a chosen slot of a pinned XSKMAP, its fill ring filled; it
 * counts what arrives for --ms milliseconds and prints XDP_STATISTICS. Live mode uses it
 * to show redirect outcomes (a slot whose socket is bound elsewhere, an empty slot) and
 * bind errors (non-power-of-two ring → EINVAL, a second socket on a queue → EBUSY,
 * zero-copy on veth → EOPNOTSUPP) without the native worker.
 *
 *   xdplab-xskprobe --netns NS --if IF --queue Q [--map PIN --slot K] --ms T
 *                   [--ring N] [--frames N] [--zerocopy] [--hold]
 *
 * Prints {"ready":true,…} once the socket is bound and in the map, then after T ms (or
 * on SIGTERM/SIGINT) {"received":n,"stats":{…}}. Failures print
 * {"error":{"stage":…,"errno":N,"name":…}} and exit 1. PR_SET_PDEATHSIG: the probe dies
 * with its parent, so a killed run leaves no socket behind. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <linux/if_xdp.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <xdp/xsk.h>

#define FRAME_SIZE 4096u

static volatile sig_atomic_t stop;

static void on_signal(int s)
{
	(void)s;
	stop = 1;
}

static const char *errno_name(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ENXIO: return "ENXIO";
	case EBUSY: return "EBUSY";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOMEM: return "ENOMEM";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EEXIST: return "EEXIST";
	case ENOSPC: return "ENOSPC";
	default: return "E?";
	}
}

static int fail(const char *stage, int err)
{
	if (err < 0)
		err = -err;
	printf("{\"error\":{\"stage\":\"%s\",\"errno\":%d,\"name\":\"%s\",\"message\":\"%s\"}}\n", stage, err,
	       errno_name(err), strerror(err));
	fflush(stdout);
	return 1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	const char *ns = NULL, *ifname = NULL, *map = NULL;
	unsigned queue = 0, ring = 2048, frames = 4096;
	int slot = -1, zerocopy = 0, ms = 1000, err, map_fd = -1, nsfd, fd;
	struct xsk_ring_prod fq, tx;
	struct xsk_ring_cons cq, rx;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_umem_config ucfg;
	struct xsk_socket_config scfg;
	struct xdp_statistics st;
	socklen_t optlen = sizeof(st);
	unsigned long long received = 0;
	char path[512];
	void *area;
	__u32 idx;
	long long deadline;

	for (int i = 1; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(k, "--zerocopy")) {
			zerocopy = 1;
			continue;
		}
		if (!v) {
			fprintf(stderr, "xdplab-xskprobe: %s needs a value\n", k);
			return 2;
		}
		i++;
		if (!strcmp(k, "--netns")) ns = v;
		else if (!strcmp(k, "--if")) ifname = v;
		else if (!strcmp(k, "--queue")) queue = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(k, "--map")) map = v;
		else if (!strcmp(k, "--slot")) slot = atoi(v);
		else if (!strcmp(k, "--ms")) ms = atoi(v);
		else if (!strcmp(k, "--ring")) ring = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(k, "--frames")) frames = (unsigned)strtoul(v, NULL, 0);
		else {
			fprintf(stderr, "xdplab-xskprobe: unknown option %s\n", k);
			return 2;
		}
	}
	if (!ifname || ms <= 0 || ms > 600000 || frames == 0 || frames > 65536) {
		fprintf(stderr, "xdplab-xskprobe: needs --if and --ms in 1..600000 (frames 1..65536)\n");
		return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	if (map) {
		/* Opened before setns: the pinned path is in this mount namespace either way. */
		map_fd = bpf_obj_get(map);
		if (map_fd < 0)
			return fail("map", errno);
	}
	if (ns) {
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
		nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0)
			return fail("netns", errno);
		close(nsfd);
	}
	area = mmap(NULL, (size_t)frames * FRAME_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		return fail("umem", errno);
	memset(&ucfg, 0, sizeof(ucfg));
	ucfg.fill_size = ring;
	ucfg.comp_size = ring;
	ucfg.frame_size = FRAME_SIZE;
	ucfg.frame_headroom = 0;
	err = xsk_umem__create(&umem, area, (__u64)frames * FRAME_SIZE, &fq, &cq, &ucfg);
	if (err)
		return fail("umem", err);
	memset(&scfg, 0, sizeof(scfg));
	scfg.rx_size = ring;
	scfg.tx_size = ring;
	scfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
	scfg.bind_flags = zerocopy ? XDP_ZEROCOPY : XDP_COPY;
	err = xsk_socket__create(&xsk, ifname, queue, umem, &rx, &tx, &scfg);
	if (err)
		return fail("bind", err);
	fd = xsk_socket__fd(xsk);
	if (map_fd >= 0 && slot >= 0) {
		__u32 k = (__u32)slot;

		if (bpf_map_update_elem(map_fd, &k, &fd, BPF_ANY))
			return fail("xskmap", errno);
	}
	{
		unsigned n = frames < ring ? frames : ring;

		if (xsk_ring_prod__reserve(&fq, n, &idx) != n)
			return fail("fill", ENOSPC);
		for (unsigned i = 0; i < n; i++)
			*xsk_ring_prod__fill_addr(&fq, idx + i) = (__u64)i * FRAME_SIZE;
		xsk_ring_prod__submit(&fq, n);
	}
	printf("{\"ready\":true,\"fd\":%d,\"queue\":%u,\"slot\":%d,\"mode\":\"%s\"}\n", fd, queue, slot,
	       zerocopy ? "zerocopy" : "copy");
	fflush(stdout);

	deadline = now_ms() + ms;
	while (!stop) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();
		unsigned got;

		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)(left < 50 ? left : 50)) <= 0)
			continue;
		got = xsk_ring_cons__peek(&rx, 64, &idx);
		if (!got)
			continue;
		/* Give each frame straight back to the fill ring: the probe only counts. */
		{
			__u32 fidx;

			while (xsk_ring_prod__reserve(&fq, got, &fidx) != got)
				;
			for (unsigned i = 0; i < got; i++)
				*xsk_ring_prod__fill_addr(&fq, fidx + i) = xsk_umem__extract_addr(xsk_ring_cons__rx_desc(&rx, idx + i)->addr);
			xsk_ring_prod__submit(&fq, got);
		}
		xsk_ring_cons__release(&rx, got);
		received += got;
	}
	memset(&st, 0, sizeof(st));
	if (getsockopt(fd, SOL_XDP, XDP_STATISTICS, &st, &optlen))
		return fail("statistics", errno);
	printf("{\"received\":%llu,\"stats\":{\"rx_dropped\":%llu,\"rx_invalid_descs\":%llu,\"tx_invalid_descs\":%llu,"
	       "\"rx_ring_full\":%llu,\"rx_fill_ring_empty_descs\":%llu,\"tx_ring_empty_descs\":%llu}}\n",
	       received, (unsigned long long)st.rx_dropped, (unsigned long long)st.rx_invalid_descs,
	       (unsigned long long)st.tx_invalid_descs, (unsigned long long)st.rx_ring_full,
	       (unsigned long long)st.rx_fill_ring_empty_descs, (unsigned long long)st.tx_ring_empty_descs);
	fflush(stdout);
	xsk_socket__delete(xsk);
	xsk_umem__delete(umem);
	return 0;
}
