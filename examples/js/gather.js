// The second example of Python's asyncio subprocess documentation, in
// JavaScript: the first one's run(cmd) for two commands at once, with
// Promise.all for asyncio.gather. About 1 s in all, not 2. Run it with
// gather.toml (a shell granted).
//
// runCmd is shell.js's, repeated on purpose: the reference's second example
// repeats the first one's run(cmd) too, and each example is one program
// built from this one file (the build puts only procgate.js and node/
// beside it), so the two cannot share a module.
import { command, createSubprocessShell, decode, PIPE } from './procgate.js';

async function runCmd(cmd) {
  const proc = await createSubprocessShell(cmd, { stdout: PIPE, stderr: PIPE });

  const [stdout, stderr] = await proc.communicate();

  console.log(`['${cmd}' exited with ${proc.returncode}]`);
  if (stdout.length) console.log(`[stdout]\n${decode(stdout)}`);
  if (stderr.length) console.log(`[stderr]\n${decode(stderr)}`);
}

async function main() {
  await Promise.all([runCmd('ls /zzz'), runCmd('sleep 1; echo "hello"')]);
}

export const run = command(main);
