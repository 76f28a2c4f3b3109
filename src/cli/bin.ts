/** Process entry of the `newsletter` command: real streams, real argv, real exit code. */
import { processIo } from "../runtime/io.ts";
import { main } from "./main.ts";

process.exitCode = await main(process.argv.slice(2), processIo(), process.cwd());
