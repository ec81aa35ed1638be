/* SPDX-License-Identifier: BSD-2-Clause */
/* Standalone driver for the ASan+UBSan build (make -C native sanitize): reads classic
 * pcap files (Ethernet link type) and pushes every frame through the native worker's
 * parse/dataplane path twice — once bare (xl_dataplane_process on a copy) and once
 * through the whole poll loop with a minimal kernel played here: fill ring → RX ring with
 * a metadata block in front of the frame, poll_rx/poll_tx, TX ring → completion ring.
 * The worker has NAT (SNAT with a narrow port range and a small session table, DNAT,
 * CHECKSUM_PARTIAL on generic attach); frames sent on the wan side are reflected back
 * (addresses and ports swapped) so replies take the reverse-NAT path, and the session
 * timers run. A second pass repeats the corpus with every NAT bug switch on.
 * Not through Node, which would need the sanitizer runtime preloaded.
 * Usage: offline_driver_asan FILE.pcap...   (prints a one-line summary; exit 0) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include "../src/worker_int.h"
#include "../../bpf/xdplab_abi.h"

#define FRAMES 64
#define FRAME_SIZE 2048
#define RING 16
#define RX_DATA_OFF 256

static uint8_t *mem;
static int fill_off, comp_off, rx_off, tx_off;

static uint32_t *hdr(int off) { return (uint32_t *)(mem + off); }
static uint64_t *addr_slot(int off, uint32_t i) { return (uint64_t *)(mem + off + 16) + (i & (RING - 1)); }
static struct xdp_desc *desc_slot(int off, uint32_t i) { return (struct xdp_desc *)(mem + off + 16) + (i & (RING - 1)); }

static struct xl_worker *make_worker(uint32_t bugs)
{
	struct xl_worker *w = xl_worker_open(2, 2, FRAMES, FRAME_SIZE, 0, 8, 8, 1, 8, 1, bugs, 4, 1e6, 150, 1, 1, 1);
	if (!w) abort();
	uint8_t mac0[6] = { 2, 0, 0, 0, 1, 1 }, mac1[6] = { 2, 0, 0, 0, 2, 1 }, gw[6] = { 2, 0, 0, 0, 2, 2 };
	uint8_t a0[16] = { 198, 18, 1, 1 }, a1[16] = { 198, 19, 2, 1 }, any[16] = { 0 }, via[16] = { 198, 19, 2, 2 };
	uint8_t a6[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 };
	xl_worker_configure_iface(w, 0, mac0, 1500, 1);
	xl_worker_configure_iface(w, 1, mac1, 1400, 1);
	xl_worker_configure_addr(w, 0, 4, a0, 24);
	xl_worker_configure_addr(w, 0, 6, a6, 64);
	xl_worker_configure_addr(w, 1, 4, a1, 24);
	xl_worker_configure_route(w, 4, any, 0, 0, 1, via, 1);
	xl_worker_configure_route(w, 6, any, 0, 0, 0, any, 0);
	xl_worker_configure_route(w, 4, a0, 24, 0, 0, any, 0);
	xl_worker_configure_neighbor(w, 4, via, gw, 1, 0);
	uint8_t partial[2] = { 1, 0 }, dnat_to[16] = { 198, 18, 1, 10 }, pool6[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 1, 0 };
	if (xl_worker_configure_nat(w, 1, 1, partial, 256) != 0) abort();
	if (xl_worker_configure_snat(w, 1, 4, a0, 24, 1, 40000, 40003) != 0) abort();
	int r6 = xl_worker_configure_snat(w, 1, 0, any, 0, 0, 1024, 65535);
	if (r6 < 0 || xl_worker_configure_snat_pool(w, r6, 6, pool6, 126) != 0) abort();
	if (xl_worker_configure_dnat(w, 1, 17, 4, a1, 8080, dnat_to, 80) != 0) abort();
	if (xl_worker_configure_dnat(w, 1, 0, 4, a1, -1, dnat_to, -1) != 0) abort();
	xl_worker_configure_rule(w, 0, 17, -1, -1, 0, any, 0, 0, any, 0, 7, 7);
	xl_worker_configure_binding(w, 0, 0, 0, 2, 0);
	xl_worker_configure_binding(w, 1, 1, 0, 3, 1);
	if (xl_worker_ready(w) != 0) abort();
	return w;
}

/* Each binding has its own socket memory (UMEM then fill, comp, RX, TX rings). */
static uint8_t *mems[2];

