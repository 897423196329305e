/**
 * Integration test against a real MTA: a private, loopback-only Postfix that accepts mail
 * for example.test and discards it (see scripts/postfix-instance.sh).
 *
 * Skipped unless SMTPBENCH_POSTFIX (host:port) is set; SMTPBENCH_POSTFIX_LOG must then name
 * the instance's maillog_file. .ci/run sets both and fails if these tests were skipped.
 *
 * The CLI's own counts (summary.json) are checked against what Postfix itself logged, so a
 * client that miscounts replies, or a server that never really queued the mail, both fail.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI } from './helpers/paths.js';
import { escapeRegExp, logSize, readLogSince, runCli } from './helpers/postfix-log.js';

const POSTFIX = process.env.SMTPBENCH_POSTFIX;
const POSTFIX_LOG = process.env.SMTPBENCH_POSTFIX_LOG;

/** Reverse-path used by profiles/fanout.yaml and profiles/smoke.yaml. */
const SENDER = 'bench@example.test';

/** How long Postfix may take, after the CLI exits, to log that it queued and discarded everything. */
const LOG_WAIT_MS = 60_000;

// ---------------------------------------------------------------------------------------
// Maillog helpers. Postfix (3.7, maillog_file + postlogd, syslog_name postfix-smtpbench)
// writes, for one accepted and discarded message:
//
//   Nov 30 09:48:29 smtpbench-postfix postfix-smtpbench/smtpd[3828]: 793ED20C180: client=unknown[127.0.0.1]
//   Nov 30 09:48:29 smtpbench-postfix postfix-smtpbench/cleanup[3852]: 793ED20C180: message-id=<20261130094829.003849@vm>
//   Nov 30 09:48:29 smtpbench-postfix postfix-smtpbench/qmgr[3824]: 793ED20C180: from=<bench@example.test>, size=450, nrcpt=1 (queue active)
//   Nov 30 09:48:29 smtpbench-postfix postfix-smtpbench/discard[3853]: 793ED20C180: to=<rcpt@example.test>, relay=none, delay=0.02, delays=0.01/0.01/0/0, dsn=2.0.0, status=sent (example.test)
//   Nov 30 09:48:29 smtpbench-postfix postfix-smtpbench/qmgr[3824]: 793ED20C180: removed
// ---------------------------------------------------------------------------------------

/**
 * Queue IDs of messages that qmgr picked up from `sender` with exactly `nrcpt` recipients.
 * Example line:
 *   ... postfix-smtpbench/qmgr[3824]: B354820C18D: from=<bench@example.test>, size=266, nrcpt=1000 (queue active)
 * A set, so a message qmgr logs twice (e.g. after a deferral) still counts once.
 */
function queuedMessageIds(lines: readonly string[], sender: string, nrcpt: number): Set<string> {
  const re = new RegExp(`/qmgr\\[\\d+\\]: ([0-9A-Za-z]+): from=<${escapeRegExp(sender)}>, size=\\d+, nrcpt=${nrcpt} \\(queue active\\)`);
  const ids = new Set<string>();
  for (const line of lines) {
    const m = re.exec(line);
    if (m) ids.add(m[1]);
  }
  return ids;
}

/**
 * Number of recipients the discard(8) agent reported as delivered for the given queue IDs.
 * Example line:
 *   ... postfix-smtpbench/discard[3919]: EB49D20C18E: to=<rcpt9@example.test>, relay=none, delay=0.41, delays=0.29/0.11/0/0, dsn=2.0.0, status=sent (example.test)
 */
function discardedRecipients(lines: readonly string[], ids: ReadonlySet<string>): number {
  const re = /\/discard\[\d+\]: ([0-9A-Za-z]+): to=<[^>]*>, .*\bstatus=sent\b/;
  let n = 0;
  for (const line of lines) {
    const m = re.exec(line);
    if (m && ids.has(m[1])) n++;
  }
  return n;
}

interface LogCounts {
  messages: number;
  recipients: number;
}

/**
 * Polls the log appended since `offset` until Postfix has queued `want.messages` messages from
 * SENDER with `nrcpt` recipients each and discarded `want.recipients` recipients of them, or
 * until LOG_WAIT_MS passes. Returns the last counts either way; the caller asserts.
 */
async function waitForLoggedDelivery(path: string, offset: number, nrcpt: number, want: LogCounts): Promise<LogCounts> {
  const deadline = Date.now() + LOG_WAIT_MS;
  for (;;) {
    const lines = await readLogSince(path, offset);
    const ids = queuedMessageIds(lines, SENDER, nrcpt);
    const counts = { messages: ids.size, recipients: discardedRecipients(lines, ids) };
    const done = counts.messages >= want.messages && counts.recipients >= want.recipients;
    if (done || Date.now() > deadline) return counts;
    await new Promise((r) => setTimeout(r, 250));
  }
}

// ---------------------------------------------------------------------------------------
// CLI helpers
// ---------------------------------------------------------------------------------------

interface Summary {
  totals: {
    messages: { accepted: number; rejected: number };
    recipients: { accepted: number };
  };
}

async function readSummary(outDir: string): Promise<Summary> {
  return JSON.parse(await readFile(join(outDir, 'summary.json'), 'utf8')) as Summary;
}

// ---------------------------------------------------------------------------------------

describe.skipIf(!POSTFIX)('real MTA: private Postfix discard sink', () => {
  const outDirs: string[] = [];

  afterEach(async () => {
    await Promise.all(outDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  /**
   * Runs `profile` against Postfix and checks summary.json and then the maillog:
   * `messages` messages of `rcptPerMessage` recipients each, all accepted, all seen by Postfix.
   */
  async function runAndVerify(profile: string, messages: number, rcptPerMessage: number, extraArgs: string[]) {
    expect(POSTFIX_LOG, 'SMTPBENCH_POSTFIX_LOG must name the Postfix maillog_file').toBeTruthy();
    const log = POSTFIX_LOG as string;
    expect(existsSync(CLI), `${CLI} is missing; run npm run build`).toBe(true);

    const offset = await logSize(log);
    const outDir = await mkdtemp(join(tmpdir(), 'smtpbench-postfix-'));
    outDirs.push(outDir);

    const res = await runCli(['run', profile, '--target', `smtp://${POSTFIX}`, '--messages', String(messages), ...extraArgs, '--out', outDir, '--quiet'], 120_000);
    expect(res.code, `CLI exit (signal ${res.signal})\nstdout:\n${res.stdout}\nstderr:\n${res.stderr}`).toBe(0);

    const summary = await readSummary(outDir);
    expect(summary.totals.messages.accepted).toBe(messages);
    expect(summary.totals.recipients.accepted).toBe(messages * rcptPerMessage);
    expect(summary.totals.messages.rejected).toBe(0);

    const seen = await waitForLoggedDelivery(log, offset, rcptPerMessage, {
      messages,
      recipients: messages * rcptPerMessage,
    });
    expect(seen, `Postfix log ${log} since byte ${offset}`).toEqual({
      messages,
      recipients: messages * rcptPerMessage,
    });
  }

  it('fanout.yaml: 20 messages x 1000 recipients are accepted and queued by Postfix', async () => {
    await runAndVerify('profiles/fanout.yaml', 20, 1000, ['--sessions', '4', '--workers', '2']);
  }, 200_000);

  it('smoke.yaml: 200 single-recipient messages are accepted and queued by Postfix', async () => {
    await runAndVerify('profiles/smoke.yaml', 200, 1, []);
  }, 200_000);
});
