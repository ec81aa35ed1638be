// A small, strict argument parser: unknown options are usage errors (exit 2).
import { UsageError } from "../sim/errors.js";

export interface OptSpec {
  /** option name without dashes → takes a value? */
  [name: string]: "flag" | "value";
}

export interface Parsed {
  positional: string[];
  flags: Set<string>;
  values: Map<string, string>;
}

export function parseArgs(cmd: string, argv: string[], spec: OptSpec): Parsed {
  const out: Parsed = { positional: [], flags: new Set(), values: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      out.positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      let name = a.slice(2);
      let value: string | undefined;
      const eq = name.indexOf("=");
      if (eq >= 0) {
        value = name.slice(eq + 1);
        name = name.slice(0, eq);
      }
      const kind = spec[name];
      if (kind === undefined) throw new UsageError(`${cmd}: unknown option --${name}`);
      if (kind === "flag") {
        if (value !== undefined) throw new UsageError(`${cmd}: option --${name} takes no value`);
        out.flags.add(name);
      } else {
        if (value === undefined) {
          value = argv[++i];
          if (value === undefined) throw new UsageError(`${cmd}: option --${name} needs a value`);
        }
        out.values.set(name, value);
      }
    } else out.positional.push(a);
  }
  return out;
}

export function intOption(cmd: string, p: Parsed, name: string, dflt: number): number {
  const v = p.values.get(name);
  if (v === undefined) return dflt;
  if (!/^-?\d+$/.test(v)) throw new UsageError(`${cmd}: --${name} expects an integer, got '${v}'`);
  return Number(v);
}
