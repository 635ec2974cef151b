#!/usr/bin/env node
// Runs the TypeScript sources directly (SWC transpiles on load, with decorator metadata).
require("@swc-node/register");
require("../src/cli.ts");
