/* SPDX-License-Identifier: BSD-2-Clause */
/* Key and value layouts of the shim's maps and of its ring buffer event. Shared with
 * userspace (bpf/test/prog_run.c, native/): fixed-width types, explicit padding that
 * writers must zero (hash map keys compare every byte). */
#ifndef XDPLAB_STRUCTS_H
#define XDPLAB_STRUCTS_H

#include <linux/types.h>

/* Control map, one entry (sim/xdp/maps.ts ControlMap). A zeroed entry is "not armed". */
struct xdplab_ctrl {
	__u32 enabled;              /* userspace forwarding armed */
	__u32 abi_version;          /* must equal XDPLAB_META_VERSION */
	__u32 config_gen;
	__u32 fib_gen;
	__u64 heartbeat_ns;         /* CLOCK_MONOTONIC (bpf_ktime_get_ns) of the worker's last heartbeat */
	__u64 heartbeat_timeout_ns; /* 0 = no heartbeat check */
	__u32 strict;               /* no usable binding: drop instead of the fallback */
	__u32 fallback_mode;        /* XDPLAB_FALLBACK_* */
	__u32 tx_mode;              /* XDPLAB_TX_* */
	__u32 bugs;                 /* XDPLAB_BUG_* */
};

/* Bindings map: (ifindex, queue) → XSKMAP slot. */
struct xdplab_binding_key {
	__u32 ifindex;
	__u32 queue;
};
struct xdplab_binding {
	__u32 slot;
	__u32 ready; /* 1 when the socket is bound and its fill ring primed */
};

/* Address maps (local_addrs, ifnat_addrs): family 4 or 6, IPv4 in addr[0..3], rest zero. */
struct xdplab_addr_key {
	__u8 family;
	__u8 pad[3];
	__u8 addr[16];
};

/* Session-steering map: 5-tuples of flows the worker owns. Ports in network order
 * (ICMP echo: id as src_port, 0 as dst_port); proto is the upper-layer protocol. */
struct xdplab_session_key {
	__u8 src[16];
	__u8 dst[16];
	__u16 src_port;
	__u16 dst_port;
	__u8 proto;
	__u8 pad[3];
};

/* DNAT map: a rule's match part. proto 0 = any protocol; port XDPLAB_DNAT_ANY_PORT = any
 * port, else host order. The value is the rule's index (informational for the shim). */
struct xdplab_dnat_key {
	__u32 ifindex;
	__u32 port;
	__u8 proto;
	__u8 family;
	__u8 pad[2];
	__u8 addr[16];
};

/* Ring buffer event: one per packet the shim decided (live mode's per-packet story).
 * Identity fields survive NAT: ip_id (IPv4 ID, or the IPv6 fragment header's ID),
 * flow_label (IPv6), tcp_seq and payload_hash (FNV-1a 32 over the first
 * XDPLAB_PAYLOAD_HASH_LEN bytes of L4 payload within the IP length). Ports are pre-NAT
 * and given for the ingress side. Absent fields are 0. */
struct xdplab_event {
	__u64 ts_ns;
	__u32 ifindex;
	__u32 queue;
	__u8 verdict;    /* XDPLAB_V_* */
	__u8 ip_version;
	__u8 ip_proto;
	__u8 flags;      /* XDPLAB_META_F_* bits known when the verdict was taken */
	__u16 reason;    /* XDPLAB_R_*, 0 for a redirect */
	__u16 pkt_len;
	__u32 ip_id;
	__u32 flow_label;
	__u16 src_port;
	__u16 dst_port;
	__u32 tcp_seq;
	__u32 payload_hash;
	__u32 slot;      /* XSKMAP slot for a redirect, else 0xffffffff */
};

_Static_assert(sizeof(struct xdplab_ctrl) == 48, "xdplab_ctrl");
_Static_assert(sizeof(struct xdplab_session_key) == 40, "xdplab_session_key");
_Static_assert(sizeof(struct xdplab_dnat_key) == 28, "xdplab_dnat_key");
_Static_assert(sizeof(struct xdplab_event) == 48, "xdplab_event");

#endif /* XDPLAB_STRUCTS_H */
