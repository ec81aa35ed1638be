// BPF_PROG_RUN differential (DESIGN §7.2): the compiled shim (bpf/build/xdplab_shim.o)
// and the model's shim (sim/xdp/shim.ts + the XSKMAP step of sim/run.ts) run on the
// same generated map states and frames; the XDP action, the per-reason counter deltas,
// the metadata bytes and the ring buffer event must agree. The model is called
// directly; the kernel side runs in a private network namespace whose veth pair
// supplies real ifindexes and 4 RX queues. Needs root; skipped with the reason otherwise.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseScenario } from "../../sim/scenario/parse.js";
import type { Scenario } from "../../sim/scenario/types.js";
import { Shim, ShimMaps, V_DROP, V_FALLBACK, V_PASS, V_REDIRECT } from "../../sim/xdp/shim.js";
import { META_SIZE, META_VERSION, META_F_FRAGMENT, META_F_LOCAL_DST, META_F_SESSION_HIT } from "../../sim/xdp/abi.js";
import { PacketView, decode } from "../../sim/packet/view.js";
import { LINKTYPE_ETHERNET } from "../../sim/packet/linktypes.js";
import { R } from "../../sim/reasons.js";
import { ROOT } from "../cli.js";
import { IF_ADDRS, stateArb, steeringStateArb } from "./arbs.js";
import type { PktCase, StateCase, SteerKey } from "./arbs.js";
import { ProgRun, addr16, buildBpf, createNetns, hex, kernelSkipReason } from "./helpers.js";
import type { Netns, RunResult } from "./helpers.js";

const QUEUES = 4;
const skip = kernelSkipReason();
const XDP_DROP = 1;
const XDP_PASS = 2;
const XDP_TX = 3;
const XDP_REDIRECT = 4;
const EV_TX = 6;
const STALE_AGE_NS = 5_000_000_000;

/** FNV-1a 32 over the first 64 payload bytes inside the IP packet (docs/bpf.md, "event identity"). */
function payloadHash(v: PacketView, buf: Uint8Array): number {
  if (v.ipVersion === 0 || v.payloadOff < 0) return 0;
  const ipEnd = Math.min(buf.length, v.l3Off + v.ipTotalLen);
  let h = 0x811c9dc5;
  for (let i = v.payloadOff; i < ipEnd && i < v.payloadOff + 64; i++) h = Math.imul(h ^ buf[i]!, 0x01000193) >>> 0;
  return h >>> 0;
}

function baseScenario(ns: Netns, st: StateCase): Scenario {
  const obj = {
    name: "bpf-prog-run",
    interfaces: [0, 1].map((i) => ({
      name: `x${i}`,
      addrs: IF_ADDRS[i]!.filter((_, j) => st.addrs[i]![j]),
      queues: QUEUES,
    })),
    dataplane: { strict: st.strict },
  };
  const scn = parseScenario(obj, "bpf-prog-run.json", ROOT);
  scn.interfaces[0]!.ifindex = ns.ifindex[0];
  scn.interfaces[1]!.ifindex = ns.ifindex[1];
  scn.bugs.fallbackDrops = st.bugs.fallbackDrops;
  scn.bugs.missingBindingPasses = st.bugs.missingBindingPasses;
  scn.bugs.ignoreSessionMap = st.bugs.ignoreSessionMap;
  scn.bugs.abiDrift = st.bugs.abiDrift;
  return scn;
}

interface Expected {
  retval: number;
  meta: string | null;
  counters: Array<[number, number]>;
  event: Record<string, number>;
}

/** What a packet of the case was, for the coverage summary (not compared). */
interface Tag {
  /** an ICMP error with a quote */
  quote: boolean;
  /** its swapped quote key was in the session map when it ran */
  keyPublished: boolean;
  /** the model redirected it with SESSION_HIT */
  steered: boolean;
}

