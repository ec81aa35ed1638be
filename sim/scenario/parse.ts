// Scenario validation: raw JSON/YAML value → Scenario (types.ts). Owns every rule of
// the format (docs/scenario.md) and the wording of its errors: each one names the file
// and the field path ("interfaces[1].mtu"), what was expected and what was found.
// Pure: the caller reads the file; `dir` only resolves the capture path.
import { InputError } from "../errors.js";
import { formatIp, formatMac, hasHostBits, maskPrefix, parseCidr, parseIp, parseMac, prefixContains } from "./addr.js";
import {
  DATAPLANE_DEFAULTS,
  DEFAULT_SEED,
  GENERATOR_DEFAULTS,
  IFACE_DEFAULTS,
  MAX_QUEUES,
  PAGE_SIZE,
  SNAT_PORT_RANGE,
  TIMING_DEFAULTS,
  XDP_PACKET_HEADROOM,
  XDP_UMEM_MIN_CHUNK_SIZE,
} from "./defaults.js";
import { parseDuration, typeName } from "./duration.js";
import { BUG_NAMES, FAULT_KINDS } from "./types.js";
import type {
  BugName,
  DataplaneCfg,
  DnatRule,
  Family,
  FaultCfg,
  FaultKind,
  GeneratorCfg,
  IfAddr,
  IfaceCfg,
  NeighborCfg,
  PolicyRule,
  RouteCfg,
  Scenario,
  SnatRule,
  TimingCfg,
  TrafficCfg,
} from "./types.js";

type Obj = Record<string, unknown>;

const PROTO_NAMES: Readonly<Record<string, number>> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58, ipv6icmp: 58, any: 0 };

class Ctx {
  constructor(readonly file: string) {}

  fail(path: string, problem: string): never {
    throw new InputError(this.file, path, problem);
  }

  obj(v: unknown, path: string, allowed: readonly string[]): Obj {
    if (typeof v !== "object" || v === null || Array.isArray(v)) this.fail(path, `expected an object, found ${typeName(v)}`);
    const o = v as Obj;
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) this.fail(join(path, k), `unknown field; expected one of ${allowed.join(", ")}`);
    }
    return o;
  }

  arr(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `expected an array, found ${typeName(v)}`);
    return v;
  }

  str(v: unknown, path: string): string {
    if (typeof v !== "string") this.fail(path, `expected a string, found ${typeName(v)}`);
    return v;
  }

  bool(v: unknown, path: string): boolean {
    if (typeof v !== "boolean") this.fail(path, `expected true or false, found ${typeName(v)}`);
    return v;
  }

  int(v: unknown, path: string, min: number, max: number): number {
    if (typeof v !== "number") this.fail(path, `expected a number, found ${typeName(v)}`);
    if (!Number.isInteger(v)) this.fail(path, `expected an integer, found ${v}`);
    if (v < min || v > max) this.fail(path, `expected an integer in ${min}..${max}, found ${v}`);
    return v;
  }

  num(v: unknown, path: string, min: number): number {
    if (typeof v !== "number") this.fail(path, `expected a number, found ${typeName(v)}`);
    if (!Number.isFinite(v) || v < min) this.fail(path, `expected a number ≥ ${min}, found ${v}`);
    return v;
  }

  oneOf<T extends string>(v: unknown, path: string, options: readonly T[]): T {
    const s = this.str(v, path);
    if (!(options as readonly string[]).includes(s)) this.fail(path, `expected one of ${options.join(", ")}, found "${s}"`);
    return s as T;
  }

  duration(v: unknown, path: string): number {
    const r = parseDuration(v);
    if (typeof r === "string") this.fail(path, r);
    return r;
  }

  ip(v: unknown, path: string): { family: Family; bytes: Uint8Array } {
    const s = this.str(v, path);
    const ip = parseIp(s);
    if (ip === null) this.fail(path, `expected an IPv4 or IPv6 address, found "${s}"`);
    return ip;
  }

  cidr(v: unknown, path: string): IfAddr {
    const s = this.str(v, path);
    const c = parseCidr(s);
    if (c === null) this.fail(path, `expected an address with prefix like "198.18.1.1/24" or "2001:2::1/64", found "${s}"`);
    return c;
  }

  mac(v: unknown, path: string): Uint8Array {
    const s = this.str(v, path);
    const m = parseMac(s);
    if (m === null) this.fail(path, `expected a MAC address like "02:00:00:00:01:01", found "${s}"`);
    return m;
  }
}

