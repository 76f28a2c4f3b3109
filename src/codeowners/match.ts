/**
 * CODEOWNERS pattern compilation and matching, with GitHub's semantics.
 *
 * GitHub's "About code owners" says a CODEOWNERS pattern "follows most of the
 * same rules used in gitignore files", lists three gitignore features that do
 * not work (escaping a leading `#`, `!` negation, `[ ]` character ranges), and
 * documents two behaviours that differ from plain gitignore:
 *   - "The `docs/*` pattern will match files like `docs/getting-started.md` but
 *     not further nested files like `docs/build-app/troubleshooting.md`": a lone
 *     `*` as the last segment matches exactly one level, never a directory's
 *     contents;
 *   - "CODEOWNERS paths are case sensitive, because GitHub uses a case
 *     sensitive file system": nothing here folds case.
 * Everything else follows gitignore(5) "PATTERN FORMAT", and the conformance
 * suite test/fixtures/codeowners-patterns.json (from hmarr/codeowners)
 * pins the details down.
 *
 * Why a hand-written matcher rather than a glob library: the gate decides whose
 * approval counts, so every construct must mean exactly one thing, and anything
 * GitHub would read differently from us must be refused, not guessed (fail
 * closed). Pure: no filesystem, no network.
 */

/** One character of a pattern after escapes are resolved. */
interface PatternChar {
  readonly ch: string;
  /** True when written with a backslash: never a wildcard, never a separator. */
  readonly escaped: boolean;
}

type GlobToken = { readonly t: "lit"; readonly ch: string } | { readonly t: "star" } | { readonly t: "one" };

type Segment =
  /** `**` as a whole segment: zero or more directories. */
  | { readonly kind: "globstar" }
  /** Anything else: matched against exactly one path segment. */
  | { readonly kind: "glob"; readonly tokens: readonly GlobToken[] };

/**
 * How much of the path may follow the part the segments matched.
 * - "self-or-below": the matched part is the path itself or one of its parent
 *   directories (gitignore: a pattern matching a directory covers everything
 *   under it).
 * - "exact": the matched part must be the whole path (GitHub's `docs/*` rule).
 * - "below": something must follow (a trailing `/` or `/**`: "everything
 *   inside", never the thing itself).
 */
type Tail = "self-or-below" | "exact" | "below";

export interface CompiledPattern {
  readonly pattern: string;
  readonly segments: readonly Segment[];
  readonly tail: Tail;
  /** For tail "below": the fewest path segments the matched part must span. */
  readonly minPrefix: number;
}

export type CompileResult =
  | { readonly ok: true; readonly compiled: CompiledPattern }
  | { readonly ok: false; readonly message: string };

/** Thrown by the matching functions when handed a rule whose pattern is invalid. */
export class CodeownersPatternError extends Error {
  constructor(
    readonly pattern: string,
    message: string,
  ) {
    super(message);
    this.name = "CodeownersPatternError";
  }
}

const DOCS = 'GitHub "About code owners"';

/** Resolves backslash escapes (gitignore: "A backslash (\) can be used to escape any character"). */
function unescape(pattern: string): PatternChar[] | string {
  const out: PatternChar[] = [];
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === "\\") {
      const next = chars[i + 1];
      if (next === undefined) return "the pattern ends with a lone backslash, which escapes nothing";
      out.push({ ch: next, escaped: true });
      i++;
    } else {
      out.push({ ch, escaped: false });
    }
  }
  return out;
}

/**
 * GitHub: "Using `[ ]` to define a character range" does not work. The
 * conformance suite shows what GitHub does instead: brackets are plain
 * characters (`/apps/[param]/file.ts` owns exactly that path, as Next.js route
 * folders need). A bracket expression that evidently asks for a character
 * class (`[a-z]`, `[!x]`, `[^x]`, `[[:alpha:]]`) would silently match only the
 * literal text on GitHub, leaving the paths its author meant unowned, so it is
 * refused; brackets written with backslashes (`\[a-z\]`) are literal and pass.
 */
