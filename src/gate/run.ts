/**
 * One gate evaluation against a port: find the base commit, read the gate
 * configuration FROM THE BASE (a PR may not loosen its own gate), evaluate.
 * Any failure to read the base config fails closed (GateError, exit 2).
 */
import { GateError } from "../errors.ts";
import { CONFIG_FILE, parseConfig } from "../load/config.ts";
import { evaluateGate } from "./evaluate.ts";
import type { GatePort } from "./port.ts";
import type { GateResult } from "./result.ts";

export async function runGate(port: GatePort, target: { sha: string } | { pr: number }, now?: Date): Promise<GateResult> {
  let prNumber: number | undefined;
  if ("pr" in target) prNumber = target.pr;
  else {
    const prs = await port.pullsForCommit(target.sha);
    // Zero or several PRs: evaluateGate reports it (no-pr / multiple-prs); it needs a config
    // only for the stage list, so fall back to the config at the commit itself.
    if (prs.length === 1) prNumber = prs[0];
  }
  const ref = prNumber !== undefined ? (await port.pull(prNumber)).baseSha : "sha" in target ? target.sha : undefined;
  if (!ref) throw new GateError("invalid-response", "gate: no base commit to read the configuration from");
  const text = await port.fileAtRef(CONFIG_FILE, ref);
  if (text === null) throw new GateError("not-found", `gate: ${CONFIG_FILE} does not exist at ${ref.slice(0, 12)} (the base)`);
  const { config, findings } = parseConfig(text, CONFIG_FILE);
  if (!config) {
    const first = findings.find((f) => f.severity === "error");
    throw new GateError("invalid-response", `gate: ${CONFIG_FILE} at the base ${ref.slice(0, 12)} is invalid${first ? ` (line ${first.line}: ${first.message})` : ""}`);
  }
  return evaluateGate({ ...target, config, port, ...(now ? { now } : {}) });
}
