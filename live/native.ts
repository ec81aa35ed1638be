// The native C worker (native/build/libxdplab_worker.so) through koffi, as a drop-in
// for the model's TS Worker (DESIGN §7.1, offline native). `NativeWorker` extends the TS
// Worker so the simulation loop can drive it unchanged, but every field the loop reads or
// writes (frame lists, pending TX queues, held packets, counters) is remapped onto the
// C worker's own memory, and pollRx/pollTx call C. The rings and UMEM are the model
// sockets' bytes (XskSocket.memory), attached to C by pointer: the model plays kernel and
// NIC, C plays userspace, on the same memory. C never calls back; it writes events
// (struct xl_event) that are replayed here, in order, into the tracker, the sink and the
// model's kernel (sendto → kick).
//
// Memory: the socket buffers are ordinary ArrayBuffers; V8 never moves an ArrayBuffer's
// backing store, and the adapter keeps every attached socket referenced until it is
// replaced, so the pointer C keeps stays valid.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { EnvironmentError } from "../sim/errors.js";
import type { Scenario } from "../sim/scenario/types.js";
import type { ShimMaps } from "../sim/xdp/shim.js";
import type { Dataplane } from "../sim/dataplane/dataplane.js";
import { LOOKUP_KIND_NAMES } from "../sim/dataplane/dataplane.js";
import type { PathTracker } from "../sim/trace/record.js";
import { O_DROPPED, O_TO_KERNEL, ORIGIN_GENERATED } from "../sim/trace/record.js";
import { Worker } from "../sim/worker/worker.js";
import type { Binding, WorkerHost } from "../sim/worker/worker.js";
import type { XskSocket } from "../sim/xsk/socket.js";
import { kick, wakeRx } from "../sim/xsk/socket.js";
import type { WorkerFactory } from "../sim/run.js";
import { formatIp } from "../sim/packet/addr.js";
import { DEFAULT_SESSIONS } from "../sim/dataplane/nat.js";
import type { SessionTable } from "../sim/dataplane/session.js";
import { KEY_WORDS } from "../sim/dataplane/reverseIndex.js";
import { SESSION_KEY_LEN } from "../sim/xdp/maps.js";
import { reasonName } from "../sim/reasons.js";

/** One live session row, as both sides dump it (cold path: the differential). */
export interface SessionRow {
  sid: number;
  orig: string;
  reply: string;
  state: number;
  flags: number;
  expires: number;
  egressIf: number;
  gen: number;
}

function keyHex(k: Uint32Array, sid: number): string {
  let s = "";
  for (let j = 0; j < KEY_WORDS; j++) s += (k[sid * KEY_WORDS + j]! >>> 0).toString(16).padStart(8, "0");
  return s;
}

/** Live rows of a session table given its columns, in row order. */
export function dumpSessionColumns(c: { orig: Uint32Array; reply: Uint32Array; state: Uint8Array; flags: Uint8Array; expires: Float64Array; egressIf: Int16Array; gen: Uint32Array }): SessionRow[] {
  const out: SessionRow[] = [];
  for (let sid = 0; sid < c.flags.length; sid++) {
    if ((c.flags[sid]! & 32) === 0) continue; // F_LIVE
    out.push({ sid, orig: keyHex(c.orig, sid), reply: keyHex(c.reply, sid), state: c.state[sid]!, flags: c.flags[sid]!, expires: c.expires[sid]!, egressIf: c.egressIf[sid]!, gen: c.gen[sid]! });
  }
  return out;
}

/** The model's session table, dumped like the native one. */
export function dumpSessions(t: SessionTable): SessionRow[] {
  return dumpSessionColumns(t);
}

const require = createRequire(import.meta.url);

/** Bug switches the native worker implements (bit order of XL_BUG_* in native/src/xl_worker.h). */
export const NATIVE_BUGS = [
  "skipFillOnBackpressure", "unboundedPendingTx", "lazyCompletionReap", "leakOnDrop", "noTxKick", "allOrNothingReserve", "wakeTxForRx", "lostWakeup", "ignoreMtu",
  // CATALOGUE C, D, D′ (native/src/nat.c, session.c, icmpError.c)
  "tupleFromMutatedFrame", "portsFromStaleFrame", "noReverseIndex", "reverseIndexOverwrite", "replyMissGoesToKernel", "embeddedIcmpNoSwap",
  "rstTearsDown", "sessionAfterNeighbor", "snatPortCollision", "signFlippedDelta", "partialCsumAsFull", "portOnlyNatNoCsum", "fragmentsLoseSession",
] as const;
/** Switches that act outside the worker (shim, bring-up, kernel model): the native run has them as the model does. */
export const MODEL_SIDE_BUGS = [
  "fallbackDrops", "missingBindingPasses", "ignoreSessionMap", "staleXskSlot", "abiDrift", "armBeforeBound", "circularGate",
  "nonPow2Rings", "emptyFillAtBind", "noRebindAfterCycle", "armedAcrossRebind", "stopWithoutRebind",
] as const;

