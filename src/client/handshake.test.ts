/**
 * The client handshake without a socket (go-smtp's client_test.go `faker` style): each case is a
 * whole server transcript, fed to a reply parser split at every offset; every reply goes to
 * `Handshake.onReply` and the actions it returns (commands to write, start TLS, ready, refused,
 * fail) and the reply codes it recorded must be the same however the bytes arrive.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Recorder } from '../metrics/recorder.js';
import { ReplyParser } from '../protocol/reply-parser.js';
import { splits } from '../protocol/splits.testkit.js';
import type { SessionConfig } from './config.js';
import { Handshake, type HandshakeAction } from './handshake.js';
import { buildWirePlan } from './message.js';

const plan = buildWirePlan({ from: 'sender@example.test', to: 'r{n}@example.test', recipients: 1, sizeBytes: 300, helo: 'client.example' });
const ACCOUNT = { user: 'alice', pass: 'secret' };
const b64 = (s: string): string => Buffer.from(s).toString('base64');

function config(over: Partial<SessionConfig> = {}): SessionConfig {
  return {
    host: 'mx.example.test',
    port: 25,
    plan,
    pipelining: 'auto',
    messagesPerConnection: 1,
    timeouts: { connectMs: 1000, greetingMs: 1000, replyMs: 1000, bodyMs: 1000 },
    recorder: new Recorder(),
    ...over,
  };
}

/** An action as a comparable value: a command to send as its text, a ready session as its capabilities in brief. */
function show(a: HandshakeAction): unknown {
  switch (a.kind) {
    case 'send':
      return { send: a.bytes.toString('latin1') };
    case 'ready':
      return { ready: { pipelining: a.pipelining, bdat: a.bdat, size: a.caps.size, auth: a.caps.auth, startTls: a.caps.startTls } };
    case 'tls':
      return 'tls';
    default:
      return a;
  }
}

interface Run {
  readonly actions: unknown[];
  readonly replies: Recorder['replies'];
}

/**
 * Runs one handshake over `transcript` (the server's bytes) arriving as `chunks`; a `tls` action is
 * followed by `afterTls` at once, as the session does when the TLS handshake finishes.
 */
function drive(cfg: SessionConfig, chunks: readonly Buffer[], proxySent = false): Run {
  const rec = new Recorder();
  const hs = new Handshake(cfg, rec, cfg.auth ? ACCOUNT : null);
  hs.begin(0, null, proxySent);
  hs.expectGreeting(0, false);
  const actions: unknown[] = [];
  const parser: ReplyParser = new ReplyParser(
    (code, lines) => {
      let a = hs.onReply(code, lines, parser.enhanced, 0);
      actions.push(show(a));
      if (a.kind === 'tls') {
        a = hs.afterTls(0);
        actions.push(show(a));
      }
      parser.captureText = hs.captureText;
    },
    () => actions.push('parse error'),
  );
  for (const c of chunks) parser.feed(c);
  return { actions, replies: rec.replies };
}

/** The run over the whole transcript in one read, after checking that every split of it gives the same. */
function transcript(cfg: SessionConfig, text: string, proxySent = false): Run {
  const bytes = Buffer.from(text, 'latin1');
  const whole = drive(cfg, [bytes], proxySent);
  for (const chunks of splits(bytes)) expect(drive(cfg, chunks, proxySent)).toEqual(whole);
  return whole;
}

const GREETING = '220 mx.example.test ESMTP\r\n';
const EHLO_LINE = { send: 'EHLO client.example\r\n' };

