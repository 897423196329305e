// Printed before every benchmark run: figures mean nothing without Node version, CPU and git sha.
import { execFileSync } from 'node:child_process';
import os from 'node:os';

let sha = 'unknown';
try {
  sha = execFileSync('git', ['rev-parse', '--short', 'HEAD']).toString().trim();
} catch {
  // Not a git checkout: the sha stays unknown.
}
console.log(`node ${process.version} · ${os.cpus()[0]?.model} × ${os.availableParallelism()} · ${os.platform()} ${os.release()} · git ${sha} · ${new Date().toISOString()}`);
