/**
 * One gate evaluation against a port: the configuration is read FROM THE BASE
 * of the pull request (a PR may not loosen its own gate), through the same
 * port, once the pull request is known; then the rules are evaluated. Any
 * failure to read the base config fails closed (GateError, exit 2).
 */
import { GateError } from "../errors.ts";
import { CONFIG_FILE, parseConfig } from "../load/config.ts";
import type { ResolvedConfig } from "../load/schema/config.ts";
import { evaluateGate } from "./evaluate.ts";
import type { GatePort } from "./port.ts";
import type { GateResult } from "./result.ts";

/** The gate configuration at commit `ref`, read through the port. */
export async function configAtRef(port: GatePort, ref: string): Promise<ResolvedConfig> {
  const text = await port.fileAtRef(CONFIG_FILE, ref);
  if (text === null) throw new GateError("not-found", `gate: ${CONFIG_FILE} does not exist at ${ref.slice(0, 12)} (the base)`);
  const { config, findings } = parseConfig(text, CONFIG_FILE);
  if (!config) {
    const first = findings.find((f) => f.severity === "error");
    throw new GateError("invalid-response", `gate: ${CONFIG_FILE} at the base ${ref.slice(0, 12)} is invalid${first ? ` (line ${first.line}: ${first.message})` : ""}`);
  }
  return config;
}

export async function runGate(port: GatePort, target: { sha: string } | { pr: number }, now?: Date): Promise<GateResult> {
  return evaluateGate({ ...target, configAt: (ref) => configAtRef(port, ref), port, ...(now ? { now } : {}) });
}
