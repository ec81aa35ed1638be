// The userspace worker's poll loop (mirror of native/worker): one worker serving every
// binding. A poll cycle has two phases so that its duration is real virtual time:
//   pollRx: heartbeat, generation catch-up, reap completions, place pending local copies,
//           retry held packets, take an RX batch per binding and run the dataplane;
//   pollTx (perPacketNs × work later): submit pending fill, wake RX (zero-copy), move
//           prepared frames onto the TX ring and kick.
// It owns the userspace side of every frame: free TX lists, pending fill, the pending TX
// queues (`pending_tx_local` owned copies, `pending_tx_prepared` frames in the egress
// UMEM), and frames held for a neighbour. Bug switches of CATALOGUE B live here.
// It also owns the dataplane's side effects the shim must see: session-steering keys are
// published to the shim's map at the end of each pollRx and of each timer pass (`timers`,
// which runs the session expiry), so a reply never arrives before its key is there
// unless the reply beats the worker's poll.
import type { Scenario } from "../scenario/types.js";
import type { XskSocket } from "../xsk/socket.js";
import { kick, wakeRx } from "../xsk/socket.js";
import { PacketView, decode } from "../packet/view.js";
import { LINKTYPE_ETHERNET } from "../packet/linktypes.js";
import { formatIp } from "../packet/addr.js";
import { Dataplane, DP_DROP, DP_FORWARD, DP_HOLD, DP_ICMP_ERROR, DP_KERNEL } from "../dataplane/dataplane.js";
import { R } from "../reasons.js";
import { STEER_ADD } from "../dataplane/session.js";
import { SESSION_KEY_LEN } from "../xdp/maps.js";
import type { ShimMaps } from "../xdp/shim.js";
import { META_MAGIC, META_SIZE, META_VERSION, MO_CFGGEN, MO_DPORT, MO_DST, MO_FIBGEN, MO_MAGIC, MO_SPORT, MO_SRC, MO_VERSION, MO_PROTO, rd16, rd32 } from "../xdp/abi.js";
import { O_DROPPED, O_TO_KERNEL, ORIGIN_GENERATED, TXQ_INPLACE, TXQ_LOCAL, TXQ_PREPARED } from "../trace/record.js";
import type { PathTracker } from "../trace/record.js";

/** Session rows scanned per timer pass. */
export const TIMER_SCAN_ROWS = 4096;

/** One (iface, queue) binding: its socket and the worker's per-UMEM frame lists. */
export class Binding {
  sock!: XskSocket;
  /** Frames whose home is the RX side (indices < rxFrames); the rest are TX frames. */
  rxFrames = 0;
  readonly frameId: Int32Array;
  readonly freeTx: Int32Array;
  freeTxCount = 0;
  readonly pendingFill: Int32Array;
  pendingFillCount = 0;
  // pending_tx_prepared of this binding: FIFO of (frame, len)
  readonly prepFrame: Int32Array;
  readonly prepLen: Int32Array;
  prepHead = 0;
  prepCount = 0;
  /** The binding is served by the worker (false while stopped for a rebind). */
  live = false;
  fillStarveUntil = -1;
  /** Zero-copy: the fill ring's NEED_WAKEUP as sampled at pollRx (lostWakeup bug). */
  sampledNeedWakeup = false;
  skipFill = false;

  constructor(
    readonly index: number,
    readonly iface: number,
    readonly queue: number,
    readonly ifindex: number,
    readonly slot: number,
    readonly frames: number,
  ) {
    this.frameId = new Int32Array(frames).fill(-1);
    this.freeTx = new Int32Array(frames);
    this.pendingFill = new Int32Array(frames);
    this.prepFrame = new Int32Array(frames);
    this.prepLen = new Int32Array(frames);
  }
}

/** What the worker needs from the simulation loop. */
export interface WorkerHost {
  /** Frames were handed to the device by a kick on binding b: move them to the link. */
  onTxOut(b: Binding, now: number): void;
}

export class Worker {
  readonly view = new PacketView();
  readonly bindings: Binding[];
  /** bindingAt[iface * maxQueues + queue] */
  readonly bindingAt: Int32Array;
  readonly maxQueues: number;
  readonly queuesOf: Int32Array;
  configGen = 1;
  fibGen = 1;
  cycle = 0;
  pausedUntil = -1;