function join(path: string, key: string): string {
  if (path === "") return key;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}["${key}"]`;
}

function isPow2(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function baseName(file: string): string {
  const b = file.slice(file.lastIndexOf("/") + 1);
  const dot = b.lastIndexOf(".");
  return dot > 0 ? b.slice(0, dot) : b;
}

/** Joins a capture path to the scenario's directory, like path.resolve without node:path. */
export function resolvePath(dir: string, p: string): string {
  const full = p.startsWith("/") ? p : `${dir.replace(/\/+$/, "")}/${p}`;
  const out: string[] = [];
  for (const seg of full.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return "/" + out.join("/");
}

const TOP = ["name", "seed", "description", "interfaces", "neighbors", "routes", "nat", "policy", "dataplane", "timing", "bugs", "faults", "traffic"] as const;

export function parseScenario(obj: unknown, file: string, dir: string): Scenario {
  const c: Ctx = new Ctx(file);
  const o = c.obj(obj, "", TOP);
  const name = o.name === undefined ? baseName(file) : c.str(o.name, "name");
  const seed = o.seed === undefined ? DEFAULT_SEED : c.int(o.seed, "seed", 0, 0xffffffff);
  const description = o.description === undefined ? "" : c.str(o.description, "description");

  if (o.interfaces === undefined) c.fail("interfaces", "required field is missing; a scenario needs at least one interface");
  const interfaces = parseInterfaces(c, o.interfaces);
  const byName = new Map<string, number>();
  for (const ifc of interfaces) byName.set(ifc.name, ifc.index);
  const ifRef = (v: unknown, path: string): number => {
    const s = c.str(v, path);
    const i = byName.get(s);
    if (i === undefined) c.fail(path, `no interface named "${s}"; interfaces are ${interfaces.map((x) => x.name).join(", ")}`);
    return i;
  };
  // An address's interface when none is named: the one whose connected subnet holds it.
  const onLink = (ip: { family: Family; bytes: Uint8Array }): number | null => {
    for (const ifc of interfaces) for (const a of ifc.addrs) if (a.family === ip.family && prefixContains(a.bytes, a.prefixLen, ip.bytes)) return ifc.index;
    return null;
  };

  const timing = parseTiming(c, o.timing, interfaces, ifRef);
  const dataplane = parseDataplane(c, o.dataplane);
  const bugs = parseBugs(c, o.bugs);
  checkRings(c, dataplane, bugs);
  for (const ifc of interfaces) checkMtu(c, ifc, dataplane);

  const neighbors = parseNeighbors(c, o.neighbors, ifRef, onLink);
  const routes = parseRoutes(c, o.routes, interfaces, ifRef, onLink);
  const nat = parseNat(c, o.nat, ifRef);
  const { rules: policy, dflt: defaultPolicy } = parsePolicy(c, o.policy, ifRef);
  const faults = parseFaults(c, o.faults, ifRef, interfaces);
  const traffic = parseTraffic(c, o.traffic, dir, interfaces, ifRef);

  return { file, dir, name, seed, description, interfaces, neighbors, routes, nat, policy, defaultPolicy, dataplane, timing, bugs, faults, traffic };
}

function parseInterfaces(c: Ctx, v: unknown): IfaceCfg[] {
  const list = c.arr(v, "interfaces");
  if (list.length === 0) c.fail("interfaces", "expected at least one interface, found an empty array");
  const seen = new Map<string, number>();
  return list.map((raw, index) => {
    const p = `interfaces[${index}]`;
    const o = c.obj(raw, p, ["name", "mac", "addrs", "queues", "mtu"]);
    if (o.name === undefined) c.fail(`${p}.name`, "required field is missing");
    const name = c.str(o.name, `${p}.name`);
    // IFNAMSIZ is 16 with the NUL; the names live on as pcapng if_name and file names.
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name)) c.fail(`${p}.name`, `expected 1-15 characters from A-Z a-z 0-9 _ . -, found "${name}"`);
    const prev = seen.get(name);
    if (prev !== undefined) c.fail(`${p}.name`, `duplicate interface name "${name}" (also interfaces[${prev}])`);
    seen.set(name, index);
    let mac: Uint8Array;
    if (o.mac === undefined) mac = Uint8Array.of(...IFACE_DEFAULTS.macPrefix, (index + 1) & 0xff, 0x01);
    else {
      mac = c.mac(o.mac, `${p}.mac`);
      if ((mac[0]! & 1) !== 0) c.fail(`${p}.mac`, `expected a unicast MAC (lowest bit of the first byte clear), found "${o.mac as string}"`);
    }
    const addrs = o.addrs === undefined ? [] : c.arr(o.addrs, `${p}.addrs`).map((a, j) => c.cidr(a, `${p}.addrs[${j}]`));
    const queues = o.queues === undefined ? IFACE_DEFAULTS.queues : c.int(o.queues, `${p}.queues`, 1, MAX_QUEUES);
    const mtu = o.mtu === undefined ? IFACE_DEFAULTS.mtu : c.int(o.mtu, `${p}.mtu`, 68, 65535);
    if (mtu < 1280 && addrs.some((a) => a.family === 6)) c.fail(`${p}.mtu`, `an interface with IPv6 addresses needs an MTU of at least 1280 (RFC 8200), found ${mtu}`);
    return { index, name, ifindex: index + 2, mac, macText: formatMac(mac), addrs, queues, mtu, linkBps: IFACE_DEFAULTS.linkBps };
  });
}

function parseTiming(c: Ctx, v: unknown, ifs: IfaceCfg[], ifRef: (v: unknown, p: string) => number): TimingCfg {
  const t: TimingCfg = { ...TIMING_DEFAULTS };
  if (v === undefined) return t;
  const o = c.obj(v, "timing", ["linkBps", "pollNs", "perPacketNs", "seriesNs", "drainNs", "kickNs", "reapEvery", "respondNs", "timerNs"]);
  if (o.linkBps !== undefined) {
    const m = c.obj(o.linkBps, "timing.linkBps", ifs.map((i) => i.name));
    for (const [k, bps] of Object.entries(m)) {
      const idx = ifRef(k, join("timing.linkBps", k));
      const n = c.num(bps, join("timing.linkBps", k), 1);
      ifs[idx]!.linkBps = n;
    }
  }
  for (const k of ["pollNs", "perPacketNs", "seriesNs", "drainNs", "kickNs", "respondNs", "timerNs"] as const) {
    if (o[k] !== undefined) t[k] = c.duration(o[k], `timing.${k}`);
  }
  if (t.pollNs === 0) c.fail("timing.pollNs", "expected a poll interval > 0 ns, found 0");
  if (t.seriesNs === 0) c.fail("timing.seriesNs", "expected a series interval > 0 ns, found 0");
  if (t.timerNs === 0) c.fail("timing.timerNs", "expected a session-timer period > 0 ns, found 0");
  if (o.reapEvery !== undefined) t.reapEvery = c.int(o.reapEvery, "timing.reapEvery", 1, 1_000_000);
  return t;
}

function parseDataplane(c: Ctx, v: unknown): DataplaneCfg {
  const d: DataplaneCfg = { ...DATAPLANE_DEFAULTS, rings: { ...DATAPLANE_DEFAULTS.rings } };
  if (v === undefined) return d;
  const o = c.obj(v, "dataplane", Object.keys(DATAPLANE_DEFAULTS));
  const P = "dataplane";
  if (o.armed !== undefined) d.armed = c.bool(o.armed, `${P}.armed`);
  if (o.driver !== undefined) d.driver = c.oneOf(o.driver, `${P}.driver`, ["veth", "generic", "zerocopy"] as const);
  if (o.attach !== undefined) d.attach = c.oneOf(o.attach, `${P}.attach`, ["native", "generic"] as const);
  if (o.bindMode !== undefined) d.bindMode = c.oneOf(o.bindMode, `${P}.bindMode`, ["copy", "zerocopy"] as const);
  if (o.strict !== undefined) d.strict = c.bool(o.strict, `${P}.strict`);
  if (o.abiVersion !== undefined) d.abiVersion = c.int(o.abiVersion, `${P}.abiVersion`, 0, 0xffff);
  if (o.heartbeatTimeoutNs !== undefined) d.heartbeatTimeoutNs = c.duration(o.heartbeatTimeoutNs, `${P}.heartbeatTimeoutNs`);
  if (o.rings !== undefined) {
    const r = c.obj(o.rings, `${P}.rings`, ["rx", "tx", "fill", "comp"]);
    for (const k of ["rx", "tx", "fill", "comp"] as const) {
      if (r[k] !== undefined) d.rings[k] = c.int(r[k], `${P}.rings.${k}`, 1, 1 << 24);
    }
  }
  if (o.frames !== undefined) d.frames = c.int(o.frames, `${P}.frames`, 1, 1 << 24);
  if (o.frameSize !== undefined) d.frameSize = c.int(o.frameSize, `${P}.frameSize`, 1, 1 << 16);
  if (o.headroom !== undefined) d.headroom = c.int(o.headroom, `${P}.headroom`, 0, 1 << 16);
  if (o.batch !== undefined) d.batch = c.int(o.batch, `${P}.batch`, 1, 1 << 16);
  if (o.maxPendingTx !== undefined) d.maxPendingTx = c.int(o.maxPendingTx, `${P}.maxPendingTx`, 1, 1 << 24);
  if (o.txBudget !== undefined) d.txBudget = c.int(o.txBudget, `${P}.txBudget`, 1, 1 << 16);
  if (o.neighHoldNs !== undefined) d.neighHoldNs = c.duration(o.neighHoldNs, `${P}.neighHoldNs`);
  if (o.neighHoldMax !== undefined) d.neighHoldMax = c.int(o.neighHoldMax, `${P}.neighHoldMax`, 0, 1 << 20);
  if (o.icmpErrors !== undefined) d.icmpErrors = c.bool(o.icmpErrors, `${P}.icmpErrors`);
  // Aligned UMEM chunks: a power of two from 2048 to the page size (xdp_umem_reg).
  if (!isPow2(d.frameSize) || d.frameSize < XDP_UMEM_MIN_CHUNK_SIZE || d.frameSize > PAGE_SIZE) {
    c.fail(`${P}.frameSize`, `expected a power of two from ${XDP_UMEM_MIN_CHUNK_SIZE} to ${PAGE_SIZE} (aligned UMEM chunk), found ${d.frameSize}`);
  }
  // xdp_umem_reg refuses headroom ≥ chunk size − XDP_PACKET_HEADROOM.
  if (d.headroom >= d.frameSize - XDP_PACKET_HEADROOM) {
    c.fail(`${P}.headroom`, `expected less than frameSize − ${XDP_PACKET_HEADROOM} = ${d.frameSize - XDP_PACKET_HEADROOM}, found ${d.headroom}`);
  }
  if (d.bindMode === "zerocopy" && d.driver !== "zerocopy") {
    c.fail(`${P}.bindMode`, `zerocopy binding needs driver "zerocopy" (a veth or generic-XDP device binds in copy mode only), found driver "${d.driver}"`);
  }
  return d;
}

function checkRings(c: Ctx, d: DataplaneCfg, bugs: Record<BugName, boolean>): void {
  if (!bugs.nonPow2Rings) {
    for (const k of ["rx", "tx", "fill", "comp"] as const) {
      const n = d.rings[k];
      if (!isPow2(n)) c.fail(`dataplane.rings.${k}`, `expected a power of two (the kernel's setsockopt refuses other sizes with EINVAL), found ${n}`);
    }
  }
  // The worker must be able to fill a full RX ring while a full TX ring is outstanding,
  // or ring-full and TX-stall behaviour would depend on the frame count, not the rings.
  const need = d.rings.rx + d.rings.tx;
  if (d.frames < need) c.fail("dataplane.frames", `expected at least rings.rx + rings.tx = ${need} frames, found ${d.frames}`);
}

