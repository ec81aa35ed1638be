// Live demonstrations of kernel behaviours the model predicts (CATALOGUE "Kernel-side
// gotchas"), each on its own lab topology, bounded in frames and time, with the
// kernel's own counters as evidence:
//  - veth-gotcha: the shim in XDP_TX (or devmap) demo mode bounces frames into a veth
//    whose peer has neither an XDP program nor GRO → all dropped (-ENXIO on
//    xdp:xdp_bulk_tx / xdp:xdp_devmap_xmit, xdp_tx_errors); then each documented fix.
//  - xskmap-errors: a redirect to an XSKMAP slot whose socket is bound to another queue
//    (-EINVAL, xdp:xdp_redirect_err), an empty slot (falls back to the kernel), and a
//    correctly bound socket as the control.
import { R } from "../sim/reasons.js";
import { driverProfile } from "../sim/xsk/driver.js";
import { XskMap, XDP_PASS } from "../sim/xsk/xskmap.js";
import { XskSocket, bind } from "../sim/xsk/socket.js";
import type { XskConfig } from "../sim/xsk/socket.js";
import { predictVethXmit } from "../sim/xsk/vethPeer.js";
import type { VethXmitPrediction } from "../sim/xsk/vethPeer.js";
import { LabBpf, ctrlBytes, u32le } from "./attach.js";
import type { AttachedProgram } from "./attach.js";
import { inNetns } from "./exec.js";
import { TraceSession, interfaceFeatures } from "./preflight.js";
import { inject, startCapture } from "./pktio.js";
import { Topology } from "./topology.js";

const DUT_MAC = "02:58:4c:00:00:01";
const PEER_MAC = "02:58:4c:ff:00:00";

/** N distinct IPv4/UDP frames (distinct source ports and IDs, so GRO has nothing to merge). */
export function demoFrames(n: number, dst: string, src: string): Uint8Array[] {
  const mac = (s: string): number[] => s.split(":").map((h) => parseInt(h, 16));
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const payload = new TextEncoder().encode(`xdplab-demo-${String(i).padStart(4, "0")}`);
    const f = new Uint8Array(14 + 20 + 8 + payload.length);
    const v = new DataView(f.buffer);
    f.set(mac(dst), 0);
    f.set(mac(src), 6);
    v.setUint16(12, 0x0800);
    v.setUint8(14, 0x45);
    v.setUint16(16, 20 + 8 + payload.length);
    v.setUint16(18, i + 1);
    v.setUint8(22, 64);
    v.setUint8(23, 17);
    f.set([198, 18, 0, 2, 198, 19, 0, 2], 26);
    let sum = 0;
    for (let o = 14; o < 34; o += 2) sum += v.getUint16(o);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    v.setUint16(24, ~sum & 0xffff);
    v.setUint16(34, 10000 + i);
    v.setUint16(36, 9);
    v.setUint16(38, 8 + payload.length);
    f.set(payload, 42); // UDP checksum 0: none (IPv4)
    out.push(f);
  }
  return out;
}

/** `ethtool -S` of an interface, summed over per-queue names ("rx_queue_0_xdp_tx" → "xdp_tx"). */
export function ethtoolStats(netns: string, ifname: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of inNetns(netns, "ethtool", ["-S", ifname]).split("\n")) {
    const m = /^\s*(?:rx_queue_\d+_|tx_queue_\d+_)?([a-z0-9_]+):\s*(\d+)\s*$/.exec(line);
    if (m === null || m[1] === undefined) continue;
    out[m[1]] = (out[m[1]] ?? 0) + Number(m[2]);
  }
  return out;
}

const delta = (a: Record<string, number>, b: Record<string, number>, k: string): number => (b[k] ?? 0) - (a[k] ?? 0);

