// node:events for procgate's JavaScript guests: the EventEmitter that
// node:child_process's ChildProcess and its streams are. What Node code
// uses of it: on/addListener, once, off/removeListener, prependListener,
// emit, listeners, listenerCount, removeAllListeners, eventNames,
// setMaxListeners (accepted, no warning is ever printed). As in Node,
// emitting 'error' with no listener throws the error.

export class EventEmitter {
  #events = new Map();

  #add(event, listener, prepend) {
    if (typeof listener !== 'function') {
      const e = new TypeError(`The "listener" argument must be of type function. Received ${typeof listener}`);
      e.code = 'ERR_INVALID_ARG_TYPE';
      throw e;
    }
    if (this.#events.has('newListener')) this.emit('newListener', event, listener.listener ?? listener);
    const list = this.#events.get(event) ?? [];
    this.#events.set(event, prepend ? [listener, ...list] : [...list, listener]);
    return this;
  }

  on(event, listener) {
    return this.#add(event, listener, false);
  }

  addListener(event, listener) {
    return this.on(event, listener);
  }

  prependListener(event, listener) {
    return this.#add(event, listener, true);
  }

  #wrapOnce(event, listener) {
    const wrapper = (...args) => {
      this.removeListener(event, wrapper);
      return listener.apply(this, args);
    };
    wrapper.listener = listener;
    return wrapper;
  }

  once(event, listener) {
    return this.on(event, this.#wrapOnce(event, listener));
  }

  prependOnceListener(event, listener) {
    return this.prependListener(event, this.#wrapOnce(event, listener));
  }

  removeListener(event, listener) {
    const list = this.#events.get(event);
    if (!list) return this;
    const index = list.findLastIndex((l) => l === listener || l.listener === listener);
    if (index === -1) return this;
    const rest = list.filter((_, i) => i !== index);
    if (rest.length === 0) this.#events.delete(event);
    else this.#events.set(event, rest);
    if (this.#events.has('removeListener')) this.emit('removeListener', event, listener);
    return this;
  }

  off(event, listener) {
    return this.removeListener(event, listener);
  }

  removeAllListeners(event) {
    if (event === undefined) this.#events.clear();
    else this.#events.delete(event);
    return this;
  }

  emit(event, ...args) {
    const list = this.#events.get(event);
    if (!list || list.length === 0) {
      if (event === 'error') {
        const error = args[0];
        if (error instanceof Error) throw error;
        const e = new Error(`Unhandled error. (${String(error)})`);
        e.code = 'ERR_UNHANDLED_ERROR';
        e.context = error;
        throw e;
      }
      return false;
    }
    // A copy: listeners removed or added while emitting do not change this round.
    for (const listener of [...list]) listener.apply(this, args);
    return true;
  }

  listeners(event) {
    return (this.#events.get(event) ?? []).map((l) => l.listener ?? l);
  }

  rawListeners(event) {
    return [...(this.#events.get(event) ?? [])];
  }

  listenerCount(event) {
    return this.#events.get(event)?.length ?? 0;
  }

  eventNames() {
    return [...this.#events.keys()];
  }

  setMaxListeners() {
    return this;
  }

  getMaxListeners() {
    return Infinity;
  }
}

/** A promise of the next `event` (its arguments, as an array); rejects on 'error'. */
export function once(emitter, event) {
  return new Promise((resolve, reject) => {
    const onError = (e) => {
      emitter.removeListener(event, onEvent);
      reject(e);
    };
    const onEvent = (...args) => {
      if (event !== 'error') emitter.removeListener('error', onError);
      resolve(args);
    };
    emitter.once(event, onEvent);
    if (event !== 'error') emitter.once('error', onError);
  });
}

export default EventEmitter;
EventEmitter.EventEmitter = EventEmitter;
EventEmitter.once = once;
