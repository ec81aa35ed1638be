/* SPDX-License-Identifier: BSD-2-Clause */
/* The native AF_XDP worker's C API (mirror of sim/worker/worker.ts), used through koffi
 * by native/js/worker.ts and directly by native/test/offline_driver.c.
 *
 * Ownership: the worker allocates its own state (frame lists, pending TX queues, held
 * packets, counters) in regions the caller may map (xl_worker_region) — the offline
 * adapter reads and writes them as typed arrays, exactly where the TS worker keeps the
 * same fields. Rings and UMEM are the caller's memory (the model's XskSocket bytes,
 * layout of sim/xsk/socket.ts xskLayout), attached per binding with xl_worker_attach.
 * The worker never calls out: what the TS worker does through the tracker, the sink and
 * the kernel (kick) is written as events (struct xl_event) the caller replays in order.
 * Times are integer nanoseconds carried in doubles, as in the model. */
#ifndef XL_WORKER_H
#define XL_WORKER_H

#include <stdint.h>

#define XL_API __attribute__((visibility("default")))

/* Bug switches of CATALOGUE B implemented natively (bit i of `bugs`). */
enum {
	XL_BUG_SKIP_FILL_ON_BACKPRESSURE = 1u << 0,
	XL_BUG_UNBOUNDED_PENDING_TX = 1u << 1,
	XL_BUG_LAZY_COMPLETION_REAP = 1u << 2,
	XL_BUG_LEAK_ON_DROP = 1u << 3,
	XL_BUG_NO_TX_KICK = 1u << 4,
	XL_BUG_ALL_OR_NOTHING_RESERVE = 1u << 5,
	XL_BUG_WAKE_TX_FOR_RX = 1u << 6, /* zero-copy */
	XL_BUG_LOST_WAKEUP = 1u << 7,    /* zero-copy */
	XL_BUG_IGNORE_MTU = 1u << 8,     /* D′: over-MTU frames are sent anyway */
	/* CATALOGUE C, D, D′ (the dataplane's NAT; same names as the model's switches) */
	XL_BUG_TUPLE_FROM_MUTATED_FRAME = 1u << 9,
	XL_BUG_PORTS_FROM_STALE_FRAME = 1u << 10,
	XL_BUG_NO_REVERSE_INDEX = 1u << 11,
	XL_BUG_REVERSE_INDEX_OVERWRITE = 1u << 12,
	XL_BUG_REPLY_MISS_GOES_TO_KERNEL = 1u << 13,
	XL_BUG_EMBEDDED_ICMP_NO_SWAP = 1u << 14,
	XL_BUG_RST_TEARS_DOWN = 1u << 15,
	XL_BUG_SESSION_AFTER_NEIGHBOR = 1u << 16,
	XL_BUG_SNAT_PORT_COLLISION = 1u << 17,
	XL_BUG_SIGN_FLIPPED_DELTA = 1u << 18,
	XL_BUG_PARTIAL_CSUM_AS_FULL = 1u << 19,
	XL_BUG_PORT_ONLY_NAT_NO_CSUM = 1u << 20,
	XL_BUG_FRAGMENTS_LOSE_SESSION = 1u << 21,
};

/* Counters, in the order of the TS Worker's `c` object. */
enum {
	XL_C_POLLS, XL_C_RX, XL_C_FORWARDED_ENQ, XL_C_DROPPED, XL_C_TO_KERNEL, XL_C_HELD,
	XL_C_HELD_RETRIED, XL_C_ICMP_GENERATED, XL_C_REAPED, XL_C_FILL_SUBMITTED, XL_C_KICKS,
	XL_C_RX_WAKEUPS, XL_C_TX_RING_SUBMITTED, XL_C_BACKPRESSURE_POLLS, XL_C_PENDING_TX_FULL,
	XL_C_LOCAL_COPIES, XL_C_PREPARED_COPIES, XL_C_INPLACE, XL_C_RESERVE_FAILED,
	XL_C_STEER_ADDED, XL_C_STEER_REMOVED, XL_C_STEER_REFUSED, XL_C_SESSIONS_EXPIRED,
	XL_C_COUNT
};

