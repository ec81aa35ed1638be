// decode() over every frame of the real capture corpus: it must return (ok or an error
// code) and never throw, for every link type it claims to understand.
import { describe, expect, it } from "vitest";
import { readdirSync } from "node:fs";
import path from "node:path";
import { CaptureReader } from "../../capture/reader.js";
import { PacketView, decode } from "../../sim/packet/view.js";
import { describePacket } from "../../sim/packet/describe.js";
import { flowHashSymmetric } from "../../sim/packet/flowhash.js";
import { l4Checksum, verifyIpv4Header, verifyL4 } from "../../sim/packet/checksum.js";
import { isDecodableLinkType } from "../../sim/packet/linktypes.js";
import { CORPUS } from "../cli.js";

describe("decode over the tcpdump corpus", () => {
  it("never throws, and the view stays inside the frame", () => {
    const files = readdirSync(CORPUS).filter((f) => /\.(pcap|pcapng|cap)$/i.test(f) || !f.includes("."));
    const view = new PacketView();
    let frames = 0;
    let decodable = 0;
    let ok = 0;
    for (const f of files) {
      let r: CaptureReader;
      try {
        r = CaptureReader.open(path.join(CORPUS, f));
      } catch {
        continue; // not a capture (README) — the reader's own tests cover its errors
      }
      try {
        while (r.next()) {
          frames++;
          const lt = r.linkType & 0xffff;
          const err = decode(view, r.data, r.offset, r.caplen, lt);
          describePacket(r.data, r.offset, r.caplen, lt);
          if (!isDecodableLinkType(lt)) {
            expect(err).not.toBe(0);
            continue;
          }
          decodable++;
          if (err !== 0) continue;
          ok++;
          const end = r.offset + r.caplen;
          for (const o of [view.l3Off, view.l4Off, view.payloadOff, view.srcOff, view.ttlOff]) {
            if (o >= 0) expect(o, `${f}#${r.index}`).toBeLessThanOrEqual(end);
          }
          verifyIpv4Header(r.data, view);
          verifyL4(r.data, view);
          l4Checksum(r.data, view);
          flowHashSymmetric(r.data, view);
        }
      } catch (e) {
        // A structural error of the capture file itself is the reader's business; anything from decode is a failure.
        if (!(e instanceof Error && e.name === "InputError")) throw new Error(`${f}: ${String(e)}`);
      } finally {
        r.close();
      }
    }
    expect(frames).toBeGreaterThan(10000);
    expect(decodable).toBeGreaterThan(5000);
    expect(ok).toBeGreaterThan(decodable / 2);
  });
});
