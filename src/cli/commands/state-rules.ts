/**
 * The adapter behind src/state/protection.ts: the rule types that apply to a
 * branch, from REST "Get rules for a branch"
 * (GET /repos/{owner}/{repo}/rules/branches/{branch}; `contents: read`
 * suffices), every page. Loaded only by a send on GitHub (@octokit costs
 * ~200 ms of startup).
 */
import type { BranchRuleTypes } from "../../state/protection.ts";
import type { Io } from "../../runtime/io.ts";
import { clientFromEnv } from "../../wiring/github.ts";

export function branchRuleTypesFromEnv(env: Io["env"]): BranchRuleTypes {
  return async (branch) => {
    const client = clientFromEnv(env);
    const rules = await client.paginate<{ type: string }>("GET /repos/{owner}/{repo}/rules/branches/{branch}", { ...client.repoParams, branch });
    return rules.map((r) => r.type);
  };
}