/* Per-binding int32 scalars (region XL_REG_BSCALARS, 16 per binding). */
enum {
	XL_B_LIVE, XL_B_RX_FRAMES, XL_B_FREE_TX_COUNT, XL_B_PENDING_FILL_COUNT, XL_B_PREP_HEAD,
	XL_B_PREP_COUNT, XL_B_SKIP_FILL, XL_B_SAMPLED_NEED_WAKEUP, XL_B_IFACE, XL_B_QUEUE,
	XL_B_IFINDEX, XL_B_SLOT, XL_B_FRAMES, XL_B_ATTACHED,
	XL_B_NSCALARS = 16
};

/* Worker int32 scalars (region XL_REG_WSCALARS). */
enum {
	XL_W_PREPARED_TOTAL, XL_W_LOCAL_COUNT, XL_W_LOCAL_HEAD, XL_W_LOCAL_CAP, XL_W_HELD_COUNT,
	XL_W_CYCLE, XL_W_CONFIG_GEN, XL_W_FIB_GEN, XL_W_NEXT_ID, XL_W_EVENT_COUNT, XL_W_ARENA_USED,
	XL_W_OVERFLOW, XL_W_FUSED_KICKS,
	XL_W_NSCALARS = 16
};

/* Regions xl_worker_region maps. Per-binding ones take the binding index. */
enum {
	XL_REG_FRAME_ID,      /* i32[frames]: packet id in each frame, -1 none */
	XL_REG_FREE_TX,       /* i32[frames] */
	XL_REG_PENDING_FILL,  /* i32[frames] */
	XL_REG_PREP_FRAME,    /* i32[frames] */
	XL_REG_PREP_LEN,      /* i32[frames] */
	XL_REG_BSCALARS,      /* i32[XL_B_NSCALARS] */
	XL_REG_BTIMES,        /* f64[2]: fill_starve_until, reserved */
	XL_REG_RING_CACHE,    /* u32[8]: cached prod/cons of fill, rx, tx, comp (libxdp's views) */
	XL_REG_WSCALARS,      /* i32[XL_W_NSCALARS] (worker-wide, binding ignored) */
	XL_REG_COUNTERS,      /* f64[XL_C_COUNT] */
	XL_REG_LOCAL_BUF, XL_REG_LOCAL_EGRESS, XL_REG_LOCAL_LEN, XL_REG_LOCAL_ID,
	XL_REG_LOCAL_REF_B, XL_REG_LOCAL_REF_F,
	XL_REG_HELD_B, XL_REG_HELD_F, XL_REG_HELD_LEN, XL_REG_HELD_ID, XL_REG_HELD_EGRESS,
	XL_REG_HELD_FAMILY, XL_REG_HELD_NEXTHOP, XL_REG_HELD_DEADLINE,
	XL_REG_EVENTS,        /* struct xl_event[capacity] */
	XL_REG_ARENA,         /* bytes copied for sink events */
	/* the session table's columns (sim/dataplane/session.ts), row = session id */
	XL_REG_SESS_ORIG,     /* u32[capacity*10] */
	XL_REG_SESS_REPLY,    /* u32[capacity*10] */
	XL_REG_SESS_STATE,    /* u8[capacity] */
	XL_REG_SESS_FLAGS,    /* u8[capacity] */
	XL_REG_SESS_EXPIRES,  /* f64[capacity] */
	XL_REG_SESS_EGRESS,   /* i16[capacity] */
	XL_REG_SESS_GEN,      /* u32[capacity] */
	XL_REG_NAT_STATS,     /* f64[7]: live, installs, removals, snat_exhausted, table_full, frag_no_session, icmp_translated */
	XL_REG_COUNT
};

