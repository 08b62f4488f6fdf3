import { readFileSync } from 'node:fs';

/** A package-manager or `sh -c` layer between the user's command and this process. */
const LAUNCHER = /(^|[/\s])(pnpm|npm|npx)([\s@.]|$)|^(\/bin\/)?(sh|dash) -c/;

function commandLine(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the `(comm)` one: state, then ppid.
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** The pnpm / npm / `sh -c` processes this one was launched through (Linux; empty elsewhere). */
export function launcherChain(): number[] {
  if (process.platform !== 'linux') return [];
  const chain: number[] = [];
  try {
    for (let pid = process.ppid; pid > 1 && chain.length < 16; pid = parentOf(pid)) {
      if (!LAUNCHER.test(commandLine(pid))) break;
      chain.push(pid);
    }
  } catch {
    // /proc unreadable: nothing to watch.
  }
  return chain;
}

/**
 * Calls `onOrphaned` when a launcher this process runs under is gone. A signal sent to
 * `pnpm start` (or to `npx pnpm`) does not always reach the server through the `sh -c`
 * layers in between; without this, the server would outlive it and keep the port.
 */
export function stopWithLauncher(onOrphaned: (pid: number) => void, intervalMs = 500): void {
  const chain = launcherChain();
  if (chain.length === 0) return;
  const timer = setInterval(() => {
    for (const pid of chain) {
      try {
        process.kill(pid, 0);
      } catch {
        clearInterval(timer);
        onOrphaned(pid);
        return;
      }
    }
  }, intervalMs);
  timer.unref();
}
