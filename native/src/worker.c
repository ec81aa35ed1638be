/* SPDX-License-Identifier: BSD-2-Clause */
/* The native worker's poll loop (mirror of sim/worker/worker.ts, function by function:
 * poll_rx/poll_tx, reap, recycle, submit_fill, drain_tx, process_one, enqueue_tx,
 * enqueue_copy, drain_local, retry_held). Rings are driven with libxdp's inline helpers
 * (<xdp/xsk.h>) over memory the caller attached; frame lists, pending TX queues and held
 * packets live in regions the caller can map (xl_worker_region). The worker-side bug
 * switches of CATALOGUE B are the XL_BUG_* bits. What the TS worker reports to the
 * tracker/sink/kernel is appended to the event buffer instead (see xl_worker.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "worker_int.h"
#include "../../bpf/xdplab_abi.h"

/* live.c: per-reason counters of the live thread; one steering-log entry applied to the
 * shims' session maps (counts steer_added/removed/refused) */
void xl_live_count_reason(struct xl_worker *w, int reason);
void xl_live_steer(struct xl_worker *w, int op, const uint32_t *k);

#define TXQ_LOCAL 1
#define TXQ_PREPARED 2
#define TXQ_INPLACE 3


/* ---- events ------------------------------------------------------------------------ */

static struct xl_event *ev_new(struct xl_worker *w, int kind, int id, double t)
{
	if (w->live_mode) {
		/* Live: nobody replays events; the kernel acts on its own. Scratch only. */
		memset(&w->live_scratch, 0, sizeof(w->live_scratch));
		return &w->live_scratch;
	}
	int n = WS(w, EVENT_COUNT);
	if (n >= w->ev_cap) {
		WS(w, OVERFLOW) = 1;
		n = w->ev_cap - 1; /* overwrite the last: the caller refuses the run anyway */
	} else {
		WS(w, EVENT_COUNT) = n + 1;
	}
	struct xl_event *e = &w->ev[n];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->id = id;
	e->t = t;
	return e;
}

static void ev_bytes(struct xl_worker *w, struct xl_event *e, const uint8_t *src, int len)
{
	if (w->live_mode) return;
	int used = WS(w, ARENA_USED);
	if (len < 0 || used + len > w->arena_cap) {
		WS(w, OVERFLOW) = 1;
		return;
	}
	memcpy(w->arena + used, src, len);
	e->off = used;
	e->len = len;
	WS(w, ARENA_USED) = used + len;
}

/* ---- configuration --------------------------------------------------------------- */

struct xl_worker *xl_worker_open(int nbindings, int nifaces, int frames, int frame_size, int headroom, int batch,
				 int max_pending_tx, int reap_every, int tx_budget, int copy_mode, uint32_t bugs,
				 int neigh_hold_max, double neigh_hold_ns, double per_packet_ns, int icmp_errors,
				 int default_permit, int want_path)
{
	if (nbindings <= 0 || nifaces <= 0 || frames <= 0 || frame_size < 2048) return NULL;
	struct xl_worker *w = calloc(1, sizeof(*w));
	if (!w) return NULL;
	w->nb = nbindings;
	w->nifaces = nifaces;
	w->expiry_rescan = 1;
	w->frames = frames;
	w->frame_size = frame_size;
	w->headroom = headroom;
	w->rx_data_off = headroom + XL_XDP_PACKET_HEADROOM;
	w->batch = batch;
	w->max_pending_tx = max_pending_tx;
	w->reap_every = reap_every < 1 ? 1 : reap_every;
	w->tx_batch = batch > tx_budget ? batch : tx_budget;
	w->copy_mode = copy_mode;
	w->bugs = bugs;
	w->held_max = neigh_hold_max < 1 ? 1 : neigh_hold_max;
	w->neigh_hold_ns = neigh_hold_ns;
	w->per_packet_ns = per_packet_ns;
	w->want_path = want_path;
	w->dp.icmp_errors = icmp_errors;
	w->dp.default_permit = default_permit;
	w->dp.ignore_mtu = (bugs & XL_BUG_IGNORE_MTU) != 0;
	w->dp.nifaces = nifaces;
	w->dp.ifaces = calloc(nifaces, sizeof(struct xl_iface));
	w->b = calloc(nbindings, sizeof(struct xl_bind));
	w->ws = calloc(XL_W_NSCALARS, sizeof(int32_t));
	w->c = calloc(XL_C_COUNT, sizeof(double));
	w->csum_partial_if = calloc(nifaces, 1);
	if (!w->dp.ifaces || !w->b || !w->ws || !w->c || !w->csum_partial_if) {
		xl_worker_close(w);
		return NULL;
	}
	for (int i = 0; i < nbindings; i++) {
		struct xl_bind *bb = &w->b[i];
		bb->s = calloc(XL_B_NSCALARS, sizeof(int32_t));
		bb->times = calloc(2, sizeof(double));
		bb->cache = calloc(8, sizeof(uint32_t));
		bb->frame_id = malloc(frames * sizeof(int32_t));
		bb->free_tx = calloc(frames, sizeof(int32_t));
		bb->pending_fill = calloc(frames, sizeof(int32_t));
		bb->prep_frame = calloc(frames, sizeof(int32_t));
		bb->prep_len = calloc(frames, sizeof(int32_t));
		if (!bb->s || !bb->times || !bb->cache || !bb->frame_id || !bb->free_tx || !bb->pending_fill ||
		    !bb->prep_frame || !bb->prep_len) {
			xl_worker_close(w);
			return NULL;
		}
		for (int f = 0; f < frames; f++) bb->frame_id[f] = -1;
		bb->s[XL_B_FRAMES] = frames;
		bb->times[0] = -1;
	}
	WS(w, CONFIG_GEN) = 1;
	WS(w, FIB_GEN) = 1;
	return w;
}

int xl_worker_configure_iface(struct xl_worker *w, int iface, const uint8_t *mac, int mtu, int queues)
{
	if (iface < 0 || iface >= w->nifaces) return -EINVAL;
	memcpy(w->dp.ifaces[iface].mac, mac, 6);
	w->dp.ifaces[iface].mtu = mtu;
	w->dp.ifaces[iface].queues = queues;
	if (queues > w->max_queues) w->max_queues = queues;
	return 0;
}

int xl_worker_configure_addr(struct xl_worker *w, int iface, int family, const uint8_t *bytes, int plen)
{
	if (iface < 0 || iface >= w->nifaces) return -EINVAL;
	struct xl_iface *ifc = &w->dp.ifaces[iface];
	if (ifc->naddrs >= (int)(sizeof(ifc->addrs) / sizeof(ifc->addrs[0]))) return -ENOSPC;
	struct xl_addr *a = &ifc->addrs[ifc->naddrs++];
	a->family = family;
	memcpy(a->bytes, bytes, family == 4 ? 4 : 16);
	a->plen = plen;
	return 0;
}

#define GROW(arr, n, cap)                                                        \
	do {                                                                     \
		if ((n) == (cap)) {                                              \
			int nc = (cap) ? (cap) * 2 : 8;                          \
			void *p = realloc((arr), (size_t)nc * sizeof(*(arr)));   \
			if (!p) return -ENOMEM;                                  \
			(arr) = p;                                               \
			(cap) = nc;                                              \
		}                                                                \
	} while (0)

