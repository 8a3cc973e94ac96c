#!/usr/bin/env node
// Runs the compiled CLI; `npm install` builds it through the `prepare` script.
import { main } from "../dist/cli/main.js";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    // Never a stack trace for a user: the message only.
    process.stderr.write(`license-sync: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