// Region ids, scalar indices and event kinds: native/src/xl_worker.h.
export const REG = { FRAME_ID: 0, FREE_TX: 1, PENDING_FILL: 2, PREP_FRAME: 3, PREP_LEN: 4, BSCALARS: 5, BTIMES: 6, RING_CACHE: 7, WSCALARS: 8, COUNTERS: 9, LOCAL_BUF: 10, LOCAL_EGRESS: 11, LOCAL_LEN: 12, LOCAL_ID: 13, LOCAL_REF_B: 14, LOCAL_REF_F: 15, HELD_B: 16, HELD_F: 17, HELD_LEN: 18, HELD_ID: 19, HELD_EGRESS: 20, HELD_FAMILY: 21, HELD_NEXTHOP: 22, HELD_DEADLINE: 23, EVENTS: 24, ARENA: 25, SESS_ORIG: 26, SESS_REPLY: 27, SESS_STATE: 28, SESS_FLAGS: 29, SESS_EXPIRES: 30, SESS_EGRESS: 31, SESS_GEN: 32, NAT_STATS: 33 } as const;
export const B = { LIVE: 0, RX_FRAMES: 1, FREE_TX_COUNT: 2, PENDING_FILL_COUNT: 3, PREP_HEAD: 4, PREP_COUNT: 5, SKIP_FILL: 6, SAMPLED_NW: 7 } as const;
export const W = { PREPARED_TOTAL: 0, LOCAL_COUNT: 1, LOCAL_HEAD: 2, LOCAL_CAP: 3, HELD_COUNT: 4, CYCLE: 5, CONFIG_GEN: 6, FIB_GEN: 7, NEXT_ID: 8, EVENT_COUNT: 9, ARENA_USED: 10, OVERFLOW: 11, FUSED_KICKS: 12 } as const;
export const COUNTER_NAMES = ["polls", "rx", "forwarded_enq", "dropped", "to_kernel", "held", "held_retried", "icmp_generated", "reaped", "fill_submitted", "kicks", "rx_wakeups", "tx_ring_submitted", "backpressure_polls", "pending_tx_full", "local_copies", "prepared_copies", "inplace", "reserve_failed", "steer_added", "steer_removed", "steer_refused", "sessions_expired"] as const;
export const EV_DROP = 1, EV_KERNEL = 2, EV_TUPLE = 3, EV_DECIDE = 4, EV_TXQ = 5, EV_TXRING = 6, EV_NEWPKT = 7, EV_KICK = 8, EV_WAKE_RX = 9, EV_STEER = 10, EV_NAT = 11;
export const EV_BYTES = 72;

/* eslint-disable @typescript-eslint/no-explicit-any */
interface Lib {
  koffi: any;
  open: (...a: any[]) => unknown;
  iface: (...a: any[]) => number;
  addr: (...a: any[]) => number;
  route: (...a: any[]) => number;
  neigh: (...a: any[]) => number;
  rule: (...a: any[]) => number;
  binding: (...a: any[]) => number;
  ready: (h: unknown) => number;
  region: (h: unknown, r: number, b: number, bytes: number[]) => unknown;
  attach: (...a: any[]) => number;
  setGens: (h: unknown, c: number, f: number) => void;
  pollRx: (h: unknown, now: number) => number;
  pollTx: (h: unknown, now: number) => number;
  poll: (h: unknown, now: number) => number;
  pollTxFill: (h: unknown, b: number, now: number) => number;
  pollTxDrain: (h: unknown, b: number, now: number) => number;
  flush: (h: unknown, iface: number, at: number, useDefault: number) => void;
  close: (h: unknown) => void;
  natCfg: (...a: any[]) => number;
  snat: (...a: any[]) => number;
  snatPool: (...a: any[]) => number;
  dnat: (...a: any[]) => number;
  timers: (h: unknown, now: number) => number;
  sessionCapacity: (h: unknown) => number;
  skipIdle: (h: unknown, n: number) => void;
  nextExpiryLow: (h: unknown) => number;
  skipTimers: (h: unknown, passes: number) => void;
  liveRings: (h: unknown, fill: number, comp: number, rx: number, tx: number) => number;
  liveConfig: (h: unknown, b: number, ifname: string, queue: number, mapFd: number, zc: number) => number;
  start: (h: unknown, netns: string) => number;
  stop: (h: unknown) => number;
  liveError: (h: unknown) => string;
  liveReasons: (h: unknown, n: number[]) => unknown;
  liveFault: (h: unknown, kind: number, b: number, atNs: number, forNs: number) => number;
  liveHookStats: (h: unknown) => unknown;
  liveSessionsMap: (h: unknown, fd: number) => number;
  liveTimer: (h: unknown, periodNs: number) => number;
  liveSteerError: (h: unknown) => number;
  liveClock: (h: unknown, firstNs: number) => number;
}

let lib: Lib | null = null;

/** Path of the shared library (built by `make -C native`, which scripts/setup.sh runs). */
export function nativeLibraryPath(): string {
  // XDPLAB_NATIVE_LIB: another build (e.g. instrumented) or, in tests, a missing one
  const env = process.env.XDPLAB_NATIVE_LIB;
  if (env !== undefined && env !== "") return env;
  const here = path.dirname(fileURLToPath(import.meta.url));
  // dist/live/native.js → repo root is two levels up from dist/live
  for (const root of [path.resolve(here, "..", ".."), path.resolve(here, "..")]) {
    const p = path.join(root, "native", "build", "libxdplab_worker.so");
    if (existsSync(p)) return p;
  }
  return path.resolve(here, "..", "..", "native", "build", "libxdplab_worker.so");
}

