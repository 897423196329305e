/**
 * Corpus runner: plays the cases of `test/fixtures/smtp-cases-public.jsonl` over real TCP, exactly
 * as `test/fixtures/smtp-cases-format.md` describes them.
 *
 * - `runServerCase(case, host, port)` plays ONE server case (a case without a `server` field)
 *   against a live server and judges its replies (`expect`, `expect_text`, reply delays).
 *   The `messages` and `stored` fields need access to the server itself, so the caller checks them.
 * - `startScriptServer(script)` is the other direction: a mock server that plays the `server`
 *   script of a client case ({{READ}}, {{READ:n}}, {{READDATA}}, {{SEG}}) and logs what it saw.
 * - `loadCorpus()`, `startTestServer()` and `matchesClientPattern()` are small helpers for tests.
 *
 * The code is deliberately flat and polls (every 5 ms) instead of chaining events: a case is a
 * short script, and "wait until this condition or until the case must end" reads more plainly
 * as a loop than as a web of listeners. Timestamps are taken in the socket events, so delay
 * checks are not blurred by the polling.
 */
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

// ---------------------------------------------------------------------------------------------
// Case format
// ---------------------------------------------------------------------------------------------

/** One `expect_text` check (format: "expect_text"). */
export interface TextCheck {
  reply_index: number;
  regex: string;
  flags?: string;
  not?: boolean;
}

/** One `max_reply_delay_ms` / `min_reply_delay_ms` entry. */
export interface DelayCheck {
  reply_index: number;
  ms: number;
}

/** One line of the corpus, as JSON-decoded. */
export interface CorpusCase {
  id: string;
  topic: string;
  title: string;
  source?: string;
  /** Server cases: bytes to send. Client cases: the pattern the client must send. */
  client: string;
  /** Client cases only: the mock server's script. */
  server?: string;
  /** Client cases only: the message the application hands to the client. */
  message?: string;
  /** Server cases: one array of reply entries, or alternatives (array of arrays). Client cases: prose. */
  expect: string[] | string[][] | string;
  expect_text?: TextCheck[];
  max_reply_delay_ms?: DelayCheck[];
  min_reply_delay_ms?: DelayCheck[];
  timeout_s?: number;
  slow?: boolean;
  /** How many messages the server must have accepted: a number, or `"0|1"` style alternatives. */
  messages?: number | string;
  stored?: string;
  notes?: string;
}

/** Default location of the public corpus. */
export const CORPUS_PATH = new URL('../fixtures/smtp-cases-public.jsonl', import.meta.url);

/** Reads a `.jsonl` corpus: one JSON object per non-empty line. */
export function loadCorpus(path: string | URL = CORPUS_PATH): CorpusCase[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as CorpusCase);
}

/** True for a server case (the runner plays the client); client cases have a `server` script. */
export const isServerCase = (c: CorpusCase): boolean => c.server === undefined;

/** True when `accepted` (the server's message count for the case) satisfies the case's `messages`. */
export function messagesMatch(expected: number | string, accepted: number): boolean {
  return String(expected)
    .split('|')
    .some((n) => Number(n) === accepted);
}

/**
 * Expands `{{REP:n:TEXT}}` (TEXT n times, `{i}` = 1-based repetition) and `{{FILL:n:c}}` (n
 * copies of c). Done before anything else, in one pass, because they never nest (format spec).
 * TEXT ends at the first `}}`.
 */
export function expandMacros(s: string): string {
  return s.replace(/\{\{(?:REP:(\d+):([\s\S]*?)|FILL:(\d+):([\s\S]))\}\}/g, (_m, repN, text, fillN, ch) => {
    if (repN !== undefined) {
      let out = '';
      for (let i = 1; i <= Number(repN); i++) out += (text as string).replaceAll('{i}', String(i));
      return out;
    }
    return (ch as string).repeat(Number(fillN));
  });
}

// ---------------------------------------------------------------------------------------------
// Client steps of a server case
// ---------------------------------------------------------------------------------------------

/** One step of the test client, after REP/FILL expansion. */
export type Step =
  { kind: 'send'; data: Buffer } | { kind: 'wait' } | { kind: 'seg' } | { kind: 'pause'; ms: number } | { kind: 'trickle'; ms: number; data: Buffer } | { kind: 'tls' } | { kind: 'close' };

