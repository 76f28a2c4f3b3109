/**
 * The deployment-branch policy of the two environments (docs/design.md,
 * "Trust boundary"): their secrets (mail relays, the keys, the App's private
 * key, the state branch's deploy key) reach any job that names the
 * environment, so only workflows of the default branch may name them. A
 * writer can push a workflow to any other branch. `setup` reads each
 * environment (REST "Get an environment"; anyone who can read the repository
 * may) and reports one that is open; it does not change them: environments
 * are an admin's decision, made by hand (README, "Setting up a real
 * organisation"). Pure.
 */

/** The environments the workflows name. */
export const ENVIRONMENTS = ["newsletter-approval", "newsletter-production"] as const;

/** What GitHub says about one environment's deployment branches. */
export type EnvironmentPolicy =
  /** No such environment (404). */
  | { readonly kind: "missing" }
  /** `deployment_branch_policy` null: every branch may deploy. */
  | { readonly kind: "all" }
  /** `protected_branches: true`: any protected branch (any branch with a rule) may deploy. */
  | { readonly kind: "protected" }
  /** `custom_branch_policies: true`: these name patterns, by type. */
  | { readonly kind: "custom"; readonly policies: readonly { readonly name: string; readonly type: string }[] }
  /** The token may not read it; `why` says so. */
  | { readonly kind: "unreadable"; readonly why: string };

export interface EnvironmentFinding {
  readonly environment: string;
  readonly ok: boolean;
  readonly text: string;
}

/** Open unless exactly the default branch (by name, as a branch) may deploy. */
export function environmentFinding(environment: string, policy: EnvironmentPolicy, defaultBranch: string): EnvironmentFinding {
  const fix = `set Settings → Environments → ${environment} → Deployment branches to "Selected branches" with only ${defaultBranch}`;
  switch (policy.kind) {
    case "missing":
      return { environment, ok: false, text: `environment ${environment} does not exist: create it and ${fix}` };
    case "all":
      return { environment, ok: false, text: `environment ${environment} is OPEN to every branch: any writer's workflow on any branch gets its secrets; ${fix}` };
    case "protected":
      return { environment, ok: false, text: `environment ${environment} is open to every protected branch (the state branch is one); ${fix}` };
    case "unreadable":
      return { environment, ok: false, text: `environment ${environment}: its deployment branches could not be read (${policy.why}); check by hand that only ${defaultBranch} may deploy` };
    case "custom": {
      const only = policy.policies.length === 1 && policy.policies[0]!.name === defaultBranch && policy.policies[0]!.type === "branch";
      if (only) return { environment, ok: true, text: `environment ${environment}: only ${defaultBranch} may deploy` };
      const shown = policy.policies.map((p) => `${p.type} ${JSON.stringify(p.name)}`).join(", ") || "no pattern";
      return { environment, ok: false, text: `environment ${environment} allows ${shown}, not only the branch ${defaultBranch}; ${fix}` };
    }
  }
}
