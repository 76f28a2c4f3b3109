/**
 * Is this login one of these owners? Owners are written as in CODEOWNERS and
 * in `approvals.stages[].owners`: `@user` (matched case-insensitively, as
 * GitHub logins are), `@org/team` (the login must be an ACTIVE member: REST
 * "Get team membership for a user" reports `pending` for an invitation not yet
 * accepted, and a pending member is not a member), or an email address (which
 * only GitHub can map to an account: never matched here, and reported).
 *
 * Users are checked before teams and teams in the order written. Questions to
 * GitHub are batched and asked once per gate run: team membership as one
 * question per team for every login that needs it (`prefetchTeams`, port
 * `activeTeamMembers`), permissions as one question for every approver
 * (`prefetchPermissions`, port `permissions`). A team is asked about a login
 * only when no `@user` token of the same owner list already names it.
 */
import { GateError } from "../errors.ts";
import { parseOwner } from "../codeowners/codeowners.ts";
import { loginKey } from "./identity.ts";
import type { GatePort, Permission } from "./port.ts";

export interface OwnerCheck {
  /** The owner token that makes `login` an owner, if any. */
  readonly via: string | undefined;
  /** Team owner tokens `login` is not an active member of (asked only when `via` is undefined). */
  readonly inactiveTeams: readonly string[];
  /** Owners written as email addresses (the gate cannot resolve them). */
  readonly emails: readonly string[];
}

/** Roles that can merge, and whose approval GitHub counts ("write access"). */
export function canWrite(p: Permission): boolean {
  return p === "admin" || p === "maintain" || p === "write";
}

export interface OwnerResolver {
  /** The `@user` token among `owners` naming `login`, if any. No question to GitHub. */
  userVia(owners: readonly string[], login: string): string | undefined;
  /**
   * Asks, one question per team token among `owners`, whether each of `logins`
   * is an active member; logins a `@user` token of `owners` already names are
   * left out. Later `check` calls answer from what this learnt.
   */
  prefetchTeams(owners: readonly string[], logins: readonly string[]): Promise<void>;
  /** The owner token that makes `login` an owner: users first, then teams in the order written. */
  check(owners: readonly string[], login: string): Promise<OwnerCheck>;
  /** Of `teamTokens` (tokens `login` is not an active member of), those where an invitation is pending. */
  pendingTeams(teamTokens: readonly string[], login: string): Promise<string[]>;
  /** Asks every permission of `logins` not yet known, in one question. */
  prefetchPermissions(logins: readonly string[]): Promise<void>;
  permission(login: string): Promise<Permission>;
}

interface Team {
  readonly token: string;
  readonly org: string;
  readonly slug: string;
  readonly key: string;
}

/**
 * A cached answer may never be awaited (a batch answers logins nobody asks
 * about again): mark it handled so a failure is not an unhandled rejection.
 * Whoever awaits it still sees the failure.
 */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

export function ownerResolver(port: GatePort): OwnerResolver {
  /** `${teamKey}:${loginKey}` → active? */
  const active = new Map<string, Promise<boolean>>();
  const permissions = new Map<string, Promise<Permission>>();

  const parse = (owners: readonly string[]) => owners.map((token) => ({ token, owner: parseOwner(token) }));

  const teamsOf = (owners: readonly string[]): Team[] => {
    const out: Team[] = [];
    for (const { token, owner } of parse(owners)) {
      if (owner?.kind !== "team") continue;
      out.push({ token, org: owner.org, slug: owner.slug, key: `${loginKey(owner.org)}/${owner.slug.toLowerCase()}` });
    }
    return out;
  };

  const userVia = (owners: readonly string[], login: string): string | undefined => {
    for (const { token, owner } of parse(owners)) {
      if (owner?.kind === "user" && loginKey(owner.login) === loginKey(login)) return token;
    }
    return undefined;
  };

  /** One question for `team` about every login of `logins` not yet asked. */
  const askTeam = (team: Team, logins: readonly string[]): void => {
    const missing = [...new Set(logins.map(loginKey))].filter((k) => !active.has(`${team.key}:${k}`));
    if (missing.length === 0) return;
    const answer = port.activeTeamMembers(team.org, team.slug, missing);
    for (const k of missing) active.set(`${team.key}:${k}`, handled(answer.then((set) => set.has(k))));
  };

  const isActive = (team: Team, login: string): Promise<boolean> => {
    askTeam(team, [login]);
    return active.get(`${team.key}:${loginKey(login)}`)!;
  };

  const askPermissions = (logins: readonly string[]): void => {
    const missing = [...new Set(logins.map(loginKey))].filter((k) => !permissions.has(k));
    if (missing.length === 0) return;
    const answer = port.permissions(missing);
    for (const k of missing) {
      permissions.set(
        k,
        handled(
          answer.then((map) => {
            const p = map.get(k);
            // The port answers every login it is asked; a gap is an answer the gate cannot use.
            if (p === undefined) {
              throw new GateError("invalid-response", `permissions(): GitHub's answer has no permission for ${k}`, { operation: "permissions" });
            }
            return p;
          }),
        ),
      );
    }
  };

  return {
    userVia,
    async prefetchTeams(owners, logins) {
      const need = logins.filter((l) => userVia(owners, l) === undefined);
      if (need.length === 0) return;
      // One team after another: the first failure stops the run.
      for (const team of teamsOf(owners)) {
        askTeam(team, need);
        await Promise.all(need.map((l) => active.get(`${team.key}:${loginKey(l)}`)!));
      }
    },
    async check(owners, login) {
      const emails = parse(owners)
        .filter((o) => o.owner?.kind === "email")
        .map((o) => o.token);
      const user = userVia(owners, login);
      if (user !== undefined) return { via: user, inactiveTeams: [], emails };
      const inactiveTeams: string[] = [];
      for (const team of teamsOf(owners)) {
        if (await isActive(team, login)) return { via: team.token, inactiveTeams: [], emails };
        inactiveTeams.push(team.token);
      }
      return { via: undefined, inactiveTeams, emails };
    },
    async pendingTeams(teamTokens, login) {
      const out: string[] = [];
      for (const team of teamsOf(teamTokens)) {
        if ((await port.teamMembership(team.org, team.slug, login)) === "pending") out.push(team.token);
      }
      return out;
    },
    async prefetchPermissions(logins) {
      askPermissions(logins);
      await Promise.all(logins.map((l) => permissions.get(loginKey(l))!));
    },
    permission(login) {
      askPermissions([login]);
      return permissions.get(loginKey(login))!;
    },
  };
}
