// Why one file of ~900 lines: every JavaScript guest imports this library
// as the one module './procgate.js', which the build copies beside the
// program (scripts/guests-other-languages.sh, build_js); its parts (errors,
// the reactor, creating, Process, StreamReader/StreamWriter, command,
// Deno.Command) share the reactor and the WIT error mapping, and each
// part is a section below, marked by a `// ----` line.
//
// procgate for JavaScript guests: Python's asyncio.subprocess API with
// promises, served by the host's `procgate:subprocess` interfaces.
//
//   import { createSubprocessShell, PIPE, command } from './procgate.js';
//
//   async function main() {
//     const proc = await createSubprocessShell('ls /zzz', { stdout: PIPE, stderr: PIPE });
//     const [stdout, stderr] = await proc.communicate();
//     console.log(`exited with ${proc.returncode}`);
//   }
//
//   export const run = command(main); // the guest's wasi:cli/run
//
// Every wait (for an exit, for output, for a `communicate`) is a promise
// settled by procgate's reactor: it collects the WASI pollables of all
// pending waits and, from a macrotask (so every promise continuation has
// run and registered its next wait), blocks in one `wasi:io/poll.poll` on
// all of them, then settles the promises of those that are ready. So
// `Promise.all` runs several processes at once. componentize-js keeps the
// guest's event loop running until the promise `run` returned settles.
//
// Errors are `Error` subclasses: a request the host's policy refuses is a
// `DeniedError` naming the rule; signalling an exited process is a
// `ProcessLookupError`.

import {
  createSubprocessExec as witCreateSubprocessExec,
  createSubprocessShell as witCreateSubprocessShell,
} from 'procgate:subprocess/subprocess@0.1.0';
import { poll } from 'wasi:io/poll@0.2.12';
import { subscribeDuration } from 'wasi:clocks/monotonic-clock@0.2.12';
import { getArguments } from 'wasi:cli/environment@0.2.12';
import { exitWithCode } from 'wasi:cli/exit@0.2.12';

/** asyncio's `subprocess.PIPE`: a pipe the guest reads or writes. */
export const PIPE = 'pipe';
/** asyncio's `subprocess.DEVNULL`: `/dev/null`. */
export const DEVNULL = 'devnull';
/** asyncio's `subprocess.STDOUT`: stderr goes where stdout goes. */
export const STDOUT = 'stdout';
/** asyncio's `None` (the default): the guest's own stream. */
export const INHERIT = 'inherit';

/** asyncio's default buffer limit of stream readers: 64 KiB. */
export const DEFAULT_LIMIT = 64 * 1024;
const CHUNK = 64n * 1024n;

// ---------------------------------------------------------------- errors

/** The base of procgate's errors; `code` is the WIT error's case. */
export class ProcgateError extends Error {
  constructor(message, code) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}
/** The host's policy refused the request; `rule` (and the message) names the rule. */
export class DeniedError extends ProcgateError {
  constructor(rule) {
    super(rule, 'denied');
    this.rule = rule;
  }
}
/** The program does not exist (Python's `FileNotFoundError`). */
export class NotFoundError extends ProcgateError {
  constructor(message) {
    super(message, 'not-found');
  }
}
/** The operating system refused to start the program (Python's `PermissionError`). */
export class PermissionDeniedError extends ProcgateError {
  constructor(message) {
    super(message, 'permission-denied');
  }
}
/** A malformed request (Python's `ValueError`). */
export class InvalidArgumentError extends ProcgateError {
  constructor(message) {
    super(message, 'invalid-argument');
  }
}
/** A limit of the host's policy was reached. */
export class LimitExceededError extends ProcgateError {
  constructor(message) {
    super(message, 'limit-exceeded');
  }
}
/** The process has exited: it can no longer be signalled (Python's `ProcessLookupError`). */
export class ProcessLookupError extends ProcgateError {
  constructor(message = 'the process has exited') {
    super(message, 'process-exited');
  }
}
/** Any other operating-system error. */
export class IoError extends ProcgateError {
  constructor(message) {
    super(message, 'io');
  }
}
/** Writing to a stdin the child has closed (Python's `BrokenPipeError`). */
export class BrokenPipeError extends ProcgateError {
  constructor(message = 'the stream is closed') {
    super(message, 'closed');
  }
}
/** EOF came before the bytes asked for (asyncio's `IncompleteReadError`); `partial` holds what was read. */
export class IncompleteReadError extends ProcgateError {
  constructor(partial, expected) {
    super(`${partial.length} bytes read on a total of ${expected ?? 'undefined'} expected bytes`, 'incomplete-read');
    this.partial = partial;
    this.expected = expected;
  }
}
/** A line longer than the reader's limit (asyncio's `LimitOverrunError`). */
export class LimitOverrunError extends ProcgateError {
  constructor(message, consumed) {
    super(message, 'limit-overrun');
    this.consumed = consumed;
  }
}

