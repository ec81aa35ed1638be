// NAT session benchmark: cost per packet of the dataplane's lookup + translate path at
// 1k, 100k and 1M live UDP flows through interface SNAT, and bytes per session at 1M.
// Run: npx tsc -p . && node dist/bench/nat.js
import { Dataplane } from "../sim/dataplane/dataplane.js";
import { PacketView } from "../sim/packet/view.js";
import { parseScenario } from "../sim/scenario/parse.js";

const scn = parseScenario(
  {
    name: "bench-nat",
    interfaces: [
      { name: "lan", mac: "02:00:00:00:01:01", addrs: ["198.18.0.1/15"] },
      { name: "wan", mac: "02:00:00:00:02:01", addrs: ["203.0.113.1/24"] },
    ],
    neighbors: [{ ip: "203.0.113.2", mac: "02:00:00:00:02:02", iface: "wan" }],
    routes: [{ prefix: "0.0.0.0/0", via: "203.0.113.2", iface: "wan" }],
    nat: { snat: [{ from: "198.18.0.0/15", egress: "wan", to: "interface" }] },
  },
  "bench.json",
  "/tmp",
);

/** A UDP frame from flow i (source 198.18.x.y:1024+k) to 198.51.100.(1 + i mod 200):53. */
function frame(buf: Uint8Array, i: number): void {
  const h = 2 + (i % 60000); // .0.1 is the router
  const port = 1024 + Math.floor(i / 60000);
  buf.fill(0, 0, 60);
  buf.set([2, 0, 0, 0, 1, 1, 2, 0, 0, 0, 1, 0x0a, 8, 0], 0);
  buf.set([0x45, 0, 0, 46, 0, 1, 0x40, 0, 64, 17, 0, 0, 198, 18 + (h >> 16), (h >> 8) & 255, h & 255, 198, 51, 100, 1 + (i % 200)], 14);
  let s = 0;
  for (let j = 14; j < 34; j += 2) s += (buf[j]! << 8) | buf[j + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  const c = ~s & 0xffff;
  buf[24] = c >> 8;
  buf[25] = c & 255;
  buf.set([port >> 8, port & 255, 0, 53, 0, 26, 0, 0], 34);
}

function run(flows: number): { nsPerPkt: number; bytesPerSession: number } {
  const dp = new Dataplane(scn, { sessions: flows + 1024 });
  const view = new PacketView();
  const frames = new Uint8Array(60 * Math.min(flows, 65536));
  const buf = new Uint8Array(128);
  const now = 1_000_000;
  // install every flow
  for (let i = 0; i < flows; i++) {
    frame(buf, i);
    dp.process(buf, 0, 60, view, 0, now);
  }
  if (dp.nat.sessions.live !== flows) throw new Error(`installed ${dp.nat.sessions.live} of ${flows}`);
  // measured: packets of established flows in a scattered order
  const n = 1_000_000;
  let x = 12345;
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < n; k++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    frame(buf, x % flows);
    dp.process(buf, 0, 60, view, 0, now);
  }
  const t1 = process.hrtime.bigint();
  // frame building is part of the loop: measure it alone and subtract
  const t2 = process.hrtime.bigint();
  for (let k = 0; k < n; k++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    frame(buf, x % flows);
  }
  const t3 = process.hrtime.bigint();
  void frames;
  const st = dp.nat.sessions;
  const bytes =
    st.orig.byteLength + st.reply.byteLength + st.state.byteLength + st.flags.byteLength + st.expires.byteLength + st.egressIf.byteLength + st.gen.byteLength +
    st.capacity * 16 /* three hash columns + free list */ + st.wire.capacity * 8 + st.canon.capacity * 8;
  return { nsPerPkt: (Number(t1 - t0) - Number(t3 - t2)) / n, bytesPerSession: bytes / st.capacity };
}

for (const flows of [1000, 100_000, 1_000_000]) {
  const r = run(flows);
  console.log(`${flows} flows: ${r.nsPerPkt.toFixed(0)} ns/packet (process(), established UDP, SNAT), ${r.bytesPerSession.toFixed(0)} bytes/session`);
}
