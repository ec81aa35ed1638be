// The live responder on a real veth: a namespace pair (the lab topology with one
// interface), the responder on the far end, frames injected from the other end with the
// pktio injector and the answers captured there. The answers must be exactly what the
// model's reflect builds, in order; frames reflect ignores get nothing; the responder
// never answers its own sends, honours --max and --idle-ms, and dies with its parent.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject, startCapture } from "../../live/pktio.js";
import type { Port } from "../../live/pktio.js";
import { startResponder } from "../../live/responder.js";
import { Topology } from "../../live/topology.js";
import { reflect } from "../../sim/dataplane/responder.js";
import { buildFrame } from "../../sim/packet/build.js";
import type { FrameSpec } from "../../sim/packet/build.js";
import { ROOT } from "../cli.js";
import { IS_ROOT, ROOT_REASON, buildPktio } from "./helpers.js";

const hex = (u: Uint8Array): string => Buffer.from(u).toString("hex");
const DUT_MAC = "02:00:00:00:01:01";
const FAR_MAC = "02:58:4c:ff:00:00"; // the topology's default far-side MAC of interface 0
const ETH = { src: DUT_MAC, dst: FAR_MAC };
const V4 = { version: 4 as const, src: "198.18.0.1", dst: "198.19.0.9" };
const V6 = { version: 6 as const, src: "2001:db8::1", dst: "2001:db8:1::9" };
const pay = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 13 + 5) & 0xff);
const f = (s: Omit<FrameSpec, "eth">): Uint8Array => buildFrame({ eth: ETH, ...s });

function tsReflect(fr: Uint8Array): Uint8Array | null {
  const out = new Uint8Array(4096);
  const n = reflect(fr, 0, fr.length, out);
  return n > 0 ? out.slice(0, n) : null;
}

const FRAMES: Uint8Array[] = [
  f({ ip: V4, tcp: { sport: 40000, dport: 80, seq: 1000, flags: "S" } }),
  f({ ip: V4, tcp: { sport: 40000, dport: 80, seq: 1001, ack: 5, flags: "A" } }), // bare ACK: ignored
  f({ ip: V4, tcp: { sport: 40000, dport: 80, seq: 1001, ack: 5, flags: "PA" }, payload: pay(300) }),
  f({ ip: V4, tcp: { sport: 40000, dport: 80, seq: 1301, ack: 5, flags: "FA" } }),
  f({ ip: V4, tcp: { sport: 40000, dport: 80, seq: 1302, flags: "R" } }), // ignored
  f({ ip: { ...V4, df: true }, udp: { sport: 5353, dport: 53 }, payload: pay(41) }),
  f({ ip: V4, icmp: { type: 8, code: 0, id: 7, seq: 1 }, payload: pay(56) }),
  f({ ip: { ...V4, frag: { offset: 0, more: true } }, udp: { sport: 1, dport: 2 }, payload: pay(64) }), // ignored
  buildFrame({ eth: ETH, vlans: [{ vid: 100 }], ip: V4, tcp: { sport: 1, dport: 2, seq: 3, flags: "S" } }), // tagged: ignored
  f({ ip: V6, tcp: { sport: 40001, dport: 443, seq: 77, flags: "S" } }),
  f({ ip: V6, udp: { sport: 5353, dport: 53 }, payload: pay(100) }),
  f({ ip: V6, icmp: { type: 128, code: 0, id: 9, seq: 2 }, payload: pay(32) }),
  f({ ip: V6, icmp: { type: 135, code: 0 }, payload: pay(20) }), // NS: ignored
];

/** Frames of the test's own flows (our addresses, either direction), so nothing the
 *  kernels might send on their own can creep into the comparison. */
function ours(fr: Uint8Array): boolean {
  let o = 12;
  let et = ((fr[o] as number) << 8) | (fr[o + 1] as number);
  if (et === 0x8100) {
    o += 4;
    et = ((fr[o] as number) << 8) | (fr[o + 1] as number);
  }
  const l3 = o + 2;
  const ip = (a: number, n: number): string => hex(fr.subarray(l3 + a, l3 + a + n));
  if (et === 0x0800) return [ip(12, 4), ip(16, 4)].includes("c6120001");
  if (et === 0x86dd) return [ip(8, 16), ip(24, 16)].includes("20010db8000000000000000000000001");
  return false;
}

