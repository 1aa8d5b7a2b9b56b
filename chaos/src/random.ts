import { createHash } from 'node:crypto';

/**
 * A seeded pseudo-random stream (sfc32): the harness draws every schedule and every plan from
 * it, so `--seed N` replays the same run plan. (What the processes then do with real time,
 * kernels and brokers is not deterministic; the plan is.)
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | string) {
    const h = createHash('sha256').update(String(seed)).digest();
    this.a = h.readUInt32LE(0);
    this.b = h.readUInt32LE(4);
    this.c = h.readUInt32LE(8);
    this.d = h.readUInt32LE(12);
    for (let i = 0; i < 16; i++) this.next();
  }

  /** A float in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: no items to pick from');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Up to `n` distinct items, in random order. */
  sample<T>(items: readonly T[], n: number): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy.slice(0, n);
  }

  /** A child stream: draws from it do not shift this one's sequence. */
  fork(label: string): Rng {
    return new Rng(`${this.next()}:${label}`);
  }
}

/**
 * A float in [0, 1) that depends only on its parts: participants decide misbehaviour per
 * message with it, so a redelivered command (or a restarted process) decides the same way.
 *
 * @example
 * if (unit(seed, 'transient', command.idempotencyKey) < 0.05) throw ParticipantFailure.transient(…);
 */
export function unit(...parts: ReadonlyArray<string | number>): number {
  const h = createHash('sha1').update(parts.join('\u0001')).digest();
  return h.readUInt32LE(0) / 4294967296;
}

/** A fresh seed when none is given: printed first, so any run can be replayed. */
export function newSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