function checkMtu(c: Ctx, ifc: IfaceCfg, d: DataplaneCfg): void {
  // A frame (MTU + Ethernet + one VLAN tag) must fit the UMEM chunk after the headroom.
  const room = d.frameSize - XDP_PACKET_HEADROOM - d.headroom;
  if (ifc.mtu + 18 > room) {
    c.fail(`interfaces[${ifc.index}].mtu`, `MTU ${ifc.mtu} + 18 bytes of Ethernet/VLAN header does not fit a ${d.frameSize}-byte frame after ${XDP_PACKET_HEADROOM} + ${d.headroom} bytes of headroom (room ${room})`);
  }
}

function parseBugs(c: Ctx, v: unknown): Record<BugName, boolean> {
  const bugs = Object.fromEntries(BUG_NAMES.map((b) => [b, false])) as Record<BugName, boolean>;
  if (v === undefined) return bugs;
  const o = c.obj(v, "bugs", BUG_NAMES);
  for (const [k, b] of Object.entries(o)) bugs[k as BugName] = c.bool(b, join("bugs", k));
  return bugs;
}

function parseNeighbors(
  c: Ctx,
  v: unknown,
  ifRef: (v: unknown, p: string) => number,
  onLink: (ip: { family: Family; bytes: Uint8Array }) => number | null,
): NeighborCfg[] {
  if (v === undefined) return [];
  return c.arr(v, "neighbors").map((raw, i) => {
    const p = `neighbors[${i}]`;
    const o = c.obj(raw, p, ["ip", "mac", "iface", "at"]);
    if (o.ip === undefined) c.fail(`${p}.ip`, "required field is missing");
    if (o.mac === undefined) c.fail(`${p}.mac`, "required field is missing");
    const ip = c.ip(o.ip, `${p}.ip`);
    const mac = c.mac(o.mac, `${p}.mac`);
    let iface: number;
    if (o.iface !== undefined) iface = ifRef(o.iface, `${p}.iface`);
    else {
      const l = onLink(ip);
      if (l === null) c.fail(`${p}.iface`, `required: ${formatIp(ip.bytes)} is in no interface's subnet`);
      iface = l;
    }
    const atNs = o.at === undefined ? 0 : c.duration(o.at, `${p}.at`);
    return { family: ip.family, ip: ip.bytes, ipText: formatIp(ip.bytes), mac, iface, atNs };
  });
}