int xl_worker_configure_route(struct xl_worker *w, int family, const uint8_t *prefix, int plen, double metric, int has_via,
			      const uint8_t *via, int iface)
{
	struct xl_dp *dp = &w->dp;
	GROW(dp->routes, dp->nroutes, dp->cap_routes);
	struct xl_route *r = &dp->routes[dp->nroutes++];
	memset(r, 0, sizeof(*r));
	r->family = family;
	memcpy(r->prefix, prefix, family == 4 ? 4 : 16);
	r->plen = plen;
	r->metric = metric;
	r->has_via = has_via;
	if (has_via) memcpy(r->via, via, family == 4 ? 4 : 16);
	r->iface = iface;
	return 0;
}

int xl_worker_configure_neighbor(struct xl_worker *w, int family, const uint8_t *ip, const uint8_t *mac, int iface,
				 double at_ns)
{
	struct xl_dp *dp = &w->dp;
	GROW(dp->neigh, dp->nneigh, dp->cap_neigh);
	struct xl_neigh *e = &dp->neigh[dp->nneigh++];
	memset(e, 0, sizeof(*e));
	e->family = family;
	memcpy(e->ip, ip, family == 4 ? 4 : 16);
	memcpy(e->mac, mac, 6);
	e->iface = iface;
	e->resolve_at = at_ns;
	return 0;
}

int xl_worker_configure_rule(struct xl_worker *w, int permit, int proto, int ingress, int egress, int src_family,
			     const uint8_t *src, int src_len, int dst_family, const uint8_t *dst, int dst_len, int dport_lo,
			     int dport_hi)
{
	struct xl_dp *dp = &w->dp;
	GROW(dp->rules, dp->nrules, dp->cap_rules);
	struct xl_rule *r = &dp->rules[dp->nrules++];
	memset(r, 0, sizeof(*r));
	r->permit = permit;
	r->proto = proto;
	r->ingress = ingress;
	r->egress = egress;
	if (src_family) {
		r->has_src = 1;
		r->src.family = src_family;
		memcpy(r->src.bytes, src, 16);
		r->src.plen = src_len;
	}
	if (dst_family) {
		r->has_dst = 1;
		r->dst.family = dst_family;
		memcpy(r->dst.bytes, dst, 16);
		r->dst.plen = dst_len;
	}
	r->dport_lo = dport_lo;
	r->dport_hi = dport_hi;
	return 0;
}

int xl_worker_configure_binding(struct xl_worker *w, int b, int iface, int queue, int ifindex, int slot)
{
	if (b < 0 || b >= w->nb) return -EINVAL;
	int32_t *s = w->b[b].s;
	s[XL_B_IFACE] = iface;
	s[XL_B_QUEUE] = queue;
	s[XL_B_IFINDEX] = ifindex;
	s[XL_B_SLOT] = slot;
	return 0;
}

int xl_worker_configure_nat(struct xl_worker *w, double seed, int generic, const uint8_t *csum_partial, int sessions)
{
	if (w->nat_ready) return -EALREADY;
	if (sessions <= 0) sessions = XL_DEFAULT_SESSIONS;
	if (xl_dp_nat_init(&w->dp, seed, generic, w->bugs, sessions) != 0) return -ENOMEM;
	if (csum_partial) memcpy(w->csum_partial_if, csum_partial, w->nifaces);
	w->nat_ready = 1;
	return 0;
}

int xl_worker_configure_snat(struct xl_worker *w, int egress, int from_family, const uint8_t *from, int from_len,
			     int is_interface, int port_lo, int port_hi)
{
	struct xl_nat *n = &w->dp.nat;
	if (!w->nat_ready || egress < 0 || egress >= w->nifaces) return -EINVAL;
	if (n->nsnat == n->cap_snat) {
		int cap = n->cap_snat ? n->cap_snat * 2 : 8;
		struct xl_snat_rule *r = realloc(n->snat, cap * sizeof(*r));
		if (!r) return -ENOMEM;
		n->snat = r;
		n->cap_snat = cap;
	}
	struct xl_snat_rule *r = &n->snat[n->nsnat];
	memset(r, 0, sizeof(*r));
	r->egress = egress;
	r->has_from = from_family != 0;
	r->from_family = from_family;
	r->from_plen = from_len;
	if (from) memcpy(r->from, from, 16);
	r->is_interface = is_interface;
	r->lo = port_lo;
	r->hi = port_hi;
	r->specified = !(port_lo == 1024 && port_hi == 65535);
	return n->nsnat++;
}

int xl_worker_configure_snat_pool(struct xl_worker *w, int rule, int family, const uint8_t *bytes, int prefix_len)
{
	struct xl_nat *n = &w->dp.nat;
	if (rule < 0 || rule >= n->nsnat) return -EINVAL;
	struct xl_snat_rule *r = &n->snat[rule];
	int host_bits = (family == 4 ? 32 : 128) - prefix_len;
	if (host_bits < 0) return -EINVAL;
	int count = 1 << (host_bits < 16 ? host_bits : 16);
	uint32_t *pool = realloc(r->pool, (size_t)(r->npool + count) * 4 * sizeof(uint32_t));
	if (!pool) return -ENOMEM;
	r->pool = pool;
	uint8_t *fam = realloc(r->pool_fam, (size_t)(r->npool + count));
	if (!fam) return -ENOMEM;
	r->pool_fam = fam;
	uint32_t wd[4];
	for (int j = 0; j < 4; j++)
		wd[j] = ((uint32_t)bytes[j * 4] << 24) | ((uint32_t)bytes[j * 4 + 1] << 16) | ((uint32_t)bytes[j * 4 + 2] << 8) | bytes[j * 4 + 3];
	for (int i = 0; i < count; i++) {
		uint32_t *o = r->pool + (size_t)(r->npool + i) * 4;
		if (family == 4) {
			o[0] = wd[0] + (uint32_t)i;
			o[1] = o[2] = o[3] = 0;
		} else {
			for (int j = 0; j < 4; j++) o[j] = wd[j] + (j == 3 ? (uint32_t)i : 0);
		}
		r->pool_fam[r->npool + i] = (uint8_t)family;
	}
	r->npool += count;
	return 0;
}

int xl_worker_configure_dnat(struct xl_worker *w, int ingress, int proto, int family, const uint8_t *dst, int port,
			     const uint8_t *to, int to_port)
{
	struct xl_nat *n = &w->dp.nat;
	if (!w->nat_ready) return -EINVAL;
	if (n->ndnat == n->cap_dnat) {
		int cap = n->cap_dnat ? n->cap_dnat * 2 : 8;
		struct xl_dnat_rule *r = realloc(n->dnat, cap * sizeof(*r));
		if (!r) return -ENOMEM;
		n->dnat = r;
		n->cap_dnat = cap;
	}
	struct xl_dnat_rule *r = &n->dnat[n->ndnat++];
	memset(r, 0, sizeof(*r));
	r->ingress = ingress;
	r->proto = proto;
	r->family = family;
	memcpy(r->dst, dst, 16);
	r->port = port;
	memcpy(r->to, to, 16);
	r->to_port = to_port;
	return 0;
}

