/**
 * The `newsletter` command. Reads the command line once (args.ts), runs one
 * command, and has exactly one failure path: a NewsletterError prints its
 * message and exits with its contract code; anything else is an internal
 * error (exit 2) whose stack is shown only with NEWSLETTER_DEBUG=1. Every
 * message on that path is redacted so no address can leak through it.
 */
import { redact } from "../address/redact.ts";
import { isNewsletterError } from "../errors.ts";
import { parseCli, USAGE } from "./args.ts";
import { runCheckCommand } from "./commands/check.ts";
import { runGateCommand } from "./commands/gate.ts";
import { runManifestCommand } from "./commands/manifest.ts";
import { runPreviewCommand } from "./commands/preview.ts";
import { runSendCommand } from "./commands/send.ts";
import { runStatusCommand } from "./commands/status.ts";
import { runTestSendCommand } from "./commands/test-send.ts";
import type { Io } from "./io.ts";

export async function main(argv: readonly string[], io: Io, cwd: string): Promise<number> {
  try {
    const input = parseCli(argv, cwd);
    switch (input.command) {
      case "help":
        io.out(USAGE);
        return 0;
      case "check":
        return await runCheckCommand(input, io);
      case "manifest":
        return await runManifestCommand(input, io);
      case "preview":
        return await runPreviewCommand(input, io);
      case "test-send":
        return await runTestSendCommand(input, io);
      case "send":
        return await runSendCommand(input, io);
      case "status":
        return await runStatusCommand(input, io);
      case "gate":
        return await runGateCommand(input, io);
    }
  } catch (e) {
    if (isNewsletterError(e)) {
      io.err(`newsletter: ${redact(e.message)}\n`);
      return e.exitCode;
    }
    const err = e as Error;
    io.err(`newsletter: internal error: ${redact(err?.message ?? String(e))}\n`);
    if (io.env.NEWSLETTER_DEBUG === "1" && err?.stack) io.err(redact(err.stack) + "\n");
    return 2;
  }
}
