// xdplab-pktio: frame injection and capture on interfaces inside the lab's network
// namespaces, through AF_PACKET sockets (Node has no AF_PACKET, and setns is per thread).
//
// One process serves several interfaces in several namespaces: each "port" is
// [NETNS:]IFNAME; the socket is created after setns() into that namespace and keeps
// working there after the process switches back. That is what lets one injector keep
// the global order of frames that enter the device under test on different interfaces.
//
//   inject  --if [NS:]IF [--if ...] --pcap FILE [--ifaces FILE]
//           [--gap-us N | --pps N | --as-recorded] [--count N] [--max-ms T] [--bypass]
//           [--tx ring|mmsg|send]
//     Sends the frames of a classic pcap (µs or ns, either byte order, linktype 1).
//     --ifaces names the port of each frame (text, one port number per line; default
//     port 0). Prints "sent <i> <port> <realtime ns>" or "error <i> <port> <errno text>"
//     per frame, then "done <sent> <errors>".
//     Back to back (--gap-us 0, the default, and not --as-recorded), frames go out in
//     batches (see inject_fast): --tx ring (default) through a PACKET_TX_RING, --tx mmsg
//     with sendmmsg(), --tx send with the paced loop's one send() per frame. A batch's
//     frames share one send time. Paced injection always uses one send() per frame.
//
//   capture --if [NS:]IF --out FILE [--if ... --out ...] --timeout-ms T
//           [--idle-ms T] [--count N] [--direction in|both]
//     Writes one classic nanosecond pcap per port. Prints "ready" once every socket is
//     bound, stops after T ms in total, after --idle-ms without a frame, after --count
//     frames in total, or on SIGINT/SIGTERM; then flushes and prints
//     "captured <port> <n>" per port and "done <total>".
//
//   reflect --if [NS:]IF [--max N] [--idle-ms T] [--timeout-ms T] [--frame-size N]
//           [--parent PID]
//     The far host of `traffic.respond: "reflect"` on a real interface: reads every frame
//     arriving on the port (incoming only, never its own sends) and sends back on the same
//     port the reply sim/dataplane/responder.ts `reflect` builds, byte for byte (see
//     reflect_frame below). Nothing else is ever sent. Prints "ready" once bound; stops
//     on SIGINT/SIGTERM, after N answers, after --idle-ms without a frame received or
//     after --timeout-ms in total (all optional), then prints
//     "done seen <n> answered <n> ignored <n> errors <n>" (errors: answers the socket
//     refused, not counted as answered). --frame-size is the model's reply buffer
//     (dataplane.frameSize, default 4096): longer replies are not sent, as in the model.
//     --parent PID: exit as soon as that process (the Node side) is gone.
//
//   reflect-file --in FILE --out FILE [--frame-size N]
//     The same reflect offline: one reply per answered frame of a classic pcap, written
//     to a nanosecond pcap with the request's timestamp; prints "answer <i> <len>" or
//     "ignore <i>" per input frame, then "done seen <n> answered <n> ignored <n>".
//
// Exit codes: 0 ok, 2 usage or bad input file, 3 environment (socket, setns, no such
// interface).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define MAX_PORTS 16
#define MAX_FRAME 262144
#define DEFAULT_MAX_FRAMES 1000000L

struct port {
	const char *spec; // as given: [NS:]IF
	char ns[256];
	char ifname[IF_NAMESIZE];
	const char *out;
	int fd;
	FILE *pcap;
	long n;
};

static struct port ports[MAX_PORTS];
static int nports;
static volatile sig_atomic_t stop_requested;

static void die(int code, const char *fmt, const char *arg)
{
	fprintf(stderr, "xdplab-pktio: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(code);
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The receive path moves an 802.1Q/802.1ad tag into skb metadata (PACKET_AUXDATA) even
 * with rx-vlan offload off. Put it back where it was on the wire: *data points 4 bytes
 * into buf; the MACs move to buf and the tag follows them. Returns the bytes added (0 or 4). */
static size_t restore_vlan_tag(const struct tpacket_auxdata *aux, uint8_t *buf, uint8_t **data, size_t len)
{
	if (!(aux->tp_status & TP_STATUS_VLAN_VALID) || len < 12)
		return 0;
	uint16_t tpid = (aux->tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux->tp_vlan_tpid : ETH_P_8021Q;
	memmove(buf, *data, 12);
	*data = buf;
	buf[12] = (uint8_t)(tpid >> 8);
	buf[13] = (uint8_t)tpid;
	buf[14] = (uint8_t)(aux->tp_vlan_tci >> 8);
	buf[15] = (uint8_t)aux->tp_vlan_tci;
	return 4;
}

static long parse_long(const char *s, const char *what)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < 0)
		die(2, "%s needs a non-negative integer", what);
	return v;
}

static void add_port(const char *spec)
{
	if (nports == MAX_PORTS)
		die(2, "too many ports (max 16), at %s", spec);
	struct port *p = &ports[nports++];
	memset(p, 0, sizeof(*p));
	p->spec = spec;
	p->fd = -1;
	const char *colon = strchr(spec, ':');
	const char *ifn = spec;
	if (colon) {
		size_t len = (size_t)(colon - spec);
		if (len == 0 || len >= sizeof(p->ns))
			die(2, "bad namespace in port %s", spec);
		memcpy(p->ns, spec, len);
		ifn = colon + 1;
	}
	if (strlen(ifn) == 0 || strlen(ifn) >= IF_NAMESIZE)
		die(2, "bad interface name in port %s (1..15 characters)", spec);
	strcpy(p->ifname, ifn);
}

// Opens a bound AF_PACKET socket for each port, entering the port's namespace first.
static void open_ports(int capture, int ignore_outgoing, int bypass)
{
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		die(3, "cannot open /proc/self/ns/net: %s", strerror(errno));
	for (int i = 0; i < nports; i++) {
		struct port *p = &ports[i];
		if (p->ns[0]) {
			char path[300];
			snprintf(path, sizeof(path), "/run/netns/%s", p->ns);
			int nsfd = open(path, O_RDONLY | O_CLOEXEC);
			if (nsfd < 0)
				die(3, "no network namespace %s (ip netns list)", p->ns);
			if (setns(nsfd, CLONE_NEWNET) < 0)
				die(3, "setns failed (needs root / CAP_SYS_ADMIN): %s", strerror(errno));
			close(nsfd);
		}
		unsigned idx = if_nametoindex(p->ifname);
		if (idx == 0)
			die(3, "no interface %s", p->spec);
		// Protocol 0 at socket(): nothing is queued before bind() narrows it to the port.
		int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
		if (fd < 0)
			die(3, "AF_PACKET socket: %s (needs root / CAP_NET_RAW)", strerror(errno));
		struct sockaddr_ll sll;
		memset(&sll, 0, sizeof(sll));
		sll.sll_family = AF_PACKET;
		sll.sll_protocol = htons(ETH_P_ALL);
		sll.sll_ifindex = (int)idx;
		if (capture) {
			int one = 1;
			if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0)
				die(3, "SO_TIMESTAMPNS: %s", strerror(errno));
			if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0)
				die(3, "PACKET_AUXDATA: %s", strerror(errno));
			if (ignore_outgoing && setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0)
				die(3, "PACKET_IGNORE_OUTGOING (Linux >= 4.20): %s", strerror(errno));
			int rcvbuf = 8 << 20;
			setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
			struct packet_mreq mr;
			memset(&mr, 0, sizeof(mr));
			mr.mr_ifindex = (int)idx;
			mr.mr_type = PACKET_MR_PROMISC;
			if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
				die(3, "PACKET_MR_PROMISC: %s", strerror(errno));
		} else if (bypass) {
			int one = 1;
			setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
		}
		if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
			die(3, "bind to %s failed", p->spec);
		p->fd = fd;
		if (p->ns[0] && setns(home, CLONE_NEWNET) < 0)
			die(3, "setns back: %s", strerror(errno));
	}
	close(home);
}