int xl_worker_ready(struct xl_worker *w)
{
	if (!w->nat_ready) {
		int rc = xl_worker_configure_nat(w, 0, 0, NULL, XL_DEFAULT_SESSIONS);
		if (rc != 0) return rc;
	}
	xl_dp_nat_addrs(&w->dp);
	if (w->max_queues < 1) w->max_queues = 1;
	w->binding_at = malloc((size_t)w->nifaces * w->max_queues * sizeof(int32_t));
	if (!w->binding_at) return -ENOMEM;
	for (int i = 0; i < w->nifaces * w->max_queues; i++) w->binding_at[i] = -1;
	for (int i = 0; i < w->nb; i++) {
		int32_t *s = w->b[i].s;
		w->binding_at[s[XL_B_IFACE] * w->max_queues + s[XL_B_QUEUE]] = i;
	}
	/* pending_tx_local: bounded by maxPendingTx; with unboundedPendingTx every frame of
	 * every binding plus the ICMP copies can queue (the model grows instead). */
	int cap = w->max_pending_tx > 16 ? w->max_pending_tx : 16;
	if (w->bugs & XL_BUG_UNBOUNDED_PENDING_TX) cap += w->nb * w->frames + 4096;
	w->local_cap = cap;
	w->local_buf = malloc((size_t)cap * w->frame_size);
	w->local_egress = calloc(cap, sizeof(int32_t));
	w->local_len = calloc(cap, sizeof(int32_t));
	w->local_id = calloc(cap, sizeof(int32_t));
	w->local_ref_b = calloc(cap, sizeof(int32_t));
	w->local_ref_f = calloc(cap, sizeof(int32_t));
	int hm = w->held_max;
	w->held_b = calloc(hm, sizeof(int32_t));
	w->held_f = calloc(hm, sizeof(int32_t));
	w->held_len = calloc(hm, sizeof(int32_t));
	w->held_id = calloc(hm, sizeof(int32_t));
	w->held_egress = calloc(hm, sizeof(int32_t));
	w->held_family = calloc(hm, sizeof(int32_t));
	w->held_nexthop = calloc(hm, 16);
	w->held_deadline = calloc(hm, sizeof(double));
	/* One call touches at most: the RX batches, the held list, the local queue, and the
	 * ICMP copies they generate; each packet writes a handful of events. */
	int per_call = w->nb * (w->batch > 0 ? w->batch : 1) + hm + cap + 16;
	/* + steering: ≤ 2 keys removed and 2 added per packet, 2 per expired session (timers) */
	w->ev_cap = per_call * 16 + 2 * 4096 + 64;
	w->ev = calloc(w->ev_cap, sizeof(struct xl_event));
	w->arena_cap = per_call * 2 * (w->frame_size > XL_GEN_BUF_SIZE ? w->frame_size : XL_GEN_BUF_SIZE);
	w->arena = malloc(w->arena_cap);
	if (!w->local_buf || !w->local_egress || !w->local_len || !w->local_id || !w->local_ref_b || !w->local_ref_f ||
	    !w->held_b || !w->held_f || !w->held_len || !w->held_id || !w->held_egress || !w->held_family ||
	    !w->held_nexthop || !w->held_deadline || !w->ev || !w->arena)
		return -ENOMEM;
	WS(w, LOCAL_CAP) = cap;
	w->is_ready = 1;
	return 0;
}

void *xl_worker_region(struct xl_worker *w, int region, int b, int *bytes)
{
	struct xl_bind *bb = (b >= 0 && b < w->nb) ? &w->b[b] : &w->b[0];
	int fr = w->frames * (int)sizeof(int32_t);
	int lc = w->local_cap * (int)sizeof(int32_t);
	int hm = w->held_max * (int)sizeof(int32_t);
	void *p = NULL;
	int n = 0;
	switch (region) {
	case XL_REG_FRAME_ID: p = bb->frame_id; n = fr; break;
	case XL_REG_FREE_TX: p = bb->free_tx; n = fr; break;
	case XL_REG_PENDING_FILL: p = bb->pending_fill; n = fr; break;
	case XL_REG_PREP_FRAME: p = bb->prep_frame; n = fr; break;
	case XL_REG_PREP_LEN: p = bb->prep_len; n = fr; break;
	case XL_REG_BSCALARS: p = bb->s; n = XL_B_NSCALARS * 4; break;
	case XL_REG_BTIMES: p = bb->times; n = 16; break;
	case XL_REG_RING_CACHE: p = bb->cache; n = 32; break;
	case XL_REG_WSCALARS: p = w->ws; n = XL_W_NSCALARS * 4; break;
	case XL_REG_COUNTERS: p = w->c; n = XL_C_COUNT * 8; break;
	case XL_REG_SESS_ORIG: p = w->dp.nat.sessions.orig; n = w->dp.nat.sessions.capacity * XL_KEY_WORDS * 4; break;
	case XL_REG_SESS_REPLY: p = w->dp.nat.sessions.reply; n = w->dp.nat.sessions.capacity * XL_KEY_WORDS * 4; break;
	case XL_REG_SESS_STATE: p = w->dp.nat.sessions.state; n = w->dp.nat.sessions.capacity; break;
	case XL_REG_SESS_FLAGS: p = w->dp.nat.sessions.flags; n = w->dp.nat.sessions.capacity; break;
	case XL_REG_SESS_EXPIRES: p = w->dp.nat.sessions.expires; n = w->dp.nat.sessions.capacity * 8; break;
	case XL_REG_SESS_EGRESS: p = w->dp.nat.sessions.egress_if; n = w->dp.nat.sessions.capacity * 2; break;
	case XL_REG_SESS_GEN: p = w->dp.nat.sessions.gen; n = w->dp.nat.sessions.capacity * 4; break;
	case XL_REG_NAT_STATS: p = w->dp.nat.sessions.stats; n = XL_NS_COUNT * 8; break;
	case XL_REG_LOCAL_BUF: p = w->local_buf; n = w->local_cap * w->frame_size; break;
	case XL_REG_LOCAL_EGRESS: p = w->local_egress; n = lc; break;
	case XL_REG_LOCAL_LEN: p = w->local_len; n = lc; break;
	case XL_REG_LOCAL_ID: p = w->local_id; n = lc; break;
	case XL_REG_LOCAL_REF_B: p = w->local_ref_b; n = lc; break;
	case XL_REG_LOCAL_REF_F: p = w->local_ref_f; n = lc; break;
	case XL_REG_HELD_B: p = w->held_b; n = hm; break;
	case XL_REG_HELD_F: p = w->held_f; n = hm; break;
	case XL_REG_HELD_LEN: p = w->held_len; n = hm; break;
	case XL_REG_HELD_ID: p = w->held_id; n = hm; break;
	case XL_REG_HELD_EGRESS: p = w->held_egress; n = hm; break;
	case XL_REG_HELD_FAMILY: p = w->held_family; n = hm; break;
	case XL_REG_HELD_NEXTHOP: p = w->held_nexthop; n = w->held_max * 16; break;
	case XL_REG_HELD_DEADLINE: p = w->held_deadline; n = w->held_max * 8; break;
	case XL_REG_EVENTS: p = w->ev; n = w->ev_cap * (int)sizeof(struct xl_event); break;
	case XL_REG_ARENA: p = w->arena; n = w->arena_cap; break;
	}
	if (bytes) *bytes = n;
	return p;
}

