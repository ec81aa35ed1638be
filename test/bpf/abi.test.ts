// The metadata ABI has one source of truth (sim/xdp/abi.ts). These tests fail when the
// committed C header is stale, when the C compiler lays the struct out differently from
// the TS table (DESIGN §3, "TS mirror vs C layout drift"), and when the shim or the
// veth-peer program does not pass this kernel's verifier.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { abiHeader } from "../../scripts/gen-abi.js";
import { META_FIELDS, META_MAGIC, META_SIZE, META_VERSION } from "../../sim/xdp/abi.js";
import { ABI_LAYOUT, BPF_DIR, PASS_OBJ, SHIM_OBJ, buildBpf, kernelSkipReason } from "./helpers.js";

describe("bpf/xdplab_abi.h", () => {
  it("is what scripts/gen-abi.ts generates from the TS sources (run `node dist/scripts/gen-abi.js` if not)", () => {
    expect(readFileSync(path.join(BPF_DIR, "xdplab_abi.h"), "utf8")).toBe(abiHeader());
  });

  it("gives the C struct the TS table's offsets and sizes (compiled and measured by gcc)", () => {
    const err = buildBpf();
    expect(err).toBeNull();
    const out = spawnSync(ABI_LAYOUT, { encoding: "utf8" }).stdout.trim().split("\n");
    const kv = new Map(out.map((l) => [l.split(" ")[0]!, l.split(" ").slice(1).map(Number)]));
    expect(kv.get("sizeof")).toEqual([META_SIZE]);
    expect(kv.get("magic_value")).toEqual([META_MAGIC]);
    expect(kv.get("version_value")).toEqual([META_VERSION]);
    const fields = out.filter((l) => !/^(sizeof|magic_value|version_value) /.test(l)).map((l) => l.split(" "));
    expect(fields.map(([n, o, s]) => ({ name: n, offset: Number(o), size: Number(s) }))).toEqual(
      META_FIELDS.map((f) => ({ name: f.name, offset: f.offset, size: f.size })),
    );
    // The table itself is gap-free and ends at META_SIZE.
    let end = 0;
    for (const f of META_FIELDS) {
      expect(f.offset).toBe(end);
      end += f.size;
    }
    expect(end).toBe(META_SIZE);
  });
});

const skip = kernelSkipReason();
describe.skipIf(skip !== null)(`verifier${skip ? ` (skipped: ${skip})` : ""}`, () => {
  for (const [name, obj] of [
    ["xdplab_shim", SHIM_OBJ],
    ["xdplab_pass", PASS_OBJ],
  ] as const) {
    it(`${name}.o loads on this kernel (bpftool prog load)`, () => {
      expect(buildBpf()).toBeNull();
      const pin = `/sys/fs/bpf/xdplab-test-${process.pid}-${name}`;
      const r = spawnSync("bpftool", ["prog", "load", obj, pin], { encoding: "utf8" });
      try {
        expect(r.status, r.stderr.split("\n").slice(-12).join("\n")).toBe(0);
        const show = spawnSync("bpftool", ["-j", "prog", "show", "pinned", pin], { encoding: "utf8" });
        expect((JSON.parse(show.stdout) as { type: string; name: string })).toMatchObject({ type: "xdp", name });
      } finally {
        spawnSync("rm", ["-f", pin]);
      }
    });
  }
});
