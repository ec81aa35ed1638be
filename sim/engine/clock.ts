// Virtual time of the model: integer nanoseconds held in a JS number. All stages read
// time from here, never from the wall clock. 2^53 ns is ~104 days, far beyond any run;
// `advanceTo` refuses to go backwards so a mis-ordered event shows up as an error.

export const NS_PER_US = 1_000;
export const NS_PER_MS = 1_000_000;
export const NS_PER_S = 1_000_000_000;

export class Clock {
  now = 0;

  advanceTo(t: number): void {
    if (t < this.now) throw new RangeError(`virtual time would go backwards: ${t} < ${this.now}`);
    if (t > Number.MAX_SAFE_INTEGER) throw new RangeError(`virtual time ${t} exceeds 2^53 ns`);
    this.now = t;
  }
}

/** Integer ns from a (possibly fractional) duration; rounds half up so results are stable. */
export function toNs(x: number): number {
  return Math.floor(x + 0.5);
}