static void setup_socket(struct xl_worker *w, int b)
{
	int umem = FRAMES * FRAME_SIZE;
	fill_off = umem;
	comp_off = fill_off + 16 + RING * 8;
	rx_off = comp_off + 16 + RING * 8;
	tx_off = rx_off + 16 + RING * 16;
	mems[b] = aligned_alloc(4096, ((tx_off + 16 + RING * 16) + 4095) & ~4095);
	memset(mems[b], 0, tx_off + 16 + RING * 16);
	mem = mems[b];
	if (xl_worker_attach(w, b, mem, fill_off, RING, comp_off, RING, rx_off, RING, tx_off, RING) != 0) abort();
	int bytes;
	int32_t *s = xl_worker_region(w, XL_REG_BSCALARS, b, &bytes);
	int32_t *pf = xl_worker_region(w, XL_REG_PENDING_FILL, b, &bytes);
	int32_t *ft = xl_worker_region(w, XL_REG_FREE_TX, b, &bytes);
	uint32_t *cache = xl_worker_region(w, XL_REG_RING_CACHE, b, &bytes);
	s[XL_B_LIVE] = 1;
	s[XL_B_RX_FRAMES] = RING;
	for (int f = 0; f < RING; f++) pf[s[XL_B_PENDING_FILL_COUNT]++] = f;
	for (int f = FRAMES - 1; f >= RING; f--) ft[s[XL_B_FREE_TX_COUNT]++] = f;
	cache[1] = RING; /* fill: cached_cons = consumer + size */
	cache[5] = RING; /* tx */
}

/* The kernel side for binding b: deliver one frame (or drop it when the fill ring is empty). */
static int kernel_rcv(int b, const uint8_t *frame, int len)
{
	mem = mems[b];
	if (len > FRAME_SIZE - RX_DATA_OFF) return -1;
	if (*hdr(fill_off) == *hdr(fill_off + 4)) return -1; /* fill empty */
	if (*hdr(rx_off) - *hdr(rx_off + 4) >= RING) return -1; /* rx full */
	uint64_t base = *addr_slot(fill_off, *hdr(fill_off + 4));
	*hdr(fill_off + 4) += 1;
	base -= base % FRAME_SIZE;
	uint64_t data = base + RX_DATA_OFF;
	struct xdplab_meta m;
	memset(&m, 0, sizeof(m));
	m.magic = XDPLAB_META_MAGIC;
	m.version = XDPLAB_META_VERSION;
	m.config_gen = 1;
	m.fib_gen = 1;
	struct xl_view v;
	if (xl_decode_eth(&v, frame, 0, len) == 0 && v.ip_version != 0) {
		m.ip_version = v.ip_version;
		m.ip_proto = v.ip_proto;
		memcpy(m.src_addr, frame + v.src_off, v.addr_len);
		memcpy(m.dst_addr, frame + v.dst_off, v.addr_len);
		m.src_port = v.src_port >= 0 ? v.src_port : v.icmp_id >= 0 ? v.icmp_id : 0;
		m.dst_port = v.dst_port >= 0 ? v.dst_port : 0;
	}
	memcpy(mem + data - sizeof(m), &m, sizeof(m));
	memcpy(mem + data, frame, len);
	struct xdp_desc *d = desc_slot(rx_off, *hdr(rx_off));
	d->addr = data;
	d->len = len;
	d->options = 0;
	*hdr(rx_off) += 1;
	return 0;
}

/* The far host on the wan side: the frame back with MACs, addresses and ports swapped
 * (the checksums stay valid: a swap does not change a one's-complement sum). */
static uint8_t reply_buf[FRAME_SIZE];
static int reply_len;

static void swap(uint8_t *a, uint8_t *b, int n)
{
	for (int i = 0; i < n; i++) {
		uint8_t t = a[i];
		a[i] = b[i];
		b[i] = t;
	}
}

static void reflect(const uint8_t *f, int len)
{
	if (len < 34 || len > FRAME_SIZE) return;
	memcpy(reply_buf, f, len);
	uint8_t *p = reply_buf;
	swap(p, p + 6, 6);
	int et = p[12] << 8 | p[13], l4 = -1, proto = -1;
	if (et == 0x0800) {
		swap(p + 26, p + 30, 4);
		l4 = 14 + (p[14] & 15) * 4;
		proto = p[23];
		if ((p[20] << 8 | p[21]) & 0x3fff) l4 = -1;
	} else if (et == 0x86dd && len >= 54) {
		swap(p + 22, p + 38, 16);
		l4 = 54;
		proto = p[20];
	}
	if (l4 > 0 && l4 + 4 <= len && (proto == 6 || proto == 17)) swap(p + l4, p + l4 + 2, 2);
	reply_len = len;
}

/* sendto + instant completion: every TX descriptor is completed at once. */
static void kernel_xmit(int b, uint64_t *sent)
{
	mem = mems[b];
	while (*hdr(tx_off + 4) != *hdr(tx_off)) {
		if (*hdr(comp_off) - *hdr(comp_off + 4) >= RING) break;
		struct xdp_desc *d = desc_slot(tx_off, *hdr(tx_off + 4));
		if (d->len == 0 || d->addr + d->len > (uint64_t)FRAMES * FRAME_SIZE) abort();
		if (b == 1) reflect(mem + d->addr, (int)d->len);
		*addr_slot(comp_off, *hdr(comp_off)) = d->addr;
		*hdr(comp_off) += 1;
		*hdr(tx_off + 4) += 1;
		(*sent)++;
	}
}

struct totals { uint64_t frames, bare, dropped_rcv, sent, replies; double rx, dropped, to_kernel, icmp, installs, expired, steer; };

