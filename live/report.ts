// The differential report of a live run (DESIGN §7.3): pairs every input packet of the
// model run with the live run by a packet identity the plain router and NAT leave alone
// (the shim's ring-buffer event identity, docs/bpf.md), and lists per-packet outcome
// differences (the first one with both records), output-byte differences per egress
// interface and counter differences. Writes summary.json and report.html with both sides.
//
// Identity: "v<ip version>/p<proto>/id<IPv4 ID or IPv6 fragment id>/fl<flow label>/
// <src port or echo id>-<dst port>/s<TCP seq>/h<FNV-1a of the first 64 payload bytes>".
// Equal identities are paired in order of occurrence. An input packet is paired with the
// frame it left as by the NAT-invariant part of that identity (natIdentity: no ports —
// SNAT/DNAT rewrite them and the echo id — and, for ICMP errors, no payload hash: the
// quoted packet is translated too).
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { PacketView, decode } from "../sim/packet/view.js";
import { LINKTYPE_ETHERNET } from "../sim/packet/linktypes.js";
import { reasonByName, reasonName } from "../sim/reasons.js";
import type { PathRecord } from "../sim/trace/record.js";
import type { InputPackets } from "../sim/scenario/input.js";
import type { LiveResult, ShimEvent } from "./run.js";

const view = new PacketView();

function payloadHash(v: PacketView, buf: Uint8Array): number {
  if (v.ipVersion === 0 || v.payloadOff < 0) return 0;
  const ipEnd = Math.min(buf.length, v.l3Off + v.ipTotalLen);
  let h = 0x811c9dc5;
  for (let i = v.payloadOff; i < ipEnd && i < v.payloadOff + 64; i++) h = Math.imul(h ^ buf[i]!, 0x01000193) >>> 0;
  return h >>> 0;
}

/** The identity of an Ethernet frame, or null when it is not IP. */
export function frameIdentity(frame: Uint8Array): string | null {
  decode(view, frame, 0, frame.length, LINKTYPE_ETHERNET);
  if (view.ipVersion === 0) return null;
  const sp = view.srcPort >= 0 ? view.srcPort : view.icmpId >= 0 ? view.icmpId : 0;
  const dp = view.dstPort >= 0 ? view.dstPort : 0;
  return `v${view.ipVersion}/p${view.ipProto}/id${view.ipId >= 0 ? view.ipId : 0}/fl${view.flowLabel >= 0 ? view.flowLabel : 0}/${sp}-${dp}/s${view.tcpSeq >= 0 ? view.tcpSeq >>> 0 : 0}/h${payloadHash(view, frame)}`;
}

function isIcmpError(v: PacketView): boolean {
  const t = v.icmpType;
  return v.ipProto === 1 ? t === 3 || t === 4 || t === 5 || t === 11 || t === 12 : v.ipProto === 58 ? t >= 1 && t <= 4 : false;
}

/** The part of frameIdentity NAT leaves alone (pairs an input packet with its output
 *  frame): IP version, protocol, IPv4 ID / IPv6 fragment id, flow label, TCP seq, and the
 *  payload hash except for ICMP errors. Null when the frame is not IP. */
export function natIdentity(frame: Uint8Array): string | null {
  decode(view, frame, 0, frame.length, LINKTYPE_ETHERNET);
  if (view.ipVersion === 0) return null;
  const h = isIcmpError(view) ? 0 : payloadHash(view, frame);
  return `v${view.ipVersion}/p${view.ipProto}/id${view.ipId >= 0 ? view.ipId : 0}/fl${view.flowLabel >= 0 ? view.flowLabel : 0}/s${view.tcpSeq >= 0 ? view.tcpSeq >>> 0 : 0}/h${h}`;
}

export function eventIdentity(e: ShimEvent): string | null {
  if (e.ipVersion === 0) return null;
  return `v${e.ipVersion}/p${e.ipProto}/id${e.ipId}/fl${e.flowLabel}/${e.srcPort}-${e.dstPort}/s${e.tcpSeq >>> 0}/h${e.payloadHash >>> 0}`;
}

/** Shim verdict codes (XDPLAB_V_*) → the model's verdict names. */
const VERDICT = ["none", "redirect", "pass", "drop", "aborted", "fallback", "tx"];

/** Outcome classes both sides can observe for one input packet. */
export type Observed = "forwarded" | "shim_pass" | "shim_drop" | "consumed" | "missing";

