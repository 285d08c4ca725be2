// The cross-language cases, in JavaScript (guests/js/procgate.js): the same
// cases, printing the same lines, as tests/guests/src/bin/cases.rs. The
// table of expected output is in tests/tests/guests/languages.rs. args[0]
// names the case; gather takes a FIFO's path in args[1].
import {
  command,
  createSubprocessExec,
  createSubprocessShell,
  decode,
  DeniedError,
  PIPE,
  ProcessLookupError,
} from './procgate.js';

const shown = (data) => decode(data).replaceAll('\n', '\\n');

async function exec() {
  const proc = await createSubprocessExec('echo', ['hello from exec'], { stdout: PIPE });
  const [stdout] = await proc.communicate();
  console.log(`stdout: ${shown(stdout)}`);
  console.log(`returncode: ${proc.returncode}`);
}

async function shell() {
  const proc = await createSubprocessShell('echo hello from the shell', { stdout: PIPE });
  const [stdout] = await proc.communicate();
  console.log(`stdout: ${shown(stdout)}`);
  console.log(`returncode: ${proc.returncode}`);
}

async function deniedProgram() {
  const proc = await createSubprocessExec('cat', ['/etc/hostname']);
  console.log(`started ${proc.pid}`);
}

async function communicate() {
  const proc = await createSubprocessExec('cat', [], { stdin: PIPE, stdout: PIPE });
  const [stdout] = await proc.communicate('one\ntwo\n');
  console.log(`stdout: ${shown(stdout)}`);
  console.log(`returncode: ${proc.returncode}`);
}

const LINES = "import time\nfor word in ['alpha', 'beta', 'gamma']:\n    print(word, flush=True)\n    time.sleep(0.05)\n";

async function readline() {
  const proc = await createSubprocessExec('python3', ['-c', LINES], { stdout: PIPE });
  for (;;) {
    const line = await proc.stdout.readline();
    if (line.length === 0) break;
    console.log(`line: ${shown(line)}`);
  }
  console.log('eof');
  console.log(`returncode: ${await proc.wait()}`);
}

async function kill() {
  const proc = await createSubprocessExec('sleep', ['60']);
  proc.kill();
  console.log(`returncode: ${await proc.wait()}`);
  try {
    proc.kill();
    console.log('kill after exit: no error');
  } catch (e) {
    if (!(e instanceof ProcessLookupError)) throw e;
    console.log('kill after exit: process exited');
  }
}

async function runShell(cmd) {
  const proc = await createSubprocessShell(cmd, { stdout: PIPE });
  const [stdout] = await proc.communicate();
  return `returncode ${proc.returncode}: ${shown(stdout)}`;
}

async function gather(fifo) {
  // The first can only finish once the second runs: run one after the
  // other, they would wait for each other forever.
  const results = await Promise.all([
    runShell(`echo ping > ${fifo}; echo a done`),
    runShell(`read line < ${fifo}; echo "b got $line"`),
  ]);
  results.forEach((result, i) => console.log(`[${i}] ${result}`));
}

const cases = { exec, shell, denied: deniedProgram, communicate, readline, kill, gather };

export const run = command(async ([name, ...args]) => {
  try {
    await cases[name](...args);
  } catch (e) {
    // The native error for a denial: an Error subclass.
    if (!(e instanceof Error && e instanceof DeniedError)) throw e;
    console.log(`denied: ${e.message}`);
  }
});