// ---- classic pcap input ----

struct pcap_in {
	uint8_t *buf;
	size_t len;
	int swap;
	int nsec;
};

static uint32_t rd32(const struct pcap_in *pc, size_t off)
{
	uint32_t v;
	memcpy(&v, pc->buf + off, 4);
	return pc->swap ? __builtin_bswap32(v) : v;
}

static void load_pcap(const char *file, struct pcap_in *pc)
{
	FILE *f = fopen(file, "rb");
	if (!f)
		die(2, "cannot open %s", file);
	struct stat st;
	if (fstat(fileno(f), &st) < 0)
		die(2, "cannot stat %s", file);
	pc->len = (size_t)st.st_size;
	pc->buf = malloc(pc->len ? pc->len : 1);
	if (!pc->buf || fread(pc->buf, 1, pc->len, f) != pc->len)
		die(2, "cannot read %s", file);
	fclose(f);
	if (pc->len < 24)
		die(2, "%s: shorter than a pcap header", file);
	uint32_t magic;
	memcpy(&magic, pc->buf, 4);
	if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d)
		pc->swap = 0;
	else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1)
		pc->swap = 1;
	else
		die(2, "%s: not a classic pcap (bad magic at byte offset 0)", file);
	pc->nsec = (magic == 0xa1b23c4d || magic == 0x4d3cb2a1);
	if ((rd32(pc, 20) & 0x0fffffff) != 1)
		die(2, "%s: link type is not Ethernet (1)", file);
}

enum { TX_SEND, TX_MMSG, TX_RING };

#define FAST_BATCH 256 // frames per sendmmsg() or per TX-ring send()
#define RING_FRAMES 512 // slots of a port's TX ring (at least)

// A port's PACKET_TX_RING (TPACKET_V2) for back-to-back injection: a second AF_PACKET
// socket on the port, bound with protocol 0 (it never receives), PACKET_QDISC_BYPASS.
struct txring {
	int fd; // -1: no ring (not asked for, could not be set up, or retired after a failure)
	uint8_t *map;
	size_t map_len;
	unsigned frame_size, frame_nr, head;
	size_t max_len; // longest frame the ring takes: MTU + Ethernet header (no VLAN allowance)
};

static struct txring rings[MAX_PORTS];
static long fast_sent, fast_errors;

#define RING_DATA_OFF TPACKET_ALIGN(sizeof(struct tpacket2_hdr)) // where the kernel reads a V2 frame

static void ring_close(struct txring *r)
{
	if (r->map)
		munmap(r->map, r->map_len);
	if (r->fd >= 0)
		close(r->fd);
	r->map = NULL;
	r->fd = -1;
}