export interface PacketDiff {
  i: number;
  identity: string | null;
  model: { class: Observed; out: string; reason: string | null; egress: string | null; record: PathRecord | null };
  live: { class: Observed; verdict: string | null; reason: string | null; egress: string | null; event: ShimEvent | null };
}

export interface OutputDiff {
  iface: string;
  identity: string | null;
  problem: "only_model" | "only_live" | "bytes_differ";
  firstByte?: number;
  model?: string;
  live?: string;
}

export interface CounterDiff {
  name: string;
  model: number;
  live: number;
}

export interface LiveDiff {
  packets: number;
  agree: number;
  packetDiffs: PacketDiff[];
  outputDiffs: OutputDiff[];
  counterDiffs: CounterDiff[];
  /** Output frames on the far sides that are not IP (ARP, …): not compared. */
  noise: number;
  divergent: boolean;
}

/** What the model says happened to an input packet, in classes a live run can see. */
function modelClass(r: PathRecord): Observed {
  if (r.out === "forwarded") return "forwarded";
  if (r.shim.verdict === "pass" || r.shim.verdict === "fallback") return "shim_pass";
  if (r.shim.verdict === "drop" || r.shim.verdict === "aborted") return "shim_drop";
  if (r.shim.verdict === "redirect") return "consumed";
  return "missing";
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/**
 * Compares the model's run (path records of input packets, output frames per interface)
 * with a live run. Counters compared are the ones that count packets, not time:
 * worker rx / forwarded_enq / dropped / to_kernel / icmp_generated / held, XDP_STATISTICS
 * rx_dropped / rx_ring_full / rx_fill_ring_empty_descs / rx_invalid_descs /
 * tx_invalid_descs, the shim's reason totals, and the worker's drops and to-kernel
 * decisions per reason (workerReasonTotals).
 */
export function compareLive(input: InputPackets, records: readonly PathRecord[], modelOut: ReadonlyMap<string, readonly Uint8Array[]>, modelCounters: Record<string, Record<string, number>>, modelXdp: ReadonlyArray<Record<string, number | string>>, live: LiveResult, ifaceNames: readonly string[]): LiveDiff {
  // Live shim events by (ingress iface, identity), in order.
  const evq = new Map<string, ShimEvent[]>();
  for (const e of live.events) {
    const k = `${e.iface}|${eventIdentity(e) ?? "?"}`;
    let l = evq.get(k);
    if (l === undefined) evq.set(k, (l = []));
    l.push(e);
  }
  // Live outputs by NAT-invariant identity (any interface), in order.
  const outq = new Map<string, Array<{ iface: string; data: Uint8Array; used: boolean }>>();
  let noise = 0;
  for (const f of live.outputs) {
    const id = natIdentity(f.data);
    if (id === null) {
      noise++;
      continue;
    }
    let l = outq.get(id);
    if (l === undefined) outq.set(id, (l = []));
    l.push({ iface: f.iface, data: f.data, used: false });
  }
  const byI = new Map<number, PathRecord>();
  for (const r of records) if (r.origin === "input" && r.i !== null) byI.set(r.i, r);
  const packetDiffs: PacketDiff[] = [];
  let agree = 0;
  for (let i = 0; i < input.count; i++) {
    const frame = input.frame(i);
    const id = frameIdentity(frame);
    const nid = natIdentity(frame);
    const iface = ifaceNames[input.iface[i]!] ?? `#${input.iface[i]}`;
    const rec = byI.get(input.captureIndex[i]!) ?? byI.get(i) ?? null;
    const mc: Observed = rec === null ? "missing" : modelClass(rec);
    const ev = evq.get(`${iface}|${id ?? "?"}`)?.shift() ?? null;
    let lc: Observed = "missing";
    let egress: string | null = null;
    const mEgress = rec?.out === "forwarded" ? rec.fib?.egress ?? null : null;
    if (ev !== null) {
      if (ev.verdict === 1) {
        // The first unused captured frame with this identity, on the model's egress when
        // there is one there: a reflected answer keeps the request's IP ID and payload, so
        // with NAT (ports not in the identity) it looks like the request on the other side.
        const q = nid === null ? undefined : outq.get(nid);
        const o = q?.find((x) => !x.used && x.iface === mEgress) ?? q?.find((x) => !x.used);
        if (o !== undefined) {
          o.used = true;
          lc = "forwarded";
          egress = o.iface;
        } else lc = "consumed";
      } else lc = ev.verdict === 3 || ev.verdict === 4 ? "shim_drop" : "shim_pass";
    }
    const liveReason = ev === null || ev.verdict === 1 ? null : reasonName(ev.reason);
    const modelShimReason = mc === "shim_pass" || mc === "shim_drop" ? rec?.reason ?? rec?.shim.reason ?? null : null;
    const same = mc === lc && mEgress === egress && (lc !== "shim_pass" && lc !== "shim_drop" ? true : modelShimReason === liveReason);
    if (same) agree++;
    else {
      packetDiffs.push({
        i,
        identity: id,
        model: { class: mc, out: rec?.out ?? "none", reason: rec?.reason ?? null, egress: mEgress, record: rec },
        live: { class: lc, verdict: ev === null ? null : VERDICT[ev.verdict] ?? `#${ev.verdict}`, reason: liveReason, egress, event: ev },
      });
    }
  }
  // Output bytes per egress interface, paired by identity in order.
  const outputDiffs: OutputDiff[] = [];
  for (const name of ifaceNames) {
    const m = modelOut.get(name) ?? [];
    const l = live.outputs.filter((f) => f.iface === name && frameIdentity(f.data) !== null).map((f) => f.data);
    const lq = new Map<string, Uint8Array[]>();
    for (const f of l) {
      const k = frameIdentity(f)!;
      let q = lq.get(k);
      if (q === undefined) lq.set(k, (q = []));
      q.push(f);
    }
    for (const mf of m) {
      const k = frameIdentity(mf);
      const lf = k === null ? undefined : lq.get(k)?.shift();
      if (lf === undefined) {
        outputDiffs.push({ iface: name, identity: k, problem: "only_model", model: hex(mf) });
        continue;
      }
      let d = -1;
      for (let j = 0; j < Math.max(mf.length, lf.length); j++) if (mf[j] !== lf[j]) {
        d = j;
        break;
      }
      if (d >= 0) outputDiffs.push({ iface: name, identity: k, problem: "bytes_differ", firstByte: d, model: hex(mf), live: hex(lf) });
    }
    for (const [k, q] of lq) for (const lf of q) outputDiffs.push({ iface: name, identity: k, problem: "only_live", live: hex(lf) });
  }
  // Counters that count packets.
  const counterDiffs: CounterDiff[] = [];
  const mw = modelCounters["worker"] ?? {};
  for (const k of ["rx", "dropped", "to_kernel", "icmp_generated", "held"]) {
    const m = mw[k] ?? 0;
    const l = live.worker[k] ?? 0;
    if (m !== l) counterDiffs.push({ name: `worker.${k}`, model: m, live: l });
  }
  for (const x of modelXdp) {
    const lx = live.xdpStatistics.find((s) => s.iface === x["iface"] && s.queue === x["queue"]);
    for (const k of ["rx_dropped", "rx_ring_full", "rx_fill_ring_empty_descs", "rx_invalid_descs", "tx_invalid_descs"]) {
      const m = Number(x[k] ?? 0);
      const l = lx === undefined ? -1 : Number((lx as unknown as Record<string, number>)[k] ?? 0);
      if (m !== l) counterDiffs.push({ name: `xdpStatistics.${String(x["iface"])}:${String(x["queue"])}.${k}`, model: m, live: l });
    }
  }
  const mReasons = workerReasonTotals(records);
  const lReasons: Record<string, number> = {};
  for (const [k, v] of Object.entries(live.worker)) if (k.startsWith("reason.")) lReasons[k.slice(7)] = v;
  for (const k of [...new Set([...Object.keys(mReasons), ...Object.keys(lReasons)])].sort()) {
    if ((mReasons[k] ?? 0) !== (lReasons[k] ?? 0)) counterDiffs.push({ name: `worker.reason.${k}`, model: mReasons[k] ?? 0, live: lReasons[k] ?? 0 });
  }
  const mShim: Record<string, number> = {};
  for (const r of records) {
    // Frames that met the shim: the input and the responder's answers (not the router's own).
    if (r.origin !== "input" && r.origin !== "responder") continue;
    const k = r.shim.verdict === "redirect" ? "redirect" : r.shim.reason ?? r.shim.verdict;
    mShim[k] = (mShim[k] ?? 0) + 1;
  }
  const lShim: Record<string, number> = {};
  for (const c of Object.values(live.shimCounters)) for (const [k, v] of Object.entries(c)) lShim[k] = (lShim[k] ?? 0) + v;
  for (const k of [...new Set([...Object.keys(mShim), ...Object.keys(lShim)])].sort()) {
    if ((mShim[k] ?? 0) !== (lShim[k] ?? 0)) counterDiffs.push({ name: `shim.${k}`, model: mShim[k] ?? 0, live: lShim[k] ?? 0 });
  }
  if (live.responders !== undefined) {
    // Every responder record of the model is an answer its far host sent.
    const m = records.filter((r) => r.origin === "responder").length;
    const l = Object.values(live.responders).reduce((a, c) => a + c.answered, 0);
    if (m !== l) counterDiffs.push({ name: "responder.answered", model: m, live: l });
  }
  return { packets: input.count, agree, packetDiffs, outputDiffs, counterDiffs, noise, divergent: packetDiffs.length + outputDiffs.length + counterDiffs.length > 0 };
}

/**
 * The model's counterpart of the live thread's per-reason counters: packets the worker
 * itself dropped or handed to the kernel — they reached it (AF_XDP RX ok, or it generated
 * them) — by reason. Kernel TX-side losses (xsk.tx, 170..189) and in_flight are not the
 * worker's decisions.
 */
export function workerReasonTotals(records: readonly PathRecord[]): Record<string, number> {
  const o: Record<string, number> = {};
  for (const r of records) {
    if ((r.out !== "dropped" && r.out !== "to_kernel") || r.reason === null) continue;
    if (r.origin === "input" && r.xsk?.rx !== "ok") continue;
    const code = reasonByName(r.reason)?.code ?? -1;
    if ((code >= 170 && code < 190) || code >= 200) continue;
    o[r.reason] = (o[r.reason] ?? 0) + 1;
  }
  return o;
}

/** The report in words (stdout). */
export function formatLiveDiff(d: LiveDiff, live: LiveResult): string {
  const L: string[] = [];
  L.push(`packets   ${d.agree}/${d.packets} agree (matched by identity: IP ID/flow label, ports, TCP seq, payload hash)`);
  L.push(`live      ${live.paced ? "paced" : "as fast as possible"}, ${live.events.length} shim events${live.eventsLost ? ` (${live.eventsLost} lost)` : ""}, ${live.outputs.length} frames captured, ${live.wallMs} ms`);
  for (const hk of live.hooks) L.push(`fault     ${hk.kind} on ${hk.iface ?? "every interface"}${hk.queue !== null ? ` queue ${hk.queue}` : ""} at +${hk.atNs / 1e6} ms for ${hk.forNs / 1e6} ms — ${hk.label}: ${hk.effect}`);
  if (live.hookStats !== null && live.hooks.length > 0) L.push(`          hook clock ${live.hookStats.firstFrameNs < 0 ? "never started (no frame reached the worker)" : "from the worker's first received frame"}; ${live.hookStats.kicksWithheld} TX kicks and ${live.hookStats.reapsWithheld} reaps withheld`);
  const first = d.packetDiffs[0];
  if (first !== undefined) {
    L.push(`first divergence: input packet ${first.i} (${first.identity ?? "not IP"})`);
    L.push(`  model: ${first.model.class}${first.model.egress ? ` via ${first.model.egress}` : ""}, out ${first.model.out}${first.model.reason ? `, reason ${first.model.reason}` : ""}`);
    if (first.model.record !== null) L.push(`         ${JSON.stringify(first.model.record)}`);
    L.push(`  live:  ${first.live.class}${first.live.egress ? ` via ${first.live.egress}` : ""}, shim ${first.live.verdict ?? "no event"}${first.live.reason ? ` (${first.live.reason})` : ""}`);
    if (first.live.event !== null) L.push(`         ${JSON.stringify(first.live.event)}`);
    if (d.packetDiffs.length > 1) L.push(`  … ${d.packetDiffs.length - 1} more packet(s) differ (summary.json)`);
  }
  for (const o of d.outputDiffs.slice(0, 5)) L.push(`output ${o.iface}: ${o.problem}${o.firstByte !== undefined ? ` at byte ${o.firstByte}` : ""} (${o.identity ?? "?"})`);
  if (d.outputDiffs.length > 5) L.push(`  … ${d.outputDiffs.length - 5} more output difference(s)`);
  for (const c of d.counterDiffs) L.push(`counter ${c.name}: model ${c.model}, live ${c.live}`);
  const wr = Object.entries(live.worker).filter(([k, v]) => k.startsWith("reason.") && v !== 0);
  if (wr.length > 0) L.push(`worker    drops/to-kernel by reason: ${wr.map(([k, v]) => `${k.slice(7)} ${v}`).join(", ")}`);
  L.push(d.divergent ? "live run DIFFERS from the model" : "live run agrees with the model");
  return L.join("\n") + "\n";
}

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c);

