// The simulation loop: an EventQueue-driven discrete-event run of one scenario over its
// input packets — wire(in) → shim → xsk.rx → worker → txq → xsk.tx → link → wire(out) →
// completion → recycle → fill — with bring-up, faults, the series sampler and the end of
// run (drain, then every packet still queued is `in_flight`). It owns the kernel/device
// side glue (XSKMAP redirect + rcv, link serializers, completions), the far hosts of
// `traffic.respond: "reflect"`, the session-timer event and the RunResult.
//
// Idle fast path: when a poll leaves the (TS) worker with nothing to do (Worker.isIdle),
// the next poll is not scheduled. The first event after that — whatever its kind —
// first re-arms the poll at the next point of the same grid (last poll + k·pollNs) and
// accounts the skipped polls (count, cycle, heartbeat), then runs. The re-armed poll is
// pushed before anything that event pushes, which is the order the unskipped run has,
// so every output is byte-identical with and without the fast path.
import type { Scenario } from "./scenario/types.js";
import type { InputPackets } from "./scenario/packets.js";
import { EventQueue } from "./engine/events.js";
import { XskSocket, bind, rcv, complete, setLink, closeSocket } from "./xsk/socket.js";
import { XskMap, XSK_OK, XDP_PASS, XDP_ABORTED, isRedirectError } from "./xsk/xskmap.js";
import { Link } from "./xsk/link.js";
import { ringEntries } from "./xsk/ring.js";
import type { Ring } from "./xsk/ring.js";
import { Dataplane } from "./dataplane/dataplane.js";
import { reflect } from "./dataplane/responder.js";
import { rxQueueFor } from "./scenario/queue.js";
import { R, reasonName } from "./reasons.js";
import { Shim, ShimMaps, V_DROP, V_FALLBACK, V_PASS, V_REDIRECT, V_ABORTED, VERDICT_NAMES } from "./xdp/shim.js";
import { META_SIZE } from "./xdp/abi.js";
import { Worker } from "./worker/worker.js";
import type { Binding, WorkerHost } from "./worker/worker.js";
import {
  PathTracker,
  O_DROPPED,
  O_FORWARDED,
  O_IN_FLIGHT,
  O_TO_KERNEL,
  ORIGIN_INPUT,
  ORIGIN_RESPONDER,
  XR_FILL_EMPTY,
  XR_FRAME_TOO_SMALL,
  XR_OK,
  XR_REDIRECT_ERR,
  XR_RX_FULL,
} from "./trace/record.js";
import type { RunSink, RunResult, SeriesResult } from "./trace/record.js";

export type { RunSink, PathRecord, RunResult, SeriesResult } from "./trace/record.js";

// Frame locations reported by frameLocations() (CATALOGUE B, frame conservation).
export const LOC_NOWHERE = -1;
export const LOC_DUPLICATE = -2;
export const LOC_FILL = 0;
export const LOC_KERNEL_POOL = 1;
export const LOC_RX = 2;
export const LOC_PENDING_FILL = 3;
export const LOC_FREE_TX = 4;
export const LOC_PENDING_TX = 5;
export const LOC_TX_RING = 6;
export const LOC_DEVICE = 7;
export const LOC_COMP = 8;
export const LOC_HELD = 9;
export const LOC_NAMES: readonly string[] = ["fill", "kernel_pool", "rx", "pending_fill", "free_tx", "pending_tx", "tx_ring", "device", "comp", "held"];

/**
 * Builds the userspace worker the model drives (default: the TS Worker). The offline
 * differential passes one that runs the native C worker on the same rings (live/native.ts).
 */
export type WorkerFactory = (scn: Scenario, maps: ShimMaps, dp: Dataplane, tracker: PathTracker, host: WorkerHost) => Worker;

const EV_ARRIVAL = 1;
const EV_POLL_RX = 2;
const EV_POLL_TX = 3;
const EV_LINK = 4;
const EV_FAULT_START = 5;
const EV_FAULT_END = 6;
const EV_SERIES = 7;
const EV_END = 8;
const EV_BRINGUP = 9;
const EV_REBIND = 10;
const EV_RESPOND = 11;
const EV_TIMER = 12;

export { TIMER_SCAN_ROWS } from "./worker/worker.js";

/** How long the late half of bring-up takes when `armBeforeBound` arms first (bind + fill). */
export const BRINGUP_LATE_NS = 1_000_000;
/** Time to close, re-create, bind and fill a socket after a link cycle. */
export const REBIND_NS = 200_000;