function procState(pid: number): string | null {
  const p = `/proc/${pid}/stat`;
  if (!existsSync(p)) return null;
  try {
    return readFileSync(p, "utf8").replace(/^.*\) /, "").charAt(0);
  } catch {
    return null;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!IS_ROOT)(`live responder on a veth (${ROOT_REASON})`, () => {
  let topo: Topology;
  let near: Port;
  let far: Port;

  beforeAll(() => {
    buildPktio();
    topo = Topology.create({ ipForward: false, interfaces: [{ name: "rx0", mac: DUT_MAC, mtu: 1500 }] });
    const [i0] = topo.ifaces;
    if (i0 === undefined) throw new Error("topology lost its interface");
    near = { netns: i0.dut.netns, ifname: i0.dut.name };
    far = { netns: i0.peer.netns, ifname: i0.peer.name };
    // Belt and braces on top of the topology's settings: the far side has no IPv6; the
    // near side creates no link-local address (so no ND/MLD of its own).
    execFileSync("ip", ["netns", "exec", far.netns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
    execFileSync("ip", ["netns", "exec", near.netns, "sysctl", "-q", "-w", "net.ipv6.conf.all.addr_gen_mode=1", "net.ipv6.conf.default.addr_gen_mode=1"]);
  });
  afterAll(() => topo?.destroy());

  it("answers injected frames with exactly the model's replies, in order", async () => {
    const expected = FRAMES.map(tsReflect).filter((r): r is Uint8Array => r !== null);
    expect(expected.length).toBe(8); // the table above: 8 answered, 5 ignored
    const resp = startResponder(far.netns, far.ifname);
    await resp.ready;
    const cap = await startCapture([near], { timeoutMs: 10_000 });
    const sent = await inject([near], FRAMES.map((frame) => ({ port: 0, frame })), { gapUs: 2000 });
    expect(sent.filter((s) => s.error !== null)).toEqual([]);
    await sleep(200);
    const [got] = await cap.stop();
    const counts = await resp.stop();
    expect((got ?? []).map((g) => g.data).filter(ours).map(hex)).toEqual(expected.map(hex));
    // Its own answers are not seen again (or a UDP reply would be answered in a loop).
    expect(counts.answered).toBe(expected.length);
    expect(counts.seen).toBeGreaterThanOrEqual(FRAMES.length);
    expect(counts.ignored).toBe(counts.seen - counts.answered);
    // stop() is idempotent
    expect(await resp.stop()).toEqual(counts);
  });

  it("does not answer frames leaving the far interface (incoming only)", async () => {
    // Another sender in the far namespace (the injector) puts an answerable frame on the
    // wire: the responder must not take it for a request.
    const out = buildFrame({ eth: { src: FAR_MAC, dst: DUT_MAC }, ip: { version: 4, src: "198.19.0.9", dst: "198.18.0.1" }, udp: { sport: 53, dport: 5353 }, payload: pay(20) });
    const resp = startResponder(far.netns, far.ifname);
    await resp.ready;
    const cap = await startCapture([near], { timeoutMs: 10_000 });
    await inject([far], [{ port: 0, frame: out }]);
    await sleep(200);
    const [got] = await cap.stop();
    const counts = await resp.stop();
    expect((got ?? []).map((g) => g.data).filter(ours).map(hex)).toEqual([hex(out)]);
    expect(counts.answered).toBe(0);
  });

  it("stops by itself after --max answers, and sends no more", async () => {
    const syns = Array.from({ length: 6 }, (_, i) => f({ ip: V4, tcp: { sport: 41000 + i, dport: 80, seq: i * 1000, flags: "S" } }));
    const resp = startResponder(far.netns, far.ifname, { max: 2 });
    await resp.ready;
    const cap = await startCapture([near], { timeoutMs: 10_000 });
    await inject([near], syns.map((frame) => ({ port: 0, frame })), { gapUs: 5000 });
    const counts = await resp.finished;
    await sleep(100);
    const [got] = await cap.stop();
    expect(counts.answered).toBe(2);
    expect((got ?? []).map((g) => g.data).filter(ours).map(hex)).toEqual(syns.slice(0, 2).map((s) => hex(tsReflect(s) as Uint8Array)));
  });

  it("stops by itself after --idle-ms with nothing received", async () => {
    const t0 = Date.now();
    const counts = await startResponder(far.netns, far.ifname, { idleMs: 150 }).finished;
    expect(counts).toEqual({ seen: 0, answered: 0, ignored: 0 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it("a missing interface or namespace is a clear error", async () => {
    await expect(startResponder(far.netns, "nosuch0").ready).rejects.toThrow(/no interface .*nosuch0/);
    await expect(startResponder(`${topo.prefix}nosuchns`, "rx0").ready).rejects.toThrow(/no network namespace/);
  });

  it("ends when the Node process that started it is killed", async () => {
    const mod = path.join(ROOT, "dist", "live", "responder.js");
    const code = `
      import { startResponder } from ${JSON.stringify(mod)};
      const r = startResponder(${JSON.stringify(far.netns)}, ${JSON.stringify(far.ifname)});
      await r.ready;
      process.stdout.write(String(r.pid) + "\\n");
      setInterval(() => {}, 1000);`;
    const owner = spawn(process.execPath, ["--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    owner.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const pid = await new Promise<number>((resolve, reject) => {
      let out = "";
      owner.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const nl = out.indexOf("\n");
        if (nl >= 0) resolve(Number(out.slice(0, nl)));
      });
      owner.on("close", () => reject(new Error(`owner exited early: ${err}`)));
    });
    expect(procState(pid)).not.toBeNull();
    owner.kill("SIGKILL");
    let state = procState(pid);
    for (let i = 0; i < 100 && state !== null && state !== "Z"; i++) {
      await sleep(20);
      state = procState(pid);
    }
    // A responder that outlived its parent would run on: end it before failing.
    if (state !== null && state !== "Z") process.kill(pid, "SIGKILL");
    expect(state === null || state === "Z").toBe(true);
  });
});
