// The koffi ABI between live/native.ts and native/src/xl_worker.h: region ids, scalar
// indices, counter order, event kinds and struct xl_event's layout, bug-switch bits. The
// oracle is the C compiler: a program built against the header prints every value.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { B, COUNTER_NAMES, EV_BYTES, EV_DECIDE, EV_DROP, EV_KERNEL, EV_KICK, EV_NEWPKT, EV_TUPLE, EV_TXQ, EV_TXRING, EV_WAKE_RX, EV_STEER, EV_NAT, NATIVE_BUGS, REG, W } from "../../live/native.js";
import { ROOT } from "../cli.js";
import { scenario, udpInput, MemSink } from "../model/helpers.js";
import { Sim } from "../../sim/run.js";

const C = `
#include <stdio.h>
#include <stddef.h>
#include "xl_worker.h"
#define P(x) printf(#x " %ld\\n", (long)(x))
int main(void) {
  P(XL_REG_FRAME_ID); P(XL_REG_FREE_TX); P(XL_REG_PENDING_FILL); P(XL_REG_PREP_FRAME); P(XL_REG_PREP_LEN);
  P(XL_REG_BSCALARS); P(XL_REG_BTIMES); P(XL_REG_RING_CACHE); P(XL_REG_WSCALARS); P(XL_REG_COUNTERS);
  P(XL_REG_LOCAL_BUF); P(XL_REG_LOCAL_EGRESS); P(XL_REG_LOCAL_LEN); P(XL_REG_LOCAL_ID); P(XL_REG_LOCAL_REF_B);
  P(XL_REG_LOCAL_REF_F); P(XL_REG_HELD_B); P(XL_REG_HELD_F); P(XL_REG_HELD_LEN); P(XL_REG_HELD_ID);
  P(XL_REG_HELD_EGRESS); P(XL_REG_HELD_FAMILY); P(XL_REG_HELD_NEXTHOP); P(XL_REG_HELD_DEADLINE);
  P(XL_REG_EVENTS); P(XL_REG_ARENA); P(XL_REG_SESS_ORIG); P(XL_REG_SESS_REPLY); P(XL_REG_SESS_STATE);
  P(XL_REG_SESS_FLAGS); P(XL_REG_SESS_EXPIRES); P(XL_REG_SESS_EGRESS); P(XL_REG_SESS_GEN); P(XL_REG_NAT_STATS);
  P(XL_B_LIVE); P(XL_B_RX_FRAMES); P(XL_B_FREE_TX_COUNT); P(XL_B_PENDING_FILL_COUNT); P(XL_B_PREP_HEAD);
  P(XL_B_PREP_COUNT); P(XL_B_SKIP_FILL); P(XL_B_SAMPLED_NEED_WAKEUP);
  P(XL_W_PREPARED_TOTAL); P(XL_W_LOCAL_COUNT); P(XL_W_LOCAL_HEAD); P(XL_W_LOCAL_CAP); P(XL_W_HELD_COUNT);
  P(XL_W_CYCLE); P(XL_W_CONFIG_GEN); P(XL_W_FIB_GEN); P(XL_W_NEXT_ID); P(XL_W_EVENT_COUNT);
  P(XL_W_ARENA_USED); P(XL_W_OVERFLOW); P(XL_W_FUSED_KICKS);
  P(XL_C_POLLS); P(XL_C_RX); P(XL_C_FORWARDED_ENQ); P(XL_C_DROPPED); P(XL_C_TO_KERNEL); P(XL_C_HELD);
  P(XL_C_HELD_RETRIED); P(XL_C_ICMP_GENERATED); P(XL_C_REAPED); P(XL_C_FILL_SUBMITTED); P(XL_C_KICKS);
  P(XL_C_RX_WAKEUPS); P(XL_C_TX_RING_SUBMITTED); P(XL_C_BACKPRESSURE_POLLS); P(XL_C_PENDING_TX_FULL);
  P(XL_C_LOCAL_COPIES); P(XL_C_PREPARED_COPIES); P(XL_C_INPLACE); P(XL_C_RESERVE_FAILED);
  P(XL_C_STEER_ADDED); P(XL_C_STEER_REMOVED); P(XL_C_STEER_REFUSED); P(XL_C_SESSIONS_EXPIRED); P(XL_C_COUNT);
  P(XL_EV_DROP); P(XL_EV_KERNEL); P(XL_EV_TUPLE); P(XL_EV_DECIDE); P(XL_EV_TXQ); P(XL_EV_TXRING);
  P(XL_EV_NEWPKT); P(XL_EV_KICK); P(XL_EV_WAKE_RX); P(XL_EV_STEER); P(XL_EV_NAT);
  P(sizeof(struct xl_event)); P(offsetof(struct xl_event, kind)); P(offsetof(struct xl_event, id));
  P(offsetof(struct xl_event, a)); P(offsetof(struct xl_event, b)); P(offsetof(struct xl_event, c));
  P(offsetof(struct xl_event, d)); P(offsetof(struct xl_event, off)); P(offsetof(struct xl_event, len));
  P(offsetof(struct xl_event, t)); P(offsetof(struct xl_event, x));
  P(XL_BUG_SKIP_FILL_ON_BACKPRESSURE); P(XL_BUG_UNBOUNDED_PENDING_TX); P(XL_BUG_LAZY_COMPLETION_REAP);
  P(XL_BUG_LEAK_ON_DROP); P(XL_BUG_NO_TX_KICK); P(XL_BUG_ALL_OR_NOTHING_RESERVE); P(XL_BUG_WAKE_TX_FOR_RX);
  P(XL_BUG_LOST_WAKEUP); P(XL_BUG_IGNORE_MTU); P(XL_BUG_TUPLE_FROM_MUTATED_FRAME); P(XL_BUG_PORTS_FROM_STALE_FRAME);
  P(XL_BUG_NO_REVERSE_INDEX); P(XL_BUG_REVERSE_INDEX_OVERWRITE); P(XL_BUG_REPLY_MISS_GOES_TO_KERNEL);
  P(XL_BUG_EMBEDDED_ICMP_NO_SWAP); P(XL_BUG_RST_TEARS_DOWN); P(XL_BUG_SESSION_AFTER_NEIGHBOR); P(XL_BUG_SNAT_PORT_COLLISION);
  P(XL_BUG_SIGN_FLIPPED_DELTA); P(XL_BUG_PARTIAL_CSUM_AS_FULL); P(XL_BUG_PORT_ONLY_NAT_NO_CSUM); P(XL_BUG_FRAGMENTS_LOSE_SESSION);
  return 0;
}`;