export function loadNative(): Lib {
  if (lib !== null) return lib;
  const file = nativeLibraryPath();
  if (!existsSync(file)) throw new EnvironmentError(`the native worker is not built (${file} missing): run \`make -C native\` (needs gcc and libxdp-dev)`);
  const koffi = require("koffi");
  const so = koffi.load(file);
  const H = koffi.pointer("xl_worker", koffi.opaque());
  lib = {
    koffi,
    open: so.func("xl_worker_open", H, ["int", "int", "int", "int", "int", "int", "int", "int", "int", "int", "uint32_t", "int", "double", "double", "int", "int", "int"]),
    iface: so.func("xl_worker_configure_iface", "int", [H, "int", "uint8_t *", "int", "int"]),
    addr: so.func("xl_worker_configure_addr", "int", [H, "int", "int", "uint8_t *", "int"]),
    route: so.func("xl_worker_configure_route", "int", [H, "int", "uint8_t *", "int", "double", "int", "uint8_t *", "int"]),
    neigh: so.func("xl_worker_configure_neighbor", "int", [H, "int", "uint8_t *", "uint8_t *", "int", "double"]),
    rule: so.func("xl_worker_configure_rule", "int", [H, "int", "int", "int", "int", "int", "uint8_t *", "int", "int", "uint8_t *", "int", "int", "int"]),
    binding: so.func("xl_worker_configure_binding", "int", [H, "int", "int", "int", "int", "int"]),
    ready: so.func("xl_worker_ready", "int", [H]),
    region: so.func("xl_worker_region", "void *", [H, "int", "int", koffi.out(koffi.pointer("int"))]),
    attach: so.func("xl_worker_attach", "int", [H, "int", "uint8_t *", "int", "int", "int", "int", "int", "int", "int", "int"]),
    setGens: so.func("xl_worker_set_gens", "void", [H, "uint32_t", "uint32_t"]),
    pollRx: so.func("xl_worker_poll_rx", "int", [H, "double"]),
    pollTx: so.func("xl_worker_poll_tx", "int", [H, "double"]),
    poll: so.func("xl_worker_poll", "int", [H, "double"]),
    pollTxFill: so.func("xl_worker_poll_tx_fill", "int", [H, "int", "double"]),
    pollTxDrain: so.func("xl_worker_poll_tx_drain", "int", [H, "int", "double"]),
    flush: so.func("xl_worker_flush_neighbors", "void", [H, "int", "double", "int"]),
    close: so.func("xl_worker_close", "void", [H]),
    natCfg: so.func("xl_worker_configure_nat", "int", [H, "double", "int", "uint8_t *", "int"]),
    snat: so.func("xl_worker_configure_snat", "int", [H, "int", "int", "uint8_t *", "int", "int", "int", "int"]),
    snatPool: so.func("xl_worker_configure_snat_pool", "int", [H, "int", "int", "uint8_t *", "int"]),
    dnat: so.func("xl_worker_configure_dnat", "int", [H, "int", "int", "int", "uint8_t *", "int", "uint8_t *", "int"]),
    timers: so.func("xl_worker_timers", "int", [H, "double"]),
    sessionCapacity: so.func("xl_worker_session_capacity", "int", [H]),
    skipIdle: so.func("xl_worker_skip_idle", "void", [H, "double"]),
    nextExpiryLow: so.func("xl_worker_next_expiry_low", "double", [H]),
    skipTimers: so.func("xl_worker_skip_timers", "void", [H, "double"]),
    liveRings: so.func("xl_worker_live_rings", "int", [H, "int", "int", "int", "int"]),
    liveConfig: so.func("xl_worker_live_config", "int", [H, "int", "const char *", "int", "int", "int"]),
    start: so.func("xl_worker_start", "int", [H, "const char *"]),
    stop: so.func("xl_worker_stop", "int", [H]),
    liveError: so.func("xl_worker_live_error", "const char *", [H]),
    liveReasons: so.func("xl_worker_live_reasons", "void *", [H, koffi.out(koffi.pointer("int"))]),
    liveFault: so.func("xl_worker_live_fault", "int", [H, "int", "int", "double", "double"]),
    liveHookStats: so.func("xl_worker_live_hook_stats", "void *", [H]),
    liveSessionsMap: so.func("xl_worker_live_sessions_map", "int", [H, "int"]),
    liveTimer: so.func("xl_worker_live_timer", "int", [H, "double"]),
    liveSteerError: so.func("xl_worker_live_steer_error", "int", [H]),
    liveClock: so.func("xl_worker_live_clock", "int", [H, "double"]),
  };
  return lib;
}

/** Worker-side switches turned on in scn that the native worker does not implement. */
export function unsupportedBugs(scn: Scenario): string[] {
  const ok = new Set<string>([...NATIVE_BUGS, ...MODEL_SIDE_BUGS]);
  return Object.entries(scn.bugs).filter(([k, v]) => v && !ok.has(k)).map(([k]) => k);
}

/** Why the native worker cannot run scn offline (null when it can). */
export function nativeUnsupported(scn: Scenario): string | null {
  const bugs = unsupportedBugs(scn);
  if (bugs.length > 0) return `bug switch(es) not in the native worker: ${bugs.join(", ")}`;
  return null;
}

function bytes16(b: Uint8Array): Uint8Array {
  const o = new Uint8Array(16);
  o.set(b.subarray(0, Math.min(16, b.length)));
  return o;
}