export class Sim implements WorkerHost {
  readonly scn: Scenario;
  readonly input: InputPackets;
  readonly sink: RunSink;
  readonly seed: number;
  readonly q = new EventQueue(4096);
  readonly maps: ShimMaps;
  readonly shim: Shim;
  readonly xskmap: XskMap;
  readonly dp: Dataplane;
  readonly tracker: PathTracker;
  readonly worker: Worker;
  readonly links: Link[];
  private readonly linkEvAt: Float64Array;
  now = 0;
  endNs: number;
  done = false;
  private readonly sockBinding = new Map<number, number>();
  private readonly verdictCounts = new Float64Array(VERDICT_NAMES.length);
  private readonly xskCounts = { ok: 0, fill_empty: 0, rx_full: 0, redirect_err: 0, frame_too_small: 0, link_down: 0, xskmap_empty: 0, aborted: 0 };
  private readonly linkCounts = { sent: 0, dropped_link_down: 0, completions: 0 };
  private readonly series: SeriesResult;
  private readonly lastSeries = { fwd: 0, drop: 0, rx: 0 };
  private readonly ifNames: string[];
  // responder replies waiting to arrive: fixed-size slots, free list, grown when exhausted
  private readonly reflectOn: boolean;
  private respSlot: number;
  private respBuf: Uint8Array;
  private respLen: Int32Array;
  private respIf: Int32Array;
  private respCause: Int32Array;
  private respFree: Int32Array;
  private respFreeTop = 0;
  private respView: Uint8Array[];
  // idle fast path
  private readonly idleSkip: boolean;
  private idle = false;
  private idleBase = 0;
  private idleStep = 1;
  /** Polls left unscheduled by the idle fast path (not an output; for tests and bench). */
  idleSkipped = 0;
  // series sampler: dormant while no event can happen before its next grid point
  private seriesDormant = false;
  private seriesBase = 0;
  // session timer: the pending EV_TIMER carries timerGen in `a`; older ones are stale
  private timerGen = 0;
  private timerAt = Infinity;
  private timerLast = 0;
  /** First sequence number of the arrivals fed one at a time; -1: all pushed at start. */
  private arrivalSeq0 = -1;
  /** Timer passes run, and not run because they could remove nothing (not outputs). */
  timerRuns = 0;
  timerSkipped = 0;
  // Frames the device still held when their socket closed. They belong to the old UMEM
  // (copy mode: the skb was built from them), so the new socket never sees them: the link
  // carries them with tag -1 - slot; the packet leaves (or is dropped, link down) when its
  // turn comes, and the completion goes to the old socket's ring, which nobody reads.
  private readonly orphanSock: XskSocket[] = [];
  private readonly orphanId: number[] = [];
  private readonly orphanFree: number[] = [];

  constructor(scn: Scenario, input: InputPackets, sink: RunSink, opts: { seed?: number; worker?: WorkerFactory; idleSkip?: boolean } = {}) {
    this.scn = scn;
    this.input = input;
    this.sink = sink;
    this.seed = opts.seed ?? scn.seed;
    this.ifNames = scn.interfaces.map((i) => i.name);
    this.maps = new ShimMaps(scn);
    this.shim = new Shim(scn, this.maps);
    this.dp = new Dataplane(scn);
    this.tracker = new PathTracker(sink, this.ifNames, VERDICT_NAMES);
    this.worker = opts.worker !== undefined ? opts.worker(scn, this.maps, this.dp, this.tracker, this) : new Worker(scn, this.maps, this.dp, this.tracker, this);
    this.xskmap = new XskMap(Math.max(1, this.worker.bindings.length));
    this.links = scn.interfaces.map((i) => new Link(i.linkBps));
    this.linkEvAt = new Float64Array(scn.interfaces.length).fill(Infinity);
    const lastT = input.count > 0 ? input.tNs[input.count - 1]! : 0;
    this.endNs = lastT + scn.timing.drainNs;
    this.series = {
      intervalNs: scn.timing.seriesNs,
      t: [],
      bindings: this.worker.bindings.map((b) => ({ iface: this.ifNames[b.iface]!, queue: b.queue, fill: [], rx: [], tx: [], comp: [] })),
      pendingTxLocal: [],
      pendingTxPrepared: [],
      pendingFill: [],
      forwardedPerInterval: [],
      droppedPerInterval: [],
      rxPerInterval: [],
    };
    this.reflectOn = scn.traffic.respond === "reflect";
    this.respSlot = scn.dataplane.frameSize;
    const rs = this.reflectOn ? 64 : 0;
    this.respBuf = new Uint8Array(rs * this.respSlot);
    this.respLen = new Int32Array(rs);
    this.respIf = new Int32Array(rs);
    this.respCause = new Int32Array(rs);
    this.respFree = new Int32Array(rs);
    for (let s = rs - 1; s >= 0; s--) this.respFree[this.respFreeTop++] = s;
    this.respView = this.slotViews();
    // Only the TS worker's idleness is visible here; a factory's worker keeps every poll.
    this.idleSkip = opts.idleSkip ?? opts.worker === undefined;
    this.bringUp();
    // Arrivals: one at a time on the sequence numbers pushing them all here would have
    // given them (same pop order), so the heap holds tens of events instead of the whole
    // input. Needs times in order; an unsorted input is pushed whole.
    let sorted = true;
    for (let i = 1; sorted && i < input.count; i++) sorted = input.tNs[i]! >= input.tNs[i - 1]!;
    if (sorted) {
      this.arrivalSeq0 = this.q.reserveSeqs(input.count);
      if (input.count > 0) this.q.pushSeq(input.tNs[0]!, EV_ARRIVAL, 0, 0, this.arrivalSeq0);
    } else for (let i = 0; i < input.count; i++) this.q.push(input.tNs[i]!, EV_ARRIVAL, i, 0);
    scn.faults.forEach((f, i) => this.q.push(f.atNs, EV_FAULT_START, i, 0));
    this.q.push(0, EV_POLL_RX, 0, 0);
    if (scn.timing.seriesNs > 0) this.q.push(scn.timing.seriesNs, EV_SERIES, 0, 0);
    if (scn.timing.timerNs > 0) this.planTimer();
    this.q.push(this.endNs, EV_END, 0, 0);
  }

  // ---- bring-up -------------------------------------------------------------------

  private newSocket(b: Binding): XskSocket {
    const d = this.scn.dataplane;
    const sock = new XskSocket({ frames: d.frames, frameSize: d.frameSize, headroom: d.headroom, rings: d.rings, txBudget: d.txBudget, driver: d.driver });
    this.sockBinding.set(sock.id, b.index);
    b.sock = sock;
    return sock;
  }

