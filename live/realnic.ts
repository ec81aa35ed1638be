// Named NICs in the lab (`xdplab live --iface … --far …`, DESIGN §7 level 4; docs/live-nics.md).
// A lab with cabled NIC pairs: each DUT-side NIC is moved into the DUT namespace and the
// NIC cabled to it into that interface's far-side namespace, renamed to the scenario
// interface's name there, pinned like a veth end (DESIGN §8), and moved back at teardown
// with its original name, MTU, MAC, promiscuity, offloads and up/down state. Everything
// needed to put a NIC back is recorded in the run's state file *before* it is moved, so
// the sweep of a dead owner restores it too (restoreNic, called from live/state.ts).
//
// This module runs `ip`, `ethtool` and `nsenter` only; it never deletes a device.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { formatMac } from "./addresses.js";
import { inNetns, ip, run } from "./exec.js";
import { OFFLOADS_OFF, sysctl } from "./netns.js";
import { EnvironmentError, UsageError } from "../sim/errors.js";

/** One scenario interface served by a cabled pair: `dut` faces the DUT, `far` is cabled to it. */
export interface NicPair {
  iface: string;
  dut: string;
  far: string;
}

/** Where a NIC came from: a path `ip link set … netns PATH` and nsenter accept, and the
 *  namespace's identity (device:inode of its nsfs file) to check the path still means it. */
export interface NicOrigin {
  path: string;
  id: string;
}

/** What the state file keeps for a NIC moved into the lab. */
export interface NicRecord {
  role: "dut" | "far";
  /** Its name before the run, in `origin`. */
  origName: string;
  origin: NicOrigin;
  /** The lab namespace it is moved into and its name there (the scenario interface's). */
  labNs: string;
  labName: string;
  ifindex: number;
  mtu: number;
  mac: string;
  up: boolean;
  promisc: boolean;
  /** ethtool short feature name → "on"/"off", for the features the lab pins (fixed ones left out). */
  offloads: Record<string, string>;
}

/** ethtool -k long names of the features OFFLOADS_OFF switches (by their -K short names). */
export const OFFLOAD_LONG_NAMES: Readonly<Record<string, string>> = {
  rx: "rx-checksumming",
  tx: "tx-checksumming",
  tso: "tcp-segmentation-offload",
  gso: "generic-segmentation-offload",
  gro: "generic-receive-offload",
  rxvlan: "rx-vlan-offload",
  txvlan: "tx-vlan-offload",
};

/** Parses `ethtool -k` output into short name → {on, fixed} for the pinned features. */
export function parseOffloads(text: string): Record<string, { on: boolean; fixed: boolean }> {
  const out: Record<string, { on: boolean; fixed: boolean }> = {};
  const byLong = new Map(Object.entries(OFFLOAD_LONG_NAMES).map(([s, l]) => [l, s]));
  for (const line of text.split("\n")) {
    const m = /^\s*([a-z0-9-]+):\s+(on|off)(\s+\[fixed\])?/.exec(line);
    const short = m?.[1] === undefined ? undefined : byLong.get(m[1]);
    if (m === null || short === undefined) continue;
    out[short] = { on: m[2] === "on", fixed: m[3] !== undefined };
  }
  return out;
}

interface LinkJson {
  ifindex: number;
  ifname: string;
  flags?: string[];
  mtu: number;
  address?: string;
  master?: string;
  link_type?: string;
  xdp?: { mode?: number; prog?: { id?: number }; attached?: Array<{ prog?: { id?: number } }> };
  addr_info?: Array<{ family: string; local: string; prefixlen: number; scope?: string }>;
}

function linkJson(ns: string | null, name: string): LinkJson | null {
  let out: string;
  try {
    out = ip(ns, ["-j", "-d", "addr", "show", "dev", name]);
  } catch {
    return null;
  }
  const j = JSON.parse(out) as LinkJson[];
  return j[0] ?? null;
}

/** What the lab needs to know about a NIC in this namespace, or null when there is none. */
export interface NicInfo {
  name: string;
  ifindex: number;
  mtu: number;
  mac: string;
  up: boolean;
  promisc: boolean;
  lowerUp: boolean;
  master: string | null;
  loopback: boolean;
  xdpProgId: number | null;
  /** Addresses other than IPv6 link-local ones, as "addr/len". */
  addrs: string[];
}

