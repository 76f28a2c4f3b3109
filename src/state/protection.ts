/**
 * The state branch is the only memory of who was sent (docs/design.md,
 * "Trust boundary"): a writer who can push to it can delete a ledger and make
 * every recipient look unsent. `setup` puts a ruleset on it that restricts
 * updates, deletion and force pushes, with one bypass: a deploy key whose
 * private half is a secret of the production environment. Before its first
 * message a send on GitHub asks which rules apply to the branch (REST "Get
 * rules for a branch", readable with `contents: read`) and refuses when any
 * of them is missing. Bypass actors are not visible to the send's token;
 * that the send's own pushes succeed shows it holds the bypass, and `setup`
 * keeps the list to that one key.
 */
import { RefusedError } from "../errors.ts";

/** Ruleset rule types the state branch needs (REST "Get rules for a branch" `type`). */
export const STATE_BRANCH_RULES = ["update", "deletion", "non_fast_forward"] as const;

/** Reads the types of the rules that apply to `branch` (every ruleset, repository and organization). */
export type BranchRuleTypes = (branch: string) => Promise<readonly string[]>;

/** Whether the send must verify the protection: on GitHub (an Actions runner, or a repository named). */
export function protectionRequired(env: NodeJS.ProcessEnv): boolean {
  return env["GITHUB_ACTIONS"] === "true" || Boolean(env["GITHUB_REPOSITORY"]);
}

/** Throws RefusedError (exit 1, nothing sent) unless every rule of STATE_BRANCH_RULES applies to `branch`. */
export async function verifyStateProtection(branch: string, ruleTypes: BranchRuleTypes): Promise<void> {
  let types: readonly string[];
  try {
    types = await ruleTypes(branch);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new RefusedError(`refused: could not read the rules of the state branch ${branch} (${why}); nothing is sent without its protection`, { cause: e });
  }
  const missing = STATE_BRANCH_RULES.filter((t) => !types.includes(t));
  if (missing.length > 0) {
    throw new RefusedError(
      `refused: the state branch ${branch} is not protected (missing rule${missing.length === 1 ? "" : "s"}: ${missing.join(", ")}). ` +
        `Anyone with write access could delete a ledger and make sent recipients look unsent. ` +
        `Run \`newsletter setup\` with an admin token to create its ruleset; nothing is sent until then.`,
    );
  }
}
