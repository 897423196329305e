import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { parse } from 'yaml';
import { availableParallelism } from 'node:os';
import { ProfileError } from '../errors.js';
import { DEFAULTS } from './defaults.js';
import { resolveProfile } from './resolve.js';
import { parseTarget } from './schema.js';
import { errorOf } from './errors.testkit.js';

const paths = (err: ProfileError) => err.issues.map((i) => i.path);
const issueAt = (err: ProfileError, path: string) => err.issues.find((i) => i.path === path)?.message;

describe('resolveProfile: defaults', () => {
  it('fills every default from DEFAULTS', () => {
    expect(resolveProfile({})).toEqual(DEFAULTS);
    expect(resolveProfile(undefined)).toEqual(DEFAULTS);
    expect(resolveProfile(null)).toEqual(DEFAULTS); // an empty YAML file
  });

  it('leaves a core to a target on this machine: the embedded server or loopback, not a remote one (issue 14)', () => {
    const cores = Math.min(availableParallelism(), 256);
    expect(resolveProfile({}).workers).toBe(Math.max(1, cores - 1));
    expect(resolveProfile({ target: 'smtp://127.0.0.2:25' }).workers).toBe(Math.max(1, cores - 1));
    expect(resolveProfile({ target: 'smtp://[::1]:25' }).workers).toBe(Math.max(1, cores - 1));
    expect(resolveProfile({ target: 'smtp://mx.example.test:25', allowRealRecipients: true }).workers).toBe(cores);
    expect(resolveProfile({ target: 'smtp://mx.example.test:25', workers: 3, allowRealRecipients: true }).workers).toBe(3);
  });

  it('has the documented default values', () => {
    // The server section is documented in docs/profiles.md's profile block: checked below against it.
    const { server: _server, ...rest } = DEFAULTS;
    expect(rest).toEqual({
      target: null,
      // The embedded server shares the machine: one core is left to it.
      workers: Math.max(1, Math.min(availableParallelism(), 256) - 1),
      executor: 'closed',
      sessions: 20,
      messagesPerSession: 100,
      messages: 10_000,
      durationMs: null,
      warmupMs: 0,
      rate: null,
      startRate: 0,
      startSessions: 0,
      stages: [],
      maxSessions: 100,
      gracefulStopMs: 10_000,
      message: {
        sizeBytes: 1024,
        sizeDist: null,
        recipients: 1,
        recipientsDist: null,
        maxRecipientsPerTransaction: null,
        body: 'data',
        chunkBytes: 65_536,
        text: 'ascii',
        replay: null,
        attachmentBytes: null,
      },
      envelope: { from: 'bench@example.test', to: 'rcpt{n}@example.test', domains: null, helo: 'smtpbench.example.test' },
      pipelining: 'auto',
      scenario: null,
      tls: { starttls: 'off', verify: true, ca: null, resume: false },
      auth: null,
      identity: { sourceIp: null, clientAddress: null, proxy: 'off', xclient: false },
      allowRealRecipients: false,
      timeouts: { connectMs: 5000, greetingMs: 10_000, replyMs: 30_000, bodyMs: 60_000 },
      seed: 1,
      thresholds: [],
      percentiles: [50, 90, 99, 99.9],
    });
  });

  it("has the server defaults docs/profiles.md's profile block documents", () => {
    const profiles = readFileSync(new URL('../../docs/profiles.md', import.meta.url), 'utf8');
    const yamlBlock = /```yaml\n(target:[\s\S]*?)```/.exec(profiles)![1];
    const documented = (parse(yamlBlock) as { server: unknown }).server;
    expect(resolveProfile({ server: documented }).server).toEqual(DEFAULTS.server);
  });

  it('drops the default message count when only a duration is given', () => {
    const p = resolveProfile({ duration: '30s' });
    expect(p.messages).toBeNull();
    expect(p.durationMs).toBe(30_000);
    expect(resolveProfile({ duration: '30s', messages: 5 })).toMatchObject({ messages: 5, durationMs: 30_000 });
  });

  it('treats null values as absent', () => {
    expect(resolveProfile({ message: null, target: null, sessions: null })).toEqual(DEFAULTS);
  });

  it('converts units', () => {
    const p = resolveProfile({
      warmup: '2s',
      duration: '1m',
      message: { size: '4KiB' },
      timeouts: { connect: '250ms', greeting: 1000, reply: '1.5s', body: '2m' },
      server: { maxMessageSize: '10MB' },
    });
    expect(p.warmupMs).toBe(2000);
    expect(p.durationMs).toBe(60_000);
    expect(p.message.sizeBytes).toBe(4096);
    expect(p.timeouts).toEqual({ connectMs: 250, greetingMs: 1000, replyMs: 1500, bodyMs: 120_000 });
    expect(p.server.maxMessageSize).toBe(10_000_000);
  });

  it('returns a deeply frozen profile', () => {
    const p = resolveProfile({ target: 'smtp://127.0.0.1:2525' });
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.message)).toBe(true);
    expect(Object.isFrozen(p.target)).toBe(true);
    expect(Object.isFrozen(p.timeouts)).toBe(true);
    expect(Object.isFrozen(DEFAULTS.server)).toBe(true);
  });
});

