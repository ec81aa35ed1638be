// One scenario run on a real kernel (`xdplab live <scenario>`, DESIGN §7.3): owns the
// order of bring-up and teardown and what is collected. Lab topology (DUT namespace +
// one far side per scenario interface, DUT ip_forward=0, no addresses), the shim on every
// DUT interface, its maps programmed from the scenario, the native worker's AF_XDP
// sockets put into the shim's XSKMAPs, frames injected from the far sides at the
// capture's pacing, far sides captured; then XDP_STATISTICS, shim reason counters, the
// shim's per-packet ring-buffer events, worker counters and xdp tracepoint counts.
//
// Map access, the ring buffer and XDP_STATISTICS go through libbpf/libc by koffi in this
// process: the native worker's sockets are file descriptors of this very process (its
// thread creates them), and a pinned map fd from bpf_obj_get is namespace-independent.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { EnvironmentError, UsageError } from "../sim/errors.js";
import { reasonName } from "../sim/reasons.js";
import type { Scenario } from "../sim/scenario/types.js";
import type { InputPackets } from "../sim/scenario/input.js";
import { META_VERSION } from "../sim/xdp/abi.js";
import { PacketView, decode } from "../sim/packet/view.js";
import { LINKTYPE_ETHERNET } from "../sim/packet/linktypes.js";
import { ControlMap } from "../sim/xdp/maps.js";
import { LabBpf, ctrlBytes, loader, shimObject, u32le } from "./attach.js";
import type { AttachedProgram } from "./attach.js";
import { NativeLiveWorker, nativeUnsupported, NATIVE_BUGS } from "./native.js";
import type { LiveHookKind } from "./native.js";
import { preflight, TraceSession } from "./preflight.js";
import { runPktio, startCapture } from "./pktio.js";
import type { Port } from "./pktio.js";
import { writeEthernetPcap } from "./pcapio.js";
import { Topology } from "./topology.js";
import type { NicPair } from "./realnic.js";
import { startResponder } from "./responder.js";
import type { Responder, ResponderCounts } from "./responder.js";
import { Sim } from "../sim/run.js";
import type { RunSink } from "../sim/run.js";

const require = createRequire(import.meta.url);

/** Faults the kernel cannot inject: live runs play them as native-worker hooks
 *  (native/src/live.c), labelled HOOK_LABEL in every report. */
export const KERNEL_UNINJECTABLE_FAULTS = ["tx_stall", "completion_delay"] as const;
export const HOOK_LABEL = "native-worker hook, not a kernel fault";

/** One fault as the live run played it. */
export interface LiveHook {
  kind: LiveHookKind;
  /** Scenario interface name, or null for every interface. */
  iface: string | null;
  queue: number | null;
  atNs: number;
  forNs: number;
  /** What the live worker does for the window (the model's fault is not the same act). */
  effect: string;
  label: typeof HOOK_LABEL;
}

/** The live hooks for scn's kernel-uninjectable faults. completion_delay: the model delays
 *  each completion by `delay` during the window; the hook withholds reaping for the window. */
export function liveHooks(scn: Scenario): LiveHook[] {
  const out: LiveHook[] = [];
  for (const f of scn.faults) {
    if (f.kind !== "tx_stall" && f.kind !== "completion_delay") continue;
    out.push({
      kind: f.kind,
      iface: f.iface === null ? null : scn.interfaces[f.iface]?.name ?? `#${f.iface}`,
      queue: f.queue,
      atNs: f.atNs,
      forNs: f.forNs,
      effect: f.kind === "tx_stall" ? "worker sends no TX kick and does not poll() the socket; descriptors stay on the TX ring" : "worker does not reap the completion ring",
      label: HOOK_LABEL,
    });
  }
  return out;
}
/** Shim bug bits (bpf/xdplab_consts.h XDPLAB_BUG_*): the live shim has these switches. */
export const SHIM_BUG_BITS: Readonly<Record<string, number>> = { fallbackDrops: 1, missingBindingPasses: 2, ignoreSessionMap: 4, abiDrift: 8 };
/** Tracepoints counted during a run (those this kernel lacks are skipped). */
export const RUN_TRACEPOINTS = ["xdp_redirect_err", "xdp_exception", "xdp_bulk_tx", "xdp_devmap_xmit", "xdp_redirect_map_err"] as const;

/**
 * Why scn cannot run live (null when it can). Live runs the native worker (router and
 * NAT: the shim's dnat_rules/ifnat_addrs are programmed from the scenario and the worker
 * keeps the shim's sessions map) on veths: one queue per interface (the far side of a veth has one TX queue, so
 * every frame lands on queue 0), no responder, no faults but TX stall and completion
 * delay (no kernel knob: native-worker hooks; the others — link cycles, worker pauses,
 * bindings zeroed, … — are not driven live yet), copy-mode AF_XDP on veth. The heartbeat
 * check is left off live (ctrl.heartbeat_timeout_ns 0): the live worker does not write
 * heartbeats, and without worker_pause faults the model's heartbeat is always fresh.
 */