  /** Resets b's frame lists and puts its frames home: RX frames to the fill ring, the rest to free TX. */
  private populate(b: Binding): void {
    const sock = b.sock;
    const fillN = Math.min(sock.fillRing.size, Math.floor(sock.umem.frames / 2));
    b.rxFrames = fillN;
    b.frameId.fill(-1);
    b.pendingFillCount = 0;
    b.freeTxCount = 0;
    this.worker.preparedTotal -= b.prepCount;
    b.prepCount = 0;
    b.prepHead = 0;
    for (let f = 0; f < fillN; f++) b.pendingFill[b.pendingFillCount++] = fillN - 1 - f;
    for (let f = sock.umem.frames - 1; f >= fillN; f--) b.freeTx[b.freeTxCount++] = f;
    // Submit the fill ring now (before bind unless emptyFillAtBind).
    const fill = sock.userFill;
    const n = b.pendingFillCount;
    if (fill.reserve(n) === n) {
      for (let i = 0; i < n; i++) fill.setAddr(fill.idx + i, sock.umem.frameAddr(b.pendingFill[n - 1 - i]!));
      fill.submit(n);
      b.pendingFillCount = 0;
    }
  }

  /** Creates, fills and binds b's socket; returns true when the binding is usable. */
  private bindOne(b: Binding): boolean {
    const sock = this.newSocket(b);
    const zcEmptyFirst = this.scn.bugs.emptyFillAtBind && this.scn.dataplane.driver === "zerocopy";
    if (!zcEmptyFirst) this.populate(b);
    const rc = bind(sock, b.ifindex, b.queue);
    if (rc < 0) return false;
    if (zcEmptyFirst) {
      // The driver sampled an empty fill ring at bind; this driver never retries, so the
      // queue stays without buffers although the fill ring is filled right after.
      this.populate(b);
      sock.dead = true;
    }
    b.live = true;
    return true;
  }

  private publishBinding(b: Binding, ready: boolean): void {
    const bugs = this.scn.bugs;
    let target: XskSocket = b.sock;
    if (bugs.staleXskSlot) {
      // The slot points at the wrong socket: the next binding's (another queue or
      // device) or, with a single binding, a created-but-never-bound socket.
      const all = this.worker.bindings;
      if (all.length > 1) target = all[(b.index + 1) % all.length]!.sock ?? b.sock;
      else {
        const d = this.scn.dataplane;
        target = new XskSocket({ frames: 1, frameSize: d.frameSize, headroom: d.headroom, rings: { rx: 2, tx: 2, fill: 2, comp: 2 }, driver: d.driver });
      }
    }
    this.xskmap.set(b.slot, target);
    this.maps.bindings.set(b.iface, b.queue, b.slot, ready);
  }

  private bringUp(): void {
    const bugs = this.scn.bugs;
    const w = this.worker;
    const armed = this.scn.dataplane.armed;
    if (bugs.armBeforeBound) {
      // Control arms and marks bindings ready first; sockets are bound and filled later.
      for (const b of w.bindings) {
        this.newSocket(b);
        this.xskmap.set(b.slot, b.sock);
        this.maps.bindings.set(b.iface, b.queue, b.slot, true);
      }
      this.maps.control.armed = armed;
      this.q.push(BRINGUP_LATE_NS, EV_BRINGUP, 0, 0);
      return;
    }
    let allReady = true;
    for (const b of w.bindings) {
      if (!this.bindOne(b)) allReady = false;
    }
    if (bugs.staleXskSlot) for (const b of w.bindings) if (b.live) this.publishBinding(b, true);
    if (!bugs.staleXskSlot) for (const b of w.bindings) if (b.live) this.publishBinding(b, true);
    // circularGate: arming waits for every binding to have received a packet, which can
    // only happen once armed.
    this.maps.control.armed = armed && allReady && !bugs.circularGate;
  }

  private lateBringUp(): void {
    for (const b of this.worker.bindings) {
      const sock = b.sock;
      this.populate(b);
      if (bind(sock, b.ifindex, b.queue) === 0) b.live = true;
    }
  }

  // ---- WorkerHost -------------------------------------------------------------------

  onTxOut(b: Binding, now: number): void {
    const sock = b.sock;
    const n = sock.txOutCount;
    if (n === 0) return;
    const link = this.links[b.iface]!;
    const frames = b.frames;
    for (let i = 0; i < n; i++) {
      const addr = sock.txOutAddr[i]!;
      link.enqueue(now, b.index * frames + sock.umem.frameIndex(addr), addr, sock.txOutLen[i]!);
    }
    sock.clearTxOut();
    this.schedLink(b.iface);
  }

  private schedLink(iface: number): void {
    const t = this.links[iface]!.nextTime();
    if (t < this.linkEvAt[iface]!) {
      this.linkEvAt[iface] = t;
      this.q.push(Math.max(t, this.now), EV_LINK, iface, 0);
    }
  }

  // ---- the loop ---------------------------------------------------------------------