describe('resolveProfile: overrides', () => {
  it('lets flags win over the file, key by key, merging nested objects', () => {
    const file = { sessions: 5, workers: 2, message: { size: '2KiB', recipients: 3 }, envelope: { to: 'u{n}@x.test' } };
    const p = resolveProfile(file, { sessions: 50, message: { size: '8KiB' } });
    expect(p.sessions).toBe(50);
    expect(p.workers).toBe(2);
    expect(p.message).toEqual({
      sizeBytes: 8192,
      sizeDist: null,
      recipients: 3,
      recipientsDist: null,
      maxRecipientsPerTransaction: null,
      body: 'data',
      chunkBytes: 65_536,
      text: 'ascii',
      replay: null,
      attachmentBytes: null,
    });
  });

  it('ignores undefined override values (flags not given)', () => {
    const p = resolveProfile({ sessions: 5 }, { sessions: undefined, message: { size: undefined } });
    expect(p.sessions).toBe(5);
  });

  it('validates overrides too', () => {
    const err = errorOf({ sessions: 5 }, { sessions: 0 });
    expect(paths(err)).toEqual(['sessions']);
  });

  it('does not modify its inputs', () => {
    const file = { message: { size: '2KiB' } };
    const flags = { message: { recipients: 2 } };
    resolveProfile(file, flags);
    expect(file).toEqual({ message: { size: '2KiB' } });
    expect(flags).toEqual({ message: { recipients: 2 } });
  });
});

