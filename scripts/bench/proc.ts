import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clockTicks: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`, usually 100). */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** CPU time (utime + stime) of `pid` in ms, or undefined when the process is gone. */
export function readCpuMs(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name (which may hold spaces) start at field 3 (state).
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return ((utime + stime) * 1000) / ticksPerSecond();
}

/** Resident set (VmRSS) and its high-water mark (VmHWM) of `pid` in MB, or undefined when gone. */
export function readMemMb(pid: number): { rss: number; hwm: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 'NaN');
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** Samples the RSS of a set of processes periodically and keeps each one's peak since `reset()`. */
export class RssSampler {
  private peaks = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pids: () => { label: string; pid: number }[],
    private readonly intervalMs = 200,
  ) {}

  /** Starts sampling (idempotent). */
  start(): void {
    this.timer ??= setInterval(() => this.sample(), this.intervalMs);
  }

  /** Takes one sample now. */
  sample(): void {
    for (const { label, pid } of this.pids()) {
      const mem = readMemMb(pid);
      if (mem && mem.rss > (this.peaks.get(label) ?? 0)) this.peaks.set(label, mem.rss);
    }
  }

  /** Forgets the peaks seen so far. */
  reset(): void {
    this.peaks.clear();
    this.sample();
  }

  /** Peak RSS per label (MB) since the last reset. */
  peaksMb(): Map<string, number> {
    this.sample();
    return new Map(this.peaks);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** CPU ms per label, to diff two snapshots. */
export function cpuSnapshot(procs: { label: string; pid: number }[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const { label, pid } of procs) out.set(label, readCpuMs(pid) ?? Number.NaN);
  return out;
}

/** `after - before` per label. */
export function diffMaps(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [label, value] of after) out.set(label, value - (before.get(label) ?? 0));
  return out;
}