/**
 * Splits an (already expanded) `client` string into steps. Literal text becomes `send` steps
 * (UTF-8 encoded, as the format says). Throws on a directive the runner does not know, or a
 * misplaced one ({{NOGREET}} not at the start, an unclosed {{TRICKLE}}), so a case is never
 * silently played wrong.
 */
export function parseClientSteps(client: string): { noGreet: boolean; steps: Step[] } {
  const re = /\{\{([^{}]*)\}\}/g;
  const steps: Step[] = [];
  let noGreet = false;
  let trickle: { ms: number; text: string } | null = null;
  let last = 0;
  const literal = (text: string): void => {
    if (text === '') return;
    if (trickle) trickle.text += text;
    else steps.push({ kind: 'send', data: Buffer.from(text, 'utf8') });
  };
  for (let m = re.exec(client); m !== null; m = re.exec(client)) {
    literal(client.slice(last, m.index));
    last = m.index + m[0].length;
    const d = m[1];
    let arg: RegExpExecArray | null;
    if (d === '/TRICKLE') {
      if (!trickle) throw new Error('{{/TRICKLE}} without {{TRICKLE:ms}}');
      steps.push({ kind: 'trickle', ms: trickle.ms, data: Buffer.from(trickle.text, 'utf8') });
      trickle = null;
      continue;
    }
    if (trickle) throw new Error(`directive {{${d}}} inside {{TRICKLE}}`);
    if (d === 'NOGREET') {
      if (m.index !== 0) throw new Error('{{NOGREET}} is only allowed at the start');
      noGreet = true;
    } else if (d === 'WAIT') steps.push({ kind: 'wait' });
    else if (d === 'SEG') steps.push({ kind: 'seg' });
    else if (d === 'TLS') steps.push({ kind: 'tls' });
    else if (d === 'CLOSE') steps.push({ kind: 'close' });
    else if ((arg = /^PAUSE:(\d+)$/.exec(d))) steps.push({ kind: 'pause', ms: Number(arg[1]) });
    else if ((arg = /^TRICKLE:(\d+)$/.exec(d))) trickle = { ms: Number(arg[1]), text: '' };
    else throw new Error(`unsupported directive {{${d}}}`);
  }
  if (trickle) throw new Error('{{TRICKLE}} without {{/TRICKLE}}');
  literal(client.slice(last));
  return { noGreet, steps };
}

// ---------------------------------------------------------------------------------------------
// Expectations
// ---------------------------------------------------------------------------------------------

/**
 * The `expect` field as a list of alternatives. A final `221` gets its implied `CLOSE` appended
 * (format: "After a 221 the server must close the connection; that close is implied"), so the
 * matcher only has to compare sequences.
 */
export function normaliseAlternatives(expect: string[] | string[][]): string[][] {
  const alts = Array.isArray(expect[0]) ? (expect as string[][]) : [expect as string[]];
  return alts.map((a) => (a[a.length - 1] === '221' ? [...a, 'CLOSE'] : [...a]));
}

/** Does one observed entry (`"250"`, `"CLOSE"`) satisfy one expected entry (`"503|554"`, `"5xx"`, `"CLOSE"`)? */
export function entryMatches(entry: string, seen: string): boolean {
  if (entry === 'CLOSE' || seen === 'CLOSE') return entry === seen;
  if (!/^\d{3}$/.test(seen)) return false; // a malformed reply line never matches
  return entry.split('|').some((p) => (/^\dxx$/i.test(p) ? p[0] === seen[0] : p === seen));
}

/** `seen` is the start (or all) of `alt`. */
const isPrefix = (seen: readonly string[], alt: readonly string[]): boolean => seen.length <= alt.length && seen.every((s, i) => entryMatches(alt[i], s));

/** `seen` is exactly `alt`. */
const isExact = (seen: readonly string[], alt: readonly string[]): boolean => seen.length === alt.length && isPrefix(seen, alt);

// ---------------------------------------------------------------------------------------------
// Running a server case
// ---------------------------------------------------------------------------------------------

/** One reply as received: code, raw text (every line with its line end as received), timing. */
export interface ObservedReply {
  code: string;
  raw: string;
  /** ms since the connect started. */
  atMs: number;
  /** ms from the first write of the exchange it arrived in (or the exchange start); see format "Reply timing". */
  delayMs: number;
}

