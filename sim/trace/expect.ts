// Evaluates a case's expected.json (DESIGN §4.5): assertions a person wrote about what a
// user can observe — outcomes and reasons of named packets, counter values or ranges,
// bytes of output frames. Returns every assertion's verdict; the first failure is what
// `xdplab check` reports.
import { InputError } from "../errors.js";
import type { PathRecord } from "./record.js";

export interface CaseExpectation {
  shows: string;
  seed: number | null;
  assertions: Assertion[];
}

export type Assertion =
  | { kind: "packets"; what: string; select: Selector; expect: PacketExpect; count: Range | "all" }
  | { kind: "counter"; what: string; path: string; range: Range }
  | { kind: "frame"; what: string; iface: string; index: number; at: number; hex: string }
  | { kind: "property"; what: string; name: string };

/**
 * Re-runs a named property's judge on the case (properties/registry.ts); null when it
 * holds, else the violation. `xdplab check` supplies it; without one a property
 * assertion fails saying so.
 */
export type PropertyJudge = (name: string) => string | null;

export interface Selector {
  i: Array<[number, number]> | null; // input indices, inclusive ranges
  origin: string | null;
  cause: number | null;
}
export interface PacketExpect {
  out: string[] | null;
  reason: string[] | null;
  egress: string | null;
  shim: string | null;
  xskRx: string | null;
}
export interface Range {
  min: number | null;
  max: number | null;
}

export interface AssertionResult {
  index: number;
  what: string;
  passed: boolean;
  detail: string;
}

const TOP = new Set(["shows", "seed", "assert"]);
const PKT = new Set(["what", "packets", "out", "reason", "egress", "shim", "xskRx", "count"]);
const CNT = new Set(["what", "counter", "eq", "min", "max"]);
const FRM = new Set(["what", "frame", "at", "hex"]);
const PRP = new Set(["what", "property"]);

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkKeys(file: string, where: string, o: Record<string, unknown>, allowed: Set<string>): void {
  for (const k of Object.keys(o)) {
    if (!allowed.has(k)) throw new InputError(file, `${where}.${k}`, `unknown field; expected one of ${[...allowed].join(", ")}`);
  }
}

function strList(file: string, where: string, v: unknown): string[] | null {
  if (v === undefined) return null;
  if (typeof v === "string") return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  throw new InputError(file, where, `expected a string or a list of strings, found ${JSON.stringify(v)}`);
}

function parseRanges(file: string, where: string, v: unknown): Array<[number, number]> | null {
  if (v === undefined || v === "all") return null;
  const items = Array.isArray(v) ? v : [v];
  const out: Array<[number, number]> = [];
  for (const it of items) {
    if (typeof it === "number" && Number.isInteger(it) && it >= 0) out.push([it, it]);
    else if (typeof it === "string" && /^\d+(-\d+)?$/.test(it)) {
      const [a, b] = it.split("-").map(Number);
      out.push([a!, b ?? a!]);
    } else throw new InputError(file, where, `expected "all", an index, "a-b" or a list of those, found ${JSON.stringify(it)}`);
  }
  return out;
}

function parseRange(file: string, where: string, o: Record<string, unknown>): Range {
  const num = (k: string): number | null => {
    const v = o[k];
    if (v === undefined) return null;
    if (typeof v !== "number") throw new InputError(file, `${where}.${k}`, `expected a number, found ${JSON.stringify(v)}`);
    return v;
  };
  const eq = num("eq");
  if (eq !== null) return { min: eq, max: eq };
  const r = { min: num("min"), max: num("max") };
  if (r.min === null && r.max === null) throw new InputError(file, where, "expected eq, min or max");
  return r;
}

