#!/usr/bin/env node
// `npm start`: the main job on the embedded sample (src/cli/start.ts), bundled when fresh (bin/bundle.js).
import { launch } from "./bundle.js";
await launch("cli/start");