  // pending_tx_local: FIFO of owned copies (or, with unboundedPendingTx, references to RX frames)
  localCap: number;
  localBuf: Uint8Array;
  localEgress: Int32Array;
  localLen: Int32Array;
  localId: Int32Array;
  /** -1 = owned copy in localBuf; else binding index of the RX frame still holding the packet. */
  localRefB: Int32Array;
  localRefF: Int32Array;
  localHead = 0;
  localCount = 0;
  preparedTotal = 0;

  // frames held for a neighbour
  readonly heldB: Int32Array;
  readonly heldF: Int32Array;
  readonly heldLen: Int32Array;
  readonly heldId: Int32Array;
  readonly heldEgress: Int32Array;
  readonly heldFamily: Int32Array;
  readonly heldNexthop: Uint8Array;
  readonly heldDeadline: Float64Array;
  heldCount = 0;

  // counters (stage "worker" and "txq")
  readonly c = {
    polls: 0,
    rx: 0,
    forwarded_enq: 0,
    dropped: 0,
    to_kernel: 0,
    held: 0,
    held_retried: 0,
    icmp_generated: 0,
    reaped: 0,
    fill_submitted: 0,
    kicks: 0,
    rx_wakeups: 0,
    tx_ring_submitted: 0,
    backpressure_polls: 0,
    pending_tx_full: 0,
    local_copies: 0,
    prepared_copies: 0,
    inplace: 0,
    reserve_failed: 0,
    steer_added: 0,
    steer_removed: 0,
    steer_refused: 0,
    sessions_expired: 0,
  };

  private readonly batch: number;
  private readonly maxPendingTx: number;
  private readonly reapEvery: number;
  private readonly frameSize: number;
  private readonly bug: Scenario["bugs"];
  private readonly copyMode: boolean;
  private readonly txBatch: number;
  private readonly tmpNexthop = new Uint8Array(16);
  private readonly steerBuf = new Uint8Array(SESSION_KEY_LEN);
  /** Per ingress interface: frames arrive CHECKSUM_PARTIAL (traffic.csumPartial). */
  private readonly csumPartialIf: Uint8Array;

  constructor(
    readonly scn: Scenario,
    readonly maps: ShimMaps,
    readonly dp: Dataplane,
    readonly tracker: PathTracker,
    readonly host: WorkerHost,
  ) {
    const d = scn.dataplane;
    this.batch = d.batch;
    this.maxPendingTx = d.maxPendingTx;
    this.reapEvery = Math.max(1, scn.timing.reapEvery | 0);
    this.frameSize = d.frameSize;
    this.bug = scn.bugs;
    this.copyMode = d.driver !== "zerocopy";
    this.txBatch = Math.max(d.batch, d.txBudget);
    this.csumPartialIf = scn.traffic.csumPartial ?? new Uint8Array(scn.interfaces.length);
    let maxQ = 1;
    for (const ifc of scn.interfaces) maxQ = Math.max(maxQ, ifc.queues);
    this.maxQueues = maxQ;
    this.queuesOf = Int32Array.from(scn.interfaces.map((i) => i.queues));
    this.bindingAt = new Int32Array(scn.interfaces.length * maxQ).fill(-1);
    this.bindings = [];
    let slot = 0;
    for (const ifc of scn.interfaces) {
      for (let q = 0; q < ifc.queues; q++) {
        const b = new Binding(this.bindings.length, ifc.index, q, ifc.ifindex, slot++, d.frames);
        this.bindingAt[ifc.index * maxQ + q] = b.index;
        this.bindings.push(b);
      }
    }
    this.localCap = Math.max(16, d.maxPendingTx);
    this.localBuf = new Uint8Array(this.localCap * this.frameSize);
    this.localEgress = new Int32Array(this.localCap);
    this.localLen = new Int32Array(this.localCap);
    this.localId = new Int32Array(this.localCap);
    this.localRefB = new Int32Array(this.localCap);
    this.localRefF = new Int32Array(this.localCap);
    const hm = Math.max(1, d.neighHoldMax);
    this.heldB = new Int32Array(hm);
    this.heldF = new Int32Array(hm);
    this.heldLen = new Int32Array(hm);
    this.heldId = new Int32Array(hm);
    this.heldEgress = new Int32Array(hm);
    this.heldFamily = new Int32Array(hm);
    this.heldNexthop = new Uint8Array(hm * 16);
    this.heldDeadline = new Float64Array(hm);
  }

