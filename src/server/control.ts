/**
 * Run-time changes of a reference server's faults and domain policies (`serve --http`: `GET`,
 * `PUT`, `DELETE` on `/faults` and `/domains`). A new plan is validated by the profile's own
 * resolvers (`resolveFault`, `resolveDomainPolicies`), compiled, and swapped in whole: every
 * connection reads `ServerContext.faults` / `.domains` at each use, so the next reply after the
 * swap follows the new plan and none sees half of one. An invalid body changes nothing.
 *
 * Every change is recorded in the server's statistics (`changes`: epoch ms, target, what) and
 * logged with a timestamp, so a latency step in a report lines up with its cause.
 */
import { delayToSpec, faultToSpec, percent, resolveFault } from '../profile/faults.js';
import { DEFAULT_BOUNCE_REPLIES, DEFAULT_DEFER_REPLIES } from '../profile/reply-pool.js';
import type { DomainPolicy, Fault } from '../profile/types.js';
import type { ServerContext } from './context.js';
import { DomainPlan } from './domains.js';
import { FaultPlan } from './faults.js';
import type { ServerChange } from './stats.js';

/** The outcome of a change: the new plan as `GET` shows it, or the reasons it was refused (HTTP 400). */
export type ControlResult = { readonly ok: true; readonly body: unknown } | { readonly ok: false; readonly reasons: readonly string[] };

/** Reads and replaces the plans of one server. */
export class ServerControl {
  /** Called with one log line (timestamp first, no newline) per change; `serve` prints it. */
  log: (line: string) => void = () => {};

  constructor(private readonly ctx: ServerContext) {}

  /** The running plans in at most two lines (`faults: …`, `domain policies: …`), as `serve` prints them at start; an empty plan has no line. */
  plans(): string[] {
    return [...(this.ctx.faults.faults.length > 0 ? [`faults: ${this.faultsText()}`] : []), ...(this.ctx.domains.policies.length > 0 ? [`domain policies: ${this.domainsText()}`] : [])];
  }

  /** The running faults in one line, as the change log and `serve` show them: `(none)` without any. */
  private faultsText(): string {
    return this.ctx.faults.faults.length === 0 ? '(none)' : this.faults().join('; ');
  }

  /** The running domain policies in one line (`policyText` each); `(none)` without any. */
  private domainsText(): string {
    return this.ctx.domains.policies.length === 0 ? '(none)' : this.ctx.domains.policies.map(policyText).join('; ');
  }

  /** The running faults, one SPEC each (`serve --fault` syntax). */
  faults(): string[] {
    return this.ctx.faults.faults.map(faultToSpec);
  }

  /**
   * Replaces the faults with `body`: a JSON list of SPEC strings or mappings (or one mapping), or text with one
   * SPEC per line (blank lines and `#` comments skipped). Refused, changing nothing, when the body
   * does not parse or any fault is invalid: every problem named (`faults.1.delay.max: …`).
   */
  setFaults(body: string): ControlResult {
    const reasons: string[] = [];
    let items: unknown[];
    const text = body.trim();
    const json = text.startsWith('[') || text.startsWith('{');
    if (json) {
      try {
        const parsed: unknown = JSON.parse(text);
        // One mapping alone is one fault, as a one-item list is.
        items = Array.isArray(parsed) ? parsed : [parsed];
      } catch (err) {
        return { ok: false, reasons: [`faults: not valid JSON (${(err as Error).message})`] };
      }
    } else items = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    // An empty PUT is a forgotten body far more often than a wish to clear: that is DELETE.
    if (text === '' || (items.length === 0 && !json)) return { ok: false, reasons: ['faults: the body has no fault (to remove every fault, use DELETE /faults)'] };
    if (items.length > MAX_FAULTS) return { ok: false, reasons: [`faults: ${items.length} faults; at most ${MAX_FAULTS}`] };
    const faults: Fault[] = [];
    items.forEach((item, i) => {
      const f = resolveFault(item, (path, message) => reasons.push(`${['faults', i, ...path].join('.')}: ${message}`));
      if (f !== undefined) faults.push(f);
    });
    if (reasons.length > 0) return { ok: false, reasons };
    return { ok: true, body: this.swapFaults(faults) };
  }

  /** Removes every fault. */
  clearFaults(): ControlResult {
    return { ok: true, body: this.swapFaults([]) };
  }

