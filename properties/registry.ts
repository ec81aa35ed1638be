// The property registry: every invariant of CATALOGUE.md the fuzzer checks against the
// model, by name, with its suite and the judge that decides it from observables only —
// path records, output frames, counters, XDP_STATISTICS, ring contents, the worker's own
// queues as recounted by Sim.frameLocations(), the control maps. No judge reads
// `scn.bugs` or keys on a reason code that exists only because a switch is on.
//
// The reverse-NAT suite's judges live in natJudges.ts and run on full-simulation runs of
// the cases nat.ts builds; campaigns, the mutation table and saved counterexamples pick
// every property up by name.
import { Sim, LOC_NOWHERE, LOC_DUPLICATE, LOC_FILL, LOC_FREE_TX, LOC_KERNEL_POOL, LOC_NAMES } from "../sim/run.js";
import type { PathRecord } from "../sim/run.js";
import type { Scenario } from "../sim/scenario/types.js";
import { PacketView, decode } from "../sim/packet/view.js";
import { verifyIpv4Header, verifyL4 } from "../sim/packet/checksum.js";
import { formatIp } from "../sim/packet/addr.js";
import { LINKTYPE_ETHERNET } from "../sim/packet/linktypes.js";
import { MemSink } from "./observe.js";
import type { Judge, RunView } from "./observe.js";
import { NAT_PROPERTIES } from "./natJudges.js";

export type Suite = "backpressure" | "accounting" | "control" | "rings" | "checksum" | "determinism" | "reverseNat";
export const SUITES: readonly Suite[] = ["backpressure", "accounting", "control", "rings", "checksum", "determinism", "reverseNat"];

export interface Property {
  name: string;
  suite: Suite;
  /** The invariant, in CATALOGUE words. */
  doc: string;
  /** A fresh judge per run (judges may keep state across steps). */
  judge(): Judge;
}

/** Fill ring empty while frames wait in pending fill may last at most this long (poll cycles are 2 µs). */
export const FILL_TRANSIENT_NS = 200_000;
/** Bring-up from no traffic must have armed by then. */
export const BRINGUP_BOUND_NS = 3_000_000;
/** Descriptors on the TX ring must be consumed within this long outside fault windows. */
export const TX_SETTLE_NS = 1_000_000;
/** pacedNoLoss: traffic counts as light when every gap is at least this long … */
export const PACE_GAP_NS = 4_000;
/** … for at least this long before the packet judged. */
export const PACE_WINDOW_NS = 1_000_000;
/** Drops that mean "no frame or no ring room" (a healthy worker never has them under light load). */
const RESOURCE_REASONS = new Set(["fill_empty", "rx_full", "pending_tx_full", "no_tx_frame"]);

// ---- observables derived from the scenario and the input frames --------------------

interface InputFacts {
  transit: boolean;
  l4: number;
  src: string;
  dst: string;
}

/** Reads addresses and ports straight from the input bytes (Ethernet, ≤2 VLAN tags, IPv4/IPv6 without extension headers). */
function inputFacts(scn: Scenario, frame: Uint8Array): InputFacts | null {
  let o = 12;
  let et = (frame[o]! << 8) | frame[o + 1]!;
  while (et === 0x8100 || et === 0x88a8) {
    o += 4;
    et = (frame[o]! << 8) | frame[o + 1]!;
  }
  const l3 = o + 2;
  let proto: number, sOff: number, dOff: number, al: 4 | 16, l4: number;
  if (et === 0x0800) {
    proto = frame[l3 + 9]!;
    sOff = l3 + 12;
    dOff = l3 + 16;
    al = 4;
    l4 = l3 + (frame[l3]! & 15) * 4;
  } else if (et === 0x86dd) {
    proto = frame[l3 + 6]!;
    sOff = l3 + 8;
    dOff = l3 + 24;
    al = 16;
    l4 = l3 + 40;
  } else return null;
  let local = false;
  for (const ifc of scn.interfaces) {
    for (const a of ifc.addrs) {
      if (a.bytes.length !== al) continue;
      let same = true;
      for (let k = 0; k < al; k++) if (a.bytes[k] !== frame[dOff + k]) same = false;
      if (same) local = true;
    }
  }
  const ports = proto === 6 || proto === 17;
  const ep = (off: number, p: number): string => {
    const ip = formatIp(frame, off, al);
    if (!ports) return ip;
    const port = (frame[l4 + p]! << 8) | frame[l4 + p + 1]!;
    return al === 16 ? `[${ip}]:${port}` : `${ip}:${port}`;
  };
  return { transit: !local, l4: proto, src: ep(sOff, 0), dst: ep(dOff, 2) };
}

