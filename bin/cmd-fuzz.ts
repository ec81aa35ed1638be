// `xdplab fuzz`: property campaigns over generated cases in worker_threads (deterministic
// chunks, `--shard i/n` for CI matrices), the mutation score (`--mutants`), and saving
// every counterexample as a replayable case under traces/found/ (DESIGN §4.5).
import { Worker } from "node:worker_threads";
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { availableParallelism } from "node:os";
import { parseArgs, intOption } from "./args.js";
import { UsageError, EnvironmentError } from "../sim/errors.js";
import { allProperties, propertyByName } from "../properties/registry.js";
import { CHUNK_RUNS, SWITCHES_ABE, SWITCHES_NAT, NEEDS_NAT, chunkSeed, natSuiteAvailable } from "../properties/campaign.js";
import type { ChunkResult, ChunkTask, Found, MutantResult, MutantTask } from "../properties/campaign.js";
import { buildInput, buildScenario, describeCase, scenarioObject } from "../properties/case.js";
import type { CaseSpec } from "../properties/case.js";
import { describeNatCase, natScenarioObject } from "../properties/nat.js";
import type { NatCaseSpec } from "../properties/nat.js";
import { runNatCase } from "../properties/runner.js";
import type { InputPackets } from "../sim/scenario/packets.js";

import { PcapngWriter } from "../capture/encode.js";
import { fileSink } from "../capture/file.js";
import { LINKTYPE_ETHERNET } from "../sim/packet/linktypes.js";
import { BUG_NAMES } from "../sim/scenario/types.js";

const HELP = `usage: xdplab fuzz [--property NAME] [--runs N] [--seed S] [--workers K] [--shard i/n]
                   [--minutes M] [--bug SWITCH] [--found DIR] [--json]
       xdplab fuzz --mutants [--runs N] [--seed S] [--workers K] [--json]

Campaign: generated cases (traffic, scenario shapes, faults) are run through the model and
judged by the properties (all, or --property NAME); a failure is shrunk and saved as a
case directory under --found (default traces/found/). Exit 1 when something was found.
--bug turns a bug switch on in every generated scenario (to see a property catch it).

--mutants: runs the same cases with each bug switch on in turn and prints which
properties kill it; exit 1 when a switch survives or the run with no switch fails.

properties: ${allProperties().map((p) => p.name).join(", ")}
`;

interface Pool {
  run<T>(msg: object): Promise<T>;
  close(): Promise<void>;
}

function workerPool(k: number): Pool {
  const url = new URL("../properties/worker.js", import.meta.url);
  if (!existsSync(url)) throw new EnvironmentError(`fuzz: ${url.pathname} is missing; build first (npm run build)`);
  const idle: Worker[] = [];
  const all: Worker[] = [];
  const waiting: Array<() => void> = [];
  for (let i = 0; i < k; i++) {
    const w = new Worker(url);
    all.push(w);
    idle.push(w);
  }
  const acquire = async (): Promise<Worker> => {
    while (idle.length === 0) await new Promise<void>((r) => waiting.push(r));
    return idle.pop()!;
  };
  return {
    async run<T>(msg: object): Promise<T> {
      const w = await acquire();
      try {
        return await new Promise<T>((resolve, reject) => {
          const onErr = (e: Error): void => reject(e);
          w.once("error", onErr);
          w.once("message", (m: { ok: boolean; result?: T; error?: string }) => {
            w.off("error", onErr);
            if (m.ok) resolve(m.result as T);
            else reject(new Error(`fuzz worker: ${m.error}`));
          });
          w.postMessage(msg);
        });
      } finally {
        idle.push(w);
        waiting.shift()?.();
      }
    },
    async close(): Promise<void> {
      await Promise.all(all.map((w) => w.terminate()));
    },
  };
}