/** The 37-byte key layout of SessionSteeringMap.addKey (proto, src[16], dst[16], ports big-endian). */
function key37(k: SteerKey): Uint8Array {
  const o = new Uint8Array(37);
  o[0] = k.proto;
  o.set(k.src, 1);
  o.set(k.dst, 17);
  o[33] = k.sport >>> 8;
  o[34] = k.sport & 0xff;
  o[35] = k.dport >>> 8;
  o[36] = k.dport & 0xff;
  return o;
}

/** The key a session-map op stands for, or null when the packet has none of that kind. */
function opKey(view: PacketView, p: PktCase, kind: StateCase["sessOps"][number]["key"]): SteerKey | null {
  if (kind === "outer") {
    if (decode(view, p.frame, 0, p.frame.length, LINKTYPE_ETHERNET) !== 0 || view.ipVersion === 0) return null;
    return {
      proto: view.ipProto,
      src: p.frame.slice(view.srcOff, view.srcOff + view.addrLen),
      dst: p.frame.slice(view.dstOff, view.dstOff + view.addrLen),
      sport: view.srcPort >= 0 ? view.srcPort : view.icmpId >= 0 ? view.icmpId : 0,
      dport: view.dstPort >= 0 ? view.dstPort : 0,
    };
  }
  if (p.quote === null) return null;
  if (kind === "quote") return p.quote.swapped;
  if (kind === "quote_unswapped") return p.quote.unswapped;
  if (kind === "quote_bare") return p.quote.bare;
  return { ...p.quote.swapped, sport: p.quote.swapped.sport ^ 1 };
}

