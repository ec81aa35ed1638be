// Scenario validation: defaults, durations, and one error per rule naming file + field.
// Expected values are the documented ones (docs/scenario.md), typed here by hand.
import { describe, expect, it } from "vitest";
import { parseScenario } from "../../sim/scenario/parse.js";
import { parseDuration } from "../../sim/scenario/duration.js";
import { InputError } from "../../sim/errors.js";

const FILE = "/cases/t/scenario.json";
const DIR = "/cases/t";

function base(): Record<string, unknown> {
  return {
    interfaces: [
      { name: "lan", mac: "02:00:00:00:01:01", addrs: ["198.18.1.1/24", "2001:2:0:1::1/64"] },
      { name: "wan", mac: "02:00:00:00:02:01", addrs: ["198.19.2.1/24"] },
    ],
  };
}

function withPatch(patch: (o: Record<string, any>) => void): Record<string, unknown> {
  const o = base() as Record<string, any>;
  patch(o);
  return o;
}

function errOf(obj: unknown): InputError {
  try {
    parseScenario(obj, FILE, DIR);
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error("expected an InputError, the scenario was accepted");
}

describe("defaults", () => {
  it("fills every optional section with the documented defaults", () => {
    const s = parseScenario(base(), FILE, DIR);
    expect(s.name).toBe("scenario");
    expect(s.seed).toBe(1);
    expect(s.interfaces[0]!.queues).toBe(1);
    expect(s.interfaces[0]!.mtu).toBe(1500);
    expect(s.interfaces[1]!.ifindex).toBe(3);
    expect(s.interfaces[1]!.linkBps).toBe(10e9);
    expect(s.dataplane.rings).toEqual({ rx: 1024, tx: 1024, fill: 4096, comp: 4096 });
    expect(s.dataplane.frames).toBe(4096);
    expect(s.dataplane.frameSize).toBe(4096);
    expect(s.dataplane.headroom).toBe(256);
    expect(s.dataplane.batch).toBe(64);
    expect(s.dataplane.maxPendingTx).toBe(2048);
    expect(s.dataplane.txBudget).toBe(32);
    expect(s.dataplane.armed).toBe(true);
    expect(s.dataplane.driver).toBe("veth");
    expect(s.dataplane.bindMode).toBe("copy");
    expect(s.timing).toEqual({ pollNs: 2000, perPacketNs: 150, seriesNs: 1_000_000, drainNs: 50_000_000, kickNs: 1000, reapEvery: 1, respondNs: 10_000, timerNs: 1_000_000 });
    expect(s.defaultPolicy).toBe("permit");
    expect(s.policy).toEqual([]);
    expect(s.faults).toEqual([]);
    expect(Object.values(s.bugs).every((b) => b === false)).toBe(true);
    expect(s.traffic.respond).toBe("none");
    expect(s.traffic.pcap).toBeNull();
    expect(s.traffic.macs).toBe("capture");
  });

  it("adds one connected route per interface address, masked", () => {
    const s = parseScenario(base(), FILE, DIR);
    const conn = s.routes.filter((r) => r.connected);
    expect(conn.map((r) => [r.iface, Array.from(r.prefix).join("."), r.prefixLen])).toEqual([
      [0, "198.18.1.0", 24],
      [0, "32.1.0.2.0.0.0.1.0.0.0.0.0.0.0.0", 64],
      [1, "198.19.2.0", 24],
    ]);
  });

  it("gives interfaces without a MAC 02:00:00:00:NN:01", () => {
    const s = parseScenario({ interfaces: [{ name: "a" }, { name: "b" }] }, FILE, DIR);
    expect(s.interfaces.map((i) => i.macText)).toEqual(["02:00:00:00:01:01", "02:00:00:00:02:01"]);
  });

  it("accepts the DESIGN §4.1 example", () => {
    const ex = {
      name: "snat-reply-dies",
      seed: 1,
      interfaces: [
        { name: "lan", mac: "02:00:00:00:01:01", addrs: ["198.18.1.1/24", "2001:2:0:1::1/64"], queues: 1, mtu: 1500 },
        { name: "wan", mac: "02:00:00:00:02:01", addrs: ["198.19.2.1/24"], queues: 1 },
      ],
      neighbors: [{ ip: "198.19.2.2", mac: "02:00:00:00:02:02", iface: "wan" }],
      routes: [{ prefix: "0.0.0.0/0", via: "198.19.2.2", iface: "wan" }],
      nat: {
        snat: [{ from: "198.18.1.0/24", egress: "wan", to: "interface" }],
        dnat: [{ ingress: "wan", proto: "tcp", dst: "198.19.2.1", port: 8080, to: "198.18.1.10", toPort: 80 }],
      },
      policy: [],
      dataplane: {
        armed: true, driver: "veth", attach: "native", bindMode: "copy",
        rings: { rx: 1024, tx: 1024, fill: 4096, comp: 4096 },
        frames: 4096, frameSize: 4096, headroom: 256, batch: 64, maxPendingTx: 2048, txBudget: 32,
      },
      timing: { linkBps: { wan: 1e9 }, pollNs: 2000, perPacketNs: 150, seriesNs: 1000000, drainNs: 50000000 },
      bugs: {},
      faults: [{ at: "10ms", kind: "tx_stall", iface: "wan", for: "5ms" }],
      traffic: { pcap: "input.pcapng", iface: "lan", ifindex: { "2": "lan", "3": "wan" }, respond: "none" },
    };
    const s = parseScenario(ex, FILE, DIR);
    expect(s.interfaces[1]!.linkBps).toBe(1e9);
    expect(s.interfaces[0]!.linkBps).toBe(10e9);
    expect(s.faults).toEqual([{ kind: "tx_stall", atNs: 10_000_000, forNs: 5_000_000, iface: 1, queue: null, delayNs: 0, index: 0 }]);
    expect(s.traffic.pcap).toBe("/cases/t/input.pcapng");
    expect([...s.traffic.ifindex.entries()]).toEqual([[2, 0], [3, 1]]);
    expect(s.traffic.iface).toBe(0);
    const r = s.routes.find((x) => !x.connected)!;
    expect([r.viaText, r.iface, r.prefixLen]).toEqual(["198.19.2.2", 1, 0]);
    expect(s.nat.snat[0]!.portRange).toEqual([1024, 65535]);
    expect(s.nat.dnat[0]).toMatchObject({ ingress: 1, proto: 6, port: 8080, toPort: 80 });
    expect(Array.from(s.nat.dnat[0]!.to.bytes)).toEqual([198, 18, 1, 10]);
  });

  it("infers a route's and a neighbour's interface from the connected subnets", () => {
    const s = parseScenario(
      withPatch((o) => {
        o.routes = [{ prefix: "default", via: "198.19.2.2" }];
        o.neighbors = [{ ip: "198.18.1.7", mac: "02:00:00:00:01:07" }];
      }),
      FILE,
      DIR,
    );
    expect(s.routes.find((r) => !r.connected)!.iface).toBe(1);
    expect(s.neighbors[0]!.iface).toBe(0);
  });

  it("accepts non-power-of-two rings when bugs.nonPow2Rings is on", () => {
    const s = parseScenario(withPatch((o) => {
      o.dataplane = { rings: { rx: 1000 } };
      o.bugs = { nonPow2Rings: true };
    }), FILE, DIR);
    expect(s.dataplane.rings.rx).toBe(1000);
    expect(s.bugs.nonPow2Rings).toBe(true);
  });
});

describe("durations", () => {
  it.each([
    [150, 150],
    ["150ns", 150],
    ["5us", 5000],
    ["5µs", 5000],
    ["10ms", 10_000_000],
    ["2s", 2_000_000_000],
    ["1.5ms", 1_500_000],
    ["0.25us", 250],
  ])("%s → %i ns", (v, ns) => {
    expect(parseDuration(v)).toBe(ns);
  });
  it.each([["10"], ["10 min"], ["-5ms"], [-1], [1.5], ["1.5ns"], [true], ["ms"]])("refuses %s", (v) => {
    expect(typeof parseDuration(v)).toBe("string");
  });
});

describe("validation errors name the file and the field", () => {
  const cases: Array<[string, (o: Record<string, any>) => void, string, RegExp]> = [
    ["unknown top-level field", (o) => (o.interfacez = []), "interfacez", /unknown field; expected one of/],
    ["unknown dataplane field", (o) => (o.dataplane = { ringz: {} }), "dataplane.ringz", /unknown field; expected one of .*rings/],
    ["string for a number", (o) => (o.interfaces[1].mtu = "1500"), "interfaces[1].mtu", /expected a number, found string/],
    ["mtu out of range", (o) => (o.interfaces[0].mtu = 20), "interfaces[0].mtu", /68\.\.65535/],
    ["missing interfaces", (o) => delete o.interfaces, "interfaces", /required/],
    ["empty interfaces", (o) => (o.interfaces = []), "interfaces", /at least one/],
    ["duplicate name", (o) => (o.interfaces[1].name = "lan"), "interfaces[1].name", /duplicate interface name "lan"/],
    ["bad MAC", (o) => (o.interfaces[0].mac = "02:00:00:00:01"), "interfaces[0].mac", /MAC/],
    ["multicast MAC", (o) => (o.interfaces[0].mac = "01:00:5e:00:00:01"), "interfaces[0].mac", /unicast/],
    ["bad CIDR", (o) => (o.interfaces[0].addrs = ["198.18.1.300/24"]), "interfaces[0].addrs[0]", /198\.18\.1\.300/],
    ["bad prefix length", (o) => (o.interfaces[0].addrs = ["198.18.1.1/33"]), "interfaces[0].addrs[0]", /prefix/],
    ["rings not pow2", (o) => (o.dataplane = { rings: { fill: 3000 } }), "dataplane.rings.fill", /power of two.*EINVAL.*3000/],
    ["too few frames", (o) => (o.dataplane = { frames: 1024 }), "dataplane.frames", /at least rings\.rx \+ rings\.tx = 2048/],
    ["frame size", (o) => (o.dataplane = { frameSize: 3000 }), "dataplane.frameSize", /power of two from 2048 to 4096/],
    ["headroom", (o) => (o.dataplane = { frameSize: 2048, headroom: 1792 }), "dataplane.headroom", /less than frameSize/],
    ["mtu over frame", (o) => ((o.dataplane = { frameSize: 2048 }), (o.interfaces[0].mtu = 1600)), "interfaces[0].mtu", /does not fit/],
    ["bad driver", (o) => (o.dataplane = { driver: "ixgbe" }), "dataplane.driver", /expected one of veth, generic, zerocopy, found "ixgbe"/],
    ["unknown bug", (o) => (o.bugs = { leakOnDorp: true }), "bugs.leakOnDorp", /unknown field; expected one of .*leakOnDrop/],
    ["bug not boolean", (o) => (o.bugs = { leakOnDrop: 1 }), "bugs.leakOnDrop", /expected true or false, found number/],
    ["unknown fault kind", (o) => (o.faults = [{ kind: "tx_stal", at: "1ms", for: "1ms" }]), "faults[0].kind", /tx_stall/],
    ["fault bad duration", (o) => (o.faults = [{ kind: "tx_stall", at: "1 fortnight", for: "1ms" }]), "faults[0].at", /duration/],
    ["fault iface", (o) => (o.faults = [{ kind: "tx_stall", at: 0, for: "1ms", iface: "dmz" }]), "faults[0].iface", /no interface named "dmz"/],
    ["fault queue", (o) => (o.faults = [{ kind: "tx_stall", at: 0, for: "1ms", iface: "lan", queue: 1 }]), "faults[0].queue", /0\.\.0/],
    ["route iface", (o) => (o.routes = [{ prefix: "0.0.0.0/0", via: "198.19.2.2", iface: "dmz" }]), "routes[0].iface", /no interface named "dmz"/],
    ["route host bits", (o) => (o.routes = [{ prefix: "10.1.2.3/8", iface: "wan" }]), "routes[0].prefix", /host bits.*10\.0\.0\.0\/8/],
    ["route gw off-link", (o) => (o.routes = [{ prefix: "0.0.0.0/0", via: "10.9.9.9" }]), "routes[0].iface", /no interface's subnet/],
    ["route family", (o) => (o.routes = [{ prefix: "::/0", via: "198.19.2.2", iface: "wan" }]), "routes[0].via", /IPv4.*IPv6/],
    ["neighbour iface", (o) => (o.neighbors = [{ ip: "198.19.2.2", mac: "02:00:00:00:02:02", iface: "dmz" }]), "neighbors[0].iface", /dmz/],
    ["neighbour mac", (o) => (o.neighbors = [{ ip: "198.19.2.2", mac: "zz", iface: "wan" }]), "neighbors[0].mac", /MAC/],
    ["neighbour ip", (o) => (o.neighbors = [{ ip: "198.19.2", mac: "02:00:00:00:02:02", iface: "wan" }]), "neighbors[0].ip", /address/],
    ["snat egress", (o) => (o.nat = { snat: [{ egress: "dmz" }] }), "nat.snat[0].egress", /dmz/],
    ["snat pool", (o) => (o.nat = { snat: [{ egress: "wan", to: { pool: ["198.19.2.x"] } }] }), "nat.snat[0].to.pool[0]", /198\.19\.2\.x/],
    ["dnat ingress", (o) => (o.nat = { dnat: [{ ingress: "dmz", dst: "198.19.2.1", to: "198.18.1.10" }] }), "nat.dnat[0].ingress", /dmz/],
    ["dnat port without proto", (o) => (o.nat = { dnat: [{ ingress: "wan", dst: "198.19.2.1", port: 80, to: "198.18.1.10" }] }), "nat.dnat[0].port", /tcp or udp/],
    ["dnat family", (o) => (o.nat = { dnat: [{ ingress: "wan", dst: "198.19.2.1", to: "2001:2::1" }] }), "nat.dnat[0].to", /NAT64/],
    ["policy action", (o) => (o.policy = [{ action: "allow" }]), "policy[0].action", /permit, deny/],
    ["policy egress", (o) => (o.policy = { rules: [{ action: "deny", egress: "dmz" }] }), "policy.rules[0].egress", /dmz/],
    ["linkBps iface", (o) => (o.timing = { linkBps: { dmz: 1e9 } }), "timing.linkBps.dmz", /unknown field; expected one of lan, wan/],
    ["linkBps type", (o) => (o.timing = { linkBps: { wan: "1G" } }), "timing.linkBps.wan", /expected a number, found string/],
    ["seed range", (o) => (o.seed = 2 ** 32), "seed", /0\.\.4294967295/],
    ["seed type", (o) => (o.seed = "7"), "seed", /expected a number, found string/],
    ["traffic iface", (o) => (o.traffic = { iface: "dmz" }), "traffic.iface", /dmz/],
    ["traffic ifindex key", (o) => (o.traffic = { ifindex: { eth0: "lan" } }), 'traffic.ifindex.eth0', /positive integer/],
    ["traffic ifindex value", (o) => (o.traffic = { ifindex: { "7": "dmz" } }), 'traffic.ifindex["7"]', /dmz/],
    ["generator dst", (o) => (o.traffic = { generator: { flows: 2 } }), "traffic.generator.dst", /required/],
    ["generator size", (o) => (o.traffic = { generator: { dst: "198.19.2.2", sizes: [9000] } }), "traffic.generator.sizes[0]", /MTU/],
  ];
  it.each(cases)("%s", (_label, patch, field, problem) => {
    const e = errOf(withPatch(patch));
    expect(e.file).toBe(FILE);
    expect(e.where).toBe(field);
    expect(e.message).toContain(FILE);
    expect(e.message).toContain(field);
    expect(e.message).toMatch(problem);
    expect(e.exitCode).toBe(2);
  });
});