function fromWit(payload) {
  switch (payload?.tag) {
    case 'denied':
      return new DeniedError(payload.val);
    case 'not-found':
      return new NotFoundError(payload.val);
    case 'permission-denied':
      return new PermissionDeniedError(payload.val);
    case 'invalid-argument':
      return new InvalidArgumentError(payload.val);
    case 'limit-exceeded':
      return new LimitExceededError(payload.val);
    case 'process-exited':
      return new ProcessLookupError();
    case 'io':
      return new IoError(payload.val);
    default:
      return new IoError(JSON.stringify(payload));
  }
}

/** Calls a WIT function, turning its error into one of the classes above. */
function call(f) {
  try {
    return f();
  } catch (e) {
    if (e && e.payload !== undefined) throw fromWit(e.payload);
    throw e;
  }
}

/** A stream error (`{tag: 'closed'}` or `last-operation-failed`): null for closed. */
function streamError(e, writing) {
  const payload = e?.payload;
  if (payload === undefined) return e;
  if (payload.tag === 'closed') return writing ? new BrokenPipeError() : null;
  let message = 'stream error';
  try {
    message = payload.val.toDebugString();
  } finally {
    drop(payload.val);
  }
  return new IoError(message);
}

function drop(resource) {
  resource?.[Symbol.dispose]?.();
}

// ---------------------------------------------------------------- reactor

const waiters = []; // {pollable, resolve}; the reactor owns the pollables
let scheduled = false;

function drive() {
  scheduled = false;
  if (waiters.length === 0) return;
  // A macrotask: every continuation has run, so every wait is registered.
  const ready = poll(waiters.map((w) => w.pollable));
  const indices = Array.from(ready).sort((a, b) => b - a);
  for (const index of indices) {
    const [waiter] = waiters.splice(index, 1);
    drop(waiter.pollable);
    waiter.resolve();
  }
  schedule();
}

function schedule() {
  if (!scheduled && waiters.length > 0) {
    scheduled = true;
    setTimeout(drive, 0);
  }
}

/**
 * A promise settled once `pollable` is ready. Takes ownership of the
 * pollable and drops it before settling. Any `wasi:io` pollable works, so
 * other WASI waits can join procgate's reactor.
 */
export function waitReady(pollable) {
  if (pollable.ready()) {
    drop(pollable);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    waiters.push({ pollable, resolve });
    schedule();
  });
}

/**
 * Sleep `ms` milliseconds on procgate's reactor. (A `setTimeout` timer
 * still fires, but only once the reactor's current poll returns.)
 */
export function sleep(ms) {
  return waitReady(subscribeDuration(BigInt(Math.max(0, Math.round(ms * 1e6)))));
}

/**
 * Call `fn` after `ms` milliseconds, on procgate's reactor; returns a
 * handle whose `cancel()` stops it. (node:child_process's `timeout`.)
 */
export function timer(ms, fn) {
  const pollable = subscribeDuration(BigInt(Math.max(0, Math.round(ms * 1e6))));
  const waiter = { pollable, resolve: fn };
  waiters.push(waiter);
  schedule();
  return {
    cancel() {
      const index = waiters.indexOf(waiter);
      if (index !== -1) {
        waiters.splice(index, 1);
        drop(pollable);
      }
    },
  };
}

