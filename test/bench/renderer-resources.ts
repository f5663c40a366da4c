/**
 * Resource readings of a bench page's renderer: the JS heap through the Chrome
 * DevTools Protocol, and CPU time and memory of the renderer process from /proc
 * (Linux only).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

import type { CDPSession, Page } from 'playwright-core';

/** Busy time used to tell the page's renderer from Chromium's other renderers. */
const IDENTIFY_BUSY_MS = 400;

/** Clock ticks per second of /proc/<pid>/stat times (CLK_TCK, usually 100). */
const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

interface ProcessEntry {
  pid: number;
  parentPid: number;
  /**
   * Arguments joined by spaces. Chromium's child processes rewrite their
   * argv into one space-separated string, so the arguments cannot be separated.
   */
  commandLine: string;
}

function readProcessTable(): ProcessEntry[] {
  const entries: ProcessEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the parenthesised command name: state, ppid, ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const commandLine = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      entries.push({ pid: Number(name), parentPid: Number(fields[1]), commandLine });
    } catch {
      // The process ended while the table was read.
    }
  }
  return entries;
}

/** Lists the processes below `rootPid` (this process by default), children first. */
export function listDescendants(rootPid = process.pid): ProcessEntry[] {
  const table = readProcessTable();
  const found: ProcessEntry[] = [];
  const parents = new Set([rootPid]);
  let grew = true;

  while (grew) {
    grew = false;
    for (const entry of table) {
      if (parents.has(entry.parentPid) && !parents.has(entry.pid)) {
        parents.add(entry.pid);
        found.push(entry);
        grew = true;
      }
    }
  }
  return found;
}

function isChromium(entry: ProcessEntry): boolean {
  return /^\S*chrom/i.test(entry.commandLine);
}

/** Returns user plus system CPU time of a process in seconds, from /proc/<pid>/stat. */
export function readCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // After the command name: state(0) ppid(1) ... utime(11) stime(12).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** Returns the summed CPU seconds of every Chromium process below this one, skipping those that end meanwhile. */
export function readChromiumCpuSeconds(): number {
  let total = 0;
  for (const entry of listDescendants().filter(isChromium)) {
    try {
      total += readCpuSeconds(entry.pid);
    } catch {
      // The process ended after it was listed.
    }
  }
  return total;
}

export interface ProcessMemory {
  /** Resident set size (VmRSS), shared pages included. */
  rssBytes: number;
  /** Proportional set size: private pages plus this process's share of shared ones. */
  pssBytes: number;
}