function windows(scn: Scenario, kind: string, iface: number | null = null): Array<[number, number]> {
  return scn.faults.filter((f) => f.kind === kind && (iface === null || f.iface === null || f.iface === iface)).map((f) => [f.atNs, f.atNs + f.forNs]);
}
const inside = (w: Array<[number, number]>, t: number, margin = 0): boolean => w.some(([a, b]) => t >= a - margin && t < b + margin);

function inputRecords(v: RunView): PathRecord[] {
  return v.sink.paths.filter((r) => r.origin === "input");
}
function bindingName(v: RunView, bi: number): string {
  const b = v.sim.worker.bindings[bi]!;
  return `${v.scn.interfaces[b.iface]!.name}:${b.queue}`;
}

// ---- the properties -----------------------------------------------------------------

const PROPS: Property[] = [
  {
    name: "frameConservation",
    suite: "backpressure",
    doc: "every UMEM frame is in exactly one place (rings, kernel pool, worker lists, pending TX, device), recounted at every step",
    judge: () => ({
      step(v) {
        const locs = v.sim.frameLocations();
        for (let bi = 0; bi < locs.length; bi++) {
          const l = locs[bi]!;
          for (let f = 0; f < l.length; f++) {
            if (l[f] === LOC_NOWHERE) return `frame ${f} of ${bindingName(v, bi)} is nowhere`;
            if (l[f] === LOC_DUPLICATE) return `frame ${f} of ${bindingName(v, bi)} is in two places`;
          }
        }
        return null;
      },
    }),
  },
  {
    name: "framesHomeAtQuiescence",
    suite: "backpressure",
    doc: "at quiescence (traffic stopped, queues drained) every frame is back in the fill ring, the free TX list or the kernel pool",
    judge: () => ({
      end(v) {
        const locs = v.sim.frameLocations();
        for (let bi = 0; bi < locs.length; bi++) {
          const counts = new Map<string, number>();
          for (const x of locs[bi]!) {
            if (x === LOC_FILL || x === LOC_FREE_TX || x === LOC_KERNEL_POOL) continue;
            const n = x === LOC_NOWHERE ? "nowhere" : x === LOC_DUPLICATE ? "duplicate" : LOC_NAMES[x]!;
            counts.set(n, (counts.get(n) ?? 0) + 1);
          }
          if (counts.size) return `${bindingName(v, bi)}: frames not home after the drain: ${[...counts].map(([k, n]) => `${n} ${k}`).join(", ")}`;
        }
        return null;
      },
    }),
  },
  {
    name: "pendingTxBounded",
    suite: "backpressure",
    doc: "pending_tx_local + pending_tx_prepared ≤ maxPendingTx at every step",
    judge: () => ({
      step(v) {
        const w = v.sim.worker;
        const n = w.pendingTxLocal + w.pendingTxPrepared;
        return n > v.scn.dataplane.maxPendingTx ? `pending TX ${w.pendingTxLocal} local + ${w.pendingTxPrepared} prepared > maxPendingTx ${v.scn.dataplane.maxPendingTx}` : null;
      },
    }),
  },
  {
    name: "fillStarvationTransient",
    suite: "backpressure",
    doc: "fill level 0 with pending fill > 0 is transient: frames waiting for the fill ring are submitted within a few poll cycles (outside worker_pause / fill_starve faults)",
    judge: () => {
      let since: number[] = [];
      return {
        step(v) {
          const w = v.sim.worker;
          const now = v.sim.now;
          if (since.length !== w.bindings.length) since = w.bindings.map(() => -1);
          for (let bi = 0; bi < w.bindings.length; bi++) {
            const b = w.bindings[bi]!;
            const excused = now < w.pausedUntil || b.fillStarveUntil > now || !b.live;
            const starving = !excused && b.sock.fillRing.level() === 0 && b.pendingFillCount > 0;
            if (!starving) since[bi] = -1;
            else if (since[bi]! < 0) since[bi] = now;
            else if (now - since[bi]! > FILL_TRANSIENT_NS) return `${bindingName(v, bi)}: fill ring empty for ${now - since[bi]!} ns while ${b.pendingFillCount} frames wait in pending fill`;
          }
          return null;
        },
      };
    },
  },
  {
    name: "forwardingResumes",
    suite: "backpressure",
    doc: "liveness: after any bounded stall, delay, pause or link cycle (and from bring-up), spaced probe packets sent once everything is quiet are forwarded",
    judge: () => ({
      end(v) {
        for (const r of inputRecords(v)) {
          const i = r.i ?? -1;
          if (i < 0 || v.input.tNs[i]! < v.meta.probeFromNs) continue;
          if (r.out !== "forwarded") return `probe input ${i} (${r.in.iface}:${r.in.queue}) ended ${r.out}${r.reason ? ` (${r.reason})` : ""}`;
        }
        return null;
      },
    }),
  },
  {
    name: "pacedNoLoss",
    suite: "backpressure",
    doc: "liveness under light load: in a case with no fault, a packet arriving after a millisecond of paced traffic (every gap ≥ 4 µs and ≥ 4× the packet's wire time) is never dropped for lack of frames or ring room",
    judge: () => ({
      end(v) {
        if (v.scn.faults.length > 0) return null;
        const inp = v.input;
        let bps = Infinity;
        for (const ifc of v.scn.interfaces) bps = Math.min(bps, ifc.linkBps);
        const pacedAt = new Uint8Array(inp.count);
        let calmSince = 0;
        for (let i = 0; i < inp.count; i++) {
          const t = inp.tNs[i]!;
          const gap = i === 0 ? Infinity : t - inp.tNs[i - 1]!;
          const wire = ((inp.len[i]! + 24) * 8 * 1e9) / bps;
          if (gap < Math.max(PACE_GAP_NS, 4 * wire)) calmSince = t;
          pacedAt[i] = i > 0 && t - calmSince >= PACE_WINDOW_NS ? 1 : 0;
        }
        for (const r of inputRecords(v)) {
          if (r.i === null || pacedAt[r.i] !== 1 || r.out !== "dropped" || r.reason === null) continue;
          if (RESOURCE_REASONS.has(r.reason)) return `input ${r.i} at ${inp.tNs[r.i]} ns, after ${PACE_WINDOW_NS} ns of paced traffic, dropped with ${r.reason}`;
        }
        return null;
      },
    }),
  },
  {
    name: "txKickedWithinBound",
    suite: "backpressure",
    doc: "outstanding TX descriptors are kicked within bounded time: the TX ring's consumer moves within 1 ms outside fault windows, and after the drain nothing is in flight",
    judge: () => {
      let since: number[] = [];
      let cons: number[] = [];
      return {
        step(v) {
          const w = v.sim.worker;
          const now = v.sim.now;
          if (since.length !== w.bindings.length) {
            since = w.bindings.map(() => -1);
            cons = w.bindings.map(() => -1);
          }
          for (let bi = 0; bi < w.bindings.length; bi++) {
            const b = w.bindings[bi]!;
            const ring = b.sock.txRing;
            const excused = !b.live || now < w.pausedUntil || v.scn.faults.some((f) => (f.iface === null || f.iface === b.iface) && now >= f.atNs && now < f.atNs + f.forNs + TX_SETTLE_NS);
            if (excused || ring.level() === 0 || ring.consumer !== cons[bi]) {
              since[bi] = now;
              cons[bi] = ring.consumer;
            } else if (now - since[bi]! > TX_SETTLE_NS) return `${bindingName(v, bi)}: ${ring.level()} descriptors on the TX ring untouched for ${now - since[bi]!} ns`;
          }
          return null;
        },
        end(v) {
          const left = v.sink.paths.filter((r) => r.out === "in_flight");
          return left.length ? `${left.length} packets still in flight after the drain (first id ${left[0]!.id})` : null;
        },
      };
    },
  },
  {
    name: "accounting",
    suite: "accounting",
    doc: "packets in = forwarded + to_kernel + dropped + in_flight; each packet one outcome, a reason iff not forwarded; XDP_STATISTICS agree with the path records",
    judge: () => ({
      end(v) {
        const res = v.res!;
        const ins = inputRecords(v);
        if (ins.length !== v.input.count) return `${v.input.count} input packets but ${ins.length} input path records`;
        const seen = new Set<number>();
        const tally = { forwarded: 0, to_kernel: 0, dropped: 0, in_flight: 0 };
        for (const r of v.sink.paths) {
          if (seen.has(r.id)) return `packet id ${r.id} has two path records`;
          seen.add(r.id);
          tally[r.out]++;
          if ((r.out === "forwarded") !== (r.reason === null)) return `packet id ${r.id} ended ${r.out} with reason ${r.reason}`;
        }
        for (const k of ["forwarded", "to_kernel", "dropped", "in_flight"] as const) {
          if (tally[k] !== res.outcomes[k]) return `outcome ${k}: ${tally[k]} path records, counter says ${res.outcomes[k]}`;
        }
        const sum = res.outcomes.forwarded + res.outcomes.to_kernel + res.outcomes.dropped + res.outcomes.in_flight;
        if (sum !== res.packets.input + res.packets.created) return `outcomes sum to ${sum}, packets in ${res.packets.input} + created ${res.packets.created}`;
        // Sockets are replaced by a link cycle's rebind, and their counters with them. A
        // zero-copy driver counts a failed buffer allocation per attempt, not per packet;
        // copy mode's xsk_rcv counts exactly one per packet dropped for an empty fill ring.
        if (v.scn.faults.some((f) => f.kind === "link_cycle") || v.scn.dataplane.driver !== "veth") return null;
        const st = res.xdpStatistics;
        const fe = st.reduce((a, s) => a + s.rx_fill_ring_empty_descs, 0);
        const rf = st.reduce((a, s) => a + s.rx_ring_full, 0);
        const recFe = v.sink.paths.filter((r) => r.xsk?.rx === "fill_empty").length;
        const recRf = v.sink.paths.filter((r) => r.xsk?.rx === "rx_full").length;
        if (fe !== recFe) return `XDP_STATISTICS rx_fill_ring_empty_descs = ${fe}, path records with xsk.rx fill_empty = ${recFe}`;
        if (rf !== recRf) return `XDP_STATISTICS rx_ring_full = ${rf}, path records with xsk.rx rx_full = ${recRf}`;
        return null;
      },
    }),
  },
  {
    name: "redirectLandsOrCounted",
    suite: "accounting",
    doc: "every redirected packet lands on a bound socket of its own queue, or is accounted as a drop with its cause",
    judge: () => ({
      end(v) {
        for (const r of v.sink.paths) {
          if (r.shim.verdict !== "redirect") continue;
          const x = r.xsk?.rx;
          if (x === undefined) return `packet id ${r.id} redirected without an xsk.rx outcome`;
          if (x !== "ok" && (r.out !== "dropped" || r.reason === null)) return `packet id ${r.id} failed xsk.rx (${x}) but ended ${r.out}`;
        }
        return null;
      },
    }),
  },
  {
    name: "armedImpliesReady",
    suite: "control",
    doc: "armed ⇒ every binding marked ready has its XSKMAP slot holding a socket bound to that (ifindex, queue)",
    judge: () => ({
      step(v) {
        const m = v.sim.maps;
        if (!m.control.armed) return null;
        const bm = m.bindings;
        for (const ifc of v.scn.interfaces) {
          for (let q = 0; q < ifc.queues; q++) {
            const k = bm.key(ifc.index, q);
            if (!bm.present[k] || !bm.ready[k]) continue;
            const s = v.sim.xskmap.get(bm.slot[k]!);
            if (s === null) return `${ifc.name}:${q} ready but its XSKMAP slot ${bm.slot[k]} is empty`;
            if (!s.isBound() || s.boundIfindex !== ifc.ifindex || s.boundQueue !== q) return `${ifc.name}:${q} ready but slot ${bm.slot[k]} holds a socket ${s.isBound() ? `bound to ifindex ${s.boundIfindex} queue ${s.boundQueue}` : "not bound"}`;
          }
        }
        return null;
      },
    }),
  },
  {
    name: "bringUpArms",
    suite: "control",
    doc: "from no traffic, bring-up of an armed scenario reaches armed within bounded time",
    judge: () => ({
      step(v) {
        if (!v.scn.dataplane.armed || v.sim.now < BRINGUP_BOUND_NS || v.sim.maps.control.armed) return null;
        return `not armed ${BRINGUP_BOUND_NS} ns after bring-up`;
      },
    }),
  },
  {
    name: "userspaceFlowsStayOut",
    suite: "control",
    doc: "strict mode: no packet of a userspace-owned (transit) flow reaches the kernel sink",
    judge: () => ({
      end(v) {
        if (!v.scn.dataplane.strict || !v.scn.dataplane.armed) return null;
        for (const r of inputRecords(v)) {
          if (r.out !== "to_kernel" || r.i === null) continue;
          const f = inputFacts(v.scn, v.input.frame(r.i));
          if (f !== null && f.transit) return `transit input ${r.i} (${f.src} → ${f.dst}) reached the kernel sink (${r.reason})`;
        }
        return null;
      },
    }),
  },
  {
    name: "fallbackReachesKernel",
    suite: "control",
    doc: "non-strict mode: a transit packet with no binding to take it (bindings map zeroed) falls back to the kernel",
    judge: () => ({
      end(v) {
        if (v.scn.dataplane.strict) return null;
        const zeroed = windows(v.scn, "bindings_zeroed");
        if (!zeroed.length) return null;
        const cycles = v.scn.faults.filter((f) => f.kind === "link_cycle");
        for (const r of inputRecords(v)) {
          if (r.i === null) continue;
          const t = v.input.tNs[r.i]!;
          if (!zeroed.some(([a, b]) => t > a && t < b)) continue;
          const ifc = v.input.iface[r.i]!;
          if (cycles.some((f) => (f.iface === null || f.iface === ifc) && t >= f.atNs - 1000 && t < f.atNs + f.forNs + 1_000_000)) continue;
          const f = inputFacts(v.scn, v.input.frame(r.i));
          if (f !== null && f.transit && r.out !== "to_kernel") return `input ${r.i} arrived while the bindings map was empty and ended ${r.out} (${r.reason}), not in the kernel`;
        }
        return null;
      },
    }),
  },
  {
    name: "metadataMatchesFrame",
    suite: "control",
    doc: "the tuple the shim's metadata gives the worker is the one the frame carries",
    judge: () => ({
      end(v) {
        for (const r of inputRecords(v)) {
          if (r.i === null || r.tuple === undefined || r.tuple.from !== "metadata") continue;
          const f = inputFacts(v.scn, v.input.frame(r.i));
          if (f === null || (f.l4 !== 6 && f.l4 !== 17)) continue;
          if (r.tuple.src !== f.src || r.tuple.dst !== f.dst) return `input ${r.i}: metadata tuple ${r.tuple.src} → ${r.tuple.dst}, frame ${f.src} → ${f.dst}`;
        }
        return null;
      },
    }),
  },
  {
    name: "ringAccounting",
    suite: "rings",
    doc: "ring levels stay within 0..size and the kernel never reads an invalid descriptor from the worker (rx/tx_invalid_descs = 0)",
    judge: () => ({
      step(v) {
        for (const b of v.sim.worker.bindings) {
          const s = b.sock;
          for (const ring of [s.fillRing, s.rxRing, s.txRing, s.compRing]) {
            const l = ring.level();
            if (l < 0 || l > ring.size) return `a ring of ${v.scn.interfaces[b.iface]!.name}:${b.queue} has level ${l} of ${ring.size}`;
          }
          const st = s.statistics();
          if (st.tx_invalid_descs > 0 || st.rx_invalid_descs > 0) return `${v.scn.interfaces[b.iface]!.name}:${b.queue}: tx_invalid_descs ${st.tx_invalid_descs}, rx_invalid_descs ${st.rx_invalid_descs}`;
        }
        return null;
      },
    }),
  },
  {
    name: "outputChecksumsValid",
    suite: "checksum",
    doc: "every frame sent out carries a valid IPv4 header checksum and L4 checksum (the inputs all did)",
    judge: () => ({
      end(v) {
        const pv = new PacketView();
        for (const o of v.sink.out) {
          if (decode(pv, o.bytes, 0, o.bytes.length, LINKTYPE_ETHERNET) !== 0) return `output of packet id ${o.id} does not decode`;
          if (pv.ipVersion === 4 && !verifyIpv4Header(o.bytes, pv)) return `output of packet id ${o.id}: bad IPv4 header checksum`;
          if (pv.l4CsumOff >= 0 && !verifyL4(o.bytes, pv)) return `output of packet id ${o.id}: bad L4 checksum`;
        }
        return null;
      },
    }),
  },
  {
    name: "deterministic",
    suite: "determinism",
    doc: "same case, same bytes: a second run gives identical path records, output frames and counters",
    judge: () => ({
      end(v) {
        const again = new MemSink();
        const sim = new Sim(v.scn, v.input, again, { seed: v.scn.seed });
        const res = sim.runToEnd();
        if (JSON.stringify(res.counters) !== JSON.stringify(v.res!.counters)) return "counters differ between two runs";
        if (JSON.stringify(again.paths) !== JSON.stringify(v.sink.paths)) return "path records differ between two runs";
        if (again.out.length !== v.sink.out.length) return "output frame counts differ";
        for (let k = 0; k < again.out.length; k++) {
          const a = again.out[k]!.bytes;
          const b = v.sink.out[k]!.bytes;
          if (a.length !== b.length || a.some((x, i) => x !== b[i])) return `output frame ${k} differs between two runs`;
        }
        return null;
      },
    }),
  },
];

for (const p of NAT_PROPERTIES) PROPS.push({ ...p, suite: "reverseNat" });

/** Registers a property of another suite (name unique). */
export function registerProperty(p: Property): void {
  if (PROPS.some((q) => q.name === p.name)) throw new Error(`property ${p.name} registered twice`);
  PROPS.push(p);
}

export function allProperties(): readonly Property[] {
  return PROPS;
}

export function propertyByName(name: string): Property | undefined {
  return PROPS.find((p) => p.name === name);
}

/** Suites that run elsewhere against a reference (not per generated case): named so reports can point to them. */
export const EXTERNAL_SUITES: Record<string, string> = {
  rings: "test/xsk/ring.test.ts (ring views against a plain reference queue, fc.commands)",
  checksum: "properties/checksum.test.ts (incremental == full recompute, v4/v6, odd lengths, invalid stays invalid)",
};

export function judgesFor(names: readonly string[]): Map<string, Judge> {
  const m = new Map<string, Judge>();
  for (const n of names) {
    const p = propertyByName(n);
    if (p === undefined) throw new Error(`unknown property ${n}`);
    m.set(n, p.judge());
  }
  return m;
}

export type { PathRecord };
