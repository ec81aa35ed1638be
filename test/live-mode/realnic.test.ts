// `xdplab live --iface … --far …` on named NICs, without real NICs: a "host" namespace of
// this test holds two veth pairs standing in for cabled NIC pairs (lan: d1–f1, wan:
// d2–f2). The run moves them into its lab and must put them back — names, MACs, MTUs,
// up/down state, promiscuity, offloads — after a normal run and, after a kill -9, through
// the next sweep. The pure pieces (offload parsing, pairing, the mount check) need no root.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { netnsMountsShared, pairNics, parseOffloads } from "../../live/realnic.js";
import { listNetns, statePath, sweep } from "../../live/state.js";
import type { RunState } from "../../live/state.js";
import { UsageError } from "../../sim/errors.js";
import { ROOT } from "../cli.js";
import { IS_ROOT, buildHelpers, spawnUntil } from "./helpers.js";

describe("named NICs: pure pieces", () => {
  it("parses ethtool -k for the pinned features, fixed ones marked", () => {
    const t = "Features for eth9:\nrx-checksumming: on\ntx-checksumming: off\n\ttx-checksum-ipv4: off [fixed]\ntcp-segmentation-offload: off [fixed]\ngeneric-receive-offload: on\nrx-vlan-offload: off [requested on]\nntuple-filters: off [fixed]\n";
    expect(parseOffloads(t)).toEqual({
      rx: { on: true, fixed: false },
      tx: { on: false, fixed: false },
      tso: { on: false, fixed: true },
      gro: { on: true, fixed: false },
      rxvlan: { on: false, fixed: false },
    });
  });

  it("pairs --iface and --far per scenario interface; every NIC once", () => {
    const m = (o: Record<string, string>): Map<string, string> => new Map(Object.entries(o));
    expect(pairNics(["lan", "wan"], m({ lan: "e1", wan: "e2" }), m({ wan: "e4", lan: "e3" }))).toEqual([
      { iface: "lan", dut: "e1", far: "e3" },
      { iface: "wan", dut: "e2", far: "e4" },
    ]);
    expect(() => pairNics(["lan", "wan"], m({ lan: "e1", wan: "e2" }), m({ lan: "e3" }))).toThrow(/--far must name the NIC cabled to e2/);
    expect(() => pairNics(["lan", "wan"], m({ lan: "e1", wan: "e2" }), m({ lan: "e3", wan: "e1" }))).toThrow(UsageError);
    expect(() => pairNics(["lan", "wan"], m({ lan: "e1", wan: "e2" }), m({ lan: "e3", wan: "e1" }))).toThrow(/e1 is named twice/);
  });

  it("judges /run/netns propagation from mountinfo", () => {
    const shared = "44 26 254:0 /run/netns /run/netns rw,relatime shared:1 - ext4 /dev/vda rw\n";
    const slave = "612 600 254:0 /run/netns /run/netns rw,relatime master:1 - ext4 /dev/vda rw\n";
    const priv = "612 600 254:0 /run/netns /run/netns rw,relatime - ext4 /dev/vda rw\n";
    expect(netnsMountsShared(shared)).toBe(true);
    expect(netnsMountsShared(slave)).toBe(false);
    expect(netnsMountsShared(priv)).toBe(false);
    expect(netnsMountsShared("25 1 0:5 / /proc rw shared:3 - proc proc rw\n")).toBe(true); // not mounted yet
  });
});

const needs = ["native/build/libxdplab_worker.so"].filter((f) => !existsSync(path.join(ROOT, f)));
const skip = !IS_ROOT ? "not root" : needs.length > 0 ? `not built: ${needs.join(", ")}` : null;
if (skip !== null) console.warn(`realnic.test.ts: kernel part skipped: ${skip}`);