export function readProcessMemory(pid: number): ProcessMemory {
  const kilobytes = (text: string, field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    if (!match) throw new Error(`/proc/${pid} has no ${field} line`);
    return Number(match[1]) * 1024;
  };

  return {
    rssBytes: kilobytes(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS'),
    pssBytes: kilobytes(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss'),
  };
}

/**
 * Finds the pid of the renderer process that runs `page`. Chromium starts
 * several renderers (a spare one and one for its own UI among them), and no
 * page-level API returns which one hosts a page, so the page runs a busy loop and
 * the renderer whose CPU time grows by most of it is the one.
 */
export async function findRendererPid(page: Page): Promise<number> {
  const renderers = listDescendants()
    .filter(isChromium)
    .filter((entry) => / --type=renderer( |$)/.test(entry.commandLine));
  if (renderers.length === 0) throw new Error('No Chromium renderer process runs below this process');

  const before = new Map(renderers.map((entry) => [entry.pid, readCpuSeconds(entry.pid)]));
  await page.evaluate((busyMs) => {
    const end = performance.now() + busyMs;
    while (performance.now() < end) {
      // Busy on purpose: see findRendererPid.
    }
  }, IDENTIFY_BUSY_MS);

  const grown = renderers
    .map((entry) => ({ pid: entry.pid, seconds: readCpuSeconds(entry.pid) - before.get(entry.pid)! }))
    .sort((a, b) => b.seconds - a.seconds);
  const [busiest, next] = grown;

  if (!busiest || busiest.seconds < (IDENTIFY_BUSY_MS / 1000) * 0.5 || (next && next.seconds > busiest.seconds / 2)) {
    throw new Error(`Cannot tell the page's renderer from CPU time grown during a ${IDENTIFY_BUSY_MS} ms busy loop: ${JSON.stringify(grown)}`);
  }
  return busiest.pid;
}

/** Sizes from a heap snapshot, in bytes. */
export interface HeapSnapshotSizes {
  /** Self sizes of every node: JavaScript objects, compiled code, V8 internals and Blink's objects. */
  totalBytes: number;
  /**
   * Self sizes summed per node type of the V8 snapshot format: "object",
   * "closure", "array", "string", "code" (bytecode and optimized code), "native"
   * (Blink's C++ objects and some V8 internals), and others. V8's own caches
   * (`v8CacheBytes`) are not counted here.
   */
  bytesByType: Record<string, number>;
  /**
   * Self sizes of the caches V8 hangs off its strong root list, such as the
   * number-to-string caches: engine state that grows in steps with use, not
   * objects of the page.
   */
  v8CacheBytes: number;
}

/** Fields of the V8 heap snapshot format (`.heapsnapshot`) read here. */
interface HeapSnapshotJson {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** A DevTools session on one page, for heap and main-thread metrics. */
export interface PageMetrics {
  /** Runs a full garbage collection (twice, so that objects freed by finalizers go too), then returns JSHeapUsedSize in bytes. */
  heapUsedAfterGc(): Promise<number>;
  /** Takes a heap snapshot, which collects garbage first, and sums its nodes' sizes. */
  heapSnapshotSizes(): Promise<HeapSnapshotSizes>;
  /** Returns one metric of the Performance domain, e.g. "TaskDuration" (seconds) or "JSHeapUsedSize" (bytes). */
  metric(name: string): Promise<number>;
  detach(): Promise<void>;
}

export async function openPageMetrics(page: Page): Promise<PageMetrics> {
  const session: CDPSession = await page.context().newCDPSession(page);
  await session.send('Performance.enable');

  const metric = async (name: string) => {
    const { metrics } = await session.send('Performance.getMetrics');
    const found = metrics.find((entry) => entry.name === name);
    if (!found) throw new Error(`Performance.getMetrics returned no ${name}`);
    return found.value;
  };

  return {
    metric,
    async heapUsedAfterGc() {
      await session.send('HeapProfiler.collectGarbage');
      await session.send('HeapProfiler.collectGarbage');
      return metric('JSHeapUsedSize');
    },
    async heapSnapshotSizes() {
      const chunks: string[] = [];
      const onChunk = ({ chunk }: { chunk: string }) => chunks.push(chunk);
      session.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
      try {
        await session.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
      } finally {
        session.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
      }
      return sumHeapSnapshot(JSON.parse(chunks.join('')) as HeapSnapshotJson);
    },
    async detach() {
      await session.detach().catch(() => undefined);
    },
  };
}

/** Name of the synthetic snapshot node whose internal edges lead to V8's root objects, its caches among them. */
const STRONG_ROOT_LIST = '(Strong root list)';
const V8_CACHE_EDGE = /_cache$/;

/** Returns the offsets of the nodes that V8's strong root list references through edges named like a cache. */
function findV8Caches(snapshot: HeapSnapshotJson): Set<number> {
  const { node_fields: nodeFields, edge_fields: edgeFields, edge_types: edgeTypes } = snapshot.snapshot.meta;
  const nameIndex = nodeFields.indexOf('name');
  const edgeCountIndex = nodeFields.indexOf('edge_count');
  const edgeTypeIndex = edgeFields.indexOf('type');
  const edgeNameIndex = edgeFields.indexOf('name_or_index');
  const edgeTargetIndex = edgeFields.indexOf('to_node');
  const internalEdge = edgeTypes[0].indexOf('internal');
  if ([nameIndex, edgeCountIndex, edgeTypeIndex, edgeNameIndex, edgeTargetIndex, internalEdge].some((index) => index < 0)) {
    throw new Error(`Unexpected heap snapshot fields: ${nodeFields.join(', ')}; ${edgeFields.join(', ')}`);
  }

  const caches = new Set<number>();
  let edge = 0;
  for (let node = 0; node < snapshot.nodes.length; node += nodeFields.length) {
    const edgeCount = snapshot.nodes[node + edgeCountIndex]!;
    const isRootList = snapshot.strings[snapshot.nodes[node + nameIndex]!] === STRONG_ROOT_LIST;
    for (let index = 0; index < edgeCount; index += 1, edge += edgeFields.length) {
      if (!isRootList || snapshot.edges[edge + edgeTypeIndex] !== internalEdge) continue;
      if (V8_CACHE_EDGE.test(snapshot.strings[snapshot.edges[edge + edgeNameIndex]!] ?? '')) {
        caches.add(snapshot.edges[edge + edgeTargetIndex]!);
      }
    }
  }
  return caches;
}

function sumHeapSnapshot(snapshot: HeapSnapshotJson): HeapSnapshotSizes {
  const fields = snapshot.snapshot.meta.node_fields;
  const typeNames = snapshot.snapshot.meta.node_types[0];
  const typeIndex = fields.indexOf('type');
  const sizeIndex = fields.indexOf('self_size');
  if (typeIndex < 0 || sizeIndex < 0) throw new Error(`Unexpected heap snapshot node fields: ${fields.join(', ')}`);

  const caches = findV8Caches(snapshot);
  const bytesByType: Record<string, number> = {};
  let totalBytes = 0;
  let v8CacheBytes = 0;
  for (let offset = 0; offset < snapshot.nodes.length; offset += fields.length) {
    const size = snapshot.nodes[offset + sizeIndex]!;
    totalBytes += size;
    if (caches.has(offset)) {
      v8CacheBytes += size;
      continue;
    }
    const type = typeNames[snapshot.nodes[offset + typeIndex]!] ?? 'unknown';
    bytesByType[type] = (bytesByType[type] ?? 0) + size;
  }
  return { totalBytes, bytesByType, v8CacheBytes };
}