export function liveRefusal(scn: Scenario, realNics = false): string | null {
  const n = nativeUnsupported(scn);
  if (n !== null) return `the native worker cannot run it: ${n}`;
  const other = scn.faults.filter((f) => !(KERNEL_UNINJECTABLE_FAULTS as readonly string[]).includes(f.kind));
  if (other.length > 0) return `fault ${other[0]!.kind} is not driven in live runs yet; run it with 'xdplab replay' or 'xdplab diff --offline'`;
  const liveBugs = new Set<string>([...NATIVE_BUGS, ...Object.keys(SHIM_BUG_BITS)]);
  const otherBugs = Object.entries(scn.bugs).filter(([k, v]) => v && !liveBugs.has(k)).map(([k]) => k);
  if (otherBugs.length > 0) return `bug switch ${otherBugs.join(", ")} acts in the model's bring-up or kernel model, which a live run cannot switch`;
  if (!realNics) {
    const mq = scn.interfaces.find((i) => i.queues !== 1);
    if (mq !== undefined) return `interface ${mq.name} has ${mq.queues} queues: on veth every injected frame arrives on queue 0, so the model's queue hash cannot be reproduced`;
    if (scn.dataplane.driver === "zerocopy" || scn.dataplane.bindMode === "zerocopy") return "driver/bindMode zerocopy: veth has no AF_XDP zero-copy (EOPNOTSUPP at bind); use --iface with a NIC that supports it";
  }
  return null;
}

// ---------------------------------------------------------------- real NICs (DESIGN §7.4)

/** Parses `lan=eth1,wan=eth2` against the scenario's interface names (`flag`: --iface or --far). */
export function parseIfaceMap(spec: string, scn: Scenario, flag = "--iface"): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of spec.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0 || eq === part.length - 1) throw new UsageError(`${flag} expects name=NIC[,name=NIC…], found '${part}'`);
    const k = part.slice(0, eq);
    const v = part.slice(eq + 1);
    if (scn.interfaces.find((i) => i.name === k) === undefined) throw new UsageError(`${flag} ${k}: the scenario has no interface of that name (it has ${scn.interfaces.map((i) => i.name).join(", ")})`);
    if (!/^[A-Za-z0-9_.@-]{1,15}$/.test(v)) throw new UsageError(`${flag} ${k}=${v}: not an interface name`);
    if (m.has(k)) throw new UsageError(`${flag} names ${k} twice`);
    if ([...m.values()].includes(v)) throw new UsageError(`${flag} gives ${v} to two scenario interfaces`);
    m.set(k, v);
  }
  for (const i of scn.interfaces) if (!m.has(i.name)) throw new UsageError(`${flag} must name a NIC for every scenario interface; ${i.name} is missing`);
  return m;
}

/** Devices carrying a default route in the caller's namespace (IPv4 and IPv6). */
export function defaultRouteDevices(): string[] {
  const devs = new Set<string>();
  for (const fam of ["-4", "-6"]) {
    try {
      const j = JSON.parse(execFileSync("ip", ["-j", fam, "route", "show", "default"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })) as Array<{ dev?: string; nexthops?: Array<{ dev?: string }> }>;
      for (const r of j) {
        if (r.dev !== undefined) devs.add(r.dev);
        for (const h of r.nexthops ?? []) if (h.dev !== undefined) devs.add(h.dev);
      }
    } catch {
      // no ip, or no IPv6: nothing to add
    }
  }
  return [...devs].sort();
}

/** The safety checks before touching a user's NICs: explicit confirmation, and no NIC
 *  that carries a default route unless forced. Pure: the caller passes the route list. */
export function checkRealNics(map: ReadonlyMap<string, string>, o: { confirmed: boolean; force: boolean; defaultRouteDevs: readonly string[] }): void {
  if (!o.confirmed) {
    throw new UsageError(`--iface attaches XDP programs and binds AF_XDP sockets on real interfaces (${[...map.values()].join(", ")}), taking their traffic away from the kernel; add --i-understand-this-uses-real-nics to confirm`);
  }
  const bad = [...map.values()].filter((d) => o.defaultRouteDevs.includes(d));
  if (bad.length > 0 && !o.force) {
    throw new UsageError(`${bad.join(", ")} carries this machine's default route: the run would cut its connectivity (and possibly your session); pick lab NICs, or add --force if you really mean it`);
  }
}

// ---------------------------------------------------------------- libbpf / libc via koffi

/* eslint-disable @typescript-eslint/no-explicit-any */
interface Sys {
  koffi: any;
  objGet: (p: string) => number;
  mapUpdate: (fd: number, k: Uint8Array, v: Uint8Array, flags: number) => number;
  rbNew: (fd: number, cb: unknown, ctx: null, opts: null) => unknown;
  rbConsume: (rb: unknown) => number;
  rbFree: (rb: unknown) => void;
  cbType: unknown;
  getsockopt: (fd: number, level: number, opt: number, buf: Uint8Array, len: number[]) => number;
  close: (fd: number) => number;
}
let sys: Sys | null = null;