export interface VethPhase {
  phase: "no-fix" | "peer-xdp" | "peer-gro";
  injected: number;
  /** Bounced frames captured on the far side during the round. */
  received: number;
  /**
   * Bounced frames that arrived only after one ordinary frame was sent into the peer
   * from the DUT's stack (the kick that runs the peer's NAPI; see sim/xsk/vethPeer.ts).
   */
  receivedAfterKick: number;
  /** Deltas of the DUT veth's ethtool -S counters. */
  xdpTx: number;
  xdpTxErrors: number;
  /** Hits of the predicted tracepoint with err ≠ 0, their summed drops, and the errors seen. */
  tracepointErrors: number;
  tracepointDrops: number;
  /** Frames the predicted tracepoint reports sent (xdp_bulk_tx / xdp_devmap_xmit). */
  tracepointSent: number;
  errnos: number[];
  /** The DUT veth advertises NETDEV_XDP_ACT_NDO_XMIT (its peer accepts XDP frames). */
  ndoXmitAdvertised: boolean;
  prediction: VethXmitPrediction;
  /** The live outcome matches the prediction (received, parked, drops, errno, tracepoint). */
  agrees: boolean;
}

export interface DemoOptions {
  frames?: number;
  /** Called once everything is set up, before traffic; awaited (the kill test holds here). */
  hold?: (topo: Topology) => Promise<void>;
  log?: (line: string) => void;
}

interface RoundResult {
  injected: number;
  received: number;
  receivedAfterKick: number;
  xdpTx: number;
  xdpTxErrors: number;
  hits: { event: string; fields: Record<string, string> }[];
}

const macBytes = (s: string): number[] => s.split(":").map((h) => parseInt(h, 16));
const BOUNCED_HEAD = [...macBytes(PEER_MAC), ...macBytes(DUT_MAC)];
const KICK_SRC_MAC = "02:58:4c:00:00:02";

/** A frame bounced by the shim: MACs swapped, so peer → DUT became DUT → peer (the kick frame has another source). */
function isBounced(data: Uint8Array): boolean {
  return data.length >= 12 && BOUNCED_HEAD.every((b, i) => data[i] === b);
}

/**
 * One round: N demo frames from the peer, bounced by the shim; then one ordinary frame
 * sent from the DUT's stack into the peer (pktio on the DUT side, AF_PACKET → veth_xmit),
 * which runs the peer's NAPI and so releases frames parked in its XDP ring.
 */
async function bounceRound(topo: Topology, trace: TraceSession, n: number): Promise<RoundResult> {
  const ifc = topo.ifaces[0];
  if (ifc === undefined) throw new Error("topology without interfaces");
  const before = ethtoolStats(ifc.dut.netns, ifc.dut.name);
  trace.clear();
  const port = { netns: ifc.peer.netns, ifname: ifc.peer.name };
  const cap = await startCapture([port], { timeoutMs: 5000, idleMs: 400, count: n });
  await inject([port], demoFrames(n, DUT_MAC, PEER_MAC).map((frame) => ({ port: 0, frame })), { gapUs: 500, maxMs: 5000 });
  const frames = await cap.finished();
  const after = ethtoolStats(ifc.dut.netns, ifc.dut.name);
  const hits = trace.hits().map((h) => ({ event: h.event, fields: h.fields }));
  // The kick: a frame whose destination is the peer, sent by the DUT's stack (not XDP).
  const kickCap = await startCapture([port], { timeoutMs: 3000, idleMs: 400, count: n + 1 });
  const dutPort = { netns: ifc.dut.netns, ifname: ifc.dut.name };
  await inject([dutPort], demoFrames(1, PEER_MAC, KICK_SRC_MAC).map((frame) => ({ port: 0, frame })), { gapUs: 0, maxMs: 3000 });
  const kicked = await kickCap.finished();
  return {
    injected: n,
    received: (frames[0] ?? []).filter((f) => isBounced(f.data)).length,
    receivedAfterKick: (kicked[0] ?? []).filter((f) => isBounced(f.data)).length,
    xdpTx: delta(before, after, "xdp_tx"),
    xdpTxErrors: delta(before, after, "xdp_tx_errors"),
    hits,
  };
}