  get pendingTxLocal(): number {
    return this.localCount;
  }
  get pendingTxPrepared(): number {
    return this.preparedTotal;
  }
  get pendingFill(): number {
    let n = 0;
    for (const b of this.bindings) n += b.pendingFillCount;
    return n;
  }

  /** Phase 1 of a poll cycle; returns the work done (packets touched) for the cycle's duration. */
  pollRx(now: number): number {
    this.c.polls++;
    this.cycle++;
    const ctl = this.maps.control;
    ctl.heartbeatNs = now;
    // The worker re-reads the control map each cycle: a generation bump is caught up here,
    // so frames the shim stamped before the bump are rejected as stale.
    this.configGen = ctl.configGen;
    this.fibGen = ctl.fibGen;
    let work = 0;
    const reapPeriod = this.bug.lazyCompletionReap ? this.reapEvery * 256 : this.reapEvery;
    const reapNow = this.cycle % reapPeriod === 0;
    for (const b of this.bindings) {
      if (!b.live) continue;
      b.sampledNeedWakeup = (b.sock.fillRing.flags & 1) !== 0;
      if (reapNow) this.reap(b);
    }
    work += this.drainLocal(now);
    work += this.retryHeld(now);
    for (const b of this.bindings) {
      b.skipFill = false;
      if (!b.live) continue;
      if (!this.bug.unboundedPendingTx && this.localCount + this.preparedTotal >= this.maxPendingTx) {
        // Backpressure: leave frames in the RX ring. The fill submission still runs in
        // pollTx — unless the early return also skips it (skipFillOnBackpressure).
        this.c.backpressure_polls++;
        if (this.bug.skipFillOnBackpressure) b.skipFill = true;
        continue;
      }
      const rx = b.sock.userRx;
      const n = rx.peek(this.batch);
      if (n === 0) continue;
      const data = b.sock.umem.data;
      for (let i = 0; i < n; i++) {
        const idx = rx.idx + i;
        this.processOne(b, data, rx.addrAt(idx), rx.lenAt(idx), now + work * this.scn.timing.perPacketNs);
        work++;
      }
      rx.release(n);
      this.c.rx += n;
    }
    this.publishSteering();
    return work;
  }

  /**
   * The session-timer pass (every timing.timerNs, its own event so that it does not
   * depend on when the worker polls): expire at most 4096 rows, then publish the
   * removed keys. Returns the number of sessions removed.
   */
  timers(now: number): number {
    const n = this.dp.expireSessions(now, TIMER_SCAN_ROWS);
    this.c.sessions_expired += n;
    this.publishSteering();
    return n;
  }

  /** Accounts `n` timer passes that were not run because they could remove nothing (sim/run.ts). */
  skipTimers(n: number): void {
    this.dp.nat.sessions.skipExpire(n, TIMER_SCAN_ROWS);
  }

  /** No session can expire before this time (Infinity without sessions). */
  nextExpiryLow(): number {
    return this.dp.nat.sessions.nextExpiryLow();
  }

  /** Applies the dataplane's steering log to the shim's session map and clears it. */
  publishSteering(): void {
    const s = this.dp.nat.sessions;
    const n = s.steerCount;
    if (n === 0) return;
    const m = this.maps.sessions;
    const k = this.steerBuf;
    for (let i = 0; i < n; i++) {
      s.steerKey(i, k);
      if (s.steerOp(i) === STEER_ADD) {
        if (m.addKey(k)) this.c.steer_added++;
        else this.c.steer_refused++;
      } else if (m.removeKey(k)) this.c.steer_removed++;
    }
    s.steerClear();
  }

