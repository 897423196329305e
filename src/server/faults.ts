/**
 * Fault injection at run time: the resolved `server.faults` list compiled into per-command
 * tables, once per server. A connection asks the plan at three points only (a command's reply,
 * the start of a message, the greeting), and a server without faults never asks at all
 * (`FaultPlan.active` is false), so the hot path pays one boolean test.
 *
 * Randomness is one `Rng` per plan, seeded from the profile's `seed` when one was given (the same
 * replies draw the same faults), else from `Math.random()`. A plan is replaced whole at run time
 * (`PUT /faults`): connections read `ServerContext.faults` at each use, so a swap is atomic.
 */
import { performance } from 'node:perf_hooks';
import type { DelaySpec, Fault, FaultCommand } from '../profile/types.js';
import { FAULT_COMMANDS } from '../profile/faults.js';
import { Rng } from '../rng.js';

/** Index of a command in the plan's tables (position in `FAULT_COMMANDS`). */
export type FaultIndex = number;

/** `FaultIndex` of a command name. */
export const faultIndex = (c: FaultCommand): FaultIndex => FAULT_COMMANDS.indexOf(c);

/** What an override does: the reply to send, and whether the connection closes after it (421). */
export interface Override {
  readonly reply: Buffer;
  readonly close: boolean;
}

interface Drawn<T> {
  readonly probability: number;
  readonly value: T;
}

/** Draws for callers without a generator of their own. */
const shared = Rng.unseeded();

/** A generator for draw stream `stream` of a server: seeded from `seed` when given (null: random). */
export function serverRng(seed: number | null, stream: number): Rng {
  return seed === null ? Rng.unseeded() : new Rng(Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b));
}

/** Draws one sample of `d` in ms (the lognormal: median·e^(σ·N(0,1))). */
export function sampleDelay(d: DelaySpec, rng: Rng = shared): number {
  switch (d.dist) {
    case 'fixed':
      return d.ms;
    case 'uniform':
      return d.minMs + rng.next() * (d.maxMs - d.minMs);
    case 'lognormal':
      return d.medianMs * Math.exp(d.sigma * rng.normal());
  }
}

/** The first entry of `list` whose probability draw succeeds, or undefined. */
function draw<T>(rng: Rng, list: readonly Drawn<T>[] | undefined): T | undefined {
  if (list === undefined) return undefined;
  for (const e of list) if (e.probability >= 1 || rng.next() < e.probability) return e.value;
  return undefined;
}

/** The compiled fault list of one server. */
export class FaultPlan {
  /** False when no fault is configured: connections then skip every other call. */
  readonly active: boolean;
  private readonly overrides: (Drawn<Override>[] | undefined)[] = [];
  private readonly delays: (Drawn<DelaySpec>[] | undefined)[] = [];
  private readonly disconnects: (Drawn<number | null>[] | undefined)[] = [];
  private readonly stalls: { readonly from: number; readonly to: number }[] = [];
  private readonly tarpit: { readonly delayMs: number; readonly afterErrors: number } | null = null;
  private readonly any = faultIndex('*');
  private readonly rng: Rng;

  /**
   * @param faults the resolved `server.faults`
   * @param startMs server start on the `performance.now()` clock; stall times count from it
   * @param seed seeds the plan's draws (`ServerSettings.seed`); null: random
   */
  constructor(
    readonly faults: readonly Fault[],
    startMs = performance.now(),
    seed: number | null = null,
  ) {
    this.rng = serverRng(seed, 0);
    this.active = faults.length > 0;
    const add = <T>(table: (Drawn<T>[] | undefined)[], c: FaultCommand, probability: number, value: T) => {
      (table[faultIndex(c)] ??= []).push({ probability, value });
    };
    for (const f of faults) {
      if (f.kind === 'reply') {
        const reply = Buffer.from(`${f.code} ${f.text}\r\n`, 'latin1');
        add(this.overrides, f.command, f.probability, { reply, close: f.code === 421 });
      } else if (f.kind === 'delay') add(this.delays, f.command, f.probability, f.delay);
      else if (f.kind === 'disconnect') add(this.disconnects, f.command, f.probability, f.afterBytes);
      else if (f.kind === 'stall') this.stalls.push({ from: startMs + f.atMs, to: startMs + f.atMs + f.forMs });
      else this.tarpit = { delayMs: f.delayMs, afterErrors: f.afterErrors };
    }
  }

  /** A reply that replaces the command's own (the command is not run), or undefined. */
  override(c: FaultIndex): Override | undefined {
    return draw(this.rng, this.overrides[c]) ?? draw(this.rng, this.overrides[this.any]);
  }

  /**
   * True when the connection should be dropped now, without a reply, on receiving command `c`
   * (faults without `afterBytes`).
   */
  disconnectNow(c: FaultIndex): boolean {
    const rng = this.rng;
    const hit = (list: readonly Drawn<number | null>[] | undefined) => list !== undefined && list.some((d) => d.value === null && (d.probability >= 1 || rng.next() < d.probability));
    return hit(this.disconnects[c]) || hit(this.disconnects[this.any]);
  }

  /** For a message about to start: the octet count after which to drop the connection, or -1. */
  disconnectAfterBytes(c: FaultIndex): number {
    const e = this.disconnects[c];
    if (e === undefined) return -1;
    for (const d of e) if (d.value !== null && (d.probability >= 1 || this.rng.next() < d.probability)) return d.value;
    return -1;
  }

  /**
   * How long (ms) to hold the reply to command `c`, produced at `nowMs`, on a connection that has
   * drawn `errors` negative replies so far: the command's drawn delay (else the `*` delay), plus
   * the tarpit, stretched to the end of any stall window `nowMs` falls in.
   */
  delayMs(c: FaultIndex, nowMs: number, errors: number): number {
    const d = draw(this.rng, this.delays[c]) ?? draw(this.rng, this.delays[this.any]);
    let ms = d === undefined ? 0 : sampleDelay(d, this.rng);
    if (this.tarpit !== null && errors >= this.tarpit.afterErrors) ms += this.tarpit.delayMs;
    for (const s of this.stalls) if (nowMs >= s.from && nowMs < s.to) ms = Math.max(ms, s.to - nowMs);
    return ms;
  }
}