// Sets up port p's TX ring; on any failure leaves r->fd at -1 (that port then uses
// sendmmsg) and says why on stderr. Enters p's namespace and returns to home.
static void ring_open(const struct port *p, struct txring *r, int home, long max_ms)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	const char *why = NULL;
	if (p->ns[0]) {
		char path[300];
		snprintf(path, sizeof(path), "/run/netns/%s", p->ns);
		int nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0)
			die(3, "cannot enter the namespace of %s", p->spec);
		close(nsfd);
	}
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	int v = TPACKET_V2, one = 1;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, p->ifname);
	if (fd < 0)
		why = "socket";
	else if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) < 0)
		why = "PACKET_VERSION";
	else if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0)
		why = "PACKET_QDISC_BYPASS";
	else if (ioctl(fd, SIOCGIFMTU, &ifr) < 0)
		why = "SIOCGIFMTU";
	if (!why) {
		// The blocking send() waits for every frame of a batch to leave; bound that wait.
		struct timeval tv = { .tv_sec = max_ms / 1000 + 1, .tv_usec = 0 };
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		r->max_len = (size_t)ifr.ifr_mtu + ETH_HLEN;
		unsigned fs = 2048;
		while (fs < RING_DATA_OFF + r->max_len)
			fs <<= 1;
		unsigned bs = fs > 65536 ? fs : 65536;
		unsigned per_block = bs / fs;
		unsigned nblocks = (RING_FRAMES + per_block - 1) / per_block;
		struct tpacket_req req = { .tp_block_size = bs, .tp_block_nr = nblocks, .tp_frame_size = fs, .tp_frame_nr = nblocks * per_block };
		if (setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) < 0)
			why = "PACKET_TX_RING";
		else {
			r->map_len = (size_t)bs * nblocks;
			r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (r->map == MAP_FAILED) {
				r->map = NULL;
				why = "mmap of the TX ring";
			}
			r->frame_size = fs;
			r->frame_nr = req.tp_frame_nr;
		}
	}
	if (!why) {
		struct sockaddr_ll sll;
		memset(&sll, 0, sizeof(sll));
		sll.sll_family = AF_PACKET;
		sll.sll_protocol = 0;
		sll.sll_ifindex = (int)if_nametoindex(p->ifname);
		if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
			why = "bind";
	}
	r->fd = fd;
	if (why) {
		fprintf(stderr, "xdplab-pktio: no TX ring on %s (%s: %s); using sendmmsg\n", p->spec, why, strerror(errno));
		ring_close(r);
	}
	if (p->ns[0] && setns(home, CLONE_NEWNET) < 0)
		die(3, "setns back: %s", strerror(errno));
}

static struct tpacket2_hdr *ring_slot(const struct txring *r, unsigned i)
{
	return (struct tpacket2_hdr *)(r->map + (size_t)(i % r->frame_nr) * r->frame_size);
}

// Sends frames [0, n) of a batch through port's TX ring with one blocking send(), which
// returns once the kernel has handed every frame to the device. Prints a "sent" line for
// each frame the kernel took (slot back to AVAILABLE, or still SENDING), in order, and
// returns how many that is. At the first frame it did not take (an error: the kernel
// leaves that slot and all later ones as they were), the ring is retired for good and the
// caller sends the rest with ordinary send() calls, which report each frame's own errno.
static int ring_send(struct txring *r, int port, long idx, uint8_t *const *data, const uint32_t *len, int n)
{
	for (int j = 0; j < n; j++) {
		struct tpacket2_hdr *h = ring_slot(r, r->head + (unsigned)j);
		memcpy((uint8_t *)h + RING_DATA_OFF, data[j], len[j]);
		h->tp_len = len[j];
		__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
	}
	uint64_t at = now_ns(CLOCK_REALTIME);
	ssize_t rr = send(r->fd, NULL, 0, 0);
	int e = errno;
	int ok = 0, in_flight = 0;
	for (; ok < n; ok++) {
		uint32_t st = __atomic_load_n(&ring_slot(r, r->head + (unsigned)ok)->tp_status, __ATOMIC_ACQUIRE);
		if (st == TP_STATUS_SENDING)
			in_flight = 1; // built and handed to the device; its skb still holds the slot
		else if (st != TP_STATUS_AVAILABLE)
			break;
		printf("sent %ld %d %llu\n", idx + ok, port, (unsigned long long)at);
		fast_sent++;
	}
	r->head = (r->head + (unsigned)ok) % r->frame_nr;
	if (ok < n || in_flight) {
		fprintf(stderr, "xdplab-pktio: TX ring on %s stopped at frame %ld (%s); sending the rest without it\n",
			ports[port].spec, idx + ok, rr < 0 ? strerror(e) : ok < n ? "frame not taken" : "frame still in flight");
		ring_close(r);
	}
	return ok;
}

// Sends frames [0, n) of a batch on the port's plain socket with sendmmsg(), printing one
// "sent" or "error" line per frame in order. When the kernel takes only the first k
// messages, the call is repeated from the next one: if that one fails, sendmmsg() returns
// -1 with its errno, which is reported for that frame, and the rest follow.
static void mmsg_send(int port, long idx, uint8_t *const *data, const uint32_t *len, int n)
{
	static struct mmsghdr msgs[FAST_BATCH];
	static struct iovec iov[FAST_BATCH];
	for (int j = 0; j < n; j++) {
		iov[j].iov_base = data[j];
		iov[j].iov_len = len[j];
		memset(&msgs[j], 0, sizeof(msgs[j]));
		msgs[j].msg_hdr.msg_iov = &iov[j];
		msgs[j].msg_hdr.msg_iovlen = 1;
	}
	int done = 0;
	while (done < n) {
		uint64_t at = now_ns(CLOCK_REALTIME);
		int r = sendmmsg(ports[port].fd, msgs + done, (unsigned)(n - done), 0);
		if (r > 0) {
			for (int k = done; k < done + r; k++) {
				if (msgs[k].msg_len == len[k]) {
					printf("sent %ld %d %llu\n", idx + k, port, (unsigned long long)at);
					fast_sent++;
				} else {
					printf("error %ld %d short write\n", idx + k, port);
					fast_errors++;
				}
			}
			done += r;
			continue;
		}
		printf("error %ld %d %s\n", idx + done, port, r < 0 ? strerror(errno) : "short write");
		fast_errors++;
		done++;
	}
}