static void pass(uint32_t bugs, int argc, char **argv, struct totals *t)
{
	struct xl_worker *w = make_worker(bugs);
	setup_socket(w, 0);
	setup_socket(w, 1);
	int bytes;
	int32_t *ws = xl_worker_region(w, XL_REG_WSCALARS, 0, &bytes);
	double now = 0;
	static uint8_t pkt[65536 + 64], copy[65536 + 64];
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) continue;
		uint8_t gh[24];
		if (fread(gh, 1, 24, f) != 24) { fclose(f); continue; }
		uint32_t magic = gh[0] | gh[1] << 8 | gh[2] << 16 | (uint32_t)gh[3] << 24;
		int swap;
		if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) swap = 0;
		else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) swap = 1;
		else { fclose(f); continue; }
#define RD32(p) (swap ? ((uint32_t)(p)[0] << 24 | (p)[1] << 16 | (p)[2] << 8 | (p)[3]) : ((p)[0] | (p)[1] << 8 | (p)[2] << 16 | (uint32_t)(p)[3] << 24))
		if ((RD32(gh + 20) & 0xffff) != 1) { fclose(f); continue; } /* Ethernet only */
		uint8_t rh[16];
		while (fread(rh, 1, 16, f) == 16) {
			uint32_t incl = RD32(rh + 8);
			if (incl > 65536) break;
			if (fread(pkt, 1, incl, f) != incl) break;
			t->frames++;
			/* bare dataplane on a copy (the frame bytes exactly as captured) */
			memcpy(copy, pkt, incl);
			xl_dataplane_process(w, copy, (int)incl, 0, now, NULL, NULL, NULL);
			t->bare++;
			/* the whole loop; ingress alternates so both bindings' paths run */
			int b = t->frames & 1;
			if (kernel_rcv(b, pkt, (int)incl) != 0) t->dropped_rcv++;
			if (reply_len > 0) {
				/* last round's reflected frame comes back on the wan side */
				if (kernel_rcv(1, reply_buf, reply_len) == 0) t->replies++;
				reply_len = 0;
			}
			now += 1000;
			xl_worker_poll_rx(w, now);
			if (ws[XL_W_OVERFLOW]) abort();
			xl_worker_poll_tx(w, now + 500);
			if (ws[XL_W_OVERFLOW]) abort();
			if (t->frames % 64 == 0) xl_worker_timers(w, now + 600);
			kernel_xmit(0, &t->sent);
			kernel_xmit(1, &t->sent);
		}
		fclose(f);
	}
	for (int k = 0; k < 8; k++) {
		now += 1e6;
		xl_worker_poll_rx(w, now);
		xl_worker_poll_tx(w, now);
		kernel_xmit(0, &t->sent);
		kernel_xmit(1, &t->sent);
	}
	/* every session times out (the longest non-TCP-established timer is 600 s) */
	for (int k = 0; k < 70; k++) xl_worker_timers(w, now + 1e12);
	double *c = xl_worker_region(w, XL_REG_COUNTERS, 0, &bytes);
	double *ns = xl_worker_region(w, XL_REG_NAT_STATS, 0, &bytes);
	t->rx += c[XL_C_RX];
	t->dropped += c[XL_C_DROPPED];
	t->to_kernel += c[XL_C_TO_KERNEL];
	t->icmp += c[XL_C_ICMP_GENERATED];
	t->installs += ns[XL_NS_INSTALLS];
	t->expired += c[XL_C_SESSIONS_EXPIRED];
	xl_worker_close(w);
	free(mems[0]);
	free(mems[1]);
	reply_len = 0;
}

int main(int argc, char **argv)
{
	struct totals t;
	memset(&t, 0, sizeof(t));
	pass(0, argc, argv, &t);
	uint32_t nat_bugs = XL_BUG_TUPLE_FROM_MUTATED_FRAME | XL_BUG_PORTS_FROM_STALE_FRAME | XL_BUG_REVERSE_INDEX_OVERWRITE |
			    XL_BUG_EMBEDDED_ICMP_NO_SWAP | XL_BUG_RST_TEARS_DOWN | XL_BUG_SESSION_AFTER_NEIGHBOR |
			    XL_BUG_SNAT_PORT_COLLISION | XL_BUG_SIGN_FLIPPED_DELTA | XL_BUG_PARTIAL_CSUM_AS_FULL |
			    XL_BUG_PORT_ONLY_NAT_NO_CSUM | XL_BUG_FRAGMENTS_LOSE_SESSION | XL_BUG_IGNORE_MTU;
	pass(nat_bugs, argc, argv, &t);
	pass(XL_BUG_NO_REVERSE_INDEX | XL_BUG_REPLY_MISS_GOES_TO_KERNEL, argc, argv, &t);
	printf("frames %llu bare %llu rcv_dropped %llu sent %llu worker_rx %.0f dropped %.0f to_kernel %.0f icmp %.0f "
	       "replies %llu sessions %.0f expired %.0f\n",
	       (unsigned long long)t.frames, (unsigned long long)t.bare, (unsigned long long)t.dropped_rcv,
	       (unsigned long long)t.sent, t.rx, t.dropped, t.to_kernel, t.icmp, (unsigned long long)t.replies, t.installs,
	       t.expired);
	return 0;
}