function ndoXmit(topo: Topology): boolean {
  const ifc = topo.ifaces[0];
  const f = interfaceFeatures(ifc?.dut.netns ?? null).find((d) => d.name === ifc?.dut.name);
  return f !== undefined && (f.xdpFeatures & 4) !== 0;
}

/** The veth gotcha, live: no fix, then a dummy XDP program on the peer, then GRO on the peer. */
export async function vethGotcha(opts: DemoOptions & { path?: "xdp_tx" | "devmap" } = {}): Promise<{ prefix: string; path: string; phases: VethPhase[] }> {
  const n = opts.frames ?? 16;
  const via = opts.path ?? "xdp_tx";
  const log = opts.log ?? ((): void => undefined);
  const topo = Topology.create({ interfaces: [{ name: "lan", mac: DUT_MAC, mtu: 1500, peerMac: PEER_MAC }], ipForward: false });
  const bpf = new LabBpf(topo);
  try {
    const ifc = topo.ifaces[0];
    if (ifc === undefined) throw new Error("topology without interfaces");
    const trace = TraceSession.open(topo, ["xdp_bulk_tx", "xdp_devmap_xmit", "xdp_redirect_err", "xdp_exception"]);
    const shim = bpf.attach(ifc.dut.netns, ifc.dut.name, "shim", "native");
    bpf.mapUpdate(ifc.dut.netns, `${shim.pinDir}/ctrl`, u32le(0), ctrlBytes({ txMode: via === "xdp_tx" ? 1 : 2 }));
    if (via === "devmap") bpf.mapUpdate(ifc.dut.netns, `${shim.pinDir}/tx_devmap`, u32le(0), u32le(shim.ifindex));
    log(`shim attached to ${ifc.dut.netns}:${ifc.dut.name} (prog ${shim.progId}, ${via === "xdp_tx" ? "XDP_TX" : "devmap redirect"} demo mode); pins in ${bpf.dir}`);
    if (opts.hold !== undefined) await opts.hold(topo);
    const profile = driverProfile("veth");
    const phases: VethPhase[] = [];
    const record = (phase: VethPhase["phase"], r: RoundResult, peer: { peerHasXdp: boolean; peerGro: boolean }): void => {
      const prediction = predictVethXmit(profile, via, peer, n);
      const ev = prediction.tracepoint.slice("xdp:".length);
      const hits = r.hits.filter((h) => h.event === ev);
      const bad = hits.filter((h) => Number(h.fields["err"] ?? "0") !== 0);
      // xdp_redirect_err is one hit per frame; the bulk/devmap tracepoints carry counts.
      const drops = ev === "xdp_redirect_err" ? bad.length : bad.reduce((s, h) => s + Number(h.fields["drops"] ?? "0"), 0);
      const sent = hits.reduce((s, h) => s + Number(h.fields["sent"] ?? "0"), 0);
      const errnos = [...new Set(bad.map((h) => Number(h.fields["err"])))].sort((a, b) => a - b);
      const errOk = prediction.err === 0 ? errnos.length === 0 : errnos.length === 1 && errnos[0] === prediction.err;
      const sentOk = prediction.dropped > 0 || sent === n;
      const agrees = r.received === prediction.delivered && r.receivedAfterKick === prediction.parked && drops === prediction.dropped && errOk && sentOk;
      const p: VethPhase = {
        phase,
        injected: r.injected,
        received: r.received,
        receivedAfterKick: r.receivedAfterKick,
        xdpTx: r.xdpTx,
        xdpTxErrors: r.xdpTxErrors,
        tracepointErrors: bad.length,
        tracepointDrops: drops,
        tracepointSent: sent,
        errnos,
        ndoXmitAdvertised: ndoXmit(topo),
        prediction,
        agrees,
      };
      phases.push(p);
      const parked = r.receivedAfterKick > 0 || prediction.parked > 0 ? `, ${r.receivedAfterKick} more after a stack frame kicked the peer's NAPI (model: ${prediction.parked} parked)` : "";
      log(`${phase}: ${p.received}/${n} bounced frames arrived${parked}; ${prediction.tracepoint} sent ${sent}, errors ${p.tracepointErrors} (drops ${drops}, err ${errnos.join(",") || "none"}), xdp_tx ${p.xdpTx}, xdp_tx_errors ${p.xdpTxErrors}; model predicts ${prediction.delivered} delivered${prediction.dropped > 0 ? `, ${prediction.dropped} dropped (err ${prediction.err})` : ""} — ${p.agrees ? "agrees" : "DIFFERS"}`);
    };
    record("no-fix", await bounceRound(topo, trace, n), { peerHasXdp: false, peerGro: false });
    const pass: AttachedProgram = bpf.attach(ifc.peer.netns, ifc.peer.name, "pass", "native");
    record("peer-xdp", await bounceRound(topo, trace, n), { peerHasXdp: true, peerGro: false });
    bpf.detach(pass);
    inNetns(ifc.peer.netns, "ethtool", ["-K", ifc.peer.name, "gro", "on"]);
    record("peer-gro", await bounceRound(topo, trace, n), { peerHasXdp: false, peerGro: true });
    return { prefix: topo.prefix, path: via, phases };
  } finally {
    bpf.close();
    topo.destroy();
  }
}