function parseRoutes(
  c: Ctx,
  v: unknown,
  ifs: IfaceCfg[],
  ifRef: (v: unknown, p: string) => number,
  onLink: (ip: { family: Family; bytes: Uint8Array }) => number | null,
): RouteCfg[] {
  const routes: RouteCfg[] = [];
  for (const ifc of ifs) {
    for (const a of ifc.addrs) {
      routes.push({ family: a.family, prefix: maskPrefix(a.bytes, a.prefixLen), prefixLen: a.prefixLen, via: null, viaText: null, iface: ifc.index, metric: 0, connected: true });
    }
  }
  if (v === undefined) return routes;
  c.arr(v, "routes").forEach((raw, i) => {
    const p = `routes[${i}]`;
    const o = c.obj(raw, p, ["prefix", "via", "iface", "metric"]);
    if (o.prefix === undefined) c.fail(`${p}.prefix`, "required field is missing");
    const pre = o.prefix === "default" ? parseCidr("0.0.0.0/0")! : c.cidr(o.prefix, `${p}.prefix`);
    // Like `ip route add`: a prefix with host bits set is refused rather than masked.
    if (hasHostBits(pre.bytes, pre.prefixLen)) {
      c.fail(`${p}.prefix`, `host bits set; did you mean ${formatIp(maskPrefix(pre.bytes, pre.prefixLen))}/${pre.prefixLen}?`);
    }
    let via: { family: Family; bytes: Uint8Array } | null = null;
    if (o.via !== undefined && o.via !== null) {
      via = c.ip(o.via, `${p}.via`);
      if (via.family !== pre.family) c.fail(`${p}.via`, `gateway ${formatIp(via.bytes)} is IPv${via.family}, the prefix is IPv${pre.family}`);
    }
    let iface: number;
    if (o.iface !== undefined) iface = ifRef(o.iface, `${p}.iface`);
    else {
      if (via === null) c.fail(`${p}.iface`, "required when the route has no gateway (via)");
      const l = onLink(via);
      if (l === null) c.fail(`${p}.iface`, `required: gateway ${formatIp(via.bytes)} is in no interface's subnet`);
      iface = l;
    }
    const metric = o.metric === undefined ? 0 : c.int(o.metric, `${p}.metric`, 0, 0xffffffff);
    routes.push({ family: pre.family, prefix: pre.bytes, prefixLen: pre.prefixLen, via: via?.bytes ?? null, viaText: via === null ? null : formatIp(via.bytes), iface, metric, connected: false });
  });
  return routes;
}

