// node:util for procgate's JavaScript guests: `promisify` (with Node's
// `promisify.custom`, the same global symbol, so exec and execFile resolve
// to `{ stdout, stderr }` as in Node), `TextDecoder`/`TextEncoder`, and
// `types.isUint8Array`. Nothing else of node:util is here.

const custom = Symbol.for('nodejs.util.promisify.custom');

/** Node's `util.promisify`: a callback-last function as a promise-returning one. */
export function promisify(original) {
  if (typeof original !== 'function') {
    const e = new TypeError('The "original" argument must be of type function');
    e.code = 'ERR_INVALID_ARG_TYPE';
    throw e;
  }
  if (original[custom]) return original[custom];
  function promisified(...args) {
    return new Promise((resolve, reject) => {
      original.call(this, ...args, (err, ...values) => {
        if (err) reject(err);
        else resolve(values[0]);
      });
    });
  }
  Object.defineProperty(promisified, custom, { value: promisified });
  return promisified;
}
promisify.custom = custom;

export const types = {
  isUint8Array: (value) => value instanceof Uint8Array,
};

const TextDecoderClass = globalThis.TextDecoder;
const TextEncoderClass = globalThis.TextEncoder;
export { TextDecoderClass as TextDecoder, TextEncoderClass as TextEncoder };

export default { promisify, types, TextDecoder: TextDecoderClass, TextEncoder: TextEncoderClass };