/** Interfaces, addresses, routes, neighbours, policy and bindings → the C worker; then ready. */
function configureNative(L: Lib, h: unknown, scn: Scenario, bindings: ReadonlyArray<{ index: number; iface: number; queue: number; ifindex: number; slot: number }>, sessions = DEFAULT_SESSIONS): void {
  const chk = (rc: number, what: string): void => {
    if (rc !== 0) throw new EnvironmentError(`native worker: ${what} failed (${rc})`);
  };
  for (const ifc of scn.interfaces) {
    chk(L.iface(h, ifc.index, ifc.mac, ifc.mtu, ifc.queues), `configure_iface ${ifc.name}`);
    for (const a of ifc.addrs) chk(L.addr(h, ifc.index, a.family, bytes16(a.bytes), a.prefixLen), `configure_addr ${ifc.name}`);
  }
  for (const r of scn.routes) chk(L.route(h, r.family, bytes16(r.prefix), r.prefixLen, r.metric, r.via !== null ? 1 : 0, bytes16(r.via ?? new Uint8Array(16)), r.iface), "configure_route");
  for (const n of scn.neighbors) chk(L.neigh(h, n.family, bytes16(n.ip), n.mac, n.iface, n.atNs), "configure_neighbor");
  // NAT: the PRNG seed, attach mode and checksum state first, then the rules in order.
  const nIf = scn.interfaces.length;
  const partial = new Uint8Array(nIf);
  if (scn.traffic.csumPartial !== undefined) partial.set(scn.traffic.csumPartial.subarray(0, nIf));
  chk(L.natCfg(h, scn.seed, scn.dataplane.attach === "generic" ? 1 : 0, partial, sessions), "configure_nat");
  for (const r of scn.nat.snat) {
    const idx = L.snat(h, r.egress, r.from?.family ?? 0, bytes16(r.from?.bytes ?? new Uint8Array(16)), r.from?.prefixLen ?? 0, r.to === "interface" ? 1 : 0, r.portRange[0], r.portRange[1]);
    if (idx < 0) throw new EnvironmentError(`native worker: configure_snat failed (${idx})`);
    if (r.to !== "interface") for (const a of r.to.pool) chk(L.snatPool(h, idx, a.family, bytes16(a.bytes), a.prefixLen), "configure_snat_pool");
  }
  for (const r of scn.nat.dnat) {
    chk(L.dnat(h, r.ingress, r.proto, r.dst.family, bytes16(r.dst.bytes), r.port ?? -1, bytes16(r.to.bytes), r.toPort ?? -1), "configure_dnat");
  }
  for (const r of scn.policy) {
    chk(L.rule(h, r.action === "permit" ? 1 : 0, r.proto ?? -1, r.ingress ?? -1, r.egress ?? -1,
      r.src?.family ?? 0, bytes16(r.src?.bytes ?? new Uint8Array(16)), r.src?.prefixLen ?? 0,
      r.dst?.family ?? 0, bytes16(r.dst?.bytes ?? new Uint8Array(16)), r.dst?.prefixLen ?? 0,
      r.dport?.[0] ?? -1, r.dport?.[1] ?? -1), "configure_rule");
  }
  for (const b of bindings) chk(L.binding(h, b.index, b.iface, b.queue, b.ifindex, b.slot), "configure_binding");
  chk(L.ready(h), "ready");
}

/** A WorkerFactory for Sim that runs the native worker. */
export function nativeWorkerFactory(): WorkerFactory {
  return (scn, maps, dp, tracker, host) => new NativeWorker(scn, maps, dp, tracker, host);
}

export class NativeWorker extends Worker {
  private readonly L: Lib;
  private handle: unknown;
  private readonly ws: Int32Array;
  private readonly counters: Float64Array;
  private readonly caches: Uint32Array[] = [];
  private readonly attached: (XskSocket | undefined)[] = [];
  private readonly evI32: Int32Array;
  private readonly evF64: Float64Array;
  private readonly evU8: Uint8Array;
  private readonly arena: Uint8Array;
  private readonly ifNames: string[];
  private readonly zeroCopy: boolean;
  /** Kicks of a poll_tx that already ran inside pollRx (idle poll, copy mode), else -1. */
  private fusedKicks = -1;
  private fusedAt = -1;
  private readonly steerKey = new Uint8Array(SESSION_KEY_LEN);
  /** nextExpiryLow of the C session table; NaN: the table may have changed since. */
  private expiryLow = NaN;
  /** Calls into C that ran a poll phase (not an output: tests and bench count them). */
  pollCalls = 0;
  private readonly sessCols: { orig: Uint32Array; reply: Uint32Array; state: Uint8Array; flags: Uint8Array; expires: Float64Array; egressIf: Int16Array; gen: Uint32Array };