describe('Handshake, fed whole server transcripts split at every offset', () => {
  it('greeting and EHLO with PIPELINING, CHUNKING, SIZE and AUTH: ready with those capabilities', () => {
    const r = transcript(config({ body: 'auto' }), `${GREETING}250-mx.example.test\r\n250-PIPELINING\r\n250-CHUNKING\r\n250-SIZE 1000000\r\n250 AUTH PLAIN LOGIN\r\n`);
    expect(r.actions).toEqual([EHLO_LINE, { ready: { pipelining: true, bdat: true, size: 1_000_000, auth: ['PLAIN', 'LOGIN'], startTls: false } }]);
    expect(r.replies).toEqual({ greeting: { 220: 1 }, ehlo: { 250: 1 } });
  });

  it('a server that can take none of the messages refuses the session once, with why (hostile review F2)', () => {
    // Every message of this plan is 300 octets: a SIZE of 100 can never take one.
    const small = transcript(config(), `${GREETING}250-mx.example.test\r\n250 SIZE 100\r\n`);
    expect(small.actions).toEqual([EHLO_LINE, { kind: 'refused', error: 'size-exceeded', close: false, cause: "the smallest message (300 octets) is over the server's SIZE 100" }]);
    // Sizes from 200 to 400 octets: some fit under 300, so the session goes on (too large ones are skipped one by one).
    const varied = buildWirePlan({ from: 'sender@example.test', to: 'r{n}@example.test', recipients: 1, sizeBytes: 400, helo: 'client.example', sizes: { min: 200, max: 400, draw: () => 300 } });
    expect(transcript(config({ plan: varied }), `${GREETING}250-mx.example.test\r\n250 SIZE 300\r\n`).actions[1]).toMatchObject({ ready: { size: 300 } });
    const utf8 = buildWirePlan({ from: 'sender@example.test', to: 'r{n}@example.test', recipients: 1, sizeBytes: 300, helo: 'client.example', text: 'utf8' });
    expect(transcript(config({ plan: utf8 }), `${GREETING}250 mx.example.test\r\n`).actions[1]).toMatchObject({ kind: 'refused', error: '8bitmime-unavailable' });
  });

  it('a greeting sent twice is a broken server (bad-reply), not an EHLO refusal; so is any 2xx but 250 to EHLO (hostile review F15)', () => {
    // The session hangs up at the failure (what follows is never read): the first two actions are what counts.
    expect(transcript(config(), `${GREETING}${GREETING}250 mx.example.test\r\n`).actions.slice(0, 2)).toEqual([EHLO_LINE, { kind: 'fail', error: 'bad-reply' }]);
    expect(transcript(config(), `${GREETING}251 mx.example.test\r\n`).actions).toEqual([EHLO_LINE, { kind: 'fail', error: 'bad-reply' }]);
    expect(transcript(config(), '250 mx.example.test\r\n').actions).toEqual([{ kind: 'fail', error: 'bad-reply' }]);
  });

  it('pipelining off and DATA: ready in lock-step without BDAT', () => {
    const r = transcript(config({ pipelining: 'off', body: 'data' }), `${GREETING}250-mx.example.test\r\n250-PIPELINING\r\n250 CHUNKING\r\n`);
    expect(r.actions).toEqual([EHLO_LINE, { ready: { pipelining: false, bdat: false, size: null, auth: [], startTls: false } }]);
  });

  it('HELO after a 502 to EHLO (RFC 5321 §3.2): ready with no extensions', () => {
    const r = transcript(config(), `${GREETING}502 5.5.2 command not recognized\r\n250 mx.example.test\r\n`);
    expect(r.actions).toEqual([EHLO_LINE, { send: 'HELO client.example\r\n' }, { ready: { pipelining: false, bdat: false, size: null, auth: [], startTls: false } }]);
    expect(r.replies).toEqual({ greeting: { 220: 1 }, ehlo: { 502: 1 }, helo: { 250: 1 } });
  });

  it('a refused greeting is refused; with 421 the session closes without QUIT (RFC 5321 §3.8)', () => {
    expect(transcript(config(), '554 5.7.1 go away\r\n').actions).toEqual([{ kind: 'refused', error: 'greeting-refused', close: false }]);
    expect(transcript(config(), '421 4.3.2 busy\r\n').actions).toEqual([{ kind: 'refused', error: 'greeting-refused', close: true }]);
  });

  it('a 3xx greeting is a protocol error', () => {
    expect(transcript(config(), '354 what\r\n').actions).toEqual([{ kind: 'fail', error: 'bad-reply' }]);
  });

  const TLS = { implicit: false, starttls: 'auto', verify: true, ca: null, resume: false } as const;

  it('STARTTLS offered: STARTTLS, TLS, then EHLO again (RFC 3207 §4.2) before ready', () => {
    const r = transcript(config({ tls: TLS }), `${GREETING}250-mx.example.test\r\n250 STARTTLS\r\n220 2.0.0 go ahead\r\n250-mx.example.test\r\n250 PIPELINING\r\n`);
    expect(r.actions).toEqual([EHLO_LINE, { send: 'STARTTLS\r\n' }, 'tls', EHLO_LINE, { ready: { pipelining: true, bdat: false, size: null, auth: [], startTls: false } }]);
    expect(r.replies).toEqual({ greeting: { 220: 1 }, ehlo: { 250: 2 }, starttls: { 220: 1 } });
  });

  it('STARTTLS refused (454) is refused; `on` without STARTTLS offered never falls back to plaintext', () => {
    const refused = transcript(config({ tls: TLS }), `${GREETING}250-mx.example.test\r\n250 STARTTLS\r\n454 4.7.0 TLS not available\r\n`);
    expect(refused.actions).toEqual([EHLO_LINE, { send: 'STARTTLS\r\n' }, { kind: 'refused', error: 'starttls-refused', close: false }]);
    const missing = transcript(config({ tls: { ...TLS, starttls: 'on' } }), `${GREETING}250 mx.example.test\r\n`);
    expect(missing.actions).toEqual([EHLO_LINE, { kind: 'refused', error: 'starttls-unavailable', close: false, cause: 'tls.starttls is on and the server offers no STARTTLS' }]);
    // `auto` goes on in plaintext when the server does not offer it.
    expect(transcript(config({ tls: TLS }), `${GREETING}250 mx.example.test\r\n`).actions[1]).toMatchObject({ ready: {} });
  });

  const auth = (mechanism: 'PLAIN' | 'LOGIN' | 'CRAM-MD5' | 'auto'): SessionConfig => config({ auth: { mechanism, accounts: [ACCOUNT] } });
  const EHLO_AUTH = '250-mx.example.test\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n';
  const READY = { ready: { pipelining: false, bdat: false, size: null, auth: ['PLAIN', 'LOGIN', 'CRAM-MD5'], startTls: false } };

  it('AUTH PLAIN with an initial response (RFC 4954 §4), 235: ready', () => {
    const r = transcript(auth('PLAIN'), `${GREETING}${EHLO_AUTH}235 2.7.0 ok\r\n`);
    expect(r.actions).toEqual([EHLO_LINE, { send: `AUTH PLAIN ${b64('\0alice\0secret')}\r\n` }, READY]);
    expect(r.replies).toEqual({ greeting: { 220: 1 }, ehlo: { 250: 1 }, auth: { 235: 1 } });
  });

  it('AUTH LOGIN: user name and password, each after its 334', () => {
    const r = transcript(auth('LOGIN'), `${GREETING}${EHLO_AUTH}334 ${b64('Username:')}\r\n334 ${b64('Password:')}\r\n235 2.7.0 ok\r\n`);
    expect(r.actions).toEqual([EHLO_LINE, { send: 'AUTH LOGIN\r\n' }, { send: `${b64('alice')}\r\n` }, { send: `${b64('secret')}\r\n` }, READY]);
  });

  it('AUTH CRAM-MD5 (the `auto` choice when offered): user and HMAC-MD5 of the challenge (RFC 2195 §2)', () => {
    const challenge = '<1896.697170952@mx.example.test>';
    const digest = createHmac('md5', 'secret').update(challenge).digest('hex');
    const r = transcript(auth('auto'), `${GREETING}${EHLO_AUTH}334 ${b64(challenge)}\r\n235 2.7.0 ok\r\n`);
    expect(r.actions).toEqual([EHLO_LINE, { send: 'AUTH CRAM-MD5\r\n' }, { send: `${b64(`alice ${digest}`)}\r\n` }, READY]);
  });

  it('AUTH refused with 535 is refused (`auth-failed`); a mechanism not offered is `auth-unavailable`', () => {
    const r = transcript(auth('PLAIN'), `${GREETING}${EHLO_AUTH}535 5.7.8 bad credentials\r\n`);
    expect(r.actions).toEqual([EHLO_LINE, { send: `AUTH PLAIN ${b64('\0alice\0secret')}\r\n` }, { kind: 'refused', error: 'auth-failed', close: false }]);
    expect(r.replies).toEqual({ greeting: { 220: 1 }, ehlo: { 250: 1 }, auth: { 535: 1 } });
    expect(transcript(auth('CRAM-MD5'), `${GREETING}250-mx.example.test\r\n250 AUTH PLAIN\r\n`).actions).toEqual([
      EHLO_LINE,
      { kind: 'refused', error: 'auth-unavailable', close: false, cause: 'the server offers AUTH PLAIN; the profile asks for CRAM-MD5' },
    ]);
  });

  it('PROXY check: a NOOP after the greeting; 250 means the header was taken, anything else hangs up', () => {
    const taken = transcript(config(), `${GREETING}250 2.0.0 ok\r\n250 mx.example.test\r\n`, true);
    expect(taken.actions).toEqual([{ send: 'NOOP\r\n' }, EHLO_LINE, { ready: { pipelining: false, bdat: false, size: null, auth: [], startTls: false } }]);
    const refused = transcript(config(), `${GREETING}500 5.5.1 unknown command\r\n`, true);
    expect(refused.actions).toEqual([{ send: 'NOOP\r\n' }, { kind: 'fail', error: 'proxy-refused' }]);
    // Before the check, a refusal closes instead of QUIT: the server may still answer the header's line.
    expect(transcript(config(), '554 no\r\n', true).actions).toEqual([{ kind: 'refused', error: 'greeting-refused', close: true }]);
  });
});