  /**
   * True when a poll now would change nothing but the poll count, the cycle and the
   * heartbeat: every live binding's RX, TX and completion rings empty, no pending fill,
   * TX, local copies or held packets, no zero-copy RX wakeup wanted, not paused. The
   * simulation loop may then leave polls unscheduled (sim/run.ts, idle fast path).
   */
  isIdle(now: number): boolean {
    if (this.localCount !== 0 || this.preparedTotal !== 0 || this.heldCount !== 0 || now < this.pausedUntil) return false;
    if (!this.bug.unboundedPendingTx && this.maxPendingTx <= 0) return false;
    if (this.dp.nat.sessions.steerCount !== 0) return false;
    for (const b of this.bindings) {
      if (!b.live) continue;
      const s = b.sock;
      if (b.pendingFillCount !== 0 || b.prepCount !== 0) return false;
      if (s.rxRing.producer !== s.rxRing.consumer || s.txRing.producer !== s.txRing.consumer || s.compRing.producer !== s.compRing.consumer) return false;
      if (s.txInFlight !== 0) return false;
      if (!this.copyMode && (s.fillRing.flags & 1) !== 0) return false;
    }
    return true;
  }

  /** Accounts `n` idle polls that were not run, the last at lastNs (see isIdle). */
  skipIdle(n: number, lastNs: number): void {
    if (n <= 0) return;
    this.c.polls += n;
    this.cycle += n;
    this.maps.control.heartbeatNs = lastNs;
    this.configGen = this.maps.control.configGen;
    this.fibGen = this.maps.control.fibGen;
  }

  /** Phase 2: fill submission, RX wake, TX ring and kick. Returns the number of kicks. */
  pollTx(now: number): number {
    let kicks = 0;
    for (const b of this.bindings) {
      if (!b.live) continue;
      const sock = b.sock;
      let committed = 0;
      if (!b.skipFill && !(now < b.fillStarveUntil)) committed = this.submitFill(b);
      if (!this.copyMode) {
        // Zero-copy: "wake RX" (recvfrom/poll) when the driver asked for it. The healthy
        // worker checks after its commit every cycle; lostWakeup checks only before a
        // commit (the value sampled in pollRx) and misses a flag set in between.
        const need = this.bug.lostWakeup ? committed > 0 && b.sampledNeedWakeup : (sock.fillRing.flags & 1) !== 0;
        if (need) {
          if (this.bug.wakeTxForRx) {
            kick(sock, now);
            kicks++;
            this.host.onTxOut(b, now);
          } else {
            wakeRx(sock);
            this.c.rx_wakeups++;
          }
        }
      }
      kicks += this.drainTx(b, now);
    }
    return kicks;
  }

  private reap(b: Binding): void {
    const comp = b.sock.userComp;
    const n = comp.peek(b.sock.compRing.size);
    if (n === 0) return;
    const umem = b.sock.umem;
    for (let i = 0; i < n; i++) {
      const f = umem.frameIndex(comp.addrAt(comp.idx + i));
      b.frameId[f] = -1;
      this.recycle(b, f);
    }
    comp.release(n);
    this.c.reaped += n;
  }

  /** A frame the worker is done with goes home: RX frames to pending fill, TX frames to the free TX list. */
  recycle(b: Binding, f: number): void {
    if (f < b.rxFrames) {
      if (b.pendingFillCount < b.pendingFill.length) b.pendingFill[b.pendingFillCount++] = f;
    } else if (b.freeTxCount < b.freeTx.length) {
      b.freeTx[b.freeTxCount++] = f;
    }
  }

  private submitFill(b: Binding): number {
    const n = b.pendingFillCount;
    if (n === 0) return 0;
    const fill = b.sock.userFill;
    const k = Math.min(n, fill.freeEntries(n));
    if (k === 0 || fill.reserve(k) !== k) return 0;
    const umem = b.sock.umem;
    for (let i = 0; i < k; i++) fill.setAddr(fill.idx + i, umem.frameAddr(b.pendingFill[n - 1 - i]!));
    fill.submit(k);
    b.pendingFillCount = n - k;
    this.c.fill_submitted += k;
    return k;
  }