// Back-to-back injection (gap 0, not --as-recorded). Consecutive frames for the same port
// form a batch (at most FAST_BATCH); a batch goes out through the port's TX ring
// (--tx ring, the default: one send() per batch, frames copied into the shared ring) or
// with sendmmsg() (--tx mmsg, or a port whose ring could not be set up or was retired).
// Frames the ring does not take by construction (shorter than an Ethernet header, longer
// than MTU + 14) go alone through send() on the plain socket, so the kernel answers for
// them exactly as in the paced loop. Output as in the paced loop: one "sent" or "error"
// line per frame, in input order, then "done <sent> <errors>"; the time of a "sent" line
// is taken once per batch (per send call), just before the batch is handed to the kernel.
static int inject_fast(const struct pcap_in *pc, const int *portof, long nport_lines, const char *ifaces,
		       long count, long max_ms, int tx_mode)
{
	// Nothing has been written to stdout yet, and every reader takes the lines after exit:
	// fully buffered here (main makes stdout line-buffered, one write() per frame).
	setvbuf(stdout, NULL, _IOFBF, 1 << 20);
	for (int i = 0; i < nports; i++)
		rings[i].fd = -1;
	if (tx_mode == TX_RING) {
		int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (home < 0)
			die(3, "cannot open /proc/self/ns/net: %s", strerror(errno));
		for (int i = 0; i < nports; i++)
			ring_open(&ports[i], &rings[i], home, max_ms);
		close(home);
	}
	static uint8_t *data[FAST_BATCH];
	static uint32_t len[FAST_BATCH];
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	uint64_t deadline = t0 + (uint64_t)max_ms * 1000000ull;
	long idx = 0;
	size_t off = 24;
	int truncated = 0;
	while (!truncated && off + 16 <= pc->len && idx < count) {
		if (now_ns(CLOCK_MONOTONIC) > deadline)
			break;
		// Up to FAST_BATCH complete records for the port of frame idx.
		int port = -1, n = 0;
		size_t o = off;
		while (n < FAST_BATCH && o + 16 <= pc->len && idx + n < count) {
			uint32_t incl = rd32(pc, o + 8);
			if (incl > MAX_FRAME || o + 16 + incl > pc->len) {
				truncated = 1; // truncated tail: the complete records are sent
				break;
			}
			int p = 0;
			if (portof) {
				if (idx + n >= nport_lines)
					die(2, "%s has fewer lines than the pcap has frames", ifaces);
				p = portof[idx + n];
			}
			if (port < 0)
				port = p;
			else if (p != port)
				break;
			data[n] = pc->buf + o + 16;
			len[n] = incl;
			o += 16 + incl;
			n++;
		}
		if (n == 0)
			break;
		struct txring *r = &rings[port];
		int k = 0;
		while (k < n) {
			if (r->fd < 0) {
				mmsg_send(port, idx + k, data + k, len + k, n - k);
				k = n;
				continue;
			}
			int m = 0;
			while (k + m < n && (unsigned)m < r->frame_nr && len[k + m] >= ETH_HLEN && len[k + m] <= r->max_len)
				m++;
			if (m == 0) {
				mmsg_send(port, idx + k, data + k, len + k, 1); // not for the ring: alone, as before
				k++;
			} else
				k += ring_send(r, port, idx + k, data + k, len + k, m);
		}
		idx += n;
		off = o;
	}
	for (int i = 0; i < nports; i++)
		ring_close(&rings[i]);
	printf("done %ld %ld\n", fast_sent, fast_errors);
	fflush(stdout);
	return 0;
}

static int cmd_inject(int argc, char **argv)
{
	const char *pcap = NULL, *ifaces = NULL;
	long gap_us = 0, pps = 0, count = DEFAULT_MAX_FRAMES, max_ms = 30000;
	int as_recorded = 0, bypass = 0, tx_mode = TX_RING;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--as-recorded")) { as_recorded = 1; continue; }
		if (!strcmp(a, "--bypass")) { bypass = 1; continue; }
		if (!v) die(2, "option %s needs a value", a);
		i++;
		if (!strcmp(a, "--if")) add_port(v);
		else if (!strcmp(a, "--pcap")) pcap = v;
		else if (!strcmp(a, "--ifaces")) ifaces = v;
		else if (!strcmp(a, "--gap-us")) gap_us = parse_long(v, a);
		else if (!strcmp(a, "--pps")) pps = parse_long(v, a);
		else if (!strcmp(a, "--count")) count = parse_long(v, a);
		else if (!strcmp(a, "--max-ms")) max_ms = parse_long(v, a);
		else if (!strcmp(a, "--tx")) {
			if (!strcmp(v, "send")) tx_mode = TX_SEND;
			else if (!strcmp(v, "mmsg")) tx_mode = TX_MMSG;
			else if (!strcmp(v, "ring")) tx_mode = TX_RING;
			else die(2, "--tx expects ring, mmsg or send, got %s", v);
		}
		else die(2, "unknown inject option %s", a);
	}
	if (!pcap || nports == 0)
		die(2, "inject needs --if and --pcap%s", "");
	if (pps > 0)
		gap_us = 1000000 / pps;

	struct pcap_in pc;
	load_pcap(pcap, &pc);

	// Port of each frame, read up front so a bad file fails before anything is sent.
	int *portof = NULL;
	long nport_lines = 0;
	if (ifaces) {
		FILE *f = fopen(ifaces, "r");
		if (!f)
			die(2, "cannot open %s", ifaces);
		long cap = 1024;
		portof = malloc(sizeof(int) * (size_t)cap);
		int v;
		while (fscanf(f, "%d", &v) == 1) {
			if (v < 0 || v >= nports)
				die(2, "%s: port number out of range of the --if list", ifaces);
			if (nport_lines == cap) {
				cap *= 2;
				portof = realloc(portof, sizeof(int) * (size_t)cap);
			}
			portof[nport_lines++] = v;
		}
		fclose(f);
	}

	// Back to back (gap 0, not --as-recorded): batched sends, see inject_fast.
	int fast = !as_recorded && gap_us == 0 && tx_mode != TX_SEND;
	open_ports(0, 0, bypass || fast);
	if (fast)
		return inject_fast(&pc, portof, nport_lines, ifaces, count, max_ms, tx_mode);

	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	uint64_t deadline = t0 + (uint64_t)max_ms * 1000000ull;
	uint64_t first_ts = 0;
	long idx = 0, sent = 0, errors = 0;
	size_t off = 24;
	while (off + 16 <= pc.len && idx < count) {
		uint32_t sec = rd32(&pc, off), frac = rd32(&pc, off + 4), incl = rd32(&pc, off + 8);
		if (incl > MAX_FRAME || off + 16 + incl > pc.len)
			break; // truncated tail: the complete records were sent
		uint64_t ts = (uint64_t)sec * 1000000000ull + (uint64_t)frac * (pc.nsec ? 1u : 1000u);
		if (idx == 0)
			first_ts = ts;
		uint64_t due = t0;
		if (as_recorded)
			due = t0 + (ts >= first_ts ? ts - first_ts : 0);
		else
			due = t0 + (uint64_t)idx * (uint64_t)gap_us * 1000ull;
		if (due > deadline)
			break;
		if (due > now_ns(CLOCK_MONOTONIC)) {
			struct timespec d = { .tv_sec = (time_t)(due / 1000000000ull), .tv_nsec = (long)(due % 1000000000ull) };
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &d, NULL) == EINTR)
				;
		}
		int port = 0;
		if (portof) {
			if (idx >= nport_lines)
				die(2, "%s has fewer lines than the pcap has frames", ifaces);
			port = portof[idx];
		}
		uint64_t at = now_ns(CLOCK_REALTIME);
		ssize_t r = send(ports[port].fd, pc.buf + off + 16, incl, 0);
		if (r == (ssize_t)incl) {
			printf("sent %ld %d %llu\n", idx, port, (unsigned long long)at);
			sent++;
		} else {
			printf("error %ld %d %s\n", idx, port, r < 0 ? strerror(errno) : "short write");
			errors++;
		}
		off += 16 + incl;
		idx++;
	}
	printf("done %ld %ld\n", sent, errors);
	fflush(stdout);
	return 0;
}