function loadSys(): Sys {
  if (sys !== null) return sys;
  const koffi = require("koffi");
  let bpf: any;
  try {
    bpf = koffi.load("libbpf.so.1");
  } catch (e) {
    throw new EnvironmentError(`live mode needs libbpf (libbpf.so.1): apt-get install libbpf1 (${(e as Error).message})`);
  }
  const libc = koffi.load("libc.so.6");
  const cbProto = koffi.proto("int xdplab_rb_cb(void *ctx, void *data, size_t size)");
  sys = {
    koffi,
    objGet: bpf.func("int bpf_obj_get(const char *path)"),
    mapUpdate: bpf.func("int bpf_map_update_elem(int fd, const uint8_t *key, const uint8_t *value, uint64_t flags)"),
    rbNew: bpf.func("void *ring_buffer__new(int fd, xdplab_rb_cb *cb, void *ctx, void *opts)"),
    rbConsume: bpf.func("int ring_buffer__consume(void *rb)"),
    rbFree: bpf.func("void ring_buffer__free(void *rb)"),
    cbType: koffi.pointer(cbProto),
    getsockopt: libc.func("int getsockopt(int fd, int level, int opt, _Out_ uint8_t *buf, _Inout_ uint32_t *len)"),
    close: libc.func("int close(int fd)"),
  };
  return sys;
}

function objGet(S: Sys, pin: string): number {
  const fd = S.objGet(pin);
  if (fd < 0) throw new EnvironmentError(`bpf_obj_get ${pin}: error ${fd} (is bpffs mounted and the shim attached?)`);
  return fd;
}

function mapPut(S: Sys, fd: number, what: string, k: Uint8Array, v: Uint8Array): void {
  const rc = S.mapUpdate(fd, k, v, 0);
  if (rc !== 0) throw new EnvironmentError(`map update ${what}: error ${rc}`);
}

/** One shim ring-buffer event (struct xdplab_event, bpf/xdplab_structs.h). */
export interface ShimEvent {
  iface: string;
  tsNs: number;
  queue: number;
  verdict: number;
  ipVersion: number;
  ipProto: number;
  flags: number;
  reason: number;
  pktLen: number;
  ipId: number;
  flowLabel: number;
  srcPort: number;
  dstPort: number;
  tcpSeq: number;
  payloadHash: number;
  slot: number;
}

export function decodeShimEvent(iface: string, b: Uint8Array): ShimEvent {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    iface,
    tsNs: Number(v.getBigUint64(0, true)),
    queue: v.getUint32(12, true),
    verdict: v.getUint8(16),
    ipVersion: v.getUint8(17),
    ipProto: v.getUint8(18),
    flags: v.getUint8(19),
    reason: v.getUint16(20, true),
    pktLen: v.getUint16(22, true),
    ipId: v.getUint32(24, true),
    flowLabel: v.getUint32(28, true),
    srcPort: v.getUint16(32, true),
    dstPort: v.getUint16(34, true),
    tcpSeq: v.getUint32(36, true),
    payloadHash: v.getUint32(40, true),
    slot: v.getUint32(44, true),
  };
}

class RingReader {
  private readonly rb: unknown;
  private readonly cb: unknown;
  readonly events: ShimEvent[] = [];
  constructor(private readonly S: Sys, fd: number, iface: string) {
    this.cb = S.koffi.register((_ctx: unknown, data: unknown, size: number | bigint): number => {
      const n = Number(size);
      const bytes = new Uint8Array(S.koffi.decode(data, S.koffi.array("uint8_t", n, "Typed")) as Uint8Array);
      if (n >= 48) this.events.push(decodeShimEvent(iface, bytes));
      return 0;
    }, S.cbType);
    this.rb = S.rbNew(fd, this.cb, null, null);
    if (this.rb === null) throw new EnvironmentError("ring_buffer__new failed on the shim's events map");
  }
  drain(): void {
    this.S.rbConsume(this.rb);
  }
  free(): void {
    this.drain();
    this.S.rbFree(this.rb);
    this.S.koffi.unregister(this.cb);
  }
}

const XDP_STAT_NAMES = ["rx_dropped", "rx_invalid_descs", "tx_invalid_descs", "rx_ring_full", "rx_fill_ring_empty_descs", "tx_ring_empty_descs"] as const;
export type XdpStats = { iface: string; queue: number } & Record<(typeof XDP_STAT_NAMES)[number], number>;

/** AF_XDP socket fds of this process, in creation order (lowest fd first). */
function xdpSocketFds(S: Sys): number[] {
  const out: number[] = [];
  for (const n of readdirSync("/proc/self/fd")) {
    const fd = Number(n);
    let link = "";
    try {
      link = readlinkSync(`/proc/self/fd/${n}`);
    } catch {
      continue;
    }
    if (!link.startsWith("socket:")) continue;
    const buf = new Uint8Array(4);
    const len = [4];
    // SOL_SOCKET 1, SO_DOMAIN 39; AF_XDP 44
    if (S.getsockopt(fd, 1, 39, buf, len) === 0 && new DataView(buf.buffer).getInt32(0, true) === 44) out.push(fd);
  }
  return out.sort((a, b) => a - b);
}

function xdpStatistics(S: Sys, fd: number): number[] {
  const buf = new Uint8Array(48);
  const len = [48];
  // SOL_XDP 283, XDP_STATISTICS 7
  if (S.getsockopt(fd, 283, 7, buf, len) !== 0) return XDP_STAT_NAMES.map(() => -1);
  const v = new DataView(buf.buffer);
  return XDP_STAT_NAMES.map((_, i) => (i * 8 < (len[0] ?? 0) ? Number(v.getBigUint64(i * 8, true)) : 0));
}

