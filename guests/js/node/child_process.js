// Why one file of ~840 lines: it is Node's one module `node:child_process`
// (the build maps that name to this file); its sections (errors, signals,
// the stdio streams, ChildProcess, exec/execFile, the sync forms) are
// marked by `// ----` lines. The streams section (Node's Readable and
// Writable) could become node/stream.js if a guest ever needs
// `node:stream` itself.
//
// node:child_process for procgate's JavaScript guests: Node's API over
// procgate's `procgate:subprocess` interfaces (through ../procgate.js), so
// Node code that runs programs runs in a guest, under the host's policy.
//
//   import { spawn, execFile } from 'node:child_process';
//
// guests/js/componentize.mjs maps 'node:child_process' (and
// 'child_process', 'node:events', 'node:util', 'node:buffer',
// 'node:process') to these files; guests/js/README.md says what differs
// from Node. In short: spawn, exec, execFile (callback form, and
// util.promisify's `{ stdout, stderr }`), spawnSync, execFileSync,
// execSync, the ChildProcess events ('spawn', 'exit', 'close', 'error'),
// stdout/stderr streams ('data', 'end', 'close', setEncoding, pause,
// resume, pipe, async iteration), stdin (write, end), kill(signal) ->
// boolean, pid, exitCode, signalCode, killed; options cwd, env, stdio
// ('pipe', 'ignore', 'inherit'), shell, detached, timeout, killSignal,
// maxBuffer, encoding, input (sync forms). Errors look like Node's: a
// missing program is ENOENT, a program the policy refuses is EACCES with
// the policy's rule in the message (`err.procgate` is 'denied').
import {
  BrokenPipeError,
  DEVNULL,
  DeniedError,
  INHERIT,
  InvalidArgumentError,
  LimitExceededError,
  NotFoundError,
  PIPE,
  PermissionDeniedError,
  ProcessLookupError,
  SIGNALS,
  fatal,
  ref,
  spawnExec,
  spawnShell,
  timer,
  unref,
} from '../procgate.js';
import { Buffer } from './buffer.js';
import { EventEmitter } from './events.js';
import { promisify } from './util.js';

// ---------------------------------------------------------------- errors

const ERRNO = { EPERM: -1, ENOENT: -2, ESRCH: -3, EIO: -5, EAGAIN: -11, EACCES: -13, EINVAL: -22, EPIPE: -32 };

/** An error shaped like Node's system errors (`code`, `errno`, `syscall`, `path`). */
function systemError(code, syscall, path, detail) {
  const e = new Error(`${syscall} ${code}${detail ? ` (${detail})` : ''}`);
  e.errno = ERRNO[code];
  e.code = code;
  e.syscall = syscall;
  if (path !== undefined) e.path = path;
  return e;
}

/** Node's ERR_* errors: an Error subclass with `code`, `[CODE]` in its name. */
function nodeError(Base, code, message) {
  const e = new Base(message);
  e.code = code;
  return e;
}