// ---- capture ----

static void pcap_header(FILE *f)
{
	struct {
		uint32_t magic;
		uint16_t major, minor;
		int32_t zone;
		uint32_t sigfigs, snaplen, linktype;
	} h = { 0xa1b23c4d, 2, 4, 0, 0, MAX_FRAME, 1 };
	fwrite(&h, sizeof(h), 1, f);
}

static int cmd_capture(int argc, char **argv)
{
	long timeout_ms = -1, idle_ms = 0, count = DEFAULT_MAX_FRAMES;
	int ignore_outgoing = 1;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) die(2, "option %s needs a value", a);
		i++;
		if (!strcmp(a, "--if")) add_port(v);
		else if (!strcmp(a, "--out")) {
			if (nports == 0 || ports[nports - 1].out)
				die(2, "--out %s must follow its --if", v);
			ports[nports - 1].out = v;
		} else if (!strcmp(a, "--timeout-ms")) timeout_ms = parse_long(v, a);
		else if (!strcmp(a, "--idle-ms")) idle_ms = parse_long(v, a);
		else if (!strcmp(a, "--count")) count = parse_long(v, a);
		else if (!strcmp(a, "--direction")) {
			if (!strcmp(v, "in")) ignore_outgoing = 1;
			else if (!strcmp(v, "both")) ignore_outgoing = 0;
			else die(2, "--direction is in or both, not %s", v);
		} else die(2, "unknown capture option %s", a);
	}
	if (nports == 0 || timeout_ms < 0)
		die(2, "capture needs --if, --out and --timeout-ms (captures are always bounded)%s", "");
	for (int i = 0; i < nports; i++)
		if (!ports[i].out)
			die(2, "port %s has no --out", ports[i].spec);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; // no SA_RESTART: poll() returns EINTR and the loop ends
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	open_ports(1, ignore_outgoing, 0);
	for (int i = 0; i < nports; i++) {
		ports[i].pcap = fopen(ports[i].out, "wb");
		if (!ports[i].pcap)
			die(2, "cannot write %s", ports[i].out);
		pcap_header(ports[i].pcap);
	}
	printf("ready\n");
	fflush(stdout);

	static uint8_t buf[MAX_FRAME + 4];
	struct pollfd pfd[MAX_PORTS];
	for (int i = 0; i < nports; i++) {
		pfd[i].fd = ports[i].fd;
		pfd[i].events = POLLIN;
	}
	uint64_t start = now_ns(CLOCK_MONOTONIC);
	uint64_t end = start + (uint64_t)timeout_ms * 1000000ull;
	uint64_t last = start;
	long total = 0;
	while (!stop_requested && total < count) {
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		uint64_t until = end;
		if (idle_ms > 0 && last + (uint64_t)idle_ms * 1000000ull < until)
			until = last + (uint64_t)idle_ms * 1000000ull;
		if (now >= until)
			break;
		int wait = (int)((until - now + 999999) / 1000000);
		int r = poll(pfd, (nfds_t)nports, wait);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die(3, "poll: %s", strerror(errno));
		}
		for (int i = 0; i < nports && total < count; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			for (;;) {
				// Leave room in front for a VLAN tag the kernel moved into metadata.
				uint8_t *data = buf + 4;
				char ctl[256];
				struct iovec iov = { .iov_base = data, .iov_len = MAX_FRAME };
				struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
				ssize_t n = recvmsg(ports[i].fd, &mh, MSG_DONTWAIT | MSG_TRUNC);
				if (n < 0)
					break;
				uint64_t ts = 0;
				uint32_t orig = (uint32_t)n;
				size_t len = (size_t)n > MAX_FRAME ? MAX_FRAME : (size_t)n;
				for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
					if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
						struct timespec t;
						memcpy(&t, CMSG_DATA(c), sizeof(t));
						ts = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
					} else if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
						struct tpacket_auxdata aux;
						memcpy(&aux, CMSG_DATA(c), sizeof(aux));
						size_t added = restore_vlan_tag(&aux, buf, &data, len);
						len += added;
						orig += (uint32_t)added;
					}
				}
				if (ts == 0)
					ts = now_ns(CLOCK_REALTIME);
				uint32_t rec[4] = { (uint32_t)(ts / 1000000000ull), (uint32_t)(ts % 1000000000ull), (uint32_t)len, orig };
				fwrite(rec, sizeof(rec), 1, ports[i].pcap);
				fwrite(data, 1, len, ports[i].pcap);
				ports[i].n++;
				total++;
				last = now_ns(CLOCK_MONOTONIC);
				if (total >= count)
					break;
			}
		}
	}
	for (int i = 0; i < nports; i++) {
		if (fclose(ports[i].pcap) != 0)
			die(3, "writing %s failed", ports[i].out);
		printf("captured %d %ld\n", i, ports[i].n);
	}
	printf("done %ld\n", total);
	fflush(stdout);
	return 0;
}