static void ring_init(void *base, int size, __u32 **prod, __u32 **cons, __u32 **flags, void **ring, __u32 *mask, __u32 *sz)
{
	uint8_t *r = base;
	*prod = (__u32 *)r;
	*cons = (__u32 *)(r + 4);
	*flags = (__u32 *)(r + 8);
	*ring = r + 16;
	*mask = size - 1;
	*sz = size;
}

int xl_worker_attach(struct xl_worker *w, int b, uint8_t *mem, int fill_off, int fill_size, int comp_off, int comp_size,
		     int rx_off, int rx_size, int tx_off, int tx_size)
{
	if (b < 0 || b >= w->nb || !mem) return -EINVAL;
	if (fill_off < 0 || comp_off < 0 || rx_off < 0 || tx_off < 0) return -EINVAL;
	struct xl_bind *bb = &w->b[b];
	bb->umem = mem;
	ring_init(mem + fill_off, fill_size, &bb->fill.producer, &bb->fill.consumer, &bb->fill.flags, &bb->fill.ring,
		  &bb->fill.mask, &bb->fill.size);
	ring_init(mem + comp_off, comp_size, &bb->comp.producer, &bb->comp.consumer, &bb->comp.flags, &bb->comp.ring,
		  &bb->comp.mask, &bb->comp.size);
	ring_init(mem + rx_off, rx_size, &bb->rx.producer, &bb->rx.consumer, &bb->rx.flags, &bb->rx.ring, &bb->rx.mask,
		  &bb->rx.size);
	ring_init(mem + tx_off, tx_size, &bb->tx.producer, &bb->tx.consumer, &bb->tx.flags, &bb->tx.ring, &bb->tx.mask,
		  &bb->tx.size);
	BS(bb, ATTACHED) = 1;
	return 0;
}

void xl_worker_set_gens(struct xl_worker *w, uint32_t config_gen, uint32_t fib_gen)
{
	WS(w, CONFIG_GEN) = (int32_t)config_gen;
	WS(w, FIB_GEN) = (int32_t)fib_gen;
}

/* libxdp's cached indices live with the caller between calls (the model's RingProd/
 * RingCons objects are shared with its bring-up code): load them before, store after. */
static void cache_load(struct xl_worker *w)
{
	if (w->live_mode) return;
	for (int i = 0; i < w->nb; i++) {
		struct xl_bind *bb = &w->b[i];
		if (!BS(bb, ATTACHED)) continue;
		bb->fill.cached_prod = bb->cache[0];
		bb->fill.cached_cons = bb->cache[1];
		bb->rx.cached_prod = bb->cache[2];
		bb->rx.cached_cons = bb->cache[3];
		bb->tx.cached_prod = bb->cache[4];
		bb->tx.cached_cons = bb->cache[5];
		bb->comp.cached_prod = bb->cache[6];
		bb->comp.cached_cons = bb->cache[7];
	}
}

static void cache_store(struct xl_worker *w)
{
	if (w->live_mode) return;
	for (int i = 0; i < w->nb; i++) {
		struct xl_bind *bb = &w->b[i];
		if (!BS(bb, ATTACHED)) continue;
		bb->cache[0] = bb->fill.cached_prod;
		bb->cache[1] = bb->fill.cached_cons;
		bb->cache[2] = bb->rx.cached_prod;
		bb->cache[3] = bb->rx.cached_cons;
		bb->cache[4] = bb->tx.cached_prod;
		bb->cache[5] = bb->tx.cached_cons;
		bb->cache[6] = bb->comp.cached_prod;
		bb->cache[7] = bb->comp.cached_cons;
	}
}

/* ---- the poll loop ----------------------------------------------------------------- */

static inline uint64_t frame_addr(struct xl_worker *w, int f) { return (uint64_t)f * w->frame_size; }
static inline int frame_index(struct xl_worker *w, uint64_t addr) { return (int)(addr / (uint64_t)w->frame_size); }

static void recycle(struct xl_worker *w, struct xl_bind *bb, int f)
{
	if (f < BS(bb, RX_FRAMES)) {
		if (BS(bb, PENDING_FILL_COUNT) < w->frames) bb->pending_fill[BS(bb, PENDING_FILL_COUNT)++] = f;
	} else if (BS(bb, FREE_TX_COUNT) < w->frames) {
		bb->free_tx[BS(bb, FREE_TX_COUNT)++] = f;
	}
}

static void reap(struct xl_worker *w, struct xl_bind *bb)
{
	__u32 idx;
	__u32 n = xsk_ring_cons__peek(&bb->comp, bb->comp.size, &idx);
	if (n == 0) return;
	for (__u32 i = 0; i < n; i++) {
		int f = frame_index(w, *xsk_ring_cons__comp_addr(&bb->comp, idx + i));
		bb->frame_id[f] = -1;
		recycle(w, bb, f);
	}
	xsk_ring_cons__release(&bb->comp, n);
	w->c[XL_C_REAPED] += n;
}

int xl_submit_fill(struct xl_worker *w, struct xl_bind *bb)
{
	int n = BS(bb, PENDING_FILL_COUNT);
	if (n == 0) return 0;
	__u32 free_n = xsk_prod_nb_free(&bb->fill, n);
	int k = (int)free_n < n ? (int)free_n : n;
	__u32 idx;
	if (k == 0 || (int)xsk_ring_prod__reserve(&bb->fill, k, &idx) != k) return 0;
	for (int i = 0; i < k; i++) *xsk_ring_prod__fill_addr(&bb->fill, idx + i) = frame_addr(w, bb->pending_fill[n - 1 - i]);
	xsk_ring_prod__submit(&bb->fill, k);
	BS(bb, PENDING_FILL_COUNT) = n - k;
	w->c[XL_C_FILL_SUBMITTED] += k;
	return k;
}

static void drop_pkt(struct xl_worker *w, struct xl_bind *bb, int f, const uint8_t *data, uint64_t addr, int len, int id,
		     int reason, double now, int do_recycle)
{
	struct xl_event *e = ev_new(w, XL_EV_DROP, id, now);
	e->a = BS(bb, IFACE);
	e->b = reason;
	ev_bytes(w, e, data + addr, len);
	if (w->live_mode) xl_live_count_reason(w, reason);
	w->c[XL_C_DROPPED]++;
	bb->frame_id[f] = -1;
	if (do_recycle) recycle(w, bb, f);
}

static void push_prepared(struct xl_worker *w, struct xl_bind *e, int f, int len)
{
	int t = (BS(e, PREP_HEAD) + BS(e, PREP_COUNT)) % w->frames;
	e->prep_frame[t] = f;
	e->prep_len[t] = len;
	BS(e, PREP_COUNT)++;
	WS(w, PREPARED_TOTAL)++;
}

static struct xl_bind *egress_binding(struct xl_worker *w, int egress_if, int queue)
{
	int nq = w->dp.ifaces[egress_if].queues;
	if (nq < 1) nq = 1;
	int bi = w->binding_at[egress_if * w->max_queues + (queue % nq)];
	return bi >= 0 ? &w->b[bi] : NULL;
}

static int pending_full(struct xl_worker *w)
{
	return !(w->bugs & XL_BUG_UNBOUNDED_PENDING_TX) && WS(w, LOCAL_COUNT) + WS(w, PREPARED_TOTAL) >= w->max_pending_tx;
}