function characterClassProblem(chars: readonly PatternChar[]): string | undefined {
  for (let i = 0; i < chars.length; i++) {
    const open = chars[i]!;
    if (open.escaped || open.ch !== "[") continue;
    let close = -1;
    for (let j = i + 1; j < chars.length; j++) {
      const c = chars[j]!;
      if (!c.escaped && c.ch === "/") break;
      if (!c.escaped && c.ch === "]" && j > i + 1) {
        close = j;
        break;
      }
    }
    if (close < 0) continue;
    const inner = chars.slice(i + 1, close);
    const text = inner.map((c) => c.ch).join("");
    const first = inner[0]!;
    const looksLikeClass =
      (!first.escaped && (first.ch === "!" || first.ch === "^")) ||
      /\[:[a-z]+:/.test(text) ||
      inner.some((c, k) => !c.escaped && c.ch === "-" && k > 0 && k < inner.length - 1);
    if (looksLikeClass) {
      return (
        `"[${text}]" is a character class, and using [ ] to define a character range does not work in CODEOWNERS ` +
        `(${DOCS}, syntax exceptions); GitHub would match the brackets literally. ` +
        `List the paths explicitly, or escape the brackets (\\[ \\]) if the path really contains them`
      );
    }
    i = close;
  }
  return undefined;
}

function toSegment(chars: readonly PatternChar[]): Segment | string {
  if (chars.length === 2 && chars.every((c) => !c.escaped && c.ch === "*")) return { kind: "globstar" };
  const tokens: GlobToken[] = [];
  let run = 0;
  for (const c of chars) {
    if (!c.escaped && c.ch === "*") {
      run++;
      // gitignore: "Other consecutive asterisks are considered regular
      // asterisks", so `a**b` is `a*b`. Three or more have no agreed meaning
      // among CODEOWNERS readers (hmarr/codeowners rejects them): refuse.
      if (run === 3) return 'three or more consecutive "*" have no defined meaning in a CODEOWNERS pattern';
      if (run === 1) tokens.push({ t: "star" });
      continue;
    }
    run = 0;
    if (!c.escaped && c.ch === "?") tokens.push({ t: "one" });
    else tokens.push({ t: "lit", ch: c.ch });
  }
  return { kind: "glob", tokens };
}

/** Compiles one pattern as written in CODEOWNERS (escapes included). */
export function compilePattern(pattern: string): CompileResult {
  const fail = (message: string): CompileResult => ({ ok: false, message });
  if (pattern.length === 0) return fail("empty pattern");

  const chars = unescape(pattern);
  if (typeof chars === "string") return fail(chars);
  const first = chars[0]!;

  if (first.ch === "!") {
    return fail(
      first.escaped
        ? `a pattern starting with an escaped "!" is refused: gitignore reads it as a literal "!", but ${DOCS} ` +
            `says "!" negation does not work and does not say how GitHub reads the escape`
        : `"!" negation does not work in CODEOWNERS (${DOCS}, syntax exceptions); ` +
            `un-own a path with a later rule that lists no owners instead`,
    );
  }
  if (first.ch === "#" && !first.escaped) return fail('a line starting with "#" is a comment, not a pattern');
  if (first.ch === "#" && first.escaped) {
    return fail(
      `escaping a pattern starting with "#" using "\\" does not work in CODEOWNERS (${DOCS}, syntax exceptions); ` +
        `GitHub reads the line as a comment or an error, not as this pattern`,
    );
  }
  const classProblem = characterClassProblem(chars);
  if (classProblem) return fail(classProblem);

  // Split on unescaped slashes.
  const parts: PatternChar[][] = [[]];
  for (const c of chars) {
    if (!c.escaped && c.ch === "/") parts.push([]);
    else parts[parts.length - 1]!.push(c);
  }
  // gitignore: "If there is a separator at the beginning or middle (or both)
  // of the pattern, then the pattern is relative to the directory level of the
  // particular .gitignore file itself" (for CODEOWNERS: the repository root).
  const leadingSlash = parts.length > 1 && parts[0]!.length === 0;
  if (leadingSlash) parts.shift();
  // gitignore: "If there is a separator at the end of the pattern then the
  // pattern will only match directories": for owned files, everything under.
  const trailingSlash = parts.length > 1 && parts[parts.length - 1]!.length === 0;
  if (trailingSlash) parts.pop();

  if (parts.length === 1 && parts[0]!.length === 0) {
    // GitHub's CODEOWNERS error list flags this one with
    // "The pattern `/` will never match anything, did you mean `*` instead?"
    return fail('the pattern "/" never matches anything; "*" matches every file');
  }
  if (parts.some((p) => p.length === 0)) return fail('empty path segment ("//") in the pattern');

  const segments: Segment[] = [];
  for (const p of parts) {
    const seg = toSegment(p);
    if (typeof seg === "string") return fail(seg);
    // "**/**" is the same as "**".
    if (seg.kind === "globstar" && segments[segments.length - 1]?.kind === "globstar") continue;
    segments.push(seg);
  }

  // gitignore: "If there is a separator at the beginning or middle ... relative
  // to the root. Otherwise the pattern may also match at any level": a single
  // segment floats, exactly as if written with a leading "**/".
  if (!leadingSlash && parts.length === 1 && segments[0]!.kind !== "globstar") {
    segments.unshift({ kind: "globstar" });
  }

  let tail: Tail;
  let minPrefix = 0;
  const last = segments[segments.length - 1]!;
  if (last.kind === "globstar" && !trailingSlash) {
    // gitignore: "A trailing '/**' matches everything inside": the directory's
    // contents, not the directory name itself (`foo/bar/**` does not match
    // `foo/bar`). A bare `**` (root's contents) matches every path.
    segments.pop();
    tail = "below";
    minPrefix = 0;
  } else if (trailingSlash) {
    tail = "below";
    // "foo/**/" — the trailing globstar may match no directory ("foo/" itself),
    // as the conformance suite requires; the named part must still be a real
    // directory, never the repository root (so "**/" is not "every file").
    minPrefix = 1;
  } else if (last.kind === "glob" && last.tokens.length === 1 && last.tokens[0]!.t === "star") {
    tail = "exact"; // GitHub's documented `docs/*` rule, quoted above.
  } else {
    tail = "self-or-below";
  }

  return { ok: true, compiled: { pattern, segments, tail, minPrefix } };
}

/** Wildcard match of one path segment: `*` any run of characters, `?` exactly one; neither crosses "/". */
function segmentMatches(tokens: readonly GlobToken[], name: readonly string[]): boolean {
  // Iterative matcher that backtracks to the last `*` only: O(tokens × name).
  let t = 0;
  let n = 0;
  let starT = -1;
  let starN = 0;
  while (n < name.length) {
    const tok = tokens[t];
    if (tok !== undefined && (tok.t === "one" || (tok.t === "lit" && tok.ch === name[n]))) {
      t++;
      n++;
    } else if (tok !== undefined && tok.t === "star") {
      starT = t++;
      starN = n;
    } else if (starT >= 0) {
      t = starT + 1;
      n = ++starN;
    } else {
      return false;
    }
  }
  while (tokens[t]?.t === "star") t++;
  return t === tokens.length;
}

/**
 * Splits a repository path into segments. Paths are as git and the GitHub API
 * give them: relative to the root, "/"-separated; a leading "/" is tolerated.
 * A trailing "/" names a directory and yields a final empty segment, so only
 * "below" matches reach into it.
 */
function splitPath(path: string): string[][] {
  const trimmed = path.replace(/^\/+/, "");
  if (trimmed.length === 0) return [];
  return trimmed.split("/").map((s) => Array.from(s));
}

/** Does this compiled pattern own this path? */
export function matchCompiled(compiled: CompiledPattern, path: string): boolean {
  const names = splitPath(path);
  if (names.length === 0) return false;
  const segs = compiled.segments;
  const width = names.length + 1;
  // memo[s * width + n]: 0 unknown, 1 no, 2 yes. Keeps `**` backtracking polynomial.
  const memo = new Uint8Array((segs.length + 1) * width);

  const accepts = (k: number): boolean => {
    switch (compiled.tail) {
      case "exact":
        return k === names.length;
      case "below":
        return k < names.length && k >= compiled.minPrefix;
      case "self-or-below":
        return k >= 1;
    }
  };

  const go = (s: number, n: number): boolean => {
    const key = s * width + n;
    const known = memo[key]!;
    if (known !== 0) return known === 2;
    let result: boolean;
    const seg = segs[s];
    if (seg === undefined) {
      result = accepts(n);
    } else if (seg.kind === "globstar") {
      // Zero directories, or one more (never an empty segment) and try again.
      result = go(s + 1, n) || (n < names.length && names[n]!.length > 0 && go(s, n + 1));
    } else {
      const name = names[n];
      result = name !== undefined && name.length > 0 && segmentMatches(seg.tokens, name) && go(s + 1, n + 1);
    }
    memo[key] = result ? 2 : 1;
    return result;
  };
  return go(0, 0);
}

const compiledCache = new Map<string, CompiledPattern>();

function compiledFor(pattern: string): CompiledPattern {
  let compiled = compiledCache.get(pattern);
  if (compiled === undefined) {
    const result = compilePattern(pattern);
    if (!result.ok) throw new CodeownersPatternError(pattern, `invalid CODEOWNERS pattern "${pattern}": ${result.message}`);
    compiled = result.compiled;
    // Patterns come from one CODEOWNERS file at a time; bound the memo anyway.
    if (compiledCache.size >= 10_000) compiledCache.clear();
    compiledCache.set(pattern, compiled);
  }
  return compiled;
}

/** Does `pattern` (as written in CODEOWNERS) match `path`? Throws CodeownersPatternError on an invalid pattern. */
export function patternMatches(pattern: string, path: string): boolean {
  return matchCompiled(compiledFor(pattern), path);
}

/** The minimal shape the matcher needs; CodeownersRule satisfies it. */
export interface OwnedPattern {
  readonly pattern: string;
  readonly owners: readonly string[];
  readonly line: number;
}

/**
 * The rule that decides `path`: the LAST matching one. GitHub: "Order is
 * important; the last matching pattern takes the most precedence." Undefined
 * when no rule matches (which is not the same as a rule with no owners).
 */
export function matchingRule<R extends OwnedPattern>(rules: readonly R[], path: string): R | undefined {
  for (let i = rules.length - 1; i >= 0; i--) {
    const rule = rules[i]!;
    if (patternMatches(rule.pattern, path)) return rule;
  }
  return undefined;
}

/**
 * The code owners of `path`: those of the last matching rule. Empty when no
 * rule matches, and also when the last matching rule lists no owners (GitHub's
 * example: `/apps/github` with "its owners are left empty" un-owns that
 * subdirectory). Use `matchingRule` to tell the two apart.
 */
export function ownersOf(rules: readonly OwnedPattern[], path: string): readonly string[] {
  return matchingRule(rules, path)?.owners ?? [];
}
