// A Node program, written as Node code is written: it imports
// node:child_process and node:util, has top-level await, uses `process`
// and Buffer as globals, and exports nothing (guests/js/componentize.mjs
// makes it the guest's `run`). process.argv[2] names the case; each prints
// lines that tests/tests/guests/node_child_process.rs checks exactly. The
// behaviour checked is that of Node's own test/parallel/test-child-process-*
// tests (named at each case), written anew here.
import { spawn, exec, execFile, execFileSync, execSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { once } from 'node:events';
import { Command } from './procgate.js';

const [, , name, ...rest] = process.argv;
const show = (s) => JSON.stringify(String(s));

const cases = {
  // test-child-process-spawn-event, -exit, -stdio: 'spawn' comes first;
  // 'close' comes last, after 'exit' and after stdout's 'end', with the
  // same code and signal; the 'data' chunks concatenate to the output.
  // The shell exits at once while a child of its own holds stdout open and
  // writes later: 'exit' comes first, 'close' waits for stdout's end.
  events() {
    const events = [];
    const child = spawn('sh', ['-c', '(sleep 0.2; printf two) & printf one; exit 7']);
    let out = '';
    child.on('spawn', () => events.push('spawn'));
    child.stdout.on('data', (chunk) => {
      if (!Buffer.isBuffer(chunk)) throw new Error('a data chunk is not a Buffer');
      out += chunk;
    });
    child.stdout.on('end', () => events.push('end'));
    child.on('exit', (code, signal) => events.push(`exit ${code} ${signal}`));
    child.on('close', (code, signal) => {
      events.push(`close ${code} ${signal}`);
      console.log(`pid is a number: ${typeof child.pid === 'number' && child.pid > 0}`);
      console.log(`stdout: ${show(out)}`);
      console.log(`first: ${events[0]}`);
      console.log(`last: ${events[events.length - 1]}`);
      console.log(`exit before end: ${events.indexOf('exit 7 null') < events.indexOf('end')}`);
      console.log(`end before close: ${events.indexOf('end') < events.length - 1}`);
      console.log(`exitCode: ${child.exitCode} signalCode: ${child.signalCode}`);
    });
  },

  // test-child-process-kill: kill() sends SIGTERM and returns true; 'exit'
  // gets (null, 'SIGTERM'); `killed` is set; killing an exited child
  // returns false.
  kill() {
    const child = spawn('sleep', ['60']);
    child.on('exit', (code, signal) => console.log(`exit: ${code} ${signal}`));
    child.on('close', () => {
      console.log(`killed: ${child.killed} signalCode: ${child.signalCode} exitCode: ${child.exitCode}`);
      console.log(`kill after exit: ${child.kill()}`);
    });
    console.log(`kill: ${child.kill()}`);
  },

  // kill with a signal name the policy refuses: false and an 'error'
  // (EPERM); the child still runs and SIGKILL as a number ends it.
  'kill-denied'() {
    const child = spawn('sleep', ['60']);
    child.on('error', (err) => {
      console.log(`error: ${err.code} ${err.syscall}`);
      console.log(`kill 9: ${child.kill(9)}`);
    });
    child.on('exit', (code, signal) => console.log(`exit: ${code} ${signal}`));
    console.log(`kill SIGINT: ${child.kill('SIGINT')}`);
  },

  // test-child-process-spawn-error: a missing program emits 'error' with
  // ENOENT (errno, syscall, path, spawnargs) and no 'exit'; 'close' follows
  // with the negative errno.
  enoent() {
    const child = spawn('procgate-no-such-program', ['a', 'b']);
    console.log(`pid: ${child.pid}`);
    child.on('exit', () => console.log('exit: must not happen'));
    child.on('error', (err) => {
      console.log(`error: ${err.code} ${err.errno} ${show(err.syscall)} ${show(err.path)} ${JSON.stringify(err.spawnargs)}`);
      console.log(`message: ${err.message}`);
    });
    child.on('close', (code, signal) => console.log(`close: ${code} ${signal}`));
  },

  // A program the policy refuses: an 'error' event with EACCES and the
  // policy's rule; the promise forms reject with the same error.
  async denied() {
    const child = spawn('cat', ['/etc/hostname']);
    const [err] = await once(child, 'error');
    console.log(`error: ${err.code} ${err.errno} ${show(err.syscall)} procgate=${err.procgate}`);
    console.log(`message: ${err.message}`);
    try {
      await promisify(execFile)('cat', ['/etc/hostname']);
    } catch (e) {
      console.log(`execFile rejected: ${e.code} ${e.rule}`);
    }
  },

  // An 'error' nobody listens for is uncaught, as in Node: printed, and
  // the guest exits with status 1.
  async 'unhandled-error'() {
    spawn('cat');
    console.log('spawned');
  },

  // test-child-process-exec-error, -exec-stdout-stderr-data-string: exec
  // runs a shell command; a failing one gives an error with code, killed,
  // signal, cmd and the output; the promise form resolves to
  // { stdout, stderr } or rejects with them on the error.
  async exec() {
    await new Promise((resolve) =>
      exec('echo out; echo err >&2', (err, stdout, stderr) => {
        console.log(`ok: ${err} ${show(stdout)} ${show(stderr)}`);
        resolve();
      }),
    );
    await new Promise((resolve) =>
      exec('echo out; echo err >&2; exit 3', (err, stdout, stderr) => {
        console.log(`failed: code=${err.code} killed=${err.killed} signal=${err.signal} cmd=${show(err.cmd)}`);
        console.log(`message: ${show(err.message)}`);
        console.log(`output: ${show(stdout)} ${show(stderr)}`);
        resolve();
      }),
    );
    const execP = promisify(exec);
    const { stdout, stderr } = await execP('echo promised');
    console.log(`promise: ${show(stdout)} ${show(stderr)}`);
    try {
      await execP('echo partial; exit 2');
    } catch (e) {
      console.log(`rejected: code=${e.code} stdout=${show(e.stdout)} stderr=${show(e.stderr)}`);
    }
  },

  // execFile: no shell (the argument is one argument, `$HOME` stays as it
  // is); encoding 'buffer' gives Buffers.
  execfile() {
    execFile('echo', ['$HOME', 'a  b'], (err, stdout) => {
      console.log(`execFile: ${err} ${show(stdout)}`);
      execFile('printf', ['hi'], { encoding: 'buffer' }, (err2, stdout2) => {
        console.log(`buffer: ${Buffer.isBuffer(stdout2)} ${stdout2.toString('hex')}`);
      });
    });
  },

  // test-child-process-exec-timeout: past `timeout` the child gets
  // killSignal; the error says killed, the signal, code null.
  timeout() {
    execFile('sleep', ['60'], { timeout: 100, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      console.log(`timeout: killed=${err.killed} signal=${err.signal} code=${err.code} cmd=${show(err.cmd)}`);
      console.log(`output: ${show(stdout)} ${show(stderr)}`);
    });
  },

  // test-child-process-exec-maxbuf: output past maxBuffer kills the child
  // (an endless `yes` here) and the error is
  // ERR_CHILD_PROCESS_STDIO_MAXBUFFER; stdout is cut at maxBuffer.
  maxbuffer() {
    const child = execFile('yes', [], { maxBuffer: 10 }, (err, stdout) => {
      console.log(`error: ${err.name} ${err.code} ${show(err.message)}`);
      console.log(`stdout: ${show(stdout)} (${stdout.length})`);
      console.log(`child: killed=${child.killed} signalCode=${child.signalCode}`);
    });
  },

  // test-child-process-stdin: writes reach the child, end() closes its
  // stdin (cat ends only then); setEncoding gives strings.
  stdin() {
    const child = spawn('cat');
    child.stdout.setEncoding('utf8');
    let out = '';
    const types = new Set();
    child.stdout.on('data', (chunk) => {
      types.add(typeof chunk);
      out += chunk;
    });
    child.stdin.write('one\n');
    child.stdin.write(Buffer.from('two\n'), () => console.log('write callback'));
    child.stdin.end('three\n');
    child.stdin.on('finish', () => console.log('stdin finish'));
    child.on('close', (code) => {
      console.log(`stdout: ${show(out)} chunk types: ${[...types]}`);
      console.log(`close: ${code}`);
    });
  },

  // stdio options: 'inherit' writes straight to the guest's stdout (no
  // stream), 'ignore' drops it; `stdio: ['pipe', 'pipe', 'inherit']` mixes.
  async stdio() {
    const inherited = spawn('echo', ['inherited'], { stdio: 'inherit' });
    console.log(`inherit streams: ${inherited.stdin} ${inherited.stdout} ${inherited.stderr}`);
    await once(inherited, 'close');
    const ignored = spawn('echo', ['ignored'], { stdio: 'ignore' });
    const [code] = await once(ignored, 'close');
    console.log(`ignore: close ${code} stdout ${ignored.stdout}`);
    const mixed = spawn('sh', ['-c', 'echo to-stderr >&2; echo to-stdout'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    mixed.stdout.on('data', (d) => (out += d));
    await once(mixed, 'close');
    console.log(`mixed: stdout ${show(out)} stderr stream ${mixed.stderr}`);
  },

  // cwd, env, shell: true.
  async options() {
    const [dir] = rest;
    const { stdout } = await promisify(execFile)('sh', ['-c', 'pwd; echo "$GREETING"'], {
      cwd: dir,
      env: { GREETING: 'hello from env' },
    });
    console.log(`cwd and env: ${show(stdout)}`);
    const child = spawn('echo', ['$((6 * 7))'], { shell: true });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', () => console.log(`shell: ${show(out)} spawnargs: ${JSON.stringify(child.spawnargs)}`));
  },

  // Piping one child into another through the guest: `ls | sort -r`
  // written Node's way; `for await` over a stream.
  async pipe() {
    const producer = spawn('printf', ['b\\na\\nc\\n']);
    const sorter = spawn('sort', ['-r']);
    producer.stdout.pipe(sorter.stdin);
    let out = '';
    for await (const chunk of sorter.stdout) out += chunk;
    console.log(`sorted: ${show(out)}`);
  },

  // The sync forms: execFileSync's stdout, spawnSync's status and input,
  // execSync throwing with the status.
  sync() {
    console.log(`execFileSync: ${show(execFileSync('echo', ['sync'], { encoding: 'utf8' }))}`);
    const r = spawnSync('cat', { input: 'piped in' });
    console.log(`spawnSync: status=${r.status} signal=${r.signal} stdout=${show(r.stdout)}`);
    const s = spawnSync('sh', ['-c', 'exit 5']);
    console.log(`spawnSync exit: ${s.status}`);
    try {
      execSync('exit 2');
    } catch (e) {
      console.log(`execSync threw: status=${e.status} ${show(e.message)}`);
    }
    const missing = spawnSync('procgate-no-such-program');
    console.log(`spawnSync missing: ${missing.error.code}`);
  },

  // Deno's Command: output() collects both streams; code, success, signal.
  async deno() {
    const out = await new Command('sh', { args: ['-c', 'echo out; echo err >&2; exit 4'] }).output();
    const text = (bytes) => show(new TextDecoder().decode(bytes));
    console.log(`deno: code=${out.code} success=${out.success} signal=${out.signal}`);
    console.log(`deno output: ${out.stdout instanceof Uint8Array} ${text(out.stdout)} ${text(out.stderr)}`);
    const killed = await new Command('sh', { args: ['-c', 'kill -9 $$'] }).output();
    console.log(`deno killed: code=${killed.code} success=${killed.success} signal=${killed.signal}`);
    const quiet = await new Command('echo', { args: ['x'], stdout: 'null' }).output();
    try {
      quiet.stdout;
    } catch (e) {
      console.log(`deno not piped: ${e.name}: ${e.message}`);
    }
  },

  // The guest's exit status: process.exitCode once the children closed.
  'exit-code'() {
    const child = spawn('sh', ['-c', 'exit 3']);
    child.on('close', (code) => {
      console.log(`child exited ${code}`);
      process.exitCode = code;
    });
  },

  // process.exit(n) ends the guest at once with n.
  exit() {
    console.log('before exit');
    process.exit(42);
  },

  // Timers run on the reactor while a child runs, and keep the guest
  // alive: the interval ticks while `sleep` runs, the timeout kills it.
  timers() {
    const child = spawn('sleep', ['60']);
    let ticks = 0;
    const interval = setInterval(() => ticks++, 10);
    setTimeout(() => {
      clearInterval(interval);
      console.log(`ticked while the child ran: ${ticks > 1}`);
      child.kill();
    }, 100);
    child.on('exit', (code, signal) => console.log(`exit: ${code} ${signal}`));
    setTimeout(() => console.log('a later timer still fires'), 200);
  },

  // unref: the guest ends without waiting for the child (the host then
  // ends it); a referenced one would keep the guest for 1000 s.
  unref() {
    const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
    child.unref();
    console.log(`unref: pid ${typeof child.pid}`);
  },
};

if (!cases[name]) throw new Error(`no case ${name}`);
await cases[name]();