  /** Runs one event; false when the run is over. */
  step(): boolean {
    if (this.done) return false;
    const q = this.q;
    if (!q.pop()) {
      this.finishRun();
      return false;
    }
    this.now = q.time;
    // A sample or a timer pass reads and changes nothing an idle poll would: neither wakes.
    if ((this.idle || this.seriesDormant) && q.kind !== EV_SERIES && q.kind !== EV_TIMER) this.wakeAll();
    switch (q.kind) {
      case EV_ARRIVAL: {
        const i = q.a;
        if (this.arrivalSeq0 >= 0 && i + 1 < this.input.count) q.pushSeq(this.input.tNs[i + 1]!, EV_ARRIVAL, i + 1, 0, (this.arrivalSeq0 + i + 1) >>> 0);
        this.arrival(i);
        break;
      }
      case EV_RESPOND:
        this.respondArrival(q.a);
        break;
      case EV_TIMER: {
        if (q.a !== this.timerGen) break; // superseded by an earlier plan
        const skipped = Math.round((this.now - this.timerLast) / this.scn.timing.timerNs) - 1;
        if (skipped > 0) {
          this.worker.skipTimers(skipped);
          this.timerSkipped += skipped;
        }
        this.timerLast = this.now;
        this.timerRuns++;
        this.worker.timers(this.now);
        this.planTimer();
        break;
      }
      case EV_POLL_RX: {
        const w = this.worker;
        if (this.now < w.pausedUntil) {
          q.push(w.pausedUntil, EV_POLL_RX, 0, 0);
          break;
        }
        const work = w.pollRx(this.now);
        if (this.idleSkip) this.replanTimer();
        const dt = work * this.scn.timing.perPacketNs;
        if (dt > 0) q.push(this.now + dt, EV_POLL_TX, 0, 0);
        else this.pollTx();
        break;
      }
      case EV_POLL_TX:
        this.pollTx();
        break;
      case EV_LINK:
        this.linkEvent(q.a);
        break;
      case EV_FAULT_START:
        this.fault(q.a, true);
        break;
      case EV_FAULT_END:
        this.fault(q.a, false);
        break;
      case EV_SERIES: {
        this.sample();
        const next = this.now + this.scn.timing.seriesNs;
        if (next > this.endNs) break;
        // Nothing can happen before the next sample: it would be skipped (unchanged), so
        // the sampler sleeps and wakeAll() re-arms it on the same grid.
        if (this.idleSkip && q.peekTime() > next) {
          this.seriesDormant = true;
          this.seriesBase = this.now;
        } else q.push(next, EV_SERIES, 0, 0);
        break;
      }
      case EV_BRINGUP:
        this.lateBringUp();
        break;
      case EV_REBIND:
        this.rebind(q.a);
        break;
      case EV_END:
        this.finishRun();
        return false;
    }
    return true;
  }

  runToEnd(): RunResult {
    while (this.step()) {
      /* run */
    }
    return this.result();
  }

  private pollTx(): void {
    const kicks = this.worker.pollTx(this.now);
    const step = Math.max(this.scn.timing.pollNs, kicks * this.scn.timing.kickNs, 1);
    if (kicks === 0 && this.idleSkip && this.worker.isIdle(this.now)) {
      this.idle = true;
      this.idleBase = this.now;
      this.idleStep = step;
      return;
    }
    const next = this.now + step;
    if (next <= this.endNs) this.q.push(next, EV_POLL_RX, 0, 0);
  }

  /**
   * Leaves the idle fast path at the current event: the unskipped run polled at
   * idleBase + j·idleStep (j ≥ 1); polls before now happened (uneventfully), the first at
   * or after now is still pending — and was pushed before anything this event pushes.
   */
  private wakePoll(): void {
    this.idle = false;
    const step = this.idleStep;
    const k = Math.max(1, Math.ceil((this.now - this.idleBase) / step));
    const skipped = k - 1;
    if (skipped > 0) {
      this.worker.skipIdle(skipped, this.idleBase + skipped * step);
      this.idleSkipped += skipped;
    }
    const g = this.idleBase + k * step;
    if (g <= this.endNs) this.q.push(g, EV_POLL_RX, 0, 0);
  }

  /** The sampler's next grid point at or after now (samples in between are unchanged: skipped). */
  private wakeSeries(): void {
    this.seriesDormant = false;
    const step = this.scn.timing.seriesNs;
    const g = this.seriesBase + Math.max(1, Math.ceil((this.now - this.seriesBase) / step)) * step;
    if (g <= this.endNs) this.q.push(g, EV_SERIES, 0, 0);
  }

  /**
   * Re-arms what slept (idle polls, the sampler) before the current event runs. When both
   * land on the same time they are pushed in the order the every-interval run pushed them:
   * the one whose previous grid point (its push time there) is earlier goes first.
   */
  private wakeAll(): void {
    if (!this.seriesDormant) return this.wakePoll();
    if (!this.idle) return this.wakeSeries();
    const ps = this.idleStep;
    const gp = this.idleBase + Math.max(1, Math.ceil((this.now - this.idleBase) / ps)) * ps;
    const ss = this.scn.timing.seriesNs;
    const gs = this.seriesBase + Math.max(1, Math.ceil((this.now - this.seriesBase) / ss)) * ss;
    if (gs - ss <= gp - ps) {
      this.wakeSeries();
      this.wakePoll();
    } else {
      this.wakePoll();
      this.wakeSeries();
    }
  }

  /**
   * Pushes the next session-timer pass after timerLast. Without the fast path: every
   * timerNs. With it, passes that can remove nothing are skipped (no session, or before
   * the sessions' earliest possible expiry) and accounted when the next one runs; the pass
   * run is the one just before the first that can remove something, so that one is pushed
   * at the same point of the run as when every pass runs.
   */
  private planTimer(): void {
    const step = this.scn.timing.timerNs;
    let next = this.timerLast + step;
    if (this.idleSkip) {
      const low = this.worker.nextExpiryLow();
      if (low === Infinity) {
        this.timerAt = Infinity; // replanTimer() arms it when a session appears
        return;
      }
      const j = (Math.ceil(low / step) - 1) * step;
      if (j > next) next = j;
    }
    if (next > this.endNs) {
      this.timerAt = Infinity;
      return;
    }
    this.timerAt = next;
    this.q.push(next, EV_TIMER, ++this.timerGen, 0);
  }

