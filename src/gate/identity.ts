/**
 * Small shared helpers of the gate rules: who is a person, how logins compare,
 * how server times are read. Pure.
 */
import { GateError } from "../errors.ts";
import type { AccountType } from "./port.ts";

/** GitHub logins are case-insensitive ("Octocat" is "octocat"): compare by this key. */
export function loginKey(login: string): string {
  return login.toLowerCase();
}

export function sameLogin(a: string, b: string): boolean {
  return loginKey(a) === loginKey(b);
}

/**
 * Not a person. GitHub Apps act as accounts of type "Bot" whose login ends in
 * `[bot]` (GitHub Docs, "About authentication with a GitHub App": the app's
 * bot user is `<app-slug>[bot]`). Either sign is enough; any account type other
 * than "User" (Organization, Mannequin, Unknown) is not a person either.
 */
export function isBot(login: string, type: AccountType): boolean {
  return type !== "User" || /\[bot\]$/i.test(login);
}

/** Milliseconds of an ISO 8601 server time; a malformed one is an answer the gate cannot trust. */
export function timeOf(iso: string, what: string): number {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms) || !/^\d{4}-\d{2}-\d{2}T/.test(iso)) {
    throw new GateError("invalid-response", `${what}: "${iso}" is not an ISO 8601 time`);
  }
  return ms;
}

/** The first 7 characters of a commit SHA, as GitHub shows them. */
export function shortSha(sha: string | null | undefined): string {
  return sha ? sha.slice(0, 7) : "(none)";
}

/** "@login" for reports. */
export function at(login: string): string {
  return `@${login}`;
}