describe('resolveProfile: errors', () => {
  it('lists every bad field in one ProfileError', () => {
    const err = errorOf({ sessions: 0, message: { size: '12 parsecs' }, target: 'http://mx.example:25' });
    expect(err.code).toBe('SB_INVALID_PROFILE');
    expect(err.issues).toHaveLength(3);
    expect(paths(err).sort()).toEqual(['message.size', 'sessions', 'target']);
    expect(err.message).toContain('3 problem(s)');
    for (const path of ['sessions', 'message.size', 'target']) expect(err.message).toContain(`- ${path}: `);
  });

  it('names an unknown key by its dotted path, with a hint', () => {
    const err = errorOf({ message: { sise: '1KiB' }, sesions: 3 });
    expect(issueAt(err, 'message.sise')).toMatch(/^unknown key \(did you mean "size"\?\)$/);
    expect(issueAt(err, 'sesions')).toMatch(/^unknown key \(did you mean "sessions"\?\)$/);
    expect(issueAt(errorOf({ zzzzzz: 1 }), 'zzzzzz')).toBe('unknown key');
  });

  it('checks the open models: a rate for open, stages for ramping-rate, neither elsewhere', () => {
    expect(paths(errorOf({ executor: 'open' }))).toEqual(['rate']);
    expect(paths(errorOf({ executor: 'ramping-rate' }))).toEqual(['stages']);
    expect(paths(errorOf({ rate: 10 }))).toEqual(['rate']);
    expect(paths(errorOf({ executor: 'open', rate: 0 }))).toEqual(['rate']);
    expect(paths(errorOf({ startSessions: 4, startRate: 10 })).sort()).toEqual(['startRate', 'startSessions']);
    expect(paths(errorOf({ executor: 'ramping-sessions', startSessions: -1, stages: [{ duration: '1s', target: 1 }] }))).toEqual(['startSessions']);
    const bad = errorOf({ executor: 'ramping-rate', stages: [{ duration: '1s', target: -1 }, { duration: 'x', target: 1 }, { target: 1 }] });
    expect(paths(bad).sort()).toEqual(['stages.0.target', 'stages.1.duration', 'stages.2.duration']);
    const p = resolveProfile({ executor: 'ramping-rate', startRate: 10, stages: [{ duration: '2s', target: 100 }], maxSessions: 7, gracefulStop: '1s' });
    expect(p).toMatchObject({ executor: 'ramping-rate', startRate: 10, stages: [{ durationMs: 2000, target: 100 }], maxSessions: 7, gracefulStopMs: 1000, messages: null });
    expect(resolveProfile({ executor: 'ramping-sessions', startSessions: 5, stages: [{ duration: '1s', target: 10 }] }).startSessions).toBe(5);
    expect(resolveProfile({ executor: 'open', rate: 250.5, duration: '10s' })).toMatchObject({ rate: 250.5, messages: null, durationMs: 10_000 });
  });

  it('collects type, range, unit and cross-field problems together', () => {
    const err = errorOf({
      workers: 300,
      executor: 'poisson',
      messagesPerSession: 1.5,
      messages: '100',
      seed: 'x',
      pipelining: 'on',
      message: { recipients: 5, body: 'chunked' },
      envelope: { to: 'same@example.test', helo: 'has space' },
      timeouts: { reply: '30' },
      server: 3,
    });
    expect(paths(err).sort()).toEqual(['envelope.helo', 'envelope.to', 'executor', 'message.body', 'messages', 'messagesPerSession', 'pipelining', 'seed', 'server', 'timeouts.reply', 'workers']);
    expect(issueAt(err, 'workers')).toBe('must be at most 256');
    expect(issueAt(err, 'executor')).toBe('expected "closed", "open", "ramping-rate" or "ramping-sessions", got "poisson"');
    expect(issueAt(err, 'envelope.to')).toMatch(/must contain "\{n\}"/);
    expect(issueAt(err, 'timeouts.reply')).toMatch(/needs a unit/);
    expect(issueAt(err, 'server')).toBe('expected a mapping, got 3');
  });

  it('requires {n} in envelope.to only with several recipients', () => {
    expect(resolveProfile({ envelope: { to: 'one@example.test' } }).envelope.to).toBe('one@example.test');
    expect(paths(errorOf({ envelope: { to: 'one@example.test' }, message: { recipients: 2 } }))).toEqual(['envelope.to']);
  });

  it('reports recipients out of range without a second envelope.to issue', () => {
    const err = errorOf({ envelope: { to: 'one@example.test' }, message: { recipients: 100_001 } });
    expect(paths(err)).toEqual(['message.recipients']);
  });

  it('requires warmup shorter than duration', () => {
    expect(paths(errorOf({ warmup: '30s', duration: '30s' }))).toEqual(['warmup']);
  });

  it('rejects a profile that is not a mapping, and still checks the overrides', () => {
    const err = errorOf(['sessions', 3], { workers: 0 });
    expect(paths(err)).toEqual(['', 'workers']);
    expect(err.message).toContain('(root): expected a mapping');
  });

  it('names the source in the message', () => {
    expect(() => resolveProfile({ sessions: -1 }, undefined, 'profiles/x.yaml')).toThrow(/^invalid profiles\/x\.yaml: 1 problem/);
  });
});