// ---------------------------------------------------------------- the run

export interface LiveOptions {
  /** Inject back to back instead of at the capture's pacing. */
  asFastAsPossible?: boolean;
  /** Quiet time after the last frame before the capture stops (default 300 ms). */
  settleMs?: number;
  log?: (line: string) => void;
  /** Awaited after bring-up, before traffic (the kill test holds here). */
  hold?: (prefix: string) => Promise<void>;
  /** Named NICs instead of veths (docs/live-nics.md): one cabled pair per scenario
   *  interface, in the scenario's order (live/realnic.ts pairNics); setMac gives the DUT
   *  NICs the scenario's MACs. */
  nics?: { pairs: readonly NicPair[]; setMac: boolean };
}

export interface LiveFrame {
  iface: string;
  tNs: number;
  data: Uint8Array;
}

export interface LiveResult {
  prefix: string;
  paced: boolean;
  injected: Array<{ i: number; iface: string; error: string | null }>;
  events: ShimEvent[];
  eventsLost: number;
  /** Frames captured on each far side (what the DUT sent out of that interface). */
  outputs: LiveFrame[];
  /** Shim reason counters per interface (nonzero entries; "redirect" = slot 0). */
  shimCounters: Record<string, Record<string, number>>;
  xdpStatistics: XdpStats[];
  worker: Record<string, number>;
  tracepoints: Record<string, number>;
  tracepointErrors: Array<{ event: string; err: string }>;
  /** Faults played by the worker on itself (HOOK_LABEL), and what they did. */
  hooks: LiveHook[];
  hookStats: { firstFrameNs: number; kicksWithheld: number; reapsWithheld: number; hookedTurns: number } | null;
  /** `respond: "reflect"`: the far-side responders' counts, by interface (absent otherwise). */
  responders?: Record<string, ResponderCounts>;
  /** Runs with --iface: the named NICs of each scenario interface (absent on veths). */
  nics?: NicPair[];
  wallMs: number;
}

/**
 * Where live responders go for `traffic.respond: "reflect"`. The model's far host answers
 * every frame that leaves on a wire except its own replies coming back through the router
 * (sim/run.ts: origin ≠ responder). A live responder cannot tell those apart by their bytes,
 * so it runs only on interfaces where, in the model, input-derived frames leave and
 * responder replies never do; a scenario where both leave on one interface is refused.
 * Decided by a model run of the same input (no outputs written).
 */
export function responderPlan(scn: Scenario, input: InputPackets): { ifaces: string[] } | { refusal: string } {
  const fromInput = new Set<string>();
  const fromReplies = new Set<string>();
  const sink: RunSink = {
    wantPath: true,
    path(rec) {
      if (rec.out !== "forwarded" || rec.fib === undefined) return;
      (rec.origin === "responder" ? fromReplies : fromInput).add(rec.fib.egress);
    },
    frameOut() {},
    kernel() {},
    drop() {},
  };
  new Sim(scn, input, sink, { seed: scn.seed }).runToEnd();
  const both = [...fromInput].filter((i) => fromReplies.has(i));
  if (both.length > 0) {
    return {
      refusal: `traffic.respond "reflect": in the model, forwarded requests and the responder's own replies both leave on ${both.join(", ")}; a live responder there cannot tell them apart, so it would answer its own replies`,
    };
  }
  return { ifaces: scn.interfaces.map((i) => i.name).filter((n) => fromInput.has(n)) };
}

/** struct xdplab_addr_key (bpf/xdplab_structs.h): family 4 or 6 (what the shim compares
 *  with the parsed IP version), 3 pad bytes, 16 address bytes (IPv4 in the first 4). */
export function addrKey(family: number, bytes: Uint8Array): Uint8Array {
  const k = new Uint8Array(20);
  k[0] = family;
  k.set(bytes.subarray(0, 16), 4);
  return k;
}

/** XDPLAB_DNAT_ANY_PORT (bpf/xdplab_consts.h): a DNAT rule without a port. */
export const DNAT_ANY_PORT = 0x10000;

/** struct xdplab_dnat_key: ifindex, port (host order, DNAT_ANY_PORT = any), proto (0 =
 *  any), family, 2 pad bytes, 16 address bytes. */
export function dnatKey(ifindex: number, proto: number, family: number, dst: Uint8Array, port: number | null): Uint8Array {
  const k = new Uint8Array(28);
  const v = new DataView(k.buffer);
  v.setUint32(0, ifindex >>> 0, true);
  v.setUint32(4, port === null ? DNAT_ANY_PORT : port, true);
  k[8] = proto;
  k[9] = family;
  k.set(dst.subarray(0, 16), 12);
  return k;
}