export function parseExpectation(obj: unknown, file: string): CaseExpectation {
  if (!isObj(obj)) throw new InputError(file, null, "expected a JSON object");
  checkKeys(file, "$", obj, TOP);
  if (typeof obj["shows"] !== "string" || obj["shows"].length === 0) throw new InputError(file, "shows", "expected a sentence saying what the case shows");
  const seed = obj["seed"];
  if (seed !== undefined && (typeof seed !== "number" || !Number.isInteger(seed))) throw new InputError(file, "seed", "expected an integer");
  const list = obj["assert"];
  if (!Array.isArray(list) || list.length === 0) throw new InputError(file, "assert", "expected a non-empty list of assertions");
  const assertions: Assertion[] = list.map((a, k) => {
    const w = `assert[${k}]`;
    if (!isObj(a)) throw new InputError(file, w, "expected an object");
    const what = typeof a["what"] === "string" ? a["what"] : `${w}`;
    if ("packets" in a) {
      checkKeys(file, w, a, PKT);
      const sel = a["packets"];
      let select: Selector;
      if (sel === "all") select = { i: null, origin: "input", cause: null };
      else if (isObj(sel)) {
        checkKeys(file, `${w}.packets`, sel, new Set(["i", "origin", "cause"]));
        select = {
          i: parseRanges(file, `${w}.packets.i`, sel["i"]),
          origin: typeof sel["origin"] === "string" ? sel["origin"] : sel["i"] !== undefined ? "input" : null,
          cause: typeof sel["cause"] === "number" ? sel["cause"] : null,
        };
      } else throw new InputError(file, `${w}.packets`, `expected "all" or {"i": …, "origin": …}`);
      const one = (k: string): string | null => {
        const v = a[k];
        if (v === undefined) return null;
        if (typeof v !== "string") throw new InputError(file, `${w}.${k}`, "expected a string");
        return v;
      };
      const expect: PacketExpect = {
        out: strList(file, `${w}.out`, a["out"]),
        reason: a["reason"] === null ? ["null"] : strList(file, `${w}.reason`, a["reason"]),
        egress: one("egress"),
        shim: one("shim"),
        xskRx: one("xskRx"),
      };
      const c = a["count"];
      const count: Range | "all" = c === undefined || c === "all" ? "all" : isObj(c) ? parseRange(file, `${w}.count`, c) : (() => {
        throw new InputError(file, `${w}.count`, `expected "all" or {min, max, eq}`);
      })();
      return { kind: "packets", what, select, expect, count };
    }
    if ("counter" in a) {
      checkKeys(file, w, a, CNT);
      if (typeof a["counter"] !== "string") throw new InputError(file, `${w}.counter`, "expected a dotted path into summary.json");
      return { kind: "counter", what, path: a["counter"], range: parseRange(file, w, a) };
    }
    if ("frame" in a) {
      checkKeys(file, w, a, FRM);
      const f = a["frame"];
      if (!isObj(f) || typeof f["iface"] !== "string" || typeof f["index"] !== "number") throw new InputError(file, `${w}.frame`, `expected {"iface": name, "index": n}`);
      if (typeof a["at"] !== "number" || typeof a["hex"] !== "string" || !/^([0-9a-fA-F]{2})+$/.test(a["hex"])) throw new InputError(file, w, `expected "at" (byte offset) and "hex" (even-length hex string)`);
      return { kind: "frame", what, iface: f["iface"], index: f["index"], at: a["at"], hex: a["hex"].toLowerCase() };
    }
    if ("property" in a) {
      checkKeys(file, w, a, PRP);
      if (typeof a["property"] !== "string" || !/^[A-Za-z][A-Za-z0-9_]*$/.test(a["property"])) throw new InputError(file, `${w}.property`, "expected a property name (properties/registry.ts)");
      return { kind: "property", what, name: a["property"] };
    }
    throw new InputError(file, w, `expected one of "packets", "counter", "frame", "property"`);
  });
  return { shows: obj["shows"], seed: typeof seed === "number" ? seed : null, assertions };
}

function inRange(r: Range, n: number): boolean {
  return (r.min === null || n >= r.min) && (r.max === null || n <= r.max);
}
function rangeText(r: Range): string {
  if (r.min !== null && r.min === r.max) return `exactly ${r.min}`;
  if (r.min !== null && r.max !== null) return `${r.min}..${r.max}`;
  return r.min !== null ? `at least ${r.min}` : `at most ${r.max}`;
}

/** Resolves "reasons.fill_empty" or "xdpStatistics.lan:0.rx_dropped" in a summary object. */
export function resolveCounter(summary: unknown, p: string): number | undefined {
  let cur: unknown = summary;
  for (const part of p.split(".")) {
    if (Array.isArray(cur)) {
      cur = cur.find((e) => isObj(e) && `${String(e["iface"])}:${String(e["queue"])}` === part);
    } else if (isObj(cur)) cur = cur[part];
    else return undefined;
  }
  return typeof cur === "number" ? cur : undefined;
}