/** summary.json and report.html under dir, both sides. */
export function writeLiveOutputs(dir: string, o: { scenario: string; seed: number; model: unknown; live: LiveResult; diff: LiveDiff; overload?: unknown }): void {
  mkdirSync(dir, { recursive: true });
  const liveSide = { ...o.live, events: o.live.events.length, outputs: o.live.outputs.length };
  const summary = { scenario: o.scenario, seed: o.seed, model: o.model, live: liveSide, diff: { ...o.diff, packetDiffs: o.diff.packetDiffs.map((p) => ({ ...p })) }, overload: o.overload ?? null };
  writeFileSync(path.join(dir, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
  writeFileSync(path.join(dir, "live-events.jsonl"), o.live.events.map((e) => JSON.stringify(e)).join("\n") + "\n");
  const h: string[] = [];
  h.push(`<!doctype html><html><head><meta charset="utf-8"><title>xdplab live: ${esc(o.scenario)}</title><style>body{font:14px system-ui,sans-serif;margin:24px;max-width:1100px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px}.bad{color:#b00}pre{white-space:pre-wrap;font-size:12px}</style></head><body>`);
  h.push(`<h1>${esc(o.scenario)}: model vs live</h1><p class="${o.diff.divergent ? "bad" : ""}">${o.diff.agree}/${o.diff.packets} packets agree; ${o.diff.outputDiffs.length} output and ${o.diff.counterDiffs.length} counter differences. Live run ${o.live.paced ? "paced" : "as fast as possible"} in lab ${esc(o.live.prefix)}.</p>`);
  if (o.live.hooks.length > 0) {
    h.push("<h2>Faults played live</h2><table><tr><th>fault</th><th>interface</th><th>window</th><th>how</th></tr>");
    for (const hk of o.live.hooks) h.push(`<tr><td>${esc(hk.kind)}</td><td>${esc(hk.iface ?? "all")}</td><td>+${hk.atNs / 1e6} ms for ${hk.forNs / 1e6} ms</td><td><b>${esc(hk.label)}</b>: ${esc(hk.effect)}</td></tr>`);
    h.push(`</table><p>Hook statistics: ${esc(JSON.stringify(o.live.hookStats))}</p>`);
  }
  h.push("<h2>Per-packet differences</h2><table><tr><th>i</th><th>identity</th><th>model</th><th>live</th></tr>");
  for (const p of o.diff.packetDiffs.slice(0, 500)) h.push(`<tr><td>${p.i}</td><td>${esc(p.identity ?? "")}</td><td>${esc(`${p.model.class} ${p.model.egress ?? ""} ${p.model.reason ?? ""}`)}</td><td>${esc(`${p.live.class} ${p.live.egress ?? ""} ${p.live.verdict ?? ""} ${p.live.reason ?? ""}`)}</td></tr>`);
  h.push("</table><h2>Counters (model / live)</h2><table><tr><th>counter</th><th>model</th><th>live</th></tr>");
  for (const c of o.diff.counterDiffs) h.push(`<tr><td>${esc(c.name)}</td><td>${c.model}</td><td>${c.live}</td></tr>`);
  h.push("</table><h2>Output differences</h2><table><tr><th>iface</th><th>problem</th><th>identity</th></tr>");
  for (const x of o.diff.outputDiffs.slice(0, 200)) h.push(`<tr><td>${esc(x.iface)}</td><td>${x.problem}${x.firstByte !== undefined ? ` @${x.firstByte}` : ""}</td><td>${esc(x.identity ?? "")}</td></tr>`);
  h.push(`</table><h2>Live side</h2><pre>${esc(JSON.stringify({ worker: o.live.worker, xdpStatistics: o.live.xdpStatistics, shim: o.live.shimCounters, tracepoints: o.live.tracepoints }, null, 1))}</pre>`);
  h.push(`<h2>Model side</h2><pre>${esc(JSON.stringify(o.model, null, 1))}</pre>`);
  if (o.overload !== undefined) h.push(`<h2>Overload (not gated)</h2><pre>${esc(JSON.stringify(o.overload, null, 1))}</pre>`);
  h.push("</body></html>\n");
  writeFileSync(path.join(dir, "report.html"), h.join(""));
}