  private drainTx(b: Binding, now: number): number {
    const sock = b.sock;
    const tx = sock.userTx;
    let k = 0;
    const n = b.prepCount;
    if (n > 0) {
      let r: number;
      if (this.bug.allOrNothingReserve) {
        // Treats reserve as "up to": asks for a fixed batch, uses what it has, and never
        // cancels the rest — the cached producer runs ahead of what was submitted.
        r = tx.reserve(this.txBatch);
        k = Math.min(n, r);
      } else {
        k = Math.min(n, tx.freeEntries(n));
        r = k > 0 ? tx.reserve(k) : 0;
        if (r !== k) k = 0;
      }
      if (k === 0) this.c.reserve_failed++;
      const cap = b.prepFrame.length;
      for (let i = 0; i < k; i++) {
        const h = (b.prepHead + i) % cap;
        const f = b.prepFrame[h]!;
        tx.setDesc(tx.idx + i, sock.umem.frameAddr(f) + sock.umem.rxDataOffset, b.prepLen[h]!, 0);
        const id = b.frameId[f]!;
        if (id >= 0) this.tracker.txRing[id] = now;
      }
      if (k > 0) {
        tx.submit(k);
        b.prepHead = (b.prepHead + k) % cap;
        b.prepCount -= k;
        this.preparedTotal -= k;
        this.c.tx_ring_submitted += k;
      }
    }
    const outstanding = sock.txRing.producer !== sock.txRing.consumer;
    if (!outstanding) return 0;
    // Copy mode keeps NEED_WAKEUP set on TX: every descriptor needs a sendto. The kernel
    // moves at most txBudget per kick, so descriptors left from an earlier cycle need a
    // kick too — noTxKick only kicks when this cycle queued something.
    if (!tx.needWakeup() && !this.copyMode) return 0;
    if (this.bug.noTxKick && k === 0) return 0;
    kick(sock, now);
    this.c.kicks++;
    this.host.onTxOut(b, now);
    return 1;
  }

  private pushPrepared(e: Binding, f: number, len: number): void {
    const cap = e.prepFrame.length;
    const t = (e.prepHead + e.prepCount) % cap;
    e.prepFrame[t] = f;
    e.prepLen[t] = len;
    e.prepCount++;
    this.preparedTotal++;
  }

  private egressBinding(egressIf: number, queue: number): Binding | undefined {
    const nq = this.queuesOf[egressIf] ?? 1;
    const bi = this.bindingAt[egressIf * this.maxQueues + (queue % nq)]!;
    return bi >= 0 ? this.bindings[bi] : undefined;
  }

  private dropPkt(b: Binding, f: number, data: Uint8Array, addr: number, len: number, id: number, reason: number, now: number, recycle: boolean): void {
    this.tracker.sink.drop(b.iface, now, data, addr, len, id, reason);
    this.tracker.finish(id, O_DROPPED, reason);
    this.c.dropped++;
    b.frameId[f] = -1;
    if (recycle) this.recycle(b, f);
  }