function progress(done: number, total: number | null, cases: number, t0: number, extra: string): void {
  if (!process.stderr.isTTY) return;
  const secs = (Date.now() - t0) / 1000;
  const rate = secs > 0 ? (cases / secs).toFixed(0) : "0";
  const width = 30;
  const bar = total === null ? "" : `[${"#".repeat(Math.round((done / Math.max(1, total)) * width)).padEnd(width, ".")}] `;
  process.stderr.write(`\r${bar}${done}${total === null ? "" : `/${total}`} chunks, ${cases} cases, ${rate} cases/s ${extra}   `);
}

/** The generated frames as the case's input.pcapng (interfaces by name, so replay maps them back). */
function writeInput(file: string, input: InputPackets): void {
  const w = new PcapngWriter(fileSink(file));
  const ids = [w.addInterface("lan", LINKTYPE_ETHERNET), w.addInterface("wan", LINKTYPE_ETHERNET)];
  const epoch = 1_700_000_000_000_000_000n;
  for (let i = 0; i < input.count; i++) w.writePacket(ids[input.iface[i]!]!, epoch + BigInt(input.tNs[i]!), input.data, input.off[i]!, input.len[i]!);
  w.close();
}

/**
 * Writes a shrunk counterexample as a case directory (DESIGN §4.5) — scenario.json,
 * input.pcapng, expected.json asserting the failed property, case.json (spec, fast-check
 * seed/path), README — and a line in the index; returns its path. System and
 * reverse-NAT cases are saved alike: `xdplab check` replays either.
 */
export function saveFound(root: string, f: Found): string {
  const hash = createHash("sha1").update(JSON.stringify({ spec: f.spec, bugs: f.bugs, p: f.property })).digest("hex").slice(0, 8);
  const name = `${f.property}-${f.seed}-${hash}`;
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  let obj: Record<string, unknown>;
  let input: InputPackets;
  let meta: { probeFromNs: number | null };
  let sentence: string;
  if (f.level === "nat") {
    const spec = f.spec as NatCaseSpec;
    const r = runNatCase(spec, f.bugs, [f.property]);
    if (r.input === null) throw new Error(`fuzz: the NAT case for ${f.property} no longer builds: ${r.refused}`);
    input = r.input;
    meta = { probeFromNs: null };
    sentence = `fuzz (reverse NAT): ${f.property} fails — ${f.detail} (${describeNatCase(spec)})`;
    obj = natScenarioObject(spec, f.bugs, name);
  } else {
    const spec = f.spec as CaseSpec;
    const scn = buildScenario(spec, f.bugs);
    const built = buildInput(spec, scn.interfaces.map((i) => i.queues));
    input = built.input;
    meta = built.meta;
    sentence = `fuzz: ${f.property} fails — ${f.detail} (${describeCase(spec)})`;
    obj = scenarioObject(spec, f.bugs, name);
  }
  obj["description"] = sentence;
  obj["traffic"] = { ...((obj["traffic"] as object | undefined) ?? {}), pcap: "input.pcapng" };
  writeFileSync(path.join(dir, "scenario.json"), JSON.stringify(obj, null, 2) + "\n");
  writeInput(path.join(dir, "input.pcapng"), input);
  const prop = propertyByName(f.property);
  const expected = { shows: `the property ${f.property} holds: ${prop?.doc ?? ""}`, assert: [{ what: `${f.property} holds on this case`, property: f.property }] };
  writeFileSync(path.join(dir, "expected.json"), JSON.stringify(expected, null, 2) + "\n");
  const replay = { property: f.property, level: f.level, fcSeed: f.seed, fcPath: f.path, bugs: f.bugs, meta, detail: f.detail, spec: f.spec };
  writeFileSync(path.join(dir, "case.json"), JSON.stringify(replay, null, 2) + "\n");
  const fcProp = f.level === "nat" ? "natProperty" : "caseProperty";
  writeFileSync(path.join(dir, "README.md"), `# ${name}\n\n${sentence}\n\nReplay: \`xdplab check ${dir}\` (exit 1 while the bug exists, 0 with the switch removed from scenario.json), or fast-check \`{ seed: ${f.seed}, path: "${f.path}" }\` with ${fcProp}(["${f.property}"], bugs) of properties/runner.ts${Object.keys(f.bugs).length ? ` and bugs ${JSON.stringify(f.bugs)}` : ""}.\n`);
  const idx = path.join(root, "README.md");
  if (!existsSync(idx)) writeFileSync(idx, "# Counterexamples found by `xdplab fuzz`\n\nOne line per case. Promote one to the regression corpus with `git mv`.\n\n");
  appendFileSync(idx, `- \`${name}\`: ${sentence}\n`);
  return dir;
}

