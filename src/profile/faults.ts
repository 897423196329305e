/**
 * Fault specifications of the reference server (`server.faults` in a profile, `serve --fault`).
 *
 * A fault is written either as a mapping or as a one-line SPEC string; `parseFaultSpec` turns the
 * string into the mapping, and `resolveFault` validates the mapping into a `Fault`. So a string
 * and a mapping can never mean different things, and both report problems by dotted path.
 *
 * SPEC := [COMMAND ":"] ACTION [("@" | "at") PERCENT "%"]
 *
 * | ACTION                                   | mapping form                                   |
 * |------------------------------------------|------------------------------------------------|
 * | `reply 450 4.2.1 Try later` (or just `450 …`) | `{reply: "450 4.2.1 Try later"}`          |
 * | `delay 20ms`                             | `{delay: 20ms}`                                |
 * | `delay uniform 5ms 50ms`                 | `{delay: {dist: uniform, min: 5ms, max: 50ms}}` |
 * | `delay lognormal 10ms 0.5`               | `{delay: {dist: lognormal, median: 10ms, sigma: 0.5}}` |
 * | `disconnect` / `disconnect after 64KiB`  | `{disconnect: true}` / `{disconnect: {after: 64KiB}}` |
 * | `stall 1s at 5s`                         | `{stall: 1s, at: 5s}`                          |
 * | `tarpit 500ms [after 3 errors]`          | `{tarpit: 500ms, afterErrors: 3}`              |
 */
import { FAULT_VERBS, lowerVerb } from '../protocol/verbs.js';
import { MAX_DURATION_MS } from './limits.js';
import { enhancedClassIssue, replyLineIssue } from './reply-pool.js';
import type { DelaySpec, Fault, FaultCommand } from './types.js';
import { parseDuration, parseSize } from './units.js';

/** Every command name a fault may target: the greeting, each verb of `FAULT_VERBS` (with the end of data after DATA), every reply. */
export const FAULT_COMMANDS: readonly FaultCommand[] = ['connect', ...FAULT_VERBS.flatMap((v): FaultCommand[] => (v === 'DATA' ? ['data', 'data-end'] : [lowerVerb(v)])), '*'];

/** Reports one problem at `path`, relative to the fault being resolved. */
export type IssueSink = (path: readonly (string | number)[], message: string) => void;

const ACTIONS = ['reply', 'delay', 'disconnect', 'stall', 'tarpit'] as const;
const MAPPING_KEYS = new Set<string>(['command', 'probability', 'at', 'afterErrors', ...ACTIONS]);

/**
 * Parses a one-line fault SPEC into its mapping form (not yet validated: pass it to `resolveFault`).
 *
 * @example parseFaultSpec('rcpt: 450 4.2.1 busy @ 5%') → {command: 'rcpt', reply: '450 4.2.1 busy', probability: '5%'}
 * @throws Error with a message naming the problem when the SPEC has no recognisable action
 */
export function parseFaultSpec(spec: string): Record<string, unknown> {
  let rest = spec.trim();
  const out: Record<string, unknown> = {};
  // The probability is the trailing "@ 5%" / "at 5 %"; "%" makes it unambiguous against "stall 1s at 5s".
  const prob = /\s*(?:@|\bat)\s*([^\s%]+)\s*%$/i.exec(rest);
  if (prob) {
    out.probability = `${prob[1]}%`;
    rest = rest.slice(0, prob.index).trim();
  }
  const cmd = /^([a-z*][a-z-]*)\s*:\s*/i.exec(rest);
  if (cmd) {
    out.command = cmd[1].toLowerCase();
    rest = rest.slice(cmd[0].length);
  }
  const words = rest.split(/\s+/).filter((w) => w !== '');
  const action = words[0]?.toLowerCase();
  const args = words.slice(1);
  if (action !== undefined && /^\d{3}$/.test(action)) {
    out.reply = words.join(' ');
  } else if (action === 'reply') {
    out.reply = args.join(' ');
  } else if (action === 'delay') {
    const dist = args[0]?.toLowerCase();
    if (dist === 'uniform') {
      const [min, max] = args.length === 2 ? args[1].split('..') : args.slice(1);
      out.delay = { dist, min, max };
    } else if (dist === 'lognormal') out.delay = { dist, median: args[1], sigma: args[2] === undefined ? undefined : Number(args[2]) };
    else if (dist === 'fixed') out.delay = args[1];
    else if (args.length === 1) out.delay = args[0];
    else throw new Error(`expected "delay DURATION", "delay uniform MIN MAX" or "delay lognormal MEDIAN SIGMA", got ${JSON.stringify(spec)}`);
  } else if (action === 'disconnect') {
    if (args.length === 0) out.disconnect = true;
    else if (args.length === 2 && args[0].toLowerCase() === 'after') out.disconnect = { after: args[1] };
    else throw new Error(`expected "disconnect" or "disconnect after SIZE", got ${JSON.stringify(spec)}`);
  } else if (action === 'stall') {
    if (args.length !== 3 || args[1].toLowerCase() !== 'at') throw new Error(`expected "stall DURATION at TIME", got ${JSON.stringify(spec)}`);
    out.stall = args[0];
    out.at = args[2];
  } else if (action === 'tarpit') {
    if (args.length === 1) out.tarpit = args[0];
    else if (args.length === 4 && args[1].toLowerCase() === 'after' && /^errors?$/i.test(args[3])) {
      out.tarpit = args[0];
      out.afterErrors = Number(args[2]);
    } else throw new Error(`expected "tarpit DURATION" or "tarpit DURATION after N errors", got ${JSON.stringify(spec)}`);
  } else {
    throw new Error(`expected an action (reply, delay, disconnect, stall, tarpit) in ${JSON.stringify(spec)}`);
  }
  return out;
}

