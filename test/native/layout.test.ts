// The shared ring layout against the kernel's own definitions: a C program compiled
// against <linux/if_xdp.h> reports sizeof/offsetof of struct xdp_desc, and libxdp's
// xsk_ring_* helpers, run over bytes the TS Ring wrote, must read the same descriptors.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Ring, RingProd, RING_ADDR, RING_DESC, RING_DESC_BYTES, RING_ADDR_BYTES, RING_OFF_DESC, RING_OFF_CONSUMER, RING_OFF_FLAGS, RING_OFF_PRODUCER, ringBytes } from "../../sim/xsk/ring.js";
import { XskSocket, xskLayout } from "../../sim/xsk/socket.js";

const C_PROG = `
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <xdp/xsk.h>
/* argv[1]: file with a ring's bytes as the TS Ring wrote them; argv[2]: 0 addr ring, 1 desc ring; argv[3]: size */
int main(int argc, char **argv) {
  printf("%zu %zu %zu %zu\\n", sizeof(struct xdp_desc), offsetof(struct xdp_desc, addr), offsetof(struct xdp_desc, len), offsetof(struct xdp_desc, options));
  if (argc < 4) return 0;
  FILE *f = fopen(argv[1], "rb"); static uint8_t buf[1 << 16]; size_t n = fread(buf, 1, sizeof buf, f); fclose(f); (void)n;
  int desc = atoi(argv[2]); unsigned size = atoi(argv[3]);
  struct xsk_ring_cons c = {0};
  c.producer = (uint32_t *)buf; c.consumer = (uint32_t *)(buf + 4); c.flags = (uint32_t *)(buf + 8); c.ring = buf + 16;
  c.mask = size - 1; c.size = size; c.cached_cons = *c.consumer; c.cached_prod = *c.consumer;
  uint32_t idx; uint32_t got = xsk_ring_cons__peek(&c, size, &idx);
  printf("%u %u\\n", got, *c.flags);
  for (uint32_t i = 0; i < got; i++) {
    if (desc) { const struct xdp_desc *d = xsk_ring_cons__rx_desc(&c, idx + i); printf("%llu %u %u\\n", (unsigned long long)d->addr, d->len, d->options); }
    else printf("%llu\\n", (unsigned long long)*xsk_ring_cons__comp_addr(&c, idx + i));
  }
  return 0;
}`;

function compile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "xdplab-layout-"));
  writeFileSync(path.join(dir, "p.c"), C_PROG);
  execFileSync("gcc", ["-O1", "-o", path.join(dir, "p"), path.join(dir, "p.c")]);
  return dir;
}

describe("shared ring layout (include/uapi/linux/if_xdp.h, libxdp xsk.h)", () => {
  const dir = compile();
  const prog = path.join(dir, "p");

  it("struct xdp_desc size and offsets match the TS constants", () => {
    const [size, addr, len, options] = execFileSync(prog, [], { encoding: "utf8" }).trim().split(/\s+/).map(Number);
    expect(size).toBe(RING_DESC_BYTES);
    expect(addr).toBe(0);
    expect(len).toBe(8);
    expect(options).toBe(12);
    expect(RING_ADDR_BYTES).toBe(8);
    expect([RING_OFF_PRODUCER, RING_OFF_CONSUMER, RING_OFF_FLAGS, RING_OFF_DESC]).toEqual([0, 4, 8, 16]);
  });

  it("libxdp reads back RX descriptors (wrapped indices, a >4 GiB address) that the TS ring wrote", () => {
    const ring = new Ring(8, RING_DESC);
    ring.resetIndices(0xfffffffd);
    ring.flags = 1;
    const p = new RingProd(ring);
    const want: Array<[number, number, number]> = [[320, 64, 0], [2 ** 33 + 4096, 1500, 1], [8191, 9000, 0], [0, 1, 0], [2 ** 40, 77, 3]];
    expect(p.reserve(want.length)).toBe(want.length);
    want.forEach(([a, l, o], i) => p.setDesc(p.idx + i, a, l, o));
    p.submit(want.length);
    const f = path.join(dir, "desc.bin");
    writeFileSync(f, ring.bytes);
    const lines = execFileSync(prog, [f, "1", "8"], { encoding: "utf8" }).trim().split("\n").slice(1);
    expect(lines[0]).toBe(`${want.length} 1`);
    expect(lines.slice(1)).toEqual(want.map(([a, l, o]) => `${BigInt(a)} ${l} ${o}`));
  });

  it("libxdp reads back fill/completion addresses", () => {
    const ring = new Ring(4, RING_ADDR);
    const p = new RingProd(ring);
    const want = [0, 2048, 2 ** 32, 2 ** 32 + 2048];
    expect(p.reserve(4)).toBe(4);
    want.forEach((a, i) => p.setAddr(p.idx + i, a));
    p.submit(4);
    const f = path.join(dir, "addr.bin");
    writeFileSync(f, ring.bytes);
    const lines = execFileSync(prog, [f, "0", "4"], { encoding: "utf8" }).trim().split("\n").slice(1);
    expect(lines).toEqual(["4 0", ...want.map(String)]);
  });

  it("a ring over a caller's region uses exactly those bytes; the socket lays UMEM and rings out in one buffer", () => {
    const region = new Uint8Array(ringBytes(4, RING_DESC) + 8);
    const ring = new Ring(4, RING_DESC, region.subarray(8));
    ring.producer = 0x01020304;
    expect(Array.from(region.subarray(8, 12))).toEqual([4, 3, 2, 1]);
    expect(() => new Ring(4, RING_DESC, region.subarray(4))).toThrow(RangeError);
    const cfg = { frames: 4, frameSize: 2048, headroom: 0, rings: { rx: 8, tx: 8, fill: 4, comp: 4 } };
    const s = new XskSocket(cfg);
    const L = xskLayout(cfg);
    expect(L.fill).toBe(4 * 2048);
    expect(s.memory.byteLength).toBe(L.total);
    s.rxRing.producer = 5;
    expect(new DataView(s.memory.buffer).getUint32(L.rx, true)).toBe(5);
    s.umem.data[100] = 42;
    expect(s.memory[100]).toBe(42);
  });
});
