// Namespace and veth primitives with the kernel settings DESIGN §8 pins, so the kernels
// inside the lab never take part by accident: offloads off on every veth, no IPv6 DAD,
// no link-local addresses (and so no router solicitations or ND from the lab's own
// interfaces), no IPv6 at all on far sides, forwarding exactly as the caller asks.
// Every veth is created directly inside its namespaces: nothing appears in the
// caller's namespace, even for a moment.
import { formatMac } from "./addresses.js";
import { inNetns, ip, run } from "./exec.js";

/** Offloads switched off on every veth end (all are changeable on veth). */
export const OFFLOADS_OFF = ["rx", "off", "tx", "off", "tso", "off", "gso", "off", "gro", "off", "rxvlan", "off", "txvlan", "off"] as const;

export function addNetns(name: string): void {
  ip(null, ["netns", "add", name]);
}

export function delNetns(name: string): void {
  ip(null, ["netns", "del", name]);
}

export function sysctl(ns: string, settings: ReadonlyArray<readonly [string, string | number]>): void {
  if (settings.length === 0) return;
  inNetns(ns, "sysctl", ["-q", "-w", ...settings.map(([k, v]) => `${k}=${v}`)]);
}

/** Settings of a device-under-test namespace; applied before any interface exists so
 *  `default.*` reaches every interface created later. */
export function dutSysctls(ipForward: boolean): Array<[string, string | number]> {
  const fwd = ipForward ? 1 : 0;
  return [
    ["net.ipv4.ip_forward", fwd],
    ["net.ipv6.conf.all.forwarding", fwd],
    ["net.ipv6.conf.default.forwarding", fwd],
    ["net.ipv4.conf.all.rp_filter", 0],
    ["net.ipv4.conf.default.rp_filter", 0],
    // A redirect is a Linux extra the model does not produce; keep it off the wire.
    ["net.ipv4.conf.all.send_redirects", 0],
    ["net.ipv4.conf.default.send_redirects", 0],
    ["net.ipv6.conf.all.accept_dad", 0],
    ["net.ipv6.conf.default.accept_dad", 0],
    ["net.ipv6.conf.all.accept_ra", 0],
    ["net.ipv6.conf.default.accept_ra", 0],
    ["net.ipv6.conf.all.router_solicitations", 0],
    ["net.ipv6.conf.default.router_solicitations", 0],
    // 1 = no automatic link-local address: nothing to run DAD or ND for.
    ["net.ipv6.conf.default.addr_gen_mode", 1],
    // ICMP errors must be deterministic: no per-destination or global rate limit.
    ["net.ipv4.icmp_ratelimit", 0],
    ["net.ipv4.icmp_msgs_per_sec", 1_000_000],
    ["net.ipv4.icmp_msgs_burst", 1_000_000],
    ["net.ipv6.icmp.ratelimit", 0],
  ];
}

/** Far sides speak only through packet sockets: no IPv6, no addresses. */
export function peerSysctls(): Array<[string, string | number]> {
  return [
    ["net.ipv4.ip_forward", 0],
    ["net.ipv6.conf.all.disable_ipv6", 1],
    ["net.ipv6.conf.default.disable_ipv6", 1],
  ];
}

export interface VethEnd {
  netns: string;
  name: string;
  mac: Uint8Array;
  mtu: number;
}

/** One veth pair, each end born in its own namespace, MAC and MTU set, still down. */
export function addVethPair(a: VethEnd, b: VethEnd): void {
  ip(a.netns, [
    "link", "add", "name", a.name, "mtu", String(a.mtu), "address", formatMac(a.mac),
    "type", "veth",
    "peer", "name", b.name, "netns", b.netns, "mtu", String(b.mtu), "address", formatMac(b.mac),
  ]);
}

/** Pins one veth end: offloads off, per-interface IPv6 knobs (the defaults may have been
 *  inherited before the namespace-wide settings landed), then link up. */
export function pinAndUp(end: VethEnd, role: "dut" | "peer", gro: boolean): void {
  const offloads: string[] = [...OFFLOADS_OFF];
  if (gro) offloads.splice(offloads.indexOf("gro") + 1, 1, "on");
  inNetns(end.netns, "ethtool", ["-K", end.name, ...offloads]);
  // sysctl separates keys with '.', so a '.' inside an interface name is written '/'.
  const key = end.name.replaceAll(".", "/");
  const conf = `net.ipv6.conf.${key}`;
  if (role === "dut") {
    sysctl(end.netns, [
      [`${conf}.accept_dad`, 0],
      [`${conf}.addr_gen_mode`, 1],
      [`${conf}.accept_ra`, 0],
      [`${conf}.router_solicitations`, 0],
      [`net.ipv4.conf.${key}.rp_filter`, 0],
      [`net.ipv4.conf.${key}.send_redirects`, 0],
    ]);
  } else {
    sysctl(end.netns, [[`${conf}.disable_ipv6`, 1]]);
  }
  ip(end.netns, ["link", "set", "dev", end.name, "up"]);
}

export function loUp(ns: string): void {
  ip(ns, ["link", "set", "dev", "lo", "up"]);
}

/** The links of a namespace (names), for tests and diagnostics. */
export function linkNames(ns: string): string[] {
  const out = run("ip", ["-n", ns, "-o", "link", "show"]);
  return out
    .split("\n")
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? "")
    .filter((n) => n !== "");
}