/**
 * The NAT-related shim map entries for scn — the content of the model's ShimMaps and
 * Shim (sim/xdp/): local_addrs = every interface address (the model's LocalAddrs);
 * ifnat_addrs = the egress addresses of SNAT "to": "interface" rules (value: that
 * egress's ifindex), already interface addresses, so local_addrs ∪ ifnat_addrs is still
 * exactly the model's local set; dnat_rules = each DNAT rule's match part keyed by its
 * ingress's real ifindex (the model's Shim.dnatMatches), value = the rule's index.
 * `sessions` starts empty in both and is the worker's (NativeLiveWorker.steerTo).
 */
export function natMapEntries(scn: Scenario, ifindexOf: readonly number[]): { local: Array<{ k: Uint8Array; v: Uint8Array }>; ifnat: Array<{ k: Uint8Array; v: Uint8Array }>; dnat: Array<{ k: Uint8Array; v: Uint8Array }> } {
  const local = scn.interfaces.flatMap((ifc) => ifc.addrs.map((a) => ({ k: addrKey(a.family, a.bytes), v: u32le(1) })));
  const ifnat: Array<{ k: Uint8Array; v: Uint8Array }> = [];
  for (const r of scn.nat.snat) {
    if (r.to !== "interface") continue;
    const eg = scn.interfaces[r.egress];
    if (eg === undefined) continue;
    for (const a of eg.addrs) ifnat.push({ k: addrKey(a.family, a.bytes), v: u32le(ifindexOf[r.egress] ?? 0) });
  }
  const dnat = scn.nat.dnat.map((r, i) => ({ k: dnatKey(ifindexOf[r.ingress] ?? 0, r.proto, r.dst.family, r.dst.bytes, r.port), v: u32le(i) }));
  return { local, ifnat, dnat };
}

