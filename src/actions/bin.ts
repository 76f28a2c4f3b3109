/** Process entry of `npm run -s step -- <name>`: real streams, the real environment, the real exit code. */
import { processIo } from "../runtime/io.ts";
import { runStep } from "./main.ts";

process.exitCode = await runStep(process.argv.slice(2), processIo(), process.cwd());