// What keeps a guest alive after its `main` returned, as Node's event
// loop stays alive while a child process is referenced: `command`'s `run`
// waits until the count is back to zero.
let handles = 0;
let idleWaiters = [];

/** One more thing the guest must wait for before it ends. */
export function ref() {
  handles++;
}

/** One thing less (see `ref`). */
export function unref() {
  handles--;
  if (handles === 0) {
    const waiting = idleWaiters;
    idleWaiters = [];
    waiting.forEach((resolve) => resolve());
  }
}

async function idle() {
  while (handles > 0) await new Promise((resolve) => idleWaiters.push(resolve));
}

let exitStatus = 0;

/**
 * End the guest now with `code` (0-255; the low 8 bits are kept):
 * `wasi:cli/exit.exit-with-code`. Node's `process.exit`.
 */
export function exit(code = exitStatus) {
  exitWithCode(Number(code) & 0xff);
}

/** The status the guest ends with once `main` is done (Node's `process.exitCode`). */
export function setExitCode(code) {
  exitStatus = code === undefined || code === null ? 0 : Number(code);
}

/** The status set with `setExitCode`. */
export function getExitCode() {
  return exitStatus;
}

function describe(e) {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * An error nobody handled (Node's uncaught exception): print it and end the
 * guest with status 1.
 */
export function fatal(e) {
  console.error(`Uncaught ${describe(e)}`);
  exitWithCode(1);
}

// ---------------------------------------------------------------- creating

function stdio(value, name) {
  switch (value ?? INHERIT) {
    case INHERIT:
      return { tag: 'inherit' };
    case PIPE:
      return { tag: 'pipe' };
    case DEVNULL:
      return { tag: 'devnull' };
    case STDOUT:
      return { tag: 'stdout' };
    default:
      throw new InvalidArgumentError(`${name}: ${value} is not PIPE, DEVNULL, STDOUT or INHERIT`);
  }
}

function witOptions(options = {}) {
  const known = ['stdin', 'stdout', 'stderr', 'limit', 'cwd', 'env', 'startNewSession'];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new InvalidArgumentError(`unknown option ${key}`);
  }
  const limit = options.limit ?? DEFAULT_LIMIT;
  if (!(limit > 0)) throw new InvalidArgumentError('limit must be positive');
  return {
    stdin: stdio(options.stdin, 'stdin'),
    stdout: stdio(options.stdout, 'stdout'),
    stderr: stdio(options.stderr, 'stderr'),
    limit,
    cwd: options.cwd ?? undefined,
    env: Object.entries(options.env ?? {}).map(([k, v]) => [String(k), String(v)]),
    startNewSession: Boolean(options.startNewSession),
  };
}

/**
 * Create a subprocess running `program` with `args`: asyncio's
 * `create_subprocess_exec(program, *args, ...)`. Options: `stdin`,
 * `stdout`, `stderr` (PIPE, DEVNULL, STDOUT, INHERIT), `limit`, `cwd`,
 * `env` (an object of variables to set), `startNewSession`. The host's
 * policy decides first: a refusal rejects with `DeniedError`.
 */
export async function createSubprocessExec(program, args = [], options = {}) {
  return spawnExec(program, args, options);
}

/** `createSubprocessExec` without the promise: the `Process`, or a thrown error. */
export function spawnExec(program, args = [], options = {}) {
  const wit = witOptions(options);
  const proc = call(() => witCreateSubprocessExec(String(program), args.map(String), wit));
  return new Process(proc, options, wit.limit);
}

/**
 * Run `cmd` with the host's shell: asyncio's `create_subprocess_shell`.
 * Rejects with `DeniedError` unless the policy grants a shell. Quoting is
 * the caller's job.
 */
export async function createSubprocessShell(cmd, options = {}) {
  return spawnShell(cmd, options);
}

/** `createSubprocessShell` without the promise: the `Process`, or a thrown error. */
export function spawnShell(cmd, options = {}) {
  const wit = witOptions(options);
  const proc = call(() => witCreateSubprocessShell(String(cmd), wit));
  return new Process(proc, options, wit.limit);
}

// ---------------------------------------------------------------- process

/** Linux's signal numbers and the names procgate's WIT gives them. */
export const SIGNALS = {
  1: 'hup', 2: 'int', 3: 'quit', 4: 'ill', 5: 'trap', 6: 'abrt', 7: 'bus', 8: 'fpe', 9: 'kill',
  10: 'usr1', 11: 'segv', 12: 'usr2', 13: 'pipe', 14: 'alrm', 15: 'term', 17: 'chld', 18: 'cont',
  19: 'stop', 20: 'tstp', 21: 'ttin', 22: 'ttou', 23: 'urg', 24: 'xcpu', 25: 'xfsz', 26: 'vtalrm',
  27: 'prof', 28: 'winch', 29: 'io', 30: 'pwr', 31: 'sys',
};

function signalName(signal) {
  if (typeof signal === 'number') {
    if (SIGNALS[signal]) return SIGNALS[signal];
  } else if (typeof signal === 'string') {
    const name = signal.toLowerCase().replace(/^sig/, '');
    if (Object.values(SIGNALS).includes(name)) return name;
  }
  throw new InvalidArgumentError(`unsupported signal ${signal}`);
}

function bytes(data) {
  if (data === undefined || data === null) return undefined;
  if (typeof data === 'string') return new TextEncoder().encode(data);
  if (data instanceof Uint8Array) return data;
  throw new InvalidArgumentError('data must be a string or a Uint8Array');
}

/**
 * Bytes from the host as this realm's Uint8Array (the bindings' lists of
 * u8 fail `instanceof Uint8Array` here).
 */
function own(data) {
  return data instanceof Uint8Array ? data : new Uint8Array(data);
}

function concat(a, b) {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** A child process: asyncio's `Process`. */
export class Process {
  #proc;
  #returncode;

  constructor(proc, options, limit) {
    this.#proc = proc;
    this.#returncode = undefined;
    /** The child's process id (the shell's, for `createSubprocessShell`). */
    this.pid = proc.pid();
    /** A `StreamWriter` when created with `stdin: PIPE`, else null. */
    this.stdin = options.stdin === PIPE ? new StreamWriter(proc) : null;
    /** A `StreamReader` when created with `stdout: PIPE`, else null. */
    this.stdout = options.stdout === PIPE ? new StreamReader(proc, 'stdout', limit) : null;
    /** A `StreamReader` when created with `stderr: PIPE`, else null. */
    this.stderr = options.stderr === PIPE ? new StreamReader(proc, 'stderr', limit) : null;
  }

  /** The exit code, `-N` if killed by signal N, null while running. */
  get returncode() {
    if (this.#returncode === undefined && this.#proc) {
      const code = this.#proc.returncode();
      if (code !== undefined) this.#returncode = code;
    }
    return this.#returncode ?? null;
  }

  /** Wait for the child to exit; resolves to its return code. */
  async wait() {
    if (this.returncode !== null) return this.#returncode;
    await waitReady(this.#proc.subscribe());
    this.#returncode = call(() => this.#proc.wait());
    return this.#returncode;
  }

  /**
   * Send `input` (string or Uint8Array) to stdin if given, close stdin, read
   * stdout and stderr to EOF, wait for the exit. Resolves to
   * `[stdout, stderr]` (Uint8Arrays; null for streams not created with
   * PIPE). A broken pipe while writing `input` is ignored.
   */
  async communicate(input) {
    const data = bytes(input);
    const writer = this.stdin;
    let future;
    if (writer && writer._untaken() && writer._pending.length === 0) {
      // The host feeds stdin and closes it.
      future = call(() => this.#proc.startCommunicate(data));
      writer._closedByHost();
    } else {
      // The guest holds stdin: it writes while the host reads.
      future = call(() => this.#proc.startCommunicate(undefined));
      if (writer) {
        writer._pending = concat(writer._pending, data ?? new Uint8Array());
        try {
          await writer.drain();
        } catch (e) {
          if (!(e instanceof BrokenPipeError)) throw e;
        }
        writer._release();
      }
    }
    let result;
    try {
      for (;;) {
        await waitReady(future.subscribe());
        result = future.get();
        if (result !== undefined) break;
      }
    } finally {
      drop(future);
    }
    if (result.tag === 'err') throw fromWit(result.val);
    const output = result.val;
    this.#returncode = output.returncode;
    const stdout = this.stdout ? this.stdout._finishCommunicate(output.stdout) : null;
    const stderr = this.stderr ? this.stderr._finishCommunicate(output.stderr) : null;
    return [stdout, stderr];
  }

  /**
   * `communicate` blocking the guest (the WIT's blocking call, for
   * node:child_process's sync forms): `[stdout, stderr]` as `communicate`.
   */
  communicateSync(input) {
    const output = call(() => this.#proc.communicate(bytes(input)));
    this.#returncode = output.returncode;
    this.stdin?._closedByHost();
    const stdout = this.stdout ? this.stdout._finishCommunicate(output.stdout) : null;
    const stderr = this.stderr ? this.stderr._finishCommunicate(output.stderr) : null;
    return [stdout, stderr];
  }

  /** Send `signal` (a number, or a name like 'SIGHUP' or 'hup'). */
  sendSignal(signal) {
    const name = signalName(signal);
    call(() => this.#proc.sendSignal(name));
  }

  /** Stop the child: SIGTERM. */
  terminate() {
    call(() => this.#proc.terminate());
  }

  /** Kill the child: SIGKILL. */
  kill() {
    call(() => this.#proc.kill());
  }

  /** Let go of the process now (streams first): the host kills it if it still runs. */
  close() {
    this.stdin?._release();
    this.stdout?._release();
    this.stderr?._release();
    drop(this.#proc);
    this.#proc = null;
  }

  [Symbol.dispose]() {
    this.close();
  }
}

// ---------------------------------------------------------------- streams

/** Reads a child's stdout or stderr: asyncio's `StreamReader`. Data is Uint8Array. */
export class StreamReader {
  #proc;
  #which;
  #limit;
  #stream = null;
  #taken = false;
  #buffer = new Uint8Array();
  #eof = false;
  #error = null;

  constructor(proc, which, limit) {
    this.#proc = proc;
    this.#which = which;
    this.#limit = limit;
  }

  _release() {
    drop(this.#stream);
    this.#stream = null;
    this.#taken = true;
  }

  #getStream() {
    if (!this.#taken) {
      this.#taken = true;
      this.#stream = call(() => (this.#which === 'stdout' ? this.#proc.stdout() : this.#proc.stderr()));
    }
    return this.#stream;
  }

  async #fill() {
    if (this.#error) throw this.#error;
    while (!this.#eof) {
      const stream = this.#getStream();
      let data;
      try {
        data = stream.read(CHUNK);
      } catch (e) {
        const error = streamError(e, false);
        this.#eof = true;
        this._release();
        if (error) {
          this.#error = error;
          throw error;
        }
        return;
      }
      if (data.length > 0) {
        this.#buffer = concat(this.#buffer, own(data));
        return;
      }
      await waitReady(stream.subscribe());
    }
  }

  #take(n) {
    const out = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.slice(n);
    return out;
  }

  _finishCommunicate(hostData) {
    const out = concat(this.#buffer, own(hostData ?? new Uint8Array()));
    this.#buffer = new Uint8Array();
    this.#eof = true;
    return out;
  }

  /** True once the buffer is empty and EOF was reached. */
  atEof() {
    return this.#eof && this.#buffer.length === 0;
  }

  /** Read up to `n` bytes (-1, the default: until EOF). Empty at EOF. */
  async read(n = -1) {
    if (n === 0) return new Uint8Array();
    if (n < 0) {
      while (!this.#eof) await this.#fill();
      return this.#take(this.#buffer.length);
    }
    if (this.#buffer.length === 0 && !this.#eof) await this.#fill();
    return this.#take(n);
  }

  /** Read exactly `n` bytes; `IncompleteReadError` if EOF comes first. */
  async readexactly(n) {
    while (this.#buffer.length < n) {
      if (this.#eof) throw new IncompleteReadError(this.#take(this.#buffer.length), n);
      await this.#fill();
    }
    return this.#take(n);
  }

  /**
   * Read up to and including `separator` (a string or Uint8Array, '\n' by
   * default). `IncompleteReadError` at EOF without it, `LimitOverrunError`
   * past the limit.
   */
  async readuntil(separator = '\n') {
    const sep = bytes(separator);
    if (sep.length === 0) throw new InvalidArgumentError('separator should be at least one byte');
    let offset = 0;
    let index;
    for (;;) {
      if (this.#buffer.length - offset >= sep.length) {
        index = indexOf(this.#buffer, sep, offset);
        if (index !== -1) break;
        offset = this.#buffer.length + 1 - sep.length;
        if (offset > this.#limit) {
          throw new LimitOverrunError('Separator is not found, and chunk exceed the limit', offset);
        }
      }
      if (this.#eof) throw new IncompleteReadError(this.#take(this.#buffer.length), null);
      await this.#fill();
    }
    if (index > this.#limit) {
      throw new LimitOverrunError('Separator is found, but chunk is longer than limit', index);
    }
    return this.#take(index + sep.length);
  }

  /** Read one line (with its '\n'); at EOF the partial line, empty at the end. */
  async readline() {
    try {
      return await this.readuntil('\n');
    } catch (e) {
      if (e instanceof IncompleteReadError) return e.partial;
      if (e instanceof LimitOverrunError) {
        if (this.#buffer[e.consumed] === 10) this.#take(e.consumed + 1);
        else this.#take(this.#buffer.length);
      }
      throw e;
    }
  }

  /** `for await (const line of reader)`: the lines to EOF. */
  async *[Symbol.asyncIterator]() {
    for (;;) {
      const line = await this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }
}

function indexOf(haystack, needle, from) {
  outer: for (let i = from; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/** Writes a child's stdin: asyncio's `StreamWriter`. */
export class StreamWriter {
  #proc;
  #stream = null;
  #taken = false;
  #closing = false;
  #closer = null;

  constructor(proc) {
    this.#proc = proc;
    this._pending = new Uint8Array();
  }

  _untaken() {
    return !this.#taken;
  }

  _closedByHost() {
    this.#taken = true;
    this.#closing = true;
  }

  _release() {
    this.#taken = true;
    drop(this.#stream);
    this.#stream = null;
  }

  #getStream() {
    if (!this.#taken) {
      this.#taken = true;
      this.#stream = call(() => this.#proc.stdin());
    }
    if (!this.#stream) throw new BrokenPipeError('stdin is closed');
    return this.#stream;
  }

  #writeNow() {
    const stream = this.#getStream();
    while (this._pending.length > 0) {
      let permit;
      try {
        permit = Number(stream.checkWrite());
        if (permit === 0) return;
        const n = Math.min(permit, this._pending.length);
        stream.write(this._pending.slice(0, n));
        this._pending = this._pending.slice(n);
      } catch (e) {
        this._pending = new Uint8Array();
        throw streamError(e, true);
      }
    }
  }

  /** Queue `data` (string or Uint8Array) for stdin; `await drain()` to send it. */
  write(data) {
    if (this.#closing) throw new BrokenPipeError('stdin is closed');
    this._pending = concat(this._pending, bytes(data));
    this.#writeNow();
  }

  /** Wait until everything written was sent. `BrokenPipeError` if the child closed stdin. */
  async drain() {
    const stream = this.#getStream();
    while (this._pending.length > 0) {
      this.#writeNow();
      if (this._pending.length > 0) await waitReady(stream.subscribe());
    }
    try {
      stream.flush();
    } catch (e) {
      throw streamError(e, true);
    }
    await waitReady(stream.subscribe());
    try {
      stream.checkWrite();
    } catch (e) {
      throw streamError(e, true);
    }
  }

  /** True once `close()` was called. */
  isClosing() {
    return this.#closing;
  }

  /** Close the child's stdin (after sending what is queued). */
  close() {
    if (this.#closing) return;
    this.#closing = true;
    if (this._pending.length === 0) {
      if (!this.#taken) {
        // Taking stdin and dropping it closes it.
        this.#taken = true;
        try {
          this.#stream = this.#proc.stdin();
        } catch {
          this.#stream = null;
        }
      }
      this._release();
      return;
    }
    this.#closer = this.drain()
      .catch(() => {})
      .finally(() => this._release());
  }

  /** Wait until `close()` has finished. */
  async waitClosed() {
    await this.#closer;
  }
}

// ---------------------------------------------------------------- commands

/**
 * The guest's `wasi:cli/run` export for `main(args)`: export it as `run`.
 * `args` are the guest's arguments after its name. An error thrown by
 * `main` is printed and the guest exits with status 1; else the guest
 * waits for the children its node:child_process calls still reference,
 * then ends with the status given to `setExitCode` (0 by default). `exit`
 * ends it at once.
 */
export function command(main) {
  return {
    async run() {
      try {
        await main(getArguments().slice(1));
        // Node's event loop: children still referenced keep the guest.
        await idle();
      } catch (e) {
        console.error(describe(e));
        exitWithCode(1);
      }
      if (exitStatus !== 0) exit(exitStatus);
    },
  };
}

/** Decode bytes as UTF-8 text. */
export function decode(data) {
  return new TextDecoder().decode(data ?? new Uint8Array());
}

// ---------------------------------------------------------------- Deno.Command

function denoStdio(value, fallback, name) {
  switch (value ?? fallback) {
    case 'piped':
      return PIPE;
    case 'null':
      return DEVNULL;
    case 'inherit':
      return INHERIT;
    default:
      throw new InvalidArgumentError(`${name}: ${value} is not "piped", "null" or "inherit"`);
  }
}

function notPiped(name) {
  return {
    get() {
      throw new TypeError(`${name} is not piped`);
    },
  };
}

/**
 * Deno's `Deno.Command`, for `output()`:
 *
 *   const { code, success, signal, stdout, stderr } =
 *     await new Command('git', { args: ['status'] }).output();
 *
 * Options: `args`, `cwd`, `env` (variables to set, each allowed by the
 * policy), `stdin` ('inherit' by default), `stdout` and `stderr` ('piped'
 * by default; 'null', 'inherit'). `stdout`/`stderr` are Uint8Arrays; reading
 * one that was not piped throws a TypeError, as in Deno. A child killed by
 * signal N has `code` 128 + N and `signal` its name ('SIGKILL'). A program
 * the policy refuses rejects with `DeniedError`, a missing one with
 * `NotFoundError`.
 */
export class Command {
  #program;
  #options;

  constructor(program, options = {}) {
    this.#program = String(program);
    this.#options = options;
  }

  /** Run to the end, collecting the piped output. */
  async output() {
    const o = this.#options;
    const stdout = denoStdio(o.stdout, 'piped', 'stdout');
    const stderr = denoStdio(o.stderr, 'piped', 'stderr');
    const proc = spawnExec(this.#program, (o.args ?? []).map(String), {
      stdin: denoStdio(o.stdin, 'inherit', 'stdin'),
      stdout,
      stderr,
      cwd: o.cwd,
      env: o.env,
    });
    try {
      const [out, err] = await proc.communicate();
      const code = proc.returncode;
      const signal = code < 0 ? `SIG${(SIGNALS[-code] ?? String(-code)).toUpperCase()}` : null;
      const result = { code: code < 0 ? 128 - code : code, success: code === 0, signal };
      Object.defineProperty(result, 'stdout', stdout === PIPE ? { value: out, enumerable: true } : notPiped('stdout'));
      Object.defineProperty(result, 'stderr', stderr === PIPE ? { value: err, enumerable: true } : notPiped('stderr'));
      return result;
    } finally {
      proc.close();
    }
  }
}
