/**
 * Is this login one of these owners? Owners are written as in CODEOWNERS and
 * in `approvals.stages[].owners`: `@user` (matched case-insensitively, as
 * GitHub logins are), `@org/team` (the login must be an ACTIVE member: REST
 * "Get team membership for a user" reports `pending` for an invitation not yet
 * accepted, and a pending member is not a member), or an email address (which
 * only GitHub can map to an account: never matched here, and reported).
 *
 * Users are checked before teams and teams in the order written, and each
 * membership and permission is asked once per gate run, so a run makes the
 * fewest calls and always the same ones.
 */
import { parseOwner } from "./codeowners.ts";
import { loginKey } from "./identity.ts";
import type { GatePort, Permission, TeamMembership } from "./port.ts";

export interface OwnerCheck {
  /** The owner token that makes `login` an owner, if any. */
  readonly via: string | undefined;
  /** Team owners `login` is only a pending member of. */
  readonly pending: readonly string[];
  /** Owners written as email addresses (the gate cannot resolve them). */
  readonly emails: readonly string[];
}

/** Roles that can merge, and whose approval GitHub counts ("write access"). */
export function canWrite(p: Permission): boolean {
  return p === "admin" || p === "maintain" || p === "write";
}

export interface OwnerResolver {
  check(owners: readonly string[], login: string): Promise<OwnerCheck>;
  permission(login: string): Promise<Permission>;
}

export function ownerResolver(port: GatePort): OwnerResolver {
  const memberships = new Map<string, Promise<TeamMembership>>();
  const permissions = new Map<string, Promise<Permission>>();

  const membership = (org: string, slug: string, login: string): Promise<TeamMembership> => {
    const key = `${loginKey(org)}/${slug.toLowerCase()}:${loginKey(login)}`;
    let p = memberships.get(key);
    if (p === undefined) {
      p = port.teamMembership(org, slug, login);
      memberships.set(key, p);
    }
    return p;
  };

  return {
    async check(owners, login) {
      const parsed = owners.map((token) => ({ token, owner: parseOwner(token) }));
      const emails = parsed.filter((o) => o.owner?.kind === "email").map((o) => o.token);
      for (const { token, owner } of parsed) {
        if (owner?.kind === "user" && loginKey(owner.login) === loginKey(login)) return { via: token, pending: [], emails };
      }
      const pending: string[] = [];
      for (const { token, owner } of parsed) {
        if (owner?.kind !== "team") continue;
        const state = await membership(owner.org, owner.slug, login);
        if (state === "active") return { via: token, pending: [], emails };
        if (state === "pending") pending.push(token);
      }
      return { via: undefined, pending, emails };
    },
    permission(login) {
      const key = loginKey(login);
      let p = permissions.get(key);
      if (p === undefined) {
        p = port.permission(login);
        permissions.set(key, p);
      }
      return p;
    },
  };
}
