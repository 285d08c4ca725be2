// The first example of Python's asyncio subprocess documentation, in
// JavaScript with procgate's promises. Run it with shell.toml (a shell
// granted); an argument replaces `ls /zzz`.
import { command, createSubprocessShell, decode, PIPE } from './procgate.js';

async function runCmd(cmd) {
  const proc = await createSubprocessShell(cmd, { stdout: PIPE, stderr: PIPE });

  const [stdout, stderr] = await proc.communicate();

  console.log(`['${cmd}' exited with ${proc.returncode}]`);
  if (stdout.length) console.log(`[stdout]\n${decode(stdout)}`);
  if (stderr.length) console.log(`[stderr]\n${decode(stderr)}`);
}

export const run = command(([cmd]) => runCmd(cmd ?? 'ls /zzz'));