export function readNic(name: string, ns: string | null = null): NicInfo | null {
  const j = linkJson(ns, name);
  if (j === null) return null;
  const flags = j.flags ?? [];
  const xdpId = j.xdp?.prog?.id ?? j.xdp?.attached?.[0]?.prog?.id ?? null;
  return {
    name: j.ifname,
    ifindex: j.ifindex,
    mtu: j.mtu,
    mac: j.address ?? "",
    up: flags.includes("UP"),
    promisc: flags.includes("PROMISC"),
    lowerUp: flags.includes("LOWER_UP"),
    master: j.master ?? null,
    loopback: j.link_type === "loopback" || flags.includes("LOOPBACK"),
    xdpProgId: j.xdp === undefined ? null : xdpId ?? 0,
    addrs: (j.addr_info ?? []).filter((a) => !(a.family === "inet6" && a.scope === "link")).map((a) => `${a.local}/${a.prefixlen}`),
  };
}

/**
 * Pairs `--iface` and `--far` maps (scenario interface → NIC) in the scenario's interface
 * order. Every scenario interface needs both; a NIC may appear once over both maps.
 */
export function pairNics(ifaceNames: readonly string[], dut: ReadonlyMap<string, string>, far: ReadonlyMap<string, string>): NicPair[] {
  const pairs: NicPair[] = [];
  const seen = new Map<string, string>();
  for (const n of ifaceNames) {
    const d = dut.get(n);
    const f = far.get(n);
    if (d === undefined) throw new UsageError(`--iface must name a NIC for every scenario interface; ${n} is missing`);
    if (f === undefined) throw new UsageError(`--far must name the NIC cabled to ${d} (scenario interface ${n}); add ${n}=<NIC> to --far`);
    for (const [nic, what] of [[d, `--iface ${n}`], [f, `--far ${n}`]] as const) {
      const prev = seen.get(nic);
      if (prev !== undefined) throw new UsageError(`${nic} is named twice (${prev} and ${what}); each NIC may appear once`);
      seen.set(nic, what);
    }
    pairs.push({ iface: n, dut: d, far: f });
  }
  return pairs;
}

/**
 * Refuses (UsageError, exit 2) a NIC that does not exist in this namespace, is a loopback,
 * is a member of a bridge/bond/team/VRF, already has an XDP program, or has IP addresses
 * (IPv4, or IPv6 other than link-local: the kernel gives an up interface one by itself).
 * The default-route check is checkRealNics (live/run.ts).
 */
export function inspectNics(pairs: readonly NicPair[]): Map<string, NicInfo> {
  const out = new Map<string, NicInfo>();
  for (const p of pairs) {
    for (const [nic, flag] of [[p.dut, "--iface"], [p.far, "--far"]] as const) {
      const at = `${flag} ${p.iface}=${nic}`;
      const info = readNic(nic);
      if (info === null) throw new UsageError(`${at}: there is no interface ${nic} in this network namespace`);
      if (info.loopback) throw new UsageError(`${at}: ${nic} is a loopback interface, not a NIC`);
      if (info.master !== null) throw new UsageError(`${at}: ${nic} is a member of ${info.master} (a bridge, bond, team or VRF); take it out of ${info.master} first`);
      if (info.xdpProgId !== null) throw new UsageError(`${at}: ${nic} already has an XDP program attached (id ${info.xdpProgId}); the lab would detach it at teardown, so detach it yourself first`);
      if (info.addrs.length > 0) throw new UsageError(`${at}: ${nic} has IP addresses (${info.addrs.join(", ")}); the lab moves the NIC into its own namespace, which would take them away: use a NIC without addresses`);
      out.set(nic, info);
    }
  }
  return out;
}

function nsId(p: string): string | null {
  try {
    const s = statSync(p);
    return `${s.dev}:${s.ino}`;
  } catch {
    return null;
  }
}

/**
 * Whether the lab's namespaces (bind mounts under /run/netns) are visible outside this
 * process's mount namespace: /run/netns is not a mount point yet (the first `ip netns
 * add` makes it a shared one here), or it is one in a shared peer group. Under `ip netns
 * exec` it is a slave: mounts made there never reach the host.
 */
export function netnsMountsShared(mountinfo: string): boolean {
  let tags: string[] | null = null;
  for (const line of mountinfo.split("\n")) {
    const w = line.split(" ");
    if (w[4] !== "/run/netns") continue;
    const dash = w.indexOf("-");
    tags = w.slice(6, dash < 0 ? undefined : dash);
  }
  return tags === null || tags.some((t) => t.startsWith("shared:"));
}

/**
 * This process's network namespace as a named one (/run/netns/NAME) when it has a name,
 * else null (the caller names it for the run: `ip netns attach`). Refuses a private mount
 * namespace (as under `ip netns exec`): the lab's namespaces would exist only in it, so
 * after a kill -9 they would vanish with the process (a veth destroyed, a physical NIC
 * dropped into the initial namespace under its lab name) and no sweep could restore them.
 */