  constructor(scn: Scenario, maps: ShimMaps, dp: Dataplane, tracker: PathTracker, host: WorkerHost) {
    super(scn, maps, dp, tracker, host);
    const L = loadNative();
    this.L = L;
    const d = scn.dataplane;
    let bugs = 0;
    NATIVE_BUGS.forEach((n, i) => {
      if (scn.bugs[n]) bugs |= 1 << i;
    });
    const h = L.open(
      this.bindings.length, scn.interfaces.length, d.frames, d.frameSize, d.headroom, d.batch, d.maxPendingTx,
      Math.max(1, scn.timing.reapEvery | 0), d.txBudget, d.driver !== "zerocopy" ? 1 : 0, bugs >>> 0,
      Math.max(1, d.neighHoldMax), d.neighHoldNs, scn.timing.perPacketNs, d.icmpErrors ? 1 : 0,
      scn.defaultPolicy !== "deny" ? 1 : 0, tracker.wantPath ? 1 : 0,
    );
    if (h === null) throw new EnvironmentError("xl_worker_open failed (out of memory or bad configuration)");
    this.handle = h;
    configureNative(L, h, scn, this.bindings);


    const view = (r: number, b = 0): ArrayBuffer => {
      const n = [0];
      const p = L.region(h, r, b, n);
      return L.koffi.view(p, n[0]!) as ArrayBuffer;
    };
    const i32 = (r: number, b = 0): Int32Array => new Int32Array(view(r, b));
    const f64 = (r: number, b = 0): Float64Array => new Float64Array(view(r, b));
    const def = (o: object, k: string, v: unknown): void => {
      Object.defineProperty(o, k, { value: v, writable: false, configurable: true, enumerable: true });
    };
    const acc = (o: object, k: string, arr: Int32Array | Float64Array, i: number): void => {
      Object.defineProperty(o, k, { get: () => arr[i], set: (v: number) => { arr[i] = v; }, configurable: true, enumerable: true });
    };
    for (const b of this.bindings) {
      def(b, "frameId", i32(REG.FRAME_ID, b.index));
      def(b, "freeTx", i32(REG.FREE_TX, b.index));
      def(b, "pendingFill", i32(REG.PENDING_FILL, b.index));
      def(b, "prepFrame", i32(REG.PREP_FRAME, b.index));
      def(b, "prepLen", i32(REG.PREP_LEN, b.index));
      const s = i32(REG.BSCALARS, b.index);
      const t = f64(REG.BTIMES, b.index);
      acc(b, "rxFrames", s, B.RX_FRAMES);
      acc(b, "freeTxCount", s, B.FREE_TX_COUNT);
      acc(b, "pendingFillCount", s, B.PENDING_FILL_COUNT);
      acc(b, "prepHead", s, B.PREP_HEAD);
      acc(b, "prepCount", s, B.PREP_COUNT);
      Object.defineProperty(b, "live", { get: () => s[B.LIVE] !== 0, set: (v: boolean) => { s[B.LIVE] = v ? 1 : 0; }, configurable: true });
      Object.defineProperty(b, "skipFill", { get: () => s[B.SKIP_FILL] !== 0, set: (v: boolean) => { s[B.SKIP_FILL] = v ? 1 : 0; }, configurable: true });
      Object.defineProperty(b, "sampledNeedWakeup", { get: () => s[B.SAMPLED_NW] !== 0, set: (v: boolean) => { s[B.SAMPLED_NW] = v ? 1 : 0; }, configurable: true });
      acc(b, "fillStarveUntil", t, 0);
      this.caches.push(new Uint32Array(view(REG.RING_CACHE, b.index)));
      this.attached.push(undefined);
    }
    this.ws = i32(REG.WSCALARS);
    this.counters = f64(REG.COUNTERS);
    acc(this, "preparedTotal", this.ws, W.PREPARED_TOTAL);
    acc(this, "localCount", this.ws, W.LOCAL_COUNT);
    acc(this, "localHead", this.ws, W.LOCAL_HEAD);
    acc(this, "localCap", this.ws, W.LOCAL_CAP);
    acc(this, "heldCount", this.ws, W.HELD_COUNT);
    for (const [k, r] of [["localEgress", REG.LOCAL_EGRESS], ["localLen", REG.LOCAL_LEN], ["localId", REG.LOCAL_ID], ["localRefB", REG.LOCAL_REF_B], ["localRefF", REG.LOCAL_REF_F], ["heldB", REG.HELD_B], ["heldF", REG.HELD_F], ["heldLen", REG.HELD_LEN], ["heldId", REG.HELD_ID], ["heldEgress", REG.HELD_EGRESS], ["heldFamily", REG.HELD_FAMILY]] as const) {
      def(this, k, i32(r));
    }
    def(this, "localBuf", new Uint8Array(view(REG.LOCAL_BUF)));
    def(this, "heldNexthop", new Uint8Array(view(REG.HELD_NEXTHOP)));
    def(this, "heldDeadline", f64(REG.HELD_DEADLINE));
    const c: Record<string, number> = {};
    COUNTER_NAMES.forEach((n, i) => acc(c, n, this.counters, i));
    def(this, "c", c);
    const ev = view(REG.EVENTS);
    this.evI32 = new Int32Array(ev);
    this.evF64 = new Float64Array(ev);
    this.evU8 = new Uint8Array(ev);
    this.arena = new Uint8Array(view(REG.ARENA));
    this.sessCols = {
      orig: new Uint32Array(view(REG.SESS_ORIG)),
      reply: new Uint32Array(view(REG.SESS_REPLY)),
      state: new Uint8Array(view(REG.SESS_STATE)),
      flags: new Uint8Array(view(REG.SESS_FLAGS)),
      expires: new Float64Array(view(REG.SESS_EXPIRES)),
      egressIf: new Int16Array(view(REG.SESS_EGRESS)),
      gen: new Uint32Array(view(REG.SESS_GEN)),
    };
    this.ifNames = scn.interfaces.map((i) => i.name);
    this.zeroCopy = d.driver === "zerocopy";
    // neighbor_flush is a fault on the dataplane the Sim holds: forward it to C as well.
    const orig = dp.flushNeighbors.bind(dp);
    dp.flushNeighbors = (iface: number, resolveAtNs?: number): void => {
      if (resolveAtNs === undefined) orig(iface);
      else orig(iface, resolveAtNs);
      L.flush(h, iface, resolveAtNs ?? 0, resolveAtNs === undefined ? 1 : 0);
    };
  }

  /** Attaches sockets that changed since the last call and hands C libxdp's cached indices. */
  private before(): void {
    const L = this.L;
    for (const b of this.bindings) {
      const sock = b.sock as XskSocket | undefined;
      if (sock === undefined) continue;
      if (this.attached[b.index] !== sock) {
        const lay = sock.layout;
        const rc = L.attach(this.handle, b.index, sock.memory, lay.fill, sock.fillRing.size, lay.comp, sock.compRing.size, lay.rx, sock.rxRing.size, lay.tx, sock.txRing.size);
        if (rc !== 0) {
          // A socket whose ring setup failed (nonPow2Rings) is never live; nothing to attach.
          continue;
        }
        this.attached[b.index] = sock;
      }
      const c = this.caches[b.index]!;
      c[0] = sock.userFill.cachedProd;
      c[1] = sock.userFill.cachedCons;
      c[2] = sock.userRx.cachedProd;
      c[3] = sock.userRx.cachedCons;
      c[4] = sock.userTx.cachedProd;
      c[5] = sock.userTx.cachedCons;
      c[6] = sock.userComp.cachedProd;
      c[7] = sock.userComp.cachedCons;
    }
    this.ws[W.NEXT_ID] = this.tracker.count;
  }

  /** Reads back libxdp's cached indices and replays the events; returns the wake kicks (wakeTxForRx). */
  private after(): number {
    for (const b of this.bindings) {
      const sock = this.attached[b.index];
      if (sock === undefined || sock !== b.sock) continue;
      const c = this.caches[b.index]!;
      sock.userFill.cachedProd = c[0]!;
      sock.userFill.cachedCons = c[1]!;
      sock.userRx.cachedProd = c[2]!;
      sock.userRx.cachedCons = c[3]!;
      sock.userTx.cachedProd = c[4]!;
      sock.userTx.cachedCons = c[5]!;
      sock.userComp.cachedProd = c[6]!;
      sock.userComp.cachedCons = c[7]!;
    }
    if (this.ws[W.OVERFLOW] !== 0) throw new Error("native worker: event buffer overflow (raise the capacity in native/src/worker.c)");
    return this.replay();
  }