  private processOne(b: Binding, data: Uint8Array, addr: number, len: number, now: number): void {
    const umem = b.sock.umem;
    const f = umem.frameIndex(addr);
    const id = b.frameId[f]!;
    const m = addr - META_SIZE;
    if (rd32(data, m + MO_MAGIC) !== META_MAGIC) return this.dropPkt(b, f, data, addr, len, id, R.meta_bad_magic, now, true);
    if (rd16(data, m + MO_VERSION) !== META_VERSION) return this.dropPkt(b, f, data, addr, len, id, R.meta_bad_version, now, true);
    if (rd32(data, m + MO_CFGGEN) < this.configGen || rd32(data, m + MO_FIBGEN) < this.fibGen) {
      return this.dropPkt(b, f, data, addr, len, id, R.meta_stale_generation, now, true);
    }
    const v = this.view;
    if (decode(v, data, addr, len, LINKTYPE_ETHERNET) !== 0 || v.ipVersion === 0) return this.dropPkt(b, f, data, addr, len, id, R.malformed, now, true);
    // The metadata tuple is authoritative; a frame that disagrees with it means the two
    // sides do not share the layout (or the frame was changed after the shim ran).
    const sport = v.srcPort >= 0 ? v.srcPort : v.icmpId >= 0 ? v.icmpId : 0;
    const dport = v.dstPort >= 0 ? v.dstPort : 0;
    if (this.tracker.wantPath && id >= 0) {
      const al = v.addrLen as 4 | 16;
      const proto = data[m + MO_PROTO]!;
      const ports = proto === 6 || proto === 17;
      const ms = rd16(data, m + MO_SPORT);
      const md = rd16(data, m + MO_DPORT);
      const s = formatIp(data, m + MO_SRC, al);
      const d = formatIp(data, m + MO_DST, al);
      const fmt = (ip: string, p: number): string => (ports ? (al === 16 ? `[${ip}]:${p}` : `${ip}:${p}`) : ip);
      this.tracker.setExtras(id, { tuple: { proto, src: fmt(s, ms), dst: fmt(d, md), from: "metadata" } });
    }
    let same = data[m + MO_PROTO] === (v.ipProto & 0xff) && rd16(data, m + MO_SPORT) === sport && rd16(data, m + MO_DPORT) === dport;
    for (let j = 0; same && j < v.addrLen; j++) {
      if (data[m + MO_SRC + j] !== data[v.srcOff + j] || data[m + MO_DST + j] !== data[v.dstOff + j]) same = false;
    }
    if (!same) return this.dropPkt(b, f, data, addr, len, id, R.meta_tuple_mismatch, now, true);

    const dp = this.dp;
    // Generic XDP hands the skb's checksum state over with the frame; the model keys it
    // on the ingress interface (traffic.csumPartial).
    dp.nat.csumPartial = this.csumPartialIf[b.iface] === 1;
    const act = dp.process(data, addr, len, v, b.iface, now);
    if (this.tracker.wantPath && id >= 0) {
      const d = dp.describeLast();
      const x = this.tracker.extras[id] ?? {};
      x.lookup = d.lookup;
      if (d.nat) x.nat = d.nat;
      if (d.fib) x.fib = d.fib;
      this.tracker.setExtras(id, x);
    }
    switch (act) {
      case DP_FORWARD:
        this.enqueueTx(b, f, addr, dp.newLen > 0 ? dp.newLen : len, id, dp.egressIf, now);
        return;
      case DP_HOLD: {
        if (this.heldCount >= this.heldB.length) return this.dropPkt(b, f, data, addr, len, id, R.neigh_hold_full, now, true);
        const h = this.heldCount++;
        this.heldB[h] = b.index;
        this.heldF[h] = f;
        this.heldLen[h] = dp.newLen > 0 ? dp.newLen : len;
        this.heldId[h] = id;
        this.heldEgress[h] = dp.egressIf;
        this.heldFamily[h] = dp.nexthopFamily;
        this.heldNexthop.set(dp.nexthop, h * 16);
        this.heldDeadline[h] = now + this.scn.dataplane.neighHoldNs;
        this.c.held++;
        return;
      }
      case DP_KERNEL: {
        const r = dp.reason !== 0 ? dp.reason : R.worker_to_kernel;
        this.tracker.sink.kernel(b.iface, now, data, addr, len, id, r);
        this.tracker.finish(id, O_TO_KERNEL, r);
        this.c.to_kernel++;
        b.frameId[f] = -1;
        this.recycle(b, f);
        return;
      }
      case DP_ICMP_ERROR: {
        this.dropPkt(b, f, data, addr, len, id, dp.reason, now, true);
        const gid = this.tracker.newPacket(ORIGIN_GENERATED, -1, id, now, b.iface, b.queue);
        // The router's own error was routed by the dataplane: its record names the egress.
        if (this.tracker.wantPath) this.tracker.setExtras(gid, { fib: { egress: this.scn.interfaces[dp.genEgressIf]!.name, nexthop: null } });
        this.c.icmp_generated++;
        this.enqueueCopy(dp.genBuf, 0, dp.genLen, gid, dp.genEgressIf, b.queue, now);
        return;
      }
      case DP_DROP:
      default:
        // leakOnDrop: this drop path forgets to give the frame back.
        return this.dropPkt(b, f, data, addr, len, id, dp.reason !== 0 ? dp.reason : R.malformed, now, !this.bug.leakOnDrop);
    }
  }

  private pendingFull(): boolean {
    return !this.bug.unboundedPendingTx && this.localCount + this.preparedTotal >= this.maxPendingTx;
  }