static int local_slot(struct xl_worker *w)
{
	if (WS(w, LOCAL_COUNT) == w->local_cap) {
		WS(w, OVERFLOW) = 1;
		return (WS(w, LOCAL_HEAD) + WS(w, LOCAL_COUNT) - 1) % w->local_cap;
	}
	int s = (WS(w, LOCAL_HEAD) + WS(w, LOCAL_COUNT)) % w->local_cap;
	WS(w, LOCAL_COUNT)++;
	return s;
}

static void tx_event(struct xl_worker *w, int id, double now, int kind)
{
	struct xl_event *e = ev_new(w, XL_EV_TXQ, id, now);
	e->a = kind;
}

static void enqueue_tx(struct xl_worker *w, struct xl_bind *bb, int f, uint64_t addr, int len, int id, int egress_if,
		       double now)
{
	uint8_t *data = bb->umem;
	if (pending_full(w)) {
		w->c[XL_C_PENDING_TX_FULL]++;
		drop_pkt(w, bb, f, data, addr, len, id, XDPLAB_R_PENDING_TX_FULL, now, 1);
		return;
	}
	struct xl_bind *e = egress_binding(w, egress_if, BS(bb, QUEUE));
	if (e == NULL || !BS(e, LIVE)) {
		drop_pkt(w, bb, f, data, addr, len, id, XDPLAB_R_EGRESS_DOWN, now, 1);
		return;
	}
	w->c[XL_C_FORWARDED_ENQ]++;
	if (e == bb) {
		push_prepared(w, bb, f, len);
		if (id >= 0) tx_event(w, id, now, TXQ_INPLACE);
		w->c[XL_C_INPLACE]++;
		return;
	}
	if (BS(e, FREE_TX_COUNT) > 0) {
		int g = e->free_tx[--BS(e, FREE_TX_COUNT)];
		memcpy(e->umem + frame_addr(w, g) + w->rx_data_off, data + addr, len);
		e->frame_id[g] = id;
		push_prepared(w, e, g, len);
		if (id >= 0) tx_event(w, id, now, TXQ_PREPARED);
		w->c[XL_C_PREPARED_COPIES]++;
		bb->frame_id[f] = -1;
		recycle(w, bb, f);
		return;
	}
	if (id >= 0) tx_event(w, id, now, TXQ_LOCAL);
	int s = local_slot(w);
	w->local_egress[s] = (int32_t)(e - w->b);
	w->local_len[s] = len;
	w->local_id[s] = id;
	if (w->bugs & XL_BUG_UNBOUNDED_PENDING_TX) {
		w->local_ref_b[s] = (int32_t)(bb - w->b);
		w->local_ref_f[s] = f;
		return;
	}
	memcpy(w->local_buf + (size_t)s * w->frame_size, data + addr, len);
	w->local_ref_b[s] = -1;
	w->c[XL_C_LOCAL_COPIES]++;
	bb->frame_id[f] = -1;
	recycle(w, bb, f);
}

static void enqueue_copy(struct xl_worker *w, const uint8_t *src, int len, int id, int egress_if, int queue, double now)
{
	struct xl_bind *e = egress_binding(w, egress_if, queue);
	if (e == NULL || !BS(e, LIVE) || pending_full(w)) {
		int r = (e == NULL || !BS(e, LIVE)) ? XDPLAB_R_EGRESS_DOWN : XDPLAB_R_PENDING_TX_FULL;
		struct xl_event *ev = ev_new(w, XL_EV_DROP, id, now);
		ev->a = egress_if;
		ev->b = r;
		ev_bytes(w, ev, src, len);
		return;
	}
	if (BS(e, FREE_TX_COUNT) > 0) {
		int g = e->free_tx[--BS(e, FREE_TX_COUNT)];
		memcpy(e->umem + frame_addr(w, g) + w->rx_data_off, src, len);
		e->frame_id[g] = id;
		push_prepared(w, e, g, len);
		tx_event(w, id, now, TXQ_PREPARED);
		return;
	}
	tx_event(w, id, now, TXQ_LOCAL);
	int s = local_slot(w);
	memcpy(w->local_buf + (size_t)s * w->frame_size, src, len);
	w->local_egress[s] = (int32_t)(e - w->b);
	w->local_len[s] = len;
	w->local_id[s] = id;
	w->local_ref_b[s] = -1;
}

static inline uint32_t rd32le(const uint8_t *p) { return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24); }
static inline int rd16le(const uint8_t *p) { return p[0] | (p[1] << 8); }

