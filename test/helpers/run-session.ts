/**
 * Runs one real `ClientSession` (with its own sweeper) against a server on 127.0.0.1 until its
 * message quota is settled; resolves with the session's Recorder. Every error kind it counted must
 * be one of the registry (src/error-kinds.ts), so each scripted server of the client tests also
 * checks that the registry covers what the session produces.
 */
import { ClientSession } from '../../src/client/session.js';
import type { SessionConfig } from '../../src/client/config.js';
import { buildWirePlan, type MessageSpec } from '../../src/client/message.js';
import { Recorder } from '../../src/metrics/recorder.js';
import { startSweeper } from '../../src/clock.js';
import { QuotaSource } from '../../src/load/closed.js';
import { isErrorKind } from '../../src/error-kinds.js';

export interface RunOptions {
  readonly port: number;
  readonly messages?: number;
  /** Wire plan inputs over the defaults (sender@example.test, r{n}@example.test, 300 octets). */
  readonly spec?: Partial<MessageSpec>;
  /** Session settings over the defaults (pipelining auto, 10 messages per connection, 2 s timeouts). */
  readonly cfg?: Partial<Omit<SessionConfig, 'plan' | 'recorder' | 'host' | 'port'>>;
  /** Every timeout, ms (default 2000). */
  readonly timeoutMs?: number;
}

export async function runSession(o: RunOptions): Promise<Recorder> {
  const recorder = new Recorder();
  const plan = buildWirePlan({ from: 'sender@example.test', to: 'r{n}@example.test', recipients: 1, sizeBytes: 300, helo: 'client.example', ...o.spec });
  const t = o.timeoutMs ?? 2000;
  const cfg: SessionConfig = {
    host: '127.0.0.1',
    port: o.port,
    plan,
    pipelining: 'auto',
    messagesPerConnection: 10,
    timeouts: { connectMs: t, greetingMs: t, replyMs: t, bodyMs: t },
    recorder,
    ...o.cfg,
  };
  let sweeper: { stop(): void } | null = null;
  await new Promise<void>((done) => {
    const s = new ClientSession(cfg, new QuotaSource(o.messages ?? 1, cfg, done));
    sweeper = startSweeper([s]);
    s.start();
  });
  (sweeper as { stop(): void } | null)?.stop();
  const unknown = Object.keys(recorder.errors).filter((kind) => !isErrorKind(kind));
  if (unknown.length > 0) throw new Error(`error kinds missing from src/error-kinds.ts: ${unknown.join(', ')}`);
  return recorder;
}