  /** A forwarded packet sitting in RX frame f of binding b. */
  private enqueueTx(b: Binding, f: number, addr: number, len: number, id: number, egressIf: number, now: number): void {
    const data = b.sock.umem.data;
    if (this.pendingFull()) {
      this.c.pending_tx_full++;
      return this.dropPkt(b, f, data, addr, len, id, R.pending_tx_full, now, true);
    }
    const e = this.egressBinding(egressIf, b.queue);
    if (e === undefined || !e.live) return this.dropPkt(b, f, data, addr, len, id, R.egress_down, now, true);
    const tr = this.tracker;
    if (id >= 0) tr.txEnq[id] = now;
    this.c.forwarded_enq++;
    if (e === b) {
      // Same UMEM: transmit in place. The RX frame data offset equals the TX offset used.
      this.pushPrepared(b, f, len);
      if (id >= 0) tr.txq[id] = TXQ_INPLACE;
      this.c.inplace++;
      return;
    }
    if (e.freeTxCount > 0) {
      const g = e.freeTx[--e.freeTxCount]!;
      const eu = e.sock.umem;
      eu.data.set(data.subarray(addr, addr + len), eu.frameAddr(g) + eu.rxDataOffset);
      e.frameId[g] = id;
      this.pushPrepared(e, g, len);
      if (id >= 0) tr.txq[id] = TXQ_PREPARED;
      this.c.prepared_copies++;
      b.frameId[f] = -1;
      this.recycle(b, f);
      return;
    }
    if (id >= 0) tr.txq[id] = TXQ_LOCAL;
    if (this.bug.unboundedPendingTx) {
      // The packet stays in its RX frame, queued: RX frames pile up in pending TX.
      const s = this.localSlot();
      this.localEgress[s] = e.index;
      this.localLen[s] = len;
      this.localId[s] = id;
      this.localRefB[s] = b.index;
      this.localRefF[s] = f;
      return;
    }
    const s = this.localSlot();
    this.localBuf.set(data.subarray(addr, addr + len), s * this.frameSize);
    this.localEgress[s] = e.index;
    this.localLen[s] = len;
    this.localId[s] = id;
    this.localRefB[s] = -1;
    this.c.local_copies++;
    b.frameId[f] = -1;
    this.recycle(b, f);
  }

  /** A packet the model created (ICMP error): copied into the egress binding's TX frames. */
  enqueueCopy(src: Uint8Array, off: number, len: number, id: number, egressIf: number, queue: number, now: number): void {
    const e = this.egressBinding(egressIf, queue);
    if (e === undefined || !e.live || this.pendingFull()) {
      const r = e === undefined || !e.live ? R.egress_down : R.pending_tx_full;
      this.tracker.sink.drop(egressIf, now, src, off, len, id, r);
      this.tracker.finish(id, O_DROPPED, r);
      return;
    }
    this.tracker.txEnq[id] = now;
    if (e.freeTxCount > 0) {
      const g = e.freeTx[--e.freeTxCount]!;
      const eu = e.sock.umem;
      eu.data.set(src.subarray(off, off + len), eu.frameAddr(g) + eu.rxDataOffset);
      e.frameId[g] = id;
      this.pushPrepared(e, g, len);
      this.tracker.txq[id] = TXQ_PREPARED;
      return;
    }
    this.tracker.txq[id] = TXQ_LOCAL;
    const s = this.localSlot();
    this.localBuf.set(src.subarray(off, off + len), s * this.frameSize);
    this.localEgress[s] = e.index;
    this.localLen[s] = len;
    this.localId[s] = id;
    this.localRefB[s] = -1;
  }

  private localSlot(): number {
    if (this.localCount === this.localCap) this.growLocal();
    const s = (this.localHead + this.localCount) % this.localCap;
    this.localCount++;
    return s;
  }

  private growLocal(): void {
    // Only reachable with unboundedPendingTx (the healthy queue is bounded by maxPendingTx).
    const cap = this.localCap * 2;
    const fs = this.frameSize;
    const buf = new Uint8Array(cap * fs);
    const eg = new Int32Array(cap);
    const ln = new Int32Array(cap);
    const id = new Int32Array(cap);
    const rb = new Int32Array(cap);
    const rf = new Int32Array(cap);
    for (let i = 0; i < this.localCount; i++) {
      const s = (this.localHead + i) % this.localCap;
      buf.set(this.localBuf.subarray(s * fs, s * fs + fs), i * fs);
      eg[i] = this.localEgress[s]!;
      ln[i] = this.localLen[s]!;
      id[i] = this.localId[s]!;
      rb[i] = this.localRefB[s]!;
      rf[i] = this.localRefF[s]!;
    }
    this.localBuf = buf;
    this.localEgress = eg;
    this.localLen = ln;
    this.localId = id;
    this.localRefB = rb;
    this.localRefF = rf;
    this.localHead = 0;
    this.localCap = cap;
  }