/* Events: what the TS worker does to the tracker, the sink and the kernel, in order. */
enum {
	XL_EV_DROP = 1,    /* sink.drop(a=iface, t, arena[off,len), id, b=reason); finish(id, dropped, b) */
	XL_EV_KERNEL = 2,  /* sink.kernel(a=iface, ...); finish(id, to_kernel, b) */
	XL_EV_TUPLE = 3,   /* path extras: tuple from metadata: a=addrLen, b=sport, c=dport, d=proto, x=src|dst */
	XL_EV_DECIDE = 4,  /* path extras: a=lookupKind, b=egress (-1: no fib), c=nexthop family, x=nexthop */
	XL_EV_TXQ = 5,     /* tracker.txEnq[id]=t; a>0: tracker.txq[id]=a */
	XL_EV_TXRING = 6,  /* tracker.txRing[id]=t */
	XL_EV_NEWPKT = 7,  /* tracker.newPacket(generated, -1, cause=a, t, iface=b, queue=c) must return id; d = its egress (path extras fib) */
	XL_EV_KICK = 8,    /* kernel: sendto on binding a at t, then host.onTxOut */
	XL_EV_WAKE_RX = 9, /* kernel: recvfrom ("wake RX") on binding a (zero-copy) */
	XL_EV_STEER = 10,  /* shim session map: a=1 add / 2 remove, b=addr len, c=sport<<16|dport, d=proto, x=src|dst (key words, big-endian) */
	XL_EV_NAT = 11,    /* path extras `nat`: a=srcChanged|dstChanged<<1, b=family, c=ports of the other direction's key, d=proto, x=its src|dst */
};

struct xl_event {
	int32_t kind;
	int32_t id;
	int32_t a, b, c, d;
	int32_t off, len;
	double t;
	uint8_t x[32];
};
_Static_assert(sizeof(struct xl_event) == 72, "xl_event layout is part of the koffi ABI");

struct xl_worker;

XL_API struct xl_worker *xl_worker_open(int nbindings, int nifaces, int frames, int frame_size, int headroom,
					 int batch, int max_pending_tx, int reap_every, int tx_budget, int copy_mode,
					 uint32_t bugs, int neigh_hold_max, double neigh_hold_ns, double per_packet_ns,
					 int icmp_errors, int default_permit, int want_path);
XL_API int xl_worker_configure_iface(struct xl_worker *w, int iface, const uint8_t *mac, int mtu, int queues);
XL_API int xl_worker_configure_addr(struct xl_worker *w, int iface, int family, const uint8_t *bytes, int prefix_len);
XL_API int xl_worker_configure_route(struct xl_worker *w, int family, const uint8_t *prefix, int prefix_len,
				     double metric, int has_via, const uint8_t *via, int iface);
XL_API int xl_worker_configure_neighbor(struct xl_worker *w, int family, const uint8_t *ip, const uint8_t *mac,
					int iface, double at_ns);
XL_API int xl_worker_configure_rule(struct xl_worker *w, int permit, int proto, int ingress, int egress,
				    int src_family, const uint8_t *src, int src_len, int dst_family,
				    const uint8_t *dst, int dst_len, int dport_lo, int dport_hi);
XL_API int xl_worker_configure_binding(struct xl_worker *w, int b, int iface, int queue, int ifindex, int slot);
/* NAT (sim/dataplane/nat.ts): call before the rules and before ready. seed = scenario seed
 * (the PRNG is forked as the model's), generic = dataplane.attach is "generic",
 * csum_partial = per-interface traffic.csumPartial (nifaces bytes), sessions = capacity. */
XL_API int xl_worker_configure_nat(struct xl_worker *w, double seed, int generic, const uint8_t *csum_partial, int sessions);
/* SNAT rule: returns its index (for the pool) or -errno. from_family 0 = any source. */
XL_API int xl_worker_configure_snat(struct xl_worker *w, int egress, int from_family, const uint8_t *from, int from_len,
				    int is_interface, int port_lo, int port_hi);
/* One pool entry of SNAT rule `rule` (a prefix expands as the model's: ≤ 2^16 addresses). */
XL_API int xl_worker_configure_snat_pool(struct xl_worker *w, int rule, int family, const uint8_t *bytes, int prefix_len);
/* DNAT rule: port/to_port -1 = none; proto 0 = any. */
XL_API int xl_worker_configure_dnat(struct xl_worker *w, int ingress, int proto, int family, const uint8_t *dst, int port,
				    const uint8_t *to, int to_port);
/* Allocates the tables after configuration; 0 or -errno. */
XL_API int xl_worker_ready(struct xl_worker *w);
XL_API void *xl_worker_region(struct xl_worker *w, int region, int b, int *bytes);
/* Points binding b at a socket's memory: UMEM at mem+0, rings at the given offsets. */
XL_API int xl_worker_attach(struct xl_worker *w, int b, uint8_t *mem, int fill_off, int fill_size, int comp_off,
			    int comp_size, int rx_off, int rx_size, int tx_off, int tx_size);