export function originNetns(): NicOrigin | null {
  let mi = "";
  try {
    mi = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    // no /proc/self/mountinfo: nothing to judge by
  }
  if (!netnsMountsShared(mi)) {
    throw new UsageError("--iface: /run/netns is not shared with the rest of the system here (a private mount namespace, as under 'ip netns exec'): after a crash the lab's namespaces would vanish with this process and the NICs could not be put back; to run from a named namespace use 'nsenter --net=/run/netns/NAME xdplab live …' instead");
  }
  const self = nsId("/proc/self/ns/net");
  if (self === null) throw new UsageError("--iface: cannot read this process's network namespace (/proc/self/ns/net)");
  let names: string[] = [];
  try {
    names = readdirSync("/run/netns").sort();
  } catch {
    // no named namespaces
  }
  for (const n of names) if (nsId(`/run/netns/${n}`) === self) return { path: `/run/netns/${n}`, id: self };
  return null;
}

/** Names this process's network namespace `name` (`ip netns attach`), so the sweep of a
 *  dead owner can find it again; removing the name later leaves the namespace alone. */
export function nameOwnNetns(name: string): NicOrigin {
  ip(null, ["netns", "attach", name, String(process.pid)]);
  const id = nsId(`/run/netns/${name}`);
  if (id === null || id !== nsId("/proc/self/ns/net")) throw new UsageError(`--iface: could not name this network namespace ${name}`);
  return { path: `/run/netns/${name}`, id };
}

/** Runs `ip args` inside the namespace at path (directly when it is this process's own). */
function ipInPath(origin: NicOrigin, args: readonly string[]): void {
  if (nsId("/proc/self/ns/net") === origin.id) ip(null, args);
  else run("nsenter", [`--net=${origin.path}`, "--", "ip", ...args]);
}

/** The record of nic as it is now, before the run touches it (offloads read with ethtool). */
export function nicRecord(info: NicInfo, role: "dut" | "far", origin: NicOrigin, labNs: string, labName: string): NicRecord {
  const offloads: Record<string, string> = {};
  try {
    for (const [k, v] of Object.entries(parseOffloads(run("ethtool", ["-k", info.name])))) if (!v.fixed) offloads[k] = v.on ? "on" : "off";
  } catch {
    // no ethtool features to restore
  }
  return { role, origName: info.name, origin, labNs, labName, ifindex: info.ifindex, mtu: info.mtu, mac: info.mac, up: info.up, promisc: info.promisc, offloads };
}

/**
 * Moves the NIC into its lab namespace under the scenario interface's name, then pins it
 * there: MTU, MAC (only when given), offloads off where the NIC lets them be changed,
 * the per-interface sysctls of a veth end, promiscuous on the DUT side (the veth lab hands
 * XDP every frame whatever its destination MAC; a NIC filters unless promiscuous), up.
 * Returns notes on what could not be pinned (fixed features).
 */
export function moveIn(rec: NicRecord, o: { mtu: number; mac: Uint8Array | null }): string[] {
  const notes: string[] = [];
  // One step, and nothing changed before it (the move itself sets the device down): a
  // crash leaves the NIC either untouched where it was or in the lab, never in between.
  try {
    ip(null, ["link", "set", "dev", rec.origName, "netns", rec.labNs, "name", rec.labName]);
  } catch (e) {
    throw new EnvironmentError(`cannot move ${rec.origName} into the lab's namespace ${rec.labNs} (some devices cannot change namespace): ${(e as Error).message}`);
  }
  const ns = rec.labNs;
  const dev = rec.labName;
  ip(ns, ["link", "set", "dev", dev, "mtu", String(o.mtu)]);
  if (o.mac !== null) ip(ns, ["link", "set", "dev", dev, "address", formatMac(o.mac)]);
  const off: string[] = [...OFFLOADS_OFF];
  try {
    inNetns(ns, "ethtool", ["-K", dev, ...off]);
  } catch {
    // Some NICs have fixed features: switch off one by one what can be switched.
    let now: Record<string, { on: boolean; fixed: boolean }> = {};
    try {
      now = parseOffloads(inNetns(ns, "ethtool", ["-k", dev]));
    } catch {
      // keep empty: every feature is tried
    }
    for (let i = 0; i < off.length; i += 2) {
      const k = off[i]!;
      const st = now[k];
      if (st !== undefined && !st.on) continue;
      if (st?.fixed === true) {
        notes.push(`${rec.origName}: ${OFFLOAD_LONG_NAMES[k] ?? k} is fixed on`);
        continue;
      }
      try {
        inNetns(ns, "ethtool", ["-K", dev, k, "off"]);
      } catch {
        notes.push(`${rec.origName}: could not switch ${OFFLOAD_LONG_NAMES[k] ?? k} off`);
      }
    }
  }
  const key = dev.replaceAll(".", "/");
  if (rec.role === "dut") {
    sysctl(ns, [
      [`net.ipv6.conf.${key}.accept_dad`, 0],
      [`net.ipv6.conf.${key}.addr_gen_mode`, 1],
      [`net.ipv6.conf.${key}.accept_ra`, 0],
      [`net.ipv6.conf.${key}.router_solicitations`, 0],
      [`net.ipv4.conf.${key}.rp_filter`, 0],
      [`net.ipv4.conf.${key}.send_redirects`, 0],
    ]);
    ip(ns, ["link", "set", "dev", dev, "promisc", "on"]);
  } else {
    sysctl(ns, [[`net.ipv6.conf.${key}.disable_ipv6`, 1]]);
  }
  ip(ns, ["link", "set", "dev", dev, "up"]);
  return notes;
}

