// Campaign and mutation-score pieces that run inside one thread: a campaign is cut into
// fixed chunks (seed derived from the campaign seed and the chunk index), so `--shard
// i/n` and any number of worker threads run exactly the same cases. The mutation score
// runs the same sampled cases with one bug switch on at a time. Pure: no I/O.
import fc from "fast-check";
import { caseArb } from "./arbitraries.js";
import { caseProperty, natProperty, runCase, runNatCase } from "./runner.js";
import { allProperties } from "./registry.js";
import type { CaseSpec } from "./case.js";
import { natCaseArb } from "./nat.js";
import type { NatCaseSpec } from "./nat.js";

export const CHUNK_RUNS = 25;

/** Switches of CATALOGUE sections A, B, E (the AF_XDP side the suites cover). */
export const SWITCHES_ABE: readonly string[] = [
  "fallbackDrops", "missingBindingPasses", "ignoreSessionMap", "staleXskSlot", "abiDrift", "armBeforeBound", "circularGate",
  "skipFillOnBackpressure", "unboundedPendingTx", "lazyCompletionReap", "leakOnDrop", "noTxKick", "wakeTxForRx", "lostWakeup",
  "allOrNothingReserve", "nonPow2Rings", "emptyFillAtBind", "noRebindAfterCycle", "armedAcrossRebind", "stopWithoutRebind",
];
/** Switches of sections C, D, D′: they need NAT sessions, which the reverse-NAT suite generates. */
export const SWITCHES_NAT: readonly string[] = [
  "tupleFromMutatedFrame", "portsFromStaleFrame", "noReverseIndex", "reverseIndexOverwrite", "replyMissGoesToKernel", "embeddedIcmpNoSwap",
  "rstTearsDown", "sessionAfterNeighbor", "snatPortCollision", "signFlippedDelta", "partialCsumAsFull", "portOnlyNatNoCsum", "ignoreMtu", "fragmentsLoseSession",
];
/** `ignoreSessionMap` is section A but only shows once NAT sessions publish steering keys. */
export const NEEDS_NAT = new Set<string>([...SWITCHES_NAT, "ignoreSessionMap"]);

/** True once a property of the reverse-NAT suite is registered. */
export function natSuiteAvailable(): boolean {
  return allProperties().some((p) => p.suite === "reverseNat");
}

export function chunkSeed(seed: number, chunk: number): number {
  // splitmix32-style mixing: stable across machines, distinct per chunk.
  let z = (seed ^ Math.imul(chunk + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

export interface ChunkTask {
  chunk: number;
  seed: number;
  runs: number;
  props: string[];
  bugs: Record<string, boolean>;
}

export interface Found {
  property: string;
  detail: string;
  seed: number;
  path: string;
  spec: CaseSpec | NatCaseSpec;
  /** "nat": a reverse-NAT case (properties/nat.ts), run on the full simulation too. */
  level: "system" | "nat";
  bugs: Record<string, boolean>;
}

/** Properties of the reverse-NAT suite: they run on the NAT cases (properties/nat.ts). */
export function natPropertyNames(): string[] {
  return allProperties().filter((p) => p.suite === "reverseNat").map((p) => p.name);
}

export interface ChunkResult {
  chunk: number;
  runs: number;
  found: Found | null;
}

export function runChunk(t: ChunkTask): ChunkResult {
  const natNames = t.props.filter((n) => natPropertyNames().includes(n));
  const sysNames = t.props.filter((n) => !natNames.includes(n));
  if (natNames.length) {
    const r = fc.check(natProperty(natNames, t.bugs), { seed: t.seed, numRuns: t.runs });
    if (r.failed && r.counterexample !== null) {
      const spec = r.counterexample[0];
      const first = [...runNatCase(spec, t.bugs, natNames).failures][0];
      return { chunk: t.chunk, runs: r.numRuns, found: { property: first?.[0] ?? natNames[0]!, detail: first?.[1] ?? String(r.errorInstance), seed: r.seed, path: r.counterexamplePath ?? "", spec, level: "nat", bugs: t.bugs } };
    }
    if (!sysNames.length) return { chunk: t.chunk, runs: r.numRuns, found: null };
  }
  const r = fc.check(caseProperty(sysNames, t.bugs), { seed: t.seed, numRuns: t.runs });
  if (!r.failed || r.counterexample === null) return { chunk: t.chunk, runs: r.numRuns, found: null };
  const spec = r.counterexample[0];
  const again = runCase(spec, t.bugs, sysNames);
  const first = [...again.failures][0];
  return {
    chunk: t.chunk,
    runs: r.numRuns,
    found: { property: first?.[0] ?? sysNames[0]!, detail: first?.[1] ?? String(r.errorInstance), seed: r.seed, path: r.counterexamplePath ?? "", spec, level: "system", bugs: t.bugs },
  };
}

export interface MutantTask {
  bug: string | null;
  seed: number;
  runs: number;
}
export interface MutantResult {
  bug: string | null;
  cases: number;
  by: string[];
  example: string | null;
}

/** Runs `runs` sampled cases with one switch on (or none) under every property; lists the properties that failed. */
export function runMutant(t: MutantTask): MutantResult {
  const natNames = natPropertyNames();
  const names = allProperties().map((p) => p.name).filter((n) => !natNames.includes(n));
  const cases = fc.sample(caseArb, { seed: t.seed, numRuns: t.runs });
  const by = new Set<string>();
  let example: string | null = null;
  let n = 0;
  for (const c of cases) {
    n++;
    const r = runCase(c, t.bug === null ? {} : { [t.bug]: true }, names);
    for (const [k, why] of r.failures) {
      by.add(k);
      example ??= `${k}: ${why}`;
    }
  }
  // The reverse-NAT suite: its own cases (same count, same seed), full simulation.
  for (const c of fc.sample(natCaseArb, { seed: t.seed, numRuns: t.runs })) {
    n++;
    for (const [k, why] of runNatCase(c, t.bug === null ? {} : { [t.bug]: true }, natNames).failures) {
      by.add(k);
      example ??= `${k}: ${why}`;
    }
  }
  return { bug: t.bug, cases: n, by: allProperties().map((p) => p.name).filter((x) => by.has(x)), example };
}