static void process_one(struct xl_worker *w, struct xl_bind *bb, uint64_t addr, int len, double now)
{
	uint8_t *data = bb->umem;
	int f = frame_index(w, addr);
	int id = bb->frame_id[f];
	const struct xdplab_meta *m = (const struct xdplab_meta *)(data + addr - XDPLAB_META_SIZE);
	const uint8_t *mb = (const uint8_t *)m;
	if (rd32le(mb + offsetof(struct xdplab_meta, magic)) != XDPLAB_META_MAGIC)
		return drop_pkt(w, bb, f, data, addr, len, id, XDPLAB_R_META_BAD_MAGIC, now, 1);
	if (rd16le(mb + offsetof(struct xdplab_meta, version)) != XDPLAB_META_VERSION)
		return drop_pkt(w, bb, f, data, addr, len, id, XDPLAB_R_META_BAD_VERSION, now, 1);
	if (rd32le(mb + offsetof(struct xdplab_meta, config_gen)) < (uint32_t)WS(w, CONFIG_GEN) ||
	    rd32le(mb + offsetof(struct xdplab_meta, fib_gen)) < (uint32_t)WS(w, FIB_GEN))
		return drop_pkt(w, bb, f, data, addr, len, id, XDPLAB_R_META_STALE_GENERATION, now, 1);
	struct xl_view *v = &w->view;
	if (xl_decode_eth(v, data, (int)addr, len) != 0 || v->ip_version == 0)
		return drop_pkt(w, bb, f, data, addr, len, id, XDPLAB_R_MALFORMED, now, 1);
	int sport = v->src_port >= 0 ? v->src_port : v->icmp_id >= 0 ? v->icmp_id : 0;
	int dport = v->dst_port >= 0 ? v->dst_port : 0;
	int mproto = mb[offsetof(struct xdplab_meta, ip_proto)];
	int msport = rd16le(mb + offsetof(struct xdplab_meta, src_port));
	int mdport = rd16le(mb + offsetof(struct xdplab_meta, dst_port));
	if (w->want_path && id >= 0) {
		struct xl_event *e = ev_new(w, XL_EV_TUPLE, id, now);
		e->a = v->addr_len;
		e->b = msport;
		e->c = mdport;
		e->d = mproto;
		memcpy(e->x, mb + offsetof(struct xdplab_meta, src_addr), 16);
		memcpy(e->x + 16, mb + offsetof(struct xdplab_meta, dst_addr), 16);
	}
	int same = mproto == (v->ip_proto & 0xff) && msport == sport && mdport == dport &&
		   memcmp(mb + offsetof(struct xdplab_meta, src_addr), data + v->src_off, v->addr_len) == 0 &&
		   memcmp(mb + offsetof(struct xdplab_meta, dst_addr), data + v->dst_off, v->addr_len) == 0;
	if (!same) return drop_pkt(w, bb, f, data, addr, len, id, XDPLAB_R_META_TUPLE_MISMATCH, now, 1);

	struct xl_dp *dp = &w->dp;
	/* generic XDP hands the skb's checksum state over with the frame (traffic.csumPartial) */
	dp->nat.csum_partial = w->csum_partial_if[BS(bb, IFACE)] == 1;
	int act = xl_dp_process(dp, data, (int)addr, len, BS(bb, IFACE), now);
	if (w->want_path && id >= 0) {
		struct xl_event *e = ev_new(w, XL_EV_DECIDE, id, now);
		int fib = dp->last_route >= 0 && dp->egress_if >= 0;
		e->a = dp->lookup_kind;
		e->b = fib ? dp->egress_if : -1;
		e->c = dp->nexthop_family;
		memcpy(e->x, dp->nexthop, 16);
		const struct xl_nat *n = &dp->nat;
		if (fib && n->sid >= 0 && (n->src_changed || n->dst_changed)) {
			/* Dataplane.describeNat: the packet now carries the inverse of the other direction's key */
			const uint32_t *o = (n->dir == 0 ? n->sessions.reply : n->sessions.orig) + (size_t)n->sid * XL_KEY_WORDS;
			e = ev_new(w, XL_EV_NAT, id, now);
			e->a = (n->src_changed ? 1 : 0) | (n->dst_changed ? 2 : 0);
			e->b = o[9] & 0xff;
			e->c = (int32_t)o[8];
			e->d = (o[9] >> 8) & 0xff;
			for (int j = 0; j < 8; j++) {
				e->x[j * 4] = o[j] >> 24;
				e->x[j * 4 + 1] = o[j] >> 16;
				e->x[j * 4 + 2] = o[j] >> 8;
				e->x[j * 4 + 3] = o[j];
			}
		}
	}
	switch (act) {
	case XL_DP_FORWARD:
		enqueue_tx(w, bb, f, addr, dp->new_len > 0 ? dp->new_len : len, id, dp->egress_if, now);
		return;
	case XL_DP_HOLD: {
		if (WS(w, HELD_COUNT) >= w->held_max)
			return drop_pkt(w, bb, f, data, addr, len, id, XDPLAB_R_NEIGH_HOLD_FULL, now, 1);
		int h = WS(w, HELD_COUNT)++;
		w->held_b[h] = (int32_t)(bb - w->b);
		w->held_f[h] = f;
		w->held_len[h] = dp->new_len > 0 ? dp->new_len : len;
		w->held_id[h] = id;
		w->held_egress[h] = dp->egress_if;
		w->held_family[h] = dp->nexthop_family;
		memcpy(w->held_nexthop + h * 16, dp->nexthop, 16);
		w->held_deadline[h] = now + w->neigh_hold_ns;
		w->c[XL_C_HELD]++;
		return;
	}
	case XL_DP_KERNEL: {
		int r = dp->reason != 0 ? dp->reason : XDPLAB_R_WORKER_TO_KERNEL;
		struct xl_event *e = ev_new(w, XL_EV_KERNEL, id, now);
		e->a = BS(bb, IFACE);
		e->b = r;
		ev_bytes(w, e, data + addr, len);
		if (w->live_mode) xl_live_count_reason(w, r);
		w->c[XL_C_TO_KERNEL]++;
		bb->frame_id[f] = -1;
		recycle(w, bb, f);
		return;
	}
	case XL_DP_ICMP_ERROR: {
		drop_pkt(w, bb, f, data, addr, len, id, dp->reason, now, 1);
		int gid = WS(w, NEXT_ID)++;
		struct xl_event *e = ev_new(w, XL_EV_NEWPKT, gid, now);
		e->a = id;
		e->b = BS(bb, IFACE);
		e->c = BS(bb, QUEUE);
		e->d = dp->gen_egress_if;
		w->c[XL_C_ICMP_GENERATED]++;
		enqueue_copy(w, dp->gen_buf, dp->gen_len, gid, dp->gen_egress_if, BS(bb, QUEUE), now);
		return;
	}
	case XL_DP_DROP:
	default:
		return drop_pkt(w, bb, f, data, addr, len, id, dp->reason != 0 ? dp->reason : XDPLAB_R_MALFORMED, now,
				!(w->bugs & XL_BUG_LEAK_ON_DROP));
	}
}

static int drain_local(struct xl_worker *w)
{
	int n = WS(w, LOCAL_COUNT);
	if (n == 0) return 0;
	int moved = 0, keep = 0;
	int cap = w->local_cap, fs = w->frame_size, head = WS(w, LOCAL_HEAD);
	for (int i = 0; i < n; i++) {
		int s = (head + i) % cap;
		struct xl_bind *e = &w->b[w->local_egress[s]];
		if (BS(e, LIVE) && BS(e, FREE_TX_COUNT) > 0) {
			int g = e->free_tx[--BS(e, FREE_TX_COUNT)];
			int len = w->local_len[s];
			int rb = w->local_ref_b[s];
			uint8_t *dst = e->umem + frame_addr(w, g) + w->rx_data_off;
			if (rb < 0) {
				memcpy(dst, w->local_buf + (size_t)s * fs, len);
			} else {
				struct xl_bind *bb = &w->b[rb];
				int f = w->local_ref_f[s];
				memcpy(dst, bb->umem + frame_addr(w, f) + w->rx_data_off, len);
				bb->frame_id[f] = -1;
				recycle(w, bb, f);
			}
			e->frame_id[g] = w->local_id[s];
			push_prepared(w, e, g, len);
			moved++;
		} else {
			int d = (head + keep) % cap;
			if (d != s) {
				memmove(w->local_buf + (size_t)d * fs, w->local_buf + (size_t)s * fs, w->local_len[s]);
				w->local_egress[d] = w->local_egress[s];
				w->local_len[d] = w->local_len[s];
				w->local_id[d] = w->local_id[s];
				w->local_ref_b[d] = w->local_ref_b[s];
				w->local_ref_f[d] = w->local_ref_f[s];
			}
			keep++;
		}
	}
	WS(w, LOCAL_COUNT) = keep;
	return moved;
}

static int retry_held(struct xl_worker *w, double now)
{
	int wk = 0, keep = 0, n = WS(w, HELD_COUNT);
	struct xl_dp *dp = &w->dp;
	for (int h = 0; h < n; h++) {
		struct xl_bind *bb = &w->b[w->held_b[h]];
		int f = w->held_f[h];
		int egress = w->held_egress[h];
		int fam = w->held_family[h];
		memcpy(w->tmp_nexthop, w->held_nexthop + h * 16, 16);
		uint64_t addr = frame_addr(w, f) + w->rx_data_off;
		if (xl_dp_neighbor_known(dp, egress, w->tmp_nexthop, fam, now)) {
			xl_dp_complete_hold(dp, bb->umem, (int)addr, egress, w->tmp_nexthop, fam);
			w->c[XL_C_HELD_RETRIED]++;
			enqueue_tx(w, bb, f, addr, w->held_len[h], w->held_id[h], egress, now);
			wk++;
		} else if (now >= w->held_deadline[h]) {
			drop_pkt(w, bb, f, bb->umem, addr, w->held_len[h], w->held_id[h], XDPLAB_R_NEIGH_UNRESOLVED, now, 1);
			wk++;
		} else {
			if (keep != h) {
				w->held_b[keep] = w->held_b[h];
				w->held_f[keep] = f;
				w->held_len[keep] = w->held_len[h];
				w->held_id[keep] = w->held_id[h];
				w->held_egress[keep] = egress;
				w->held_family[keep] = fam;
				memmove(w->held_nexthop + keep * 16, w->held_nexthop + h * 16, 16);
				w->held_deadline[keep] = w->held_deadline[h];
			}
			keep++;
		}
	}
	WS(w, HELD_COUNT) = keep;
	return wk;
}