/** Waits (bounded) until every named device reports carrier (LOWER_UP); a physical link
 *  renegotiates after a move and after an XDP attach. Returns the ones still without. */
export async function waitCarrier(devs: ReadonlyArray<{ netns: string; name: string }>, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const down = devs.filter((d) => readNic(d.name, d.netns)?.lowerUp !== true).map((d) => `${d.name} in ${d.netns}`);
    if (down.length === 0 || Date.now() >= deadline) return down;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function tryIp(ns: string | null, args: readonly string[]): boolean {
  try {
    ip(ns, args);
    return true;
  } catch {
    return false;
  }
}

/**
 * Puts a NIC back where it came from with its recorded name, MTU, MAC, promiscuity,
 * offloads and up/down state; detaches any XDP program first (a physical NIC would keep
 * it). Works from any namespace (the sweep of a dead owner). Never throws: returns the
 * problems met. A NIC not found in the lab namespace was never moved (or is already
 * back): nothing to do. If its origin namespace is gone it is left in the lab namespace:
 * deleting that returns a physical NIC to the initial namespace (a veth is destroyed).
 */
export function restoreNic(rec: NicRecord): string[] {
  const problems: string[] = [];
  const ns = rec.labNs;
  const dev = rec.labName;
  const what = `${rec.origName} (${dev} in ${ns})`;
  try {
    if (readNic(dev, ns) === null) return problems;
  } catch {
    return problems;
  }
  tryIp(ns, ["link", "set", "dev", dev, "xdpgeneric", "off"]);
  tryIp(ns, ["link", "set", "dev", dev, "xdpdrv", "off"]);
  if (!tryIp(ns, ["link", "set", "dev", dev, "down"])) problems.push(`${what}: could not set it down`);
  if (!tryIp(ns, ["link", "set", "dev", dev, "promisc", rec.promisc ? "on" : "off"])) problems.push(`${what}: could not restore promiscuity`);
  if (!tryIp(ns, ["link", "set", "dev", dev, "mtu", String(rec.mtu)])) problems.push(`${what}: could not restore MTU ${rec.mtu}`);
  if (rec.mac !== "" && !tryIp(ns, ["link", "set", "dev", dev, "address", rec.mac])) problems.push(`${what}: could not restore MAC ${rec.mac}`);
  const feats = Object.entries(rec.offloads).flat();
  if (feats.length > 0) {
    try {
      inNetns(ns, "ethtool", ["-K", dev, ...feats]);
    } catch {
      problems.push(`${what}: could not restore offloads (${feats.join(" ")})`);
    }
  }
  if (nsId(rec.origin.path) !== rec.origin.id) {
    problems.push(`${what}: its namespace ${rec.origin.path} is gone; left in ${ns} (deleting that returns a physical NIC to the initial namespace)`);
    return problems;
  }
  try {
    ip(ns, ["link", "set", "dev", dev, "netns", rec.origin.path, "name", rec.origName]);
  } catch (e) {
    problems.push(`${what}: could not move it back to ${rec.origin.path} as ${rec.origName}: ${(e as Error).message}`);
    return problems;
  }
  if (rec.up) {
    try {
      ipInPath(rec.origin, ["link", "set", "dev", rec.origName, "up"]);
    } catch (e) {
      problems.push(`${rec.origName}: back in ${rec.origin.path} but could not set it up: ${(e as Error).message}`);
    }
  }
  return problems;
}