/** Injects input packets [from, to) (all by default); result indices are input indices. */
async function injectPaced(ports: readonly Port[], input: InputPackets, asFast: boolean, maxMs: number, from = 0, to = input.count): Promise<Array<{ i: number; port: number; error: string | null }>> {
  const dir = mkdtempSync(path.join(tmpdir(), "xdplab-live-inject-"));
  try {
    const frames: Uint8Array[] = [];
    const ts: bigint[] = [];
    for (let i = from; i < to; i++) {
      frames.push(input.frame(i));
      ts.push(BigInt(Math.round(input.tNs[i]!)));
    }
    const pcap = path.join(dir, "in.pcap");
    writeEthernetPcap(pcap, frames, ts);
    writeFileSync(path.join(dir, "ports.txt"), Array.from({ length: to - from }, (_, k) => `${input.iface[from + k]}\n`).join(""));
    const args = ["inject", ...ports.flatMap((p) => ["--if", `${p.netns}:${p.ifname}`]), "--pcap", pcap, "--ifaces", path.join(dir, "ports.txt"), "--max-ms", String(maxMs), "--count", String(to - from)];
    if (asFast) args.push("--gap-us", "0");
    else args.push("--as-recorded");
    const r = await runPktio(args);
    if (r.code !== 0) throw new EnvironmentError(`xdplab-pktio inject: ${r.stderr.trim() || `exit ${r.code ?? r.signal}`}`);
    const res: Array<{ i: number; port: number; error: string | null }> = [];
    for (const line of r.lines) {
      const w = line.split(" ");
      if (w[0] === "sent") res.push({ i: from + Number(w[1]), port: Number(w[2]), error: null });
      else if (w[0] === "error") res.push({ i: from + Number(w[1]), port: Number(w[2]), error: w.slice(3).join(" ") });
    }
    return res;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** At most this many causal segments; a capture needing more is injected in one piece. */
export const MAX_CAUSAL_SEGMENTS = 64;

/**
 * Causal pacing for NAT scenarios: the input indices where injection pauses until the
 * worker has handled everything injected before (`waitCaught`). NAT makes a packet's fate
 * depend on the packets before it, and the captures put replies 20–300 µs after their
 * requests, less than a live request takes to be handled:
 * - a packet to one of the router's addresses is steered by the `sessions` map only if
 *   the worker has already published its flow's key (the model does it within the poll
 *   that handled the request; live it takes the thread's wake-up and a map update);
 * - a packet arriving on another interface than the one before lands on another AF_XDP
 *   socket, and one poll serves the bindings in index order, not in arrival order: a
 *   SYN-ACK on lan would be handled before its SYN on wan if both waited together.
 * A real peer cannot answer before the request reached it, so each such packet starts a
 * segment injected only after what preceded it was handled. Same-interface runs keep
 * their recorded pacing (one ring, FIFO). Without NAT: no boundaries. Pure; more than
 * MAX_CAUSAL_SEGMENTS boundaries → none (one paced injection, races allowed).
 */
export function causalBoundaries(scn: Scenario, input: InputPackets): number[] {
  if (scn.nat.snat.length === 0 && scn.nat.dnat.length === 0) return [];
  const local = new Set<string>();
  for (const ifc of scn.interfaces) for (const a of ifc.addrs) local.add(Buffer.from(a.bytes).toString("hex"));
  const v = new PacketView();
  const out: number[] = [];
  for (let i = 1; i < input.count; i++) {
    const f = input.frame(i);
    if (input.iface[i] !== input.iface[i - 1]) {
      out.push(i);
      continue;
    }
    if (decode(v, f, 0, f.length, LINKTYPE_ETHERNET) !== 0 || (v.ipVersion !== 4 && v.ipVersion !== 6)) continue;
    if (local.has(Buffer.from(f.subarray(v.dstOff, v.dstOff + v.addrLen)).toString("hex"))) out.push(i);
  }
  return out.length > MAX_CAUSAL_SEGMENTS ? [] : out;
}

/** The shim object: $XDPLAB_SHIM_OBJ (another build of bpf/xdplab_shim.c) or bpf/build. */
export function shimObjectPath(): string {
  const e = process.env["XDPLAB_SHIM_OBJ"];
  return e !== undefined && e !== "" ? path.resolve(e) : shimObject();
}

/** LabBpf.attach for the shim, with the object from shimObjectPath(); pins under the
 *  run's bpffs dir (tracked by LabBpf), detached with the namespace. */
function attachShim(bpf: LabBpf, prefix: string, netns: string, ifname: string, mode: "native" | "generic"): AttachedProgram {
  if (process.env["XDPLAB_SHIM_OBJ"] === undefined) return bpf.attach(netns, ifname, "shim", mode);
  const pinDir = path.join(bpf.dir, `shim-${netns.slice(prefix.length)}-${ifname}`);
  const j = loader(["attach", "--netns", netns, "--if", ifname, "--obj", shimObjectPath(), "--prog", "xdplab_shim", "--pin-dir", pinDir, "--mode", mode]);
  return { netns, ifname, ifindex: Number(j["ifindex"]), progId: Number(j["prog_id"]), pinDir };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits (bounded: 1 s) until the live side has handled the `injected` frames sent so far:
 * the shim has decided each (one ring-buffer event per frame), the worker has received
 * every frame the shim redirected, and has begun two more polls (each poll_rx publishes
 * its steering keys at its end) — then at least the recorded gap to the next packet.
 */
async function waitCaught(worker: NativeLiveWorker, readers: readonly RingReader[], injected: number, gapNs: number): Promise<void> {
  const t0 = performance.now();
  const deadline = t0 + 1000;
  let polls0 = -1;
  while (performance.now() < deadline) {
    readers.forEach((r) => r.drain());
    const ev = readers.reduce((n, r) => n + r.events.length, 0);
    const redirected = readers.reduce((n, r) => n + r.events.filter((e) => e.verdict === 1).length, 0);
    const c = worker.counters();
    if (ev >= injected && (c["rx"] ?? 0) >= redirected) {
      if (polls0 < 0) polls0 = c["polls"] ?? 0;
      else if ((c["polls"] ?? 0) >= polls0 + 2) break;
    }
    await sleep(1);
  }
  const left = gapNs / 1e6 - (performance.now() - t0);
  if (left >= 1) await sleep(left);
}

/** Runs scn's input on the lab's veth topology with the shim and the native worker. */
export async function runLive(scn: Scenario, input: InputPackets, opts: LiveOptions = {}): Promise<LiveResult> {
  const refusal = liveRefusal(scn, opts.nics !== undefined);
  if (refusal !== null) throw new EnvironmentError(`${scn.name} cannot run live: ${refusal}`);
  if (input.count === 0) throw new UsageError(`${scn.name} has no input packets`);
  if (input.count > 100_000) throw new UsageError(`${input.count} input packets; live runs are bounded to 100000`);
  const pre = preflight();
  if (!pre.ok) throw new EnvironmentError(`not ready: ${pre.problems.join("; ")} (see 'xdplab live --preflight')`);
  const log = opts.log ?? ((): void => undefined);
  const S = loadSys();
  const t0 = Date.now();
  const topo = Topology.create({ interfaces: scn.interfaces.map((i) => ({ name: i.name, mac: i.mac, mtu: i.mtu })), ipForward: false, file: scn.file, ...(opts.nics === undefined ? {} : { nics: opts.nics.pairs, setMac: opts.nics.setMac }) });
  if (topo.realNics) log(`lab ${topo.prefix}: named NICs ${topo.ifaces.map((i) => `${i.name}=${i.nic?.dut ?? "?"}/${i.nic?.far ?? "?"}`).join(", ")} moved in${topo.notes.length > 0 ? `; not pinned: ${topo.notes.join("; ")}` : ""}`);
  const bpf = new LabBpf(topo);
  const fds: number[] = [];
  const readers: RingReader[] = [];
  const responders = new Map<string, Responder>();
  let worker: NativeLiveWorker | null = null;
  try {
    const plan = scn.traffic.respond === "reflect" ? responderPlan(scn, input) : { ifaces: [] };
    if ("refusal" in plan) throw new EnvironmentError(`${scn.name} cannot run live: ${plan.refusal}`);
    const avail = new Set(pre.tracepoints);
    const tps = RUN_TRACEPOINTS.filter((t) => avail.has(t));
    const trace = TraceSession.open(topo, tps);
    const shims: AttachedProgram[] = [];
    for (const ifc of topo.ifaces) shims.push(attachShim(bpf, topo.prefix, ifc.dut.netns, ifc.dut.name, scn.dataplane.attach));
    log(`lab ${topo.prefix}: shim attached (${scn.dataplane.attach}) on ${shims.map((s) => `${s.ifname}#${s.ifindex}`).join(", ")}; pins in ${bpf.dir}`);
    // Maps: local addresses and NAT (ifnat_addrs, dnat_rules; every shim gets all of
    // them, as the model's one ShimMaps serves every interface), then the sockets (XSKMAP
    // slot = queue: libxdp's xsk_socket__update_xskmap keys by queue id), then bindings
    // and arming. Each shim's `sessions` map goes to the worker, which keeps it.
    const mapFd = (a: AttachedProgram, name: string): number => {
      const fd = objGet(S, path.join(a.pinDir, name));
      fds.push(fd);
      return fd;
    };
    const xsksFd: number[] = [];
    const sessFd: number[] = [];
    const nat = natMapEntries(scn, shims.map((a) => a.ifindex));
    shims.forEach((a) => {
      const lfd = mapFd(a, "local_addrs");
      for (const e of nat.local) mapPut(S, lfd, `local_addrs ${a.ifname}`, e.k, e.v);
      if (nat.ifnat.length > 0) {
        const ifd = mapFd(a, "ifnat_addrs");
        for (const e of nat.ifnat) mapPut(S, ifd, `ifnat_addrs ${a.ifname}`, e.k, e.v);
      }
      if (nat.dnat.length > 0) {
        const dfd = mapFd(a, "dnat_rules");
        for (const e of nat.dnat) mapPut(S, dfd, `dnat_rules ${a.ifname}`, e.k, e.v);
      }
      sessFd.push(mapFd(a, "sessions"));
      xsksFd.push(mapFd(a, "xsks"));
    });
    if (nat.ifnat.length + nat.dnat.length > 0) log(`NAT maps: ${nat.ifnat.length} ifnat_addrs, ${nat.dnat.length} dnat_rules entries per shim`);
    // Generations: the model's initial ones on both sides. The worker drops metadata older
    // than its own (meta_stale_generation); a zeroed ctrl entry would make every frame stale.
    const gens = new ControlMap();
    worker = new NativeLiveWorker(scn);
    worker.setGens(gens.configGen, gens.fibGen);
    worker.steerTo(sessFd, scn.timing.timerNs);
    worker.anchorClock(input.tNs[0] ?? 0);
    worker.bindings.forEach((b, i) => {
      const k = scn.interfaces.findIndex((x) => x.name === b.iface);
      // Zero-copy only on named NICs (liveRefusal keeps it off veths).
      worker!.bind(i, b.iface, b.queue, xsksFd[k]!, topo.realNics && (scn.dataplane.driver === "zerocopy" || scn.dataplane.bindMode === "zerocopy"));
    });
    const hooks = liveHooks(scn);
    for (const hk of hooks) {
      worker.bindings.forEach((b, i) => {
        if ((hk.iface === null || hk.iface === b.iface) && (hk.queue === null || hk.queue === b.queue)) worker!.hook(hk.kind, i, hk.atNs, hk.forNs);
      });
    }
    if (hooks.length > 0) log(`fault hooks (${HOOK_LABEL}): ${hooks.map((h) => `${h.kind} ${h.iface ?? "all"} +${h.atNs / 1e6}ms for ${h.forNs / 1e6}ms`).join(", ")}`);
    worker.start(`/run/netns/${topo.dutNs}`);
    const sockFds = xdpSocketFds(S);
    let bugs = 0;
    for (const [k, bit] of Object.entries(SHIM_BUG_BITS)) if (scn.bugs[k as keyof typeof scn.bugs]) bugs |= bit;
    shims.forEach((a, k) => {
      const ifc = scn.interfaces[k]!;
      const bfd = mapFd(a, "bindings");
      for (let q = 0; q < ifc.queues; q++) mapPut(S, bfd, `bindings ${a.ifname}`, u32le(a.ifindex, q), u32le(q, 1));
      const cfd = mapFd(a, "ctrl");
      const ctrl = ctrlBytes({ enabled: scn.dataplane.armed ? 1 : 0, abiVersion: META_VERSION, strict: scn.dataplane.strict ? 1 : 0, bugs });
      // struct xdplab_ctrl: config_gen @8, fib_gen @12 (ctrlBytes leaves them 0)
      const cv = new DataView(ctrl.buffer, ctrl.byteOffset, ctrl.byteLength);
      cv.setUint32(8, gens.configGen >>> 0, true);
      cv.setUint32(12, gens.fibGen >>> 0, true);
      mapPut(S, cfd, `ctrl ${a.ifname}`, u32le(0), ctrl);
      readers.push(new RingReader(S, mapFd(a, "events"), ifc.name));
    });
    log(`native worker running on ${worker.bindings.map((b) => `${b.iface}:${b.queue}`).join(", ")} (${sockFds.length} AF_XDP sockets); control ${scn.dataplane.armed ? "armed" : "not armed"}`);
    if (opts.hold !== undefined) await opts.hold(topo.prefix);
    for (const name of plan.ifaces) {
      const k = scn.interfaces.findIndex((i) => i.name === name);
      const peer = topo.ifaces[k]!.peer;
      responders.set(name, startResponder(peer.netns, peer.name, { frameSize: scn.dataplane.frameSize }));
    }
    for (const r of responders.values()) await r.ready;
    if (responders.size > 0) log(`far-side responders (reflect) on ${[...responders.keys()].join(", ")}`);
    await topo.waitCarrier();
    trace.clear();
    const ports: Port[] = topo.ifaces.map((i) => ({ netns: i.peer.netns, ifname: i.peer.name }));
    const spanMs = input.count > 0 ? input.tNs[input.count - 1]! / 1e6 : 0;
    const settle = opts.settleMs ?? 300;
    const cap = await startCapture(ports, { timeoutMs: Math.ceil(spanMs) + 30_000, direction: "in" });
    const poll = setInterval(() => readers.forEach((r) => r.drain()), 10);
    let sent: Array<{ i: number; port: number; error: string | null }>;
    try {
      const cuts = opts.asFastAsPossible === true ? [] : causalBoundaries(scn, input);
      if (cuts.length === 0) sent = await injectPaced(ports, input, opts.asFastAsPossible === true, Math.ceil(spanMs) + 20_000);
      else {
        log(`causal pacing: ${cuts.length + 1} segments (a packet to a router address waits until the worker has handled what came before)`);
        sent = [];
        const starts = [0, ...cuts];
        for (let k = 0; k < starts.length; k++) {
          const from = starts[k]!;
          const to = starts[k + 1] ?? input.count;
          if (k > 0) await waitCaught(worker, readers, from, input.tNs[from]! - input.tNs[from - 1]!);
          sent.push(...(await injectPaced(ports, input, false, Math.ceil((input.tNs[to - 1]! - input.tNs[from]!) / 1e6) + 20_000, from, to)));
        }
      }
      // Settle: until the worker has been quiet for `settle` ms (bounded).
      let last = -1;
      for (let k = 0; k < 100; k++) {
        await sleep(settle / 3);
        const c = worker.counters();
        const sig = (c["rx"] ?? 0) + (c["tx_ring_submitted"] ?? 0) + (c["reaped"] ?? 0);
        if (sig === last) break;
        last = sig;
      }
      await sleep(settle / 3);
    } finally {
      clearInterval(poll);
    }
    const frames = await cap.stop();
    readers.forEach((r) => r.drain());
    const responderCounts: Record<string, ResponderCounts> = {};
    for (const [name, r] of responders) responderCounts[name] = await r.stop();
    const xdpStats: XdpStats[] = worker.bindings.map((b, i) => {
      const v = sockFds[i] === undefined ? XDP_STAT_NAMES.map(() => -1) : xdpStatistics(S, sockFds[i]!);
      const o = { iface: b.iface, queue: b.queue } as XdpStats;
      XDP_STAT_NAMES.forEach((n, j) => (o[n] = v[j]!));
      return o;
    });
    const wc = worker.counters();
    const steerErrno = worker.steerErrno();
    if (steerErrno !== 0) throw new EnvironmentError(`the live worker could not write the shim's sessions map (errno ${steerErrno}); the run is not comparable`);
    const hookStats = hooks.length > 0 ? worker.hookStats() : null;
    worker.stop();
    const shimCounters: Record<string, Record<string, number>> = {};
    let lost = 0;
    shims.forEach((a, k) => {
      const c = bpf.counters(a);
      const o: Record<string, number> = {};
      c.forEach((v, r) => {
        if (v === 0) return;
        if (r === 255) lost += v;
        else o[r === 0 ? "redirect" : reasonName(r)] = v;
      });
      shimCounters[scn.interfaces[k]!.name] = o;
    });
    const hits = trace.hits();
    const tp: Record<string, number> = {};
    for (const h of hits) tp[h.event] = (tp[h.event] ?? 0) + 1;
    const outputs: LiveFrame[] = [];
    frames.forEach((list, k) => {
      for (const f of list) outputs.push({ iface: scn.interfaces[k]!.name, tNs: Number(f.tNs ?? 0n), data: f.data });
    });
    const events = readers.flatMap((r) => r.events).sort((a, b) => a.tsNs - b.tsNs);
    return {
      prefix: topo.prefix,
      paced: opts.asFastAsPossible !== true,
      injected: sent.map((s) => ({ i: s.i, iface: scn.interfaces[s.port]?.name ?? `#${s.port}`, error: s.error })),
      events,
      eventsLost: lost,
      outputs,
      shimCounters,
      xdpStatistics: xdpStats,
      worker: wc,
      tracepoints: tp,
      tracepointErrors: hits.filter((h) => (h.fields["err"] ?? "0") !== "0").map((h) => ({ event: h.event, err: h.fields["err"] ?? "" })),
      hooks,
      hookStats,
      ...(responders.size > 0 ? { responders: responderCounts } : {}),
      ...(opts.nics === undefined ? {} : { nics: [...opts.nics.pairs] }),
      wallMs: Date.now() - t0,
    };
  } finally {
    for (const r of responders.values()) {
      try {
        await r.stop();
      } catch {
        // already reported, or the namespace is gone
      }
    }
    for (const r of readers) {
      try {
        r.free();
      } catch {
        // the map goes away with the namespace anyway
      }
    }
    worker?.close();
    for (const fd of fds) S.close(fd);
    bpf.close();
    topo.destroy();
  }
}
