// The reverse-NAT suite's judges on a full-simulation run. They read what a user sees:
// the input capture, the frames the far hosts sent (responder replies are the reflect of
// the frame that left), the egress frames, the path records and the session table dump;
// which frame a reply answers is found by matching tuples between the capture and the
// egress frames, never from the generator's spec — so `xdplab check` judges a saved case
// from its scenario.json and input.pcapng alone. Never reads the bug switches.
// Cold path (plain objects).
import type { PathRecord } from "../sim/run.js";
import { reflect } from "../sim/dataplane/responder.js";
import type { Judge, OutFrame, RunView } from "./observe.js";
import { checksumsOk, indexFault, onesSum, readTuple } from "./nat.js";
import type { Tuple } from "./nat.js";

/** A packet that entered the router from a wire (capture or responder), with what became of it. */
interface Pkt {
  rec: PathRecord;
  inIface: number;
  bytes: Uint8Array;
  tuple: Tuple;
  out: OutFrame | null;
}
interface Translation {
  p: Pkt;
  orig: Tuple;
  trans: Tuple;
}
interface NatView {
  pkts: Pkt[];
  snatEgress: Set<number>;
  translations: Translation[];
}

const be16 = (b: Uint8Array, o: number): number => ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
const tkey = (t: Tuple): string => `${t.proto}|${t.src}:${t.sport}>${t.dst}:${t.dport}`;
const isEcho = (b: Uint8Array, t: Tuple): boolean => (t.proto === 1 || t.proto === 58) && t.fragOff <= 0 && [0, 8, 128, 129].includes(b[t.l4] ?? -1);
const isIcmpError = (b: Uint8Array, t: Tuple): boolean => t.fragOff <= 0 && ((t.proto === 1 && [3, 11, 12].includes(b[t.l4] ?? -1)) || (t.proto === 58 && (b[t.l4] ?? 255) < 128));
/** Fragment identification (IPv4 ID or the IPv6 fragment header's), for grouping fragments. */
const fragId = (b: Uint8Array, t: Tuple): number => (t.v === 4 ? be16(b, t.l3 + 4) : (be16(b, t.l4 - 4) << 16) | be16(b, t.l4 - 2));

const cache = new WeakMap<RunView["sink"], NatView>();

/** The run as packets with their ingress bytes and egress frame (computed once per run). */
function natView(v: RunView): NatView {
  const hit = cache.get(v.sink);
  if (hit !== undefined) return hit;
  const ifIndex = new Map(v.scn.interfaces.map((i) => [i.name, i.index]));
  const outById = new Map<number, OutFrame>();
  for (const o of v.sink.out) outById.set(o.id, o);
  const inputAt = new Map<number, number>();
  for (let i = 0; i < v.input.count; i++) inputAt.set(v.input.captureIndex[i]!, i);
  const scratch = new Uint8Array(v.scn.dataplane.frameSize + 64);
  const pkts: Pkt[] = [];
  for (const rec of v.sink.paths) {
    let bytes: Uint8Array | null = null;
    if (rec.origin === "input" && rec.i !== null && inputAt.has(rec.i)) bytes = v.input.frame(inputAt.get(rec.i)!);
    else if (rec.origin === "responder" && rec.cause !== undefined) {
      const asked = outById.get(rec.cause);
      const n = asked === undefined ? 0 : reflect(asked.bytes, 0, asked.bytes.length, scratch);
      if (n > 0) bytes = scratch.slice(0, n);
    }
    if (bytes === null) continue;
    const tuple = readTuple(bytes);
    if (tuple === null) continue;
    pkts.push({ rec, inIface: ifIndex.get(rec.in.iface) ?? -1, bytes, tuple, out: outById.get(rec.id) ?? null });
  }
  pkts.sort((a, b) => a.rec.t - b.rec.t || a.rec.id - b.rec.id);
  const snatEgress = new Set(v.scn.nat.snat.map((r) => r.egress));
  const translations: Translation[] = [];
  for (const p of pkts) {
    if (snatEgress.has(p.inIface) || p.out === null || !snatEgress.has(p.out.iface)) continue;
    const trans = readTuple(p.out.bytes);
    if (trans !== null) translations.push({ p, orig: p.tuple, trans });
  }
  const nv = { pkts, snatEgress, translations };
  cache.set(v.sink, nv);
  return nv;
}