// ---- reflect: the far host of `traffic.respond: "reflect"` ----
//
// A C transcription of sim/dataplane/responder.ts `reflect` (keep the two in step; the
// test test/live/responder.test.ts compares them byte for byte). Given the Ethernet frame
// buf[0, len) it builds the reply in out[0, cap) and returns its length, or 0 when the
// far host sends nothing: only untagged IPv4/IPv6; no fragments, no extension headers;
// TCP SYN → SYN-ACK (ISN reflect_isn(seq)), FIN → FIN-ACK, data → ACK, anything else
// (RST, SYN-ACK, bare ACK) → nothing; UDP → the payload back; ICMP/ICMPv6 echo request
// (code 0) → echo reply. The reply is a fresh packet: MACs, addresses and ports swapped,
// TTL/hop limit 64, IPv4 ID = the request's and only its DF bit, no options, flow label
// 0, checksums computed in full (a UDP/IPv4 request without checksum gets none).

#define R_ETH_HLEN 14
#define R_TTL 64
#define R_FIN 0x01
#define R_SYN 0x02
#define R_RST 0x04
#define R_ACK 0x10

static uint32_t be16at(const uint8_t *b, size_t o)
{
	return ((uint32_t)b[o] << 8) | b[o + 1];
}

static uint32_t be32at(const uint8_t *b, size_t o)
{
	return ((uint32_t)b[o] << 24) | ((uint32_t)b[o + 1] << 16) | ((uint32_t)b[o + 2] << 8) | b[o + 3];
}

static void put16at(uint8_t *b, size_t o, uint32_t v)
{
	b[o] = (uint8_t)(v >> 8);
	b[o + 1] = (uint8_t)v;
}

static void put32at(uint8_t *b, size_t o, uint32_t v)
{
	b[o] = (uint8_t)(v >> 24);
	b[o + 1] = (uint8_t)(v >> 16);
	b[o + 2] = (uint8_t)(v >> 8);
	b[o + 3] = (uint8_t)v;
}

// One's-complement partial sum of big-endian 16-bit words (odd tail padded with zero).
static uint64_t csum_add(const uint8_t *b, size_t off, size_t len, uint64_t acc)
{
	size_t i = 0;
	for (; i + 1 < len; i += 2)
		acc += be16at(b, off + i);
	if (i < len)
		acc += (uint64_t)b[off + i] << 8;
	return acc;
}

static uint32_t csum_fold(uint64_t acc)
{
	while (acc > 0xffff)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint32_t)acc;
}

// The responder's initial sequence number for a SYN with sequence seq (responder.ts reflectIsn).
static uint32_t reflect_isn(uint32_t seq)
{
	return ((seq ^ 0x5bd1e995u) * 0x9e3779b1u) ^ 0x1234567u;
}

