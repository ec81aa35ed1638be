// Shared by the live-run tests: why a live run cannot happen here (null when it can).
import { existsSync } from "node:fs";
import path from "node:path";
import { ROOT } from "../cli.js";

/** The built artefacts a live run needs, relative to the repository root. */
export const LIVE_ARTEFACTS = [
  "native/build/libxdplab_worker.so",
  "native/loader/build/xdplab-loader",
  "native/pktio/build/xdplab-pktio",
  "bpf/build/xdplab_shim.o",
];

export function liveSkipReason(): string | null {
  if (process.getuid?.() !== 0) return "not root";
  const missing = LIVE_ARTEFACTS.filter((f) => !existsSync(path.join(ROOT, f)));
  return missing.length > 0 ? `not built: ${missing.join(", ")}` : null;
}