const ID = randomBytes(3).toString("hex");
const HOST = `xdplabt-${ID}`;
/** The stand-ins: d = the DUT's NIC, f = the NIC cabled to it. */
const NIC = { d1: `rn${ID}d1`, f1: `rn${ID}f1`, d2: `rn${ID}d2`, f2: `rn${ID}f2` };
interface Orig { mac: string; mtu: number; up: boolean }
const ORIG: Record<string, Orig> = {
  [NIC.d1]: { mac: "02:5a:00:00:01:01", mtu: 1450, up: false },
  [NIC.f1]: { mac: "02:5a:00:00:01:02", mtu: 1450, up: true },
  [NIC.d2]: { mac: "02:5a:00:00:02:01", mtu: 2000, up: true },
  [NIC.f2]: { mac: "02:5a:00:00:02:02", mtu: 2000, up: false },
};
const SCENARIO = "traces/A/abiDrift-healthy";
const NIC_ARGS = ["--iface", `lan=${NIC.d1},wan=${NIC.d2}`, "--far", `lan=${NIC.f1},wan=${NIC.f2}`, "--i-understand-this-uses-real-nics"];

function ipHost(args: string[]): string {
  return execFileSync("ip", ["-n", HOST, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

interface Link { ifname: string; address: string; mtu: number; flags: string[]; xdp?: unknown }
function hostLinks(): Map<string, Link> {
  const j = JSON.parse(ipHost(["-j", "-d", "link", "show"])) as Link[];
  return new Map(j.map((l) => [l.ifname, l]));
}

function offloads(dev: string): string {
  return execFileSync("ip", ["netns", "exec", HOST, "ethtool", "-k", dev], { encoding: "utf8" })
    .split("\n")
    .filter((l) => /^(rx-checksumming|tx-checksumming|tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload|rx-vlan-offload|tx-vlan-offload):/.test(l))
    .join("\n");
}

let offloadsBefore = "";

/** The four stand-ins are in the host namespace exactly as the test made them. */
function expectRestored(): void {
  const links = hostLinks();
  for (const [name, o] of Object.entries(ORIG)) {
    const l = links.get(name);
    expect(l, `${name} back in ${HOST}`).toBeDefined();
    expect(l!.address).toBe(o.mac);
    expect(l!.mtu).toBe(o.mtu);
    expect(l!.flags.includes("UP"), `${name} up/down`).toBe(o.up);
    expect(l!.flags.includes("PROMISC"), `${name} promiscuity`).toBe(false);
    expect(l!.xdp, `${name} has no XDP program left`).toBeUndefined();
  }
  expect(offloads(NIC.d1)).toBe(offloadsBefore);
}

/** xdplab run inside the host namespace (nsenter keeps the mount namespace: see realnic.ts originNetns). */
function xdplabInHost(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync("nsenter", [`--net=/run/netns/${HOST}`, process.execPath, path.join(ROOT, "bin", "xdplab"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 90_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(skip !== null)("named NICs: cabled pairs stood in for by veths (root)", () => {
  const out = mkdtempSync(path.join(tmpdir(), "xdplab-realnic-"));
  beforeAll(() => {
    buildHelpers();
    execFileSync("ip", ["netns", "add", HOST]);
    for (const [d, f] of [[NIC.d1, NIC.f1], [NIC.d2, NIC.f2]] as const) {
      ipHost(["link", "add", d, "address", ORIG[d]!.mac, "mtu", String(ORIG[d]!.mtu), "type", "veth", "peer", "name", f, "address", ORIG[f]!.mac, "mtu", String(ORIG[f]!.mtu)]);
    }
    // No addresses (IPv6 off: an up interface would get a link-local one, which the
    // checks allow, but it keeps the host namespace quiet).
    execFileSync("ip", ["netns", "exec", HOST, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
    for (const [n, o] of Object.entries(ORIG)) if (o.up) ipHost(["link", "set", n, "up"]);
    offloadsBefore = offloads(NIC.d1);
    expect(offloadsBefore).toMatch(/rx-checksumming: on/);
  });
  afterAll(() => {
    sweep(); // a lab left by a failed kill test (its owner is dead by now)
    try {
      execFileSync("ip", ["netns", "del", HOST]);
    } catch {
      // already gone
    }
    rmSync(out, { recursive: true, force: true });
  });

  it("a run on the pairs agrees with the model and puts the NICs back", () => {
    const r = xdplabInHost(["live", SCENARIO, ...NIC_ARGS, "--json", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { divergent: boolean; agree: number; packets: number };
    expect(j.divergent).toBe(false);
    expect(j.packets).toBe(20);
    expect(j.agree).toBe(20);
    const summary = JSON.parse(readFileSync(path.join(out, "summary.json"), "utf8")) as { live: { prefix: string; outputs: number; nics?: unknown } };
    const prefix = summary.live.prefix;
    expect(prefix).toMatch(/^xl[a-z0-9]{5}-$/);
    expect(summary.live.outputs).toBe(20);
    expect(summary.live.nics).toEqual([{ iface: "lan", dut: NIC.d1, far: NIC.f1 }, { iface: "wan", dut: NIC.d2, far: NIC.f2 }]);
    expect(listNetns().filter((n) => n.startsWith(prefix))).toEqual([]);
    expect(existsSync(statePath(prefix))).toBe(false);
    expectRestored();
  }, 90_000);

  it("after a kill -9 during a --set-mac run, the next sweep puts the NICs back (MACs too)", async () => {
    const { child, match } = spawnUntil("nsenter", [`--net=/run/netns/${HOST}`, process.execPath, path.join(ROOT, "bin", "xdplab"), "live", SCENARIO, ...NIC_ARGS, "--set-mac", "--json", "--out", out, "--hold-ms", "30000"], /holding (xl[a-z0-9]{5}-)/);
    const prefix = await match;
    try {
      // Held: the four NICs are in the lab, recorded in the state file.
      const links = hostLinks();
      for (const n of Object.values(NIC)) expect(links.has(n), `${n} moved out of ${HOST}`).toBe(false);
      const dut = JSON.parse(execFileSync("ip", ["-n", `${prefix}dut`, "-j", "link", "show"], { encoding: "utf8" })) as Link[];
      expect(dut.map((l) => l.ifname).sort()).toEqual(["lan", "lo", "wan"]);
      // --set-mac: the scenario's MACs (traces/A/abiDrift-healthy) on the DUT side.
      expect(dut.find((l) => l.ifname === "lan")!.address).toBe("02:00:00:00:01:01");
      expect(dut.find((l) => l.ifname === "wan")!.address).toBe("02:00:00:00:02:01");
      expect(dut.find((l) => l.ifname === "lan")!.flags).toContain("PROMISC");
      const st = JSON.parse(readFileSync(statePath(prefix), "utf8")) as RunState;
      expect(st.objects.filter((o) => o.kind === "nic").map((o) => o.name).sort()).toEqual(Object.values(NIC).sort());
    } finally {
      child.kill("SIGKILL");
      await new Promise((r) => child.once("close", r));
    }
    // The owner is dead; its lab still holds the NICs until a sweep.
    expect(hostLinks().has(NIC.d1)).toBe(false);
    const res = sweep();
    expect(res.swept).toContain(prefix);
    expect(listNetns().filter((n) => n.startsWith(prefix))).toEqual([]);
    expect(existsSync(statePath(prefix))).toBe(false);
    expectRestored();
  }, 90_000);

  it("refuses, exit 2 in words, a NIC with addresses, a bridge member, one with XDP, a missing one, ip netns exec; touches nothing", () => {
    const run = (args: string[]): { code: number; stderr: string } => xdplabInHost(["live", SCENARIO, ...args, "--json", "--out", out]);
    ipHost(["addr", "add", "198.18.99.1/24", "dev", NIC.d1]);
    try {
      const r = run(NIC_ARGS);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${NIC.d1} has IP addresses (198.18.99.1/24)`);
    } finally {
      ipHost(["addr", "del", "198.18.99.1/24", "dev", NIC.d1]);
    }
    const br = `rn${ID}br`;
    ipHost(["link", "add", br, "type", "bridge"]);
    try {
      ipHost(["link", "set", NIC.f2, "master", br]);
      const r = run(NIC_ARGS);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${NIC.f2} is a member of ${br}`);
      ipHost(["link", "set", NIC.f2, "nomaster"]);
    } finally {
      ipHost(["link", "del", br]);
    }
    ipHost(["link", "set", "dev", NIC.d2, "xdpgeneric", "obj", path.join(ROOT, "bpf", "build", "xdplab_pass.o"), "sec", "xdp"]);
    try {
      const r = run(NIC_ARGS);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${NIC.d2} already has an XDP program attached`);
    } finally {
      ipHost(["link", "set", "dev", NIC.d2, "xdpgeneric", "off"]);
    }
    const missing = run(["--iface", `lan=${NIC.d1},wan=rn${ID}zz`, "--far", `lan=${NIC.f1},wan=${NIC.f2}`, "--i-understand-this-uses-real-nics"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`there is no interface rn${ID}zz`);
    const noFar = run(["--iface", `lan=${NIC.d1},wan=${NIC.d2}`, "--i-understand-this-uses-real-nics"]);
    expect(noFar.code).toBe(2);
    expect(noFar.stderr).toContain("--iface needs --far");
    const twice = run(["--iface", `lan=${NIC.d1},wan=${NIC.d2}`, "--far", `lan=${NIC.f1},wan=${NIC.d1}`, "--i-understand-this-uses-real-nics"]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain(`${NIC.d1} is named twice`);
    const viaExec = spawnSync("ip", ["netns", "exec", HOST, process.execPath, path.join(ROOT, "bin", "xdplab"), "live", SCENARIO, ...NIC_ARGS, "--out", out], { cwd: ROOT, encoding: "utf8" });
    expect(viaExec.status).toBe(2);
    expect(viaExec.stderr).toContain("nsenter --net=/run/netns/NAME");
    for (const r of [missing, noFar, twice]) expect(r.stderr).not.toMatch(/\n\s+at /); // no stack traces
    expectRestored();
  }, 90_000);
});

describe.skipIf(skip !== null)("named NICs from an unnamed namespace (root)", () => {
  // Stands in for the initial namespace: a namespace without a /run/netns name, kept
  // alive by a sleeping process. The run names it <prefix>home for the sweep's sake.
  let holder: ReturnType<typeof spawn> | null = null;
  let nsPath = "";
  const out = mkdtempSync(path.join(tmpdir(), "xdplab-realnic-"));
  const ipIn = (args: string[]): string => execFileSync("nsenter", [`--net=${nsPath}`, "ip", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  beforeAll(async () => {
    buildHelpers();
    holder = spawn("unshare", ["--net", "--", "sleep", "300"], { stdio: "ignore" });
    nsPath = `/proc/${holder.pid}/ns/net`;
    for (let i = 0; i < 100; i++) {
      // unshare execs sleep once the namespace is made
      if (readFileSync(`/proc/${holder.pid}/cmdline`, "utf8").startsWith("sleep")) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    ipIn(["link", "add", NIC.d1, "address", ORIG[NIC.d1]!.mac, "mtu", "1450", "type", "veth", "peer", "name", NIC.f1, "address", ORIG[NIC.f1]!.mac, "mtu", "1450"]);
    ipIn(["link", "add", NIC.d2, "address", ORIG[NIC.d2]!.mac, "mtu", "2000", "type", "veth", "peer", "name", NIC.f2, "address", ORIG[NIC.f2]!.mac, "mtu", "2000"]);
  });
  afterAll(() => {
    sweep();
    holder?.kill("SIGKILL"); // its namespace and the veths go with it
    rmSync(out, { recursive: true, force: true });
  });

  it("names the origin for the run; after a kill -9 the sweep moves the NICs back into it and drops the name", async () => {
    const { child, match } = spawnUntil("nsenter", [`--net=${nsPath}`, process.execPath, path.join(ROOT, "bin", "xdplab"), "live", SCENARIO, ...NIC_ARGS, "--json", "--out", out, "--hold-ms", "30000"], /holding (xl[a-z0-9]{5}-)/);
    const prefix = await match;
    try {
      expect(listNetns()).toContain(`${prefix}home`);
      const st = JSON.parse(readFileSync(statePath(prefix), "utf8")) as RunState;
      expect(st.objects.filter((o) => o.kind === "nic").every((o) => o.nic?.origin.path === `/run/netns/${prefix}home`)).toBe(true);
    } finally {
      child.kill("SIGKILL");
      await new Promise((r) => child.once("close", r));
    }
    const res = sweep();
    expect(res.swept).toContain(prefix);
    expect(listNetns().filter((n) => n.startsWith(prefix))).toEqual([]);
    const links = new Map((JSON.parse(ipIn(["-j", "link", "show"])) as Link[]).map((l) => [l.ifname, l]));
    for (const [name, o] of Object.entries(ORIG)) {
      expect(links.get(name)?.address, `${name} back`).toBe(o.mac);
      expect(links.get(name)?.mtu).toBe(name === NIC.d1 || name === NIC.f1 ? 1450 : 2000);
    }
  }, 90_000);
});
