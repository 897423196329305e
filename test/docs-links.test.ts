/**
 * The documentation's internal links cannot rot: every relative Markdown link and `#anchor` in the
 * README, ARCHITECTURE.md, docs/, bench/, deploy/ and results/ pages points at a file or folder
 * that exists, and an anchor at a heading of its page, with GitHub's anchor rules (lowercase,
 * punctuation dropped, each space a `-`, a repeated heading `-1`, `-2`…). Inside code blocks, where
 * no link can be written, a `page.md#anchor` reference is checked the same way.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolveProfile } from '../src/profile/index.js';

const ROOT = resolve(import.meta.dirname, '..');

/** The Markdown pages whose links are checked, relative to the repository root. */
function pages(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory()) return walk(path);
      return e.name.endsWith('.md') ? [path] : [];
    });
  return ['README.md', 'ARCHITECTURE.md', 'bench/README.md', 'results/README.md', ...walk('docs'), ...walk('deploy')].filter((p) => existsSync(join(ROOT, p)));
}

/** GitHub's anchor for a heading's text (github-slugger): lowercase, punctuation and symbols dropped, each space a '-'. */
function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link in a heading counts by its text
    .replace(/<[^>]+>/g, '');
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The text outside fenced code blocks, and the code blocks' own text, line by line. */
function split(markdown: string): { prose: string[]; code: string[] } {
  const prose: string[] = [];
  const code: string[] = [];
  let fence: string | null = null;
  for (const line of markdown.split('\n')) {
    const m = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence === null && m) fence = m[1];
    else if (fence !== null && m && m[1][0] === fence[0] && m[1].length >= fence.length && line.trim() === m[1]) fence = null;
    else (fence === null ? prose : code).push(line);
  }
  return { prose, code };
}

/** Every anchor a page defines: its ATX headings' slugs, repeats numbered as GitHub numbers them. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of split(markdown).prose) {
    const m = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** The relative link targets of a page: inline links and images, reference definitions, and `x.md#anchor` inside code blocks. */
function linksOf(markdown: string): string[] {
  const { prose, code } = split(markdown);
  // Code spans hold example text, not links; a placeholder keeps a link whose text is code.
  const text = prose.join('\n').replace(/(`+)[^`]*?\1/g, 'code');
  const inline = [...text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]);
  const defined = [...text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]);
  const inCode = [...code.join('\n').matchAll(/(?<![\w./-])((?:\.\.\/|[\w-]+\/)*[\w.-]+\.md#[\w-]+)/g)].map((m) => m[1]);
  return [...inline, ...defined, ...inCode].filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

/** What is wrong with one link of `page`, or null when it resolves. */
function problem(page: string, target: string): string | null {
  const hash = target.indexOf('#');
  const path = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
  const anchor = hash === -1 ? null : decodeURIComponent(target.slice(hash + 1));
  const file = path === '' ? join(ROOT, page) : resolve(ROOT, dirname(page), path);
  const name = relative(ROOT, file).replaceAll('\\', '/');
  if (name.startsWith('..')) return `${target}: outside the repository`;
  if (!existsSync(file)) return `${target}: no such file (${name})`;
  if (anchor === null) return null;
  if (statSync(file).isDirectory() || !file.endsWith('.md')) return `${target}: an anchor on a page that is not Markdown`;
  return anchorsOf(readFileSync(file, 'utf8')).has(anchor) ? null : `${target}: ${name} has no heading with the anchor #${anchor}`;
}

describe('documentation links', () => {
  it('derives anchors as GitHub does', () => {
    expect(slug('Kubernetes and CI matrix')).toBe('kubernetes-and-ci-matrix');
    expect(slug('The reference server')).toBe('the-reference-server');
    expect(slug('`smtpbench serve`: the sink')).toBe('smtpbench-serve-the-sink');
    expect(slug('1. Build the image (once)')).toBe('1-build-the-image-once');
    expect(slug('What is measured?')).toBe('what-is-measured');
    expect(slug('A — B')).toBe('a--b');
    expect(slug('snake_case and [a link](x.md)')).toBe('snake_case-and-a-link');
    const anchors = anchorsOf('# Results\n\n## Files\n\n```\n## not a heading\n```\n\n## Files\n');
    expect([...anchors]).toEqual(['results', 'files', 'files-1']);
  });

  it('finds links in prose and page#anchor references in code, not in code spans', () => {
    const md = 'See [a](a.md), ![i](img/x.png "t"), [w](https://x.test), `[no](b.md)`, [`c`](c.md#x).\n\n[d]: d.md\n\n```\n# see e.md#part, report.md\n```\n';
    expect(linksOf(md)).toEqual(['a.md', 'img/x.png', 'c.md#x', 'd.md', 'e.md#part']);
  });

  it('checks the pages it should', () => {
    const list = pages();
    for (const page of ['README.md', 'ARCHITECTURE.md', 'bench/README.md', 'docs/results.md', 'docs/profiles.md', 'deploy/README.md', 'deploy/kubernetes/README.md']) {
      expect(list).toContain(page);
    }
  });

  it('every relative link and #anchor resolves', () => {
    const problems: string[] = [];
    let count = 0;
    for (const page of pages()) {
      for (const target of linksOf(readFileSync(join(ROOT, page), 'utf8'))) {
        count++;
        const p = problem(page, target);
        if (p) problems.push(`${page}: ${p}`);
      }
    }
    expect(problems).toEqual([]);
    expect(count).toBeGreaterThan(40);
  });
});

describe("the README's profile example", () => {
  it('resolves, with the thresholds it shows', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /```yaml\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('\n## A profile')));
    const profile = resolveProfile(parse(block![1]));
    expect(profile.executor).toBe('open');
    expect(profile.thresholds.map((t) => t.metric)).toEqual(['transaction.p99', 'errors.rate']);
  });
});
