// worker_threads entry of `xdplab fuzz`: runs the chunk or mutant tasks the parent posts
// (compiled to dist/properties/worker.js) and posts each result back.
import { parentPort } from "node:worker_threads";
import { runChunk, runMutant } from "./campaign.js";
import type { ChunkTask, MutantTask } from "./campaign.js";

type Task = { kind: "chunk"; task: ChunkTask } | { kind: "mutant"; task: MutantTask } | { kind: "stop" };

parentPort?.on("message", (m: Task) => {
  if (m.kind === "stop") {
    parentPort?.close();
    return;
  }
  try {
    const result = m.kind === "chunk" ? runChunk(m.task) : runMutant(m.task);
    parentPort?.postMessage({ ok: true, kind: m.kind, result });
  } catch (e) {
    parentPort?.postMessage({ ok: false, kind: m.kind, error: e instanceof Error ? `${e.message}\n${e.stack ?? ""}` : String(e) });
  }
});