static size_t reflect_frame(const uint8_t *buf, size_t len, uint8_t *out, size_t cap)
{
	if (len < R_ETH_HLEN + 20)
		return 0;
	uint32_t et = be16at(buf, 12);
	const size_t l3 = R_ETH_HLEN;
	size_t l4, l4end;
	int fam;
	uint8_t proto;
	if (et == 0x0800) {
		size_t ihl = (size_t)(buf[l3] & 0x0f) * 4;
		size_t tot = be16at(buf, l3 + 2);
		if ((buf[l3] >> 4) != 4 || ihl < 20 || tot < ihl || l3 + tot > len)
			return 0;
		if ((be16at(buf, l3 + 6) & 0x3fff) != 0)
			return 0; // fragments: no reassembly here
		fam = 4;
		proto = buf[l3 + 9];
		l4 = l3 + ihl;
		l4end = l3 + tot;
	} else if (et == 0x86dd) {
		if (l3 + 40 > len || (buf[l3] >> 4) != 6)
			return 0;
		size_t pl = be16at(buf, l3 + 4);
		if (l3 + 40 + pl > len)
			return 0;
		fam = 6;
		proto = buf[l3 + 6]; // extension headers: not answered
		l4 = l3 + 40;
		l4end = l3 + 40 + pl;
	} else
		return 0;
	const size_t have = l4end - l4;
	const size_t o3 = R_ETH_HLEN;
	const size_t o4 = o3 + (fam == 4 ? 20 : 40);
	size_t rlen; // L4 length of the reply
	if (proto == 6) {
		if (have < 20)
			return 0;
		size_t doff = (size_t)(buf[l4 + 12] >> 4) * 4;
		if (doff < 20 || doff > have)
			return 0;
		uint8_t flags = buf[l4 + 13];
		uint32_t seq = be32at(buf, l4 + 4), ack = be32at(buf, l4 + 8);
		uint32_t dlen = (uint32_t)(have - doff);
		uint32_t rseq, rack;
		uint8_t rflags;
		if (flags & R_RST)
			return 0;
		if ((flags & (R_SYN | R_ACK)) == R_SYN) {
			rseq = reflect_isn(seq);
			rack = seq + 1 + dlen;
			rflags = R_SYN | R_ACK;
		} else if (flags & R_SYN)
			return 0;
		else if (flags & R_FIN) {
			rseq = ack;
			rack = seq + dlen + 1;
			rflags = R_FIN | R_ACK;
		} else if (dlen > 0) {
			rseq = ack;
			rack = seq + dlen;
			rflags = R_ACK;
		} else
			return 0;
		rlen = 20;
		if (cap < o4 + rlen)
			return 0;
		put16at(out, o4, be16at(buf, l4 + 2));
		put16at(out, o4 + 2, be16at(buf, l4));
		put32at(out, o4 + 4, rseq);
		put32at(out, o4 + 8, rack);
		out[o4 + 12] = 0x50;
		out[o4 + 13] = rflags;
		put16at(out, o4 + 14, 65535);
		put16at(out, o4 + 16, 0);
		put16at(out, o4 + 18, 0);
	} else if (proto == 17) {
		if (have < 8)
			return 0;
		rlen = have;
		if (cap < o4 + rlen)
			return 0;
		put16at(out, o4, be16at(buf, l4 + 2));
		put16at(out, o4 + 2, be16at(buf, l4));
		put16at(out, o4 + 4, (uint32_t)rlen);
		put16at(out, o4 + 6, 0);
		memcpy(out + o4 + 8, buf + l4 + 8, have - 8);
	} else if ((proto == 1 && fam == 4) || (proto == 58 && fam == 6)) {
		if (have < 8 || buf[l4] != (fam == 4 ? 8 : 128) || buf[l4 + 1] != 0)
			return 0;
		rlen = have;
		if (cap < o4 + rlen)
			return 0;
		memcpy(out + o4, buf + l4, have);
		out[o4] = fam == 4 ? 0 : 129;
		put16at(out, o4 + 2, 0);
	} else
		return 0;

	// Ethernet: back to where it came from
	memcpy(out, buf + 6, 6);
	memcpy(out + 6, buf, 6);
	put16at(out, 12, et);
	if (fam == 4) {
		out[o3] = 0x45;
		out[o3 + 1] = 0;
		put16at(out, o3 + 2, (uint32_t)(20 + rlen));
		put16at(out, o3 + 4, be16at(buf, l3 + 4));
		put16at(out, o3 + 6, be16at(buf, l3 + 6) & 0x4000);
		out[o3 + 8] = R_TTL;
		out[o3 + 9] = proto;
		put16at(out, o3 + 10, 0);
		memcpy(out + o3 + 12, buf + l3 + 16, 4);
		memcpy(out + o3 + 16, buf + l3 + 12, 4);
		put16at(out, o3 + 10, ~csum_fold(csum_add(out, o3, 20, 0)) & 0xffff);
	} else {
		put32at(out, o3, 0x60000000u);
		put16at(out, o3 + 4, (uint32_t)rlen);
		out[o3 + 6] = proto;
		out[o3 + 7] = R_TTL;
		memcpy(out + o3 + 8, buf + l3 + 24, 16);
		memcpy(out + o3 + 24, buf + l3 + 8, 16);
	}
	// L4 checksum (ICMPv4 has no pseudo-header)
	size_t cs = proto == 6 ? o4 + 16 : proto == 17 ? o4 + 6 : o4 + 2;
	int udp_none = proto == 17 && fam == 4 && be16at(buf, l4 + 6) == 0;
	if (!udp_none) {
		size_t alen = fam == 4 ? 4 : 16;
		uint64_t acc = 0;
		if (proto != 1)
			acc = csum_add(out, o3 + (fam == 4 ? 12 : 8), alen * 2, 0) + proto + rlen;
		acc = csum_add(out, o4, rlen, acc);
		uint32_t c = ~csum_fold(acc) & 0xffff;
		if (proto == 17 && c == 0)
			c = 0xffff;
		put16at(out, cs, c);
	}
	return o4 + rlen;
}

static long parse_frame_size(const char *v)
{
	long n = parse_long(v, "--frame-size");
	if (n < 64 || n > MAX_FRAME)
		die(2, "--frame-size must be 64..262144, not %s", v);
	return n;
}

static int cmd_reflect_file(int argc, char **argv)
{
	const char *in = NULL, *outfile = NULL;
	long cap = 4096;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) die(2, "option %s needs a value", a);
		i++;
		if (!strcmp(a, "--in")) in = v;
		else if (!strcmp(a, "--out")) outfile = v;
		else if (!strcmp(a, "--frame-size")) cap = parse_frame_size(v);
		else die(2, "unknown reflect-file option %s", a);
	}
	if (!in || !outfile)
		die(2, "reflect-file needs --in and --out%s", "");
	struct pcap_in pc;
	load_pcap(in, &pc);
	FILE *f = fopen(outfile, "wb");
	if (!f)
		die(2, "cannot write %s", outfile);
	pcap_header(f);
	static uint8_t rep[MAX_FRAME];
	long idx = 0, answered = 0, ignored = 0;
	size_t off = 24;
	while (off + 16 <= pc.len) {
		uint32_t sec = rd32(&pc, off), frac = rd32(&pc, off + 4), incl = rd32(&pc, off + 8);
		if (incl > MAX_FRAME || off + 16 + incl > pc.len)
			die(2, "%s: truncated or oversized record at the end", in);
		uint64_t ts = (uint64_t)sec * 1000000000ull + (uint64_t)frac * (pc.nsec ? 1u : 1000u);
		size_t n = reflect_frame(pc.buf + off + 16, incl, rep, (size_t)cap);
		if (n > 0) {
			uint32_t rec[4] = { (uint32_t)(ts / 1000000000ull), (uint32_t)(ts % 1000000000ull), (uint32_t)n, (uint32_t)n };
			fwrite(rec, sizeof(rec), 1, f);
			fwrite(rep, 1, n, f);
			printf("answer %ld %zu\n", idx, n);
			answered++;
		} else {
			printf("ignore %ld\n", idx);
			ignored++;
		}
		off += 16 + incl;
		idx++;
	}
	if (fclose(f) != 0)
		die(2, "writing %s failed", outfile);
	printf("done seen %ld answered %ld ignored %ld\n", idx, answered, ignored);
	return 0;
}

