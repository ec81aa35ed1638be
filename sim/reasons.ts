// The one list of reason codes (DESIGN §2: every packet that is not forwarded ends with
// exactly one reason). Numbers are stable: they appear in the metadata ABI, in the C
// code (generated from this file later) and in saved traces. Append; never renumber.
//
// Each entry: code, stage that assigns it, name (snake_case, used in path.jsonl,
// counters and drops.pcapng comments), and a sentence for docs/reasons.md.

export interface ReasonInfo {
  readonly code: number;
  readonly stage: Stage;
  readonly name: string;
  readonly doc: string;
}

export type Stage =
  | "control"
  | "shim"
  | "xsk.rx"
  | "worker.parse"
  | "lookup"
  | "nat.pre"
  | "fib"
  | "nat.post"
  | "txq"
  | "xsk.tx"
  | "kernel"
  | "run";

const LIST = [
  // control / shim (1..49)
  { code: 1, stage: "control", name: "not_armed", doc: "userspace forwarding is not armed (ctrl map disabled); the shim passes to the kernel" },
  { code: 2, stage: "control", name: "abi_mismatch", doc: "the ctrl map's ABI version differs from the shim's" },
  { code: 3, stage: "control", name: "heartbeat_stale", doc: "the worker's heartbeat is older than the timeout; the shim stops steering" },
  { code: 4, stage: "control", name: "binding_missing", doc: "no binding for (ifindex, queue)" },
  { code: 5, stage: "control", name: "binding_not_ready", doc: "the binding exists but is not marked ready" },
  { code: 6, stage: "shim", name: "parse_error", doc: "the shim could not parse the frame" },
  { code: 7, stage: "shim", name: "not_ip", doc: "not IPv4/IPv6 (ARP, LLDP, …): left to the kernel" },
  { code: 8, stage: "shim", name: "local_delivery", doc: "addressed to the router itself with no session or DNAT rule: delivered locally by the kernel" },
  { code: 9, stage: "shim", name: "xskmap_empty", doc: "the XSKMAP slot is empty: bpf_redirect_map returned its flags action" },
  { code: 10, stage: "shim", name: "fallback", doc: "handed to the legacy/fallback program (kernel path)" },
  { code: 11, stage: "shim", name: "fallback_failed", doc: "the fallback tail call failed and the shim dropped the packet" },
  { code: 12, stage: "shim", name: "strict_no_binding", doc: "strict mode: no usable binding, dropped instead of passed to the kernel" },
  { code: 13, stage: "shim", name: "session_to_kernel", doc: "the session-steering map marks this flow as kernel-owned" },
  { code: 14, stage: "shim", name: "meta_no_room", doc: "bpf_xdp_adjust_meta failed: no room for the metadata block" },
  { code: 15, stage: "shim", name: "aborted", doc: "XDP_ABORTED (xdp:xdp_exception)" },
  { code: 16, stage: "shim", name: "cpumap", doc: "redirected to a cpumap entry (kernel path on another CPU)" },
  // xsk.rx (50..69): kernel side of AF_XDP receive
  { code: 50, stage: "xsk.rx", name: "fill_empty", doc: "the fill ring was empty: rx_dropped and rx_fill_ring_empty_descs count" },
  { code: 51, stage: "xsk.rx", name: "rx_full", doc: "the RX ring was full: rx_ring_full counts; the frame returns to the pool" },
  { code: 52, stage: "xsk.rx", name: "redirect_err_unbound", doc: "the XSKMAP slot's socket is not bound (-ENXIO, xdp:xdp_redirect_err)" },
  { code: 53, stage: "xsk.rx", name: "redirect_err_wrong_queue", doc: "the XSKMAP slot's socket is bound to another device or queue (-EINVAL, xdp:xdp_redirect_err)" },
  { code: 54, stage: "xsk.rx", name: "frame_too_small", doc: "the packet does not fit the UMEM frame (-ENOSPC; rx_dropped counts)" },
  { code: 55, stage: "xsk.rx", name: "link_down", doc: "the ingress link was down" },
  { code: 56, stage: "xsk.rx", name: "socket_dead", doc: "zero-copy driver: after a link cycle the socket is still bound but its queue lost the socket; the NIC drops the packet until the socket is re-created" },
  // worker.parse (70..89)
  { code: 70, stage: "worker.parse", name: "meta_bad_magic", doc: "metadata block magic is wrong" },
  { code: 71, stage: "worker.parse", name: "meta_bad_version", doc: "metadata ABI version differs from the worker's" },
  { code: 72, stage: "worker.parse", name: "meta_stale_generation", doc: "metadata config/FIB generation is older than the worker's" },
  { code: 73, stage: "worker.parse", name: "meta_tuple_mismatch", doc: "metadata tuple disagrees with the frame" },
  { code: 74, stage: "worker.parse", name: "malformed", doc: "the frame is malformed or truncated" },
  { code: 75, stage: "worker.parse", name: "vlan_unknown", doc: "a VLAN tag with a non-zero VID on an untagged interface: Linux marks it PACKET_OTHERHOST and ip_rcv drops it (VID 0 priority tags are stripped and the packet routed)" },
  { code: 76, stage: "worker.parse", name: "ip_csum_bad", doc: "the IPv4 header checksum is wrong: Linux's ip_rcv drops it (InCsumErrors)" },
  // lookup / policy (90..109)
  { code: 90, stage: "lookup", name: "policy_deny", doc: "a new flow denied by policy" },
  { code: 91, stage: "lookup", name: "no_session", doc: "a packet that needs a session (not a flow start) found none" },
  { code: 92, stage: "lookup", name: "session_closing", doc: "the session is closed" },
  // nat.pre / nat.post (110..129)
  { code: 110, stage: "nat.post", name: "snat_exhausted", doc: "no free translated tuple for SNAT: counted drop, never a reuse" },
  { code: 111, stage: "nat.pre", name: "fragment_no_session", doc: "a non-first fragment whose first fragment was not seen" },
  { code: 112, stage: "nat.post", name: "session_table_full", doc: "the session table is full" },
  // fib (130..149)
  { code: 130, stage: "fib", name: "no_route", doc: "no route to the destination: ICMP net unreachable / ICMPv6 no route is sent, as Linux does" },
  { code: 131, stage: "fib", name: "ttl_expired", doc: "TTL/hop limit would reach zero: ICMP time exceeded is sent" },
  { code: 132, stage: "fib", name: "mtu_exceeded", doc: "larger than the egress MTU: ICMP fragmentation needed / packet too big is sent" },
  { code: 133, stage: "fib", name: "mtu_exceeded_df_clear", doc: "larger than the egress MTU, DF clear: dropped by policy (the worker does not fragment)" },
  { code: 134, stage: "fib", name: "neigh_unresolved", doc: "the next hop's neighbour never resolved within the hold time" },
  { code: 135, stage: "fib", name: "neigh_hold_full", doc: "the neighbour hold queue was full" },
  { code: 136, stage: "fib", name: "egress_down", doc: "the egress link is down" },
  { code: 137, stage: "fib", name: "martian", doc: "source or destination is not routable (loopback, multicast, unspecified)" },
  // txq (150..169)
  { code: 150, stage: "txq", name: "pending_tx_full", doc: "pending TX queue at maxPendingTx: counted drop, frame recycled" },
  { code: 151, stage: "txq", name: "no_tx_frame", doc: "no free TX frame and no room to hold a copy" },
  // xsk.tx / wire (170..189)
  { code: 170, stage: "xsk.tx", name: "tx_invalid_desc", doc: "the kernel rejected a TX descriptor (tx_invalid_descs)" },
  { code: 171, stage: "xsk.tx", name: "link_down_tx", doc: "the egress link was down when the frame was transmitted" },
  { code: 172, stage: "xsk.tx", name: "veth_peer_no_xdp", doc: "XDP_TX or devmap redirect into a veth whose peer has no XDP program and no GRO (XDP_TX: -ENXIO; devmap: -EOPNOTSUPP at enqueue)" },
  // kernel sink reasons beyond the shim's (190..199)
  { code: 190, stage: "kernel", name: "worker_to_kernel", doc: "the worker handed the packet to the kernel (slow path)" },
  // run (200..)
  { code: 200, stage: "run", name: "in_flight", doc: "still queued when the run ended after its drain period" },
] as const satisfies readonly ReasonInfo[];

export type ReasonName = (typeof LIST)[number]["name"];

export const REASONS: readonly ReasonInfo[] = LIST;

const BY_NAME = new Map<string, ReasonInfo>();
const BY_CODE = new Map<number, ReasonInfo>();
for (const r of LIST) {
  if (BY_NAME.has(r.name) || BY_CODE.has(r.code)) throw new Error(`duplicate reason ${r.name}/${r.code}`);
  BY_NAME.set(r.name, r);
  BY_CODE.set(r.code, r);
}

export function reasonByName(name: string): ReasonInfo | undefined {
  return BY_NAME.get(name);
}
export function reasonName(code: number): string {
  return BY_CODE.get(code)?.name ?? `reason_${code}`;
}

/** Numeric constants for the hot path: R.fill_empty === 50. */
export const R = Object.freeze(Object.fromEntries(LIST.map((r) => [r.name, r.code]))) as { readonly [K in ReasonName]: number };