function parseShard(v: string | undefined): [number, number] {
  if (v === undefined) return [0, 1];
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw new UsageError(`fuzz: --shard expects i/n with 0 ≤ i < n, got '${v}'`);
  return [Number(m[1]), Number(m[2])];
}

async function mutants(pool: Pool, runs: number, seed: number, json: boolean): Promise<number> {
  const nat = natSuiteAvailable();
  const tested = [...SWITCHES_ABE, ...SWITCHES_NAT].filter((b) => nat || !NEEDS_NAT.has(b));
  const t0 = Date.now();
  let done = 0;
  const jobs: Array<Promise<MutantResult>> = [null, ...tested].map(async (bug) => {
    const r = await pool.run<MutantResult>({ kind: "mutant", task: { bug, seed, runs } satisfies MutantTask });
    progress(++done, tested.length + 1, done * runs, t0, bug ?? "clean");
    return r;
  });
  const results = await Promise.all(jobs);
  if (process.stderr.isTTY) process.stderr.write("\n");
  const clean = results[0]!;
  const switches: Record<string, { killed: boolean; by: string[]; status: string }> = {};
  for (const b of [...SWITCHES_ABE, ...SWITCHES_NAT]) {
    const r = results.find((x) => x.bug === b);
    if (r === undefined) switches[b] = { killed: false, by: [], status: "not yet available" };
    else switches[b] = { killed: r.by.length > 0, by: r.by, status: r.by.length > 0 ? "killed" : "survived" };
  }
  const survived = Object.entries(switches).filter(([, s]) => s.status === "survived").map(([k]) => k);
  if (json) {
    process.stdout.write(JSON.stringify({ seed, runs, clean: { passed: clean.by.length === 0, failed: clean.by, example: clean.example }, switches }, null, 2) + "\n");
  } else {
    process.stdout.write(`mutation score, seed ${seed}, ${runs} cases per switch\n`);
    process.stdout.write(`clean (no switch): ${clean.by.length === 0 ? "passed" : `FAILED ${clean.by.join(", ")} — ${clean.example}`}\n\n`);
    for (const [b, s] of Object.entries(switches)) process.stdout.write(`${b.padEnd(24)} ${s.status === "killed" ? `killed by ${s.by.join(", ")}` : s.status === "survived" ? "SURVIVED" : "not yet available (needs the reverse-NAT suite)"}\n`);
    const killed = Object.values(switches).filter((s) => s.killed).length;
    process.stdout.write(`\n${killed} of ${tested.length} testable switches killed; ${survived.length} survived${nat ? "" : `; ${[...SWITCHES_NAT, "ignoreSessionMap"].length} not yet available`}\n`);
  }
  return clean.by.length === 0 && survived.length === 0 ? 0 : 1;
}

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs("fuzz", argv, { property: "value", runs: "value", seed: "value", workers: "value", shard: "value", minutes: "value", bug: "value", found: "value", mutants: "flag", json: "flag", help: "flag" });
  if (p.flags.has("help")) {
    process.stdout.write(HELP);
    return 0;
  }
  if (p.positional.length) throw new UsageError(`fuzz: unexpected argument '${p.positional[0]}'\n` + HELP);
  const seed = intOption("fuzz", p, "seed", 1) >>> 0;
  const workers = intOption("fuzz", p, "workers", Math.max(1, Math.min(2, availableParallelism())));
  if (workers < 1) throw new UsageError("fuzz: --workers expects at least 1");
  const json = p.flags.has("json");
  const minutesText = p.values.get("minutes");
  const minutes = minutesText === undefined ? null : Number(minutesText);
  if (minutes !== null && !(minutes > 0)) throw new UsageError(`fuzz: --minutes expects a positive number, got '${minutesText}'`);
  process.stderr.write(`xdplab fuzz: seed ${seed}\n`);
  if (p.flags.has("mutants")) {
    const pool = workerPool(workers);
    try {
      return await mutants(pool, intOption("fuzz", p, "runs", 60), seed, json);
    } finally {
      await pool.close();
    }
  }
  const propName = p.values.get("property");
  if (propName !== undefined && propertyByName(propName) === undefined) throw new UsageError(`fuzz: unknown property '${propName}'; known: ${allProperties().map((x) => x.name).join(", ")}`);
  const props = propName !== undefined ? [propName] : allProperties().map((x) => x.name);
  const bug = p.values.get("bug");
  if (bug !== undefined && !(BUG_NAMES as readonly string[]).includes(bug)) throw new UsageError(`fuzz: unknown bug switch '${bug}'`);
  const bugs: Record<string, boolean> = bug === undefined ? {} : { [bug]: true };
  const [shard, shards] = parseShard(p.values.get("shard"));
  const runsGiven = p.values.has("runs");
  const runs = intOption("fuzz", p, "runs", 200);
  const totalChunks = runsGiven || minutes === null ? Math.ceil(runs / CHUNK_RUNS) : null;
  const deadline = minutes === null ? Infinity : Date.now() + minutes * 60_000;
  const foundRoot = p.values.get("found") ?? "traces/found";
  const pool = workerPool(workers);
  const t0 = Date.now();
  let cases = 0;
  let done = 0;
  const found: Array<{ f: Found; dir: string }> = [];
  let next = shard;
  const mine = totalChunks === null ? null : Math.ceil((totalChunks - shard) / shards);
  const take = (): number | null => {
    if (Date.now() >= deadline) return null;
    if (totalChunks !== null && next >= totalChunks) return null;
    const c = next;
    next += shards;
    return c;
  };
  const seenProps = new Set<string>();
  const lane = async (): Promise<void> => {
    for (let c = take(); c !== null; c = take()) {
      const runsHere = totalChunks !== null && c === totalChunks - 1 && runs % CHUNK_RUNS !== 0 ? runs % CHUNK_RUNS : CHUNK_RUNS;
      const task: ChunkTask = { chunk: c, seed: chunkSeed(seed, c), runs: runsHere, props, bugs };
      const r = await pool.run<ChunkResult>({ kind: "chunk", task });
      cases += r.runs;
      done++;
      if (r.found !== null && !seenProps.has(r.found.property)) {
        seenProps.add(r.found.property);
        found.push({ f: r.found, dir: saveFound(foundRoot, r.found) });
      }
      progress(done, mine, cases, t0, found.length ? `, ${found.length} found` : "");
    }
  };
  try {
    await Promise.all(Array.from({ length: workers }, lane));
  } finally {
    await pool.close();
  }
  if (process.stderr.isTTY) process.stderr.write("\n");
  const secs = (Date.now() - t0) / 1000;
  const rate = secs > 0 ? cases / secs : 0;
  if (json) {
    process.stdout.write(JSON.stringify({ seed, shard: `${shard}/${shards}`, workers, properties: props, bugs, cases, seconds: secs, casesPerSecond: Math.round(rate), found: found.map(({ f, dir }) => ({ property: f.property, detail: f.detail, dir, fcSeed: f.seed, fcPath: f.path })) }, null, 2) + "\n");
  } else {
    process.stdout.write(`seed ${seed}, shard ${shard}/${shards}, ${workers} workers: ${cases} cases in ${secs.toFixed(1)} s (${rate.toFixed(1)} cases/s)\n`);
    for (const { f, dir } of found) process.stdout.write(`FOUND ${f.property}: ${f.detail}\n  saved ${dir} (fast-check seed ${f.seed}, path "${f.path}")\n`);
    if (!found.length) process.stdout.write(`no property failed (${props.length} properties)\n`);
  }
  return found.length ? 1 : 0;
}