function parsePortRange(c: Ctx, v: unknown, path: string): [number, number] {
  if (typeof v === "number") {
    const n = c.int(v, path, 0, 65535);
    return [n, n];
  }
  let lo: unknown;
  let hi: unknown;
  if (typeof v === "string") {
    const m = /^(\d+)\s*-\s*(\d+)$/.exec(v);
    if (m === null) c.fail(path, `expected a port, [low, high] or "low-high", found "${v}"`);
    lo = Number(m[1]);
    hi = Number(m[2]);
  } else {
    const a = c.arr(v, path);
    if (a.length !== 2) c.fail(path, `expected [low, high], found an array of ${a.length}`);
    lo = a[0];
    hi = a[1];
  }
  const l = c.int(lo, `${path}[0]`, 0, 65535);
  const h = c.int(hi, `${path}[1]`, 0, 65535);
  if (l > h) c.fail(path, `low port ${l} is above high port ${h}`);
  return [l, h];
}

function parseProto(c: Ctx, v: unknown, path: string): number {
  if (typeof v === "number") return c.int(v, path, 0, 255);
  const s = c.str(v, path).toLowerCase();
  const n = PROTO_NAMES[s];
  if (n === undefined) c.fail(path, `expected tcp, udp, icmp, icmpv6, any or a protocol number, found "${s}"`);
  return n;
}

