// "Linux as a plain router": the oracle the model's forwarding path (fib: MAC rewrite,
// TTL/hop limit, ICMP time exceeded, fragmentation needed / packet too big) is compared
// against. Builds the scenario's interfaces, addresses, routes and static neighbours in
// the DUT namespace of a fresh topology, injects each input frame from the far side of
// its ingress interface, in order and paced, and returns what Linux emitted on every
// far side, attributed to the input that caused it.
//
// NAT and policy: only with `LinuxRouterLab.openNetfilter` (live/netfilter.ts builds the
// nftables ruleset); a plain router reports those sections in `ignored`. Cold neighbours
// are never covered (only atNs = 0 neighbours are installed).
import { InputError } from "../sim/errors.js";
import type { Scenario } from "../sim/scenario/types.js";
import { etherPayload, formatIp, formatMac, frameAddresses, requireLabAddress } from "./addresses.js";
import { CommandFailed, ip } from "./exec.js";
import { inject, startCapture } from "./pktio.js";
import type { InjectedFrame, Port } from "./pktio.js";
import { Topology } from "./topology.js";
import { applyNetfilter } from "./netfilter.js";
import type { NetfilterSpec } from "./netfilter.js";

/** The parts of a Scenario the router needs; a parsed Scenario fits as is. */
export interface RouterSpec {
  file?: string;
  interfaces: ReadonlyArray<{
    name: string;
    mac: Uint8Array;
    mtu: number;
    addrs: ReadonlyArray<{ family: 4 | 6; bytes: Uint8Array; prefixLen: number }>;
  }>;
  neighbors: ReadonlyArray<{ family: 4 | 6; ip: Uint8Array; mac: Uint8Array; iface: number; atNs: number }>;
  routes: ReadonlyArray<{ family: 4 | 6; prefix: Uint8Array; prefixLen: number; via: Uint8Array | null; iface: number; metric: number; connected: boolean }>;
  nat?: { snat: readonly unknown[]; dnat: readonly unknown[] };
  policy?: ReadonlyArray<{ action: string }>;
  defaultPolicy?: string;
}

// Compile-time proof that a parsed scenario is a RouterSpec.
const scenarioFits: (s: Scenario) => RouterSpec = (s) => s;
void scenarioFits;

export interface RouterInput {
  /** Ingress interface index (position in spec.interfaces). */
  iface: number;
  /** Ethernet frame as it arrives on the wire (VLAN tags kept). */
  frame: Uint8Array;
}

export interface EmittedFrame {
  /** Egress interface index. */
  iface: number;
  frame: Uint8Array;
  /** Capture time, CLOCK_REALTIME ns. */
  tNs: bigint;
  /** Index of the input that caused it: the last input sent before it, when the frame
   *  arrived within the gap after it; null when the timing does not say. */
  input: number | null;
}

export interface LinuxRouterResult {
  /** Per interface index, the frames Linux sent out of it, in capture order. */
  byIface: EmittedFrame[][];
  /** All emitted frames in time order. */
  frames: EmittedFrame[];
  /** Per input: when it was sent, or why the far side could not send it. */
  sent: InjectedFrame[];
  /** ARP / ND / MLD frames dropped from the captures (see `keepNoise`). */
  noise: number;
  /** Scenario sections a plain Linux router does not apply. */
  ignored: string[];
}

export interface LinuxRouterOptions {
  /** Gap between injected frames in µs (default 2000); also the attribution window. */
  gapUs?: number;
  /** How long to keep capturing after the last frame was sent, ms (default 50). */
  settleMs?: number;
  /** Keep ARP, ND and MLD frames in the result (default: filtered out). */
  keepNoise?: boolean;
  /** Accept input frames whose outer IP addresses lie outside the lab ranges (default
   *  false). The namespaces have no way out, but DESIGN §8 asks for lab addresses. */
  allowForeignFrameAddresses?: boolean;
}

const ICMPV6_NOISE = new Set([130, 131, 132, 133, 134, 135, 136, 137, 143]);

/** ARP, and ICMPv6 neighbour discovery / multicast listener messages. */
export function isLinkNoise(frame: Uint8Array): boolean {
  const { type, off } = etherPayload(frame);
  if (type === 0x0806) return true;
  if (type !== 0x86dd) return false;
  let next = frame[off + 6] ?? 0;
  let p = off + 40;
  if (next === 0) {
    // MLD reports carry a hop-by-hop router alert option.
    next = frame[p] ?? 0;
    p += ((frame[p + 1] ?? 0) + 1) * 8;
  }
  return next === 58 && ICMPV6_NOISE.has(frame[p] ?? 0);
}

