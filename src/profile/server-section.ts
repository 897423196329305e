/**
 * The profile's `server` section: the embedded reference server's settings (limits, faults, AUTH,
 * TLS, LMTP, XCLIENT, PROXY, logs), its schema and its defaults.
 */
import { z } from 'zod';
import { resolveDomainPolicies } from './domains.js';
import { resolveFault } from './faults.js';
import { bool, duration, intIn, show, size, wireToken } from './fields.js';
import type { ServerSettings } from './types.js';

/** One fault, a SPEC string or a mapping (src/profile/faults.ts); problems get paths below `server.faults.N`. */
const FaultSchema = z.unknown().transform((value, ctx) => {
  const fault = resolveFault(value, (path, message) => ctx.addIssue({ code: 'custom', message, path: [...path] }));
  return fault ?? z.NEVER;
});

/** `server.domains`: pattern → policy (src/profile/domains.ts); problems get paths below `server.domains."pattern"`. */
const DomainsSchema = z.unknown().transform((value, ctx) => {
  const policies = resolveDomainPolicies(value, (path, message) => ctx.addIssue({ code: 'custom', message, path: [...path] }));
  return policies ?? z.NEVER;
});

/** `server.forced`: `true` (the default), `false` (off), or `{slowMs: 2s}`. */
const ForcedSchema = z.union([bool(), z.strictObject({ slowMs: duration(0).optional() })], { error: (iss) => `expected true, false or {slowMs: 2s}, got ${show(iss.input)}` });

/** `server`: the embedded reference server's settings, every key optional. */
export const ServerSchema = z.strictObject({
  maxRecipients: intIn(1).optional(),
  maxMessageSize: size(0).optional(),
  hostname: wireToken(1).optional(),
  faults: z.array(FaultSchema, { error: (iss) => `expected a list of faults, got ${show(iss.input)}` }).optional(),
  maxConnections: intIn(0).optional(),
  maxCommandLine: size(512).optional(), // RFC 5321 §4.5.3.1.4
  maxErrors: intIn(0).optional(),
  maxTextLine: size(0)
    .refine((n) => n === 0 || n >= 1000, 'must be 0 (not checked) or at least 1000 (RFC 5321 §4.5.3.1.6)')
    .optional(),
  timeouts: z.strictObject({ idle: duration(1).optional(), command: duration(1).optional() }).optional(),
  refusedLocalParts: z.array(wireToken(1), { error: (iss) => `expected a list of local parts, got ${show(iss.input)}` }).optional(),
  chunking: bool().optional(),
  auth: z
    .strictObject({
      users: z.record(wireToken(1), z.string({ error: (iss) => `expected a password string, got ${show(iss.input)}` })).optional(),
      required: bool().optional(),
      mechanisms: z
        .array(z.enum(['PLAIN', 'LOGIN', 'CRAM-MD5'], { error: (iss) => `expected PLAIN, LOGIN or CRAM-MD5, got ${show(iss.input)}` }))
        .min(1, 'must name at least one mechanism')
        .optional(),
    })
    .optional(),
  tls: z.strictObject({ starttls: bool().optional(), cert: z.string().min(1).optional(), key: z.string().min(1).optional(), port: intIn(0, 65_535).optional() }).optional(),
  vrfy: z.array(wireToken(1), { error: (iss) => `expected a list of mailboxes, got ${show(iss.input)}` }).optional(),
  expn: z.record(wireToken(1), z.array(wireToken(1), { error: (iss) => `expected a list of member mailboxes, got ${show(iss.input)}` })).optional(),
  legacySend: z.enum(['refuse', 'mail'], { error: (iss) => `expected "refuse" or "mail", got ${show(iss.input)}` }).optional(),
  atrn: z.enum(['refuse', 'odmr'], { error: (iss) => `expected "refuse" or "odmr", got ${show(iss.input)}` }).optional(),
  lmtp: bool().optional(),
  xclient: bool().optional(),
  proxyProtocol: z.enum(['off', 'v1', 'v2', 'any'], { error: (iss) => `expected off, v1, v2 or any, got ${show(iss.input)}` }).optional(),
  sessionLog: intIn(0, 1_000_000).optional(),
  capture: intIn(0, 100_000).optional(),
  domains: DomainsSchema.optional(),
  countDomains: bool().optional(),
  forced: ForcedSchema.optional(),
  bandwidth: size(0).optional(), // bytes per second per connection
  maxConnectionsPerClient: intIn(0).optional(),
});

type ParsedServer = z.output<typeof ServerSchema>;

/**
 * The `server` section with defaults: keys named as in `ServerSettings` are taken as parsed (units
 * already converted by the schema); `timeouts` and `tls` rename theirs (`idle` → `idleMs`, `cert` → `certFile`).
 * `seed` is the profile's top-level seed when one was given (the server's draws are then replayable).
 * `weightedDomains`: the client draws recipient domains from a weighted list, so the embedded
 * server counts per domain by default too (the two tables can then be compared).
 */
export function resolveServer(given: ParsedServer | undefined, d: ServerSettings, seed?: number, weightedDomains = false): ServerSettings {
  const { timeouts, tls, auth, forced, countDomains, ...sameNamed } = given ?? {};
  const domains = sameNamed.domains ?? d.domains;
  return {
    ...orDefaults<ServerSettings>(sameNamed, d),
    countDomains: countDomains ?? (domains.length > 0 || weightedDomains || d.countDomains),
    forced: forced === undefined || forced === true ? d.forced : forced === false ? null : { slowMs: forced.slowMs ?? d.forced?.slowMs ?? 2000 },
    seed: seed ?? d.seed,
    timeouts: { idleMs: timeouts?.idle ?? d.timeouts.idleMs, commandMs: timeouts?.command ?? d.timeouts.commandMs },
    auth: orDefaults(auth, d.auth),
    tls: { starttls: tls?.starttls ?? d.tls.starttls, certFile: tls?.cert ?? d.tls.certFile, keyFile: tls?.key ?? d.tls.keyFile, port: tls?.port ?? d.tls.port },
  };
}

/** `defaults`, with each of its keys that `given` sets (not undefined) taken from `given`. */
function orDefaults<T extends object>(given: { readonly [K in keyof T]?: T[K] } | undefined, defaults: T): T {
  const out = { ...defaults };
  for (const key of Object.keys(defaults) as (keyof T)[]) {
    const value = given?.[key];
    if (value !== undefined) out[key] = value as T[keyof T];
  }
  return out;
}
