import { describe, expect, it } from 'vitest';
import { junitXml, xmlEscape } from './junit.js';
import type { Verdict } from './thresholds.js';

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes character data, refusing a bare `&` or `<` (not well-formed, XML 1.0 §2.4). */
function decode(text: string): string {
  if (/<|&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(text)) throw new Error(`not well-formed character data: ${JSON.stringify(text)}`);
  return text.replace(/&(amp|lt|gt|quot|apos|#\d+);/g, (_, e: string) => (e.startsWith('#') ? String.fromCodePoint(Number(e.slice(1))) : ENTITY[e]));
}

/**
 * A small well-formedness check and parser for the subset JUnit files use: an XML declaration,
 * elements with double-quoted attributes, character data. Throws on unbalanced or unknown syntax.
 */
function parseXml(xml: string): XmlElement {
  const decl = /^<\?xml version="1\.0" encoding="UTF-8"\?>\n/.exec(xml);
  if (!decl) throw new Error('missing XML declaration');
  const root: XmlElement = { name: '#document', attrs: {}, children: [], text: '' };
  const stack = [root];
  const token = /<\/([A-Za-z][\w.-]*)\s*>|<([A-Za-z][\w.-]*)((?:\s+[A-Za-z][\w.-]*="[^"]*")*)\s*(\/?)>|([^<]+)/y;
  token.lastIndex = decl[0].length;
  while (token.lastIndex < xml.length) {
    const at = token.lastIndex;
    const m = token.exec(xml);
    if (!m) throw new Error(`not well-formed at offset ${at}: ${JSON.stringify(xml.slice(at, at + 40))}`);
    const [, close, open, attrText, selfClose, text] = m;
    const top = stack.at(-1)!;
    if (close !== undefined) {
      if (top.name !== close) throw new Error(`</${close}> closes <${top.name}>`);
      stack.pop();
    } else if (open !== undefined) {
      const attrs: Record<string, string> = {};
      for (const [, k, v] of attrText.matchAll(/([A-Za-z][\w.-]*)="([^"]*)"/g)) {
        if (k in attrs) throw new Error(`duplicate attribute ${k}`);
        attrs[k] = decode(v);
      }
      const el: XmlElement = { name: open, attrs, children: [], text: '' };
      if (stack.length === 1 && root.children.length > 0) throw new Error('more than one root element');
      top.children.push(el);
      if (selfClose !== '/') stack.push(el);
    } else {
      if (stack.length === 1 && text.trim() !== '') throw new Error('text outside the root element');
      top.text += decode(text);
    }
  }
  if (stack.length !== 1) throw new Error(`<${stack.at(-1)!.name}> is not closed`);
  return root.children[0];
}

const verdict = (over: Partial<Verdict>): Verdict => ({
  expression: 'transaction.p99 < 250ms',
  metric: 'transaction.p99',
  op: '<',
  ok: true,
  value: 3.2,
  unit: 'ms',
  limit: 250,
  abortOnFail: false,
  abort: null,
  ...over,
});

const run = { runId: 'r-1', startedAt: '2026-01-02T03:04:05.000Z', durationS: 12.5 };

describe('junitXml', () => {
  it('writes one suite with a testcase per threshold and a failure with the measured value', () => {
    const verdicts = [
      verdict({}),
      verdict({ expression: 'messages.rate > 1e9', metric: 'messages.rate', op: '>', ok: false, value: 4521.34, unit: 'per-second', limit: 1e9 }),
      verdict({ expression: 'bdat.p50 < 5', metric: 'bdat.p50', ok: false, value: null, limit: 5 }),
    ];
    const doc = parseXml(junitXml(verdicts, run));
    expect(doc.name).toBe('testsuites');
    expect(doc.attrs).toMatchObject({ tests: '3', failures: '2' });
    expect(doc.children).toHaveLength(1);
    const suite = doc.children[0];
    expect(suite.attrs).toEqual({ name: 'smtpbench thresholds', tests: '3', failures: '2', errors: '0', skipped: '0', time: '12.5', timestamp: run.startedAt });
    const cases = suite.children.filter((c) => c.name === 'testcase');
    expect(cases.map((c) => c.attrs.name)).toEqual(['transaction.p99 < 250ms', 'messages.rate > 1e9', 'bdat.p50 < 5']);
    expect(cases[0].children).toEqual([]);
    expect(cases[1].children[0]).toMatchObject({ name: 'failure', attrs: { message: 'messages.rate = 4521.3/s', type: 'threshold' } });
    expect(cases[1].children[0].text).toBe('FAIL messages.rate > 1e9 (messages.rate = 4521.3/s)');
    expect(cases[2].children[0].attrs.message).toBe('bdat.p50 = no data');
  });

  it('is written when every threshold passed, and with none', () => {
    const none = parseXml(junitXml([], run));
    expect(none.children[0].attrs).toMatchObject({ tests: '0', failures: '0' });
    const allPass = parseXml(junitXml([verdict({})], run));
    expect(allPass.children[0].attrs).toMatchObject({ tests: '1', failures: '0' });
  });

  it('escapes markup and drops characters XML forbids', () => {
    const nasty = `a<b>&"c'\u0001\u{1F600}\ud800`;
    expect(xmlEscape(nasty)).toBe(`a&lt;b&gt;&amp;&quot;c&apos;\u{1F600}`);
    const doc = parseXml(junitXml([verdict({ expression: nasty, ok: false })], { ...run, runId: '</testsuite>' }));
    const suite = doc.children[0];
    expect(suite.children[0].children[0].attrs.value).toBe('</testsuite>');
    const tc = suite.children.find((c) => c.name === 'testcase')!;
    expect(tc.attrs.name).toBe(`a<b>&"c'\u{1F600}`);
    expect(tc.children[0].text).toContain(`a<b>&"c'`);
  });

  it('is checked by a parser that refuses what is not well-formed', () => {
    expect(() => parseXml('<?xml version="1.0" encoding="UTF-8"?>\n<a><b></a></b>')).toThrow(/closes/);
    expect(() => parseXml('<?xml version="1.0" encoding="UTF-8"?>\n<a x="1 & 2"/>')).toThrow(/not well-formed/);
    expect(() => parseXml('<?xml version="1.0" encoding="UTF-8"?>\n<a>')).toThrow(/not closed/);
  });
});