function parseNat(c: Ctx, v: unknown, ifRef: (v: unknown, p: string) => number): { snat: SnatRule[]; dnat: DnatRule[] } {
  const nat = { snat: [] as SnatRule[], dnat: [] as DnatRule[] };
  if (v === undefined) return nat;
  const o = c.obj(v, "nat", ["snat", "dnat"]);
  if (o.snat !== undefined) {
    nat.snat = c.arr(o.snat, "nat.snat").map((raw, i) => {
      const p = `nat.snat[${i}]`;
      const r = c.obj(raw, p, ["from", "egress", "to", "portRange"]);
      if (r.egress === undefined) c.fail(`${p}.egress`, "required field is missing");
      const egress = ifRef(r.egress, `${p}.egress`);
      const from = r.from === undefined || r.from === "any" ? null : c.cidr(r.from, `${p}.from`);
      let to: SnatRule["to"] = "interface";
      if (r.to !== undefined && r.to !== "interface") {
        // "to" is "interface", one address, a list of addresses/prefixes, or { pool: [...] }.
        let listPath = `${p}.to`;
        let raw: unknown = r.to;
        if (typeof raw === "object" && raw !== null && !Array.isArray(raw)) {
          raw = c.obj(raw, listPath, ["pool"]).pool;
          listPath = `${p}.to.pool`;
        }
        const list = typeof raw === "string" ? [raw] : c.arr(raw, listPath);
        if (list.length === 0) c.fail(listPath, "expected \"interface\" or a non-empty pool of addresses");
        const pool = list.map((a, j) => c.cidr(a, typeof raw === "string" ? listPath : `${listPath}[${j}]`));
        if (from !== null) {
          for (let j = 0; j < pool.length; j++) if (pool[j]!.family !== from.family) c.fail(typeof raw === "string" ? listPath : `${listPath}[${j}]`, `pool address is IPv${pool[j]!.family}, "from" is IPv${from.family}`);
        }
        to = { pool };
      }
      const portRange = r.portRange === undefined ? ([...SNAT_PORT_RANGE] as [number, number]) : parsePortRange(c, r.portRange, `${p}.portRange`);
      if (portRange[0] === 0) c.fail(`${p}.portRange`, "port 0 cannot be a translated source port");
      return { from, egress, to, portRange };
    });
  }
  if (o.dnat !== undefined) {
    nat.dnat = c.arr(o.dnat, "nat.dnat").map((raw, i) => {
      const p = `nat.dnat[${i}]`;
      const r = c.obj(raw, p, ["ingress", "proto", "dst", "port", "to", "toPort"]);
      for (const k of ["ingress", "dst", "to"]) if (r[k] === undefined) c.fail(`${p}.${k}`, "required field is missing");
      const ingress = ifRef(r.ingress, `${p}.ingress`);
      const proto = (r.proto === undefined ? 0 : parseProto(c, r.proto, `${p}.proto`)) as DnatRule["proto"];
      if (![0, 1, 6, 17, 58].includes(proto)) c.fail(`${p}.proto`, `expected tcp, udp, icmp, icmpv6 or any, found ${proto}`);
      const dst = c.ip(r.dst, `${p}.dst`);
      const to = c.ip(r.to, `${p}.to`);
      if (to.family !== dst.family) c.fail(`${p}.to`, `IPv${to.family} target for an IPv${dst.family} destination (no NAT64)`);
      const hasPorts = proto === 6 || proto === 17;
      const port = r.port === undefined ? null : c.int(r.port, `${p}.port`, 1, 65535);
      const toPort = r.toPort === undefined ? null : c.int(r.toPort, `${p}.toPort`, 1, 65535);
      if (!hasPorts && port !== null) c.fail(`${p}.port`, `a port needs proto tcp or udp`);
      if (!hasPorts && toPort !== null) c.fail(`${p}.toPort`, `a port needs proto tcp or udp`);
      return { ingress, proto, dst, port, to, toPort };
    });
  }
  return nat;
}