/* Worker.publishSteering: the session log becomes XL_EV_STEER events the adapter applies
 * to the shim's session map in order. Live mode: the log is applied to the shims' real
 * `sessions` maps here, in order, and counted as the model counts (live.c xl_live_steer). */
static void publish_steering(struct xl_worker *w, double now)
{
	struct xl_sessions *s = &w->dp.nat.sessions;
	int n = s->steer_count;
	if (n == 0) return;
	if (w->live_mode)
		for (int i = 0; i < n; i++) xl_live_steer(w, s->steer_ops[i], s->steer_keys + (size_t)i * XL_KEY_WORDS);
	else
		for (int i = 0; i < n; i++) {
			const uint32_t *k = s->steer_keys + (size_t)i * XL_KEY_WORDS;
			struct xl_event *e = ev_new(w, XL_EV_STEER, -1, now);
			e->a = s->steer_ops[i];
			e->b = (k[9] & 0xff) == 4 ? 4 : 16;
			e->c = (int32_t)k[8];
			e->d = (k[9] >> 8) & 0xff;
			for (int j = 0; j < 8; j++) {
				e->x[j * 4] = k[j] >> 24;
				e->x[j * 4 + 1] = k[j] >> 16;
				e->x[j * 4 + 2] = k[j] >> 8;
				e->x[j * 4 + 3] = k[j];
			}
		}
	s->steer_count = 0;
}

int xl_worker_timers(struct xl_worker *w, double now)
{
	WS(w, EVENT_COUNT) = 0;
	WS(w, ARENA_USED) = 0;
	int n = xl_sessions_expire(&w->dp.nat.sessions, now, 4096);
	w->c[XL_C_SESSIONS_EXPIRED] += n;
	if (n > 0) w->expiry_rescan = 1; /* removals may raise the minimum: tighten it */
	publish_steering(w, now);
	return n;
}

int xl_worker_session_capacity(struct xl_worker *w)
{
	return w->dp.nat.sessions.capacity;
}

/* Worker.skipIdle: n polls that would have found nothing to do (the adapter checked the
 * idle conditions on the shared state) are accounted without running: the poll counter
 * and the cycle move as n polls would have moved them. Reaping at some of those cycles
 * would have found an empty completion ring; nothing else a poll does depends on them. */
void xl_worker_skip_idle(struct xl_worker *w, double n)
{
	if (!(n > 0)) return;
	w->c[XL_C_POLLS] += n;
	w->cycle += (int64_t)n;
	WS(w, CYCLE) = (int32_t)(uint32_t)w->cycle;
}

/* No live session expires before this time (INFINITY when none is live), so a timer pass
 * before it removes nothing. The minimum of expires[] over live rows as of the last scan
 * (after a pass that removed rows), lowered by every expires[] write since: a valid lower
 * bound, the exact minimum right after a scan. */
double xl_worker_next_expiry_low(struct xl_worker *w)
{
	struct xl_sessions *s = &w->dp.nat.sessions;
	if (s->stats == NULL || s->stats[XL_NS_LIVE] == 0) {
		w->expiry_low = INFINITY;
		w->expiry_rescan = 0;
		s->write_low = INFINITY;
		return INFINITY;
	}
	if (w->expiry_rescan) {
		double low = INFINITY;
		for (int sid = 0; sid < s->capacity; sid++)
			if ((s->flags[sid] & XL_F_LIVE) && s->expires[sid] < low) low = s->expires[sid];
		w->expiry_low = low;
		w->expiry_rescan = 0;
	} else if (s->write_low < w->expiry_low) w->expiry_low = s->write_low;
	s->write_low = INFINITY;
	return w->expiry_low;
}

/* SessionTable.skipExpire: `passes` timer passes of 4096 rows that would have removed
 * nothing; the expiry cursor moves as they would have moved it. */
void xl_worker_skip_timers(struct xl_worker *w, double passes)
{
	struct xl_sessions *s = &w->dp.nat.sessions;
	int cap = s->capacity;
	if (!(passes > 0) || cap <= 0) return;
	int64_t per = (4096 < cap ? 4096 : cap) % cap;
	int64_t p = (int64_t)fmod(passes, (double)cap);
	s->expire_cursor = (int)((s->expire_cursor + (p * per) % cap) % cap);
}

int xl_do_poll_rx(struct xl_worker *w, double now)
{
	w->c[XL_C_POLLS]++;
	w->cycle++;
	WS(w, CYCLE) = (int32_t)(uint32_t)w->cycle;
	int work = 0;
	int reap_period = (w->bugs & XL_BUG_LAZY_COMPLETION_REAP) ? w->reap_every * 256 : w->reap_every;
	int reap_now = w->cycle % reap_period == 0;
	for (int i = 0; i < w->nb; i++) {
		struct xl_bind *bb = &w->b[i];
		if (!BS(bb, LIVE)) continue;
		BS(bb, SAMPLED_NEED_WAKEUP) = (*bb->fill.flags & XDP_RING_NEED_WAKEUP) != 0;
		if (reap_now && !(w->live_mode && xl_live_reap_held(w, i))) reap(w, bb);
	}
	work += drain_local(w);
	work += retry_held(w, now);
	for (int i = 0; i < w->nb; i++) {
		struct xl_bind *bb = &w->b[i];
		BS(bb, SKIP_FILL) = 0;
		if (!BS(bb, LIVE)) continue;
		if (!(w->bugs & XL_BUG_UNBOUNDED_PENDING_TX) && WS(w, LOCAL_COUNT) + WS(w, PREPARED_TOTAL) >= w->max_pending_tx) {
			w->c[XL_C_BACKPRESSURE_POLLS]++;
			if (w->bugs & XL_BUG_SKIP_FILL_ON_BACKPRESSURE) BS(bb, SKIP_FILL) = 1;
			continue;
		}
		__u32 idx;
		__u32 n = xsk_ring_cons__peek(&bb->rx, w->batch, &idx);
		if (n == 0) continue;
		for (__u32 k = 0; k < n; k++) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&bb->rx, idx + k);
			process_one(w, bb, d->addr, (int)d->len, now + work * w->per_packet_ns);
			work++;
		}
		xsk_ring_cons__release(&bb->rx, n);
		w->c[XL_C_RX] += n;
	}
	publish_steering(w, now);
	return work;
}

int xl_worker_poll_rx(struct xl_worker *w, double now)
{
	WS(w, EVENT_COUNT) = 0;
	WS(w, ARENA_USED) = 0;
	cache_load(w);
	int work = xl_do_poll_rx(w, now);
	cache_store(w);
	return work;
}

