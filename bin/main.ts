// Entry of the `xdplab` command: picks the subcommand, maps errors to exit codes
// (DESIGN §4.4) and never lets a stack trace reach the user.
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { XdplabError, EXIT_INPUT, EXIT_INTERNAL } from "../sim/errors.js";

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  inspect: { summary: "decode a capture: counts, link types, interfaces, packets", load: async () => (await import("./cmd-inspect.js")).run },
  replay: { summary: "run a scenario (and its capture) through the model", load: async () => (await import("./cmd-replay.js")).run },
  check: { summary: "re-run a saved case and evaluate its expected.json", load: async () => (await import("./cmd-check.js")).run },
  fuzz: { summary: "property campaigns, mutation score; saves counterexamples", load: async () => (await import("./cmd-fuzz.js")).run },
  diff: { summary: "offline differential: TS worker vs native C worker on one scenario", load: async () => (await import("./cmd-diff.js")).run },
  live: { summary: "live mode on veth namespaces: --preflight, --demo veth-gotcha|xskmap-errors", load: async () => (await import("./cmd-live.js")).run },
};

function usage(): string {
  const lines = ["usage: xdplab <command> [options]", "", "commands:"];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push("", "Run `xdplab <command> --help` for a command's options. Docs: docs/.");
  return lines.join("\n") + "\n";
}

/**
 * A reader that goes away (`xdplab inspect f --packets | head`) closes the pipe: the
 * write fails with EPIPE and Node would raise it as an unhandled 'error' event. The
 * output is unwanted from then on, so it is dropped; the command still finishes (a live
 * run still tears its lab down) and long listings stop early (stdout is then destroyed).
 */
function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE" || err.code === "ERR_STREAM_DESTROYED") return;
    process.stderr.write(`xdplab: cannot write output: ${err.message}\n`);
    process.exitCode = EXIT_INTERNAL;
  });
}

export async function runMain(argv: string[]): Promise<number> {
  quietOnClosedPipe(process.stdout);
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    return name === undefined ? EXIT_INPUT : 0;
  }
  const cmd = COMMANDS[name];
  if (cmd === undefined) {
    process.stderr.write(`xdplab: unknown command '${name}'\n` + usage());
    return EXIT_INPUT;
  }
  try {
    const run = await cmd.load();
    return await run(rest);
  } catch (err) {
    if (err instanceof XdplabError) {
      process.stderr.write(`xdplab ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    const dir = mkdtempSync(path.join(tmpdir(), "xdplab-crash-"));
    const file = path.join(dir, "error.txt");
    const detail = err instanceof Error ? `${err.stack ?? err.message}` : String(err);
    writeFileSync(file, `xdplab ${argv.join(" ")}\n\n${detail}\n`);
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`xdplab ${name}: internal error: ${msg.split("\n")[0]} (details in ${file})\n`);
    return EXIT_INTERNAL;
  }
}