function parsePolicy(c: Ctx, v: unknown, ifRef: (v: unknown, p: string) => number): { rules: PolicyRule[]; dflt: "permit" | "deny" } {
  if (v === undefined) return { rules: [], dflt: "permit" };
  let list: unknown[];
  let dflt: "permit" | "deny" = "permit";
  let base = "policy";
  if (Array.isArray(v)) list = v;
  else {
    const o = c.obj(v, "policy", ["default", "rules"]);
    if (o.default !== undefined) dflt = c.oneOf(o.default, "policy.default", ["permit", "deny"] as const);
    list = o.rules === undefined ? [] : c.arr(o.rules, "policy.rules");
    base = "policy.rules";
  }
  const rules = list.map((raw, i) => {
    const p = `${base}[${i}]`;
    const r = c.obj(raw, p, ["action", "proto", "src", "dst", "dport", "ingress", "egress"]);
    if (r.action === undefined) c.fail(`${p}.action`, "required field is missing");
    const action = c.oneOf(r.action, `${p}.action`, ["permit", "deny"] as const);
    const proto = r.proto === undefined || r.proto === "any" ? null : parseProto(c, r.proto, `${p}.proto`);
    const src = r.src === undefined ? null : c.cidr(r.src, `${p}.src`);
    const dst = r.dst === undefined ? null : c.cidr(r.dst, `${p}.dst`);
    if (src !== null && dst !== null && src.family !== dst.family) c.fail(`${p}.dst`, `IPv${dst.family} destination with an IPv${src.family} source never matches`);
    const dport = r.dport === undefined ? null : parsePortRange(c, r.dport, `${p}.dport`);
    if (dport !== null && proto !== 6 && proto !== 17) c.fail(`${p}.dport`, "a port match needs proto tcp or udp");
    const ingress = r.ingress === undefined ? null : ifRef(r.ingress, `${p}.ingress`);
    const egress = r.egress === undefined ? null : ifRef(r.egress, `${p}.egress`);
    return { action, proto, src, dst, dport, ingress, egress };
  });
  return { rules, dflt };
}

function parseFaults(c: Ctx, v: unknown, ifRef: (v: unknown, p: string) => number, ifs: IfaceCfg[]): FaultCfg[] {
  if (v === undefined) return [];
  return c.arr(v, "faults").map((raw, index) => {
    const p = `faults[${index}]`;
    const o = c.obj(raw, p, ["kind", "at", "for", "iface", "queue", "delay"]);
    if (o.kind === undefined) c.fail(`${p}.kind`, "required field is missing");
    const kind: FaultKind = c.oneOf(o.kind, `${p}.kind`, FAULT_KINDS);
    if (o.at === undefined) c.fail(`${p}.at`, "required field is missing");
    const atNs = c.duration(o.at, `${p}.at`);
    const forNs = o.for === undefined ? 0 : c.duration(o.for, `${p}.for`);
    const iface = o.iface === undefined ? null : ifRef(o.iface, `${p}.iface`);
    let queue: number | null = null;
    if (o.queue !== undefined) {
      if (iface === null) c.fail(`${p}.queue`, "a queue needs an iface");
      queue = c.int(o.queue, `${p}.queue`, 0, ifs[iface]!.queues - 1);
    }
    const delayNs = o.delay === undefined ? 0 : c.duration(o.delay, `${p}.delay`);
    if (kind === "completion_delay" && delayNs === 0) c.fail(`${p}.delay`, "completion_delay needs a delay > 0");
    const needsFor = kind === "tx_stall" || kind === "fill_starve" || kind === "worker_pause" || kind === "completion_delay" || kind === "link_cycle";
    if (needsFor && forNs === 0) c.fail(`${p}.for`, `${kind} needs a duration "for" > 0`);
    return { kind, atNs, forNs, iface, queue, delayNs, index };
  });
}

function parseTraffic(c: Ctx, v: unknown, dir: string, ifs: IfaceCfg[], ifRef: (v: unknown, p: string) => number): TrafficCfg {
  const t: TrafficCfg = { pcap: null, iface: null, ifindex: new Map(), respond: "none", csumPartial: new Uint8Array(ifs.length), generator: null, macs: "capture" };
  if (v === undefined) return t;
  const o = c.obj(v, "traffic", ["pcap", "iface", "ifindex", "respond", "csumPartial", "generator", "macs"]);
  if (o.csumPartial !== undefined) {
    const P = "traffic.csumPartial";
    if (o.csumPartial === "all") t.csumPartial.fill(1);
    else if (o.csumPartial !== "none") {
      if (!Array.isArray(o.csumPartial)) c.fail(P, `expected "none", "all" or a list of interface names, found ${JSON.stringify(o.csumPartial)}`);
      (o.csumPartial as unknown[]).forEach((n, i) => {
        t.csumPartial[ifRef(n, `${P}[${i}]`)] = 1;
      });
    }
  }
  if (o.pcap !== undefined && o.pcap !== null) {
    const s = c.str(o.pcap, "traffic.pcap");
    if (s === "") c.fail("traffic.pcap", "expected a file path, found an empty string");
    t.pcap = resolvePath(dir, s);
  }
  if (o.iface !== undefined && o.iface !== null) t.iface = ifRef(o.iface, "traffic.iface");
  if (o.ifindex !== undefined) {
    const m = c.obj(o.ifindex, "traffic.ifindex", Object.keys(o.ifindex as Obj));
    for (const [k, name] of Object.entries(m)) {
      const path = join("traffic.ifindex", k);
      if (!/^[1-9]\d{0,9}$/.test(k)) c.fail(path, `expected a capture ifindex (a positive integer) as the key, found "${k}"`);
      t.ifindex.set(Number(k), ifRef(name, path));
    }
  }
  if (o.respond !== undefined) t.respond = c.oneOf(o.respond, "traffic.respond", ["none", "reflect"] as const);
  if (o.macs !== undefined) t.macs = c.oneOf(o.macs, "traffic.macs", ["capture", "supply"] as const);
  if (o.generator !== undefined && o.generator !== null) t.generator = parseGenerator(c, o.generator, ifs, ifRef);
  return t;
}