static int drain_tx(struct xl_worker *w, struct xl_bind *bb, int bi, double now)
{
	int k = 0;
	int n = BS(bb, PREP_COUNT);
	if (n > 0) {
		__u32 idx = 0;
		if (w->bugs & XL_BUG_ALL_OR_NOTHING_RESERVE) {
			int r = (int)xsk_ring_prod__reserve(&bb->tx, w->tx_batch, &idx);
			k = n < r ? n : r;
		} else {
			int free_n = (int)xsk_prod_nb_free(&bb->tx, n);
			k = n < free_n ? n : free_n;
			int r = k > 0 ? (int)xsk_ring_prod__reserve(&bb->tx, k, &idx) : 0;
			if (r != k) k = 0;
		}
		if (k == 0) w->c[XL_C_RESERVE_FAILED]++;
		for (int i = 0; i < k; i++) {
			int h = (BS(bb, PREP_HEAD) + i) % w->frames;
			int f = bb->prep_frame[h];
			struct xdp_desc *d = xsk_ring_prod__tx_desc(&bb->tx, idx + i);
			d->addr = frame_addr(w, f) + w->rx_data_off;
			d->len = bb->prep_len[h];
			d->options = 0;
			int id = bb->frame_id[f];
			if (id >= 0) ev_new(w, XL_EV_TXRING, id, now);
		}
		if (k > 0) {
			xsk_ring_prod__submit(&bb->tx, k);
			BS(bb, PREP_HEAD) = (BS(bb, PREP_HEAD) + k) % w->frames;
			BS(bb, PREP_COUNT) -= k;
			WS(w, PREPARED_TOTAL) -= k;
			w->c[XL_C_TX_RING_SUBMITTED] += k;
		}
	}
	if (*bb->tx.producer == *bb->tx.consumer) return 0;
	if (!xsk_ring_prod__needs_wakeup(&bb->tx) && !w->copy_mode) return 0;
	if ((w->bugs & XL_BUG_NO_TX_KICK) && k == 0) return 0;
	/* sendto(): in the model the kernel side runs after this call returns. Nothing later
	 * in this poll reads this binding's TX ring, so deferring the kick is invisible. */
	w->c[XL_C_KICKS]++;
	if (w->live_mode) {
		xl_live_kick(w, bi);
		return 1;
	}
	struct xl_event *e = ev_new(w, XL_EV_KICK, -1, now);
	e->a = bi;
	return 1;
}

/* submitFill + the zero-copy RX wake of the TS pollTx, for one binding. */
static void tx_fill_phase(struct xl_worker *w, struct xl_bind *bb, int bi, double now)
{
	int committed = 0;
	if (!BS(bb, SKIP_FILL) && !(now < bb->times[0])) committed = xl_submit_fill(w, bb);
	if (w->copy_mode) return;
	/* The healthy worker checks NEED_WAKEUP after its commit every cycle; lostWakeup
	 * checks only the value sampled in poll_rx, and only when it committed something. */
	int need = (w->bugs & XL_BUG_LOST_WAKEUP) ? committed > 0 && BS(bb, SAMPLED_NEED_WAKEUP)
						   : (*bb->fill.flags & XDP_RING_NEED_WAKEUP) != 0;
	if (!need) return;
	if (w->bugs & XL_BUG_WAKE_TX_FOR_RX) {
		struct xl_event *e = ev_new(w, XL_EV_KICK, -1, now);
		e->a = bi;
		e->d = 1; /* a wake done with the TX kick: counted by the caller as a kick, not in c.kicks */
	} else {
		struct xl_event *e = ev_new(w, XL_EV_WAKE_RX, -1, now);
		e->a = bi;
		w->c[XL_C_RX_WAKEUPS]++;
	}
}

int xl_do_poll_tx(struct xl_worker *w, double now)
{
	int kicks = 0;
	for (int i = 0; i < w->nb; i++) {
		struct xl_bind *bb = &w->b[i];
		if (!BS(bb, LIVE)) continue;
		tx_fill_phase(w, bb, i, now);
		kicks += drain_tx(w, bb, i, now);
	}
	return kicks;
}

int xl_worker_poll_tx(struct xl_worker *w, double now)
{
	WS(w, EVENT_COUNT) = 0;
	WS(w, ARENA_USED) = 0;
	cache_load(w);
	int kicks = xl_do_poll_tx(w, now);
	cache_store(w);
	return kicks;
}

int xl_worker_poll(struct xl_worker *w, double now)
{
	WS(w, EVENT_COUNT) = 0;
	WS(w, ARENA_USED) = 0;
	cache_load(w);
	int work = xl_do_poll_rx(w, now);
	WS(w, FUSED_KICKS) = -1;
	if (work == 0 && w->copy_mode) WS(w, FUSED_KICKS) = xl_do_poll_tx(w, now);
	cache_store(w);
	return work;
}

int xl_worker_poll_tx_fill(struct xl_worker *w, int b, double now)
{
	WS(w, EVENT_COUNT) = 0;
	WS(w, ARENA_USED) = 0;
	if (b < 0 || b >= w->nb || !BS(&w->b[b], LIVE)) return 0;
	cache_load(w);
	tx_fill_phase(w, &w->b[b], b, now);
	cache_store(w);
	return 0;
}

int xl_worker_poll_tx_drain(struct xl_worker *w, int b, double now)
{
	WS(w, EVENT_COUNT) = 0;
	WS(w, ARENA_USED) = 0;
	if (b < 0 || b >= w->nb || !BS(&w->b[b], LIVE)) return 0;
	cache_load(w);
	int k = drain_tx(w, &w->b[b], b, now);
	cache_store(w);
	return k;
}

int xl_worker_stats(struct xl_worker *w, double *out, int n)
{
	if (n > XL_C_COUNT) n = XL_C_COUNT;
	for (int i = 0; i < n; i++) out[i] = w->c[i];
	return n < 0 ? 0 : n;
}

void xl_worker_flush_neighbors(struct xl_worker *w, int iface, double resolve_at_ns, int use_default)
{
	xl_dp_flush_neighbors(&w->dp, iface, use_default ? w->dp.last_now + 1000000.0 : resolve_at_ns);
}

int xl_dataplane_process(struct xl_worker *w, uint8_t *buf, int len, int ingress, double now, int *egress, int *new_len,
			 int *reason)
{
	int act = xl_dp_process(&w->dp, buf, 0, len, ingress, now);
	if (egress) *egress = w->dp.egress_if;
	if (new_len) *new_len = w->dp.new_len;
	if (reason) *reason = w->dp.reason;
	return act;
}

void xl_worker_close(struct xl_worker *w)
{
	if (!w) return;
	xl_live_teardown(w);
	if (w->b)
		for (int i = 0; i < w->nb; i++) {
			struct xl_bind *bb = &w->b[i];
			free(bb->s);
			free(bb->times);
			free(bb->cache);
			free(bb->frame_id);
			free(bb->free_tx);
			free(bb->pending_fill);
			free(bb->prep_frame);
			free(bb->prep_len);
		}
	free(w->b);
	free(w->ws);
	free(w->c);
	free(w->binding_at);
	free(w->local_buf);
	free(w->local_egress);
	free(w->local_len);
	free(w->local_id);
	free(w->local_ref_b);
	free(w->local_ref_f);
	free(w->held_b);
	free(w->held_f);
	free(w->held_len);
	free(w->held_id);
	free(w->held_egress);
	free(w->held_family);
	free(w->held_nexthop);
	free(w->held_deadline);
	free(w->ev);
	free(w->arena);
	free(w->dp.ifaces);
	free(w->dp.routes);
	free(w->dp.neigh);
	free(w->dp.rules);
	xl_dp_nat_free(&w->dp);
	free(w->csum_partial_if);
	free(w);
}
