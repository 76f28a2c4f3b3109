/**
 * CODEOWNERS parsing with GitHub's rules ("About code owners", GitHub Docs).
 *
 * The file is read from the base branch by the gate (docs/design.md, "The
 * approval gate"), so what this returns decides whose approval counts. Every line GitHub
 * would not read as we do is an error naming the line; callers gating a send
 * must refuse when `errors` is non-empty rather than act on a partial file.
 * Like GitHub ("If any line in your CODEOWNERS file contains invalid syntax,
 * that line will be skipped"), an invalid line contributes no rule, so `rules`
 * is what GitHub itself would enforce. Pure: no filesystem, no network.
 */
import { compilePattern } from "./match.ts";

export interface CodeownersRule {
  /** The pattern exactly as written, escapes included (`f\*o`). */
  readonly pattern: string;
  /** Owners as written: `@user`, `@org/team` or an email address. Empty: the rule un-owns its paths. */
  readonly owners: readonly string[];
  /** 1-based line number in the file. */
  readonly line: number;
}

export interface CodeownersError {
  /** 1-based line number; 0 when the error concerns the whole file. */
  readonly line: number;
  readonly message: string;
}

export interface CodeownersParseResult {
  readonly rules: readonly CodeownersRule[];
  readonly errors: readonly CodeownersError[];
}

/**
 * GitHub: "CODEOWNERS files must be under 3 MB in size. A CODEOWNERS file over
 * this limit will not be loaded". The docs do not say whether MB is 10^6 or
 * 2^20 bytes; the smaller reading is used so that we never enforce a file that
 * GitHub may have refused to load (refusing a few files GitHub would accept is
 * the fail-closed side).
 */
export const MAX_CODEOWNERS_BYTES = 3_000_000;

export type CodeownersOwner =
  | { readonly kind: "user"; readonly login: string }
  | { readonly kind: "team"; readonly org: string; readonly slug: string }
  | { readonly kind: "email"; readonly address: string };

// GitHub: owners use "the standard `@username` or `@org/team-name` format", or
// "an email address that has been added to their account". Logins are
// alphanumerics and hyphens; "_" is allowed for Enterprise Managed Users
// (`@octocat_shortcode`). Team slugs are lowercase alphanumerics, "-" and "_".
const USER = /^@([A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)$/;
const TEAM = /^@([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)\/([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)$/;
// A deliberately plain address shape (dot-atom local part, LDH domain of two or
// more labels): GitHub only needs to find the address on an account.
const EMAIL =
  /^[A-Za-z0-9!$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]$/;

/** Classifies one owner token; undefined when it is none of `@user`, `@org/team`, email. */
export function parseOwner(token: string): CodeownersOwner | undefined {
  let m = USER.exec(token);
  if (m) return { kind: "user", login: m[1]! };
  m = TEAM.exec(token);
  if (m) return { kind: "team", org: m[1]!, slug: m[2]! };
  if (EMAIL.test(token)) return { kind: "email", address: token };
  return undefined;
}

/**
 * Do two owner tokens name the same owner? GitHub logins, organisation names
 * and team slugs are case-insensitive (`@Octocat` is `@octocat`), while paths
 * are not. Email addresses are compared case-insensitively too, as GitHub
 * looks them up on accounts. Invalid tokens are never equal to anything.
 */
export function sameOwner(a: string, b: string): boolean {
  const x = parseOwner(a);
  const y = parseOwner(b);
  if (x === undefined || y === undefined || x.kind !== y.kind) return false;
  return a.toLowerCase() === b.toLowerCase();
}

/** UTF-8 length without allocating the encoding (the file may be megabytes). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

interface Token {
  readonly text: string;
  /** 1-based column of the token's first character. */
  readonly column: number;
}

const isBlank = (ch: string | undefined): boolean => ch === " " || ch === "\t";

/**
 * Splits a rule line into its pattern and owner tokens.
 *
 * Separators are spaces and tabs. In the pattern, a backslash escapes the next
 * character (gitignore), so `my\ file` is one pattern and `\#` a literal "#";
 * the backslashes are kept, the matcher resolves them. A "#" at the start of a
 * token begins a comment to the end of the line: GitHub's own example file has
 * `*.js    @js-owner #This is an inline comment.` A "#" glued to a token
 * (`@team#x`, `docs#1`) is refused: readers disagree on it (gitignore keeps it
 * in the pattern, hmarr/codeowners starts a comment), so it has no one meaning.
 */
function tokenize(line: string): { tokens: Token[] } | { column: number; message: string } {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    while (isBlank(line[i])) i++;
    if (i >= line.length || line[i] === "#") break;
    const start = i;
    const isPattern = tokens.length === 0;
    while (i < line.length && !isBlank(line[i])) {
      const ch = line[i]!;
      if (isPattern && ch === "\\") {
        if (i + 1 >= line.length) {
          return { column: i + 1, message: "the pattern ends with a lone backslash, which escapes nothing" };
        }
        i += 2;
        continue;
      }
      if (ch === "#") {
        return {
          column: i + 1,
          message: isPattern
            ? 'a "#" inside a pattern is ambiguous: write "\\#" for a literal "#", or put a space before an inline comment'
            : 'a "#" inside an owner is ambiguous: put a space before an inline comment',
        };
      }
      i++;
    }
    tokens.push({ text: line.slice(start, i), column: start + 1 });
  }
  return { tokens };
}

/** Parses a CODEOWNERS file. Never throws; problems are returned as errors naming the line. */
export function parseCodeowners(text: string): CodeownersParseResult {
  const size = utf8Length(text);
  if (size >= MAX_CODEOWNERS_BYTES) {
    return {
      rules: [],
      errors: [
        {
          line: 0,
          message:
            `the CODEOWNERS file is ${size} bytes; GitHub does not load a CODEOWNERS file of 3 MB or more ` +
            `("About code owners", CODEOWNERS file size), so no code owners apply`,
        },
      ],
    };
  }

  const rules: CodeownersRule[] = [];
  const errors: CodeownersError[] = [];
  // A UTF-8 byte order mark would otherwise become part of the first pattern.
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const error = (column: number, message: string): void => {
      errors.push({ line: lineNo, message: `line ${lineNo}, column ${column}: ${message}` });
    };
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const lead = line.length - line.replace(/^[ \t]+/, "").length;
    const content = line.slice(lead);
    // Blank lines and comment lines ("# This is a comment.") carry no rule.
    if (content.replace(/[ \t]+$/, "") === "" || content.startsWith("#")) return;

    const split = tokenize(line);
    if ("message" in split) return error(split.column, split.message);
    const [pattern, ...ownerTokens] = split.tokens;
    if (pattern === undefined) return; // unreachable: content is non-blank and not a comment

    const compiled = compilePattern(pattern.text);
    if (!compiled.ok) return error(pattern.column, `pattern "${pattern.text}": ${compiled.message}`);

    for (const owner of ownerTokens) {
      if (parseOwner(owner.text) === undefined) {
        return error(
          owner.column,
          `"${owner.text}" is not an owner: GitHub accepts @username, @org/team-name or an email address`,
        );
      }
    }
    rules.push({ pattern: pattern.text, owners: ownerTokens.map((t) => t.text), line: lineNo });
  });
  return { rules, errors };
}