function selected(sel: Selector, r: PathRecord): boolean {
  if (sel.origin !== null && r.origin !== sel.origin) return false;
  if (sel.cause !== null && r.cause !== sel.cause) return false;
  if (sel.i !== null) {
    if (r.i === null) return false;
    const i = r.i;
    if (!sel.i.some(([a, b]) => i >= a && i <= b)) return false;
  }
  return true;
}

function matches(e: PacketExpect, r: PathRecord): string | null {
  if (e.out && !e.out.includes(r.out)) return `out ${r.out}`;
  if (e.reason && !e.reason.includes(r.reason ?? "null")) return `reason ${r.reason}`;
  if (e.egress !== null && r.fib?.egress !== e.egress) return `egress ${r.fib?.egress ?? "none"}`;
  if (e.shim !== null && r.shim.verdict !== e.shim) return `shim ${r.shim.verdict}`;
  if (e.xskRx !== null && r.xsk?.rx !== e.xskRx) return `xsk.rx ${r.xsk?.rx ?? "none"}`;
  return null;
}

function describeExpect(e: PacketExpect): string {
  const parts: string[] = [];
  if (e.out) parts.push(`out ${e.out.join("|")}`);
  if (e.reason) parts.push(`reason ${e.reason.join("|")}`);
  if (e.egress !== null) parts.push(`egress ${e.egress}`);
  if (e.shim !== null) parts.push(`shim ${e.shim}`);
  if (e.xskRx !== null) parts.push(`xsk.rx ${e.xskRx}`);
  return parts.join(", ");
}

export function evaluate(exp: CaseExpectation, summary: unknown, records: PathRecord[], frames: Map<string, Uint8Array[]>, judge?: PropertyJudge): AssertionResult[] {
  return exp.assertions.map((a, index): AssertionResult => {
    if (a.kind === "property") {
      if (judge === undefined) return { index, what: a.what, passed: false, detail: `no judge for property ${a.name} in this context` };
      const bad = judge(a.name);
      return { index, what: a.what, passed: bad === null, detail: bad === null ? `property ${a.name} holds` : `property ${a.name} fails: ${bad}` };
    }
    if (a.kind === "counter") {
      // reasons.* and verdicts.* omit zero entries; anything else missing is a typo.
      let v = resolveCounter(summary, a.path);
      if (v === undefined) {
        if (!/^(reasons|verdicts)\.[a-z0-9_]+$/.test(a.path)) return { index, what: a.what, passed: false, detail: `${a.path} is not a counter in summary.json` };
        v = 0;
      }
      return { index, what: a.what, passed: inRange(a.range, v), detail: `${a.path} = ${v}, expected ${rangeText(a.range)}` };
    }
    if (a.kind === "frame") {
      const f = frames.get(a.iface)?.[a.index];
      if (!f) return { index, what: a.what, passed: false, detail: `no frame ${a.index} on ${a.iface}` };
      const n = a.hex.length / 2;
      const got = Buffer.from(f.subarray(a.at, a.at + n)).toString("hex");
      return { index, what: a.what, passed: got === a.hex, detail: `${a.iface} frame ${a.index} bytes ${a.at}..${a.at + n - 1} = ${got || "(past the end)"}, expected ${a.hex}` };
    }
    const sel = records.filter((r) => selected(a.select, r));
    let ok = 0;
    let firstBad: string | null = null;
    for (const r of sel) {
      const bad = matches(a.expect, r);
      if (bad === null) ok++;
      else if (firstBad === null) firstBad = `packet id ${r.id}${r.i !== null ? ` (input ${r.i})` : ""} has ${bad}`;
    }
    const want = describeExpect(a.expect);
    if (a.count === "all") {
      const passed = sel.length > 0 && ok === sel.length;
      const detail = sel.length === 0 ? "no packet matched the selection" : passed ? `all ${sel.length} selected packets: ${want}` : `${sel.length - ok} of ${sel.length} selected packets differ from "${want}"; first: ${firstBad}`;
      return { index, what: a.what, passed, detail };
    }
    return { index, what: a.what, passed: inRange(a.count, ok), detail: `${ok} of ${sel.length} selected packets have ${want}; expected ${rangeText(a.count)}` };
  });
}