/** Outcome of one case. */
export interface CaseResult {
  pass: boolean;
  /** Reply codes in order, plus `'CLOSE'` when the server closed the connection. */
  replies: string[];
  /** Why it failed (or why it is unsupported). */
  reason?: string;
  /** True when the runner could not judge the case at all (prose expect, unknown directive, client case). */
  unsupported?: boolean;
  /** Full detail, for diagnosing failures. */
  observed?: ObservedReply[];
}

export interface RunOptions {
  /** Overrides the case's `timeout_s` (ms). */
  timeoutMs?: number;
}

const WAIT_QUIET_MS = 250;
const END_QUIET_MS = 500;
const END_QUIET_CLOSE_MS = 1000;
const SEG_SLEEP_MS = 50;
const POLL_MS = 5;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs one server case against `host:port` and judges it. Never throws for server behaviour
 * (refused connection, resets, garbage) — that is a failed case, with `reason` saying what happened.
 */
export async function runServerCase(c: CorpusCase, host: string, port: number, opts: RunOptions = {}): Promise<CaseResult> {
  if (!isServerCase(c)) return { pass: false, unsupported: true, replies: [], reason: 'client case: use startScriptServer' };
  if (typeof c.expect === 'string') return { pass: false, unsupported: true, replies: [], reason: 'prose expect: needs manual judgement' };
  let parsed: ReturnType<typeof parseClientSteps>;
  try {
    parsed = parseClientSteps(expandMacros(c.client));
  } catch (e) {
    return { pass: false, unsupported: true, replies: [], reason: (e as Error).message };
  }
  const alts = normaliseAlternatives(c.expect);
  const timeoutMs = opts.timeoutMs ?? (c.timeout_s ?? 5) * 1000;

  // ---- connection state, updated by socket events ----
  const t0 = performance.now();
  const now = (): number => performance.now() - t0;
  const deadline = timeoutMs;
  const replies: ObservedReply[] = [];
  let lineBuf: Buffer = Buffer.alloc(0); // bytes of an unfinished line
  let replyLines: Buffer[] = []; // finished lines of an unfinished multi-line reply
  let lastRecvMs = 0;
  let lastWriteMs = 0;
  let serverClosedMs = null as number | null; // the server closed (or reset) first
  let serverCloseDelayMs = 0;
  let clientClosed = false; // we sent {{CLOSE}}
  let socketGone = false; // no more reads possible, whoever closed
  let socketError = null as string | null;
  // Exchanges (format: "Reply timing"): the first starts at connect; each WAIT / TLS handshake starts the next when it ends.
  const exchanges: { startMs: number; firstWriteMs: number | null }[] = [{ startMs: 0, firstWriteMs: null }];
  const delayBase = (): number => {
    const ex = exchanges[exchanges.length - 1];
    return ex.firstWriteMs ?? ex.startMs;
  };

  const onData = (chunk: Buffer): void => {
    const at = now();
    lastRecvMs = at;
    lineBuf = lineBuf.length === 0 ? chunk : Buffer.concat([lineBuf, chunk]);
    // A reply line ends at LF (CRLF, or a bare LF if the server sent one: expect_text sees exactly what came).
    for (let lf = lineBuf.indexOf(0x0a); lf !== -1; lf = lineBuf.indexOf(0x0a)) {
      const line = lineBuf.subarray(0, lf + 1);
      lineBuf = lineBuf.subarray(lf + 1);
      replyLines.push(line);
      // RFC 5321 §4.2.1: a multi-line reply goes on while the 4th octet is '-'; it counts once.
      if (line.length > 3 && line[3] === 0x2d) continue;
      const raw = Buffer.concat(replyLines);
      replyLines = [];
      replies.push({ code: raw.toString('latin1', 0, 3), raw: raw.toString('utf8'), atMs: at, delayMs: at - delayBase() });
    }
  };
  const onGone = (why: string | null): void => {
    if (socketGone) return;
    socketGone = true;
    if (!clientClosed) {
      serverClosedMs = now();
      serverCloseDelayMs = serverClosedMs - delayBase();
      if (why) socketError = why;
    }
  };

  let sock: net.Socket = net.connect({ host, port });
  sock.setNoDelay(true);
  const attach = (s: net.Socket): void => {
    s.on('data', onData);
    s.on('end', () => onGone(null)); // FIN from the server
    s.on('close', () => onGone(null));
    s.on('error', (e: NodeJS.ErrnoException) => onGone(e.code ?? e.message));
  };
  attach(sock);
  const connected = await new Promise<string | null>((resolve) => {
    sock.once('connect', () => resolve(null));
    sock.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
  if (connected !== null) return { pass: false, replies: [], reason: `connect failed: ${connected}` };
  exchanges[0].startMs = now();

  // The sequence to match: reply codes, then CLOSE if the server hung up on us.
  const seen = (): string[] => {
    const codes = replies.map((r) => r.code);
    if (serverClosedMs !== null) codes.push('CLOSE');
    return codes;
  };

  // Why the case must stop now, or null. Checked on every poll (early fail, server close, timeout).
  // (Typed by assertion so TypeScript does not narrow it to null: closures assign it.)
  let stop = null as 'mismatch' | 'gone' | 'timeout' | null;
  const tick = (): void => {
    if (stop) return;
    if (!alts.some((a) => isPrefix(seen(), a))) stop = 'mismatch';
    else if (socketGone) stop = 'gone';
    else if (now() > deadline) stop = 'timeout';
  };
  /** Polls until `cond` holds (true) or the case must stop (false). */
  const until = async (cond: () => boolean): Promise<boolean> => {
    for (;;) {
      tick();
      if (stop) return false;
      if (cond()) return true;
      await sleep(POLL_MS);
    }
  };
  const sleepFor = (ms: number): Promise<boolean> => {
    const end = now() + ms;
    return until(() => now() >= end);
  };

  let pending: Buffer[] = [];
  const write = (buf: Buffer): void => {
    if (buf.length === 0 || socketGone || clientClosed) return;
    const ex = exchanges[exchanges.length - 1];
    lastWriteMs = now();
    if (ex.firstWriteMs === null) ex.firstWriteMs = lastWriteMs;
    sock.write(buf);
  };
  /** Sends what literal text has piled up since the last directive, as one write. */
  const flush = (): void => {
    if (pending.length > 0) write(Buffer.concat(pending));
    pending = [];
  };

  let tlsNote = null as string | null;
  const play = async (): Promise<void> => {
    // Greeting first, unless {{NOGREET}}.
    if (!parsed.noGreet && !(await until(() => replies.length >= 1))) return;
    for (const step of parsed.steps) {
      switch (step.kind) {
        case 'send':
          pending.push(step.data);
          break;
        case 'seg':
          // Own TCP write (TCP_NODELAY), then a pause so it travels as its own segment.
          flush();
          if (!(await sleepFor(SEG_SLEEP_MS))) return;
          break;
        case 'pause':
          flush();
          if (!(await sleepFor(step.ms))) return;
          break;
        case 'trickle':
          flush();
          // One octet per write, `ms` apart; also after the last one, so the bytes that follow
          // the trickle do not merge into its last octet.
          for (let i = 0; i < step.data.length; i++) {
            write(step.data.subarray(i, i + 1));
            if (!(await sleepFor(step.ms))) return;
          }
          break;
        case 'wait': {
          flush();
          const before = replies.length;
          if (!(await until(() => replies.length > before && now() - lastRecvMs >= WAIT_QUIET_MS))) return;
          exchanges.push({ startMs: now(), firstWriteMs: null });
          break;
        }
        case 'tls': {
          flush();
          const before = replies.length;
          if (!(await until(() => replies.length > before))) return;
          if (replies[replies.length - 1].code !== '220') {
            // No 220 to STARTTLS: no handshake. Stop sending; the expectations judge the replies.
            tlsNote = `STARTTLS answered ${replies[replies.length - 1].code}; no TLS handshake, remaining client steps not sent`;
            return;
          }
          // Hand the TCP socket to TLS; from now on bytes go through the TLS socket.
          sock.removeListener('data', onData);
          const secure = tls.connect({ socket: sock, rejectUnauthorized: false, servername: 'localhost' });
          const err = await new Promise<string | null>((resolve) => {
            secure.once('secureConnect', () => resolve(null));
            secure.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
          });
          if (err !== null) {
            tlsNote = `TLS handshake failed: ${err}`;
            return;
          }
          attach(secure);
          sock = secure;
          exchanges.push({ startMs: now(), firstWriteMs: null });
          break;
        }
        case 'close':
          flush();
          clientClosed = true;
          // A FIN (end) rather than destroy: we still read, so a reply the server sends anyway
          // (such as a 221 to a QUIT that was message text) is seen and fails the case.
          sock.end();
          return;
      }
    }
    flush();
  };
  await play();
  const stepsDone = stop === null;

  // All client bytes are out: wait for an alternative to be matched and the line to go quiet
  // (500 ms, or 1 s when the rest of that alternative is the server's close), or for a stop.
  if (stepsDone) {
    await until(() => {
      const s = seen();
      const quiet = now() - Math.max(lastRecvMs, lastWriteMs);
      return alts.some((a) => {
        const endsInClose = a[a.length - 1] === 'CLOSE';
        if (isExact(s, a)) return quiet >= (endsInClose ? END_QUIET_CLOSE_MS : END_QUIET_MS);
        // Everything but the close has come: give the close 1 s to arrive.
        if (endsInClose && serverClosedMs === null && isExact([...s, 'CLOSE'], a)) return quiet >= END_QUIET_CLOSE_MS;
        return false;
      });
    });
  }
  sock.destroy();

  // ---- judgement ----
  const got = seen();
  const base = { replies: got, observed: replies };
  const describe = (): string =>
    `got [${got.join(', ')}], expected ${alts.map((a) => `[${a.join(', ')}]`).join(' or ')}` +
    (lineBuf.length + replyLines.length > 0
      ? `; unfinished reply text ${JSON.stringify(
          Buffer.concat([...replyLines, lineBuf])
            .toString('utf8')
            .slice(0, 200),
        )}`
      : '') +
    (socketError ? `; socket ${socketError}` : '') +
    (tlsNote ? `; ${tlsNote}` : '');
  if (stop === 'mismatch') return { ...base, pass: false, reason: `replies match no alternative: ${describe()}` };
  const alt = alts.find((a) => isExact(got, a));
  if (!alt) {
    const why = stop === 'timeout' ? (stepsDone ? 'timed out' : 'timed out before the client steps were all sent') : 'incomplete';
    return { ...base, pass: false, reason: `${why} after ${Math.round(now())} ms: ${describe()}` };
  }

  // expect_text: reply_index counts replies from 0 (greeting); regex searched in the raw text.
  for (const t of c.expect_text ?? []) {
    const r = replies[t.reply_index];
    if (!r) return { ...base, pass: false, reason: `expect_text: no reply at index ${t.reply_index}` };
    const hit = new RegExp(t.regex, t.flags ?? '').test(r.raw);
    if (hit === Boolean(t.not)) {
      return { ...base, pass: false, reason: `expect_text: reply ${t.reply_index} ${JSON.stringify(r.raw)} ${t.not ? 'matches' : 'does not match'} /${t.regex}/${t.flags ?? ''}` };
    }
  }

  // Reply delays; an index may point at the CLOSE of the matched alternative.
  const delayOf = (i: number): number | null => {
    if (i < replies.length) return replies[i].delayMs;
    if (i === replies.length && alt[i] === 'CLOSE' && serverClosedMs !== null) return serverCloseDelayMs;
    return null;
  };
  for (const [list, isMax] of [
    [c.max_reply_delay_ms ?? [], true],
    [c.min_reply_delay_ms ?? [], false],
  ] as const) {
    for (const d of list) {
      const ms = delayOf(d.reply_index);
      if (ms === null) return { ...base, pass: false, reason: `reply delay: nothing at index ${d.reply_index}` };
      if (isMax ? ms > d.ms : ms < d.ms) {
        return { ...base, pass: false, reason: `reply ${d.reply_index} came after ${Math.round(ms)} ms; ${isMax ? 'max' : 'min'} is ${d.ms} ms` };
      }
    }
  }
  return { ...base, pass: true };
}

// ---------------------------------------------------------------------------------------------
// Test servers
// ---------------------------------------------------------------------------------------------

/** A listening test server. `close()` also destroys open connections. */
export interface TestServer {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** Starts a TCP server on 127.0.0.1, port 0 (any free port), calling `onConnection` per socket. */
export async function startTestServer(onConnection: (socket: net.Socket) => void): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    s.setNoDelay(true);
    onConnection(s);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as net.AddressInfo;
  return {
    host: address,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** One entry of a script server's log, in the order things happened. */
export interface ScriptEvent {
  from: 'client' | 'server';
  /** `client`: one 'data' event as received; `server`: one write. */
  data: Buffer;
}

/** A mock server playing a client case's `server` script, with what happened on its first connection. */
export interface ScriptServer extends TestServer {
  log: ScriptEvent[];
  /** Resolves when the script has been played to its end (then the server closes the connection), or the client left. */
  done: Promise<{ complete: boolean; error?: string }>;
  /** Every octet the client sent, in order. */
  received(): Buffer;
}

/**
 * Starts a mock server for a client case. Literal text is sent as is (UTF-8); pending text is
 * written as one write at each directive. `{{READ}}`/`{{READ:n}}` wait for 1/n CRLF-terminated
 * command lines, `{{READDATA}}` for message lines up to a line that is exactly `.`, `{{SEG}}`
 * flushes and sleeps 50 ms. At the end of the script the server closes the connection (the
 * scripts end with a 221). Only the first connection is played and logged.
 */
export async function startScriptServer(script: string): Promise<ScriptServer> {
  const parts = expandMacros(script).split(/(\{\{[^{}]*\}\})/);
  const log: ScriptEvent[] = [];
  let resolveDone!: (v: { complete: boolean; error?: string }) => void;
  const done = new Promise<{ complete: boolean; error?: string }>((r) => (resolveDone = r));
  let first = true;
  const srv = await startTestServer((socket) => {
    if (!first) return void socket.destroy();
    first = false;
    let inbuf: Buffer = Buffer.alloc(0);
    let closed = false;
    let wake: (() => void) | null = null;
    socket.on('data', (d: Buffer) => {
      log.push({ from: 'client', data: d });
      inbuf = Buffer.concat([inbuf, d]);
      wake?.();
    });
    socket.on('close', () => {
      closed = true;
      wake?.();
    });
    const readLine = async (): Promise<string | null> => {
      for (;;) {
        const i = inbuf.indexOf('\r\n');
        if (i !== -1) {
          const line = inbuf.toString('utf8', 0, i);
          inbuf = inbuf.subarray(i + 2);
          return line;
        }
        if (closed) return null;
        await new Promise<void>((r) => (wake = r));
        wake = null;
      }
    };
    let pending = '';
    const flush = (): void => {
      if (pending === '' || closed) return;
      const data = Buffer.from(pending, 'utf8');
      pending = '';
      log.push({ from: 'server', data });
      socket.write(data);
    };
    void (async () => {
      for (const part of parts) {
        const m = /^\{\{(.*)\}\}$/.exec(part);
        if (!m) {
          pending += part;
          continue;
        }
        flush();
        const d = m[1];
        let arg: RegExpExecArray | null;
        if (d === 'SEG') await sleep(SEG_SLEEP_MS);
        else if ((arg = /^READ(?::(\d+))?$/.exec(d))) {
          for (let n = Number(arg[1] ?? 1); n > 0; n--) if ((await readLine()) === null) return resolveDone({ complete: false, error: 'client closed during READ' });
        } else if (d === 'READDATA') {
          for (;;) {
            const line = await readLine();
            if (line === null) return resolveDone({ complete: false, error: 'client closed during READDATA' });
            if (line === '.') break;
          }
        } else return resolveDone({ complete: false, error: `unsupported directive {{${d}}}` });
      }
      flush();
      socket.end();
      resolveDone({ complete: true });
    })();
  });
  return { ...srv, log, done, received: () => Buffer.concat(log.filter((e) => e.from === 'client').map((e) => e.data)) };
}

/**
 * Does `sent` match a client case's `client` pattern? Literal text must match exactly;
 * `{{ANY}}` stands for any octets up to the next literal (format: "{{ANY}}").
 */
export function matchesClientPattern(pattern: string, sent: Buffer): boolean {
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^${expandMacros(pattern).split('{{ANY}}').map(escape).join('[\\s\\S]*?')}$`);
  return re.test(sent.toString('utf8'));
}