  override pollRx(now: number): number {
    const ctl = this.maps.control;
    ctl.heartbeatNs = now;
    this.configGen = ctl.configGen;
    this.fibGen = ctl.fibGen;
    // The generations are scalars of the shared region: no call needed.
    this.ws[W.CONFIG_GEN] = ctl.configGen | 0;
    this.ws[W.FIB_GEN] = ctl.fibGen | 0;
    this.before();
    // sim/run.ts runs pollTx at once, at the same instant, after a pollRx with no work;
    // C does both in one call then (the kick events replay before Sim would call pollTx,
    // with nothing in between). A change to that order shows up in the differential.
    const work = this.L.poll(this.handle, now);
    this.pollCalls++;
    // Sessions are installed or refreshed only for a packet the poll touched (work > 0).
    if (work > 0) this.expiryLow = NaN;
    this.fusedKicks = this.ws[W.FUSED_KICKS]!;
    this.fusedAt = now;
    this.after();
    return work;
  }

  /** The session-timer pass in C; its steering events are applied to the shim's map here. */
  override timers(now: number): number {
    this.before();
    const n = this.L.timers(this.handle, now);
    this.expiryLow = NaN;
    this.after();
    return n;
  }

  /** Worker.nextExpiryLow over the C session table (rescanned only after it may have changed). */
  override nextExpiryLow(): number {
    if (Number.isNaN(this.expiryLow)) this.expiryLow = this.L.nextExpiryLow(this.handle);
    return this.expiryLow;
  }

  /** Worker.skipTimers: the C expiry cursor moves as the passes not run would have moved it. */
  override skipTimers(n: number): void {
    if (n > 0) this.L.skipTimers(this.handle, n);
  }

  /** C publishes at the end of each poll_rx and timer pass (XL_EV_STEER, replayed in order). */
  override publishSteering(): void {}

  /**
   * Worker.isIdle, unchanged: every state it reads is the C worker's own (frame lists,
   * pending fill/TX, local copies, held packets: remapped onto C memory) or the model's
   * (rings, txInFlight, NEED_WAKEUP, pausedUntil); C publishes its steering log at the end
   * of every poll, so the TS session table's log it checks stays empty. A poll of C in
   * that state changes only the poll counter, the cycle and the heartbeat (skipIdle).
   * Used when the Sim runs with idleSkip (a factory's worker needs it asked for).
   */
  override isIdle(now: number): boolean {
    return super.isIdle(now);
  }

  /** Worker.skipIdle: n polls not run, the last at lastNs — counted in C (polls, cycle). */
  override skipIdle(n: number, lastNs: number): void {
    if (n <= 0) return;
    this.L.skipIdle(this.handle, n);
    const ctl = this.maps.control;
    ctl.heartbeatNs = lastNs;
    this.configGen = ctl.configGen;
    this.fibGen = ctl.fibGen;
    this.ws[W.CONFIG_GEN] = ctl.configGen | 0;
    this.ws[W.FIB_GEN] = ctl.fibGen | 0;
    this.cycle += n;
  }

  /** Live rows of the C worker's session table (row order). */
  sessionDump(): SessionRow[] {
    return dumpSessionColumns(this.sessCols);
  }

  override pollTx(now: number): number {
    if (this.fusedKicks >= 0 && this.fusedAt === now) {
      const k = this.fusedKicks;
      this.fusedKicks = -1;
      return k;
    }
    this.fusedKicks = -1;
    if (!this.zeroCopy) {
      // Copy mode: every kick can wait until the call returns (nothing later in the poll
      // reads a kicked binding's TX ring), so one call does all bindings.
      this.before();
      const kicks = this.L.pollTx(this.handle, now);
      this.pollCalls++;
      this.after();
      return kicks;
    }
    // Zero-copy: the RX wake (or wakeTxForRx's kick) must run before the TX ring is filled.
    let kicks = 0;
    this.pollCalls++;
    for (const b of this.bindings) {
      if (!b.live) continue;
      this.before();
      this.L.pollTxFill(this.handle, b.index, now);
      kicks += this.after();
      this.before();
      kicks += this.L.pollTxDrain(this.handle, b.index, now);
      this.after();
    }
    return kicks;
  }

