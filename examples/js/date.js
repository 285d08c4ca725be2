// The last example of Python's asyncio subprocess documentation, in
// JavaScript: read one line from a child's stdout. The guest has no
// sys.executable: it runs `python3`, which date.toml allows.
import { command, createSubprocessExec, decode, PIPE } from './procgate.js';

async function getDate() {
  const code = 'import datetime; print(datetime.datetime.now())';

  // Create the subprocess; redirect the standard output into a pipe.
  const proc = await createSubprocessExec('python3', ['-c', code], { stdout: PIPE });

  // Read one line of output.
  const data = await proc.stdout.readline();
  const line = decode(data).trimEnd();

  // Wait for the subprocess exit.
  await proc.wait();
  return line;
}

export const run = command(async () => {
  const date = await getDate();
  console.log(`Current date: ${date}`);
});
