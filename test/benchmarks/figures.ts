import { appendFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

export interface Figure {
  /** What was measured, with its unit, e.g. "page ready → Registered (ms)". */
  name: string;
  samples: number[];
}

export interface Summary {
  name: string;
  count: number;
  median: number;
  min: number;
  max: number;
}

export function summarize(figure: Figure): Summary {
  if (figure.samples.length === 0) throw new Error(`No samples for "${figure.name}"`);

  const sorted = [...figure.samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;

  return { name: figure.name, count: sorted.length, median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** Where every benchmark run appends its summaries, one JSON object per line. */
export const RESULTS_FILE = resolve(__dirname, '../../.tmp/benchmark-results.jsonl');

/**
 * Prints a Markdown table of median, min and max per figure, and appends the
 * summaries to RESULTS_FILE for the benchmark page.
 */
export function report(title: string, figures: Figure[]): Summary[] {
  const summaries = figures.map(summarize);
  const lines = [
    '',
    `### ${title}`,
    '',
    '| figure | n | median | min | max |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...summaries.map(
      (s) => `| ${s.name} | ${s.count} | ${formatNumber(s.median)} | ${formatNumber(s.min)} | ${formatNumber(s.max)} |`,
    ),
    '',
  ];
  console.log(lines.join('\n'));

  mkdirSync(resolve(RESULTS_FILE, '..'), { recursive: true });
  appendFileSync(RESULTS_FILE, `${JSON.stringify({ title, at: new Date().toISOString(), summaries })}\n`);
  return summaries;
}
