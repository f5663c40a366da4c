// Runs electronegativity's programmatic API over one folder with the checks that
// electronegativity.json excepts left out, and writes the findings and parse
// errors as JSON to a file. The tool itself prints to stdout, hence the file.
//
// Usage: node electronegativity-scan.mjs <input folder> <config file> <output file>
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const run = require('@doyensec/electronegativity');

const [input, configPath, outputPath] = process.argv.slice(2);
const config = JSON.parse(readFileSync(configPath, 'utf8'));

const result = await run({
  input,
  isRelative: true,
  customScan: [],
  excludeFromScan: Object.keys(config.exceptions),
  // electronegativity 1.10's runner uses this in place of the Electron version it finds in package.json.
  electronVersionOverride: config.electronVersion,
});

const findings = result.issues.map((issue) => ({
  id: issue.id,
  file: issue.file,
  line: issue.location?.line ?? null,
  sample: issue.sample ?? null,
  severity: issue.severity?.name ?? null,
  confidence: issue.confidence?.name ?? null,
}));
writeFileSync(outputPath, JSON.stringify({ findings, errors: result.errors }, null, 2));