export interface SlotPhase {
  phase: "wrong-queue" | "empty-slot" | "bound";
  injected: number;
  /** Frames the probe's socket received. */
  socketReceived: number;
  /** Frames the DUT kernel saw (packet tap after XDP: only XDP_PASS frames reach it). */
  kernelSaw: number;
  redirectErrors: number;
  errnos: number[];
  /** Shim counters (deltas): redirected (slot 0) and xskmap_empty. */
  redirected: number;
  xskmapEmpty: number;
  /** What the model's XskMap.redirect says: "redirect", "pass" or a reason name. */
  predicted: string;
  predictedErrno: number;
  agrees: boolean;
}

/** XSKMAP redirect outcomes, live: socket on another queue, empty slot, bound socket. */
export async function xskmapErrors(opts: DemoOptions = {}): Promise<{ prefix: string; phases: SlotPhase[] }> {
  const n = opts.frames ?? 16;
  const log = opts.log ?? ((): void => undefined);
  const topo = Topology.create({ interfaces: [{ name: "lan", mac: DUT_MAC, mtu: 1500, peerMac: PEER_MAC }], ipForward: false });
  const bpf = new LabBpf(topo);
  try {
    const ifc = topo.ifaces[0];
    if (ifc === undefined) throw new Error("topology without interfaces");
    // Two RX queues on the DUT end so a socket can sit on queue 1; the far side keeps one
    // TX queue, so every injected frame arrives on queue 0.
    inNetns(ifc.dut.netns, "ethtool", ["-L", ifc.dut.name, "rx", "2", "tx", "2"]);
    const trace = TraceSession.open(topo, ["xdp_redirect_err", "xdp_exception"]);
    const shim = bpf.attach(ifc.dut.netns, ifc.dut.name, "shim", "native");
    bpf.mapUpdate(ifc.dut.netns, `${shim.pinDir}/ctrl`, u32le(0), ctrlBytes({ enabled: 1, abiVersion: 1 }));
    const xsks = `${shim.pinDir}/xsks`;
    const probeMs = 30_000;
    const onQ1 = await bpf.startProbe({ netns: ifc.dut.netns, ifname: ifc.dut.name, queue: 1, map: xsks, slot: 1, ms: probeMs });
    log(`shim armed on ${ifc.dut.netns}:${ifc.dut.name}; probe socket (pid ${onQ1.pid}) bound to queue 1 in XSKMAP slot 1`);
    if (opts.hold !== undefined) await opts.hold(topo);
    // The model's view of the same three slots.
    const model = new XskMap(256);
    const cfg: XskConfig = { frames: 64, frameSize: 4096, headroom: 0, rings: { fill: 64, rx: 64, tx: 64, comp: 64 } };
    const sQ1 = new XskSocket(cfg);
    bind(sQ1, shim.ifindex, 1);
    model.set(1, sQ1);
    const sQ0 = new XskSocket(cfg);
    bind(sQ0, shim.ifindex, 0);
    model.set(3, sQ0);
    const predict = (slot: number): { what: string; errno: number } => {
      const r = model.redirect(slot, XDP_PASS, shim.ifindex, 0);
      const what = r === 4 ? "redirect" : r === XDP_PASS ? "pass" : r === R.redirect_err_wrong_queue ? "redirect_err_wrong_queue" : r === R.redirect_err_unbound ? "redirect_err_unbound" : `action ${r}`;
      return { what, errno: model.lastErrno };
    };
    const phases: SlotPhase[] = [];
    const round = async (phase: SlotPhase["phase"], slot: number, probeReceived: () => Promise<number>): Promise<void> => {
      bpf.mapUpdate(ifc.dut.netns, `${shim.pinDir}/bindings`, u32le(shim.ifindex, 0), u32le(slot, 1));
      const c0 = bpf.counters(shim);
      trace.clear();
      const dutPort = { netns: ifc.dut.netns, ifname: ifc.dut.name };
      const cap = await startCapture([dutPort], { timeoutMs: 5000, idleMs: 400, count: n });
      const port = { netns: ifc.peer.netns, ifname: ifc.peer.name };
      await inject([port], demoFrames(n, DUT_MAC, PEER_MAC).map((frame) => ({ port: 0, frame })), { gapUs: 500, maxMs: 5000 });
      const seen = await cap.finished();
      const c1 = bpf.counters(shim);
      const errs = trace.hits().filter((h) => h.event === "xdp_redirect_err");
      const p = predict(slot);
      const socketReceived = await probeReceived();
      const s: SlotPhase = {
        phase,
        injected: n,
        socketReceived,
        kernelSaw: (seen[0] ?? []).filter((f) => f.data.length > 34 && f.data[23] === 17).length,
        redirectErrors: errs.length,
        errnos: [...new Set(errs.map((h) => Number(h.fields["err"])))],
        redirected: (c1[0] ?? 0) - (c0[0] ?? 0),
        xskmapEmpty: (c1[R.xskmap_empty] ?? 0) - (c0[R.xskmap_empty] ?? 0),
        predicted: p.what,
        predictedErrno: p.errno,
        agrees: false,
      };
      s.agrees =
        p.what === "redirect_err_wrong_queue" ? s.redirectErrors === n && s.errnos.length === 1 && s.errnos[0] === p.errno && s.kernelSaw === 0 && s.socketReceived === 0
        : p.what === "pass" ? s.redirectErrors === 0 && s.xskmapEmpty === n && s.kernelSaw === n
        : p.what === "redirect" ? s.redirectErrors === 0 && s.redirected === n && s.socketReceived === n && s.kernelSaw === 0
        : false;
      phases.push(s);
      log(`${phase} (slot ${slot}): socket received ${s.socketReceived}/${n}, kernel saw ${s.kernelSaw}, xdp:xdp_redirect_err ${s.redirectErrors} (err ${s.errnos.join(",") || "none"}), shim redirected ${s.redirected}, xskmap_empty ${s.xskmapEmpty}; model: ${p.what}${p.errno !== 0 ? ` (${p.errno})` : ""} — ${s.agrees ? "agrees" : "DIFFERS"}`);
    };
    await round("wrong-queue", 1, async () => (await onQ1.stop()).received);
    await round("empty-slot", 2, async () => 0);
    const onQ0 = await bpf.startProbe({ netns: ifc.dut.netns, ifname: ifc.dut.name, queue: 0, map: xsks, slot: 3, ms: probeMs });
    await round("bound", 3, async () => (await onQ0.stop()).received);
    return { prefix: topo.prefix, phases };
  } finally {
    bpf.close();
    topo.destroy();
  }
}
