/**
 * Runs electronegativity (@doyensec/electronegativity 1.10) over src/ with the
 * exceptions listed in electronegativity.json. Its `exceptions` turn whole
 * checks off. Its `reviewedFindings` accept single findings of a check that
 * stays on, each matched by check id, file and source line.
 *
 * NOTE: the command-line switch check reports only switch names written as
 * string literals, so `appendSwitch(name)` with a constant or a template passes.
 *
 * NOTE: electronegativity 1.10 downloads translation files on every run, even
 * with an Electron version given, and waits for several seconds of retries when
 * it cannot. The scan therefore runs only inside `unshare -rn` (a network
 * namespace with no interfaces), so nothing leaves the machine; where that is
 * not possible the scan fails rather than reach out.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repositoryRoot = resolve(__dirname, '../..');
const configPath = join(repositoryRoot, 'electronegativity.json');
const scanScript = join(__dirname, 'electronegativity-scan.mjs');

interface Finding {
  id: string;
  file: string;
  line: number | null;
  sample: string | null;
}

interface ScanResult {
  exitCode: number | null;
  output: string;
  findings: Finding[];
  errors: { file: string; message: string }[];
}

interface ReviewedFinding {
  id: string;
  file: string;
  sample: string;
  reason: string;
}

interface ScanConfig {
  electronVersion: string;
  input: string;
  exceptions: Record<string, unknown>;
  reviewedFindings: ReviewedFinding[];
}

const readConfig = async () => JSON.parse(await readFile(configPath, 'utf8')) as ScanConfig;

function matches(finding: Finding, reviewed: ReviewedFinding): boolean {
  return finding.id === reviewed.id && finding.file === reviewed.file && finding.sample === reviewed.sample;
}

/** Returns the findings left after each reviewed finding accepts one match, so a copy of a reviewed line still counts. */
function unreviewed(findings: Finding[], reviewedFindings: ReviewedFinding[]): Finding[] {
  const left = [...findings];
  for (const reviewed of reviewedFindings) {
    const index = left.findIndex((finding) => matches(finding, reviewed));
    if (index !== -1) left.splice(index, 1);
  }
  return left;
}

const networkIsolation = spawnSync('unshare', ['-rn', 'true']).status === 0;

/** Scans `input` in a child process inside a network namespace with no interfaces. */
function scan(input: string, outputPath: string): Promise<ScanResult> {
  const nodeArgs = [scanScript, input, configPath, outputPath];
  if (!networkIsolation) {
    return Promise.reject(
      new Error('`unshare -rn true` failed, so electronegativity cannot run without network access here.'),
    );
  }
  const [command, args] = ['unshare', ['-rn', process.execPath, ...nodeArgs]] as const;

  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (exitCode) => {
      readFile(outputPath, 'utf8')
        .then((text) => resolvePromise({ exitCode, output, ...(JSON.parse(text) as Omit<ScanResult, 'exitCode' | 'output'>) }))
        .catch(() => resolvePromise({ exitCode, output, findings: [], errors: [] }));
    });
  });
}

const INSECURE_WINDOW = `
const { BrowserWindow } = require('electron');
const window = new BrowserWindow({ webPreferences: { nodeIntegration: true, contextIsolation: false, sandbox: false } });
window.loadURL('http://example.com/');
`;

describe('electronegativity scan', () => {
  let workDir: string;
  let sources: ScanResult;
  let insecure: ScanResult;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'softphone-electronegativity-'));
    const fixtureDir = join(workDir, 'insecure-app');
    await mkdir(fixtureDir);
    await writeFile(join(fixtureDir, 'main.js'), INSECURE_WINDOW);

    // Both scans wait on the same download retries, so they run side by side.
    [sources, insecure] = await Promise.all([
      scan(join(repositoryRoot, 'src'), join(workDir, 'sources.json')),
      scan(fixtureDir, join(workDir, 'insecure.json')),
    ]);
  }, 60_000);

  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('reports no findings in the sources beyond the reviewed ones', async () => {
    const { reviewedFindings } = await readConfig();

    expect(sources.exitCode, sources.output).toBe(0);
    expect(unreviewed(sources.findings, reviewedFindings)).toEqual([]);
  });

  it('finds each reviewed finding once', async () => {
    const { reviewedFindings } = await readConfig();

    for (const reviewed of reviewedFindings) {
      const found = sources.findings.filter((finding) => matches(finding, reviewed));
      expect(found, `${reviewed.id} in ${reviewed.file}`).toHaveLength(1);
    }
  });

  it('counts a copy of a reviewed line as a new finding', async () => {
    const { reviewedFindings } = await readConfig();
    const reviewed = reviewedFindings[0]!;
    const finding = { id: reviewed.id, file: reviewed.file, line: 1, sample: reviewed.sample };

    expect(unreviewed([finding, { ...finding, line: 2 }], reviewedFindings)).toEqual([{ ...finding, line: 2 }]);
  });

  it('parses every source file', () => {
    expect(sources.errors).toEqual([]);
  });

  it('reports an insecure window, so an empty result means something', () => {
    const ids = insecure.findings.map((finding) => finding.id);

    expect(insecure.exitCode, insecure.output).toBe(0);
    expect(ids).toContain('SANDBOX_JS_CHECK');
    expect(ids).toContain('CONTEXT_ISOLATION_JS_CHECK');
  });
});

describe('electronegativity.json', () => {
  it('justifies each exception and reviewed finding in one line', async () => {
    const { exceptions, reviewedFindings } = await readConfig();
    const reasons: [string, unknown][] = [
      ...Object.entries(exceptions),
      ...reviewedFindings.map((reviewed): [string, unknown] => [`${reviewed.id} in ${reviewed.file}`, reviewed.reason]),
    ];

    expect(Object.keys(exceptions).length).toBeGreaterThan(0);
    for (const [check, reason] of reasons) {
      expect(typeof reason, check).toBe('string');
      expect((reason as string).length, check).toBeGreaterThan(30);
      expect(reason as string, check).not.toMatch(/\n/);
    }
  });

  it('names the installed Electron version', async () => {
    const installed = JSON.parse(await readFile(join(repositoryRoot, 'node_modules/electron/package.json'), 'utf8')) as { version: string };

    expect((await readConfig()).electronVersion).toBe(installed.version);
  });
});
