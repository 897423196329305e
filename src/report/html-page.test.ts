import { describe, expect, it } from 'vitest';
import { esc, scriptJson } from './html-page.js';

describe('report.html escaping', () => {
  it('escapes the five HTML-significant characters, nothing else', () => {
    expect(esc(`<b class="x" title='y'>a & b</b> é 5`)).toBe('&#60;b class=&#34;x&#34; title=&#39;y&#39;&#62;a &#38; b&#60;/b&#62; é 5');
    expect(esc(42)).toBe('42');
  });

  it('embeds JSON that no string can break out of, and that parses back to the same value', () => {
    const value = { label: '</script><script>alert(1)</script>', note: '<!-- x -->', n: [1.5, null] };
    const text = scriptJson(value);
    expect(text).not.toContain('<');
    expect(JSON.parse(text)).toEqual(value);
  });
});
