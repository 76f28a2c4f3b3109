/**
 * One failure path for the gate: every port call either returns or throws a
 * GateError naming the call. A GateError from the adapter passes through
 * unchanged (its kind says truncated / api / not-found); a GitHub client
 * error is mapped by `apiFailureKind`; anything else is wrapped as kind
 * "port" with the original as `cause`. docs/design.md, "The
 * approval gate": every API error, 404 or truncated list fails closed, naming the cause.
 */
import { apiFailureKind, GateError } from "../errors.ts";
import { GATE_PORT_METHODS, type GatePort, type GatePortMethod } from "./port.ts";

// Compile-time: GATE_PORT_METHODS lists every method of GatePort.
type Missing = Exclude<keyof GatePort, GatePortMethod>;
const complete: [Missing] extends [never] ? true : never = true;
void complete;

function describe(method: string, args: readonly unknown[]): string {
  const show = (a: unknown): string =>
    typeof a === "string" ? JSON.stringify(a) : Array.isArray(a) ? `[${a.map(show).join(", ")}]` : String(a);
  return `${method}(${args.map(show).join(", ")})`;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * `e` as a GateError naming `operation`: a GateError keeps its kind (and gets
 * the operation if it had none); a GitHub client error gets the kind of the
 * one mapping, `apiFailureKind` (src/errors.ts); anything else is "port".
 * Used by the GitHub adapter for each port call and by `guardCall` as the
 * safety net, so both map alike.
 */
export function gateErrorOf(operation: string, e: unknown): GateError {
  if (e instanceof GateError) {
    return e.operation !== undefined ? e : new GateError(e.kind, `${operation}: ${e.message}`, { cause: e, operation });
  }
  const kind = apiFailureKind(e);
  if (kind !== undefined) return new GateError(kind, `${operation}: ${messageOf(e)}`, { cause: e, operation });
  return new GateError("port", `${operation} failed: ${messageOf(e)}`, { cause: e, operation });
}

/** Calls `fn`, turning anything it throws into a GateError that names `operation`. */
export async function guardCall<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw gateErrorOf(operation, e);
  }
}

/** The same port, every method guarded. */
export function guardPort(port: GatePort): GatePort {
  const g = <T>(method: GatePortMethod, args: readonly unknown[], fn: () => Promise<T>): Promise<T> =>
    guardCall(describe(method, args), fn);
  return {
    pullsForCommit: (sha) => g("pullsForCommit", [sha], () => port.pullsForCommit(sha)),
    pull: (n) => g("pull", [n], () => port.pull(n)),
    reviews: (n) => g("reviews", [n], () => port.reviews(n)),
    commits: (n) => g("commits", [n], () => port.commits(n)),
    files: (n) => g("files", [n], () => port.files(n)),
    lastPushAt: (n, headSha) => g("lastPushAt", [n, headSha], () => port.lastPushAt(n, headSha)),
    pushers: (n) => g("pushers", [n], () => port.pushers(n)),
    commitChange: (sha) => g("commitChange", [sha], () => port.commitChange(sha)),
    fileAtRef: (path, ref) => g("fileAtRef", [path, ref], () => port.fileAtRef(path, ref)),
    activeTeamMembers: (org, slug, logins) =>
      g("activeTeamMembers", [org, slug, logins], () => port.activeTeamMembers(org, slug, logins)),
    teamMembership: (org, slug, login) => g("teamMembership", [org, slug, login], () => port.teamMembership(org, slug, login)),
    permissions: (logins) => g("permissions", [logins], () => port.permissions(logins)),
    changedBetween: (a, b) => g("changedBetween", [a, b], () => port.changedBetween(a, b)),
    branchRules: (branch) => g("branchRules", [branch], () => port.branchRules(branch)),
  };
}
