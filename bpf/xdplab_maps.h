/* SPDX-License-Identifier: BSD-2-Clause */
/* The shim's maps (names as in sim/xdp/maps.ts and DESIGN §2). Userspace (the control
 * plane, the native worker, bpf/test/prog_run.c) finds them by these names. */
#ifndef XDPLAB_MAPS_H
#define XDPLAB_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xdplab_consts.h"
#include "xdplab_structs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdplab_ctrl);
} ctrl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDPLAB_MAX_BINDINGS);
	__type(key, struct xdplab_binding_key);
	__type(value, struct xdplab_binding);
} bindings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XDPLAB_XSKMAP_SIZE);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDPLAB_MAX_SESSIONS);
	__type(key, struct xdplab_session_key);
	__type(value, __u32);
} sessions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDPLAB_MAX_LOCAL_ADDRS);
	__type(key, struct xdplab_addr_key);
	__type(value, __u32);
} local_addrs SEC(".maps");

/* Interface-NAT (SNAT "to": "interface") addresses: treated as local by the shim, kept
 * apart so control can publish them per egress interface (value = ifindex). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDPLAB_MAX_LOCAL_ADDRS);
	__type(key, struct xdplab_addr_key);
	__type(value, __u32);
} ifnat_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDPLAB_MAX_DNAT_RULES);
	__type(key, struct xdplab_dnat_key);
	__type(value, __u32);
} dnat_rules SEC(".maps");

/* Per-reason packet counters: index = reason code, slot 0 = redirected. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDPLAB_REASON_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} reason_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XDPLAB_EVENTS_BYTES);
} events SEC(".maps");

/* The legacy program a fallback tail-calls (XDPLAB_FALLBACK_TAILCALL). */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} fallback_prog SEC(".maps");

/* Egress device for XDPLAB_TX_DEVMAP. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, XDPLAB_DEVMAP_SIZE);
	__type(key, __u32);
	__type(value, __u32);
} tx_devmap SEC(".maps");

#endif /* XDPLAB_MAPS_H */
