// Frame conservation through the kernel side: random receive / userspace / transmit /
// completion steps, with every frame recounted from where it actually is (rings' contents,
// the kernel pool, the device, userspace's own lists) after each step.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { XskSocket, bind, complete, kick, rcv } from "../../sim/xsk/socket.js";
import { ringEntries } from "../../sim/xsk/ring.js";
import { Link } from "../../sim/xsk/link.js";

const PKT = new Uint8Array(1500);
const FRAMES = 32;

describe("frame conservation across rcv / kick / complete", () => {
  it("every frame is in exactly one place after every step", () => {
    const step = fc.oneof(
      fc.constant("rx" as const),
      fc.constant("userRx" as const),
      fc.constant("userFill" as const),
      fc.constant("kick" as const),
      fc.constant("wire" as const),
      fc.constant("reap" as const),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 300 }), fc.constantFrom(2, 4, 8), (steps, rxSize) => {
        const s = new XskSocket({ frames: FRAMES, frameSize: 2048, headroom: 0, rings: { rx: rxSize, tx: 8, fill: 16, comp: 4 } });
        bind(s, 1, 0);
        const link = new Link(1e9);
        let now = 0;
        const user: number[] = []; // chunk bases userspace holds
        for (let i = 0; i < FRAMES; i++) user.push(i * 2048);
        const inDevice = new Set<number>();
        const recount = (): void => {
          const all = [
            ...Array.from(ringEntries(s.fillRing)),
            ...Array.from(s.kernelHeldAddrs()),
            ...Array.from(ringEntries(s.rxRing)).map((a) => a - 256),
            ...user,
            ...Array.from(ringEntries(s.txRing)),
            ...inDevice,
            ...Array.from(ringEntries(s.compRing)),
          ].sort((a, b) => a - b);
          expect(all).toEqual(Array.from({ length: FRAMES }, (_, i) => i * 2048));
        };
        for (const st of steps) {
          now += 100;
          if (st === "rx") rcv(s, PKT, 0, 64, null, 0, 0);
          else if (st === "userFill") {
            const n = Math.min(4, user.length);
            if (n > 0 && s.userFill.reserve(n) === n) {
              for (let i = 0; i < n; i++) s.userFill.setAddr(s.userFill.idx + i, user.pop()!);
              s.userFill.submit(n);
            }
          } else if (st === "userRx") {
            // forward what arrived: RX frames go to the TX ring
            const n = s.userRx.peek(4);
            if (n > 0) {
              const room = s.userTx.reserve(n);
              if (room === n) {
                for (let i = 0; i < n; i++) {
                  s.userTx.setDesc(s.userTx.idx + i, s.userRx.addrAt(s.userRx.idx + i) - 256, 64, 0);
                }
                s.userTx.submit(n);
                s.userRx.release(n);
              } else s.userRx.cancel(n);
            }
          } else if (st === "kick") {
            kick(s, now);
            for (let i = 0; i < s.txOutCount; i++) {
              const a = s.txOutAddr[i]!;
              inDevice.add(a);
              link.enqueue(now, 0, a, s.txOutLen[i]!);
            }
            s.clearTxOut();
          } else if (st === "wire") {
            now += 10_000;
            while (link.popCompletion(now)) {
              inDevice.delete(link.addr);
              complete(s, link.addr);
            }
          } else {
            const n = s.userComp.peek(8);
            for (let i = 0; i < n; i++) user.push(s.userComp.addrAt(s.userComp.idx + i));
            s.userComp.release(n);
          }
          recount();
        }
      }),
      { numRuns: 200 },
    );
  });
});
