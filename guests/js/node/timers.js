// node:timers for procgate's JavaScript guests: setTimeout, setInterval,
// setImmediate and their clear functions on procgate's reactor (a
// wasi:clocks pollable in the same wasi:io/poll as the children), so a
// timer fires on time while children run, and keeps the guest alive until
// it fired or was cleared, as in Node. (The engine's own setTimeout only
// fires once the reactor's poll returns.) A Node script gets these in
// place of the globals (guests/js/componentize.mjs).
import { ref, timer, unref } from '../procgate.js';

class Timeout {
  #handle = null;
  #referenced = false;

  constructor(fn, ms, args, repeat) {
    this._fn = fn;
    this._ms = Math.max(1, Number(ms) || 1);
    this._args = args;
    this._repeat = repeat;
    this.ref();
    this.#arm();
  }

  #arm() {
    this.#handle = timer(this._ms, () => {
      this.#handle = null;
      if (this._repeat) this.#arm();
      else this.unref();
      this._fn(...this._args);
    });
  }

  ref() {
    if (!this.#referenced) {
      this.#referenced = true;
      ref();
    }
    return this;
  }

  unref() {
    if (this.#referenced) {
      this.#referenced = false;
      unref();
    }
    return this;
  }

  hasRef() {
    return this.#referenced;
  }

  _clear() {
    this._repeat = false;
    this.#handle?.cancel();
    this.#handle = null;
    this.unref();
  }
}

export function setTimeout(fn, ms, ...args) {
  return new Timeout(fn, ms, args, false);
}

export function setInterval(fn, ms, ...args) {
  return new Timeout(fn, ms, args, true);
}

export function setImmediate(fn, ...args) {
  return new Timeout(fn, 0, args, false);
}

export function clearTimeout(timeout) {
  if (timeout instanceof Timeout) timeout._clear();
}

export { clearTimeout as clearInterval, clearTimeout as clearImmediate };

export default { setTimeout, setInterval, setImmediate, clearTimeout, clearInterval: clearTimeout, clearImmediate: clearTimeout };
