/**
 * Every link target in a Markdown body, with its offset: inline links and
 * images (CommonMark 0.31 §6.3, §6.4), link reference definitions (§4.7),
 * autolinks (§6.5), GFM extended autolinks (bare `https://…` and `www.…`,
 * GFM spec §6.9), and `href`/`src` attributes of raw HTML (§6.6). Regexes,
 * not a parser: a link the regexes miss in exotic Markdown is a link that a
 * reader would also see in the approval copy.
 */

export interface LinkRef {
  /** The target as written (angle brackets removed). */
  url: string;
  /** Offset of `url` in the text. */
  offset: number;
  /** A bare `www.` link, which GFM turns into `http://`. */
  implicitHttp?: boolean;
}

const SOURCES: readonly RegExp[] = [
  // Inline link or image destination: `](url "title")`, `](<url with spaces>)`.
  /\]\([ \t]*(?:<([^>\n]*)>|([^\s)]+))/dg,
  // Link reference definition: `[label]: url "title"`.
  /^ {0,3}\[[^\]\n]+\]:[ \t]*(?:<([^>\n]*)>|(\S+))/dgm,
  // Autolink: `<scheme:…>` (scheme 2-32 characters, §6.5).
  /<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*)>/dg,
  // Raw HTML attributes that load or link something.
  /<(?:a|img|area|link|source|iframe|form|video|audio|embed|object|track|input)\b[^>]*?\s(?:href|src|action|poster|data)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))/dgi,
];
// Bare URLs with an authority; trailing punctuation is trimmed as GFM does.
const BARE = /\b[A-Za-z][A-Za-z0-9+.-]{1,31}:\/\/[^\s<>"'`)\]]+/g;
// GFM extended www autolink, not inside a URL already found (`//www.`).
const WWW = /(?<![\w/.@:-])www\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+[^\s<>"'`)\]]*/g;
const TRAILING = /[.,:;!?*_~]+$/;

export function extractLinks(text: string): LinkRef[] {
  const byOffset = new Map<number, LinkRef>();
  for (const re of SOURCES) {
    for (const m of text.matchAll(re)) {
      const i = m.indices!.findIndex((span, g) => g > 0 && span !== undefined);
      if (i < 0) continue;
      const [start] = m.indices![i]!;
      const url = m[i]!.trim();
      if (url !== "" && !byOffset.has(start)) byOffset.set(start, { url, offset: start });
    }
  }
  for (const m of text.matchAll(BARE)) {
    const url = m[0].replace(TRAILING, "");
    if (!byOffset.has(m.index)) byOffset.set(m.index, { url, offset: m.index });
  }
  for (const m of text.matchAll(WWW)) {
    const url = m[0].replace(TRAILING, "");
    if (!byOffset.has(m.index)) byOffset.set(m.index, { url, offset: m.index, implicitHttp: true });
  }
  return [...byOffset.values()].sort((a, b) => a.offset - b.offset);
}
