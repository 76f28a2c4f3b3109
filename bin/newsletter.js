#!/usr/bin/env node
// The published bin: run the TypeScript entry point through tsx's loader so the
// package needs no build step (DESIGN.md: `newsletter` bin).
import { register } from "tsx/esm/api";
register();
await import("../src/cli/bin.ts");