  /** After the worker ran the dataplane: a new or refreshed session may need an earlier pass. */
  private replanTimer(): void {
    const step = this.scn.timing.timerNs;
    if (step <= 0) return;
    const low = this.worker.nextExpiryLow();
    if (low === Infinity) return;
    let j = (Math.ceil(low / step) - 1) * step;
    const after = (Math.floor(this.now / step) + 1) * step;
    if (j < after) j = after;
    if (j >= this.timerAt || j > this.endNs) return;
    this.timerAt = j;
    this.q.push(j, EV_TIMER, ++this.timerGen, 0);
  }

  private arrival(i: number): void {
    const inp = this.input;
    const id = this.tracker.newPacket(ORIGIN_INPUT, inp.captureIndex[i]!, -1, this.now, inp.iface[i]!, inp.queue[i]!);
    this.ingress(inp.data, inp.off[i]!, inp.len[i]!, inp.iface[i]!, inp.queue[i]!, id);
  }

  /** A responder reply reaches its interface. */
  private respondArrival(s: number): void {
    const iface = this.respIf[s]!;
    const off = s * this.respSlot;
    const len = this.respLen[s]!;
    const buf = this.respBuf;
    const queue = rxQueueFor(buf, off, len, this.scn.interfaces[iface]!.queues);
    const id = this.tracker.newPacket(ORIGIN_RESPONDER, -1, this.respCause[s]!, this.now, iface, queue);
    this.ingress(buf, off, len, iface, queue, id);
    // rcv copied the frame (copy mode) or the sinks copied what they keep: the slot is free.
    this.respFree[this.respFreeTop++] = s;
  }

  /**
   * The far host of `respond: "reflect"` (on whichever side the frame leaves; responder
   * replies themselves are not answered) sees frame buf[off, off+len) of packet id, sent
   * on iface and complete at wireEnd; its reply (if any) arrives respondNs later.
   */
  private respond(iface: number, buf: Uint8Array, off: number, len: number, id: number, wireEnd: number): void {
    // Built straight into the next free slot (no second copy); it stays free when there is no reply.
    if (this.respFreeTop === 0) this.growResp();
    const s = this.respFree[this.respFreeTop - 1]!;
    const n = reflect(buf, off, len, this.respView[s]!);
    if (n <= 0) return;
    this.respFreeTop--;
    this.respLen[s] = n;
    this.respIf[s] = iface;
    this.respCause[s] = id;
    this.q.push(Math.max(this.now, wireEnd + this.scn.timing.respondNs), EV_RESPOND, s, 0);
  }

  /** One view per responder slot over respBuf (reflect's output buffer). */
  private slotViews(): Uint8Array[] {
    const v: Uint8Array[] = [];
    for (let s = 0; s * this.respSlot < this.respBuf.length; s++) v.push(this.respBuf.subarray(s * this.respSlot, (s + 1) * this.respSlot));
    return v;
  }

  private growResp(): void {
    const old = this.respLen.length;
    const cap = Math.max(64, old * 2);
    const buf = new Uint8Array(cap * this.respSlot);
    buf.set(this.respBuf);
    this.respBuf = buf;
    this.respView = this.slotViews();
    const grow = (a: Int32Array): Int32Array => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.respLen = grow(this.respLen);
    this.respIf = grow(this.respIf);
    this.respCause = grow(this.respCause);
    this.respFree = new Int32Array(cap);
    this.respFreeTop = 0;
    for (let s = cap - 1; s >= old; s--) this.respFree[this.respFreeTop++] = s;
  }

  /** wire(in) → shim → XSKMAP redirect → xsk.rx for packet id (already created). */
  private ingress(data: Uint8Array, off: number, len: number, iface: number, queue: number, id: number): void {
    const now = this.now;
    const tr = this.tracker;
    tr.armed[id] = this.maps.control.armed ? 1 : 0;
    const link = this.links[iface];
    if (link !== undefined && !link.up) {
      this.xskCounts.link_down++;
      return this.dropAt(iface, id, data, off, len, R.link_down);
    }
    const shim = this.shim;
    const verdict = shim.run(data, off, len, iface, queue, now);
    tr.shimReason[id] = shim.reason;
    tr.slot[id] = shim.slot;
    if (verdict !== V_REDIRECT) {
      tr.verdict[id] = verdict;
      this.verdictCounts[verdict]!++;
      if (verdict === V_PASS || verdict === V_FALLBACK) return this.kernelAt(iface, id, data, off, len, shim.reason);
      return this.dropAt(iface, id, data, off, len, shim.reason !== 0 ? shim.reason : R.aborted);
    }
    const ifindex = this.scn.interfaces[iface]!.ifindex;
    const r = this.xskmap.redirect(shim.slot, XDP_PASS, ifindex, queue);
    if (r === XSK_OK) {
      tr.verdict[id] = V_REDIRECT;
      this.verdictCounts[V_REDIRECT]!++;
      const sock = this.xskmap.target!;
      const rc = rcv(sock, data, off, len, shim.metaBlock, 0, META_SIZE);
      if (rc === 0) {
        tr.xskRx[id] = XR_OK;
        this.xskCounts.ok++;
        const bi = this.sockBinding.get(sock.id);
        const b = bi === undefined ? undefined : this.worker.bindings[bi];
        if (b !== undefined && b.sock === sock) b.frameId[sock.umem.frameIndex(sock.lastRxAddr)] = id;
        return;
      }
      tr.xskRx[id] = rc === R.rx_full ? XR_RX_FULL : rc === R.frame_too_small ? XR_FRAME_TOO_SMALL : rc === R.redirect_err_unbound ? XR_REDIRECT_ERR : XR_FILL_EMPTY;
      if (rc === R.rx_full) this.xskCounts.rx_full++;
      else if (rc === R.frame_too_small) this.xskCounts.frame_too_small++;
      else if (rc === R.redirect_err_unbound) this.xskCounts.redirect_err++;
      else this.xskCounts.fill_empty++;
      return this.dropAt(iface, id, data, off, len, rc);
    }
    if (isRedirectError(r)) {
      tr.verdict[id] = V_REDIRECT;
      this.verdictCounts[V_REDIRECT]!++;
      tr.xskRx[id] = XR_REDIRECT_ERR;
      this.xskCounts.redirect_err++;
      return this.dropAt(iface, id, data, off, len, r);
    }
    // Empty slot: bpf_redirect_map returned its flags' action.
    if (r === XDP_PASS) {
      tr.verdict[id] = V_PASS;
      this.verdictCounts[V_PASS]!++;
      tr.shimReason[id] = R.xskmap_empty;
      this.xskCounts.xskmap_empty++;
      return this.kernelAt(iface, id, data, off, len, R.xskmap_empty);
    }
    tr.verdict[id] = r === XDP_ABORTED ? V_ABORTED : V_DROP;
    this.verdictCounts[tr.verdict[id]!]!++;
    this.xskCounts.aborted++;
    return this.dropAt(iface, id, data, off, len, R.aborted);
  }