  /** Replays the C worker's events into the tracker, the sink and the model's kernel. */
  private replay(): number {
    let wakeKicks = 0;
    const n = this.ws[W.EVENT_COUNT]!;
    const I = this.evI32;
    const F = this.evF64;
    const tr = this.tracker;
    for (let e = 0; e < n; e++) {
      const i = e * (EV_BYTES / 4);
      const kind = I[i]!;
      const id = I[i + 1]!;
      const a = I[i + 2]!;
      const b = I[i + 3]!;
      const t = F[e * (EV_BYTES / 8) + 4]!;
      switch (kind) {
        case EV_DROP:
          tr.sink.drop(a, t, this.arena, I[i + 6]!, I[i + 7]!, id, b);
          tr.finish(id, O_DROPPED, b);
          break;
        case EV_KERNEL:
          tr.sink.kernel(a, t, this.arena, I[i + 6]!, I[i + 7]!, id, b);
          tr.finish(id, O_TO_KERNEL, b);
          break;
        case EV_TUPLE: {
          const al = a as 4 | 16;
          const proto = I[i + 5]!;
          const ports = proto === 6 || proto === 17;
          const x = e * EV_BYTES + 40;
          const s = formatIp(this.evU8, x, al);
          const dd = formatIp(this.evU8, x + 16, al);
          const fmt = (ip: string, p: number): string => (ports ? (al === 16 ? `[${ip}]:${p}` : `${ip}:${p}`) : ip);
          tr.setExtras(id, { tuple: { proto, src: fmt(s, b), dst: fmt(dd, I[i + 4]!) , from: "metadata" } });
          break;
        }
        case EV_DECIDE: {
          const x = tr.extras[id] ?? {};
          x.lookup = LOOKUP_KIND_NAMES[a] ?? "none";
          if (b >= 0) {
            const fam = I[i + 4]!;
            x.fib = { egress: this.ifNames[b] ?? `#${b}`, nexthop: fam === 0 ? null : formatIp(this.evU8, e * EV_BYTES + 40, fam === 4 ? 4 : 16) };
          }
          tr.setExtras(id, x);
          break;
        }
        case EV_TXQ:
          tr.txEnq[id] = t;
          if (a > 0) tr.txq[id] = a;
          break;
        case EV_TXRING:
          tr.txRing[id] = t;
          break;
        case EV_NEWPKT: {
          const gid = tr.newPacket(ORIGIN_GENERATED, -1, a, t, b, I[i + 4]!);
          if (gid !== id) throw new Error(`native worker: generated packet id ${id}, tracker gave ${gid}`);
          // the router's own error was routed by the dataplane: its record names the egress
          if (tr.wantPath) tr.setExtras(gid, { fib: { egress: this.ifNames[I[i + 5]!] ?? `#${I[i + 5]}`, nexthop: null } });
          break;
        }
        case EV_KICK: {
          const bd = this.bindings[a]! as Binding;
          kick(bd.sock, t);
          this.host.onTxOut(bd, t);
          if (I[i + 5] === 1) wakeKicks++;
          break;
        }
        case EV_WAKE_RX:
          wakeRx(this.bindings[a]!.sock);
          break;
        case EV_STEER: {
          // Worker.publishSteering: the 37-byte shim key (proto, src[16], dst[16], sport, dport)
          const k = this.steerKey;
          const x = e * EV_BYTES + 40;
          const ports = I[i + 4]! >>> 0;
          k[0] = I[i + 5]!;
          k.set(this.evU8.subarray(x, x + 32), 1);
          k[33] = ports >>> 24;
          k[34] = (ports >>> 16) & 0xff;
          k[35] = (ports >>> 8) & 0xff;
          k[36] = ports & 0xff;
          const m = this.maps.sessions;
          if (a === 1) {
            if (m.addKey(k)) this.c.steer_added++;
            else this.c.steer_refused++;
          } else if (m.removeKey(k)) this.c.steer_removed++;
          break;
        }
        case EV_NAT: {
          // Dataplane.describeNat from the other direction's key C sent
          const fam = b;
          const proto = I[i + 5]!;
          const p = I[i + 4]! >>> 0;
          const al = fam === 4 ? 4 : 16;
          const x0 = e * EV_BYTES + 40;
          const fmt = (o: number, port: number): string => {
            const ip = formatIp(this.evU8, o, al);
            if (proto !== 6 && proto !== 17) return ip;
            return fam === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
          };
          const nat: { src?: string; dst?: string } = {};
          if (a & 1) nat.src = fmt(x0 + 16, p & 0xffff);
          if (a & 2) nat.dst = fmt(x0, p >>> 16);
          // key order as the TS worker builds it: tuple, lookup, nat, fib
          const ex = tr.extras[id] ?? {};
          const fib = ex.fib;
          delete ex.fib;
          ex.nat = nat;
          if (fib !== undefined) ex.fib = fib;
          tr.setExtras(id, ex);
          break;
        }
        default:
          throw new Error(`native worker: unknown event kind ${kind}`);
      }
    }
    return wakeKicks;
  }

  close(): void {
    if (this.handle !== null) this.L.close(this.handle);
    this.handle = null;
  }
}

/** Faults the live worker plays on itself (native/src/live.c). */
export type LiveHookKind = "tx_stall" | "completion_delay";

/**
 * The native worker on real AF_XDP sockets (live mode): one native thread, started inside
 * the lab's network namespace, polling until stop() joins it. Never calls back into JS;
 * counters() reads the worker's counters (racy but monotonic while it runs).
 */
export class NativeLiveWorker {
  private readonly L: Lib;
  private handle: unknown;
  private readonly counterView: Float64Array;
  /** Drops and to-kernel decisions of the live thread by reason code (native/src/live.c). */
  private readonly reasonView: Float64Array;
  private running = false;
  /** Binding index per (iface name, queue), in the model's slot order. */
  readonly bindings: Array<{ iface: string; queue: number }> = [];

  constructor(scn: Scenario) {
    const L = loadNative();
    this.L = L;
    const d = scn.dataplane;
    let bugs = 0;
    NATIVE_BUGS.forEach((n, i) => {
      if (scn.bugs[n]) bugs |= 1 << i;
    });
    for (const ifc of scn.interfaces) for (let q = 0; q < ifc.queues; q++) this.bindings.push({ iface: ifc.name, queue: q });
    const h = L.open(this.bindings.length, scn.interfaces.length, d.frames, d.frameSize, d.headroom, d.batch, d.maxPendingTx,
      Math.max(1, scn.timing.reapEvery | 0), d.txBudget, d.driver !== "zerocopy" ? 1 : 0, bugs >>> 0, Math.max(1, d.neighHoldMax),
      d.neighHoldNs, 0, d.icmpErrors ? 1 : 0, scn.defaultPolicy !== "deny" ? 1 : 0, 0);
    if (h === null) throw new EnvironmentError("xl_worker_open failed");
    this.handle = h;
    configureNative(L, h, scn, this.bindings.map((b, i) => ({ index: i, iface: scn.interfaces.findIndex((x) => x.name === b.iface), queue: b.queue, ifindex: 0, slot: i })));
    if (L.liveRings(h, d.rings.fill, d.rings.comp, d.rings.rx, d.rings.tx) !== 0) throw new EnvironmentError("native worker: ring sizes refused");
    const n = [0];
    this.counterView = new Float64Array(L.koffi.view(L.region(h, REG.COUNTERS, 0, n), n[0]!) as ArrayBuffer);
    const rn = [0];
    const rp = L.liveReasons(h, rn);
    this.reasonView = rp === null || rn[0]! === 0 ? new Float64Array(0) : new Float64Array(L.koffi.view(rp, rn[0]! * 8) as ArrayBuffer);
  }

