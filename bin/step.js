#!/usr/bin/env node
// `npm run -s step -- <name>`: an Actions step (src/actions/bin.ts), bundled when fresh (bin/bundle.js).
import { launch } from "./bundle.js";
await launch("actions/bin");