  private dropAt(iface: number, id: number, buf: Uint8Array, off: number, len: number, reason: number): void {
    this.sink.drop(iface, this.now, buf, off, len, id, reason);
    this.tracker.finish(id, O_DROPPED, reason);
  }

  private kernelAt(iface: number, id: number, buf: Uint8Array, off: number, len: number, reason: number): void {
    this.sink.kernel(iface, this.now, buf, off, len, id, reason);
    this.tracker.finish(id, O_TO_KERNEL, reason);
  }

  private linkEvent(iface: number): void {
    if (this.q.time !== this.linkEvAt[iface]) return; // superseded
    this.linkEvAt[iface] = Infinity;
    const link = this.links[iface]!;
    const w = this.worker;
    const tr = this.tracker;
    while (link.popCompletion(this.now)) {
      const tag = link.tag;
      let sock: XskSocket;
      let id: number;
      if (tag < 0) {
        const s = -1 - tag;
        sock = this.orphanSock[s]!;
        id = this.orphanId[s]!;
        this.orphanFree.push(s);
      } else {
        const bi = Math.floor(tag / this.scn.dataplane.frames);
        const b = w.bindings[bi]!;
        sock = b.sock;
        id = b.frameId[tag - bi * this.scn.dataplane.frames]!;
      }
      const data = sock.umem.data;
      if (link.sent === 1) {
        this.linkCounts.sent++;
        if (id >= 0 && !tr.isFinal(id)) {
          this.sink.frameOut(iface, link.wireStart, data, link.addr, link.len, id);
          tr.txDone[id] = link.wireEnd;
          tr.finish(id, O_FORWARDED, 0);
          // Before complete(): the frame is read while the device still owns it. A reply
          // is never answered (UDP would echo back and forth for ever).
          if (this.reflectOn && tr.origin[id] !== ORIGIN_RESPONDER) this.respond(iface, data, link.addr, link.len, id, link.wireEnd);
        }
      } else {
        this.linkCounts.dropped_link_down++;
        if (id >= 0 && !tr.isFinal(id)) {
          this.sink.drop(iface, link.wireStart, data, link.addr, link.len, id, R.link_down_tx);
          tr.finish(id, O_DROPPED, R.link_down_tx);
        }
      }
      this.linkCounts.completions++;
      if (tag >= 0 && sock.txInFlight > 0) complete(sock, link.addr);
    }
    this.schedLink(iface);
  }

  // ---- faults -----------------------------------------------------------------------

  private fault(i: number, start: boolean): void {
    const f = this.scn.faults[i]!;
    const now = this.now;
    const ifaces = f.iface === null ? this.scn.interfaces.map((x) => x.index) : [f.iface];
    const inScope = (b: Binding): boolean => (f.iface === null || b.iface === f.iface) && (f.queue === null || b.queue === f.queue);
    if (start && f.forNs > 0) this.q.push(now + f.forNs, EV_FAULT_END, i, 0);
    switch (f.kind) {
      case "tx_stall":
        if (start) for (const k of ifaces) {
          this.links[k]!.txStall(now, now + f.forNs);
          this.linkEvAt[k] = Infinity;
          this.schedLink(k);
        }
        break;
      case "completion_delay":
        for (const k of ifaces) this.links[k]!.completionDelayNs = start ? f.delayNs : 0;
        break;
      case "link_cycle":
        this.linkCycle(ifaces, start, inScope);
        break;
      case "fill_starve":
        for (const b of this.worker.bindings) if (inScope(b)) b.fillStarveUntil = start ? now + f.forNs : -1;
        break;
      case "bindings_zeroed":
        if (start) this.maps.bindings.clear();
        else for (const b of this.worker.bindings) if (b.live) this.maps.bindings.set(b.iface, b.queue, b.slot, true);
        break;
      case "generation_bump":
        if (start) this.maps.control.configGen++;
        break;
      case "worker_pause":
        if (start) this.worker.pausedUntil = now + f.forNs;
        break;
      case "neighbor_flush":
        if (start) for (const k of ifaces) this.dp.flushNeighbors(k);
        break;
    }
  }

