/* SPDX-License-Identifier: BSD-2-Clause */
/* Protocol numbers, walk limits, map sizes and the control map's mode/bug bits of the
 * xdplab shim. The ABI shared with the model and the worker (metadata layout, reason
 * codes, parse error codes, verdicts) is generated into xdplab_abi.h; this file holds
 * what only the C side needs. Limits equal sim/packet/parse.ts's. */
#ifndef XDPLAB_CONSTS_H
#define XDPLAB_CONSTS_H

#include "xdplab_abi.h"

#define XDPLAB_ETH_P_IP 0x0800
#define XDPLAB_ETH_P_ARP 0x0806
#define XDPLAB_ETH_P_8021Q 0x8100
#define XDPLAB_ETH_P_8021AD 0x88a8
#define XDPLAB_ETH_P_IPV6 0x86dd

#define XDPLAB_IPPROTO_HOPOPTS 0
#define XDPLAB_IPPROTO_ICMP 1
#define XDPLAB_IPPROTO_TCP 6
#define XDPLAB_IPPROTO_UDP 17
#define XDPLAB_IPPROTO_ROUTING 43
#define XDPLAB_IPPROTO_FRAGMENT 44
#define XDPLAB_IPPROTO_AH 51
#define XDPLAB_IPPROTO_ICMPV6 58
#define XDPLAB_IPPROTO_DSTOPTS 60
#define XDPLAB_IPPROTO_MH 135
#define XDPLAB_IPPROTO_HIP 139
#define XDPLAB_IPPROTO_SHIM6 140

/* Bounded walks, as in the model (VLAN_MAX_DEPTH, IPV6_EXT_MAX). */
#define XDPLAB_VLAN_MAX_DEPTH 2
#define XDPLAB_IPV6_EXT_MAX 8

/* Header offsets are masked to this bound so the verifier sees a bounded packet offset.
 * A header starting beyond it is reported as truncated; test_run and veth frames are
 * shorter than this anyway (PAGE_SIZE minus headroom). */
#define XDPLAB_MAX_HDR_OFF 4095

/* Bytes of L4 payload hashed into the ring buffer event's payload_hash. */
#define XDPLAB_PAYLOAD_HASH_LEN 64
#define XDPLAB_FNV_BASIS 0x811c9dc5u
#define XDPLAB_FNV_PRIME 0x01000193u

/* Map sizes. */
#define XDPLAB_MAX_BINDINGS 1024
#define XDPLAB_XSKMAP_SIZE 256
#define XDPLAB_MAX_SESSIONS 65536
#define XDPLAB_MAX_LOCAL_ADDRS 256
#define XDPLAB_MAX_DNAT_RULES 1024
#define XDPLAB_DEVMAP_SIZE 64
#define XDPLAB_EVENTS_BYTES (1 << 20)

/* Counter slot (not a reason) counting events the ring buffer had no room for. */
#define XDPLAB_CNT_EVENT_LOST 255

/* ctrl.fallback_mode: where a packet without a usable binding goes (non-strict). */
#define XDPLAB_FALLBACK_PASS 0     /* XDP_PASS: the kernel stack is the fallback */
#define XDPLAB_FALLBACK_TAILCALL 1 /* tail call into fallback_prog[0] (a legacy program) */

/* ctrl.tx_mode: the veth "peer without XDP program" demonstration (CATALOGUE, kernel gotchas). */
#define XDPLAB_TX_OFF 0    /* the normal pipeline */
#define XDPLAB_TX_XDP_TX 1 /* bounce every frame back out of its ingress device (MACs swapped) */
#define XDPLAB_TX_DEVMAP 2 /* MACs swapped, then redirect into tx_devmap[0]; XDP_DROP when empty */

/* ctrl.bugs: CATALOGUE section A switches that live in the shim (same names as the model). */
#define XDPLAB_BUG_FALLBACK_DROPS (1u << 0)         /* fallbackDrops */
#define XDPLAB_BUG_MISSING_BINDING_PASSES (1u << 1) /* missingBindingPasses */
#define XDPLAB_BUG_IGNORE_SESSION_MAP (1u << 2)     /* ignoreSessionMap */
#define XDPLAB_BUG_ABI_DRIFT (1u << 3)              /* abiDrift */

/* Session key port value meaning "any port" in a DNAT rule key. */
#define XDPLAB_DNAT_ANY_PORT 0x10000u

#endif /* XDPLAB_CONSTS_H */