static int cmd_reflect(int argc, char **argv)
{
	long max = -1, idle_ms = 0, timeout_ms = 0, cap = 4096, parent = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) die(2, "option %s needs a value", a);
		i++;
		if (!strcmp(a, "--if")) add_port(v);
		else if (!strcmp(a, "--max")) max = parse_long(v, a);
		else if (!strcmp(a, "--idle-ms")) idle_ms = parse_long(v, a);
		else if (!strcmp(a, "--timeout-ms")) timeout_ms = parse_long(v, a);
		else if (!strcmp(a, "--frame-size")) cap = parse_frame_size(v);
		else if (!strcmp(a, "--parent")) parent = parse_long(v, a);
		else die(2, "unknown reflect option %s", a);
	}
	if (nports != 1)
		die(2, "reflect needs exactly one --if [NS:]IF%s", "");

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; // no SA_RESTART: poll() returns EINTR and the loop ends
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (parent > 0) {
		// The Node side going away (even by SIGKILL) ends the responder.
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
			die(3, "prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
		if ((long)getppid() != parent)
			die(3, "the parent process is already gone%s", "");
	}

	// Incoming only (PACKET_IGNORE_OUTGOING): the answers never come back to us.
	open_ports(1, 1, 0);
	struct port *p = &ports[0];
	printf("ready\n");
	fflush(stdout);

	static uint8_t buf[MAX_FRAME + 4];
	static uint8_t rep[MAX_FRAME];
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	uint64_t start = now_ns(CLOCK_MONOTONIC);
	uint64_t last = start;
	long seen = 0, answered = 0, ignored = 0, errors = 0;
	while (!stop_requested && (max < 0 || answered < max)) {
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		uint64_t until = UINT64_MAX;
		if (timeout_ms > 0)
			until = start + (uint64_t)timeout_ms * 1000000ull;
		if (idle_ms > 0 && last + (uint64_t)idle_ms * 1000000ull < until)
			until = last + (uint64_t)idle_ms * 1000000ull;
		if (now >= until)
			break;
		// At most 100 ms per poll: a signal that lands between the stop_requested check
		// and poll() is then seen within that time instead of waiting for a frame.
		uint64_t wait_ms = until == UINT64_MAX ? 100 : (until - now + 999999) / 1000000;
		int r = poll(&pfd, 1, wait_ms > 100 ? 100 : (int)wait_ms);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die(3, "poll: %s", strerror(errno));
		}
		if (!(pfd.revents & POLLIN))
			continue;
		while (!stop_requested && (max < 0 || answered < max)) {
			uint8_t *data = buf + 4;
			char ctl[256];
			struct sockaddr_ll from;
			struct iovec iov = { .iov_base = data, .iov_len = MAX_FRAME };
			struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
			ssize_t n = recvmsg(p->fd, &mh, MSG_DONTWAIT | MSG_TRUNC);
			if (n < 0)
				break;
			if (from.sll_pkttype == PACKET_OUTGOING)
				continue; // never on a kernel that honours PACKET_IGNORE_OUTGOING
			seen++;
			last = now_ns(CLOCK_MONOTONIC);
			if (n > MAX_FRAME) {
				ignored++; // cut off: cannot be answered faithfully
				continue;
			}
			size_t len = (size_t)n;
			for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
				if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
					struct tpacket_auxdata aux;
					memcpy(&aux, CMSG_DATA(c), sizeof(aux));
					// The frame is judged as it was on the wire (reflect answers untagged frames only).
					len += restore_vlan_tag(&aux, buf, &data, len);
				}
			}
			size_t rn = reflect_frame(data, len, rep, (size_t)cap);
			if (rn == 0) {
				ignored++;
				continue;
			}
			ssize_t w = send(p->fd, rep, rn, 0);
			if (w == (ssize_t)rn)
				answered++;
			else
				errors++;
		}
	}
	printf("done seen %ld answered %ld ignored %ld errors %ld\n", seen, answered, ignored, errors);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die(2, "usage: xdplab-pktio inject|capture|reflect|reflect-file [options] (see the source header)%s", "");
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "inject") || !strcmp(argv[1], "capture")) {
		/* Die with whoever started us (the Node side of a live run): after a kill -9 of
		 * the run, a capture or an injection must not outlive it in the lab's namespaces. */
		pid_t starter = getppid();
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
			die(3, "prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
		if (getppid() != starter)
			die(3, "the parent process is already gone%s", "");
	}
	if (!strcmp(argv[1], "inject"))
		return cmd_inject(argc - 2, argv + 2);
	if (!strcmp(argv[1], "capture"))
		return cmd_capture(argc - 2, argv + 2);
	if (!strcmp(argv[1], "reflect"))
		return cmd_reflect(argc - 2, argv + 2);
	if (!strcmp(argv[1], "reflect-file"))
		return cmd_reflect_file(argc - 2, argv + 2);
	die(2, "unknown command %s (inject, capture, reflect or reflect-file)", argv[1]);
	return 2;
}
