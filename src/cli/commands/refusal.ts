/**
 * When a command that sends (send, test-send) or renders (preview) is
 * refused by the checks, print the findings as text on stderr, then fail.
 */
import { formatText } from "../../report/text.ts";
import { CheckFailedError } from "../../send/prepare.ts";
import type { Io } from "../../runtime/io.ts";

export async function reportRefusal<T>(io: Io, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof CheckFailedError) io.err(formatText(e.report, { color: false }));
    throw e;
  }
}
