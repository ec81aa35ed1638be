// Campaign and mutation-score pieces that run inside one thread: a campaign is cut into
// fixed chunks (seed derived from the campaign seed and the chunk index), so `--shard
// i/n` and any number of worker threads run exactly the same cases. The mutation score
// runs the same sampled cases with one bug switch on at a time. Pure: no I/O.
import fc from "fast-check";
import { caseArb } from "./arbitraries.js";
import { caseProperty, runCase } from "./runner.js";
import { allProperties } from "./registry.js";
import type { CaseSpec } from "./case.js";

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
  spec: CaseSpec;
  bugs: Record<string, boolean>;
}

export interface ChunkResult {
  chunk: number;
  runs: number;
  found: Found | null;
}

export function runChunk(t: ChunkTask): ChunkResult {
  const r = fc.check(caseProperty(t.props, t.bugs), { seed: t.seed, numRuns: t.runs });
  if (!r.failed || r.counterexample === null) return { chunk: t.chunk, runs: r.numRuns, found: null };
  const spec = r.counterexample[0];
  const again = runCase(spec, t.bugs, t.props);
  const first = [...again.failures][0];
  return {
    chunk: t.chunk,
    runs: r.numRuns,
    found: { property: first?.[0] ?? t.props[0]!, detail: first?.[1] ?? String(r.errorInstance), seed: r.seed, path: r.counterexamplePath ?? "", spec, bugs: t.bugs },
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
  const names = allProperties().map((p) => p.name);
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
  return { bug: t.bug, cases: n, by: names.filter((x) => by.has(x)), example };
}