/** The translation (latest one that entered before `t`) whose translated tuple is `q`'s reverse (or `q` itself, for quotes). */
function answered(nv: NatView, b: Uint8Array, q: Tuple, t: number, quoted: boolean): Translation | null {
  let best: Translation | null = null;
  for (const x of nv.translations) {
    if (x.p.rec.t > t || x.trans.proto !== q.proto) continue;
    const tr = x.trans;
    const hit = quoted
      ? tr.src === q.src && tr.dst === q.dst && tr.sport === q.sport && tr.dport === q.dport
      : tr.src === q.dst && tr.dst === q.src && (isEcho(b, q) ? tr.sport === q.sport : tr.sport === q.dport && tr.dport === q.sport);
    if (hit) best = x;
  }
  return best;
}

const end = (f: (v: RunView) => string | null): (() => Judge) => () => ({ end: f });

export const NAT_PROPERTIES: Array<{ name: string; doc: string; judge: () => Judge }> = [
  {
    name: "replyTranslatedBack",
    doc: "a reply (captured or from the responder, each fragment of a reply, an ICMP error from a far router quoting the translated packet) to a flow that left translated reaches the worker, is forwarded to the flow's ingress and translated back exactly: destination = the original source (address, port / echo id), source = the original destination; an ICMP error's quoted tuple = the original, its quoted IPv4 header checksum valid",
    judge: end((v) => {
      const nv = natView(v);
      const firstFrag = new Map<string, Translation | null>();
      for (const p of nv.pkts) {
        if (!nv.snatEgress.has(p.inIface)) continue;
        const b = p.bytes;
        const tt = p.tuple;
        const icmpErr = isIcmpError(b, tt);
        let x: Translation | null;
        const fkey = `${tt.v}|${tt.proto}|${tt.src}>${tt.dst}#${tt.fragOff >= 0 ? fragId(b, tt) : -1}`;
        if (icmpErr) {
          const q = readTuple(b, tt.l4 + 8);
          x = q === null ? null : answered(nv, b, q, p.rec.t, true);
        } else if (tt.fragOff > 0) x = firstFrag.get(fkey) ?? null;
        else x = answered(nv, b, tt, p.rec.t, false);
        if (tt.fragOff === 0) firstFrag.set(fkey, x);
        if (x === null) continue;
        const orig = x.orig;
        const what = `${icmpErr ? "ICMP error" : tt.fragOff >= 0 ? "reply fragment" : "reply"} (packet id ${p.rec.id}, ${p.rec.origin}${p.rec.i !== null ? ` ${p.rec.i}` : ""}) to ${tkey(x.trans)} (original ${tkey(orig)})`;
        // The shim steers by 5-tuple: a later fragment to a router address carries no ports
        // and is the kernel's (docs/properties.md); to a pool address it reaches the worker.
        if (p.rec.shim.verdict !== "redirect" && tt.fragOff > 0) continue;
        if (p.rec.shim.verdict !== "redirect") return `${what} never reached the worker (shim ${p.rec.shim.verdict}${p.rec.shim.reason ? `, ${p.rec.shim.reason}` : ""})`;
        if (p.rec.out !== "forwarded" || p.out === null) return `${what} was not forwarded: ended ${p.rec.out} (${p.rec.reason}, lookup ${p.rec.lookup ?? "none"})`;
        if (p.out.iface !== x.p.inIface) return `${what} left on ${v.scn.interfaces[p.out.iface]?.name}, the flow came in on ${v.scn.interfaces[x.p.inIface]?.name}`;
        const t = readTuple(p.out.bytes);
        if (t === null) return `${what}: output is not IP`;
        if (t.dst !== orig.src) return `${what} forwarded to ${t.dst}, not to ${orig.src}`;
        if (icmpErr) {
          if (t.src !== tt.src) return `${what} forwarded from ${t.src}; the error came from ${tt.src}`;
          const q = readTuple(p.out.bytes, t.l4 + 8);
          if (q === null || q.src !== orig.src || q.sport !== orig.sport || q.dst !== orig.dst || q.dport !== orig.dport) return `${what}: quoted tuple ${q ? tkey(q) : "?"} is not the original`;
          if (q.v === 4 && onesSum(p.out.bytes, q.l3, (p.out.bytes[q.l3]! & 15) * 4) !== 0xffff) return `${what}: quoted IPv4 header checksum is wrong`;
          continue;
        }
        if (t.src !== orig.dst) return `${what} forwarded from ${t.src}, not from ${orig.dst}`;
        if (isEcho(p.out.bytes, t)) {
          if (t.sport !== orig.sport) return `${what} forwarded with echo id ${t.sport}, original ${orig.sport}`;
        } else if (t.fragOff <= 0 && (t.sport !== orig.dport || t.dport !== orig.sport)) return `${what} forwarded with ports ${t.sport} → ${t.dport}, original ${orig.sport} → ${orig.dport}`;
      }
      return null;
    }),
  },
  {
    name: "translationUnique",
    doc: "translated tuples are unique across live sessions (no two flows leave as one, exhaustion is never a reuse) and a flow keeps its translation for its life",
    judge: end((v) => {
      const owner = new Map<string, string>();
      const of = new Map<string, string>();
      for (const { p, orig, trans } of natView(v).translations) {
        const ok = tkey(orig);
        const tk = tkey(trans);
        const prev = owner.get(tk);
        if (prev !== undefined && prev !== ok) return `flows ${prev} and ${ok} both leave as ${tk} (packet id ${p.rec.id})`;
        owner.set(tk, ok);
        const had = of.get(ok);
        if (had !== undefined && had !== tk) return `flow ${ok} left as ${had}, then as ${tk} (packet id ${p.rec.id})`;
        of.set(ok, tk);
      }
      return null;
    }),
  },
  {
    name: "sourcePortKept",
    doc: "SNAT keeps the source port (ICMP echo id) when it is in the rule's range and the resulting reply tuple is free; exhaustion is a counted drop (snat_exhausted) only when every port of the range is taken",
    judge: end((v) => {
      const nv = natView(v);
      const dnatDst = new Set(v.scn.nat.dnat.map((r) => `${Array.from(r.dst.bytes, (x) => x.toString(16).padStart(2, "0")).join("")}:${r.port ?? "*"}`));
      const taken = new Set<string>();
      const seen = new Set<string>();
      const usedPorts = new Map<string, Set<number>>();
      for (const p of nv.pkts) {
        if (nv.snatEgress.has(p.inIface)) continue;
        const orig = p.tuple;
        if (dnatDst.has(`${orig.dst}:${orig.dport}`) || dnatDst.has(`${orig.dst}:*`)) continue;
        const rule = v.scn.nat.snat.find((r) => r.from === null || r.from.bytes.length === (orig.v === 4 ? 4 : 16));
        if (rule === undefined) continue;
        const [lo, hi] = rule.portRange;
        const size = (hi - lo + 1) * (rule.to === "interface" ? 1 : rule.to.pool.length);
        const group = `${orig.proto}|${orig.v}|${orig.dst}:${orig.dport}`;
        if (p.rec.reason === "snat_exhausted") {
          const n = usedPorts.get(group)?.size ?? 0;
          if (n < size) return `packet id ${p.rec.id} (${tkey(orig)}) dropped snat_exhausted with ${n} of ${size} ports in use`;
          continue;
        }
        if (p.out === null || !nv.snatEgress.has(p.out.iface)) continue;
        const trans = readTuple(p.out.bytes);
        if (trans === null) continue;
        const ok = tkey(orig);
        if (!seen.has(ok)) {
          seen.add(ok);
          const wanted = `${trans.proto}|${trans.src}:${orig.sport}>${trans.dst}:${trans.dport}`;
          if (orig.sport >= lo && orig.sport <= hi && !taken.has(wanted) && trans.sport !== orig.sport) return `flow ${ok} got port ${trans.sport} although ${orig.sport} was free`;
        }
        taken.add(tkey(trans));
        if (!usedPorts.has(group)) usedPorts.set(group, new Set());
        usedPorts.get(group)!.add(trans.sport);
      }
      return null;
    }),
  },
  {
    name: "reverseIndexClean",
    doc: "session table dump after every event: each live session's original and reply tuples are indexed to it and to nothing else, no entry names a removed session; after the timer pass has run far past every timeout, no session, index entry or steering key is left",
    judge: () => {
      // The table only changes when the worker handles a packet or runs its timer pass.
      let lastRx = -1;
      let lastExpired = -1;
      let lastRetried = -1;
      return {
        step(v) {
          const c = v.sim.worker.c;
          if (c.rx === lastRx && c.sessions_expired === lastExpired && c.held_retried === lastRetried) return null;
          lastRx = c.rx;
          lastExpired = c.sessions_expired;
          lastRetried = c.held_retried;
          const st = v.sim.dp.nat.sessions;
          if (st.wire.count === 0 && st.canon.count === 0 && st.liveIds().length === 0) return null;
          return indexFault(v.sim.dp);
        },
        end(v) {
          // The worker's own timer pass, run as if weeks went by (TCP established: 5 days).
          const w = v.sim.worker;
          const far = v.sim.now + 1e16;
          while (w.timers(far) > 0);
          const st = v.sim.dp.nat.sessions;
          const left = st.liveIds().length;
          if (left > 0) return `${left} sessions live after every timer ran out`;
          if (st.wire.count > 0) return `${st.wire.count} index entries left after every session expired`;
          if (v.sim.maps.sessions.count > 0) return `${v.sim.maps.sessions.count} steering keys left in the shim's session map after every session expired`;
          return null;
        },
      };
    },
  },
  {
    name: "natChecksumsValid",
    doc: "every frame the router sends (translated, reverse-translated, ICMP errors, frames that arrived CHECKSUM_PARTIAL under generic XDP) carries valid IPv4 header and L4 checksums — every input's was valid or partial",
    judge: end((v) => {
      for (const o of v.sink.out) {
        const t = readTuple(o.bytes);
        if (t === null) continue;
        const bad = checksumsOk(o.bytes, t.l3);
        if (bad !== null) return `output of packet id ${o.id} on ${v.scn.interfaces[o.iface]?.name}: ${bad} is wrong`;
      }
      return null;
    }),
  },
  {
    name: "mtuRespected",
    doc: "no frame leaves larger than its egress MTU; an over-MTU packet gets the router's ICMP answer or a counted drop, never a silent loss",
    judge: end((v) => {
      for (const o of v.sink.out) {
        const t = readTuple(o.bytes);
        if (t === null) continue;
        const mtu = v.scn.interfaces[o.iface]!.mtu;
        if (o.bytes.length - t.l3 > mtu) return `packet id ${o.id}: a ${o.bytes.length - t.l3}-byte IP packet left on ${v.scn.interfaces[o.iface]!.name} (MTU ${mtu})`;
      }
      for (const p of natView(v).pkts) {
        if (p.rec.out !== "forwarded" && p.rec.reason === null) return `packet id ${p.rec.id} ended ${p.rec.out} without a reason`;
      }
      return null;
    }),
  },
];