XL_API void xl_worker_set_gens(struct xl_worker *w, uint32_t config_gen, uint32_t fib_gen);
/* Phase 1: returns work done (packets touched). Phase 2: returns kicks. Events from 0. */
XL_API int xl_worker_poll_rx(struct xl_worker *w, double now);
XL_API int xl_worker_poll_tx(struct xl_worker *w, double now);
/* Phase 2 for one binding, split where the kernel must run in between (zero-copy: the RX
 * wake — or, with wakeTxForRx, a TX kick — happens before the TX ring is filled):
 * fill submission + wake decision, then TX ring + kick. poll_tx = both, per binding,
 * with the wakes deferred, which only copy mode may do. */
/* poll_rx, and when it did no work (copy mode), poll_tx at the same instant in the same
 * call: what the simulation loop does next anyway (a poll with no work takes no time).
 * XL_W_FUSED_KICKS = poll_tx's result, or -1 when poll_tx did not run. Halves the calls
 * of idle polls. */
XL_API int xl_worker_poll(struct xl_worker *w, double now);
/* The session-timer pass (Worker.timers): expire ≤ 4096 rows, publish the removed keys
 * as XL_EV_STEER events. Returns the number of sessions removed. Events from 0. */
XL_API int xl_worker_timers(struct xl_worker *w, double now);
/* Session table capacity (rows of the XL_REG_SESS_* regions). */
XL_API int xl_worker_session_capacity(struct xl_worker *w);
/* Idle fast path (offline; sim/run.ts): accounts n polls that were not run because the
 * worker had nothing to do (Worker.skipIdle: poll counter and cycle). */
XL_API void xl_worker_skip_idle(struct xl_worker *w, double n);
/* No live session expires before this time (INFINITY when none is live). */
XL_API double xl_worker_next_expiry_low(struct xl_worker *w);
/* Accounts `passes` session-timer passes that would have removed nothing (cursor only). */
XL_API void xl_worker_skip_timers(struct xl_worker *w, double passes);
XL_API int xl_worker_poll_tx_fill(struct xl_worker *w, int b, double now);
XL_API int xl_worker_poll_tx_drain(struct xl_worker *w, int b, double now);
/* Copies up to n counters (XL_C_* order) into out; returns how many. Safe to call while a
 * live thread runs (values may be one poll stale). */
XL_API int xl_worker_stats(struct xl_worker *w, double *out, int n);
XL_API void xl_worker_flush_neighbors(struct xl_worker *w, int iface, double resolve_at_ns, int use_default);
XL_API void xl_worker_close(struct xl_worker *w);

/* Live mode (src/live.c): real AF_XDP sockets served by one native thread. */
XL_API int xl_worker_live_rings(struct xl_worker *w, int fill, int comp, int rx, int tx);
XL_API int xl_worker_live_config(struct xl_worker *w, int b, const char *ifname, int queue, int xsks_map_fd, int zerocopy);
XL_API int xl_worker_start(struct xl_worker *w, const char *netns_path);
XL_API int xl_worker_stop(struct xl_worker *w);
XL_API const char *xl_worker_live_error(struct xl_worker *w);
/* Session steering live: adds one shim's `sessions` map fd (each attached shim has its
 * own; call once per shim, before start). The worker applies its steering log to every
 * such map (bpf_map_update_elem / bpf_map_delete_elem, key struct xdplab_session_key) and
 * counts steer_added/removed/refused. The fds stay the caller's. */
XL_API int xl_worker_live_sessions_map(struct xl_worker *w, int fd);
/* The live session-timer period in ns (timing.timerNs; 0 = no timer pass), before start. */
XL_API int xl_worker_live_timer(struct xl_worker *w, double period_ns);
/* Anchors the live clock: 0 until a frame first waits on an RX ring, which is then time
 * first_ns (the model's time of the first input packet). Before start. */
XL_API int xl_worker_live_clock(struct xl_worker *w, double first_ns);
/* First unexpected session-map error (-errno; E2BIG and ENOENT are counted, not errors), 0 none. */
XL_API int xl_worker_live_steer_error(struct xl_worker *w);

/* Dataplane alone (offline driver, tests): decide one frame in place. */
XL_API int xl_dataplane_process(struct xl_worker *w, uint8_t *buf, int len, int ingress, double now, int *egress,
				int *new_len, int *reason);

#endif