function invalidArg(name, value, reason) {
  return nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The argument '${name}' ${reason}. Received ${JSON.stringify(value)}`);
}

/**
 * A procgate error from starting a child, as Node reports a failed spawn:
 * ENOENT for a missing program, EACCES for one the policy refuses (its rule
 * in the message and in `rule`; `procgate` is 'denied') or the OS refuses,
 * EAGAIN for a limit of the policy, EIO for the rest. A malformed request
 * is thrown, not returned: Node throws those from spawn itself.
 */
function spawnError(e, file, spawnargs) {
  let err;
  const syscall = `spawn ${file}`;
  if (e instanceof NotFoundError) err = systemError('ENOENT', syscall, file);
  else if (e instanceof DeniedError) {
    err = systemError('EACCES', syscall, file, `denied by policy: ${e.rule}`);
    err.rule = e.rule;
  } else if (e instanceof PermissionDeniedError) err = systemError('EACCES', syscall, file);
  else if (e instanceof LimitExceededError) err = systemError('EAGAIN', syscall, file, e.message);
  else if (e instanceof InvalidArgumentError) throw invalidArg('options', file, e.message);
  else err = systemError('EIO', syscall, file, e?.message);
  if (e?.code) err.procgate = e.code;
  err.spawnargs = spawnargs.slice(1);
  return err;
}

/** Runs an emit (or a user's callback); an exception in it is uncaught, as in Node. */
function safely(fn) {
  try {
    fn();
  } catch (e) {
    fatal(e);
  }
}

function later(fn) {
  queueMicrotask(() => safely(fn));
}

// ---------------------------------------------------------------- signals

const SIGNAL_NUMBERS = Object.fromEntries(Object.entries(SIGNALS).map(([n, name]) => [`SIG${name.toUpperCase()}`, Number(n)]));

function signalOf(signal) {
  if (typeof signal === 'number') {
    if (signal === 0 || SIGNALS[signal]) return signal;
  } else if (typeof signal === 'string' && SIGNAL_NUMBERS[signal]) {
    return SIGNAL_NUMBERS[signal];
  }
  throw nodeError(TypeError, 'ERR_UNKNOWN_SIGNAL', `Unknown signal: ${signal}`);
}

function signalName(number) {
  return `SIG${(SIGNALS[number] ?? String(number)).toUpperCase()}`;
}

// ---------------------------------------------------------------- streams

function toBytes(chunk, encoding) {
  if (typeof chunk === 'string') return Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8');
  if (chunk instanceof Uint8Array) return chunk;
  throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "chunk" argument must be of type string or an instance of Buffer or Uint8Array');
}

/**
 * A child's stdout or stderr (Node's `stream.Readable`, as far as child
 * code uses it): 'data' chunks are Buffers, or strings after
 * `setEncoding`; then 'end', then 'close'. It flows once a 'data' listener
 * is added (or `resume()`, `pipe()`); until then the child's output waits
 * in its pipe.
 */
export class Readable extends EventEmitter {
  #reader;
  #decoder = null;
  #flowing = null; // null: never asked; false: paused; true: flowing
  #pumping = false;
  #reading = false; // a read is waiting on the stream's pollable: it must not be dropped now
  #ended = false;
  #onClose;
  readable = true;
  destroyed = false;

  constructor(reader, onClose) {
    super();
    this.#reader = reader;
    this.#onClose = onClose;
  }

  /** Chunks become strings, decoded as `encoding` ('utf8' is the one kept across chunks). */
  setEncoding(encoding = 'utf8') {
    const e = String(encoding).toLowerCase();
    this.#decoder = e === 'utf8' || e === 'utf-8' ? new TextDecoder('utf-8') : { encoding: e };
    return this;
  }

  #decode(bytes, last) {
    if (!this.#decoder) return Buffer.view(bytes);
    if (this.#decoder instanceof TextDecoder) return this.#decoder.decode(bytes, { stream: !last });
    return Buffer.view(bytes).toString(this.#decoder.encoding);
  }

  on(event, listener) {
    super.on(event, listener);
    if (event === 'data' && this.#flowing !== false) this.resume();
    return this;
  }

  addListener(event, listener) {
    return this.on(event, listener);
  }

  resume() {
    this.#flowing = true;
    if (!this.#pumping) {
      this.#pumping = true;
      later(() => this.#pump());
    }
    return this;
  }

  pause() {
    this.#flowing = false;
    return this;
  }

  isPaused() {
    return this.#flowing === false;
  }

  /** Node's flushStdio: once the child exited, output nobody asked for is read and dropped. */
  _flush() {
    if (this.#flowing === null && !this.#ended) this.resume();
  }

  /** The next chunk, or null at the end (after 'end' and 'close' were emitted). */
  async #next() {
    if (this.#ended) return null;
    let bytes;
    let error = null;
    this.#reading = true;
    try {
      bytes = await this.#reader.read(64 * 1024);
    } catch (e) {
      error = e;
    } finally {
      this.#reading = false;
    }
    if (error && !this.destroyed) {
      this.#finish(error);
      return null;
    }
    if (this.destroyed) {
      // destroy() came during the read: the stream is free to go now.
      this.#reader._release();
      later(() => this.#close());
      return null;
    }
    if (bytes.length > 0) return this.#decode(bytes, false);
    const tail = this.#decoder instanceof TextDecoder ? this.#decoder.decode() : '';
    if (tail) {
      this.#ended = true;
      return tail;
    }
    this.#finish();
    return null;
  }

  async #pump() {
    while (this.#flowing && !this.destroyed) {
      const chunk = await this.#next();
      if (chunk === null) break;
      safely(() => this.emit('data', chunk));
      if (this.#ended) this.#finish();
    }
    this.#pumping = false;
  }

  #finish(error) {
    if (this.readable === false) return;
    this.#ended = true;
    this.readable = false;
    this.#reader._release();
    if (error) safely(() => this.emit('error', error));
    else safely(() => this.emit('end'));
    this.#close();
  }

  #close() {
    if (this.closed) return;
    this.closed = true;
    safely(() => this.emit('close'));
    this.#onClose?.();
  }

  /** Stop reading: what the child writes from now on is lost (it may get SIGPIPE). */
  destroy(error) {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.readable = false;
    this.#ended = true;
    if (error) later(() => this.emit('error', error));
    // A read in flight holds the stream's pollable: it releases the stream
    // and closes when it returns (the child's process is let go only then).
    if (!this.#reading) {
      this.#reader._release();
      later(() => this.#close());
    }
    return this;
  }

  /** Every chunk to `dest` (a Writable, or process.stdout); `dest.end()` at the end unless `end: false`. */
  pipe(dest, { end = true } = {}) {
    this.on('data', (chunk) => dest.write(chunk));
    if (end && !dest._isStdio) this.on('end', () => dest.end());
    return dest;
  }

  /** `for await (const chunk of child.stdout)`. */
  async *[Symbol.asyncIterator]() {
    this.#flowing = false;
    for (;;) {
      const chunk = await this.#next();
      if (chunk === null) return;
      yield chunk;
      if (this.#ended) {
        this.#finish();
        return;
      }
    }
  }
}

/**
 * A child's stdin (Node's `stream.Writable`, as child code uses it):
 * `write(chunk[, encoding][, callback])`, `end([chunk][, callback])`, then
 * 'finish' and 'close'. `write` returns true: procgate queues what the pipe
 * cannot take yet. Writing after the child closed its stdin emits 'error'
 * with code EPIPE.
 */
export class Writable extends EventEmitter {
  #writer;
  #chain = Promise.resolve();
  #ending = false;
  writable = true;
  destroyed = false;

  constructor(writer) {
    super();
    this.#writer = writer;
  }

  #fail(e) {
    const err = e instanceof BrokenPipeError ? systemError('EPIPE', 'write') : e;
    if (!this.destroyed) {
      this.destroy();
      safely(() => this.emit('error', err));
    }
    return err;
  }

  write(chunk, encoding, callback) {
    const cb = typeof encoding === 'function' ? encoding : callback;
    if (this.#ending || this.destroyed) {
      const err = nodeError(Error, 'ERR_STREAM_WRITE_AFTER_END', 'write after end');
      later(() => {
        cb?.(err);
        this.emit('error', err);
      });
      return false;
    }
    const bytes = toBytes(chunk, encoding);
    this.#chain = this.#chain.then(async () => {
      if (this.destroyed) return;
      try {
        this.#writer.write(bytes);
        await this.#writer.drain();
        if (cb) safely(() => cb(null));
      } catch (e) {
        const err = this.#fail(e);
        if (cb) safely(() => cb(err));
      }
    });
    return true;
  }

  end(chunk, encoding, callback) {
    let cb = callback;
    if (typeof chunk === 'function') [cb, chunk] = [chunk, undefined];
    else if (typeof encoding === 'function') [cb, encoding] = [encoding, undefined];
    if (chunk !== undefined && chunk !== null) this.write(chunk, encoding);
    if (this.#ending) return this;
    this.#ending = true;
    this.writable = false;
    this.#chain = this.#chain.then(async () => {
      if (this.destroyed) return;
      // Closing our end of the pipe: the child reads end of file.
      this.#writer.close();
      await this.#writer.waitClosed();
      this.destroyed = true;
      safely(() => this.emit('finish'));
      if (cb) safely(() => cb());
      safely(() => this.emit('close'));
    });
    return this;
  }

  destroy(error) {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.writable = false;
    // After the write in flight (its wait holds the stream's pollable).
    this.#chain = this.#chain.then(() => this.#writer._release());
    if (error) later(() => this.emit('error', error));
    later(() => this.emit('close'));
    return this;
  }

  /** Settles once no write is in flight. */
  _settled() {
    return this.#chain;
  }
}

// ---------------------------------------------------------------- ChildProcess

function stdioOf(value, index) {
  switch (value) {
    case undefined:
    case null:
    case 'pipe':
    case 'overlapped':
      return PIPE;
    case 'ignore':
      return DEVNULL;
    case 'inherit':
    case index:
      return INHERIT;
    default:
      throw invalidArg(`options.stdio[${index}]`, value, "is not supported by procgate (only 'pipe', 'ignore', 'inherit')");
  }
}

function stdioOptions(stdio) {
  const list = typeof stdio === 'string' ? [stdio, stdio, stdio] : (stdio ?? []);
  if (!Array.isArray(list)) throw invalidArg('options.stdio', stdio, 'is invalid');
  for (let i = 3; i < list.length; i++) {
    if (list[i] !== 'ignore' && list[i] != null) {
      throw invalidArg(`options.stdio[${i}]`, list[i], 'is not supported by procgate (a child gets stdin, stdout and stderr)');
    }
  }
  return [0, 1, 2].map((i) => stdioOf(list[i], i));
}

const UNSUPPORTED = ['uid', 'gid', 'argv0', 'serialization', 'signal'];

/** The procgate options for Node's spawn options. */
function procgateOptions(options) {
  for (const key of UNSUPPORTED) {
    if (options[key] !== undefined) throw invalidArg(`options.${key}`, String(options[key]), 'is not supported by procgate');
  }
  const [stdin, stdout, stderr] = stdioOptions(options.stdio);
  const env = {};
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value !== undefined) env[name] = String(value);
  }
  return {
    stdin,
    stdout,
    stderr,
    cwd: options.cwd === undefined || options.cwd === null ? undefined : String(options.cwd),
    env,
    startNewSession: Boolean(options.detached),
  };
}

/** Node's `shell` option: true, or the shell the policy runs anyway. */
function usesShell(shell) {
  if (shell === undefined || shell === false || shell === null) return false;
  if (shell === true || shell === '/bin/sh' || shell === 'sh') return true;
  throw invalidArg('options.shell', shell, "is not supported by procgate: the policy's shell runs (give true)");
}

function normalizeSpawnArgs(file, args, options) {
  if (typeof file !== 'string') {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "file" argument must be of type string. Received ${typeof file}`);
  }
  if (file.length === 0) throw invalidArg('file', file, 'cannot be empty');
  if (args != null && !Array.isArray(args)) [options, args] = [args, []];
  return [file, (args ?? []).map(String), options ?? {}];
}

