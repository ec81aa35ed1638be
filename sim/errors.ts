// The error classes a user can meet, each mapped to one exit code of DESIGN §4.4.
// Messages name the file, the field or byte offset, what was expected and what was found.

export const EXIT_OK = 0;
export const EXIT_FAILED = 1; // a check, comparison or property failed
export const EXIT_INPUT = 2; // bad input or usage
export const EXIT_ENV = 3; // the environment lacks something
export const EXIT_INTERNAL = 4; // a bug in xdplab

export class XdplabError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Wrong command-line usage. */
export class UsageError extends XdplabError {
  constructor(message: string) {
    super(message, EXIT_INPUT);
  }
}

/**
 * Bad input data: a scenario field, a capture's structure, a case file.
 * `where` is a field path ("interfaces[1].mtu") or a byte offset.
 */
export class InputError extends XdplabError {
  readonly file: string;
  readonly where: string | number | null;
  constructor(file: string, where: string | number | null, problem: string) {
    const at = where === null ? "" : typeof where === "number" ? ` at byte offset ${where}` : ` field ${where}`;
    super(`${file}${at}: ${problem}`, EXIT_INPUT);
    this.file = file;
    this.where = where;
  }
}

/** Something the machine lacks: privilege, a kernel feature, a tool. */
export class EnvironmentError extends XdplabError {
  constructor(message: string) {
    super(message, EXIT_ENV);
  }
}

/** A check or comparison that ran and failed. */
export class CheckFailure extends XdplabError {
  constructor(message: string) {
    super(message, EXIT_FAILED);
  }
}
