/**
 * CODEOWNERS for the approval gate: where GitHub finds the file, how it is
 * parsed (parse.ts) and how a path's owners are decided
 * (match.ts), all with GitHub's documented semantics ("About code
 * owners", GitHub Docs). The gate reads the file from the base branch, as
 * GitHub does: "the CODEOWNERS file must be on the base branch of the pull
 * request". Pure: the caller supplies file contents.
 *
 * A low shared layer: the gate decides approvals with it and `check` reports a
 * CODEOWNERS file that does not match the approval stages (docs/design.md, "Layers").
 */
import { parseCodeowners, type CodeownersParseResult } from "./parse.ts";

export {
  MAX_CODEOWNERS_BYTES,
  parseCodeowners,
  parseOwner,
  sameOwner,
  type CodeownersError,
  type CodeownersOwner,
  type CodeownersParseResult,
  type CodeownersRule,
} from "./parse.ts";
export {
  CodeownersPatternError,
  compilePattern,
  matchCompiled,
  matchingRule,
  ownersOf,
  patternMatches,
  type CompileResult,
  type CompiledPattern,
  type OwnedPattern,
} from "./match.ts";

/**
 * GitHub: "create a new file called CODEOWNERS in the .github/, root, or docs/
 * directory of the repository ... If CODEOWNERS files exist in more than one
 * of those locations, GitHub will search for them in that order and use the
 * first one it finds."
 */
export const CODEOWNERS_LOCATIONS = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"] as const;

export type CodeownersLocation = (typeof CODEOWNERS_LOCATIONS)[number];

export interface PickedCodeowners extends CodeownersParseResult {
  /** Which location was used. */
  readonly path: CodeownersLocation;
  /** The file's text, for the audit record. */
  readonly text: string;
}

/**
 * Finds and parses the CODEOWNERS file GitHub would use. `readFile` returns the
 * file's text, or undefined when no file exists at that path (an empty file
 * exists: GitHub uses it, and it owns nothing). The first existing location
 * wins even when it is invalid or too large: GitHub does not fall back to the
 * next location, so neither do we (the errors say why nothing is owned).
 * Undefined when there is no CODEOWNERS file at all.
 */
export function pickCodeowners(readFile: (path: string) => string | undefined): PickedCodeowners | undefined {
  for (const path of CODEOWNERS_LOCATIONS) {
    const text = readFile(path);
    if (text !== undefined) return { path, text, ...parseCodeowners(text) };
  }
  return undefined;
}