  /** Moves local copies into free TX frames of their egress binding, in FIFO order per binding. */
  private drainLocal(now: number): number {
    const n = this.localCount;
    if (n === 0) return 0;
    let moved = 0;
    let keep = 0;
    const cap = this.localCap;
    const fs = this.frameSize;
    for (let i = 0; i < n; i++) {
      const s = (this.localHead + i) % cap;
      const e = this.bindings[this.localEgress[s]!]!;
      if (e.live && e.freeTxCount > 0) {
        const g = e.freeTx[--e.freeTxCount]!;
        const eu = e.sock.umem;
        const len = this.localLen[s]!;
        const rb = this.localRefB[s]!;
        if (rb < 0) {
          eu.data.set(this.localBuf.subarray(s * fs, s * fs + len), eu.frameAddr(g) + eu.rxDataOffset);
        } else {
          const b = this.bindings[rb]!;
          const f = this.localRefF[s]!;
          const bu = b.sock.umem;
          const a = bu.frameAddr(f) + bu.rxDataOffset;
          eu.data.set(bu.data.subarray(a, a + len), eu.frameAddr(g) + eu.rxDataOffset);
          b.frameId[f] = -1;
          this.recycle(b, f);
        }
        e.frameId[g] = this.localId[s]!;
        this.pushPrepared(e, g, len);
        moved++;
      } else {
        const d = (this.localHead + keep) % cap;
        if (d !== s) {
          this.localBuf.copyWithin(d * fs, s * fs, s * fs + this.localLen[s]!);
          this.localEgress[d] = this.localEgress[s]!;
          this.localLen[d] = this.localLen[s]!;
          this.localId[d] = this.localId[s]!;
          this.localRefB[d] = this.localRefB[s]!;
          this.localRefF[d] = this.localRefF[s]!;
        }
        keep++;
      }
    }
    this.localCount = keep;
    void now;
    return moved;
  }

  /** Held packets whose neighbour resolved go to TX; expired ones are dropped. Runs every poll, RX or not. */
  private retryHeld(now: number): number {
    let w = 0;
    let keep = 0;
    const dp = this.dp;
    for (let h = 0; h < this.heldCount; h++) {
      const b = this.bindings[this.heldB[h]!]!;
      const f = this.heldF[h]!;
      const egress = this.heldEgress[h]!;
      const fam = this.heldFamily[h]!;
      this.tmpNexthop.set(this.heldNexthop.subarray(h * 16, h * 16 + 16));
      const umem = b.sock.umem;
      const addr = umem.frameAddr(f) + umem.rxDataOffset;
      if (dp.neighborKnown(egress, this.tmpNexthop, fam, now)) {
        dp.completeHold(umem.data, addr, egress, this.tmpNexthop, fam);
        this.c.held_retried++;
        this.enqueueTx(b, f, addr, this.heldLen[h]!, this.heldId[h]!, egress, now);
        w++;
      } else if (now >= this.heldDeadline[h]!) {
        this.dropPkt(b, f, umem.data, addr, this.heldLen[h]!, this.heldId[h]!, R.neigh_unresolved, now, true);
        w++;
      } else {
        if (keep !== h) {
          this.heldB[keep] = this.heldB[h]!;
          this.heldF[keep] = f;
          this.heldLen[keep] = this.heldLen[h]!;
          this.heldId[keep] = this.heldId[h]!;
          this.heldEgress[keep] = egress;
          this.heldFamily[keep] = fam;
          this.heldNexthop.copyWithin(keep * 16, h * 16, h * 16 + 16);
          this.heldDeadline[keep] = this.heldDeadline[h]!;
        }
        keep++;
      }
    }
    this.heldCount = keep;
    return w;
  }
}
