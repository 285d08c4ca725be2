// node:process for procgate's JavaScript guests: what a Node program that
// runs children needs of `process` (the default export; `argv` and `env`
// are not named exports). `argv` (argv[2] on: the guest's
// arguments), `env` (the guest's own environment, which is not what
// children get: the policy builds theirs), `exit(code)`, `exitCode` (the
// guest's exit status, through wasi:cli/exit.exit-with-code), `stdout` and
// `stderr` (`write`), `nextTick`, `cwd()`, `platform` ('linux': children
// run on the Linux host), `on`/`once` (accepted; no event is ever sent).
// There is no global `process`: import it, as in
// `import process from 'node:process'`.
import { getArguments, getEnvironment, initialCwd } from 'wasi:cli/environment@0.2.12';
import { getStdout } from 'wasi:cli/stdout@0.2.12';
import { getStderr } from 'wasi:cli/stderr@0.2.12';
import { exit as procgateExit, getExitCode, setExitCode } from '../procgate.js';

function writer(get) {
  return {
    isTTY: false,
    /** Writes `data` (a string or bytes) and flushes; true, as the write is done. */
    write(data, encoding, callback) {
      const cb = typeof encoding === 'function' ? encoding : callback;
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
      const stream = get();
      try {
        // blocking-write-and-flush takes at most 4096 bytes at a time.
        for (let i = 0; i < bytes.length; i += 4096) stream.blockingWriteAndFlush(bytes.subarray(i, i + 4096));
      } finally {
        stream[Symbol.dispose]?.();
      }
      if (cb) queueMicrotask(() => cb(null));
      return true;
    },
    end() {},
    on() {
      return this;
    },
    once() {
      return this;
    },
    removeListener() {
      return this;
    },
  };
}

// argv and env are read when first used: the module itself is evaluated
// while the component is built, when no WASI call can be made.
let argv = null;
let env = null;

const process = {
  get argv() {
    argv ??= ['procgate', ...getArguments()];
    return argv;
  },
  get env() {
    env ??= Object.fromEntries(getEnvironment());
    return env;
  },
  platform: 'linux',
  stdout: writer(getStdout),
  stderr: writer(getStderr),
  /** End the guest now with `code` (default: `exitCode`). */
  exit(code) {
    procgateExit(code ?? getExitCode());
  },
  get exitCode() {
    return getExitCode();
  },
  set exitCode(code) {
    setExitCode(code);
  },
  nextTick(fn, ...args) {
    queueMicrotask(() => fn(...args));
  },
  cwd() {
    return initialCwd() ?? '/';
  },
  on() {
    return process;
  },
  once() {
    return process;
  },
};
process.stdout._isStdio = true;
process.stderr._isStdio = true;

export default process;
export const { platform, stdout, stderr, nextTick, cwd } = process;
export function exit(code) {
  process.exit(code);
}