describe('target', () => {
  it.each([
    ['smtp://127.0.0.1:2525', { scheme: 'smtp', host: '127.0.0.1', port: 2525 }],
    ['smtp://mx.example.test:25', { scheme: 'smtp', host: 'mx.example.test', port: 25 }],
    ['SMTP://localhost:587/', { scheme: 'smtp', host: 'localhost', port: 587 }],
    ['smtp://[::1]:2525', { scheme: 'smtp', host: '::1', port: 2525 }],
    ['smtp://[2001:db8::25]:65535', { scheme: 'smtp', host: '2001:db8::25', port: 65535 }],
    ['smtps://mx.example.test:465', { scheme: 'smtps', host: 'mx.example.test', port: 465 }],
    ['lmtp://127.0.0.1:24', { scheme: 'lmtp', host: '127.0.0.1', port: 24 }],
  ])('parses %s', (text, spec) => {
    expect(parseTarget(text)).toEqual(spec);
    expect(resolveProfile({ target: text }).target).toEqual(spec);
  });

  it.each([
    ['http://127.0.0.1:25', /unsupported scheme "http" \(expected smtp, smtps or lmtp\)/],
    ['smtp://127.0.0.1', /missing port/],
    ['smtp://127.0.0.1:', /missing port/],
    ['smtp://[::1]', /missing port/],
    ['smtp://127.0.0.1:0', /out of range/],
    ['smtp://127.0.0.1:65536', /out of range/],
    ['smtp://:25', /missing host/],
    ['smtp://[nothex]:25', /not an IPv6 address/],
    ['smtp://user@mx.example.test:25', /without user, path or query/],
    ['smtp://mx.example.test:25/path', /without user, path or query/],
    ['127.0.0.1:25', /expected smtp:\/\/HOST:PORT/],
  ])('rejects %s', (text, message) => {
    expect(() => parseTarget(text)).toThrow(message);
    const err = errorOf({ target: text });
    expect(paths(err)).toEqual(['target']);
    expect(issueAt(err, 'target')).toMatch(message);
  });

  it.each([
    ['smtp://user:TGTSECRET@127.0.0.1:1', 'smtp://***@127.0.0.1:1'],
    ['smtp://u:pa/ss@TGTSECRET@127.0.0.1:1/x', 'smtp://***@127.0.0.1:1/x'],
    ['user:TGTSECRET@127.0.0.1:1', '***@127.0.0.1:1'],
  ])('never echoes the userinfo of %s', (text, shown) => {
    const message = issueAt(errorOf({ target: text }), 'target');
    expect(message).toContain(`got ${JSON.stringify(shown)}`);
    expect(message).not.toContain('TGTSECRET');
    expect(message).not.toContain('user:');
  });

  it('rejects a target that is not a string', () => {
    expect(issueAt(errorOf({ target: 2525 }), 'target')).toMatch(/expected a URL such as smtp:\/\//);
  });
});

describe('resolveProfile: server settings', () => {
  it('resolves the reference-server sections with units', () => {
    const s = resolveProfile({
      server: {
        maxConnections: 5,
        maxCommandLine: '1KiB',
        maxErrors: 0,
        timeouts: { idle: '30s', command: '10s' },
        refusedLocalParts: ['unknown'],
        chunking: false,
        auth: { users: { alice: 'secret' }, required: true, mechanisms: ['PLAIN'] },
        tls: { starttls: false, cert: 'c.pem', key: 'k.pem' },
      },
    }).server;
    expect(s).toMatchObject({
      maxConnections: 5,
      maxCommandLine: 1024,
      maxErrors: 0,
      timeouts: { idleMs: 30_000, commandMs: 10_000 },
      refusedLocalParts: ['unknown'],
      chunking: false,
      auth: { users: { alice: 'secret' }, required: true, mechanisms: ['PLAIN'] },
      tls: { starttls: false, certFile: 'c.pem', keyFile: 'k.pem' },
    });
  });

  it('names every bad server field', () => {
    const err = errorOf({
      server: {
        maxCommandLine: 100,
        chunking: 'yes',
        auth: { required: true, mechanisms: ['NTLM'] },
        tls: { cert: 'c.pem' },
        timeouts: { idle: 'soon' },
      },
    });
    expect(paths(err).sort()).toEqual(['server.auth.mechanisms.0', 'server.auth.required', 'server.chunking', 'server.maxCommandLine', 'server.timeouts.idle', 'server.tls.key'].sort());
    expect(issueAt(err, 'server.auth.required')).toBe('needs at least one account in server.auth.users');
    expect(issueAt(err, 'server.maxCommandLine')).toBe('must be at least 512');
  });
});

describe('resolveProfile: client protocol keys', () => {
  it('resolves fan-out, body, TLS and AUTH settings', () => {
    const p = resolveProfile({
      message: { recipients: 5000, maxRecipientsPerTransaction: 1000, body: 'bdat', chunkSize: '1MiB' },
      tls: { starttls: 'on', verify: true, ca: 'ca.pem', resume: true },
      auth: { mechanism: 'CRAM-MD5', credentialsFile: 'accounts.txt' },
    });
    expect(p.message).toEqual({
      sizeBytes: 1024,
      sizeDist: null,
      recipients: 5000,
      recipientsDist: null,
      maxRecipientsPerTransaction: 1000,
      body: 'bdat',
      chunkBytes: 1_048_576,
      text: 'ascii',
      replay: null,
      attachmentBytes: null,
    });
    expect(p.tls).toEqual({ starttls: 'on', verify: true, ca: 'ca.pem', resume: true });
    expect(p.auth).toEqual({ mechanism: 'CRAM-MD5', credentialsFile: 'accounts.txt' });
    expect(resolveProfile({ auth: {} }).auth).toEqual({ mechanism: 'auto', credentialsFile: null });
  });

  it('names every bad client key', () => {
    const err = errorOf({
      message: { maxRecipientsPerTransaction: 0, chunkSize: '0' },
      tls: { starttls: 'yes', verify: 'no', ca: '', resum: true },
      auth: { mechanism: 'GSSAPI' },
      allowRealRecipients: 'yes',
    });
    expect(paths(err).sort()).toEqual(['allowRealRecipients', 'auth.mechanism', 'message.chunkSize', 'message.maxRecipientsPerTransaction', 'tls.ca', 'tls.resum', 'tls.starttls', 'tls.verify']);
    expect(issueAt(err, 'tls.starttls')).toBe('expected "off", "auto" or "on", got "yes"');
    expect(issueAt(err, 'tls.resum')).toBe('unknown key (did you mean "resume"?)');
    expect(issueAt(err, 'auth.mechanism')).toMatch(/expected "PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2" or "auto"/);
  });

  it('refuses settings that contradict each other or that the model ignores, each named (hostile review F17)', () => {
    expect(issueAt(errorOf({ tls: { verify: false, ca: 'ca.pem' } }), 'tls.ca')).toMatch(/no effect with tls.verify: false \(--insecure\)/);
    expect(issueAt(errorOf({ target: 'smtps://127.0.0.1:465', tls: { starttls: 'on' } }), 'tls.starttls')).toMatch(/does not apply to an smtps:\/\/ target/);
    expect(() => resolveProfile({ target: 'smtps://127.0.0.1:465', tls: { starttls: 'off' } })).not.toThrow();
    expect(issueAt(errorOf({ executor: 'closed', maxSessions: 10 }), 'maxSessions')).toMatch(/only the open models .* "closed"/);
    expect(issueAt(errorOf({ executor: 'ramping-sessions', stages: [{ duration: '1s', target: 2 }], maxSessions: 10 }), 'maxSessions')).toMatch(/"ramping-sessions"/);
    const swapped = errorOf({ message: { recipients: { dist: 'uniform', min: 10, max: 5 }, size: { dist: 'uniform', min: '64KiB', max: '1KiB' } }, envelope: { to: 'r{n}@example.test' } });
    expect(issueAt(swapped, 'message.recipients.min')).toBe('is above max (10 > 5)');
    expect(issueAt(swapped, 'message.size.min')).toBe('is above max (65536 > 1024)');
    expect(resolveProfile({ message: { size: { dist: 'uniform', min: '1KiB', max: '64KiB' } } }).message.sizeDist).toEqual({ dist: 'uniform', min: 1024, max: 65536 });
  });

  it('refuses real recipient domains on a non-loopback target unless allowed', () => {
    const real = { target: 'smtp://mx.example.net:25', envelope: { to: 'user{n}@gmail.com', from: 'me@corp.example' } };
    const err = errorOf(real);
    expect(paths(err)).toEqual(['envelope.to']);
    expect(issueAt(err, 'envelope.to')).toMatch(/domain "gmail.com" is not reserved .* allowRealRecipients/);
    expect(paths(errorOf({ ...real, envelope: { to: 'u{n}@example.test', from: 'me@corp.com' } }))).toEqual(['envelope.from']);
    expect(resolveProfile({ ...real, allowRealRecipients: true }).allowRealRecipients).toBe(true);
    // Shapes that reach a real mailbox whatever the domain says (hostile review F6).
    const remote = { target: 'smtp://192.0.2.1:25', envelope: { from: 'bench@example.test' } };
    for (const [to, why] of [
      ['postmaster', /"postmaster" has no domain: the MTA delivers it to a local mailbox/],
      ['rcpt{n}', /"rcpt\{n\}" has no domain/],
      ['@gmail.com:rcpt{n}@example.test', /is a source route/],
      ['victim%gmail.com@example.test', /routes through its local part/],
      ['gmail.com!victim@example.test', /routes through its local part/],
      ['user@[192.0.2.7]', /domain "\[192.0.2.7\]" is not reserved/],
    ] as const) {
      expect(issueAt(errorOf({ ...remote, envelope: { ...remote.envelope, to } }), 'envelope.to'), to).toMatch(why);
      expect(() => resolveProfile({ ...remote, envelope: { ...remote.envelope, to }, allowRealRecipients: true }), to).not.toThrow();
    }
    // The null reverse-path is no address at all; a domain-less sender is refused like a recipient.
    expect(() => resolveProfile({ ...remote, envelope: { from: '', to: 'r{n}@example.test' } })).not.toThrow();
    expect(issueAt(errorOf({ ...remote, envelope: { from: 'root', to: 'r{n}@example.test' } }), 'envelope.from')).toMatch(/"root" has no domain/);
    // Loopback targets and reserved domains pass.
    expect(() => resolveProfile({ ...real, target: 'smtp://127.0.0.1:2525' })).not.toThrow();
    expect(() => resolveProfile({ ...real, target: 'smtp://[::1]:2525' })).not.toThrow();
    expect(() => resolveProfile({ target: 'smtp://mx.example.net:25', envelope: { to: 'a{n}@sub.example.com' } })).not.toThrow();
  });

  it('keeps BDAT away from LMTP', () => {
    expect(paths(errorOf({ target: 'lmtp://127.0.0.1:24', message: { body: 'bdat' } }))).toEqual(['message.body']);
  });
});

describe('resolveProfile: per-message distributions', () => {
  it('takes a fixed value or a {dist} mapping for size and recipients', () => {
    const p = resolveProfile({
      message: { size: { dist: 'lognormal', median: '8KiB', sigma: 1.2 }, recipients: { dist: 'uniform', min: 1, max: 50 } },
    });
    expect(p.message.sizeDist).toEqual({ dist: 'lognormal', median: 8192, sigma: 1.2, min: 1, max: Math.round(8192 * Math.exp(4.8)) });
    expect(p.message.sizeBytes).toBe(Math.round(8192 * Math.exp(4.8)));
    expect(p.message.recipientsDist).toEqual({ dist: 'uniform', min: 1, max: 50 });
    expect(p.message.recipients).toBe(50);
    expect(resolveProfile({ message: { size: { dist: 'empirical', file: 'sizes.csv' } } }).message.sizeDist).toEqual({ dist: 'empirical', file: 'sizes.csv' });
  });

  it('names bad distribution fields by dotted path', () => {
    const err = errorOf({
      message: { size: { dist: 'lognormal', median: '8 parsecs', sigma: 0, extra: 1 }, recipients: { dist: 'zipf' } },
    });
    expect(paths(err).sort()).toEqual(['message.recipients.dist', 'message.size.extra', 'message.size.median', 'message.size.sigma']);
    expect(issueAt(err, 'message.size.sigma')).toBe('must be more than 0');
    expect(issueAt(err, 'message.size.extra')).toBe('unknown key');
    expect(issueAt(err, 'message.recipients.dist')).toBe('expected dist: "uniform", "lognormal" or "empirical", got "zipf"');
    // A recipient distribution needs {n} in the template as a count above 1 does.
    expect(paths(errorOf({ message: { recipients: { dist: 'uniform', min: 1, max: 3 } }, envelope: { to: 'one@example.test' } }))).toEqual(['envelope.to']);
  });
});

describe('resolveProfile: scenario', () => {
  it('takes weights per unit of work', () => {
    expect(resolveProfile({ scenario: { message: 90, VRFY: 5, NOOP: 5 } }).scenario).toEqual({ message: 90, VRFY: 5, NOOP: 5 });
  });

  it('names unknown commands, bad weights and an empty mix', () => {
    const err = errorOf({ scenario: { message: -1, VFRY: 2, NOOP: 'x' } });
    expect(paths(err).sort()).toEqual(['scenario.NOOP', 'scenario.VFRY', 'scenario.message']);
    expect(issueAt(err, 'scenario.VFRY')).toBe('unknown key (did you mean "VRFY"?)');
    expect(issueAt(errorOf({ scenario: { message: 0 } }), 'scenario')).toBe('needs at least one weight above 0');
  });
});

describe('resolveProfile: identity', () => {
  it('keeps address ranges as text and checks them', () => {
    const p = resolveProfile({ identity: { sourceIp: '127.0.0.2-127.0.0.9', clientAddress: '192.0.2.1-192.0.2.254', proxy: 'v2', xclient: true } });
    expect(p.identity).toEqual({ sourceIp: '127.0.0.2-127.0.0.9', clientAddress: '192.0.2.1-192.0.2.254', proxy: 'v2', xclient: true });
    const err = errorOf({ identity: { sourceIp: '127.0.0.9-127.0.0.2', proxy: 'v3', xclient: true } });
    expect(paths(err).sort()).toEqual(['identity.clientAddress', 'identity.proxy', 'identity.sourceIp']);
    expect(issueAt(err, 'identity.sourceIp')).toMatch(/ends before it starts/);
    expect(issueAt(err, 'identity.clientAddress')).toMatch(/needs the client addresses/);
  });
});

describe('resolveProfile: content', () => {
  it('takes generated text and a replay directory, and keeps size distributions away from replay', () => {
    expect(resolveProfile({ message: { text: 'utf8' } }).message.text).toBe('utf8');
    expect(resolveProfile({ message: { replay: 'mails/' } }).message.replay).toBe('mails/');
    const err = errorOf({ message: { replay: 'mails/', text: 'utf8', attachment: '1KiB', size: { dist: 'uniform', min: 1, max: 2 } } });
    expect(paths(err).sort()).toEqual(['message.attachment', 'message.size', 'message.text']);
    expect(resolveProfile({ message: { attachment: '100KiB' } }).message.attachmentBytes).toBe(102_400);
    expect(issueAt(errorOf({ message: { text: 'latin1' } }), 'message.text')).toBe('expected "ascii" or "utf8", got "latin1"');
  });
});

describe('resolveProfile: weighted recipient domains (envelope.to.domains)', () => {
  const weighted = { local: 'rcpt{n}', domains: { 'gmail.test': 67.4, 'Outlook.TEST': 20, 'yahoo.test': 12.6 } };

  it('resolves the mapping form: to is the local part at the first domain, domains lower-cased in order', () => {
    const p = resolveProfile({ envelope: { to: weighted }, message: { recipients: 3 } });
    expect(p.envelope.to).toBe('rcpt{n}@gmail.test');
    expect(p.envelope.domains).toEqual([
      { domain: 'gmail.test', weight: 67.4 },
      { domain: 'outlook.test', weight: 20 },
      { domain: 'yahoo.test', weight: 12.6 },
    ]);
    expect(resolveProfile({ envelope: { to: { domains: { 'a.test': 1 } } } }).envelope.to).toBe('rcpt{n}@a.test');
    expect(resolveProfile({}).envelope.domains).toBeNull();
  });

  it('names each bad domain and weight at envelope.to.domains."the domain"', () => {
    const err = errorOf({ envelope: { to: { domains: { 'bad domain': 1, 'zero.test': 0, 'neg.test': -2, 'text.test': 'x', 'ok.test': 1, 'OK.test': 2 } } } });
    expect(paths(err).sort()).toEqual(
      ['envelope.to.domains."OK.test"', 'envelope.to.domains."bad domain"', 'envelope.to.domains."neg.test"', 'envelope.to.domains."text.test"', 'envelope.to.domains."zero.test"'].sort(),
    );
    expect(issueAt(err, 'envelope.to.domains."bad domain"')).toMatch(/not a domain/);
    expect(issueAt(err, 'envelope.to.domains."zero.test"')).toMatch(/more than 0/);
    expect(issueAt(err, 'envelope.to.domains."OK.test"')).toMatch(/twice/);
    for (const bad of ['-a.test', 'a..test', 'a.test.', '[127.0.0.1]', 'a_b.test'])
      expect(paths(errorOf({ envelope: { to: { domains: { [bad]: 1 } } } })), bad).toEqual([`envelope.to.domains.${JSON.stringify(bad)}`]);
  });

  it('refuses an empty list, a missing list, an unknown key, a local part with @, and local without {n} for several recipients', () => {
    expect(issueAt(errorOf({ envelope: { to: { domains: {} } } }), 'envelope.to.domains')).toMatch(/at least one domain/);
    expect(issueAt(errorOf({ envelope: { to: { domains: ['a.test'] } } }), 'envelope.to.domains')).toMatch(/mapping of domains/);
    expect(paths(errorOf({ envelope: { to: { local: 'x' } } }))).toEqual(['envelope.to.domains']);
    expect(paths(errorOf({ envelope: { to: { domains: { 'a.test': 1 }, locale: 'x' } } }))).toEqual(['envelope.to.locale']);
    expect(paths(errorOf({ envelope: { to: { local: 'a@b', domains: { 'a.test': 1 } } } }))).toEqual(['envelope.to.local']);
    expect(paths(errorOf({ envelope: { to: { local: 'same', domains: { 'a.test': 1 } } }, message: { recipients: 2 } }))).toEqual(['envelope.to.local']);
    expect(paths(errorOf({ envelope: { to: 5 } }))).toEqual(['envelope.to']);
  });

  it('applies the real-recipient guard to every listed domain on a non-loopback target', () => {
    const err = errorOf({ target: 'smtp://192.0.2.10:25', envelope: { to: { domains: { 'gmail.test': 60, 'gmail.com': 30, localhost: 10 } } } });
    expect(paths(err).sort()).toEqual(['envelope.to.domains."gmail.com"', 'envelope.to.domains."localhost"']);
    expect(issueAt(err, 'envelope.to.domains."gmail.com"')).toMatch(/allowRealRecipients/);
    expect(resolveProfile({ target: 'smtp://192.0.2.10:25', allowRealRecipients: true, envelope: { to: { domains: { 'gmail.com': 1 } } } }).envelope.domains).toHaveLength(1);
    expect(resolveProfile({ target: 'smtp://127.0.0.1:25', envelope: { to: { domains: { 'gmail.com': 1 } } } }).envelope.domains).toHaveLength(1);
  });

  it('takes --domain flags over a template to, keeping its local part', () => {
    const p = resolveProfile({ envelope: { to: 'user{n}@example.test' } }, { envelope: { to: { domains: { 'gmail.test': 2, 'yahoo.test': 1 } } } });
    expect(p.envelope.to).toBe('user{n}@gmail.test');
    expect(p.envelope.domains?.map((d) => d.domain)).toEqual(['gmail.test', 'yahoo.test']);
  });
});
