// Linux netfilter as the NAT oracle: turns a scenario's `nat` and `policy` sections into
// one nftables table for the DUT namespace of a LinuxRouterLab (interface SNAT as
// `masquerade`, pools as `snat to`, DNAT as `dnat to addr:port`, the policy as a
// stateful forward chain that drops `ct state invalid`), pins the conntrack sysctls the
// model's semantics assume, and records a router-side `tcpdump -i any` capture (SLL2).
// The rules are a translation, not a second model: what Linux then does with them is
// the oracle (docs/live-harness.md, "Linux with netfilter").
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { writeFileSync, unlinkSync, mkdtempSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { EnvironmentError, InputError } from "../sim/errors.js";
import type { DnatRule, IfAddr, PolicyRule, SnatRule } from "../sim/scenario/types.js";
import { formatIp } from "./addresses.js";
import { CommandFailed, inNetns, ip, tool } from "./exec.js";
import { sysctl } from "./netns.js";

/** What the netfilter translation reads; a parsed Scenario fits as is. */
export interface NetfilterSpec {
  file?: string;
  interfaces: ReadonlyArray<{ name: string }>;
  nat: { snat: readonly SnatRule[]; dnat: readonly DnatRule[] };
  policy: readonly PolicyRule[];
  defaultPolicy: "permit" | "deny";
}

/** The table every lab ruleset lives in (one table, both families). */
export const NFT_TABLE = "xdplab";

/**
 * Conntrack settings pinned in the DUT, each the kernel default and what docs/nat.md
 * models: loose pickup of mid-stream TCP, checksum verification at PREROUTING (a bad
 * checksum makes a packet invalid), window tracking on.
 */
export const CONNTRACK_SYSCTLS: ReadonlyArray<readonly [string, number]> = [
  ["net.netfilter.nf_conntrack_tcp_loose", 1],
  ["net.netfilter.nf_conntrack_checksum", 1],
  ["net.netfilter.nf_conntrack_tcp_be_liberal", 0],
];

const DEFAULT_RANGE: readonly [number, number] = [1024, 65535];

function fam(f: 4 | 6): "ip" | "ip6" {
  return f === 4 ? "ip" : "ip6";
}

function cidr(a: IfAddr): string {
  const full = a.family === 4 ? 32 : 128;
  return a.prefixLen === full ? formatIp(a.bytes) : `${formatIp(a.bytes)}/${a.prefixLen}`;
}

function l4(proto: number): string {
  switch (proto) {
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 1:
      return "icmp";
    case 58:
      return "ipv6-icmp";
    default:
      return String(proto);
  }
}

function ifName(spec: NetfilterSpec, i: number, file: string, field: string): string {
  const n = spec.interfaces[i]?.name;
  if (n === undefined) throw new InputError(file, field, `no interface with index ${i}`);
  return n;
}

/** First and last address of a prefix, as bytes. */
function bounds(a: IfAddr): [Uint8Array, Uint8Array] {
  const lo = Uint8Array.from(a.bytes);
  const hi = Uint8Array.from(a.bytes);
  for (let bit = a.prefixLen; bit < lo.length * 8; bit++) {
    const m = 0x80 >> (bit & 7);
    lo[bit >> 3] = (lo[bit >> 3] ?? 0) & ~m;
    hi[bit >> 3] = (hi[bit >> 3] ?? 0) | m;
  }
  return [lo, hi];
}

function succ(b: Uint8Array): Uint8Array {
  const r = Uint8Array.from(b);
  for (let i = r.length - 1; i >= 0; i--) {
    r[i] = ((r[i] ?? 0) + 1) & 0xff;
    if (r[i] !== 0) break;
  }
  return r;
}

const eq = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * A pool as one nft address range. `snat to` takes one range per rule, so the pool's
 * entries, in order, must be contiguous; otherwise the scenario cannot be built.
 */
function poolRange(pool: readonly IfAddr[], file: string, field: string): string {
  const first = pool[0];
  if (first === undefined) throw new InputError(file, field, "an empty pool");
  let [lo, hi] = bounds(first);
  for (let j = 1; j < pool.length; j++) {
    const [l, h] = bounds(pool[j]!);
    if (!eq(l, succ(hi))) throw new InputError(file, `${field}[${j}]`, `Linux's snat takes one address range: pool entries must be contiguous and ascending; ${cidr(pool[j]!)} does not follow ${formatIp(hi)}`);
    hi = h;
  }
  return eq(lo, hi) ? formatIp(lo) : `${formatIp(lo)}-${formatIp(hi)}`;
}

function snatRules(spec: NetfilterSpec, r: SnatRule, i: number, file: string): string[] {
  const field = `nat.snat[${i}]`;
  const match: string[] = [`oifname "${ifName(spec, r.egress, file, `${field}.egress`)}"`];
  if (r.from !== null) match.push(`${fam(r.from.family)} saddr ${cidr(r.from)}`);
  const ranged = r.portRange[0] !== DEFAULT_RANGE[0] || r.portRange[1] !== DEFAULT_RANGE[1];
  const ports = `${r.portRange[0]}-${r.portRange[1]}`;
  const out: string[] = [];
  // A port range needs a transport-protocol match in nft; protocols without ports take
  // the same rule without it (the model applies the range to ports only, too).
  const emit = (action: (withPorts: boolean) => string): void => {
    if (ranged) {
      out.push(`${match.join(" ")} meta l4proto { tcp, udp } ${action(true)}`);
      out.push(`${match.join(" ")} ${action(false)}`);
    } else out.push(`${match.join(" ")} ${action(false)}`);
  };
  if (r.to === "interface") {
    emit((p) => (p ? `masquerade to :${ports}` : "masquerade"));
  } else {
    const range = poolRange(r.to.pool, file, `${field}.to.pool`);
    const f = r.to.pool[0]!.family;
    if (r.from === null) match.push(`meta nfproto ${f === 4 ? "ipv4" : "ipv6"}`);
    const addr = f === 6 && !range.includes("-") ? `[${range}]` : range;
    emit((p) => (p ? `snat ${fam(f)} to ${f === 6 && range.includes("-") ? `[${range.replace("-", "]-[")}]` : addr}:${ports}` : `snat ${fam(f)} to ${range}`));
  }
  return out;
}

function dnatRule(spec: NetfilterSpec, r: DnatRule, i: number, file: string): string {
  const field = `nat.dnat[${i}]`;
  const f = r.dst.family;
  const parts = [`iifname "${ifName(spec, r.ingress, file, `${field}.ingress`)}"`, `${fam(f)} daddr ${formatIp(r.dst.bytes)}`];
  if (r.proto !== 0) parts.push(`meta l4proto ${l4(r.proto)}`);
  if (r.port !== null) parts.push(`th dport ${r.port}`);
  const to = formatIp(r.to.bytes);
  const target = r.toPort === null ? to : f === 6 ? `[${to}]:${r.toPort}` : `${to}:${r.toPort}`;
  parts.push(`dnat ${fam(f)} to ${target}`);
  return parts.join(" ");
}

function policyRule(spec: NetfilterSpec, r: PolicyRule, i: number, file: string): string {
  const field = `policy[${i}]`;
  const parts = ["ct state new"];
  if (r.ingress !== null) parts.push(`iifname "${ifName(spec, r.ingress, file, `${field}.ingress`)}"`);
  if (r.egress !== null) parts.push(`oifname "${ifName(spec, r.egress, file, `${field}.egress`)}"`);
  if (r.src !== null) parts.push(`${fam(r.src.family)} saddr ${cidr(r.src)}`);
  if (r.dst !== null) parts.push(`${fam(r.dst.family)} daddr ${cidr(r.dst)}`);
  if (r.proto !== null) parts.push(`meta l4proto ${l4(r.proto)}`);
  if (r.dport !== null) parts.push(`th dport ${r.dport[0] === r.dport[1] ? r.dport[0] : `${r.dport[0]}-${r.dport[1]}`}`);
  parts.push(r.action === "permit" ? "accept" : "drop");
  return parts.join(" ");
}

/**
 * The nftables ruleset (nft -f text) for a scenario. Priorities are the standard ones
 * (dstnat −100, filter 0, srcnat 100), so the hooks run in netfilter's order: DNAT
 * before routing, the policy in FORWARD, SNAT after routing.
 */
export function nftRuleset(spec: NetfilterSpec): string {
  const file = spec.file ?? "<scenario>";
  const pre = spec.nat.dnat.map((r, i) => dnatRule(spec, r, i, file));
  const post = spec.nat.snat.flatMap((r, i) => snatRules(spec, r, i, file));
  const fwd = [
    // A packet conntrack cannot place (a SYN-ACK or bare FIN without a session, an
    // out-of-window segment, a bad checksum, an error quoting no connection) is dropped
    // rather than forwarded untranslated.
    "ct state invalid drop",
    "ct state established,related accept",
    ...spec.policy.map((r, i) => policyRule(spec, r, i, file)),
    ...(spec.defaultPolicy === "deny" ? ["ct state new drop"] : []),
  ];
  const chain = (name: string, hook: string, prio: string, type: string, rules: string[]): string =>
    [`  chain ${name} {`, `    type ${type} hook ${hook} priority ${prio}; policy accept;`, ...rules.map((r) => `    ${r}`), "  }"].join("\n");
  return [
    `table inet ${NFT_TABLE} {`,
    chain("prerouting", "prerouting", "dstnat", "nat", pre),
    chain("forward", "forward", "filter", "filter", fwd),
    chain("postrouting", "postrouting", "srcnat", "nat", post),
    "}",
    "",
  ].join("\n");
}

function nftAvailable(): void {
  try {
    tool("nft");
  } catch {
    throw new EnvironmentError("the netfilter oracle needs the 'nft' command; install nftables (apt-get install nftables)");
  }
}

/** Loads the scenario's ruleset into namespace ns and pins the conntrack sysctls. */
export function applyNetfilter(ns: string, spec: NetfilterSpec): string {
  nftAvailable();
  const text = nftRuleset(spec);
  const dir = mkdtempSync(path.join(tmpdir(), "xdplab-nft-"));
  const f = path.join(dir, "ruleset.nft");
  writeFileSync(f, text);
  try {
    inNetns(ns, "nft", ["-f", f]);
  } catch (err) {
    if (err instanceof CommandFailed) {
      throw new InputError(spec.file ?? "<scenario>", "nat", `nftables refused the translated ruleset: ${err.stderr.trim().split("\n")[0] ?? ""}\n${text}`);
    }
    throw err;
  } finally {
    unlinkSync(f);
    rmdirSync(dir);
  }
  // nf_conntrack is loaded by now (the nat chains need it), so its sysctls exist.
  sysctl(ns, CONNTRACK_SYSCTLS);
  return text;
}

/** The DUT's kernel ifindexes → scenario interface index (for `traffic.ifindex`). */
export function dutIfindexes(ns: string, names: readonly string[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of ip(ns, ["-o", "link", "show"]).split("\n")) {
    const m = /^(\d+):\s+([^:@\s]+)/.exec(line);
    if (m === null) continue;
    const i = names.indexOf(m[2] ?? "");
    if (i >= 0) out.set(Number(m[1]), i);
  }
  return out;
}

/** A running `tcpdump -i any` inside a namespace (LINKTYPE_LINUX_SLL2, ns timestamps). */
export interface AnyCapture {
  /** Stops tcpdump (SIGINT: it flushes) and resolves once the file is complete. */
  stop(): Promise<void>;
}

/**
 * Starts `tcpdump -i any` in ns writing `out`; resolves when tcpdump says it listens, so
 * nothing sent afterwards is missed. Bounded: tcpdump is killed after `maxMs`.
 */
export async function startAnyCapture(ns: string, out: string, maxMs = 60_000): Promise<AnyCapture> {
  const td = tool("tcpdump");
  const child: ChildProcess = spawn(tool("ip"), ["netns", "exec", ns, td, "-i", "any", "--immediate-mode", "-y", "LINUX_SLL2", "-n", "-U", "-s", "0", "--time-stamp-precision", "nano", "-w", out], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  const guard = setTimeout(() => child.kill("SIGKILL"), maxMs);
  let err = "";
  await new Promise<void>((resolve, reject) => {
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
      if (err.includes("listening on")) resolve();
    });
    child.on("error", reject);
    void exited.then((c) => reject(new EnvironmentError(`tcpdump -i any in ${ns} exited (${c}) before listening: ${err.trim()}`)));
  });
  return {
    async stop(): Promise<void> {
      child.kill("SIGINT");
      await exited;
      clearTimeout(guard);
    },
  };
}