function validate(spec: RouterSpec, file: string): void {
  spec.interfaces.forEach((ifc, i) =>
    ifc.addrs.forEach((a, j) => requireLabAddress(a.family, a.bytes, a.prefixLen, file, `interfaces[${i}].addrs[${j}]`)),
  );
  spec.neighbors.forEach((n, i) => {
    requireLabAddress(n.family, n.ip, undefined, file, `neighbors[${i}].ip`);
    if (spec.interfaces[n.iface] === undefined) throw new InputError(file, `neighbors[${i}].iface`, `no interface with index ${n.iface}`);
  });
  spec.routes.forEach((r, i) => {
    // A default route names no address; any other prefix must stay inside the lab ranges.
    if (r.prefixLen > 0) requireLabAddress(r.family, r.prefix, r.prefixLen, file, `routes[${i}].prefix`);
    if (r.via !== null) requireLabAddress(r.family, r.via, undefined, file, `routes[${i}].via`);
    if (spec.interfaces[r.iface] === undefined) throw new InputError(file, `routes[${i}].iface`, `no interface with index ${r.iface}`);
  });
}

function ignoredSections(spec: RouterSpec): string[] {
  const out: string[] = [];
  if ((spec.nat?.snat.length ?? 0) > 0) out.push("nat.snat");
  if ((spec.nat?.dnat.length ?? 0) > 0) out.push("nat.dnat");
  if ((spec.policy ?? []).some((p) => p.action === "deny") || spec.defaultPolicy === "deny") out.push("policy");
  if (spec.neighbors.some((n) => n.atNs > 0)) out.push("neighbors (cold, atNs > 0)");
  return out;
}

/** A Linux router built from a scenario; reusable across runs, always close() it. */
export class LinuxRouterLab {
  readonly topology: Topology;
  readonly spec: RouterSpec;
  readonly ignored: string[];

  private constructor(topology: Topology, spec: RouterSpec, ignored: string[]) {
    this.topology = topology;
    this.spec = spec;
    this.ignored = ignored;
  }

  /**
   * The same router with netfilter: the scenario's `nat` and `policy` as nftables rules
   * (live/netfilter.ts), conntrack on. `ruleset` holds the nft text that was loaded.
   */
  static openNetfilter(spec: RouterSpec & NetfilterSpec): LinuxRouterLab & { ruleset: string } {
    const lab = LinuxRouterLab.open(spec);
    try {
      const ruleset = applyNetfilter(lab.topology.dutNs, spec);
      const ignored = lab.ignored.filter((x) => x !== "nat.snat" && x !== "nat.dnat" && x !== "policy");
      return Object.assign(new LinuxRouterLab(lab.topology, spec, ignored), { ruleset });
    } catch (err) {
      lab.close();
      throw err;
    }
  }

  static open(spec: RouterSpec): LinuxRouterLab {
    const file = spec.file ?? "<scenario>";
    validate(spec, file);
    // The far side of an interface takes the MAC of its first static neighbour, so
    // frames from "the neighbour" look right on the wire.
    const peerMac = (i: number): Uint8Array | undefined => spec.neighbors.find((n) => n.iface === i && n.atNs === 0)?.mac;
    const topo = Topology.create({
      file,
      ipForward: true,
      interfaces: spec.interfaces.map((ifc, i) => {
        const pm = peerMac(i);
        return pm === undefined ? { name: ifc.name, mac: ifc.mac, mtu: ifc.mtu } : { name: ifc.name, mac: ifc.mac, mtu: ifc.mtu, peerMac: pm };
      }),
    });
    try {
      configureRouter(topo, spec, file);
    } catch (err) {
      topo.destroy();
      throw err;
    }
    return new LinuxRouterLab(topo, spec, ignoredSections(spec));
  }