/** Runs a unit parser; on failure reports at `path` and returns undefined. */
function unit(parse: (v: string | number) => number, value: unknown, path: (string | number)[], issue: IssueSink): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') {
    issue(path, `expected a ${parse === parseSize ? 'size such as 64KiB' : 'duration such as 20ms'}, got ${JSON.stringify(value) ?? 'nothing'}`);
    return undefined;
  }
  try {
    const n = parse(value);
    if (parse === parseDuration && n > MAX_DURATION_MS) {
      issue(path, `must be at most 596h (${MAX_DURATION_MS} ms)`);
      return undefined;
    }
    return n;
  } catch (err) {
    issue(path, (err as Error).message);
    return undefined;
  }
}

/** `0.05`, `"5%"` or `"5 %"` → 0.05; 1 when absent. */
function probabilityOf(value: unknown, issue: IssueSink): number {
  if (value === undefined) return 1;
  const p = typeof value === 'number' ? value : typeof value === 'string' && /^\s*[\d.]+\s*%\s*$/.test(value) ? Number.parseFloat(value) / 100 : Number.NaN;
  if (!(p >= 0 && p <= 1)) {
    issue(['probability'], `expected a probability from 0 to 1 or a percentage such as "5%", got ${JSON.stringify(value)}`);
    return 1;
  }
  return p;
}

/**
 * A delay (a duration, or `{dist: fixed|uniform|lognormal, …}`) as a `DelaySpec`; problems are
 * reported at `key` (and below it). Also the `latency` of a domain policy (src/profile/domains.ts).
 */
export function delayOf(value: unknown, issue: IssueSink, key = 'delay'): DelaySpec | undefined {
  if (typeof value === 'string' || typeof value === 'number') {
    const ms = unit(parseDuration, value, [key], issue);
    return ms === undefined ? undefined : { dist: 'fixed', ms };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    issue([key], 'expected a duration such as 20ms or a mapping {dist: uniform|lognormal, …}');
    return undefined;
  }
  const d = value as Record<string, unknown>;
  if (d.dist === 'fixed') {
    const ms = unit(parseDuration, d.ms, [key, 'ms'], issue);
    return ms === undefined ? undefined : { dist: 'fixed', ms };
  }
  if (d.dist === 'uniform') {
    const minMs = unit(parseDuration, d.min, [key, 'min'], issue);
    const maxMs = unit(parseDuration, d.max, [key, 'max'], issue);
    if (minMs === undefined || maxMs === undefined) return undefined;
    if (maxMs < minMs) {
      issue([key, 'max'], `must not be below min (${maxMs} ms < ${minMs} ms)`);
      return undefined;
    }
    return { dist: 'uniform', minMs, maxMs };
  }
  if (d.dist === 'lognormal') {
    const medianMs = unit(parseDuration, d.median, [key, 'median'], issue);
    const sigma = d.sigma;
    if (typeof sigma !== 'number' || !(sigma >= 0 && sigma <= 10)) {
      issue([key, 'sigma'], `expected a number from 0 to 10 (the shape of ln(delay)), got ${JSON.stringify(sigma) ?? 'nothing'}`);
      return undefined;
    }
    return medianMs === undefined ? undefined : { dist: 'lognormal', medianMs, sigma };
  }
  issue([key, 'dist'], `expected "fixed", "uniform" or "lognormal", got ${JSON.stringify(d.dist) ?? 'nothing'}`);
  return undefined;
}

/**
 * Validates one fault (a SPEC string or its mapping form) into a `Fault`. Every problem is
 * reported through `issue` with a path relative to the fault; returns undefined if there was any.
 */