  /** The configuration/FIB generations the worker expects in the metadata (before start:
   *  the thread reads them unsynchronised). */
  setGens(configGen: number, fibGen: number): void {
    if (this.running) throw new Error("NativeLiveWorker.setGens while running");
    this.L.setGens(this.handle, configGen >>> 0, fibGen >>> 0);
  }

  /**
   * A native-worker fault hook (not a kernel fault; DESIGN §7.3) on binding b (< 0: every
   * binding), active from atNs for forNs after the first frame the worker receives.
   * tx_stall: no TX kick and no poll() on the socket; completion_delay: no reaping.
   * Before start only.
   */
  hook(kind: LiveHookKind, b: number, atNs: number, forNs: number): void {
    if (this.running) throw new Error("NativeLiveWorker.hook while running");
    const rc = this.L.liveFault(this.handle, kind === "tx_stall" ? 1 : 2, b, atNs, forNs);
    if (rc !== 0) throw new EnvironmentError(`native worker: hook ${kind} on binding ${b}: error ${rc}`);
  }

  /** What the hooks did: when the clock started (thread ns, -1: no frame received), TX
   *  kicks withheld, reap passes withheld, loop turns with a hook active. */
  hookStats(): { firstFrameNs: number; kicksWithheld: number; reapsWithheld: number; hookedTurns: number } {
    const p = this.L.liveHookStats(this.handle);
    if (p === null) return { firstFrameNs: -1, kicksWithheld: 0, reapsWithheld: 0, hookedTurns: 0 };
    const v = new Float64Array(this.L.koffi.view(p, 32) as ArrayBuffer);
    return { firstFrameNs: v[0]!, kicksWithheld: v[1]!, reapsWithheld: v[2]!, hookedTurns: v[3]! };
  }

  /**
   * Session steering: the worker applies its steering log (Worker.publishSteering) to the
   * shim `sessions` map behind fd — call once per attached shim, each has its own map —
   * and runs the session-timer pass every `timerNs` of its clock. Before start only; the
   * fds stay the caller's (close them after stop).
   */
  steerTo(sessionMapFds: readonly number[], timerNs: number): void {
    if (this.running) throw new Error("NativeLiveWorker.steerTo while running");
    for (const fd of sessionMapFds) {
      const rc = this.L.liveSessionsMap(this.handle, fd);
      if (rc !== 0) throw new EnvironmentError(`native worker: sessions map fd ${fd}: error ${rc}`);
    }
    const rc = this.L.liveTimer(this.handle, timerNs);
    if (rc !== 0) throw new EnvironmentError(`native worker: session timer ${timerNs} ns: error ${rc}`);
  }

  /**
   * Anchors the worker's clock on the model's: it reads 0 until a frame first waits on an
   * RX ring, and firstNs (the model's time of the first input packet) at that instant, so
   * absolute scenario times (neighbours' atNs) mean the same on both sides. Before start.
   */
  anchorClock(firstNs: number): void {
    if (this.running) throw new Error("NativeLiveWorker.anchorClock while running");
    const rc = this.L.liveClock(this.handle, firstNs);
    if (rc !== 0) throw new EnvironmentError(`native worker: clock anchor ${firstNs} ns: error ${rc}`);
  }

  /** The first unexpected session-map error of the run (errno), 0 when none. */
  steerErrno(): number {
    return -this.L.liveSteerError(this.handle);
  }

  /** Binding b serves ifname/queue (inside the namespace given to start); mapFd < 0: libxdp's default XDP program. */
  bind(b: number, ifname: string, queue: number, mapFd = -1, zeroCopy = false): void {
    const rc = this.L.liveConfig(this.handle, b, ifname, queue, mapFd, zeroCopy ? 1 : 0);
    if (rc !== 0) throw new EnvironmentError(`native worker: binding ${b} (${ifname}): error ${rc}`);
  }

  /** Creates every socket inside netnsPath (e.g. /run/netns/NAME; "" = this namespace) and starts polling. */
  start(netnsPath = ""): void {
    const rc = this.L.start(this.handle, netnsPath);
    if (rc !== 0) throw new EnvironmentError(`native worker: start failed: ${this.L.liveError(this.handle) || `errno ${-rc}`} (needs root, an XDP-capable interface, and libxdp)`);
    this.running = true;
  }

  /** The worker's counters (COUNTER_NAMES) and, as `reason.<name>`, its nonzero per-reason
   *  counts of drops and to-kernel decisions (their sum is dropped + to_kernel). */
  counters(): Record<string, number> {
    const o: Record<string, number> = Object.fromEntries(COUNTER_NAMES.map((k, i) => [k, this.counterView[i]!]));
    for (const [k, v] of Object.entries(this.reasons())) o[`reason.${k}`] = v;
    return o;
  }

  /** Nonzero per-reason counts of the live thread's drops and to-kernel decisions, by name. */
  reasons(): Record<string, number> {
    const o: Record<string, number> = {};
    this.reasonView.forEach((v, r) => {
      if (v !== 0) o[reasonName(r)] = v;
    });
    return o;
  }

  /** Stops and joins the thread, closes the sockets. */
  stop(): void {
    if (this.handle !== null) this.L.stop(this.handle);
    this.running = false;
  }

  close(): void {
    if (this.handle === null) return;
    this.L.close(this.handle); // stops first
    this.handle = null;
    this.running = false;
  }

  get isRunning(): boolean {
    return this.running;
  }
}