  async run(inputs: readonly RouterInput[], opts: LinuxRouterOptions = {}): Promise<LinuxRouterResult> {
    const file = this.spec.file ?? "<inputs>";
    const n = this.spec.interfaces.length;
    inputs.forEach((inp, i) => {
      if (!Number.isInteger(inp.iface) || inp.iface < 0 || inp.iface >= n) throw new InputError(file, `inputs[${i}].iface`, `expected an interface index 0..${n - 1}, found ${inp.iface}`);
      if (inp.frame.length < 14) throw new InputError(file, `inputs[${i}].frame`, `expected an Ethernet frame, found ${inp.frame.length} bytes`);
      if (opts.allowForeignFrameAddresses !== true) {
        const a = frameAddresses(inp.frame);
        if (a !== null) {
          requireLabAddress(a.family, a.src, undefined, file, `inputs[${i}] source address`);
          requireLabAddress(a.family, a.dst, undefined, file, `inputs[${i}] destination address`);
        }
      }
    });
    const gapUs = opts.gapUs ?? 2000;
    const settleMs = opts.settleMs ?? 50;
    const ports: Port[] = this.topology.ifaces.map((t) => ({ netns: t.peer.netns, ifname: t.peer.name }));
    const boundMs = Math.ceil((inputs.length * gapUs) / 1000) + settleMs + 10_000;
    const cap = await startCapture(ports, { timeoutMs: boundMs, direction: "in" });
    let sent: InjectedFrame[];
    try {
      sent = await inject(ports, inputs.map((x) => ({ port: x.iface, frame: x.frame })), { gapUs, maxMs: boundMs });
      await new Promise((r) => setTimeout(r, settleMs));
    } finally {
      await cap.stop().catch(() => undefined);
    }
    const captured = await cap.finished();

    const sendTimes = sent.filter((s) => s.tNs !== null).map((s) => ({ index: s.index, t: s.tNs as bigint }));
    const gapNs = BigInt(gapUs) * 1000n;
    const attribute = (t: bigint): number | null => {
      let lo = 0;
      let hi = sendTimes.length - 1;
      let best = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if ((sendTimes[mid]?.t ?? 0n) <= t) {
          best = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      const s = sendTimes[best];
      return s !== undefined && t - s.t < gapNs ? s.index : null;
    };

    let noise = 0;
    const byIface: EmittedFrame[][] = captured.map((frames, iface) =>
      frames
        .filter((f) => {
          if (opts.keepNoise !== true && isLinkNoise(f.data)) {
            noise++;
            return false;
          }
          return true;
        })
        .map((f) => ({ iface, frame: f.data, tNs: f.tNs, input: attribute(f.tNs) })),
    );
    const frames = byIface.flat().sort((a, b) => (a.tNs < b.tNs ? -1 : a.tNs > b.tNs ? 1 : a.iface - b.iface));
    return { byIface, frames, sent, noise, ignored: this.ignored };
  }

  close(): void {
    this.topology.destroy();
  }
}

function configureRouter(topo: Topology, spec: RouterSpec, file: string): void {
  const ns = topo.dutNs;
  spec.interfaces.forEach((ifc, i) => {
    for (const a of ifc.addrs) {
      const args = ["addr", "add", `${formatIp(a.bytes)}/${a.prefixLen}`, "dev", ifc.name];
      if (a.family === 6) args.push("nodad");
      try {
        ip(ns, args);
      } catch (err) {
        throw asInput(err, file, `interfaces[${i}].addrs`);
      }
    }
  });
  spec.neighbors.forEach((n, i) => {
    if (n.atNs > 0) return;
    const dev = spec.interfaces[n.iface]?.name ?? "";
    try {
      ip(ns, [n.family === 4 ? "-4" : "-6", "neigh", "replace", formatIp(n.ip), "lladdr", formatMac(n.mac), "dev", dev, "nud", "permanent"]);
    } catch (err) {
      throw asInput(err, file, `neighbors[${i}]`);
    }
  });
  spec.routes.forEach((r, i) => {
    if (r.connected) return; // the kernel adds these with the address
    const dev = spec.interfaces[r.iface]?.name ?? "";
    const args = [r.family === 4 ? "-4" : "-6", "route", "add", `${formatIp(r.prefix)}/${r.prefixLen}`];
    if (r.via !== null) args.push("via", formatIp(r.via));
    args.push("dev", dev, "metric", String(r.metric));
    try {
      ip(ns, args);
    } catch (err) {
      // A gateway outside every connected prefix is still reachable on the link.
      if (r.via === null) throw asInput(err, file, `routes[${i}]`);
      try {
        ip(ns, [...args, "onlink"]);
      } catch (err2) {
        throw asInput(err2, file, `routes[${i}]`);
      }
    }
  });
}

function asInput(err: unknown, file: string, field: string): unknown {
  if (err instanceof CommandFailed) return new InputError(file, field, `Linux refused it: ${err.stderr.trim().split("\n")[0] ?? ""}`);
  return err;
}

/** One-shot oracle run: build, inject, capture, tear down. */
export async function runLinuxRouter(spec: RouterSpec, inputs: readonly RouterInput[], opts: LinuxRouterOptions = {}): Promise<LinuxRouterResult> {
  const lab = LinuxRouterLab.open(spec);
  try {
    return await lab.run(inputs, opts);
  } finally {
    lab.close();
  }
}