  private linkCycle(ifaces: number[], start: boolean, inScope: (b: Binding) => boolean): void {
    const now = this.now;
    const bugs = this.scn.bugs;
    for (const k of ifaces) {
      const link = this.links[k]!;
      link.setUp(now, !start);
      this.linkEvAt[k] = Infinity;
      this.schedLink(k);
    }
    for (const b of this.worker.bindings) {
      if (!inScope(b) || !ifaces.includes(b.iface)) continue;
      setLink(b.sock, !start);
      if (start) {
        // Control stops the worker on this binding (not ready) unless it stays armed
        // across the rebuild (armedAcrossRebind); noRebindAfterCycle never notices.
        if (!bugs.noRebindAfterCycle && !bugs.armedAcrossRebind) this.maps.bindings.setReady(b.iface, b.queue, false);
      } else {
        const killed = b.sock.driver.linkCycleKillsSockets;
        if (bugs.noRebindAfterCycle && killed) continue;
        if (bugs.stopWithoutRebind && !killed) continue; // stopped, never rebound
        this.q.push(now + REBIND_NS, EV_REBIND, b.index, 0);
        if (!bugs.armedAcrossRebind) this.maps.bindings.setReady(b.iface, b.queue, false);
        else {
          // The new socket is in the XSKMAP before it is bound and filled.
          this.retireSocket(b);
          const sock = this.newSocket(b);
          this.xskmap.set(b.slot, sock);
          b.live = false;
        }
      }
    }
  }

  /**
   * Closes b's socket. Frames the device holds stay with the old UMEM (orphaned, their
   * packets still leave); every other packet holding a frame of it ends here.
   */
  private retireSocket(b: Binding): void {
    const tr = this.tracker;
    const old = b.sock;
    const frames = b.frames;
    this.links[b.iface]!.retag((tag) => {
      if (tag < 0 || Math.floor(tag / frames) !== b.index) return tag;
      const f = tag - b.index * frames;
      const s = this.orphanFree.length > 0 ? this.orphanFree.pop()! : this.orphanId.length;
      this.orphanSock[s] = old;
      this.orphanId[s] = b.frameId[f]!;
      b.frameId[f] = -1;
      return -1 - s;
    });
    for (let f = 0; f < b.frames; f++) {
      const id = b.frameId[f]!;
      if (id >= 0 && !tr.isFinal(id)) tr.finish(id, O_DROPPED, R.link_down);
      b.frameId[f] = -1;
    }
    const w = this.worker;
    for (let h = 0; h < w.heldCount; h++) if (w.heldB[h] === b.index) w.heldDeadline[h] = -1;
    closeSocket(b.sock);
    this.sockBinding.delete(b.sock.id);
    w.preparedTotal -= b.prepCount;
    b.prepCount = 0;
    b.prepHead = 0;
    b.pendingFillCount = 0;
    b.freeTxCount = 0;
    b.live = false;
  }

  private rebind(bi: number): void {
    const b = this.worker.bindings[bi]!;
    if (b.live || this.scn.bugs.armedAcrossRebind) {
      if (b.live) this.retireSocket(b);
      const sock = this.scn.bugs.armedAcrossRebind ? b.sock : this.newSocket(b);
      this.populate(b);
      if (bind(sock, b.ifindex, b.queue) === 0) b.live = true;
    }
    this.publishBinding(b, b.live);
    this.linkEvAt[b.iface] = Infinity;
    this.schedLink(b.iface);
  }

  // ---- series, end, result ------------------------------------------------------------

  /**
   * One series sample at now. An interval in which nothing happened and nothing changed
   * (every level equal to the last kept sample's, every per-interval count zero) is not
   * kept: series.json stays proportional to activity, not to the span. `t` says which
   * intervals were kept; the first is always kept.
   */
  private sample(): void {
    const s = this.series;
    const w = this.worker;
    const o = this.tracker.outcomes;
    const last = this.lastSeries;
    const fwd = o[O_FORWARDED]!;
    const drop = o[O_DROPPED]!;
    const rx = this.xskCounts.ok;
    const ptl = w.pendingTxLocal;
    const ptp = w.pendingTxPrepared;
    const pf = w.pendingFill;
    const n = s.t.length;
    let same = n > 0 && fwd === last.fwd && drop === last.drop && rx === last.rx && s.pendingTxLocal[n - 1] === ptl && s.pendingTxPrepared[n - 1] === ptp && s.pendingFill[n - 1] === pf;
    const bs = w.bindings;
    for (let i = 0; same && i < bs.length; i++) {
      const sock = bs[i]!.sock;
      const row = s.bindings[i]!;
      same = row.fill[n - 1] === sock.fillRing.level() && row.rx[n - 1] === sock.rxRing.level() && row.tx[n - 1] === sock.txRing.level() && row.comp[n - 1] === sock.compRing.level();
    }
    if (same) return;
    s.t.push(this.now);
    for (let i = 0; i < bs.length; i++) {
      const sock = bs[i]!.sock;
      const row = s.bindings[i]!;
      row.fill.push(sock.fillRing.level());
      row.rx.push(sock.rxRing.level());
      row.tx.push(sock.txRing.level());
      row.comp.push(sock.compRing.level());
    }
    s.pendingTxLocal.push(ptl);
    s.pendingTxPrepared.push(ptp);
    s.pendingFill.push(pf);
    s.forwardedPerInterval.push(fwd - last.fwd);
    s.droppedPerInterval.push(drop - last.drop);
    s.rxPerInterval.push(rx - last.rx);
    last.fwd = fwd;
    last.drop = drop;
    last.rx = rx;
  }