/** Everything the model says about one case: map-state commands for the driver, and per packet what the kernel must report. */
function modelCase(ns: Netns, st: StateCase): { cmds: string[]; expected: Expected[]; tags: Tag[] } {
  const scn = baseScenario(ns, st);
  const view = new PacketView();
  const hbTimeout = st.hb === "off" ? 0 : st.hb === "fresh" ? 600_000_000_000 : 1_000_000_000;
  const hbAge = st.hb === "stale" ? STALE_AGE_NS : 0;
  const bugs = (st.bugs.fallbackDrops ? 1 : 0) | (st.bugs.missingBindingPasses ? 2 : 0) | (st.bugs.ignoreSessionMap ? 4 : 0) | (st.bugs.abiDrift ? 8 : 0);
  const abi = st.abiOk ? META_VERSION : META_VERSION + 1;
  const cmds = ["clear", `ctl ${st.armed ? 1 : 0} ${abi} ${st.configGen} ${st.fibGen} ${hbAge} ${hbTimeout} ${st.strict ? 1 : 0} ${st.fallbackMode} 0 ${bugs}`];
  // Local addresses: the interface addresses; some published in ifnat_addrs instead.
  let k = 0;
  for (const ifc of scn.interfaces) {
    for (const a of ifc.addrs) cmds.push(`${st.ifnat[k++ % 4] ? "ifnat" : "local"} ${a.family} ${addr16(a.bytes)}`);
  }
  // Session keys and DNAT rules derived from the generated packets.
  const sess: Array<{ proto: number; src: Uint8Array; dst: Uint8Array; sport: number; dport: number }> = [];
  for (const s of st.sessions) {
    const p = st.packets[s.pkt % st.packets.length]!;
    if (decode(view, p.frame, 0, p.frame.length, LINKTYPE_ETHERNET) !== 0 || view.ipVersion === 0) continue;
    const sport = view.srcPort >= 0 ? view.srcPort : view.icmpId >= 0 ? view.icmpId : 0;
    const dport = (view.dstPort >= 0 ? view.dstPort : 0) ^ (s.wrongPort ? 1 : 0);
    const src = p.frame.slice(view.srcOff, view.srcOff + view.addrLen);
    const dst = p.frame.slice(view.dstOff, view.dstOff + view.addrLen);
    sess.push({ proto: view.ipProto, src, dst, sport, dport });
    cmds.push(`sess ${view.ipProto} ${addr16(src)} ${addr16(dst)} ${sport} ${dport}`);
  }
  scn.nat.dnat = [];
  for (const d of st.dnat) {
    const p = st.packets[d.pkt % st.packets.length]!;
    if (decode(view, p.frame, 0, p.frame.length, LINKTYPE_ETHERNET) !== 0 || view.ipVersion === 0) continue;
    const iface = d.otherIface ? 1 - p.iface : p.iface;
    const proto = d.anyProto ? 0 : view.ipProto;
    const dport = view.dstPort >= 0 ? view.dstPort : 0;
    const port = d.port === "any" ? null : d.port === "exact" ? dport : (dport + 1) & 0xffff;
    const dst = p.frame.slice(view.dstOff, view.dstOff + view.addrLen);
    const family = view.ipVersion as 4 | 6;
    scn.nat.dnat.push({ ingress: iface, proto: proto as 0, dst: { family, bytes: dst }, port, to: { family, bytes: dst }, toPort: null });
    cmds.push(`dnat ${ns.ifindex[iface]} ${proto} ${family} ${addr16(dst)} ${port === null ? "any" : port}`);
  }
  const maps = new ShimMaps(scn);
  const c = maps.control;
  c.armed = st.armed;
  c.abiVersion = abi;
  c.configGen = st.configGen;
  c.fibGen = st.fibGen;
  c.heartbeatNs = 0;
  c.heartbeatTimeoutNs = hbTimeout;
  c.strict = st.strict;
  for (const b of st.bindings) {
    maps.bindings.set(b.iface, b.queue, b.slot, b.ready);
    cmds.push(`bind ${ns.ifindex[b.iface]} ${b.queue} ${b.slot} ${b.ready ? 1 : 0}`);
  }
  for (const s of sess) {
    const buf = new Uint8Array(32);
    buf.set(s.src, 0);
    buf.set(s.dst, 16);
    maps.sessions.add(s.proto, buf, 0, 16, s.src.length, s.sport, s.dport);
  }
  for (const slot of st.xskSlots) cmds.push(`xsk ${slot}`);
  const shim = new Shim(scn, maps);
  const now = hbAge;
  const expected: Expected[] = [];
  const tags: Tag[] = [];
  // The session map's contents as the test tracks them (hex keys), independent of the model's table.
  const published = new Set<string>();
  for (const s of sess) published.add(hex(key37({ proto: s.proto, src: s.src, dst: s.dst, sport: s.sport, dport: s.dport })));
  for (let pi = 0; pi < st.packets.length; pi++) {
    const p = st.packets[pi]!;
    for (const op of st.sessOps) {
      const n = st.packets.length;
      let target = op.pkt % n;
      // A quote key is taken from the next ICMP error at or after op.pkt, and published
      // no later than that packet (removed possibly later), so steering happens often.
      if (op.key !== "outer") for (let j = 0; j < n && st.packets[target]!.quote === null; j++) target = (target + 1) % n;
      const at = op.key !== "outer" && !op.remove ? op.at % (target + 1) : op.at % n;
      if (at !== pi) continue;
      const key = opKey(view, st.packets[target]!, op.key);
      if (key === null) continue;
      const k = key37(key);
      if (op.remove) {
        maps.sessions.removeKey(k);
        published.delete(hex(k));
      } else {
        maps.sessions.addKey(k);
        published.add(hex(k));
      }
      cmds.push(`${op.remove ? "unsess" : "sess"} ${key.proto} ${addr16(key.src)} ${addr16(key.dst)} ${key.sport} ${key.dport}`);
    }
    cmds.push(`pkt ${ns.ifindex[p.iface]} ${p.queue} ${hex(p.frame)}`);
    const verdict = shim.run(p.frame, 0, p.frame.length, p.iface, p.queue, now);
    let retval: number;
    let evVerdict = verdict;
    let reason = shim.reason;
    let meta: string | null = null;
    let slot = -1;
    if (verdict === V_REDIRECT) {
      meta = hex(shim.meta.subarray(0, META_SIZE));
      slot = shim.slot;
      if (st.xskSlots.includes(shim.slot)) retval = XDP_REDIRECT;
      else {
        // Empty slot: bpf_redirect_map(…, XDP_PASS) returns XDP_PASS (sim/run.ts: xskmap_empty).
        retval = XDP_PASS;
        evVerdict = V_PASS;
        reason = R.xskmap_empty;
      }
    } else retval = verdict === V_DROP ? XDP_DROP : verdict === V_PASS || verdict === V_FALLBACK ? XDP_PASS : -1;
    // Re-decode for the event's identity fields (the shim's own view is reused per packet).
    decode(view, p.frame, 0, p.frame.length, LINKTYPE_ETHERNET);
    const event: Record<string, number> = { verdict: evVerdict, reason, ifindex: ns.ifindex[p.iface], queue: p.queue, pktLen: p.frame.length, slot };
    if (reason !== R.parse_error) {
      Object.assign(event, {
        ipVersion: view.ipVersion,
        ipProto: view.ipVersion === 0 ? 0 : view.ipProto,
        ipId: view.ipId >= 0 ? view.ipId : 0,
        flowLabel: view.flowLabel >= 0 ? view.flowLabel : 0,
        srcPort: view.srcPort >= 0 ? view.srcPort : view.icmpId >= 0 ? view.icmpId : 0,
        dstPort: view.dstPort >= 0 ? view.dstPort : 0,
        tcpSeq: view.tcpSeq >= 0 ? view.tcpSeq : 0,
        payloadHash: payloadHash(view, p.frame),
      });
    }
    if (verdict === V_REDIRECT) event["flags"] = shim.meta[6]! & (META_F_FRAGMENT | META_F_LOCAL_DST | META_F_SESSION_HIT);
    expected.push({ retval, meta, counters: [[reason, 1]], event });
    tags.push({
      quote: p.quote !== null,
      keyPublished: p.quote !== null && published.has(hex(key37(p.quote.swapped))),
      steered: p.quote !== null && verdict === V_REDIRECT && (shim.meta[6]! & META_F_SESSION_HIT) !== 0,
    });
  }
  return { cmds, expected, tags };
}