function parseGenerator(c: Ctx, v: unknown, ifs: IfaceCfg[], ifRef: (v: unknown, p: string) => number): GeneratorCfg {
  const P = "traffic.generator";
  const o = c.obj(v, P, ["flows", "packets", "pps", "ppsPerFlow", "sizes", "proto", "iface", "family", "src", "dst", "start", "dstPort"]);
  const D = GENERATOR_DEFAULTS;
  const flows = o.flows === undefined ? D.flows : c.int(o.flows, `${P}.flows`, 1, 1 << 24);
  const packets = o.packets === undefined ? D.packets : c.int(o.packets, `${P}.packets`, 0, 1 << 26);
  let pps = o.pps === undefined ? D.pps : c.num(o.pps, `${P}.pps`, 1e-9);
  let ppsPerFlow: number | undefined;
  if (o.ppsPerFlow !== undefined) {
    ppsPerFlow = c.num(o.ppsPerFlow, `${P}.ppsPerFlow`, 1e-9);
    if (o.pps !== undefined) c.fail(`${P}.ppsPerFlow`, "give pps or ppsPerFlow, not both");
    pps = ppsPerFlow * flows;
  }
  const sizes = o.sizes === undefined ? [...D.sizes] : c.arr(o.sizes, `${P}.sizes`).map((s, i) => c.int(s, `${P}.sizes[${i}]`, 60, 65535));
  if (sizes.length === 0) c.fail(`${P}.sizes`, "expected at least one frame size");
  const proto = o.proto === undefined ? D.proto : c.oneOf(o.proto, `${P}.proto`, ["udp", "tcp", "icmp", "mix"] as const);
  const iface = o.iface === undefined ? 0 : ifRef(o.iface, `${P}.iface`);
  const family = (o.family === undefined ? D.family : c.int(o.family, `${P}.family`, 4, 6)) as Family;
  if (family !== 4 && family !== 6) c.fail(`${P}.family`, `expected 4 or 6, found ${family as number}`);
  const ifc = ifs[iface]!;
  let src: string;
  if (o.src !== undefined) {
    const s = c.cidr(o.src, `${P}.src`);
    if (s.family !== family) c.fail(`${P}.src`, `expected an IPv${family} prefix, found ${s.text}`);
    src = s.text;
  } else {
    const a = ifc.addrs.find((x) => x.family === family);
    if (a === undefined) c.fail(`${P}.src`, `required: interface "${ifc.name}" has no IPv${family} address to draw sources from`);
    src = `${formatIp(maskPrefix(a.bytes, a.prefixLen))}/${a.prefixLen}`;
  }
  if (o.dst === undefined) c.fail(`${P}.dst`, "required field is missing");
  const dst = c.ip(o.dst, `${P}.dst`);
  if (dst.family !== family) c.fail(`${P}.dst`, `expected an IPv${family} address, found IPv${dst.family}`);
  const startNs = o.start === undefined ? D.startNs : c.duration(o.start, `${P}.start`);
  const dstPort = o.dstPort === undefined ? D.dstPort : c.int(o.dstPort, `${P}.dstPort`, 1, 65535);
  for (let i = 0; i < sizes.length; i++) {
    const min = family === 4 ? 14 + 20 + 20 : 14 + 40 + 20; // Ethernet + IP + TCP (the largest header here)
    if (sizes[i]! < min) c.fail(`${P}.sizes[${i}]`, `expected at least ${min} bytes for an IPv${family} frame with headers, found ${sizes[i]}`);
    if (sizes[i]! > ifc.mtu + 14) c.fail(`${P}.sizes[${i}]`, `frame of ${sizes[i]} bytes exceeds interface "${ifc.name}" MTU ${ifc.mtu} + 14`);
  }
  const g: GeneratorCfg = { flows, packets, pps, sizes, proto, iface, family, src, dst: formatIp(dst.bytes), startNs, dstPort };
  if (ppsPerFlow !== undefined) g.ppsPerFlow = ppsPerFlow;
  return g;
}