/**
 * A child process (Node's `ChildProcess`). Events: 'spawn'; 'exit' with
 * (code, signal) when the child ends; 'close' with (code, signal) once it
 * ended and its stdout and stderr closed; 'error' when it could not be
 * started (then no 'exit'; 'close' with the negative errno as in Node), or
 * could not be signalled.
 */
export class ChildProcess extends EventEmitter {
  #proc = null;
  #referenced = false;
  #open = 0; // stdout/stderr streams not closed yet
  #exited = false;
  #closed = false;
  #timer = null;
  pid = undefined;
  exitCode = null;
  signalCode = null;
  killed = false;
  connected = false;
  stdin = null;
  stdout = null;
  stderr = null;
  stdio = [null, null, null];
  spawnfile = undefined;
  spawnargs = [];

  /** Starts the child (what `spawn` does after it made the object). */
  _start(file, args, options) {
    const shell = usesShell(options.shell);
    const command = [file, ...args].join(' ');
    this.spawnfile = shell ? '/bin/sh' : file;
    this.spawnargs = shell ? ['/bin/sh', '-c', command] : [file, ...args];
    const opts = procgateOptions(options);
    let proc;
    try {
      proc = shell ? spawnShell(command, opts) : spawnExec(file, args, opts);
    } catch (e) {
      const err = spawnError(e, this.spawnfile, this.spawnargs);
      this.#failed(err, opts);
      return;
    }
    this.#proc = proc;
    this.pid = proc.pid;
    this.#referenced = true;
    ref();
    if (proc.stdin) this.stdin = new Writable(proc.stdin);
    for (const name of ['stdout', 'stderr']) {
      if (proc[name]) {
        this.#open++;
        this[name] = new Readable(proc[name], () => this.#streamClosed());
      }
    }
    this.stdio = [this.stdin, this.stdout, this.stderr];
    const killSignal = options.killSignal ?? 'SIGTERM';
    if (options.timeout > 0) {
      this.#timer = timer(options.timeout, () => {
        this.#timer = null;
        safely(() => this.kill(killSignal));
      });
    }
    later(() => this.emit('spawn'));
    this.#watch();
  }

  /** A spawn that failed: 'error' then 'close', as Node does; streams exist but are ended. */
  #failed(err, opts) {
    const ended = () => {
      const stream = new EventEmitter();
      stream.setEncoding = () => stream;
      stream.readable = false;
      stream.destroy = () => stream;
      return stream;
    };
    if (opts.stdin === PIPE) this.stdin = Object.assign(new EventEmitter(), { write: () => false, end: () => {}, destroy() {} });
    if (opts.stdout === PIPE) this.stdout = ended();
    if (opts.stderr === PIPE) this.stderr = ended();
    this.stdio = [this.stdin, this.stdout, this.stderr];
    this.exitCode = err.errno;
    later(() => {
      this.emit('error', err);
      this.#closed = true;
      this.emit('close', err.errno, null);
    });
  }

  async #watch() {
    let code;
    try {
      code = await this.#proc.wait();
    } catch (e) {
      code = -1;
      safely(() => this.emit('error', e));
    }
    this.#exited = true;
    this.#timer?.cancel();
    if (code < 0) this.signalCode = signalName(-code);
    else this.exitCode = code;
    this.stdin?.destroy();
    safely(() => this.emit('exit', this.exitCode, this.signalCode));
    this.stdout?._flush();
    this.stderr?._flush();
    this.#maybeClose();
  }

  #streamClosed() {
    this.#open--;
    this.#maybeClose();
  }

  #maybeClose() {
    if (this.#closed || !this.#exited || this.#open > 0) return;
    this.#closed = true;
    safely(() => this.emit('close', this.exitCode, this.signalCode));
    // The child has exited and its output was read: let go of it (the host
    // reaps it) once no write to its stdin is in flight.
    const proc = this.#proc;
    Promise.resolve(this.stdin?._settled()).then(() => {
      proc.close();
      this.unref();
    });
  }

  /**
   * Send `signal` (a name like 'SIGKILL' or a number; 'SIGTERM' by
   * default). True if it was sent; false once the child has exited, or if
   * the policy refused it (then an 'error' with code EPERM follows).
   */
  kill(signal = 'SIGTERM') {
    const number = signalOf(signal);
    if (!this.#proc || this.#exited) return false;
    if (number === 0) return this.#proc.returncode === null;
    try {
      this.#proc.sendSignal(number);
    } catch (e) {
      if (e instanceof ProcessLookupError) return false;
      const err = systemError(e instanceof DeniedError ? 'EPERM' : 'EIO', 'kill', undefined, e.message);
      later(() => this.emit('error', err));
      return false;
    }
    this.killed = true;
    return true;
  }

  /** The guest no longer waits for this child before it ends. */
  unref() {
    if (this.#referenced) {
      this.#referenced = false;
      unref();
    }
  }

  /** The guest waits for this child again (the default). */
  ref() {
    if (!this.#referenced && !this.#closed && this.#proc) {
      this.#referenced = true;
      ref();
    }
  }

  disconnect() {}

  [Symbol.dispose]() {
    if (!this.#exited) this.kill('SIGKILL');
  }
}

/** Node's `spawn(command[, args][, options])`. */
export function spawn(file, args, options) {
  const child = new ChildProcess();
  child._start(...normalizeSpawnArgs(file, args, options));
  return child;
}

// ---------------------------------------------------------------- exec

const MAX_BUFFER = 1024 * 1024;

function normalizeExecFileArgs(file, args, options, callback) {
  if (typeof args === 'function') return [file, [], {}, args];
  if (args != null && !Array.isArray(args)) return [file, [], args, typeof options === 'function' ? options : callback];
  if (typeof options === 'function') return [file, args ?? [], {}, options];
  return [file, args ?? [], options ?? {}, callback];
}

/**
 * Node's `execFile(file[, args][, options][, callback])`: runs `file`,
 * buffers its output, calls `callback(error, stdout, stderr)` once it
 * closed. Options beyond spawn's: `encoding` ('utf8'; 'buffer' for
 * Buffers), `maxBuffer` (1 MiB; past it the child is killed and the error
 * is ERR_CHILD_PROCESS_STDIO_MAXBUFFER), `timeout` and `killSignal`.
 */
export function execFile(file, args, options, callback) {
  [file, args, options, callback] = normalizeExecFileArgs(file, args, options, callback);
  const encoding = options.encoding === undefined ? 'utf8' : options.encoding;
  const maxBuffer = options.maxBuffer ?? MAX_BUFFER;
  const killSignal = options.killSignal ?? 'SIGTERM';
  const child = spawn(file, args, { ...options, timeout: undefined, stdio: 'pipe' });
  const cmd = options._cmd ?? [file, ...args].join(' ');
  const output = { stdout: [], stderr: [] };
  const length = { stdout: 0, stderr: 0 };
  let error = null;
  let killed = false;
  let done = false;
  let deadline = null;

  const decode = (chunks) => {
    const all = Buffer.concat(chunks);
    return encoding && encoding !== 'buffer' ? all.toString(encoding) : all;
  };

  const kill = () => {
    child.stdout?.destroy();
    child.stderr?.destroy();
    killed = true;
    try {
      child.kill(killSignal);
    } catch (e) {
      error = e;
      finish(null, null);
    }
  };

  const finish = (code, signal) => {
    if (done) return;
    done = true;
    deadline?.cancel();
    if (!callback) return;
    const stdout = decode(output.stdout);
    const stderr = decode(output.stderr);
    if (!error && code === 0 && signal === null) {
      callback(null, stdout, stderr);
      return;
    }
    if (!error) {
      error = new Error(`Command failed: ${cmd}\n${stderr}`);
      error.code = code;
      error.killed = child.killed || killed;
      error.signal = signal;
    }
    error.cmd = cmd;
    callback(error, stdout, stderr);
  };

  for (const name of ['stdout', 'stderr']) {
    child[name]?.on('data', (chunk) => {
      if (killed) return;
      length[name] += chunk.length;
      if (length[name] > maxBuffer) {
        output[name].push(chunk.subarray(0, maxBuffer - (length[name] - chunk.length)));
        error = nodeError(RangeError, 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER', `${name} maxBuffer length exceeded`);
        kill();
      } else {
        output[name].push(chunk);
      }
    });
  }
  if (options.timeout > 0) {
    deadline = timer(options.timeout, () => {
      deadline = null;
      safely(kill);
    });
  }
  child.on('close', finish);
  child.on('error', (e) => {
    error = e;
    child.stdout?.destroy();
    child.stderr?.destroy();
    finish(null, null);
  });
  return child;
}

/**
 * Node's `exec(command[, options][, callback])`: `command` run by the
 * policy's shell (the policy must grant one), output buffered as in
 * `execFile`.
 */
export function exec(command, options, callback) {
  if (typeof options === 'function') [callback, options] = [options, {}];
  options = options ?? {};
  return execFile(command, [], { ...options, shell: options.shell ?? true, _cmd: command }, callback);
}

/** What util.promisify gives for exec and execFile: `{ stdout, stderr }`, or the error with them. */
function promised(original) {
  return (...args) => {
    let settle;
    const promise = new Promise((resolve, reject) => {
      settle = { resolve, reject };
    });
    promise.child = original(...args, (error, stdout, stderr) => {
      if (error !== null) {
        error.stdout = stdout;
        error.stderr = stderr;
        settle.reject(error);
      } else {
        settle.resolve({ stdout, stderr });
      }
    });
    return promise;
  };
}

Object.defineProperty(exec, promisify.custom, { value: promised(exec) });
Object.defineProperty(execFile, promisify.custom, { value: promised(execFile) });

// ---------------------------------------------------------------- sync

/**
 * Node's `spawnSync(command[, args][, options])`: runs the child to its
 * end, blocking the guest. Returns `{ pid, output, stdout, stderr, status,
 * signal, error }`; `input` is written to its stdin. `timeout` and
 * `maxBuffer` are not offered here (the policy's own limits apply).
 */
export function spawnSync(file, args, options) {
  [file, args, options] = normalizeSpawnArgs(file, args, options);
  for (const key of ['timeout', 'maxBuffer']) {
    if (options[key] !== undefined) throw invalidArg(`options.${key}`, options[key], 'is not supported by procgate in the sync forms');
  }
  const shell = usesShell(options.shell);
  const command = [file, ...args].join(' ');
  const spawnfile = shell ? '/bin/sh' : file;
  const spawnargs = shell ? ['/bin/sh', '-c', command] : [file, ...args];
  const opts = procgateOptions(options);
  const encoding = options.encoding === 'buffer' ? undefined : options.encoding;
  const result = { pid: 0, output: null, stdout: null, stderr: null, status: null, signal: null };
  let proc;
  try {
    proc = shell ? spawnShell(command, opts) : spawnExec(file, args, opts);
  } catch (e) {
    result.error = spawnError(e, spawnfile, spawnargs);
    return result;
  }
  try {
    result.pid = proc.pid;
    const input = options.input === undefined ? undefined : toBytes(options.input, 'utf8');
    const [stdout, stderr] = proc.communicateSync(input);
    const wrap = (data) => (data === null ? null : encoding ? Buffer.view(data).toString(encoding) : Buffer.view(data));
    result.stdout = wrap(stdout);
    result.stderr = wrap(stderr);
    result.output = [null, result.stdout, result.stderr];
    const code = proc.returncode;
    if (code < 0) result.signal = signalName(-code);
    else result.status = code;
  } catch (e) {
    result.error = e;
  } finally {
    proc.close();
  }
  return result;
}

function checkSync(result, cmd) {
  if (result.error) throw result.error;
  if (result.status !== 0) {
    const stderr = result.stderr === null ? '' : String(result.stderr);
    const error = new Error(`Command failed: ${cmd}${stderr ? `\n${stderr}` : ''}`);
    Object.assign(error, result, { status: result.status, signal: result.signal });
    throw error;
  }
  return result.stdout;
}

/** Node's `execFileSync(file[, args][, options])`: the child's stdout; throws if it failed. */
export function execFileSync(file, args, options) {
  [file, args, options] = normalizeSpawnArgs(file, args, options);
  const opts = { stdio: options.stdio ?? ['pipe', 'pipe', 'inherit'], ...options };
  return checkSync(spawnSync(file, args, opts), [file, ...args].join(' '));
}

/** Node's `execSync(command[, options])`: as execFileSync, through the policy's shell. */
export function execSync(command, options = {}) {
  const opts = { stdio: options.stdio ?? ['pipe', 'pipe', 'inherit'], ...options, shell: true };
  return checkSync(spawnSync(command, [], opts), command);
}

/** `fork` needs a Node runtime and an IPC channel: not offered. */
export function fork() {
  throw nodeError(Error, 'ERR_PROCGATE_UNSUPPORTED', 'child_process.fork is not supported by procgate (no Node runtime, no IPC)');
}

export default { ChildProcess, spawn, exec, execFile, spawnSync, execFileSync, execSync, fork };