  /** The running domain policies, pattern → policy, in their input form. */
  async domains(): Promise<Record<string, unknown>> {
    return (await domainsModule()).policiesToInput(this.ctx.domains.policies);
  }

  /**
   * Replaces the domain policies with `body`, a JSON mapping as `server.domains` takes it.
   * Refused, changing nothing, when it does not parse or any policy is invalid (`domains."x".defer: …`).
   */
  async setDomains(body: string): Promise<ControlResult> {
    const { resolveDomainPolicies } = await domainsModule();
    let input: unknown;
    try {
      input = JSON.parse(body);
    } catch (err) {
      return { ok: false, reasons: [`domains: not valid JSON (${(err as Error).message})`] };
    }
    const reasons: string[] = [];
    const policies = resolveDomainPolicies(input, (path, message) => reasons.push(`${['domains', ...path].join('.')}: ${message}`));
    if (policies === undefined) return { ok: false, reasons };
    return { ok: true, body: await this.swapDomains(policies) };
  }

  /** Removes every domain policy (per-domain counting, once on, stays on). */
  async clearDomains(): Promise<ControlResult> {
    return { ok: true, body: await this.swapDomains([]) };
  }

  private swapFaults(faults: readonly Fault[]): string[] {
    const ctx = this.ctx;
    ctx.faults = new FaultPlan(faults, ctx.startMs, ctx.settings.seed);
    const specs = this.faults();
    this.record({ atMs: Date.now(), target: 'faults', action: faults.length === 0 ? 'clear' : 'set', what: this.faultsText() });
    return specs;
  }

  private swapDomains(policies: readonly DomainPolicy[]): Promise<Record<string, unknown>> {
    const ctx = this.ctx;
    // Counting stays on once it was: the counts of one run must not stop half-way.
    const count = ctx.domains.count || ctx.settings.countDomains || policies.length > 0;
    ctx.domains = new DomainPlan(policies, count, ctx.settings.seed, ctx.domains);
    this.record({ atMs: Date.now(), target: 'domains', action: policies.length === 0 ? 'clear' : 'set', what: this.domainsText() });
    return this.domains();
  }

  private record(c: Omit<ServerChange, 'seq'>): void {
    // Bounded: the change log keeps at most MAX_CHANGES entries of at most MAX_WHAT characters each.
    if (c.what.length > MAX_WHAT) c = { ...c, what: `${c.what.slice(0, MAX_WHAT)}… (${c.what.length} characters)` };
    this.ctx.metrics.change(c);
    this.log(`${new Date(c.atMs).toISOString()} ${c.target} ${c.action === 'clear' ? 'cleared' : 'set'}: ${c.what}`);
  }
}

/**
 * The profile's domain-policy resolver, loaded on the first use: it brings zod, which a server
 * thread (the embedded server, never changed at run time) has no other use for.
 */
const domainsModule = (): Promise<typeof import('../profile/domains.js')> => import('../profile/domains.js');

/** Most faults one PUT may set. */
export const MAX_FAULTS = 1000;
/** Longest `what` of one change record, characters. */
export const MAX_WHAT = 2000;

/**
 * One policy as the change log shows it: every setting that changes replies (shares, where, latency,
 * rate limit, and pools other than the defaults), so a change is never logged as a no-op.
 */
function policyText(p: DomainPolicy): string {
  const parts = [p.pattern, `defer ${percent(p.defer)}`, `bounce ${percent(p.bounce)}`, `at ${p.at}`];
  if (p.latency !== null) parts.push(`latency ${delayToSpec(p.latency)}`);
  if (p.rate !== null) {
    const { messages, recipients, connections, perMs } = p.rate;
    const counts = [messages === null ? '' : `${messages} messages`, recipients === null ? '' : `${recipients} recipients`, connections === null ? '' : `${connections} connections`];
    parts.push(`rate ${counts.filter((c) => c !== '').join(', ')} per ${perMs} ms`);
  }
  if (p.replies.defer.join() !== DEFAULT_DEFER_REPLIES.join()) parts.push(`defer replies [${p.replies.defer.join(' | ')}]`);
  if (p.replies.bounce.join() !== DEFAULT_BOUNCE_REPLIES.join()) parts.push(`bounce replies [${p.replies.bounce.join(' | ')}]`);
  return parts.join(' ');
}