function observed(r: RunResult, want: Expected): Expected {
  const event: Record<string, number> = {};
  for (const key of Object.keys(want.event)) event[key] = (r.event as unknown as Record<string, number> | null)?.[key] ?? -999;
  return { retval: r.retval, meta: r.meta === null ? null : hex(r.meta), counters: [...r.counters.entries()], event };
}

describe.skipIf(skip !== null)(`BPF_PROG_RUN differential${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let ns: Netns;
  let drv: ProgRun;
  beforeAll(async () => {
    const err = buildBpf();
    if (err) throw new Error(err);
    ns = createNetns(QUEUES);
    drv = new ProgRun(ns);
    await drv.ready();
  });
  afterAll(() => {
    drv?.close();
    ns?.remove();
  });

  it("agrees with the model shim on generated map states and frames", async () => {
    let packets = 0;
    let cases = 0;
    const quotes = { all: 0, keyPublished: 0, steered: 0, hitAnyVerdict: 0 };
    const verdicts = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(stateArb(QUEUES), async (st) => {
        const { cmds, expected, tags } = modelCase(ns, st);
        const got = await drv.run(cmds);
        expect(got.length).toBe(expected.length);
        for (let i = 0; i < expected.length; i++) {
          const want = expected[i]!;
          expect(observed(got[i]!, want), `packet ${i}: ${hex(st.packets[i]!.frame)}`).toEqual(want);
          const key = `${want.event["verdict"]}/${want.counters[0]![0]}`;
          verdicts.set(key, (verdicts.get(key) ?? 0) + 1);
        }
        packets += expected.length;
        cases++;
        for (let i = 0; i < tags.length; i++) {
          const t = tags[i]!;
          if (t.quote) quotes.all++;
          if (t.keyPublished) quotes.keyPublished++;
          if (t.steered) quotes.steered++;
          // The kernel's event carries the flags for every verdict past the local-address stage.
          if (t.quote && ((got[i]!.event?.flags ?? 0) & META_F_SESSION_HIT) !== 0) quotes.hitAnyVerdict++;
        }
      }),
      { numRuns: 300, seed: 6 },
    );
    // ICMP errors steered by their quote, and published quote keys that still must not
    // steer (cut quotes, the other IP version, non-error types, remote destinations).
    expect(quotes.steered).toBeGreaterThan(0);
    expect(quotes.hitAnyVerdict).toBeGreaterThan(10);
    expect(quotes.keyPublished).toBeGreaterThan(quotes.hitAnyVerdict);
    // The generator must reach every shim path, or agreement proves little.
    for (const r of [0, R.parse_error, R.not_ip, R.not_armed, R.abi_mismatch, R.heartbeat_stale, R.local_delivery, R.binding_missing, R.binding_not_ready, R.strict_no_binding, R.fallback_failed, R.xskmap_empty]) {
      expect([...verdicts.keys()].some((k) => k.endsWith(`/${r}`)), `reason ${r} never exercised`).toBe(true);
    }
    console.log(`BPF_PROG_RUN differential: ${cases} map states, ${packets} packets agreed; ICMP errors with a quote ${quotes.all}, swapped key published ${quotes.keyPublished}, session hit ${quotes.hitAnyVerdict} (redirected ${quotes.steered}); verdict/reason mix ${JSON.stringify(Object.fromEntries([...verdicts].sort()))}`);
  });

  it("agrees on ICMP errors steered by their quote (healthy states, session keys added and removed)", async () => {
    let packets = 0;
    let hits = 0;
    let missesWithKey = 0;
    await fc.assert(
      fc.asyncProperty(steeringStateArb(QUEUES), async (st) => {
        const { cmds, expected, tags } = modelCase(ns, st);
        const got = await drv.run(cmds);
        expect(got.length).toBe(expected.length);
        for (let i = 0; i < expected.length; i++) {
          expect(observed(got[i]!, expected[i]!), `packet ${i}: ${hex(st.packets[i]!.frame)}`).toEqual(expected[i]!);
          if (tags[i]!.steered) hits++;
          else if (tags[i]!.keyPublished) missesWithKey++;
        }
        packets += expected.length;
      }),
      { numRuns: 200, seed: 7 },
    );
    expect(hits).toBeGreaterThan(50);
    expect(missesWithKey).toBeGreaterThan(20);
    console.log(`quote steering: ${packets} packets agreed; ${hits} redirected as session hits by their quote, ${missesWithKey} not steered although the swapped key was published`);
  });

  it("XDP_TX demo mode bounces every frame; devmap mode redirects, or drops on an empty slot", async () => {
    const frame = "020000000002020000000001080045000014000100004006000000c6120102c6130201";
    const got = await drv.run([
      "clear",
      "ctl 1 1 0 0 0 0 0 0 1 0",
      `pkt ${ns.ifindex[0]} 0 ${frame}`,
      "ctl 1 1 0 0 0 0 0 0 2 0",
      `pkt ${ns.ifindex[0]} 0 ${frame}`,
      `devmap 0 ${ns.ifindex[1]}`,
      `pkt ${ns.ifindex[0]} 0 ${frame}`,
      "ctl 0 0 0 0 0 0 0 0 0 0",
    ]);
    expect(got.map((r) => [r.retval, r.event?.verdict])).toEqual([
      [XDP_TX, EV_TX],
      [XDP_DROP, EV_TX],
      [XDP_REDIRECT, EV_TX],
    ]);
  });
});