  private finishRun(): void {
    if (this.done) return;
    this.done = true;
    const tr = this.tracker;
    for (let id = 0; id < tr.count; id++) if (!tr.isFinal(id)) tr.finish(id, O_IN_FLIGHT, R.in_flight);
  }

  /**
   * Recounts where every UMEM frame is, from the structures themselves (ring contents
   * consumer..producer, the kernel pool, the link's queues, the worker's lists). One
   * Int8Array per binding, indexed by frame: a LOC_* code, LOC_NOWHERE for a frame found
   * nowhere (a leak), LOC_DUPLICATE for one found in two places. Cold path.
   */
  frameLocations(): Int8Array[] {
    const w = this.worker;
    const out: Int8Array[] = [];
    for (const b of w.bindings) {
      const loc = new Int8Array(b.frames).fill(LOC_NOWHERE);
      const sock = b.sock;
      const umem = sock.umem;
      const put = (f: number, where: number): void => {
        if (f < 0 || f >= b.frames) return;
        loc[f] = loc[f] === LOC_NOWHERE ? where : LOC_DUPLICATE;
      };
      const ringPut = (ring: Ring, where: number): void => {
        for (const a of ringEntries(ring)) put(umem.frameIndex(a), where);
      };
      ringPut(sock.fillRing, LOC_FILL);
      for (const a of sock.kernelHeldAddrs()) put(umem.frameIndex(a), LOC_KERNEL_POOL);
      ringPut(sock.rxRing, LOC_RX);
      for (let i = 0; i < b.pendingFillCount; i++) put(b.pendingFill[i]!, LOC_PENDING_FILL);
      for (let i = 0; i < b.freeTxCount; i++) put(b.freeTx[i]!, LOC_FREE_TX);
      for (let i = 0; i < b.prepCount; i++) put(b.prepFrame[(b.prepHead + i) % b.prepFrame.length]!, LOC_PENDING_TX);
      for (let i = 0; i < w.localCount; i++) {
        const s = (w.localHead + i) % w.localCap;
        if (w.localRefB[s] === b.index) put(w.localRefF[s]!, LOC_PENDING_TX);
      }
      ringPut(sock.txRing, LOC_TX_RING);
      ringPut(sock.compRing, LOC_COMP);
      for (let h = 0; h < w.heldCount; h++) if (w.heldB[h] === b.index) put(w.heldF[h]!, LOC_HELD);
      // Frames the device holds: the link's wire queue and its not-yet-posted completions.
      const link = this.links[b.iface]! as unknown as { q: LinkFifo; c: LinkFifo };
      for (const fifo of [link.q, link.c]) {
        for (let i = 0; i < fifo.count; i++) {
          const tag = fifo.tag[(fifo.head + i) % fifo.tag.length]!;
          if (Math.floor(tag / b.frames) === b.index) put(tag - b.index * b.frames, LOC_DEVICE);
        }
      }
      out.push(loc);
    }
    return out;
  }

  result(): RunResult {
    const tr = this.tracker;
    const o = tr.outcomes;
    const reasons: Record<string, number> = {};
    const names: string[] = [];
    for (let c = 0; c < tr.reasonCounts.length; c++) if (tr.reasonCounts[c]! > 0) names.push(reasonName(c));
    names.sort();
    for (const n of names) {
      for (let c = 0; c < tr.reasonCounts.length; c++) if (tr.reasonCounts[c]! > 0 && reasonName(c) === n) reasons[n] = tr.reasonCounts[c]!;
    }
    const verdicts: Record<string, number> = {};
    VERDICT_NAMES.forEach((n, i) => {
      if (i > 0) verdicts[n] = this.verdictCounts[i]!;
    });
    const w = this.worker;
    const sortObj = (x: Record<string, number>): Record<string, number> => Object.fromEntries(Object.keys(x).sort().map((k) => [k, x[k]!]));
    const counters: Record<string, Record<string, number>> = {
      shim: sortObj({ ...verdicts }),
      "xsk.rx": sortObj({ ...this.xskCounts }),
      worker: sortObj({ polls: w.c.polls, rx: w.c.rx, dropped: w.c.dropped, to_kernel: w.c.to_kernel, held: w.c.held, held_retried: w.c.held_retried, icmp_generated: w.c.icmp_generated, reaped: w.c.reaped, fill_submitted: w.c.fill_submitted, rx_wakeups: w.c.rx_wakeups, backpressure_polls: w.c.backpressure_polls, pending_fill: w.pendingFill }),
      txq: sortObj({ enqueued: w.c.forwarded_enq, inplace: w.c.inplace, prepared_copies: w.c.prepared_copies, local_copies: w.c.local_copies, pending_tx_full: w.c.pending_tx_full, pending_tx_local: w.pendingTxLocal, pending_tx_prepared: w.pendingTxPrepared }),
      "xsk.tx": sortObj({ ring_submitted: w.c.tx_ring_submitted, kicks: w.c.kicks, reserve_failed: w.c.reserve_failed }),
      wire: sortObj({ ...this.linkCounts }),
    };
    return {
      seed: this.seed,
      packets: { input: this.input.count, created: tr.created },
      outcomes: { forwarded: o[O_FORWARDED]!, to_kernel: o[O_TO_KERNEL]!, dropped: o[O_DROPPED]!, in_flight: o[O_IN_FLIGHT]! },
      reasons,
      counters,
      xdpStatistics: w.bindings.map((b) => ({ iface: this.ifNames[b.iface]!, queue: b.queue, ...b.sock.statistics() })),
      verdicts,
      series: this.series,
      endNs: this.endNs,
    };
  }
}

interface LinkFifo {
  head: number;
  count: number;
  tag: Int32Array;
}