function cValues(): Map<string, number> {
  const dir = mkdtempSync(path.join(tmpdir(), "xdplab-native-abi-"));
  writeFileSync(path.join(dir, "abi.c"), C);
  execFileSync("gcc", ["-I", path.join(ROOT, "native", "src"), "-o", path.join(dir, "abi"), path.join(dir, "abi.c")]);
  const out = execFileSync(path.join(dir, "abi"), { encoding: "utf8" });
  return new Map(out.trim().split("\n").map((l) => {
    const i = l.lastIndexOf(" ");
    return [l.slice(0, i), Number(l.slice(i + 1))] as [string, number];
  }));
}

const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => "_" + c).toUpperCase();

describe("koffi ABI of the native worker", () => {
  const c = cValues();
  it("region ids", () => {
    for (const [k, v] of Object.entries(REG)) expect([k, v]).toEqual([k, c.get(`XL_REG_${k}`)]);
  });
  it("binding and worker scalar indices", () => {
    const bName: Record<string, string> = { SAMPLED_NW: "SAMPLED_NEED_WAKEUP" };
    for (const [k, v] of Object.entries(B)) expect([k, v]).toEqual([k, c.get(`XL_B_${bName[k] ?? k}`)]);
    for (const [k, v] of Object.entries(W)) expect([k, v]).toEqual([k, c.get(`XL_W_${k}`)]);
  });
  it("counters are the TS Worker's, in its order", () => {
    const sim = new Sim(scenario(), udpInput(1, 0), new MemSink());
    expect([...COUNTER_NAMES]).toEqual(Object.keys(sim.worker.c));
  });
  it("counter order and count", () => {
    COUNTER_NAMES.forEach((n, i) => expect([n, i]).toEqual([n, c.get(`XL_C_${n.toUpperCase()}`)]));
    expect(COUNTER_NAMES.length).toBe(c.get("XL_C_COUNT"));
  });
  it("event kinds and struct xl_event layout", () => {
    const kinds = { DROP: EV_DROP, KERNEL: EV_KERNEL, TUPLE: EV_TUPLE, DECIDE: EV_DECIDE, TXQ: EV_TXQ, TXRING: EV_TXRING, NEWPKT: EV_NEWPKT, KICK: EV_KICK, WAKE_RX: EV_WAKE_RX, STEER: EV_STEER, NAT: EV_NAT };
    for (const [k, v] of Object.entries(kinds)) expect([k, v]).toEqual([k, c.get(`XL_EV_${k}`)]);
    expect(c.get("sizeof(struct xl_event)")).toBe(EV_BYTES);
    // live/native.ts reads kind,id,a,b,c,d,off,len as int32 words 0..7, t as float64 word 4, x at byte 40.
    const off = (f: string): number | undefined => c.get(`offsetof(struct xl_event, ${f})`);
    expect(["kind", "id", "a", "b", "c", "d", "off", "len"].map(off)).toEqual([0, 4, 8, 12, 16, 20, 24, 28]);
    expect(off("t")).toBe(32);
    expect(off("x")).toBe(40);
  });
  it("bug-switch bits follow NATIVE_BUGS", () => {
    NATIVE_BUGS.forEach((n, i) => expect([n, 1 << i]).toEqual([n, c.get(`XL_BUG_${snake(n)}`)]));
  });
});