export function resolveFault(input: unknown, issue: IssueSink): Fault | undefined {
  let f: Record<string, unknown>;
  if (typeof input === 'string') {
    try {
      f = parseFaultSpec(input);
    } catch (err) {
      issue([], (err as Error).message);
      return undefined;
    }
  } else if (input !== null && typeof input === 'object' && !Array.isArray(input)) {
    f = input as Record<string, unknown>;
  } else {
    issue([], `expected a fault SPEC string or a mapping, got ${JSON.stringify(input)}`);
    return undefined;
  }
  let ok = true;
  const report: IssueSink = (path, message) => {
    ok = false;
    issue(path, message);
  };
  for (const key of Object.keys(f)) if (!MAPPING_KEYS.has(key)) report([key], 'unknown key');
  const actions = ACTIONS.filter((a) => f[a] !== undefined);
  if (actions.length !== 1) {
    report([], actions.length === 0 ? `needs one action: ${ACTIONS.join(', ')}` : `has ${actions.length} actions (${actions.join(', ')}); one fault, one action`);
    return undefined;
  }
  const action = actions[0];
  if (action === 'stall' || action === 'tarpit') {
    for (const key of ['command', 'probability'] as const) if (f[key] !== undefined) report([key], `does not apply to ${action} (it holds every reply)`);
    if (action === 'stall') {
      const forMs = unit(parseDuration, f.stall, ['stall'], report);
      const atMs = unit(parseDuration, f.at, ['at'], report);
      return ok && forMs !== undefined && atMs !== undefined ? { kind: 'stall', atMs, forMs } : undefined;
    }
    const delayMs = unit(parseDuration, f.tarpit, ['tarpit'], report);
    const afterErrors = f.afterErrors ?? 0;
    if (!Number.isInteger(afterErrors) || (afterErrors as number) < 0) report(['afterErrors'], `expected an integer of at least 0, got ${JSON.stringify(afterErrors)}`);
    return ok && delayMs !== undefined ? { kind: 'tarpit', delayMs, afterErrors: afterErrors as number } : undefined;
  }
  for (const key of ['at', 'afterErrors'] as const) if (f[key] !== undefined) report([key], `applies only to ${key === 'at' ? 'stall' : 'tarpit'}`);
  const rawCommand = typeof f.command === 'string' ? f.command.toLowerCase() : (f.command ?? '*');
  const command = FAULT_COMMANDS.find((c) => c === rawCommand);
  if (command === undefined) report(['command'], `expected one of ${FAULT_COMMANDS.join(', ')}, got ${JSON.stringify(f.command)}`);
  const probability = probabilityOf(f.probability, report);
  if (!ok || command === undefined) return undefined;

  if (action === 'reply') {
    // RFC 5321 §4.2: three digits, then text. A fault refuses, so only 4yz and 5yz make sense.
    const m = typeof f.reply === 'string' ? /^([45]\d\d)(?:[ ](.*))?$/.exec(f.reply.trim()) : null;
    if (m === null || /[\r\n]/.test(f.reply as string)) {
      report(['reply'], `expected a 4xx or 5xx reply such as "450 4.2.1 Try again later", got ${JSON.stringify(f.reply)}`);
      return undefined;
    }
    const issue = replyLineIssue((f.reply as string).trim()) ?? enhancedClassIssue((f.reply as string).trim());
    if (issue !== null) {
      report(['reply'], issue);
      return undefined;
    }
    return { kind: 'reply', command, probability, code: Number(m[1]), text: m[2] ?? 'Injected fault' };
  }
  if (action === 'delay') {
    const delay = delayOf(f.delay, report);
    return delay === undefined ? undefined : { kind: 'delay', command, probability, delay };
  }
  // disconnect
  if (f.disconnect === true) return { kind: 'disconnect', command, probability, afterBytes: null };
  const after = typeof f.disconnect === 'object' && f.disconnect !== null ? (f.disconnect as Record<string, unknown>).after : undefined;
  if (after === undefined) {
    report(['disconnect'], 'expected true or {after: SIZE}');
    return undefined;
  }
  if (command !== 'data') report(['disconnect', 'after'], 'counts message octets, so the command must be "data"');
  const afterBytes = unit(parseSize, after, ['disconnect', 'after'], report);
  return ok && afterBytes !== undefined ? { kind: 'disconnect', command, probability, afterBytes } : undefined;
}

/** `12.5` → `"12.5ms"`: a duration in ms as the SPEC syntax writes it. */
const ms = (n: number): string => `${Number(n.toPrecision(12))}ms`;

/** A probability 0..1 as a percentage, `0.05` → `"5%"`. */
export const percent = (p: number): string => `${Number((p * 100).toPrecision(12))}%`;

/** A `DelaySpec` in the SPEC syntax after `delay`: `20ms`, `uniform 5ms 50ms`, `lognormal 10ms 0.5`. */
export function delayToSpec(d: DelaySpec): string {
  if (d.dist === 'fixed') return ms(d.ms);
  if (d.dist === 'uniform') return `uniform ${ms(d.minMs)} ${ms(d.maxMs)}`;
  return `lognormal ${ms(d.medianMs)} ${d.sigma}`;
}

/**
 * A resolved fault as a one-line SPEC that `resolveFault` turns back into the same fault (what
 * `GET /faults` lists, and what a change log shows).
 */
export function faultToSpec(f: Fault): string {
  if (f.kind === 'stall') return `stall ${ms(f.forMs)} at ${ms(f.atMs)}`;
  if (f.kind === 'tarpit') return `tarpit ${ms(f.delayMs)} after ${f.afterErrors} errors`;
  const action = f.kind === 'reply' ? `reply ${f.code} ${f.text}` : f.kind === 'delay' ? `delay ${delayToSpec(f.delay)}` : f.afterBytes === null ? 'disconnect' : `disconnect after ${f.afterBytes}`;
  return `${f.command}: ${action}${f.probability < 1 ? ` @ ${percent(f.probability)}` : ''}`;
}
